"""Stage 3, plan: a ``Design`` → the :class:`~hiermod.plan.ir.ModelIR`, the backend-neutral plan.

Input: the ``Design`` (stage :mod:`hiermod.data`), the family and the user's choices
(:class:`~hiermod.plan.lower.LowerOptions`: link, priors, layout, centring). Output: the
``ModelIR`` — coords, data containers, parameters with dims and priors, the linear predictors and
the likelihood — optionally with a reduced likelihood (per-cell sufficient statistics, collapsed
counts).

Modules: ``ir`` (the plan's values), ``lower`` (design → IR: names, dims, priors; with
``lower_blocks`` for the group blocks: layouts, centring, sds, correlations),
``priors`` (prior values, parsing, defaults, overrides), ``names`` (identifiers and stems),
``suffstats`` and ``collapse`` (reduced likelihoods), ``overview`` (the plan as text and tables), ``options`` (hm.Model's options, checked at the call).

Imports: :mod:`hiermod.formula`, :mod:`hiermod.data` and the shared leaves; never a later stage or
:mod:`hiermod.model`.
"""
