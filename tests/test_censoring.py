"""Censored responses, ``y | cens(c) ~ …`` in brms's coding (-1 left, 0 observed, 1 right).

The compiled model is compared with hand-written PyMC models whose likelihood is written out: the
density for observed rows, log P(y > t) (the survival function) for right-censored rows and
log P(y < t) for left-censored ones, as brms's Stan code adds ``*_lccdf`` and ``*_lcdf`` terms —
``pm.Potential`` over closed forms, not ``pm.Censored`` (same logp and gradient at random points).
Then the spellings of the codes, what is refused, and predictions (uncensored, as brms's).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import pytest
from support import assert_same_model, random_intercept_eta

import hiermod as hm
from hiermod.errors import DataError, FamilyError
from hiermod.output.module import load_module

N_ROWS, GROUPS = 120, tuple(f"p{i:02d}" for i in range(15))


@functools.cache
def frame() -> pd.DataFrame:
    """Survival times (Weibull) censored on the right at a follow-up time, and a real response
    censored on the left at a detection limit."""
    rng = np.random.default_rng(5)
    g = rng.integers(0, len(GROUPS), N_ROWS)
    x = rng.normal(size=N_ROWS)
    mean = np.exp(2.0 + 0.4 * x + rng.normal(0.0, 0.3, len(GROUPS))[g])
    time = mean * rng.weibull(1.5, N_ROWS)
    follow_up = rng.uniform(2.0, 20.0, N_ROWS)
    level = 1.0 + x + rng.normal(0.0, 1.0, N_ROWS)
    limit = 0.5
    return pd.DataFrame(
        {
            "g": np.array(GROUPS)[g],
            "x": x,
            "time": np.minimum(time, follow_up),
            "censored": (time > follow_up).astype(int),
            "level": np.maximum(level, limit),
            "below": np.where(level < limit, "left", "none"),
        }
    )


def _normal_lcdf(z: pt.TensorVariable) -> pt.TensorVariable:
    """log Phi(z), accurate in both tails (through erfcx below -1)."""
    left = np.log(0.5) + pt.log(pt.erfcx(-z / np.sqrt(2.0))) - z**2 / 2.0
    return pt.switch(pt.lt(z, -1.0), left, pt.log1p(-0.5 * pt.erfc(z / np.sqrt(2.0))))


def _weibull(t: np.ndarray, mu: pt.TensorVariable, shape: pt.TensorVariable, right: np.ndarray):
    # brms: weibull(shape, scale = mu / Γ(1 + 1/shape)); log S(t) = -(t / scale)^shape
    scale = mu / pt.exp(pt.gammaln(1.0 + 1.0 / shape))
    z = t / scale
    density = pt.log(shape) - pt.log(scale) + (shape - 1.0) * pt.log(z) - z**shape
    return pt.switch(right, -(z**shape), density)


def _lognormal(t: np.ndarray, mu: pt.TensorVariable, sigma: pt.TensorVariable, right: np.ndarray):
    z = (np.log(t) - mu) / sigma
    density = -0.5 * z**2 - pt.log(sigma) - 0.5 * np.log(2.0 * np.pi) - np.log(t)
    return pt.switch(right, _normal_lcdf(-z), density)


def _gaussian_left(
    y: np.ndarray, mu: pt.TensorVariable, sigma: pt.TensorVariable, left: np.ndarray
):
    z = (y - mu) / sigma
    density = -0.5 * z**2 - pt.log(sigma) - 0.5 * np.log(2.0 * np.pi)
    return pt.switch(left, _normal_lcdf(z), density)


PRIORS = {"Intercept": "normal(0, 3)", "b": "normal(0, 1)", "sd": "half_normal(1)"}
CASES = {
    "weibull": ("time | cens(censored) ~ x + (1 | g)", {"shape": "gamma(2, 1)"}),
    "lognormal": ("time | cens(censored) ~ x + (1 | g)", {"sigma": "half_normal(1)"}),
    "gaussian": ("level | cens(below) ~ x + (1 | g)", {"sigma": "half_normal(2)"}),
}


@functools.cache
def compiled(family: str) -> hm.Model:
    formula, aux = CASES[family]
    return hm.Model(formula, frame(), family=family, priors=PRIORS | aux, centered=False)


def hand(family: str) -> pm.Model:
    d = frame()
    levels = sorted(d["g"].unique())
    with pm.Model(coords={"obs": np.arange(len(d)), "coef": ["x"], "g": list(levels)}) as model:
        eta = random_intercept_eta(d, intercept_sd=3.0, sd_g=1.0)
        right = d["censored"].to_numpy() == 1
        if family == "weibull":
            shape = pm.Gamma("shape", 2.0, 1.0)
            loglik = _weibull(d["time"].to_numpy(), pt.exp(eta), shape, right)
        elif family == "lognormal":
            sigma = pm.HalfNormal("sigma", 1.0)
            loglik = _lognormal(d["time"].to_numpy(), eta, sigma, right)
        else:
            sigma = pm.HalfNormal("sigma", 2.0)
            left = d["below"].to_numpy() == "left"
            loglik = _gaussian_left(d["level"].to_numpy(), eta, sigma, left)
        pm.Potential("loglik", loglik.sum())
    return model


@pytest.mark.parametrize("family", list(CASES))
def test_same_model_as_censored_likelihood_by_hand(family: str) -> None:
    assert frame()["censored"].mean() > 0.1
    assert (frame()["below"] == "left").mean() > 0.1
    # pm.Censored's normal log-CDF (PyMC's normal_lcdf) has a gradient 2.6e-7 off in relative
    # terms (measured against phi(z) / Phi(z) over z in [-8, 4]); the hand-written one is exact.
    rtol = 1e-6 if family in ("lognormal", "gaussian") else 1e-8
    assert_same_model(compiled(family).pymc, hand(family), n_points=3, rtol=rtol)


SPELLINGS = [
    ([0, 1, 0, -1], [0, 1, 0, -1]),
    ([False, True, False, False], [0, 1, 0, 0]),
    (["none", "right", "NONE", "left"], [0, 1, 0, -1]),
]


@pytest.mark.parametrize(("codes", "expected"), SPELLINGS)
def test_the_codes_are_brms(codes: list, expected: list) -> None:
    d = frame().head(4).assign(c=codes)
    model = hm.Model("time | cens(c) ~ x", d, family="weibull")
    lower, upper = (model.ir.data_values[n] for n in model.ir.likelihood.censored)
    t = d["time"].to_numpy()
    np.testing.assert_array_equal(upper, np.where(np.array(expected) == 1, t, np.inf))
    np.testing.assert_array_equal(lower, np.where(np.array(expected) == -1, t, -np.inf))


REFUSED = [
    ("time | cens(c) ~ x", "weibull", [0, 2, 0, 0], DataError, "interval censoring is not supported"),
    ("time | cens(c) ~ x", "weibull", ["none", "up", "none", "none"], DataError, "'up'"),
    ("time | cens(c) ~ x", "exgaussian", [0, 1, 0, 0], FamilyError, "not supported with the exgaussian"),
    ("time | cens(c) + weights(x2) ~ x", "weibull", [0, 1, 0, 0], FamilyError, "weights"),
]  # fmt: skip


@pytest.mark.parametrize(("formula", "family", "codes", "error", "message"), REFUSED)
def test_what_censoring_refuses(formula, family, codes, error, message) -> None:
    d = frame().head(4).assign(c=codes, x2=1.0)
    with pytest.raises(error, match=message):
        hm.Model(formula, d, family=family)


def test_counts_are_refused_with_the_reason() -> None:
    d = frame().assign(n=np.arange(N_ROWS) % 7)
    with pytest.raises(FamilyError, match="poisson"):
        hm.Model("n | cens(censored) ~ x", d, family="poisson")


def test_no_reduction_of_censored_rows() -> None:
    with pytest.raises(hm.HiermodError, match="censored"):
        hm.Model("level | cens(below) ~ x + (1 | g)", frame(), suffstats=True)
    assert hm.Model("level | cens(below) ~ x + (1 | g)", frame()).ir.suffstats is None


def test_predictions_are_uncensored_and_the_source_runs_on_a_dataframe() -> None:
    from test_families import _fake_fit

    model = compiled("weibull")
    fit = _fake_fit(model, seed=1)
    new = frame().drop(columns=["censored", "time"]).head(10)
    mean = model.predict(fit, data=new, kind="mean")
    assert mean.shape == (1, 2, 10)
    assert np.isfinite(mean.values).all()
    source = model.source()
    assert "pm.Censored(" in source
    assert 'censoring_codes(df["censored"])' in source
    standalone = load_module(source).build_model(frame())
    point = model.pymc.initial_point()
    ours = model.pymc.compile_logp(mode="FAST_COMPILE")(point)
    assert standalone.compile_logp(mode="FAST_COMPILE")(point) == pytest.approx(ours, rel=1e-12)


# ---------------------------------------------------------------------------------------------------
# rate(exposure): the mean is exposure * mu, brms's rate().


@functools.cache
def counts() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    d = frame().copy()
    d["expo"] = rng.uniform(0.5, 4.0, N_ROWS)
    d["n"] = rng.poisson(d["expo"] * np.exp(0.3 + 0.5 * d["x"]))
    return d


def test_rate_is_an_offset_of_log_exposure() -> None:
    priors = {"Intercept": "normal(0, 2)", "b": "normal(0, 1)", "sd": "half_normal(1)"}
    with_rate = hm.Model("n | rate(expo) ~ x + (1 | g)", counts(), family="poisson", priors=priors)
    with_offset = hm.Model(
        "n ~ x + (1 | g) + offset(log(expo))", counts(), family="poisson", priors=priors
    )
    assert_same_model(with_rate.pymc, with_offset.pymc, n_points=3, rtol=1e-12)
    assert "np.log(expo)" in with_rate.source()


def test_rate_scales_predictions_and_new_data_must_have_it() -> None:
    from test_families import _fake_fit

    model = hm.Model("n | rate(expo) ~ x + (1 | g)", counts(), family="negativebinomial")
    fit = _fake_fit(model, seed=3)
    new = counts().head(5).drop(columns=["n"])
    once = model.predict(fit, data=new, kind="mean").values
    twice = model.predict(fit, data=new.assign(expo=2 * new["expo"]), kind="mean").values
    np.testing.assert_allclose(twice, 2 * once, rtol=1e-12)
    with pytest.raises(DataError, match=r"need the column of rate\(expo\)"):
        model.predict(fit, data=new.drop(columns=["expo"]), kind="mean")


@pytest.mark.parametrize(
    ("formula", "family", "link", "message"),
    [
        ("n | rate(expo) ~ x", "poisson", "identity", "needs the log link"),
        ("n | rate(x) ~ 1", "poisson", None, "positive values"),
    ],
)
def test_what_rate_refuses(formula: str, family: str, link: str | None, message: str) -> None:
    with pytest.raises(hm.HiermodError, match=message):
        hm.Model(formula, counts(), family=family, link=link)
