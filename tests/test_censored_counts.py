"""Censored counts, ``c | cens(k, c2) ~ …`` with poisson, negbinomial, binomial and geometric.

brms's Stan code adds ``*_lccdf(y)`` for a right-censored row, ``*_lcdf(y)`` for a left-censored
one and ``log_diff_exp(*_lcdf(y2), *_lcdf(y))`` for an interval; for a count Stan's CDF is
F(y) = P(Y <= y), so the terms are P(Y > y) = 1 - F(y), P(Y <= y) and P(y < Y <= y2). The
compiled models against hand-written PyMC models over closed forms of the CDFs (regularised
incomplete gamma and beta functions), each term on its own rows (same logp and gradient at random
points); then the response checks and the exported source.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import pytest
from scipy import special, stats
from support import assert_same_model, random_intercept_eta
from test_censoring import GROUPS

import hiermod as hm
from hiermod.errors import DataError
from hiermod.output.module import load_module

N_ROWS, TRIALS = 140, 12
CODES = {"none": 0, "right": 1, "left": -1, "interval": 2}


@functools.cache
def frame() -> pd.DataFrame:
    """Counts seen exactly, at least (right), at most (left) or between c (exclusive) and c2."""
    rng = np.random.default_rng(8)
    g = rng.integers(0, len(GROUPS), N_ROWS)
    x = rng.normal(size=N_ROWS)
    c = np.minimum(rng.poisson(np.exp(1.2 + 0.3 * x)), TRIALS - 3)
    kind = rng.choice(list(CODES), N_ROWS, p=[0.4, 0.2, 0.15, 0.25])
    c2 = np.where(kind == "interval", c + rng.integers(1, 3, N_ROWS), 0)
    return pd.DataFrame(
        {"g": np.array(GROUPS)[g], "x": x, "c": c, "c2": c2, "kind": kind, "tr": TRIALS,
         "right": (kind == "right").astype(int)}
    )  # fmt: skip


PRIORS = {"Intercept": "normal(0, 3)", "b": "normal(0, 1)", "sd": "half_normal(1)"}
CASES = {
    "poisson": ("c | cens(kind, c2) ~ x + (1 | g)", {}),
    "negativebinomial": ("c | cens(kind, c2) ~ x + (1 | g)", {"alpha": "gamma(2, 1)"}),
    "binomial": ("c | trials(tr) + cens(kind, c2) ~ x + (1 | g)", {}),
    "geometric": ("c | cens(kind, c2) ~ x + (1 | g)", {}),
    "poisson right": ("c | cens(right) ~ x + (1 | g)", {}),  # no intervals: still P(Y > y)
}


@functools.cache
def compiled(case: str) -> hm.Model:
    formula, aux = CASES[case]
    family = case.split()[0]
    return hm.Model(formula, frame(), family=family, priors=PRIORS | aux, centered=False)


def _terms(family: str, eta: pt.TensorVariable, alpha: pt.TensorVariable | None):
    """(log pmf(k), log F(k), log (1 - F(k))) of each family as functions of k and the rows."""
    if family == "poisson":
        rate = pt.exp(eta)
        return (
            lambda k, i: k * eta[i] - rate[i] - pt.gammaln(k + 1.0),
            lambda k, i: pt.log(pt.gammaincc(k + 1.0, rate[i])),  # P(Y <= k) = Q(k + 1, rate)
            # log(1 - F(k)) as PyMC has it for the Poisson and the binomial, log1mexp(log F(k)):
            # it loses digits far in the tail (Poisson(0.01) above 4: -27.82164 for -27.82168;
            # the gradient more), where log P(k + 1, rate) would not
            lambda k, i: pt.log1mexp(pt.log(pt.gammaincc(k + 1.0, rate[i]))),
        )
    if family == "binomial":
        n, p = float(TRIALS), pt.sigmoid(eta)
        log_p, log_q = pt.log(p), pt.log(1.0 - p)  # as PyMC's Binomial(logit_p=eta)
        return (
            # (log n! from scipy: PyTensor would make the constant 13.0 a float32)
            lambda k, i: special.gammaln(n + 1.0) - pt.gammaln(k + 1.0) - pt.gammaln(n - k + 1.0)
            + k * log_p[i] + (n - k) * log_q[i],
            lambda k, i: pt.log(pt.betainc(n - k, k + 1.0, 1.0 - p[i])),  # k < n
            lambda k, i: pt.log1mexp(pt.log(pt.betainc(n - k, k + 1.0, 1.0 - p[i]))),  # as above
        )  # fmt: skip
    a = 1.0 if alpha is None else alpha  # the geometric: a negative binomial of shape 1
    mu = pt.exp(eta)
    p = a / (a + mu)
    return (
        lambda k, i: pt.gammaln(k + a) - pt.gammaln(a) - pt.gammaln(k + 1.0)
        + a * pt.log(p[i]) + k * pt.log1p(-p[i]),
        lambda k, i: pt.log(pt.betainc(a, k + 1.0, p[i])),
        lambda k, i: pt.log(pt.betainc(k + 1.0, a, 1.0 - p[i])),
    )  # fmt: skip


def hand(case: str) -> pm.Model:
    d = frame()
    family = case.split()[0]
    code = d["kind"].map(CODES).to_numpy()
    if case.endswith("right"):
        code = np.where(code == 1, 1, 0)
    k, k2 = d["c"].to_numpy(dtype=float), d["c2"].to_numpy(dtype=float)
    with pm.Model(coords={"obs": np.arange(len(d)), "coef": ["x"], "g": list(GROUPS)}) as model:
        eta = random_intercept_eta(d, intercept_sd=3.0, sd_g=1.0)
        alpha = pm.Gamma("alpha", 2.0, 1.0) if family == "negativebinomial" else None
        logpmf, logcdf, logccdf = _terms(family, eta, alpha)
        rows = {c: np.flatnonzero(code == c) for c in CODES.values()}
        upper, lower = logcdf(k2[rows[2]], rows[2]), logcdf(k[rows[2]], rows[2])
        total = (
            logpmf(k[rows[0]], rows[0]).sum()
            + logccdf(k[rows[1]], rows[1]).sum()  # P(Y > k): brms's lccdf
            + logcdf(k[rows[-1]], rows[-1]).sum()  # P(Y <= k)
            + (upper + pt.log(-pt.expm1(lower - upper))).sum()  # P(k < Y <= k2)
        )
        pm.Potential("loglik", total)
    return model


@pytest.mark.parametrize("case", list(CASES))
def test_same_model_as_censored_count_likelihood_by_hand(case: str) -> None:
    model = compiled(case)
    assert model.ir.likelihood.censored is None  # never pm.Censored: that is P(Y >= k)
    assert model.ir.likelihood.censoring is not None
    assert_same_model(model.pymc, hand(case), n_points=3, rtol=1e-8)


def test_right_censored_count_is_one_minus_the_cdf_at_the_value() -> None:
    """The worked example of plan/censoring.py: Poisson(2) right-censored at 3 adds
    log(1 - F(3)), brms's, not pm.Censored's log(1 - F(2))."""
    d = pd.DataFrame({"c": [3], "right": [1]})
    priors = {"Intercept": "normal(0, 1)"}
    model = hm.Model("c | cens(right) ~ 1", d, family="poisson", priors=priors)
    point = {"Intercept": np.log(2.0)}
    prior = stats.norm(0, 1).logpdf(np.log(2.0))
    got = model.pymc.compile_logp(mode="FAST_COMPILE")(point) - prior
    assert got == pytest.approx(np.log(stats.poisson(2.0).sf(3)), rel=1e-10)
    assert np.exp(got) == pytest.approx(0.1429, abs=1e-4)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"c2": [5, 1, 0]}, r"needs y2 \(c2\) above its response.*response 3, c2 1"),
        ({"c2": [5, 4.5, 0]}, r"y2 \(c2\) must be a whole number.*\(e\.g\. 4\.5\)"),
    ],
)
def test_interval_bounds_are_checked_with_the_column_named(change: dict, message: str) -> None:
    d = pd.DataFrame({"c": [2, 3, 1], "kind": ["interval", "interval", "none"]} | change)
    with pytest.raises(DataError, match=message):
        hm.Model("c | cens(kind, c2) ~ 1", d, family="poisson")


@pytest.mark.parametrize("case", ["negativebinomial", "binomial"])
def test_censored_count_source_runs_and_predicts(case: str) -> None:
    from test_families import _fake_fit

    model = compiled(case)
    source = model.source()
    assert "logp=censored_logp" in source
    assert "2 P(value < y <= y2)" in source  # the comment says the count's CDF
    standalone = load_module(source).build_model(frame())
    point = model.pymc.initial_point()
    ours = model.pymc.compile_logp(mode="FAST_COMPILE")(point)
    assert standalone.compile_logp(mode="FAST_COMPILE")(point) == pytest.approx(ours, rel=1e-12)
    fit = _fake_fit(model, seed=2)
    new = frame().drop(columns=["kind", "c", "c2", "right"]).head(5)
    draws = model.predict(fit, data=new, kind="response", random_seed=1).values
    assert draws.shape == (1, 2, 5)
    assert (draws >= 0).all()
    assert (draws == np.round(draws)).all()
