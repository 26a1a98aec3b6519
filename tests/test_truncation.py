"""Truncated responses, brms's ``y | trunc(lb = …, ub = …) ~ …``.

The compiled models against hand-written PyMC models whose likelihood is written out in closed
form: the density minus the log probability of the range, log f(y) - log(F(ub) - F(lb)) (Stan's
``T[lb, ub]``; for counts F(ub) - F(lb - 1)) — ``pm.Potential`` over scipy-free PyTensor
expressions, not ``pm.Truncated`` (same logp and gradient at random points). Then what is refused,
the exported source, and predictions (draws within the bounds).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import pytest
from support import assert_same_model, random_intercept_eta
from test_censoring import GROUPS, _normal_lcdf

import hiermod as hm
from hiermod.errors import DataError, FamilyError, FormulaError
from hiermod.output.module import load_module

N_ROWS = 150


@functools.cache
def frame() -> pd.DataFrame:
    """A positive real response seen only above 0 (rejection sampling from a normal), counts seen
    only up to 12, and times above a per-row entry time (left truncation, a delayed entry)."""
    rng = np.random.default_rng(3)
    g = rng.integers(0, len(GROUPS), N_ROWS)
    x = rng.normal(size=N_ROWS)
    effect = rng.normal(0.0, 0.4, len(GROUPS))
    level = np.empty(N_ROWS)
    for i in range(N_ROWS):
        while True:
            level[i] = rng.normal(0.5 + 0.8 * x[i] + effect[g[i]], 1.0)
            if level[i] > 0:
                break
    counts = np.minimum(rng.poisson(np.exp(1.5 + 0.3 * x)), 12)
    entry = rng.uniform(0.1, 1.0, N_ROWS)
    time = entry + rng.lognormal(0.5 + 0.2 * x, 0.5)
    return pd.DataFrame(
        {"g": np.array(GROUPS)[g], "x": x, "level": level, "n": counts, "entry": entry,
         "time": time}
    )  # fmt: skip


PRIORS = {"Intercept": "normal(0, 3)", "b": "normal(0, 1)", "sd": "half_normal(1)"}
CASES = {
    "gaussian": ("level | trunc(lb = 0) ~ x + (1 | g)", {"sigma": "half_normal(2)"}),
    "poisson": ("n | trunc(ub = 12) ~ x + (1 | g)", {}),
    "lognormal": ("time | trunc(lb = entry) ~ x + (1 | g)", {"sigma": "half_normal(1)"}),
    "gaussian both": ("level | trunc(0, 6) ~ x + (1 | g)", {"sigma": "half_normal(2)"}),
}


@functools.cache
def compiled(case: str) -> hm.Model:
    formula, aux = CASES[case]
    return hm.Model(formula, frame(), family=case.split()[0], priors=PRIORS | aux, centered=False)


def _poisson_log_cdf(k: float, rate: pt.TensorVariable) -> pt.TensorVariable:
    """log P(Y <= k) = log Q(k + 1, rate), the regularised upper incomplete gamma."""
    return pt.log(pt.gammaincc(k + 1.0, rate))


def hand(case: str) -> pm.Model:
    d = frame()
    with pm.Model(coords={"obs": np.arange(len(d)), "coef": ["x"], "g": list(GROUPS)}) as model:
        eta = random_intercept_eta(d, intercept_sd=3.0, sd_g=1.0)
        if case.startswith("gaussian"):
            sigma = pm.HalfNormal("sigma", 2.0)
            y = d["level"].to_numpy()
            z = (y - eta) / sigma
            density = -0.5 * z**2 - pt.log(sigma) - 0.5 * np.log(2.0 * np.pi)
            if case == "gaussian":  # log P(Y > 0) = log Phi(mu / sigma)
                mass = _normal_lcdf(eta / sigma)
            else:  # log(Phi((6 - mu) / sigma) - Phi(-mu / sigma))
                upper, lower = _normal_lcdf((6.0 - eta) / sigma), _normal_lcdf(-eta / sigma)
                mass = upper + pt.log(-pt.expm1(lower - upper))
        elif case == "poisson":
            k, rate = d["n"].to_numpy(), pt.exp(eta)
            density = k * eta - rate - pt.gammaln(k + 1.0)
            mass = _poisson_log_cdf(12.0, rate)
        else:
            sigma = pm.HalfNormal("sigma", 1.0)
            t, entry = d["time"].to_numpy(), d["entry"].to_numpy()
            z = (np.log(t) - eta) / sigma
            density = -0.5 * z**2 - pt.log(sigma) - 0.5 * np.log(2.0 * np.pi) - np.log(t)
            mass = _normal_lcdf(-(np.log(entry) - eta) / sigma)  # log P(Y > entry)
        pm.Potential("loglik", (density - mass).sum())
    return model


@pytest.mark.parametrize("case", list(CASES))
def test_same_model_as_truncated_likelihood_by_hand(case: str) -> None:
    model = compiled(case)
    assert model.ir.likelihood.truncated is not None
    assert_same_model(model.pymc, hand(case), n_points=3, rtol=1e-6)


REFUSED = [
    ("level | trunc() ~ x", "gaussian", FormulaError, "needs a bound"),
    ("level | trunc(lb = 5, ub = 1) ~ x", "gaussian", FormulaError, r"lb \(5\) must be below ub \(1\)"),
    ("level | trunc(lb = 2 * x) ~ x", "gaussian", FormulaError, "numbers or column names"),
    ("level | trunc(lb = 1) ~ x", "gaussian", DataError, "rows are below lb"),
    ("n | trunc(ub = 5) ~ x", "poisson", DataError, "rows are above ub"),
    ("level | trunc(lb = zz) ~ x", "gaussian", DataError, "unknown column 'zz'"),
    ("level | trunc(lb = 0) ~ x", "skew_normal", FamilyError, "not supported with the skew_normal"),
    ("n | trunc(ub = 20) ~ x", "hurdle_poisson", FamilyError, "not supported with the hurdle_poisson"),
    # with weights(): trunc()'s own refusal, not cens()'s (the coded likelihood it takes)
    ("level | trunc(lb = 0) + weights(w) ~ x", "skew_normal", FamilyError, r"^trunc\(\) is not supported with the skew_normal"),
]  # fmt: skip


@pytest.mark.parametrize(("formula", "family", "error", "message"), REFUSED)
def test_what_truncation_refuses(formula, family, error, message) -> None:
    d = frame().assign(c=0, w=1.0)
    with pytest.raises(error, match=message):
        hm.Model(formula, d, family=family)


def test_no_reduction_of_truncated_rows() -> None:
    d = frame()
    with pytest.raises(hm.HiermodError, match="trunc"):
        hm.Model("level | trunc(lb = 0) ~ x + (1 | g)", d, suffstats=True)


@pytest.mark.parametrize("case", ["gaussian both", "lognormal", "poisson"])
def test_source_runs_and_draws_stay_within_the_bounds(case: str) -> None:
    from test_families import _fake_fit

    model = compiled(case)
    source = model.source()
    assert "pm.Truncated(" in source
    standalone = load_module(source).build_model(frame())
    point = model.pymc.initial_point()
    ours = model.pymc.compile_logp(mode="FAST_COMPILE")(point)
    assert standalone.compile_logp(mode="FAST_COMPILE")(point) == pytest.approx(ours, rel=1e-12)
    fit = _fake_fit(model, seed=3)
    new = frame().head(40)
    draws = model.predict(fit, data=new, kind="response", random_seed=1).values
    assert draws.shape == (1, 2, 40)
    if case == "gaussian both":
        assert (draws >= 0).all() and (draws <= 6).all()  # noqa: PT018
    elif case == "lognormal":
        assert (draws >= new["entry"].to_numpy()).all()
    else:
        assert (draws <= 12).all()
    mean = model.predict(fit, data=new, kind="mean").values  # tests/test_truncated_mean.py
    assert np.isfinite(mean).all()
    assert np.isfinite(model.predict(fit, data=new, kind="linear").values).all()
    if case == "lognormal":
        with pytest.raises(DataError, match="trunc\\(\\) bound columns"):
            model.predict(fit, data=new.drop(columns=["entry"]), kind="response")
