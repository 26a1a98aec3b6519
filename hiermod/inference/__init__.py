"""Stage 5, inference: fitting a PyMC model and reading its fit.

Input: the PyMC model(s) (stage :mod:`hiermod.output`), the ``ModelIR`` that says which variable
holds what, the data ``Design`` or its ``Schema``, and plain settings (draws, chains, method, …).
Output: the fit, an ``xarray.DataTree`` with the ``hiermod_*`` attributes (``fit``, ``storage``);
predictions from its draws, evaluated on the PyMC model of the rows to predict (``predict``; the
caller passes the ``rows_model`` hook that builds it; ``posterior_eval`` evaluates a row-wise
model's outputs over every posterior draw, predict's last step); lme4-style summaries
(``summaries``; ``report`` puts them together as ``Model.summary``'s value, ``summary_methods`` is
the model's mixin); the interval rule of every table, here and in :mod:`hiermod.interpret`
(``intervals``); and sampler diagnostics (``diagnostics``). ``fit_groups`` reads a fit's groups.

Imports: every earlier stage (:mod:`hiermod.formula`, :mod:`hiermod.data`, :mod:`hiermod.plan`,
:mod:`hiermod.output`) and the shared leaves; never :mod:`hiermod.model`.
"""
