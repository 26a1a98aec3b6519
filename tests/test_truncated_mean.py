"""``predict(kind="mean")`` of a ``trunc()`` response: E[y | lb <= y <= ub]
(:mod:`hiermod.inference.truncated_mean`).

The rule against scipy: the normal closed form against ``truncnorm``, the count sums against
direct sums of scipy's pmf, the quadrature against ``scipy.integrate.quad``; then the predicted
mean of fitted models against the average of many predictive draws of one row.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest
import scipy.stats as st
from pymc.pytensorf import compile as compile_pymc
from scipy import integrate
from test_families import _fake_fit
from test_truncation import compiled, frame

import hiermod as hm
from hiermod.inference.truncated_mean import truncated_mean

INF = np.inf


def _mean(rv, centre, lower, upper) -> np.ndarray:
    """truncated_mean with ``rv``'s parameters as PyMC holds them (e.g. the gamma's scale)."""
    params = compile_pymc([], list(rv.owner.op.dist_params(rv.owner)))()
    return truncated_mean(rv, [np.asarray(p, dtype=float) for p in params], centre, lower, upper)


def test_normal_closed_form_equals_truncnorm() -> None:
    grid = [(m, s, lo, hi) for m in (-3.0, 0.0, 0.7, 4.0) for s in (0.3, 1.0, 2.5)
            for lo, hi in ((0.0, INF), (-INF, 1.0), (-1.0, 2.0), (5.0, 9.0), (-8.0, -6.0))]  # fmt: skip
    mu, sigma, lo, hi = (np.array(column) for column in zip(*grid, strict=True))
    got = truncated_mean(pm.Normal.dist(mu, sigma), [mu, sigma], mu, lo, hi)
    expected = st.truncnorm((lo - mu) / sigma, (hi - mu) / sigma, loc=mu, scale=sigma).mean()
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)
    assert truncated_mean(pm.Normal.dist(0.0, 1.0), [np.zeros(1), np.ones(1)], np.zeros(1),
                          0.0, None) == pytest.approx(np.sqrt(2 / np.pi), rel=1e-12)  # fmt: skip


def _direct(pmf, lo: float, hi: float) -> float:
    k = np.arange(max(lo, 0), min(hi, 5000) + 1)
    p = pmf(k)
    return float((k * p).sum() / p.sum())


def test_count_sums_equal_direct_sums() -> None:
    rate = np.array([0.2, 3.0, 3.0, 40.0, 400.0, 12.0])
    lo = np.array([1.0, 1.0, -INF, 30.0, -INF, 0.0])
    hi = np.array([INF, INF, 4.0, INF, 380.0, 12.0])
    got = _mean(pm.Poisson.dist(rate), rate, lo, hi)
    expected = [_direct(st.poisson(r).pmf, a, b) for r, a, b in zip(rate, lo, hi, strict=True)]
    np.testing.assert_allclose(got, expected, rtol=1e-8)
    assert got[1] == pytest.approx(3.0 / (1.0 - np.exp(-3.0)), rel=1e-12)  # the docstring's
    mu, alpha = np.array([2.0, 30.0, 5.0]), np.array([0.5, 3.0, 1.0])
    lo, hi = np.array([1.0, 10.0, -INF]), np.array([INF, 60.0, 3.0])
    got = _mean(pm.NegativeBinomial.dist(mu=mu, alpha=alpha), mu, lo, hi)
    scipy_nb = [st.nbinom(a, a / (a + m)).pmf for m, a in zip(mu, alpha, strict=True)]
    expected = [_direct(f, a, b) for f, a, b in zip(scipy_nb, lo, hi, strict=True)]
    np.testing.assert_allclose(got, expected, rtol=1e-8)
    n, p = np.array([10, 30]), np.array([0.3, 0.9])
    got = _mean(pm.Binomial.dist(n=n, p=p), n * p, np.array([2.0, -INF]), np.array([INF, 25.0]))
    expected = [_direct(st.binom(10, 0.3).pmf, 2, 10), _direct(st.binom(30, 0.9).pmf, 0, 25)]
    np.testing.assert_allclose(got, expected, rtol=1e-8)


QUADRATURE = {  # a distribution and its untruncated mean
    "gamma": (lambda: pm.Gamma.dist(alpha=2.0, beta=0.5), 4.0),
    "gamma small shape": (lambda: pm.Gamma.dist(alpha=0.5, beta=1.0), 0.5),
    "lognormal": (lambda: pm.LogNormal.dist(1.0, 0.8), np.e**1.32),
    "weibull": (lambda: pm.Weibull.dist(alpha=1.5, beta=2.0), 1.8),
    "student_t": (lambda: pm.StudentT.dist(nu=4.0, mu=1.0, sigma=2.0), 1.0),
    "beta": (lambda: pm.Beta.dist(2.0, 5.0), 2.0 / 7.0),
    "wald": (lambda: pm.Wald.dist(mu=2.0, lam=3.0), 2.0),
}
RANGES = [(0.1, INF), (1.0, 8.0), (0.0, 1.0), (3.0, INF), (0.5, 0.6)]


@pytest.mark.parametrize("case", list(QUADRATURE))
def test_quadrature_equals_scipy_quad(case: str) -> None:
    """The quadrature against scipy's adaptive ``quad`` of PyMC's own density (scipy's densities
    differ from PyMC's in the 9th digit for some families, e.g. the Weibull)."""
    make, centre = QUADRATURE[case]
    ranges = [(lo, min(hi, 1.0)) for lo, hi in RANGES if lo < 1.0] if case == "beta" else RANGES
    if case == "student_t":
        ranges = [*ranges, (-INF, -1.0), (-INF, 4.0)]
    lo, hi = (np.array(column) for column in zip(*ranges, strict=True))
    rv = make()
    got = _mean(rv, np.full(lo.shape, centre), lo, hi)
    value = pt.dscalar()
    density = compile_pymc([value], pt.exp(pm.logp(rv, value)))

    def expected(a: float, b: float) -> float:
        def moment(power: int) -> float:
            return integrate.quad(lambda y: y**power * float(density(y)), a, b, epsabs=1e-14,
                                  epsrel=1e-12, limit=200)[0]  # fmt: skip

        return moment(1) / moment(0)

    np.testing.assert_allclose(got, [expected(a, b) for a, b in ranges], rtol=1e-8)


@pytest.mark.parametrize("case", ["gaussian", "gaussian both", "poisson", "lognormal"])
def test_predicted_mean_is_the_truncated_expectation(case: str) -> None:
    """kind='mean' of a fitted model: the closed form of its parameters (gaussian), and the
    average of many kind='response' draws of one row, within Monte-Carlo error."""
    model = compiled(case)
    fit = _fake_fit(model, seed=3)
    new = frame().iloc[[4, 9]]
    mean = model.predict(fit, data=new, kind="mean").values
    assert mean.shape == (1, 2, 2)
    if case.startswith("gaussian"):
        p = hm.model.distributional_parameters(model, fit, data=new)
        mu, sigma = p["mu"].values, p["sigma"].values
        upper = 6.0 if case == "gaussian both" else INF
        expected = st.truncnorm(-mu / sigma, (upper - mu) / sigma, loc=mu, scale=sigma).mean()
        np.testing.assert_allclose(mean, expected, rtol=1e-8)
    many = new.iloc[np.repeat([0, 1], 4000)]
    draws = model.predict(fit, data=many, kind="response", random_seed=5).values
    draws = draws.reshape(1, 2, 2, 4000)
    error = draws.std(axis=-1) / np.sqrt(4000)
    assert (np.abs(draws.mean(axis=-1) - mean) < 4.5 * error).all()
