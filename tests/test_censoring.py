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
from hiermod.errors import DataError, FamilyError, FormulaError
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
    ("time | cens(c) ~ x", "weibull", [0, 2, 0, 0], DataError, r"(?s)1 rows are interval-censored.*cens\(c, y2\)"),
    ("time | cens(c, t2) ~ x", "weibull", [0, 2, 0, 0], DataError, r"needs y2 \(t2\) above its response"),
    ("time | cens(c, 2 * t2) ~ x", "weibull", [0, 2, 0, 0], FormulaError, "column"),
    ("time | cens(c) ~ x", "weibull", ["none", "up", "none", "none"], DataError, "'up'"),
    ("time | cens(c) ~ x", "weibull", [0, 3, 0, 0], DataError, "-1/0/1/2 or left/none/right/interval"),
    ("time | cens(c) ~ x", "exgaussian", [0, 1, 0, 0], FamilyError, "not supported with the exgaussian"),
]  # fmt: skip


@pytest.mark.parametrize(("formula", "family", "codes", "error", "message"), REFUSED)
def test_what_censoring_refuses(formula, family, codes, error, message) -> None:
    d = frame().head(4).assign(c=codes, x2=1.0, t2=frame()["time"].head(4) - 0.1)
    with pytest.raises(error, match=message):
        hm.Model(formula, d, family=family)


# ---------------------------------------------------------------------------------------------------
# Interval censoring, cens(c, y2), and cens() with weights(): a likelihood by each row's code.


@functools.cache
def intervals() -> pd.DataFrame:
    """Weibull times seen exactly, after the end of follow-up (right), before the first visit
    (left) or between two visits (interval: the event happened between t and t2)."""
    rng = np.random.default_rng(11)
    n = 160
    g = rng.integers(0, len(GROUPS), n)
    x = rng.normal(size=n)
    time = np.exp(2.0 + 0.4 * x + rng.normal(0.0, 0.3, len(GROUPS))[g]) * rng.weibull(1.5, n)
    kind = rng.choice(["none", "right", "left", "interval"], n, p=[0.4, 0.2, 0.1, 0.3])
    lower = np.where(kind == "interval", np.floor(time), time)
    lower = np.where((kind == "interval") & (lower <= 0), time / 2, lower)
    upper = np.where(kind == "interval", lower + 1.0 + rng.uniform(0, 2, n), np.nan)
    return pd.DataFrame(
        {"g": np.array(GROUPS)[g], "x": x, "t": lower, "t2": np.where(np.isnan(upper), 0.0, upper),
         "kind": kind, "w": rng.uniform(0.5, 2.0, n)}
    )  # fmt: skip


def _weibull_by_code(t, t2, mu, shape, code):
    """brms's weibull terms by code: log f, log S(t), log F(t), log(S(t) - S(t2))."""
    scale = mu / pt.exp(pt.gammaln(1.0 + 1.0 / shape))
    z, z2 = (t / scale) ** shape, (t2 / scale) ** shape
    density = pt.log(shape) - pt.log(scale) + (shape - 1.0) * pt.log(t / scale) - z
    left = pt.log(-pt.expm1(-z))
    interval = -z + pt.log(-pt.expm1(z - z2))
    return pt.switch(
        pt.eq(code, 0), density,
        pt.switch(pt.eq(code, 1), -z, pt.switch(pt.eq(code, -1), left, interval)),
    )  # fmt: skip


def _lognormal_by_code(t, t2, mu, sigma, code):
    z, z2 = (np.log(t) - mu) / sigma, (np.log(t2) - mu) / sigma
    density = -0.5 * z**2 - pt.log(sigma) - 0.5 * np.log(2.0 * np.pi) - np.log(t)
    interval = _normal_lcdf(z2) + pt.log(-pt.expm1(_normal_lcdf(z) - _normal_lcdf(z2)))
    return pt.switch(
        pt.eq(code, 0), density,
        pt.switch(pt.eq(code, 1), _normal_lcdf(-z), pt.switch(pt.eq(code, -1), _normal_lcdf(z), interval)),
    )  # fmt: skip


