"""Predictions: the parameters they use are PyMC's, new data are encoded like the training data.

Most tests use prior draws shaped like a fit (``fit_support.prior_fit``): predictions only read
draws, so no sampler is needed. The uncertainty test needs a real posterior and is marked slow.
"""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from fit_support import prior_fit, pymc_likelihood_inputs

import hiermod as hm
from hiermod.model import distributional_parameters
from hiermod.warnings import SamplingWarning


def _data(n: int = 80, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.array(list("abcd"))[np.arange(n) % 4]
    h = np.array(["p", "q", "r"])[rng.integers(0, 3, n)]
    x = rng.normal(size=n)
    eta = 0.3 + 0.5 * x + rng.normal(0, 0.3, n)
    trials = rng.integers(5, 15, n)
    return pd.DataFrame(
        {
            "g": g,
            "h": h,
            "f": rng.choice(["u", "v", "w"], n),
            "x": x,
            "x2": rng.uniform(0, 3, n),
            "expo": rng.uniform(0.5, 2.0, n),
            "y": eta + rng.normal(0, 0.5, n),
            "count": rng.poisson(np.exp(eta)),
            "b01": (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(int),
            "succ": rng.binomial(trials, 1 / (1 + np.exp(-eta))),
            "n": trials,
            "pos": np.exp(eta + rng.normal(0, 0.3, n)),
            "unit": 1 / (1 + np.exp(-eta - rng.normal(0, 0.3, n))),
        }
    )


DATA = _data()


def _expected_inputs(family: str, dp: dict[str, np.ndarray], model: hm.Model) -> list[np.ndarray]:
    """What PyMC's likelihood receives, from hiermod's distributional parameters."""
    mu = dp["mu"]
    if family in ("gaussian", "lognormal"):
        return [mu, dp["sigma"]]
    if family == "student_t":
        return [dp["nu"], mu, dp["sigma"]]
    if family in ("bernoulli", "poisson"):
        return [mu]
    if family == "binomial":
        return [np.broadcast_to(model.design.trials, mu.shape), mu]
    if family == "negativebinomial":
        alpha = dp["alpha"]
        return [alpha, alpha / (mu + alpha)]
    if family == "gamma":  # PyMC's GammaRV takes (shape, scale)
        return [dp["alpha"], mu / dp["alpha"]]
    if family == "beta":
        return [mu * dp["phi"], (1 - mu) * dp["phi"]]
    raise AssertionError(family)


CASES = [
    ("y ~ x + f + (1 + x | g)", "gaussian", {}),
    ("y ~ x + (1 + x | g:h)\nsigma ~ x + (1 | g)", "gaussian", {"layout": "dense"}),
    ("y ~ x + (1 + x | g:h)", "gaussian", {"layout": "observed"}),
    ("y ~ x + (1 + x | g:h) + (1 | g)\nsigma ~ (1 | g)", "gaussian", {"centered": {"g:h": True}}),
    ("y ~ x + (x || g) + (0 + x | h)", "student_t", {}),
    ("count ~ x + offset(log(expo)) + (1 | g)", "poisson", {}),
    ("count ~ x + (1 | g/h)", "negativebinomial", {}),
    ("b01 ~ x + f + (1 | g)", "bernoulli", {}),
    ("b01 ~ x + (1 | g)", "bernoulli", {"link": "probit"}),
    ("succ | trials(n) ~ x + (1 | g)", "binomial", {}),
    ("pos ~ x + (1 | g)", "gamma", {}),
    ("pos ~ x + (1 | g)", "lognormal", {}),
    ("unit ~ x + (1 | h)", "beta", {}),
    # center(x):f is contrast-coded (center(x) is in the model): x:f would alias center(x).
    ("y ~ center(x) + poly(x2, 2) + center(x):f + (1 | g)", "gaussian", {}),
]


@pytest.mark.parametrize(("formula", "family", "options"), CASES, ids=[c[0] for c in CASES])
def test_in_sample_parameters_equal_pymc(formula: str, family: str, options: dict) -> None:
    """For every draw and row, the distributional parameters are what PyMC's likelihood receives."""
    model = hm.Model(formula, DATA, family=family, **options)
    idata = prior_fit(model, draws=4, seed=1)
    ours = {k: v.values for k, v in distributional_parameters(model, idata).items()}
    theirs = pymc_likelihood_inputs(model, idata)
    expected = _expected_inputs(family, ours, model)
    assert len(theirs) == len(expected)
    # PyTensor's normal CDF is an approximation good to ~1e-7; everything else agrees to rounding.
    rtol = 1e-6 if options.get("link") == "probit" else 1e-9
    for a, b in zip(theirs, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12)


@pytest.fixture(scope="module")
def forum() -> tuple[hm.Model, xr.DataTree]:
    sim = hm.datasets.forum_scenario(n_rows=240, n_features=2, n_groups=3, n_colors=2, seed=4)
    model = hm.Model(sim.formula, sim.data)
    return model, prior_fit(model, draws=10, seed=2)


def test_mean_is_inverse_link_and_data_none_is_training_rows(forum) -> None:
    model, idata = forum
    mean = model.predict(idata)
    assert mean.dims == ("chain", "draw", "obs")
    assert mean.shape == (2, 10, 240)
    np.testing.assert_array_equal(mean["obs"].values, np.asarray(model.ir.coords["obs"]))
    again = model.predict(idata, data=model.data)  # same rows through apply_schema
    np.testing.assert_allclose(mean.values, again.values, rtol=1e-12)


def test_new_group_level_rows_share_one_population_draw(forum) -> None:
    model, idata = forum
    new = model.data.head(4).copy()
    new["group"] = "g_new"
    new["color"] = ["red", "red", "blue", "blue"]
    new["x1"], new["x2"] = 0.5, -0.2
    pred = model.predict(idata, data=new, random_seed=3, new_levels="population")
    # Same new cell and same predictors: the same effect per draw, so identical predictions;
    # another new cell gets its own draw.
    np.testing.assert_allclose(pred.values[..., 0], pred.values[..., 1])
    np.testing.assert_allclose(pred.values[..., 2], pred.values[..., 3])
    assert not np.allclose(pred.values[..., 0], pred.values[..., 2])
    assert np.all(np.isfinite(pred.values))
    other = model.predict(idata, data=new, random_seed=4, new_levels="population")
    assert not np.allclose(pred.values, other.values)  # the new level's effect is random
    same = model.predict(idata, data=new, random_seed=3, new_levels="population")
    np.testing.assert_array_equal(pred.values, same.values)


def test_new_levels_error_raises(forum) -> None:
    model, idata = forum
    new = model.data.head(3).copy()
    new["group"] = "g_new"
    with pytest.raises(hm.DataError, match="g_new") as info:
        model.predict(idata, data=new, new_levels="error")
    assert "new_levels='population'" in str(info.value)
    with pytest.raises(ValueError, match="new_levels"):
        model.predict(idata, data=new, new_levels="allow")


def test_unseen_categorical_predictor_level_raises() -> None:
    model = hm.Model("y ~ x + f + (1 | g)", DATA)
    idata = prior_fit(model, draws=3)
    new = DATA.head(2).copy()
    new["f"] = "zzz"
    with pytest.raises(hm.DataError, match="zzz"):
        model.predict(idata, data=new)


def test_dense_layout_known_levels_in_a_new_combination_use_their_parameter() -> None:
    """Dense layout: an unobserved (g, h) cell of known levels has its own (prior-informed) effect."""
    data = DATA[~((DATA["g"] == "a") & (DATA["h"] == "p"))]
    model = hm.Model("y ~ x + (1 | g:h)", data, layout="dense")
    idata = prior_fit(model, draws=5)
    new = pd.DataFrame({"g": ["a"], "h": ["p"], "x": [0.0]})
    first = model.predict(idata, data=new, random_seed=1)
    second = model.predict(idata, data=new, random_seed=2)
    np.testing.assert_array_equal(first.values, second.values)  # no population draw
    r = idata["posterior"]["r_g__h"].sel(g="a", h="p").values
    expected = idata["posterior"]["Intercept"].values + r
    np.testing.assert_allclose(first.values[..., 0], expected)


def test_observed_layout_new_combination_draws_from_population() -> None:
    data = DATA[~((DATA["g"] == "a") & (DATA["h"] == "p"))]
    model = hm.Model("y ~ x + (1 | g:h)", data, layout="observed")
    idata = prior_fit(model, draws=5)
    new = pd.DataFrame({"g": ["a"], "h": ["p"], "x": [0.0]})
    first = model.predict(idata, data=new, random_seed=1, new_levels="population")
    second = model.predict(idata, data=new, random_seed=2, new_levels="population")
    assert not np.allclose(first.values, second.values)
    with pytest.raises(hm.DataError, match="'a:p'"):
        model.predict(idata, data=new)  # the default: new_levels="error"


def test_correlated_population_draws_follow_the_cholesky_factor() -> None:
    """Many new levels: their effects' sample covariance matches chol @ chol.T of one draw."""
    sim = hm.datasets.correlated_slopes(n_groups=6, per_group=5, seed=1)
    model = hm.Model(sim.formula, sim.data)
    idata = prior_fit(model, chains=1, draws=1, seed=5)
    n_new = 20_000
    new = pd.DataFrame(
        {"g": [f"new{i}" for i in range(n_new)] * 2, "x": [0.0] * n_new + [1.0] * n_new}
    )
    pred = model.predict(idata, data=new, random_seed=0, new_levels="population").values[0, 0]
    intercept = pred[:n_new] - idata["posterior"]["Intercept"].values[0, 0]
    slope = pred[n_new:] - pred[:n_new] - idata["posterior"]["b"].values[0, 0, 0]
    sd = idata["posterior"]["sd_g"].values[0, 0]
    corr = idata["posterior"]["corr_g"].sel(g_term_pair="Intercept, x").values[0, 0]
    np.testing.assert_allclose([intercept.std(), slope.std()], sd, rtol=0.03)
    assert abs(np.corrcoef(intercept, slope)[0, 1] - corr) < 0.03


@pytest.mark.parametrize(
    ("formula", "family", "check"),
    [
        ("b01 ~ x + (1 | g)", "bernoulli", lambda y, m: np.isin(y, (0, 1)).all()),
        ("succ | trials(n) ~ x + (1 | g)", "binomial", lambda y, m: (y <= m.design.trials).all()),
        ("count ~ x + (1 | g)", "poisson", lambda y, m: (y >= 0).all() and (y % 1 == 0).all()),
        ("pos ~ x + (1 | g)", "gamma", lambda y, m: (y > 0).all()),
        ("unit ~ x + (1 | g)", "beta", lambda y, m: ((y >= 0) & (y <= 1)).all()),
    ],
)
def test_response_draws_respect_the_family(formula: str, family: str, check) -> None:
    model = hm.Model(formula, DATA, family=family, priors={"Intercept": "normal(0, 0.5)"})
    idata = prior_fit(model, draws=5, seed=3)
    draws = model.predict(idata, kind="response", random_seed=1)
    assert draws.shape == (2, 5, len(DATA))
    assert check(draws.values, model)


def test_response_draws_average_to_the_mean() -> None:
    model = hm.Model(
        "count ~ x + (1 | g)",
        DATA,
        family="poisson",
        priors={"Intercept": "normal(0, 0.3)", "sd": "half_normal(0.3)", "b": "normal(0, 0.3)"},
    )
    idata = prior_fit(model, chains=1, draws=1, seed=3)
    big = pd.concat([DATA.head(1)] * 40_000, ignore_index=True)
    mean = model.predict(idata, data=big).values[0, 0, 0]
    draws = model.predict(idata, data=big, kind="response", random_seed=2).values[0, 0]
    assert abs(draws.mean() - mean) < 4 * np.sqrt(mean / big.shape[0])


def test_binomial_mean_is_trials_times_probability_and_needs_trials() -> None:
    model = hm.Model("succ | trials(n) ~ x + (1 | g)", DATA, family="binomial")
    idata = prior_fit(model, draws=3)
    p = distributional_parameters(model, idata)["mu"].values
    np.testing.assert_allclose(model.predict(idata).values, p * DATA["n"].to_numpy())
    with pytest.raises(hm.DataError, match="trials"):
        model.predict(idata, data=DATA.drop(columns=["n"]))


def test_bad_kind_raises(forum) -> None:
    model, idata = forum
    with pytest.raises(ValueError, match="kind"):
        model.predict(idata, kind="link")


def test_save_load_predict_round_trip(forum, tmp_path) -> None:
    model, idata = forum
    new = model.data.sample(12, random_state=1).copy()
    new.loc[new.index[:3], "color"] = "mauve"  # a new cell of the dense group:color layout
    before = model.predict(idata, data=new, random_seed=7, new_levels="population")
    path = tmp_path / "fit.nc"
    idata.to_netcdf(path)
    loaded = az.from_netcdf(path)
    rebuilt = hm.Model.from_idata(loaded, model.data)
    assert str(rebuilt.formula) == str(model.formula)
    after = rebuilt.predict(loaded, data=new, random_seed=7, new_levels="population")
    np.testing.assert_allclose(after.values, before.values, rtol=1e-12)


def test_from_idata_keeps_priors_family_link_layout_and_centring(tmp_path) -> None:
    model = hm.Model(
        "b01 ~ x + (1 | g:h)",
        DATA,
        family="bernoulli",
        link="probit",
        priors={"b": hm.Prior("normal", 0, [0.7]), "sd": "half_normal(0.4)"},
        layout={"g:h": "observed"},
        centered={"g:h": True},
    )
    idata = prior_fit(model, draws=2)
    idata.to_netcdf(tmp_path / "fit.nc")
    rebuilt = hm.Model.from_idata(az.from_netcdf(tmp_path / "fit.nc"), DATA)
    assert rebuilt.family.name == "bernoulli"
    assert rebuilt.link == "probit"
    pd.testing.assert_frame_equal(rebuilt.priors, model.priors)
    assert [b.layout for p in rebuilt.ir.predictors for b in p.blocks] == ["observed"]
    assert [b.centered for p in rebuilt.ir.predictors for b in p.blocks] == [True]


def test_from_idata_with_other_data_raises(forum) -> None:
    model, idata = forum
    other = model.data.copy()
    other["y"] = other["y"] + 1.0
    with pytest.raises(hm.DataError, match="do not reproduce"):
        hm.Model.from_idata(idata, other)


def test_from_idata_needs_a_hiermod_fit() -> None:
    with pytest.raises(hm.HiermodError, match="hiermod_model"):
        hm.Model.from_idata(az.from_dict({"posterior": {"a": np.zeros((1, 3))}}), DATA)


# -- with a real posterior -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted() -> tuple[hm.Model, xr.DataTree]:
    sim = hm.datasets.correlated_slopes(n_groups=8, per_group=25, seed=2)
    model = hm.Model(sim.formula, sim.data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        idata = model.fit(draws=150, tune=150, chains=2, random_seed=3, progressbar=False, cores=1)
    return model, idata


@pytest.mark.slow
def test_new_level_predictions_are_more_uncertain_than_known_ones(fitted) -> None:
    model, idata = fitted
    new = pd.DataFrame({"g": ["s00", "brand_new"], "x": [0.5, 0.5]})
    pred = model.predict(idata, data=new, random_seed=1, new_levels="population")
    sd_known, sd_new = pred.std(("chain", "draw")).values
    assert sd_new > 2 * sd_known
    response = model.predict(
        idata, data=new, kind="response", random_seed=1, new_levels="population"
    )
    assert (response.std(("chain", "draw")).values > pred.std(("chain", "draw")).values).all()


@pytest.mark.slow
def test_in_sample_mean_of_a_real_fit_equals_pymc(fitted) -> None:
    model, idata = fitted
    mu, sigma = pymc_likelihood_inputs(model, idata.isel(draw=slice(0, 5)))
    pred = model.predict(idata.isel(draw=slice(0, 5)))
    np.testing.assert_allclose(pred.values, mu, rtol=1e-10)
    np.testing.assert_allclose(
        sigma, idata["posterior"]["sigma"].values[:, :5, None] * np.ones_like(mu)
    )


def test_streamed_model_predicts_given_rows_only(tmp_path) -> None:
    sim = hm.datasets.correlated_slopes(n_groups=5, per_group=20, seed=1)
    path = tmp_path / "rows.csv"
    sim.data.to_csv(path, index=False)
    model = hm.stream_model(sim.formula, path, chunksize=30)
    idata = model.fit(method="map", progressbar=False)
    with pytest.raises(hm.DataError, match="streamed model keeps no training rows"):
        model.predict(idata)
    assert model.predict(idata, data=sim.data.head(3)).shape == (1, 1, 3)
    assert "Data:    100 observations" in str(model.summary(idata))
