"""coef, Bayesian R², posterior predictive checks, LOO and compare: values from the draws.

No sampler runs. Summaries and plots read prior draws shaped like a fit (``fit_support.prior_fit``);
LOO needs a posterior that importance sampling can work with, so the regressions ``y ~ x`` and
``y ~ 1`` get exact draws of their flat-prior posterior (normal-inverse-χ², drawn with NumPy) and
their pointwise log-likelihood from PyMC, as ``Model.fit`` computes it.
"""

from __future__ import annotations

import arviz as az
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr
from fit_support import prior_fit
from matplotlib.figure import Figure

import hiermod as hm
from hiermod.interpret.checks import ModelChecks, compare
from hiermod.interpret.r2 import bayes_r2_draws
from hiermod.model import Model

matplotlib.use("Agg")


def _sleep_data(seed: int = 0, n: int = 90) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = np.tile(np.arange(9), n // 9)
    return pd.DataFrame(
        {
            "Reaction": 250 + 10 * days + rng.normal(0, 30, n),
            "Days": days,
            "Subject": np.repeat(np.arange(300, 300 + n // 9), 9),
            "f": rng.choice(["a", "b", "c"], n),
        }
    )


SLEEP = _sleep_data()


@pytest.fixture(scope="module")
def sleep() -> tuple[Model, xr.DataTree]:
    priors = {"b": "normal(10, 2)", "Intercept": "normal(250, 10)", "sigma": "exponential(0.03)"}
    model = Model("Reaction ~ Days + f + (Days | Subject)", SLEEP, priors=priors)
    return model, prior_fit(model, chains=2, draws=60, seed=2)


def _flat(values: xr.DataArray) -> np.ndarray:
    array = np.asarray(values.values, dtype=float)
    return array.reshape(-1, *array.shape[2:])


# -- coef ------------------------------------------------------------------------------------------


def test_coef_is_fixef_plus_ranef_per_level(sleep) -> None:
    model, fit = sleep
    table = model.coef(fit)["Subject"]
    post = fit["posterior"]
    levels = list(model.ranef(fit)["Subject"].index)
    assert list(table.index) == levels
    assert list(table["estimate"].columns) == ["Intercept", "Days", "f[b]", "f[c]"]
    assert list(table.columns.get_level_values("stat").unique()) == [
        "estimate",
        "sd",
        "lower_95",
        "upper_95",
    ]
    intercepts = _flat(post["Intercept"])[:, None] + _flat(post["r_Subject"])[:, :, 0]
    slopes = _flat(post["b"].sel(coef="Days"))[:, None] + _flat(post["r_Subject"])[:, :, 1]
    np.testing.assert_allclose(table[("estimate", "Intercept")], intercepts.mean(axis=0))
    np.testing.assert_allclose(table[("sd", "Days")], slopes.std(axis=0, ddof=1))
    np.testing.assert_allclose(table[("lower_95", "Days")], np.quantile(slopes, 0.025, axis=0))
    np.testing.assert_allclose(table[("upper_95", "Days")], np.quantile(slopes, 0.975, axis=0))
    # a population term without group effects is the same for every level: fixef's
    fb = _flat(post["b"].sel(coef="f[b]"))
    np.testing.assert_allclose(table[("estimate", "f[b]")], np.full(len(levels), fb.mean()))
    narrow = model.coef(fit, prob=0.5)["Subject"]
    np.testing.assert_allclose(narrow[("lower_50", "Days")], np.quantile(slopes, 0.25, axis=0))


def test_coef_of_a_grouping_interaction_and_a_group_only_term() -> None:
    rng = np.random.default_rng(4)
    data = pd.DataFrame(
        {
            "y": rng.normal(size=60),
            "x": rng.normal(size=60),
            "g1": rng.choice(["a", "b", "c"], 60),
            "g2": rng.choice(["u", "v"], 60),
        }
    )
    model = Model("y ~ 1 + (1 + x | g1:g2)", data, layout="dense")
    fit = prior_fit(model, chains=1, draws=30, seed=1)
    table = model.coef(fit)["g1:g2"]
    assert table.index.equals(model.ranef(fit)["g1:g2"].index)
    r = _flat(fit["posterior"]["r_g1__g2"]).reshape(30, len(table), 2)
    # x has no population term: its coefficient is the group effect alone
    np.testing.assert_allclose(table[("estimate", "x")], r[:, :, 1].mean(axis=0))
    intercept = _flat(fit["posterior"]["Intercept"])[:, None] + r[:, :, 0]
    np.testing.assert_allclose(table[("estimate", "Intercept")], intercept.mean(axis=0))
    with pytest.raises(ValueError, match="no formula for 'nu'"):
        model.coef(fit, dpar="nu")


# -- Bayesian R² -----------------------------------------------------------------------------------


def test_bayes_r2_worked_example() -> None:
    mean = xr.DataArray(
        np.array([1.5, 1.5, 3.5, 3.5])[None, None, :], dims=("chain", "draw", "obs")
    ).assign_coords(obs=np.arange(4))
    observed = xr.DataArray([1.0, 2.0, 3.0, 4.0], dims="obs", coords={"obs": np.arange(4)})
    assert float(bayes_r2_draws(observed, mean).item()) == pytest.approx(0.8)
    with pytest.raises(ValueError, match="every observed row"):
        bayes_r2_draws(observed.isel(obs=slice(0, 3)), mean)


def test_bayes_r2_per_draw_is_computed_from_the_expected_responses(sleep) -> None:
    model, fit = sleep
    r2 = model.bayes_r2(fit, summary=False)
    assert r2.dims == ("chain", "draw")
    mu = model.predict(fit).values  # chain, draw, obs
    y = SLEEP["Reaction"].to_numpy()
    by_hand = mu.var(axis=2, ddof=1) / (mu.var(axis=2, ddof=1) + (y - mu).var(axis=2, ddof=1))
    np.testing.assert_allclose(r2.values, by_hand, rtol=1e-10)
    table = model.bayes_r2(fit, prob=0.9)
    assert list(table.columns) == ["estimate", "sd", "lower_90", "upper_90"]
    assert table.loc["R2", "estimate"] == pytest.approx(by_hand.mean())
    assert table.loc["R2", "sd"] == pytest.approx(by_hand.std(ddof=1))
    assert table.loc["R2", "lower_90"] == pytest.approx(np.quantile(by_hand, 0.05))
    assert table.loc["R2", "upper_90"] == pytest.approx(np.quantile(by_hand, 0.95))


# -- posterior predictive checks -------------------------------------------------------------------


def _lines(figure: Figure) -> list:
    return [line for axes in figure.axes for line in axes.get_lines()]


def test_pp_check_overlays_predictive_densities_on_the_observed_one(sleep) -> None:
    model, fit = sleep
    y = SLEEP["Reaction"].to_numpy()
    shifted = fit.copy()  # a predictive group far from the data: the lines show which is which
    draws = np.broadcast_to(y + 1000.0, (2, 60, len(y)))
    shifted["posterior_predictive"] = xr.Dataset(
        {"Reaction": (("chain", "draw", "obs"), draws)},
        coords={"chain": [0, 1], "draw": np.arange(60), "obs": fit["observed_data"]["obs"].values},
    )
    figure = model.pp_check(shifted, num_samples=12)
    assert isinstance(figure, Figure)
    lines = _lines(figure)
    assert len(lines) == 13  # 12 predictive draws and the observed density
    centres = []
    for line in lines:
        x, density = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        assert np.trapezoid(density, x) == pytest.approx(1, abs=0.05)  # each is a density
        centres.append(np.trapezoid(x * density, x))
    assert centres[-1] == pytest.approx(y.mean(), rel=0.02)  # the observed one
    np.testing.assert_allclose(centres[:-1], y.mean() + 1000, rtol=0.02)
    assert "12 posterior predictive draws" in figure.axes[0].get_title()
    legend = {text.get_text() for text in figure.axes[0].get_legend().get_texts()}
    assert legend == {"observed", "posterior predictive"}
    plt.close(figure)


def test_pp_check_draws_the_predictive_group_when_the_fit_has_none(sleep) -> None:
    model, fit = sleep
    assert "posterior_predictive" not in fit.children
    figure = model.pp_check(fit, num_samples=500, kind="ecdf", random_seed=1)
    lines = _lines(figure)
    assert len(lines) == 121  # all 120 draws (fewer than asked) and the observed ECDF
    assert "posterior_predictive" not in fit.children  # the fit is left as it was
    observed = np.asarray(lines[-1].get_xdata())
    assert observed.min() <= SLEEP["Reaction"].min() + 1e-9
    assert observed.max() >= SLEEP["Reaction"].max() - 1e-9
    plt.close(figure)
    with pytest.raises(ValueError, match="kind must be 'auto', 'density'"):
        model.pp_check(fit, kind="violin")


@pytest.fixture(scope="module")
def counts() -> tuple[Model, xr.DataTree]:
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"x": rng.normal(size=120), "g": rng.choice(list("abcd"), 120)})
    data["y"] = rng.poisson(np.exp(0.5 + 0.3 * data["x"]))
    priors = {"Intercept": "normal(0.5, 0.1)", "b": "normal(0.3, 0.05)", "sd_g": "half_normal(0.1)"}
    model = Model("y ~ x + (1 | g)", data, family="poisson", priors=priors)
    fit = prior_fit(model, chains=2, draws=40, seed=3)
    fit["posterior_predictive"] = xr.Dataset(
        {"y": model.predict(fit, kind="response").drop_attrs()}
    )
    return model, fit


def test_pp_check_of_counts_draws_observed_bars_and_predicted_frequencies(counts) -> None:
    model, fit = counts
    figure = model.pp_check(fit)
    axes = figure.axes[0]
    observed = fit["observed_data"]["y"].values.astype(int)
    values, frequencies = np.unique(observed, return_counts=True)
    bars = axes.patches
    assert [round(bar.get_x() + bar.get_width() / 2) for bar in bars] == list(values)
    assert [bar.get_height() for bar in bars] == list(frequencies)
    # the predicted mean frequency of each count, over the draws
    predictive = fit["posterior_predictive"]["y"].values.reshape(80, -1).astype(int)
    markers = np.asarray(axes.collections[0].get_offsets())
    for value, mean in markers:
        assert mean == pytest.approx(np.mean((predictive == value).sum(axis=1)))
    assert "95% intervals" in axes.get_title()
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert sorted(legend) == ["observed", "predicted (mean, 95%)"]
    plt.close(figure)
    rootogram = model.pp_check(fit, kind="rootogram", prob=0.5)
    assert not rootogram.axes[0].patches  # ArviZ's own: observed frequencies as points
    assert "50% intervals" in rootogram.axes[0].get_title()
    plt.close(rootogram)


def test_pp_check_of_a_binary_response_shows_two_bars_and_no_warning() -> None:
    rng = np.random.default_rng(2)
    data = pd.DataFrame({"x": rng.normal(size=80)})
    data["y"] = (rng.random(80) < 0.4).astype(int)
    model = Model("y ~ x", data, family="bernoulli")
    fit = prior_fit(model, chains=1, draws=40, seed=1)
    figure = model.pp_check(fit, random_seed=1)  # warnings are errors here
    bars = figure.axes[0].patches
    assert [bar.get_height() for bar in bars] == [int((data["y"] == 0).sum()), int(data["y"].sum())]
    plt.close(figure)


# -- LOO and compare ---------------------------------------------------------------------------------


def _regression_data() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    x = rng.normal(size=60)
    return pd.DataFrame({"x": x, "y": 1.0 + 0.8 * x + rng.normal(0, 0.5, 60)})


REGRESSION = _regression_data()


def _exact_fit(model: hm.Model, chains: int = 2, draws: int = 500) -> xr.DataTree:
    """Draws of the flat-prior posterior of a normal linear regression, and the log-likelihood."""
    rng = np.random.default_rng(11)
    y = REGRESSION["y"].to_numpy()
    labels = list(model.ir.predictors[0].population.coef_labels)
    X = np.column_stack([np.ones(len(y)), *(REGRESSION[label] for label in labels)])
    n, k = X.shape
    beta_hat, *_ = np.linalg.lstsq(X, y, rcond=None)
    s2 = float(np.sum((y - X @ beta_hat) ** 2)) / (n - k)
    sigma2 = (n - k) * s2 / rng.chisquare(n - k, chains * draws)
    covariance = np.linalg.inv(X.T @ X)
    beta = (
        beta_hat
        + rng.multivariate_normal(np.zeros(k), covariance, chains * draws)
        * np.sqrt(sigma2)[:, None]
    )
    shape = (chains, draws)
    variables = {
        "Intercept": (("chain", "draw"), beta[:, 0].reshape(shape)),
        "sigma": (("chain", "draw"), np.sqrt(sigma2).reshape(shape)),
    }
    coords = {"chain": np.arange(chains), "draw": np.arange(draws)}
    if labels:
        variables["b"] = (("chain", "draw", "coef"), beta[:, 1:].reshape(*shape, k - 1))
        coords["coef"] = labels
    observed = xr.Dataset({"y": ("obs", y)}, coords={"obs": np.arange(n)})
    fit = xr.DataTree.from_dict(
        {"posterior": xr.Dataset(variables, coords=coords), "observed_data": observed}
    )
    pm.compute_log_likelihood(fit, model=model.pymc_rows, progressbar=False)
    return fit


@pytest.fixture(scope="module")
def regressions() -> dict[str, tuple[Model, xr.DataTree]]:
    slope = Model("y ~ x", REGRESSION)
    flat = Model("y ~ 1", REGRESSION)
    return {"slope": (slope, _exact_fit(slope)), "intercept": (flat, _exact_fit(flat))}


def test_loo_is_arviz_s_loo_of_the_stored_log_likelihood(regressions) -> None:
    model, fit = regressions["slope"]
    ours = model.loo(fit, pointwise=True)
    theirs = az.loo(fit, pointwise=True)
    assert ours.elpd == pytest.approx(theirs.elpd)
    assert ours.se == pytest.approx(theirs.se)
    assert ours.p == pytest.approx(theirs.p)
    np.testing.assert_allclose(ours.pareto_k.values, theirs.pareto_k.values)
    # elpd_loo by hand from PSIS: far below the in-sample log predictive density
    lppd = float(np.log(np.exp(fit["log_likelihood"]["y"].values).mean(axis=(0, 1))).sum())
    assert lppd - 10 < ours.elpd < lppd


def test_compare_ranks_the_fits_as_arviz_does(regressions) -> None:
    ranking = compare(regressions)
    theirs = az.compare({name: fit for name, (_, fit) in regressions.items()})
    assert list(ranking.index) == ["slope", "intercept"]  # the data have a slope
    pd.testing.assert_frame_equal(ranking, theirs)
    unrounded = compare(regressions, round_to=None, method="pseudo-BMA")
    theirs = az.compare(
        {name: fit for name, (_, fit) in regressions.items()}, round_to=None, method="pseudo-BMA"
    )
    pd.testing.assert_frame_equal(unrounded, theirs)
    assert unrounded.loc["intercept", "elpd_diff"] < 0


def test_loo_without_a_stored_log_likelihood_says_why(regressions) -> None:
    model, fit = regressions["slope"]
    bare = xr.DataTree.from_dict(
        {"posterior": fit["posterior"].dataset, "observed_data": fit["observed_data"].dataset}
    )
    with pytest.raises(hm.HiermodError, match=r"250,000,000 values .* log_likelihood=True"):
        model.loo(bare)
    with pytest.raises(hm.HiermodError, match="the fit of 'bare' has no pointwise"):
        compare({"bare": (model, bare), "slope": regressions["slope"]})


def test_compare_refuses_fits_of_different_observations(regressions) -> None:
    slope, fit = regressions["slope"]
    fewer = Model("y ~ x", REGRESSION.iloc[:50])
    fewer_fit = fit.isel(obs=slice(0, 50))
    with pytest.raises(hm.HiermodError, match="same rows: 'slope' has 60 observations"):
        compare({"slope": (slope, fit), "fewer": (fewer, fewer_fit)})
    logged = fit.copy()
    logged["observed_data"] = fit["observed_data"].dataset.assign(
        y=np.log(np.abs(fit["observed_data"]["y"]))
    )
    with pytest.raises(hm.HiermodError, match="responses of 'slope' and 'logged' differ"):
        compare({"slope": (slope, fit), "logged": (slope, logged)})
    with pytest.raises(ValueError, match="at least two"):
        compare({"slope": (slope, fit)})


def test_a_streamed_model_has_no_log_likelihood_to_compare(tmp_path, regressions) -> None:
    path = tmp_path / "rows.csv"
    REGRESSION.to_csv(path, index=False)
    streamed = hm.stream_model("y ~ x", path)
    _, fit = regressions["slope"]
    bare = xr.DataTree.from_dict({"posterior": fit["posterior"].dataset})
    with pytest.raises(hm.HiermodError, match="a streamed model keeps no rows"):
        ModelChecks.loo(streamed, bare)  # type: ignore[arg-type]