CODED = {
    "weibull": ("t | cens(kind, t2) ~ x + (1 | g)", {"shape": "gamma(2, 1)"}),
    "lognormal": ("t | cens(kind, t2) ~ x + (1 | g)", {"sigma": "half_normal(1)"}),
    "weibull weighted": ("t | cens(kind, t2) + weights(w) ~ x + (1 | g)", {"shape": "gamma(2, 1)"}),
    "lognormal right, weighted": ("t | cens(right) + weights(w) ~ x + (1 | g)", {"sigma": "half_normal(1)"}),
}  # fmt: skip


@functools.cache
def coded(case: str) -> hm.Model:
    formula, aux = CODED[case]
    d = intervals().assign(right=(intervals()["kind"] == "right").astype(int))
    return hm.Model(formula, d, family=case.split()[0], priors=PRIORS | aux, centered=False)


@pytest.mark.parametrize("case", list(CODED))
def test_coded_censoring_is_the_likelihood_by_hand(case: str) -> None:
    d = intervals()
    family, weighted = case.split()[0], "weighted" in case
    code = d["kind"].map({"none": 0, "right": 1, "left": -1, "interval": 2}).to_numpy()
    if "right" in case:
        code = np.where(code == 1, 1, 0)
    t, t2 = d["t"].to_numpy(), np.where(code == 2, d["t2"].to_numpy(), d["t"].to_numpy() + 1)
    with pm.Model(
        coords={"obs": np.arange(len(d)), "coef": ["x"], "g": list(GROUPS)}
    ) as hand_model:
        eta = random_intercept_eta(d, intercept_sd=3.0, sd_g=1.0)
        if family == "weibull":
            loglik = _weibull_by_code(t, t2, pt.exp(eta), pm.Gamma("shape", 2.0, 1.0), code)
        else:
            loglik = _lognormal_by_code(t, t2, eta, pm.HalfNormal("sigma", 1.0), code)
        pm.Potential("loglik", (loglik * (d["w"].to_numpy() if weighted else 1.0)).sum())
    assert set(code) == ({0, 1} if "right" in case else {-1, 0, 1, 2})
    model = coded(case)
    assert model.ir.likelihood.censored is None
    assert model.ir.likelihood.censoring is not None
    rtol = 1e-6 if family == "lognormal" else 1e-8  # PyMC's normal log-CDF: see above
    assert_same_model(model.pymc, hand_model, n_points=3, rtol=rtol)


@pytest.mark.parametrize("case", ["weibull", "lognormal right, weighted"])
def test_coded_censoring_source_runs_and_predicts(case: str) -> None:
    from test_families import _fake_fit

    model = coded(case)
    source = model.source()
    assert "def censored_loglik(" in source
    assert "logp=censored_logp" in source
    d = intervals().assign(right=(intervals()["kind"] == "right").astype(int))
    standalone = load_module(source).build_model(d)
    point = model.pymc.initial_point()
    ours = model.pymc.compile_logp(mode="FAST_COMPILE")(point)
    assert standalone.compile_logp(mode="FAST_COMPILE")(point) == pytest.approx(ours, rel=1e-12)
    fit = _fake_fit(model, seed=2)
    new = d.drop(columns=["kind", "t", "t2", "w", "right"]).head(6)
    for kind in ("mean", "response"):
        values = model.predict(fit, data=new, kind=kind)
        assert values.shape == (1, 2, 6)
        assert (values.values > 0).all()
    with model.pymc:  # the CustomDist draws rows (censored_random)
        prior = pm.sample_prior_predictive(draws=3, random_seed=1)
    assert prior.prior_predictive["t"].shape == (1, 3, len(d))


def test_counts_take_the_coded_form() -> None:
    """Counts are never pm.Censored (P(y >= t)): brms's P(y > t), tests/test_censored_counts.py."""
    d = frame().assign(n=np.arange(N_ROWS) % 7)
    lik = hm.Model("n | cens(censored) ~ x", d, family="poisson").ir.likelihood
    assert lik.censored is None
    assert lik.censoring is not None
    with pytest.raises(FamilyError, match="hurdle_poisson"):
        hm.Model("n | cens(censored) ~ x", d, family="hurdle_poisson")


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
