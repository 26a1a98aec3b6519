"""Helpers for fit, prediction and summary tests: posterior-like draws without running a sampler.

:func:`prior_fit` draws every parameter from the prior (``pm.sample_prior_predictive``: a forward
pass, seconds instead of a NUTS run), reshapes the draws into chains, and stamps the ``hiermod_*``
attributes as ``Model.fit`` does. Predictions and summaries only read draws, so prior draws test them
as well as posterior draws would (the deterministics ``r``, ``sd``, ``corr`` are consistent with the
free parameters exactly as after sampling).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import xarray as xr

import hiermod as hm
from hiermod.inference.storage import fit_attrs
from hiermod.warnings import SamplingWarning


def sleepstudy_like(n: int = 90, seed: int = 0) -> pd.DataFrame:
    """sleepstudy's shape with random values: Reaction, Days 0-8, Subject 300…, a factor f (a/b/c)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "Reaction": rng.normal(250, 30, n),
            "Days": np.tile(np.arange(9), n // 9),
            "Subject": np.repeat(np.arange(300, 300 + n // 9), 9),
            "f": rng.choice(["a", "b", "c"], n),
        }
    )


def prior_fit(model: hm.Model, *, chains: int = 2, draws: int = 20, seed: int = 0) -> xr.DataTree:
    """A DataTree shaped like a fit (chains × draws) whose draws come from the prior."""
    pm_model = getattr(model, "pymc_rows", model.pymc)
    names = [v.name for v in (*pm_model.free_RVs, *pm_model.deterministics)]
    prior = pm.sample_prior_predictive(
        draws=chains * draws, model=pm_model, random_seed=seed, var_names=names
    )["prior"]
    variables = {
        name: (
            ("chain", "draw", *da.dims[2:]),
            da.values.reshape(chains, draws, *da.shape[2:]),
        )
        for name, da in prior.data_vars.items()
    }
    coords = {k: v.values for k, v in prior.coords.items() if k not in ("chain", "draw")}
    coords |= {"chain": np.arange(chains), "draw": np.arange(draws)}
    posterior = xr.Dataset(variables, coords=coords)
    lik = model.ir.likelihood
    observed = xr.Dataset(
        {lik.name: (("obs",), model.ir.data_values[lik.observed])},
        coords={"obs": np.asarray(model.ir.coords["obs"])},
    )
    settings = {"method": "nuts", "sampler": "pymc", "draws": draws, "tune": 0, "chains": chains}
    try:
        source: str | None = model.source()
    except (hm.HiermodError, NotImplementedError):  # as Model.fit: no source when it cannot print
        source = None
    posterior.attrs.update(fit_attrs(model.ir, model.options, settings, source))
    return xr.DataTree.from_dict({"posterior": posterior, "observed_data": observed})


def pymc_likelihood_inputs(model: hm.Model, idata: xr.DataTree) -> list[np.ndarray]:
    """The parameters PyMC passes to the likelihood, evaluated at every draw: (chain, draw, obs) each.

    Compiled from ``Model.pymc_rows``: the free random variables are the inputs, the likelihood's
    distribution parameters (after PyMC's own conversions, e.g. ``logit_p`` → ``p``) the outputs.
    """
    pm_model = getattr(model, "pymc_rows", model.pymc)
    y = pm_model.observed_RVs[0]
    params = y.owner.inputs[2:]
    free = pm_model.free_RVs
    function = pytensor.function(free, params, on_unused_input="ignore")
    posterior = idata["posterior"]
    chains, draws, n = (
        posterior.sizes["chain"],
        posterior.sizes["draw"],
        len(model.ir.coords["obs"]),
    )
    out = [np.empty((chains, draws, n)) for _ in params]
    for c in range(chains):
        for d in range(draws):
            values = function(*[posterior[rv.name].values[c, d] for rv in free])
            for k, value in enumerate(values):
                out[k][c, d] = np.broadcast_to(value, (n,))
    return out


def surface_recovery(formula: str, d: pd.DataFrame) -> tuple[float, float]:
    """A fit of a smooth of ``y = sin(2 pi x) cos(pi z) + noise`` (``d``): the root mean square
    distance of the posterior mean surface from the truth at the rows, and sigma's posterior mean."""
    m = hm.Model(formula, data=d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        fit = m.fit(draws=300, tune=500, chains=2, random_seed=3, progressbar=False)
    mean = np.asarray(m.predict(fit, data=d[["x", "z"]], kind="mean"))
    fitted = mean.reshape(-1, len(d)).mean(axis=0)
    truth = np.sin(2 * np.pi * d["x"]) * np.cos(np.pi * d["z"])
    rmse = float(np.sqrt(np.mean((fitted - truth) ** 2)))
    sigma = float(fit["posterior"]["sigma"].mean())
    print(f"{formula} recovery: rmse {rmse:.4f}, sigma {sigma:.4f}")
    return rmse, sigma


def multivariate_data(n: int = 80, seed: int = 1, rho: float = 0.5) -> pd.DataFrame:
    """y1 ~ x and y2 ~ z with group effects over g (5 levels), residual correlation rho, and
    a count n ~ poisson(exp(0.2 + 0.3 x)): the multivariate tests' data."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 5, n)
    x, z = rng.normal(size=n), rng.normal(size=n)
    effects = rng.normal(0, 0.5, (5, 2))
    noise = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=n)
    y1 = 1 + 0.5 * x + effects[g, 0] + noise[:, 0]
    y2 = -1 + 0.3 * z + effects[g, 1] + 0.7 * noise[:, 1]
    counts = rng.poisson(np.exp(0.2 + 0.3 * x))
    frame = {"x": x, "z": z, "g": [f"g{k}" for k in g], "y1": y1, "y2": y2, "n": counts}
    return pd.DataFrame(frame)
