"""Predictions are PyMC's own: every family's mean and draws, centred blocks, weights, many rows.

Predictions are evaluated on the row-wise PyMC model of the rows to predict
(:mod:`hiermod.inference.predict`), so for every family ``kind="mean"`` must equal PyMC's expected
value of the response (:func:`pymc.distributions.moments.means.mean`) computed draw by draw on the
fitted model, and ``kind="response"`` must be draws of that response. Draws come from the prior
(``fit_support.prior_fit``): predictions only read them.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytensor
import pytest
import xarray as xr
from fit_support import prior_fit
from pymc.distributions.moments.means import mean as expected_value
from test_predict import DATA

import hiermod as hm
from hiermod.inference.storage import fit_attrs
from hiermod.model import distributional_parameters

FAMILIES = [
    ("y ~ x + (1 + x | g)", "gaussian", {}),
    ("y ~ x + (1 | g)\nsigma ~ x + (1 | h)", "gaussian", {}),
    ("y ~ x + (1 | g)", "student_t", {"nu": "gamma(40, 2)"}),
    ("b01 ~ x + (1 | g)", "bernoulli", {}),
    ("b01 ~ x + (1 | g)", "bernoulli", {"link": "cloglog"}),
    ("succ | trials(n) ~ x + (1 | g)", "binomial", {}),
    ("count ~ x + offset(log(expo)) + (1 | g)", "poisson", {}),
    ("count ~ x + (1 | g)", "negativebinomial", {}),
    ("pos ~ x + (1 | g)", "gamma", {}),
    ("pos ~ x + (1 | g)", "lognormal", {}),
    ("pos ~ x + (1 | g)\nsigma ~ (1 | h)", "lognormal", {}),
    ("unit ~ x + (1 | h)", "beta", {}),
    ("pos ~ x + (1 | g)", "exponential", {}),
    ("pos ~ x + (1 | g)", "weibull", {"shape": "gamma(20, 10)"}),
    ("pos ~ x + (1 | g)\nshape ~ (1 | h)", "weibull", {}),
]
IDS = [
    f"{family}, {extra.get('link', 'default')} link: {formula}"
    for formula, family, extra in FAMILIES
]
# Priors narrow enough that every mean and draw is moderate (no overflow, finite variances).
NARROW = {"Intercept": "normal(0, 0.5)", "b": "normal(0, 0.3)", "sd": "half_normal(0.3)"}


def _model(formula: str, family: str, extra: dict) -> hm.Model:
    link = extra.get("link")
    priors = {**NARROW, **{k: v for k, v in extra.items() if k != "link"}}
    return hm.Model(formula, DATA, family=family, link=link, priors=priors)


def _pymc_means(model: hm.Model, idata: xr.DataTree) -> np.ndarray:
    """PyMC's expected response of the fitted row-wise model, draw by draw: (chain, draw, obs)."""
    pm_model = model.pymc_rows
    function = pytensor.function(
        pm_model.free_RVs, expected_value(pm_model.observed_RVs[0]), on_unused_input="ignore"
    )
    posterior = idata["posterior"]
    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    out = np.empty((chains, draws, model.design.n))
    for c in range(chains):
        for d in range(draws):
            point = [posterior[rv.name].values[c, d] for rv in pm_model.free_RVs]
            out[c, d] = function(*point)
    return out


@pytest.mark.parametrize(("formula", "family", "extra"), FAMILIES, ids=IDS)
def test_mean_is_pymcs_expected_response_for_every_family(
    formula: str, family: str, extra: dict
) -> None:
    model = _model(formula, family, extra)
    idata = prior_fit(model, draws=4, seed=11)
    mean = model.predict(idata)
    assert mean.attrs == {"kind": "mean", "family": family}
    np.testing.assert_allclose(mean.values, _pymc_means(model, idata), rtol=1e-9, atol=1e-12)
    rows = DATA.iloc[::7]  # the same rows as new data, through the training schema
    again = model.predict(idata, data=rows)
    np.testing.assert_allclose(again.values, mean.values[..., ::7], rtol=1e-12)
    np.testing.assert_array_equal(again["obs"].values, rows.index.to_numpy())


@pytest.mark.parametrize(("formula", "family", "extra"), FAMILIES, ids=IDS)
def test_response_draws_average_to_the_mean_for_every_family(
    formula: str, family: str, extra: dict
) -> None:
    """One posterior draw, one row repeated: the draws' average is the mean, within 5 se."""
    model = _model(formula, family, extra)
    idata = prior_fit(model, chains=1, draws=1, seed=5)
    big = pd.concat([DATA.iloc[[3]]] * 20_000, ignore_index=True)
    mean = model.predict(idata, data=big).values[0, 0]
    draws = model.predict(idata, data=big, kind="response", random_seed=9).values[0, 0]
    np.testing.assert_allclose(mean, mean[0])  # one row: one mean
    assert abs(draws.mean() - mean[0]) < 5 * draws.std() / np.sqrt(draws.size)
    again = model.predict(idata, data=big, kind="response", random_seed=9).values[0, 0]
    np.testing.assert_array_equal(draws, again)


