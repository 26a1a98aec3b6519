"""Model.pymc is generative whichever likelihood form it uses: prior and posterior predictive draws.

The reduced likelihoods (per-cell sufficient statistics, merged counts) are ``pm.CustomDist``\\ s
whose log-density reads cell sums and whose draws are rows, so PyMC's own predictive sampling works
on ``Model.pymc`` as on a row-wise model. Checked here: the response's draws have dims
``(chain, draw, obs)`` with the model's rows as coords; the reduced and the row-wise forms draw the
same distribution (two-sample Kolmogorov–Smirnov test on seeded draws); ``Model.prior_predictive``;
``pm.sample_posterior_predictive`` on ``Model.pymc``; a streamed model says why it cannot draw.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from fit_support import prior_fit
from scipy import stats

import hiermod as hm
from hiermod.errors import HiermodError


def _data() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    g = np.repeat(np.arange(6), 15)
    x = rng.normal(size=g.size)
    treat = rng.choice(["a", "b"], g.size)
    eta = 0.5 + 0.3 * (treat == "b") + rng.normal(0, 0.3, 6)[g]
    return pd.DataFrame(
        {
            "y": 1.0 + x + rng.normal(0, 0.5, 6)[g] + rng.normal(0, 0.7, g.size),
            "x": x,
            "g": [f"g{i}" for i in g],
            "treat": treat,
            "count": rng.poisson(np.exp(eta)),
            "hit": rng.binomial(1, 1 / (1 + np.exp(-eta))),
        }
    )


DATA = _data()
# (formula, family, the reduction the model is expected to use)
MODELS = [
    ("y ~ x + (x | g)", "gaussian", "suffstats"),
    ("count ~ treat + (1 | g)", "poisson", "collapsed"),
    ("hit ~ treat + (1 | g)", "bernoulli", "collapsed"),
    ("y ~ x + (1 | g)\nsigma ~ x", "gaussian", "none"),
]
IDS = [f"{family}, {reduction}" for _, family, reduction in MODELS]


def _model(formula: str, family: str, reduction: str) -> hm.Model:
    # The Gaussian reduction is asked for: at this size "auto" keeps the rows (cheaper here).
    options = {"suffstats": True} if reduction == "suffstats" else {}
    model = hm.Model(formula, DATA, family=family, **options)
    form = (
        "suffstats"
        if model.ir.suffstats is not None
        else "collapsed"
        if model.ir.collapsed is not None
        else "none"
    )
    assert form == reduction
    return model


@pytest.mark.parametrize(("formula", "family", "reduction"), MODELS, ids=IDS)
def test_prior_predictive_draws_rows_in_either_form(
    formula: str, family: str, reduction: str
) -> None:
    model = _model(formula, family, reduction)
    prior = model.prior_predictive(draws=400, random_seed=3)
    response = model.ir.likelihood.name
    draws = prior["prior_predictive"][response]
    assert draws.dims == ("chain", "draw", "obs")
    assert draws.shape == (1, 400, len(DATA))
    np.testing.assert_array_equal(draws["obs"].values, DATA.index.to_numpy())
    assert set(prior.children) >= {"prior", "prior_predictive", "observed_data"}
    if family != "gaussian":
        values = draws.values
        assert np.all(values >= 0)
        assert np.all(values == np.round(values))
    with model.pymc_rows:
        rows = pm.sample_prior_predictive(draws=400, random_seed=4)
    # one row's prior predictive distribution, reduced form against row-wise form
    a = draws.values[0, :, 0]
    b = rows["prior_predictive"][response].values[0, :, 0]
    assert stats.ks_2samp(a, b, method="asymp").pvalue > 1e-3  # asymp: counts have ties


def test_the_comparison_of_forms_can_fail() -> None:
    """The KS check above tells a shifted distribution apart."""
    model = _model(*MODELS[0])
    draws = model.prior_predictive(draws=400, random_seed=3)["prior_predictive"]["y"].values
    spread = draws[0, :, 0].std()
    assert stats.ks_2samp(draws[0, :, 0], draws[0, :, 0] + spread).pvalue < 1e-3


@pytest.mark.parametrize(("formula", "family", "reduction"), MODELS, ids=IDS)
def test_posterior_predictive_on_model_pymc(formula: str, family: str, reduction: str) -> None:
    model = _model(formula, family, reduction)
    fit = prior_fit(model, draws=30, seed=2)  # prior draws standing in for a posterior
    with model.pymc:
        predictive = pm.sample_posterior_predictive(fit, random_seed=5, progressbar=False)
    draws = predictive["posterior_predictive"][model.ir.likelihood.name]
    assert draws.dims == ("chain", "draw", "obs")
    assert draws.shape == (2, 30, len(DATA))
    # each draw is a draw of the rows given that posterior draw: same mean as predict(kind="mean")
    mean = model.predict(fit).values
    z = (draws.values - mean).mean() / (draws.values.std() / np.sqrt(draws.size))
    assert abs(z) < 5


def test_prior_predictive_checks_its_draws() -> None:
    model = _model(*MODELS[0])
    for bad in (0, -3, 2.5, True):
        with pytest.raises(HiermodError, match="draws must be a whole number >= 1"):
            model.prior_predictive(draws=bad)  # type: ignore[arg-type]


def test_a_streamed_model_says_why_it_has_no_prior_predictive() -> None:
    model = hm.stream_model("y ~ x + (1 | g)", lambda: (DATA.iloc[i : i + 45] for i in (0, 45)))
    with pytest.raises(HiermodError, match="streamed model keeps no rows"):
        model.prior_predictive(draws=10)
