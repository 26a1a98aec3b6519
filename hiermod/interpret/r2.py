"""Bayesian R² (Gelman, Goodrich, Gabry & Vehtari 2019, *The American Statistician*), as brms's
``bayes_R2``.

Per posterior draw ``s``, with ``mu_s`` the expected response of every fitted row
(``Model.predict(kind="mean")``, brms's ``posterior_epred``) and ``y`` the observed response::

    R²_s = var(mu_s) / (var(mu_s) + var(y - mu_s))      (variances over the rows)

so every draw's R² lies in [0, 1], and R² has a posterior distribution like any other quantity.
Worked example: ``y = (1, 2, 3, 4)`` and ``mu_s = (1.5, 1.5, 3.5, 3.5)`` give ``var(mu_s) = 4/3``,
residuals ``(-0.5, 0.5, -0.5, 0.5)`` with variance 1/3, so ``R²_s = (4/3) / (5/3) = 0.8``.

This is the residual-based form brms computes; ``arviz_stats.bayesian_r2`` computes the model-based
form (the family's variance, e.g. ``sigma²``, in place of ``var(y - mu_s)``) from a fit's variables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from hiermod.errors import DataError
from hiermod.inference.intervals import DEFAULT_PROB, check_prob, summarise

__all__ = ["bayes_r2_draws", "bayes_r2_table"]


def bayes_r2_draws(observed: xr.DataArray, mean: xr.DataArray) -> xr.DataArray:
    """R² per draw, dims (chain, draw), from the observed responses (obs,) and the expected
    responses ``mean`` (chain, draw, obs) of the same rows (their ``obs`` coordinates must match)."""
    try:
        y, mu = xr.align(observed.astype(float), mean, join="exact")
    except ValueError:
        raise DataError(
            "R² needs the expected response of every observed row: the predicted rows "
            f"({mean.sizes['obs']}) are not the observed ones ({observed.sizes['obs']})"
        ) from None
    if y.sizes["obs"] < 2:
        raise DataError("R² needs at least two observed rows")
    fitted = mu.var("obs", ddof=1)
    r2 = fitted / (fitted + (y - mu).var("obs", ddof=1))
    return r2.rename("R2").drop_attrs()


def bayes_r2_table(r2: xr.DataArray, prob: float = DEFAULT_PROB) -> pd.DataFrame:
    """One row ``R2``: ``estimate`` (the posterior mean), ``sd`` and the equal-tailed ``prob``
    interval (``lower_95``, ``upper_95``; brms's ``Estimate``, ``Est.Error``, ``Q2.5``, ``Q97.5``)."""
    values = np.asarray(r2.transpose("chain", "draw").values, dtype=float).reshape(-1, 1)
    table = summarise(values, check_prob(prob))
    table.insert(1, "sd", values.std(ddof=1) if values.size > 1 else np.nan)
    table.index = pd.Index(["R2"])
    return table