NEW_LEVELS = 20_000


def _new_levels_at_0_and_1(model: hm.Model, idata: xr.DataTree) -> tuple[np.ndarray, np.ndarray]:
    """Predictions for 20,000 new levels at x = 0 and at x = 1, from one posterior draw."""
    new = pd.DataFrame(
        {
            "g": [f"new{i}" for i in range(NEW_LEVELS)] * 2,
            "x": [0.0] * NEW_LEVELS + [1.0] * NEW_LEVELS,
        }
    )
    pred = model.predict(idata, data=new, random_seed=0, new_levels="population").values[0, 0]
    return pred[:NEW_LEVELS], pred[NEW_LEVELS:]


def test_centred_correlated_block_new_levels_follow_the_cholesky_factor() -> None:
    """Centred, each level's coefficients ``beta_g ~ MvNormal([Intercept, b], chol)`` are the free
    variable: new levels draw them from it given the posterior draw, so their effects spread
    with its sds and correlation."""
    sim = hm.datasets.correlated_slopes(n_groups=6, per_group=5, seed=1)
    model = hm.Model(sim.formula, sim.data, centered=True)
    assert "beta_g" in {p.name for p in model.ir.free_parameters()}
    idata = prior_fit(model, chains=1, draws=1, seed=5)
    post = idata["posterior"]
    at_0, at_1 = _new_levels_at_0_and_1(model, idata)
    intercept = at_0 - post["Intercept"].values[0, 0]
    slope = at_1 - at_0 - post["b"].values[0, 0, 0]
    corr = post["corr_g"].sel(g_term_pair="Intercept, x").values[0, 0]
    np.testing.assert_allclose([intercept.std(), slope.std()], post["sd_g"].values[0, 0], rtol=0.03)
    assert abs(np.corrcoef(intercept, slope)[0, 1] - corr) < 0.03
    # Known levels keep their posterior draws: the in-sample predictions, whatever the seed.
    np.testing.assert_allclose(
        model.predict(idata, data=sim.data.head(5), random_seed=1).values,
        model.predict(idata).values[..., :5],
        rtol=1e-12,
    )


def test_centred_block_without_population_terms_draws_r_itself() -> None:
    """``(0 + x | g)`` centred with no population slope: ``r_g ~ Normal(0, sd)`` is free."""
    sim = hm.datasets.correlated_slopes(n_groups=6, per_group=5, seed=1)
    model = hm.Model("y ~ 1 + (0 + x | g)", sim.data, centered=True)
    assert "r_g" in {p.name for p in model.ir.free_parameters()}
    idata = prior_fit(model, chains=1, draws=1, seed=5)
    post = idata["posterior"]
    at_0, at_1 = _new_levels_at_0_and_1(model, idata)
    np.testing.assert_allclose(at_0, post["Intercept"].values[0, 0])
    np.testing.assert_allclose((at_1 - at_0).std(), post["sd_g"].values[0, 0], rtol=0.03)
    assert abs((at_1 - at_0).mean()) < 4 * post["sd_g"].values[0, 0] / np.sqrt(NEW_LEVELS)


def test_centred_new_level_draws_vary_across_posterior_draws() -> None:
    """One new level over many draws: its effect spreads like the posterior sd, draw by draw."""
    sim = hm.datasets.correlated_slopes(n_groups=6, per_group=5, seed=1)
    model = hm.Model("y ~ 1 + (1 | g)", sim.data, centered=True, priors={"sd": "half_normal(1)"})
    idata = prior_fit(model, chains=2, draws=2_000, seed=3)
    new = pd.DataFrame({"g": ["brand_new"], "x": [0.0]})
    pred = model.predict(idata, data=new, random_seed=2, new_levels="population").values[..., 0]
    effect = pred - idata["posterior"]["Intercept"].values
    z = effect / idata["posterior"]["sd_g"].values
    assert abs(z.mean()) < 0.06
    assert abs(z.std() - 1.0) < 0.04


def test_weights_do_not_change_predictions() -> None:
    """weights() scale a row's log-likelihood, not its predictive distribution."""
    data = DATA.assign(w=np.linspace(0.5, 2.0, len(DATA)))
    plain = hm.Model("y ~ x + (1 | g)", data)
    weighted = hm.Model("y | weights(w) ~ x + (1 | g)", data)
    assert weighted.ir.likelihood.weights is not None
    idata = prior_fit(plain, draws=5, seed=4)
    # the same draws, stamped as the weighted model's (a fit of another formula is refused)
    as_weighted = idata.copy(deep=True)
    as_weighted["posterior"].attrs.update(fit_attrs(weighted.ir, weighted.options, {}))
    new = data.head(6).assign(g=["a", "b", "zz", "zz", "yy", "a"])
    for rows in (None, new):
        for kind in ("mean", "response"):
            args = {"kind": kind, "random_seed": 8, "new_levels": "population"}
            ours = weighted.predict(as_weighted, data=rows, **args)
            theirs = plain.predict(idata, data=rows, **args)
            np.testing.assert_allclose(ours.values, theirs.values, rtol=1e-12)


