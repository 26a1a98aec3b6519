"""``cens()`` with ``trunc()``: each row's censored log-probability minus log P(lb <= y <= ub),
as brms's Stan code (``stan_log_lik_cens`` with ``stan_log_lik_trunc``: for a count the lower
bound is inclusive, F(lb - 1)).

The compiled models against hand-written PyMC models (the closed forms of
:mod:`test_censored_counts` and :mod:`test_censoring`), same logp and gradient at random points;
then the exported source.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import pytest
from support import assert_same_model, random_intercept_eta
from test_censored_counts import CODES, PRIORS, _terms
from test_censored_counts import frame as counts
from test_censoring import GROUPS, _weibull_by_code, intervals

import hiermod as hm
from hiermod.output.module import load_module


@functools.cache
def frame(case: str) -> pd.DataFrame:
    if case == "weibull":  # a delayed entry: each time known to lie above half its lower value
        return intervals().assign(entry=intervals()["t"] / 2)
    return counts().assign(lo=np.minimum(counts()["c"], 1))  # lb 1 where the count allows it


CASES = {
    "poisson": ("c | cens(kind, c2) + trunc(ub = 12) ~ x + (1 | g)", {}),
    "negativebinomial": ("c | cens(kind, c2) + trunc(lb = lo) ~ x + (1 | g)", {"alpha": "gamma(2, 1)"}),
    "geometric": ("c | cens(kind, c2) + trunc(lb = lo, ub = 12) ~ x + (1 | g)", {}),
    "weibull": ("t | cens(kind, t2) + trunc(lb = entry) ~ x + (1 | g)", {"shape": "gamma(2, 1)"}),
}  # fmt: skip


@functools.cache
def compiled(case: str) -> hm.Model:
    formula, aux = CASES[case]
    return hm.Model(formula, frame(case), family=case, priors=PRIORS | aux, centered=False)


def _count_loglik(case: str, d: pd.DataFrame, eta, alpha) -> pt.TensorVariable:
    logpmf, logcdf, logccdf = _terms(case, eta, alpha)
    code = d["kind"].map(CODES).to_numpy()
    k, k2 = d["c"].to_numpy(dtype=float), d["c2"].to_numpy(dtype=float)
    rows = {c: np.flatnonzero(code == c) for c in CODES.values()}
    upper, lower = logcdf(k2[rows[2]], rows[2]), logcdf(k[rows[2]], rows[2])
    total = (
        logpmf(k[rows[0]], rows[0]).sum()
        + logccdf(k[rows[1]], rows[1]).sum()
        + logcdf(k[rows[-1]], rows[-1]).sum()
        + (upper + pt.log(-pt.expm1(lower - upper))).sum()
    )
    every = np.arange(len(d))
    if case == "poisson":  # ub 12: log F(12)
        return total - logcdf(np.full(len(d), 12.0), every).sum()
    above = np.flatnonzero(d["lo"].to_numpy() == 1)  # lb 1: log P(y >= 1) = log(1 - F(0))
    if case == "negativebinomial":  # (lb 0 rows: P(y >= 0) = 1)
        return total - logccdf(np.zeros(len(above)), above).sum()
    # lb and ub 12: log(F(12) - F(lb - 1)), F(-1) = 0 where lb is 0
    log_ub = logcdf(np.full(len(d), 12.0), every)
    log_lb = pt.set_subtensor(pt.full(len(d), -np.inf)[above], logcdf(np.zeros(len(above)), above))
    return total - (log_ub + pt.log(-pt.expm1(log_lb - log_ub))).sum()


def hand(case: str) -> pm.Model:
    d = frame(case)
    with pm.Model(coords={"obs": np.arange(len(d)), "coef": ["x"], "g": list(GROUPS)}) as model:
        eta = random_intercept_eta(d, intercept_sd=3.0, sd_g=1.0)
        if case == "weibull":
            shape = pm.Gamma("shape", 2.0, 1.0)
            code = d["kind"].map(CODES).to_numpy()
            t = d["t"].to_numpy()
            t2 = np.where(code == 2, d["t2"].to_numpy(), t + 1)
            mu = pt.exp(eta)
            scale = mu / pt.exp(pt.gammaln(1.0 + 1.0 / shape))
            survival = -((d["entry"].to_numpy() / scale) ** shape)  # log P(y > entry)
            loglik = (_weibull_by_code(t, t2, mu, shape, code) - survival).sum()
        else:
            alpha = pm.Gamma("alpha", 2.0, 1.0) if case == "negativebinomial" else None
            loglik = _count_loglik(case, d, eta, alpha)
        pm.Potential("loglik", loglik)
    return model


@pytest.mark.parametrize("case", list(CASES))
def test_same_model_as_censored_truncated_likelihood_by_hand(case: str) -> None:
    model = compiled(case)
    lik = model.ir.likelihood
    assert lik.censoring is not None
    assert lik.truncated is not None
    # geometric (both bounds, F(lb - 1) = F(-1) = 0 on the lb-0 rows): logp equal to 1e-8, the
    # gradient to 3e-6 relative only (3e-7 absolute on small entries); not pinned down yet
    # whether PyMC's negative binomial CDF or this closed form loses the digits
    rtol = 1e-5 if case == "geometric" else 1e-8
    assert_same_model(model.pymc, hand(case), n_points=3, rtol=rtol)


@pytest.mark.parametrize("case", ["geometric", "weibull"])
def test_censored_truncated_source_runs(case: str) -> None:
    model = compiled(case)
    source = model.source()
    assert "def censored_logp(value, " in source
    assert "trunc(): each row's term divided by the probability of its range" in source
    standalone = load_module(source).build_model(frame(case))
    point = model.pymc.initial_point()
    ours = model.pymc.compile_logp(mode="FAST_COMPILE")(point)
    assert standalone.compile_logp(mode="FAST_COMPILE")(point) == pytest.approx(ours, rel=1e-12)


WEIGHTED = {  # trunc() with weights(), with and without cens(): (formula, family, frame case)
    "poisson": ("c | trunc(ub = 12) + weights(w) ~ x + (1 | g)", "poisson", "poisson"),
    "geometric": ("c | cens(kind, c2) + trunc(lb = lo, ub = 12) + weights(w) ~ x + (1 | g)", "geometric", "geometric"),
    "weibull": ("t | cens(kind, t2) + trunc(lb = entry) + weights(w) ~ x + (1 | g)", "weibull", "weibull"),
    "lognormal": ("t | trunc(lb = entry) + weights(w) ~ x + (1 | g)", "lognormal", "weibull"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(WEIGHTED))
def test_weights_multiply_each_rows_truncated_log_likelihood(case: str) -> None:
    """brms: each row's truncated (and censored) log-likelihood times its weight. The weighted
    model equals the unweighted one (checked by hand above and in test_truncation) plus
    sum((w - 1) * row term) at random points."""
    formula, family, data = WEIGHTED[case]
    d = frame(data).assign(w=np.random.default_rng(5).uniform(0.2, 3.0, len(frame(data))))
    aux = {"shape": "gamma(2, 1)"} if family == "weibull" else {}
    options = {"family": family, "priors": PRIORS | aux, "centered": False}
    weighted = hm.Model(formula, d, **options)
    assert (
        weighted.ir.likelihood.censoring is not None
    )  # the coded form: pm.Truncated has no weights
    plain = hm.Model(formula.replace(" + weights(w)", ""), d, **options).pymc
    rv = plain[formula.split(" |")[0]]
    with plain:
        rows = pm.logp(rv, plain.rvs_to_values[rv])
        pm.Potential("weights_minus_one", pt.sum((d["w"].to_numpy() - 1.0) * rows))
    rtol = 1e-5 if case == "geometric" else 1e-8  # (see the geometric note above)
    assert_same_model(weighted.pymc, plain, n_points=3, rtol=rtol)
    standalone = load_module(weighted.source()).build_model(d)  # the exported source: same logp
    point = weighted.pymc.initial_point()
    ours = weighted.pymc.compile_logp(mode="FAST_COMPILE")(point)
    assert standalone.compile_logp(mode="FAST_COMPILE")(point) == pytest.approx(ours, rel=1e-12)
