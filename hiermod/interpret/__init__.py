"""Stage 6, interpretation: what a fit says, in tables and figures.

Input: a model's schema, training rows and plan, and its ``predict`` bound to a fit (stage
:mod:`hiermod.inference`). Output: tables of posterior summaries (pandas DataFrames, with the draws
behind them) and matplotlib figures. Conditional effects, marginal means, comparisons and slopes are
``effects`` and ``comparisons``, on rows from ``grid`` (``results``, ``plots``; intervals by the
rule of :mod:`hiermod.inference.intervals`), and reach ``hm.Model`` through the mixin in
``methods``. Hypotheses (``hypothesis``), lme4's ``coef`` (``coefficients``), Bayesian R² (``r2``),
``pp_check``, ``loo`` and ``compare`` (``checks``, whose mixin ``ModelChecks`` ``hm.Model`` also
inherits) live beside them; ``protocol`` says what both mixins read from the model.

Imports: every earlier stage and the shared leaves; never :mod:`hiermod.model`.
"""