def test_known_standard_errors_come_from_the_new_data() -> None:
    data = DATA.assign(s=np.linspace(0.1, 1.0, len(DATA)))
    model = hm.Model("y | se(s) ~ x + (1 | g)", data)
    idata = prior_fit(model, draws=3, seed=2)
    new = data.head(4).assign(s=[0.5, 1.0, 2.0, 4.0])
    dpars = distributional_parameters(model, idata, new)
    np.testing.assert_array_equal(dpars["sigma"].values, np.broadcast_to(new["s"], (2, 3, 4)))
    with pytest.raises(hm.DataError, match=r"se\(\)"):
        model.predict(idata, data=new.drop(columns=["s"]))


def test_distributional_parameters_do_not_need_trials() -> None:
    model = hm.Model("succ | trials(n) ~ x + (1 | g)", DATA, family="binomial")
    idata = prior_fit(model, draws=3)
    rows = DATA.drop(columns=["n"]).head(5)
    mu = distributional_parameters(model, idata, rows)["mu"].values
    np.testing.assert_allclose(mu, distributional_parameters(model, idata)["mu"].values[..., :5])
    with pytest.raises(hm.DataError, match="trials"):
        model.predict(idata, data=rows, kind="response")


def test_new_levels_in_an_observed_interaction_and_a_single_block_together() -> None:
    """(1 | g) and (1 | g:h) observed: a new level of g extends both blocks, a new cell of known
    levels the cells only. Each new level or cell gets one draw, shared by its rows."""
    data = DATA[~((DATA["g"] == "a") & (DATA["h"] == "p"))]
    model = hm.Model("y ~ x + (1 | g) + (1 | g:h)", data, layout="observed")
    idata = prior_fit(model, draws=50, seed=6)
    new = pd.DataFrame({"g": ["a", "a", "new", "new", "b"], "h": ["p", "p", "q", "q", "q"]})
    pred = model.predict(idata, data=new.assign(x=0.0), random_seed=1, new_levels="population")
    pred = pred.values
    np.testing.assert_allclose(pred[..., 0], pred[..., 1])
    np.testing.assert_allclose(pred[..., 2], pred[..., 3])
    post = idata["posterior"]
    known = post["Intercept"] + post["r_g"].sel(g="b") + post["r_g__h"].sel(g__h="b:q")
    np.testing.assert_allclose(pred[..., 4], known.values)
    # a:p: g's effect from the posterior, the new cell's from N(0, sd_g__h), draw by draw.
    cell = (pred[..., 0] - (post["Intercept"] + post["r_g"].sel(g="a")).values) / post[
        "sd_g__h"
    ].values
    assert cell.std() > 0.5
    assert np.abs(cell).max() < 5
    both = pred[..., 2] - post["Intercept"].values
    scale = np.hypot(post["sd_g"].values, post["sd_g__h"].values)
    assert (both / scale).std() > 0.5
    assert np.abs(both / scale).max() < 5


def test_ten_thousand_new_rows_two_hundred_draws() -> None:
    """10,000 rows × 200 draws, a third of them in new levels: one vectorised evaluation."""
    sim = hm.datasets.correlated_slopes(n_groups=20, per_group=10, seed=1)
    model = hm.Model(sim.formula, sim.data)
    idata = prior_fit(model, chains=2, draws=100, seed=5)
    rng = np.random.default_rng(0)
    levels = [*sim.data["g"].unique(), *(f"new{i}" for i in range(10))]
    new = pd.DataFrame({"g": rng.choice(levels, 10_000), "x": rng.choice([0.0, 1.0], 10_000)})
    start = time.perf_counter()
    pred = model.predict(idata, data=new, random_seed=1, new_levels="population")
    response = model.predict(
        idata, data=new, kind="response", random_seed=1, new_levels="population"
    )
    elapsed = time.perf_counter() - start
    assert pred.shape == response.shape == (2, 100, 10_000)
    assert np.isfinite(pred.values).all()
    assert np.isfinite(response.values).all()
    for _, rows in new.groupby(["g", "x"]).indices.items():  # one value per level and x
        first = pred.values[..., rows[:1]]
        np.testing.assert_array_equal(
            pred.values[..., rows], np.broadcast_to(first, (2, 100, rows.size))
        )
    print(f"10,000 rows x 200 draws, mean and response: {elapsed:.2f} s")
