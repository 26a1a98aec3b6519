"""Checks of the brms family oracles in ``tests/family_oracles.py`` (numpy/scipy only, no PyMC).

Each oracle is checked (1) against scipy.stats, with the parameter map to scipy written here again
from brms's definitions (for mixtures: the scipy pmf/pdf combined in probability space), (2) for
normalisation (a sum over the support, or quad plus the point masses), (3) for its mean against
``EXPECTATIONS`` (brms's posterior_epred), and the ordinal and categorical families (4) against
direct, non-log transcriptions of the brms_families vignette's formulas.
"""

from __future__ import annotations

import warnings

import family_oracles as fo
import numpy as np
import pytest
from family_oracles import EXPECTATIONS, ORACLES
from scipy import integrate, special, stats

# ------------------------------------------------------------------ case tables

CONTINUOUS: dict[str, list[dict[str, float]]] = {
    "gaussian": [{"mu": 0.3, "sigma": 1.2}],
    "student": [{"mu": 0.5, "sigma": 1.5, "nu": 3.0}, {"mu": -1.0, "sigma": 0.7, "nu": 10.0}],
    "skew_normal": [
        {"mu": 0.0, "sigma": 1.0, "alpha": 0.0},
        {"mu": 1.5, "sigma": 2.0, "alpha": 4.0},
        {"mu": -0.5, "sigma": 0.5, "alpha": -2.5},
    ],
    "exgaussian": [
        {"mu": 1.0, "sigma": 0.5, "beta": 0.8},
        {"mu": 3.0, "sigma": 1.0, "beta": 0.2},
        {"mu": 0.5, "sigma": 0.2, "beta": 2.0},
    ],
    "lognormal": [{"mu": 0.2, "sigma": 0.5}, {"mu": 1.0, "sigma": 1.0}],
    "shifted_lognormal": [
        {"mu": -0.5, "sigma": 0.6, "ndt": 0.3},
        {"mu": 0.5, "sigma": 1.0, "ndt": 2},
    ],
    "asym_laplace": [
        {"mu": 0.0, "sigma": 1.0, "quantile": 0.5},
        {"mu": 1.0, "sigma": 0.5, "quantile": 0.1},
        {"mu": -2.0, "sigma": 2.0, "quantile": 0.9},
    ],
    "wald": [{"mu": 1.0, "shape": 2.0}, {"mu": 3.0, "shape": 0.8}],
    "inverse.gaussian": [{"mu": 0.5, "shape": 5.0}],
    "von_mises": [
        {"mu": 0.0, "kappa": 2.0},
        {"mu": 1.0, "kappa": 0.5},
        {"mu": -2.5, "kappa": 8.0},
    ],
    "exponential": [{"mu": 2.0}, {"mu": 0.3}],
    "gamma": [{"mu": 2.0, "shape": 1.7}, {"mu": 0.5, "shape": 5.0}],
    "weibull": [{"mu": 2.0, "shape": 1.3}, {"mu": 1.0, "shape": 3.0}],
    "frechet": [{"mu": 2.0, "nu": 3.0}, {"mu": 5.0, "nu": 6.0}],
    "gen_extreme_value": [
        {"mu": 0.0, "sigma": 1.0, "xi": 0.0},
        {"mu": 1.0, "sigma": 2.0, "xi": 0.3},
        {"mu": -1.0, "sigma": 0.5, "xi": -0.4},
        {"mu": 0.5, "sigma": 1.0, "xi": 1e-9},
    ],
    "beta": [{"mu": 0.3, "phi": 5.0}, {"mu": 0.7, "phi": 3.0}, {"mu": 0.5, "phi": 20.0}],
    "hurdle_gamma": [{"mu": 2.0, "shape": 1.5, "hu": 0.3}, {"mu": 0.7, "shape": 4.0, "hu": 0.05}],
    "hurdle_lognormal": [{"mu": 0.5, "sigma": 0.7, "hu": 0.2}],
    "zero_inflated_beta": [{"mu": 0.4, "phi": 6.0, "zi": 0.25}],
    "zero_one_inflated_beta": [
        {"mu": 0.6, "phi": 4.0, "zoi": 0.3, "coi": 0.4},
        {"mu": 0.2, "phi": 12.0, "zoi": 0.05, "coi": 0.9},
    ],
}

DISCRETE: dict[str, list[dict[str, float]]] = {
    "poisson": [{"mu": 3.5}, {"mu": 0.2}],
    "bernoulli": [{"mu": 0.3}],
    "binomial": [{"mu": 0.35, "trials": 12}],
    "beta_binomial": [{"mu": 0.35, "phi": 4.0, "trials": 12}, {"mu": 0.8, "phi": 0.7, "trials": 5}],
    "negbinomial": [{"mu": 4.0, "shape": 2.5}, {"mu": 20.0, "shape": 0.5}],
    "geometric": [{"mu": 2.5}, {"mu": 0.4}],
    "zero_inflated_poisson": [{"mu": 3.0, "zi": 0.3}, {"mu": 0.5, "zi": 0.05}],
    "zero_inflated_negbinomial": [{"mu": 5.0, "shape": 1.5, "zi": 0.2}],
    "zero_inflated_binomial": [{"mu": 0.4, "zi": 0.25, "trials": 10}],
    "zero_inflated_beta_binomial": [{"mu": 0.4, "phi": 3.0, "zi": 0.25, "trials": 10}],
    "hurdle_poisson": [{"mu": 3.0, "hu": 0.4}, {"mu": 0.05, "hu": 0.1}],
    "hurdle_negbinomial": [
        {"mu": 4.0, "shape": 1.2, "hu": 0.3},
        {"mu": 0.3, "shape": 50.0, "hu": 0.6},
    ],
}

ALL = {**CONTINUOUS, **DISCRETE}
CASES = [pytest.param(f, d, id=f"{f}-{i}") for f, ds in ALL.items() for i, d in enumerate(ds)]
CONT_CASES = [p for p in CASES if p.values[0] in CONTINUOUS]
DISC_CASES = [p for p in CASES if p.values[0] in DISCRETE]

REQUESTED = [
    "skew_normal", "exgaussian", "shifted_lognormal", "asym_laplace", "wald", "von_mises",
    "beta_binomial", "geometric", "zero_inflated_poisson", "zero_inflated_negbinomial",
    "zero_inflated_binomial", "zero_inflated_beta_binomial", "hurdle_poisson",
    "hurdle_negbinomial", "hurdle_gamma", "hurdle_lognormal", "zero_inflated_beta",
    "zero_one_inflated_beta", "negbinomial", "gamma", "weibull", "frechet", "gen_extreme_value",
    "exponential", "lognormal", "beta", "student", "cumulative", "sratio", "cratio", "acat",
    "categorical",
]  # fmt: skip

TRIALS_FAMILIES = {f for f, ds in DISCRETE.items() if "trials" in ds[0]}
REAL_LINE = {"gaussian", "student", "skew_normal", "exgaussian", "asym_laplace"}
UNIT = {"beta", "zero_inflated_beta", "zero_one_inflated_beta"}


# ------------------------------------------------------------------ scipy references


def _log(p):
    return np.log(np.asarray(p, dtype=float))


def _sn_dp(mu, sigma, alpha):
    # brms_families vignette: omega = sigma / sqrt(1 - 2/pi alpha^2/(1+alpha^2)),
    # xi = mu - omega alpha / sqrt(1 + alpha^2) sqrt(2/pi)
    omega = sigma / np.sqrt(1 - 2 / np.pi * alpha**2 / (1 + alpha**2))
    return mu - omega * alpha / np.sqrt(1 + alpha**2) * np.sqrt(2 / np.pi), omega


def _nb(mu, shape):
    return stats.nbinom(shape, shape / (shape + mu))


def _bb(mu, phi, trials):
    return stats.betabinom(trials, mu * phi, (1 - mu) * phi)


def _hurdle_count(y, hu, dist):
    return _log(np.where(y == 0, hu, (1 - hu) * dist.pmf(y) / dist.sf(0)))


def _zi(y, zi, dist):
    return _log(np.where(y == 0, zi, 0.0) + (1 - zi) * dist.pmf(y))


SCIPY = {
    "gaussian": lambda y, mu, sigma: stats.norm.logpdf(y, mu, sigma),
    "student": lambda y, mu, sigma, nu: stats.t.logpdf(y, nu, mu, sigma),
    "skew_normal": lambda y, mu, sigma, alpha: stats.skewnorm.logpdf(
        y, alpha, *_sn_dp(mu, sigma, alpha)
    ),
    "exgaussian": lambda y, mu, sigma, beta: stats.exponnorm.logpdf(
        y, beta / sigma, mu - beta, sigma
    ),
    "lognormal": lambda y, mu, sigma: stats.lognorm.logpdf(y, sigma, scale=np.exp(mu)),
    "shifted_lognormal": lambda y, mu, sigma, ndt: stats.lognorm.logpdf(
        y, sigma, loc=ndt, scale=np.exp(mu)
    ),
    # scipy: density ∝ exp(-kappa x / s) above loc, exp(x / (kappa s)) below; matching brms's
    # exp(-q x / sigma), exp((1 - q) x / sigma) gives kappa = sqrt(q / (1 - q)), s = sigma / sqrt(q (1 - q))
    "asym_laplace": lambda y, mu, sigma, quantile: stats.laplace_asymmetric.logpdf(
        y,
        np.sqrt(quantile / (1 - quantile)),
        loc=mu,
        scale=sigma / np.sqrt(quantile * (1 - quantile)),
    ),
    "wald": lambda y, mu, shape: stats.invgauss.logpdf(y, mu / shape, scale=shape),
    "inverse.gaussian": lambda y, mu, shape: stats.invgauss.logpdf(y, mu / shape, scale=shape),
    "von_mises": lambda y, mu, kappa: stats.vonmises.logpdf(y, kappa, loc=mu),
    "exponential": lambda y, mu: stats.expon.logpdf(y, scale=mu),
    "gamma": lambda y, mu, shape: stats.gamma.logpdf(y, shape, scale=mu / shape),
    "weibull": lambda y, mu, shape: stats.weibull_min.logpdf(
        y, shape, scale=mu / special.gamma(1 + 1 / shape)
    ),
    "frechet": lambda y, mu, nu: stats.invweibull.logpdf(
        y, nu, scale=mu / special.gamma(1 - 1 / nu)
    ),
    "gen_extreme_value": lambda y, mu, sigma, xi: stats.genextreme.logpdf(y, -xi, mu, sigma),
    "beta": lambda y, mu, phi: stats.beta.logpdf(y, mu * phi, (1 - mu) * phi),
    "hurdle_gamma": lambda y, mu, shape, hu: _log(
        np.where(y == 0, hu, (1 - hu) * stats.gamma.pdf(y, shape, scale=mu / shape))
    ),
    "hurdle_lognormal": lambda y, mu, sigma, hu: _log(
        np.where(y == 0, hu, (1 - hu) * stats.lognorm.pdf(y, sigma, scale=np.exp(mu)))
    ),
    "zero_inflated_beta": lambda y, mu, phi, zi: _log(
        np.where(y == 0, zi, (1 - zi) * stats.beta.pdf(y, mu * phi, (1 - mu) * phi))
    ),
    "zero_one_inflated_beta": lambda y, mu, phi, zoi, coi: _log(
        np.select(
            [y == 0, y == 1],
            [zoi * (1 - coi), zoi * coi],
            (1 - zoi) * stats.beta.pdf(y, mu * phi, (1 - mu) * phi),
        )
    ),
    "poisson": lambda y, mu: stats.poisson.logpmf(y, mu),
    "bernoulli": lambda y, mu: stats.bernoulli.logpmf(y, mu),
    "binomial": lambda y, mu, trials: stats.binom.logpmf(y, trials, mu),
    "beta_binomial": lambda y, mu, phi, trials: _bb(mu, phi, trials).logpmf(y),
    "negbinomial": lambda y, mu, shape: _nb(mu, shape).logpmf(y),
    # scipy's geom counts trials to the first success (1, 2, ...): shift by -1, p = 1 / (1 + mu)
    "geometric": lambda y, mu: stats.geom.logpmf(y, 1 / (1 + mu), loc=-1),
    "zero_inflated_poisson": lambda y, mu, zi: _zi(y, zi, stats.poisson(mu)),
    "zero_inflated_negbinomial": lambda y, mu, shape, zi: _zi(y, zi, _nb(mu, shape)),
    "zero_inflated_binomial": lambda y, mu, zi, trials: _zi(y, zi, stats.binom(trials, mu)),
    "zero_inflated_beta_binomial": lambda y, mu, phi, zi, trials: _zi(y, zi, _bb(mu, phi, trials)),
    "hurdle_poisson": lambda y, mu, hu: _hurdle_count(y, hu, stats.poisson(mu)),
    "hurdle_negbinomial": lambda y, mu, shape, hu: _hurdle_count(y, hu, _nb(mu, shape)),
}


def _support(family: str, d: dict[str, float]) -> tuple[float, float]:
    if family in REAL_LINE:
        return -np.inf, np.inf
    if family in UNIT:
        return 0.0, 1.0
    if family == "von_mises":
        return -np.pi, np.pi
    if family == "shifted_lognormal":
        return d["ndt"], np.inf
    if family == "gen_extreme_value":
        if abs(d["xi"]) < 1e-6:  # the Gumbel case (the bound at mu - sigma/xi is irrelevant)
            return -np.inf, np.inf
        edge = d["mu"] - d["sigma"] / d["xi"]
        return (edge, np.inf) if d["xi"] > 0 else (-np.inf, edge)
    return 0.0, np.inf


def _atoms(family: str) -> list[float]:
    """Point masses of the mixed continuous families."""
    if family in ("hurdle_gamma", "hurdle_lognormal", "zero_inflated_beta"):
        return [0.0]
    if family == "zero_one_inflated_beta":
        return [0.0, 1.0]
    return []


def _grid(family: str, d: dict[str, float]) -> np.ndarray:
    if family in DISCRETE:
        if family == "bernoulli":
            return np.array([0.0, 1.0])
        n = d.get("trials", 30)
        return np.arange(0.0, n + 1)
    lo, hi = _support(family, d)
    if family == "von_mises":
        y = np.linspace(-np.pi, np.pi, 41)
    elif family in UNIT:
        y = np.linspace(0.01, 0.99, 41)
    elif family == "gen_extreme_value":
        y = d["mu"] + d["sigma"] * np.linspace(-3.0, 8.0, 45)
        y = y[(y > lo + 1e-3) & (y < hi - 1e-3)]
    elif np.isinf(lo) and np.isinf(hi):
        y = np.linspace(-6.0, 6.0, 49) + d.get("mu", 0.0)
    elif family == "frechet":  # scipy's density underflows to 0 well below the mode
        y = d["mu"] * np.geomspace(0.2, 10.0, 40)
    elif np.isinf(hi):
        y = lo + np.geomspace(1e-2, 20.0, 40)
    else:
        y = hi - np.geomspace(1e-2, 20.0, 40)
    return np.concatenate([y, _atoms(family)])


def _density(family, d):
    f = ORACLES[family]
    return lambda y: float(np.exp(f(y, **d)))


def _quad(g, lo, hi, split):
    opts = {"epsabs": 1e-13, "epsrel": 1e-11, "limit": 400}
    return integrate.quad(g, lo, split, **opts)[0] + integrate.quad(g, split, hi, **opts)[0]


def _split(family, d):
    """An interior point near the bulk, to split the quad range at (for asym_laplace: the kink)."""
    lo, hi = _support(family, d)
    if family in ("von_mises", "asym_laplace"):
        return d["mu"]
    if family in UNIT:
        return d["mu"]
    m = float(EXPECTATIONS[family](**d)) if family != "gen_extreme_value" else d["mu"]
    if family.startswith("hurdle"):
        m /= 1 - d["hu"]
    return float(np.clip(m, lo + 1e-3 if np.isfinite(lo) else -np.inf, hi - 1e-3))


def _discrete_support(family, d):
    if family == "bernoulli":
        return np.array([0.0, 1.0])
    if "trials" in d:
        return np.arange(0.0, d["trials"] + 1)
    return np.arange(0.0, 4000.0)


# ------------------------------------------------------------------ (0) registries


def test_registries_cover_the_requested_families() -> None:
    assert set(REQUESTED) <= set(ORACLES)
    assert set(ORACLES) == set(EXPECTATIONS)
    assert set(ALL) | set(fo.ORDINAL_FAMILIES) | {"categorical"} == set(ORACLES)


# ------------------------------------------------------------------ (1) against scipy


@pytest.mark.parametrize(("family", "dpars"), CASES)
def test_matches_scipy(family: str, dpars: dict[str, float]) -> None:
    y = _grid(family, dpars)
    ref = SCIPY[family](y, **dpars)
    got = ORACLES[family](y, **dpars)
    assert got.shape == y.shape
    fin = np.isfinite(ref)
    assert fin.mean() > 0.8
    np.testing.assert_allclose(got[fin], ref[fin], rtol=1e-9, atol=1e-10)
    assert np.all(got[~fin] < -700)  # where scipy's density underflows to 0


@pytest.mark.parametrize("family", [f for f, ds in ALL.items() if len(ds) > 1])
def test_broadcasts_parameters(family: str) -> None:
    """Parameters of shape (m, 1) against y of shape (n,): row i is the scalar case i."""
    cases = ALL[family]
    y = _grid(family, cases[0])
    if family in TRIALS_FAMILIES:  # keep y within every case's trials
        y = y[y <= min(c["trials"] for c in cases)]
    stacked = {k: np.array([[c[k]] for c in cases]) for k in cases[0]}
    got = ORACLES[family](y, **stacked)
    assert got.shape == (len(cases), y.size)
    for i, c in enumerate(cases):
        np.testing.assert_array_equal(got[i], ORACLES[family](y, **c))


def _outside(family: str, d: dict[str, float]) -> list[float]:
    if family in DISCRETE:
        out = [-1.0]
        if family == "bernoulli":
            out.append(2.0)
        if "trials" in d:
            out.append(d["trials"] + 1.0)
        return out
    lo, hi = _support(family, d)
    out = []
    if np.isfinite(lo):
        out.append(lo - 0.5)
    if np.isfinite(hi):
        out.append(hi + 0.5)
    if family in ("beta", "zero_inflated_beta"):
        out.append(1.0)
    if family == "beta":
        out.append(0.0)
    return out


@pytest.mark.parametrize(("family", "dpars"), [p for p in CASES if p.values[0] not in REAL_LINE])
def test_minus_inf_outside_support_without_warnings(family: str, dpars: dict[str, float]) -> None:
    y = np.array(_outside(family, dpars))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = ORACLES[family](y, **dpars)
    assert np.all(got == -np.inf), (y, got)


def test_boundary_masses_are_exact() -> None:
    d = {"mu": 0.6, "phi": 4.0, "zoi": 0.3, "coi": 0.4}
    got = ORACLES["zero_one_inflated_beta"](np.array([0.0, 1.0]), **d)
    np.testing.assert_allclose(np.exp(got), [0.3 * 0.6, 0.3 * 0.4], rtol=1e-14)
    assert ORACLES["zero_inflated_beta"](0.0, mu=0.4, phi=6, zi=0.25) == pytest.approx(np.log(0.25))
    assert ORACLES["hurdle_gamma"](0.0, mu=2, shape=1.5, hu=0.3) == pytest.approx(np.log(0.3))
    # zero-inflated zero: zi + (1 - zi) f(0)
    zip0 = ORACLES["zero_inflated_poisson"](0, mu=3.0, zi=0.3)
    assert np.exp(zip0) == pytest.approx(0.3 + 0.7 * np.exp(-3.0), rel=1e-14)


def test_hurdle_truncation_is_stable_for_tiny_mu() -> None:
    """log(1 - exp(-mu)) and log(1 - NB(0)) must not cancel: for mu -> 0 the positive part
    concentrates on y = 1, so log P(y = 1) -> log(1 - hu)."""
    for mu in (1e-6, 1e-12):
        lp = ORACLES["hurdle_poisson"](1, mu=mu, hu=0.2)
        assert lp == pytest.approx(np.log(0.8) - mu / 2, abs=1e-9)
        lnb = ORACLES["hurdle_negbinomial"](1, mu=mu, shape=3.0, hu=0.2)
        assert lnb == pytest.approx(np.log(0.8), abs=1e-5)
    # large mu: the truncation is negligible
    assert ORACLES["hurdle_poisson"](50, mu=60.0, hu=0.2) == pytest.approx(
        np.log(0.8) + stats.poisson.logpmf(50, 60.0), rel=1e-12
    )


def test_skew_normal_mu_and_sigma_are_mean_and_sd() -> None:
    """brms's mixed CP: mu and sigma are the mean and SD of y; alpha is the DP skewness."""
    for mu, sigma, alpha in [(1.5, 2.0, 4.0), (-0.5, 0.5, -2.5), (0.0, 1.0, 30.0)]:
        xi, omega = fo.skew_normal_dp(mu, sigma, alpha)
        dist = stats.skewnorm(alpha, xi, omega)
        assert dist.mean() == pytest.approx(mu, rel=1e-12, abs=1e-12)
        assert dist.std() == pytest.approx(sigma, rel=1e-12)


def test_gev_mean_limits() -> None:
    assert EXPECTATIONS["gen_extreme_value"](0.0, 1.0, 0.0) == pytest.approx(np.euler_gamma)
    assert EXPECTATIONS["gen_extreme_value"](0.0, 1.0, 1e-7) == pytest.approx(
        np.euler_gamma, rel=1e-5
    )
    assert EXPECTATIONS["gen_extreme_value"](0.0, 1.0, 1.2) == np.inf
    assert stats.genextreme(-0.3, 1.0, 2.0).mean() == pytest.approx(
        EXPECTATIONS["gen_extreme_value"](1.0, 2.0, 0.3), rel=1e-12
    )


# ------------------------------------------------------------------ (2, 3) normalisation and means


@pytest.mark.parametrize(("family", "dpars"), DISC_CASES)
def test_discrete_normalised_and_mean(family: str, dpars: dict[str, float]) -> None:
    y = _discrete_support(family, dpars)
    p = np.exp(ORACLES[family](y, **dpars))
    assert p.sum() == pytest.approx(1.0, abs=1e-6)
    assert (y * p).sum() == pytest.approx(float(EXPECTATIONS[family](**dpars)), rel=1e-6)


@pytest.mark.parametrize(("family", "dpars"), CONT_CASES)
def test_continuous_normalised_and_mean(family: str, dpars: dict[str, float]) -> None:
    lo, hi = _support(family, dpars)
    split = _split(family, dpars)
    f = _density(family, dpars)
    atoms = _atoms(family)
    mass = sum(float(np.exp(ORACLES[family](a, **dpars))) for a in atoms)
    total = _quad(f, lo, hi, split) + mass
    assert total == pytest.approx(1.0, abs=1e-6)
    expected = EXPECTATIONS[family](**dpars)
    if family == "von_mises":  # brms's epred is the circular mean, arg E[exp(iy)]
        s = _quad(lambda t: np.sin(t) * f(t), lo, hi, split)
        c = _quad(lambda t: np.cos(t) * f(t), lo, hi, split)
        assert np.arctan2(s, c) == pytest.approx(float(expected), abs=1e-8)
        return
    mean = _quad(lambda t: t * f(t), lo, hi, split) + sum(
        a * float(np.exp(ORACLES[family](a, **dpars))) for a in atoms
    )
    assert mean == pytest.approx(float(expected), rel=1e-6, abs=1e-9)


# ------------------------------------------------------------------ (4) ordinal and categorical

CDF = {
    "logit": stats.logistic.cdf,
    "probit": stats.norm.cdf,
    "cloglog": stats.gumbel_l.cdf,  # 1 - exp(-exp(x)), Stan's inv_cloglog
    "cauchit": stats.cauchy.cdf,
}

SF = {
    "logit": stats.logistic.sf,
    "probit": stats.norm.sf,
    "cloglog": stats.gumbel_l.sf,
    "cauchit": stats.cauchy.sf,
}

ORD_CASES = [
    pytest.param(0.3, [-1.0, 0.2, 1.5], 1.0, id="K4"),
    pytest.param(-1.2, [-0.5, 0.5], 2.0, id="K3-disc2"),
    pytest.param(2.5, [-2.0, -1.0, 0.0, 1.0, 2.0], 0.6, id="K6-disc0.6"),
    pytest.param(0.0, [0.4], 1.0, id="K2"),
]


def _direct_probs(eta, tau, disc, link, family):
    """The brms_families vignette's formulas, in probability space, with scipy's CDFs."""
    F, S = CDF[link], SF[link]  # S = 1 - F without the cancellation
    tau = np.asarray(tau, dtype=float)
    K = tau.size + 1
    if family == "cumulative":
        c = disc * (tau - eta)
        cum = np.concatenate([[0.0], F(c), [1.0]])
        ccum = np.concatenate([[1.0], S(c), [0.0]])
        return np.where(c.mean() > 0, -np.diff(ccum), np.diff(cum))
    if family in ("sratio", "cratio"):
        if family == "sratio":
            stop, cont = F(disc * (tau - eta)), S(disc * (tau - eta))
        else:
            cont = F(disc * (eta - tau))
            stop = S(disc * (eta - tau))
        p = np.empty(K)
        for k in range(K):
            p[k] = np.prod(cont[:k]) * (stop[k] if k < K - 1 else 1.0)
        return p
    q, r = F(disc * (eta - tau)), S(disc * (eta - tau))  # acat
    un = np.array([np.prod(q[:k]) * np.prod(r[k:]) for k in range(K)])
    return un / un.sum()


@pytest.mark.parametrize("link", fo.LINKS)
@pytest.mark.parametrize("family", fo.ORDINAL_FAMILIES)
@pytest.mark.parametrize(("eta", "tau", "disc"), ORD_CASES)
def test_ordinal(family, link, eta, tau, disc) -> None:
    p = fo.probs(eta, tau, disc, link, family)
    K = len(tau) + 1
    assert p.shape == (K,)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(p, _direct_probs(eta, tau, disc, link, family), rtol=1e-10)
    y = np.arange(1, K + 1)
    lp = ORACLES[family](y, eta, tau, disc=disc, link=link)
    np.testing.assert_allclose(np.exp(lp), p, rtol=1e-12)
    np.testing.assert_allclose(EXPECTATIONS[family](eta, tau, disc, link), p, rtol=1e-15)
    assert np.all(ORACLES[family](np.array([0, K + 1]), eta, tau, disc, link) == -np.inf)


@pytest.mark.parametrize(("eta", "tau", "disc"), ORD_CASES)
def test_ordinal_logit_closed_forms(eta, tau, disc) -> None:
    tau = np.asarray(tau)
    cum = special.expit(disc * (tau - eta))  # cumulative: P(y <= k) = expit(disc (tau_k - eta))
    np.testing.assert_allclose(
        fo.probs(eta, tau, disc, "logit", "cumulative"), np.diff(cum, prepend=0, append=1)
    )
    acat = special.softmax(np.concatenate([[0.0], np.cumsum(disc * (eta - tau))]))
    np.testing.assert_allclose(fo.probs(eta, tau, disc, "logit", "acat"), acat, rtol=1e-12)


@pytest.mark.parametrize("link", fo.LINKS)
def test_sratio_equals_cratio_only_for_symmetric_links(link) -> None:
    args = (0.7, [-1.0, 0.0, 1.2], 1.3, link)
    s, c = fo.probs(*args, family="sratio"), fo.probs(*args, family="cratio")
    if link == "cloglog":
        assert np.max(np.abs(s - c)) > 1e-2
    else:
        np.testing.assert_allclose(s, c, rtol=1e-12)


def test_larger_eta_shifts_mass_up() -> None:
    """brms's sign conventions make larger eta mean larger y in all four families."""
    for family in fo.ORDINAL_FAMILIES:
        for link in fo.LINKS:
            lo = fo.probs(-1.0, [-0.5, 0.5, 1.5], 1.0, link, family) @ np.arange(1, 5)
            hi = fo.probs(1.0, [-0.5, 0.5, 1.5], 1.0, link, family) @ np.arange(1, 5)
            assert hi > lo, (family, link)


def test_ordinal_broadcasting_and_extremes() -> None:
    eta = np.array([-40.0, -3.0, 0.0, 3.0, 40.0])
    tau = np.array([-1.0, 0.0, 1.0])
    per_obs = np.broadcast_to(tau, (5, 3)) + np.arange(5)[:, None] * 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for family in fo.ORDINAL_FAMILIES:
            for link in fo.LINKS:
                for t in (tau, per_obs):
                    lp = fo.ordinal_log_probs(eta, t, 1.0, link, family)
                    assert lp.shape == (5, 4)
                    assert not np.any(np.isnan(lp))
                    np.testing.assert_allclose(np.exp(lp).sum(-1), 1.0, atol=1e-12)
                    y = np.array([1, 2, 3, 4, 4])
                    got = ORACLES[family](y, eta, t, 1.0, link)
                    np.testing.assert_array_equal(got, lp[np.arange(5), y - 1])
    # tail accuracy: cumulative probit, P(y = 1) at eta = 40 is Phi(-41), not 0
    lp = fo.ordinal_log_probs(40.0, tau, 1.0, "probit", "cumulative")
    assert lp[0] == pytest.approx(special.log_ndtr(-41.0), rel=1e-12)
    assert lp[1] == pytest.approx(special.log_ndtr(-40.0) + np.log1p(-np.exp(-40.5)), rel=1e-3)


def test_categorical() -> None:
    rest = np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0], [30.0, -30.0, 1.0]])
    mu = fo.insert_refcat(rest)  # the reference category (first) at 0
    assert mu.shape == (3, 4)
    np.testing.assert_array_equal(mu[:, 0], 0.0)
    p = EXPECTATIONS["categorical"](mu)
    np.testing.assert_allclose(p.sum(-1), 1.0, atol=1e-14)
    np.testing.assert_allclose(p, special.softmax(mu, axis=-1), rtol=1e-12)
    for k in range(1, 5):
        np.testing.assert_allclose(
            ORACLES["categorical"](np.full(3, k), mu), np.log(p[:, k - 1]), rtol=1e-12
        )
    np.testing.assert_allclose(ORACLES["categorical"](2, mu + 7.0), ORACLES["categorical"](2, mu))
    assert np.all(ORACLES["categorical"](np.array([0, 5, 5]), mu) == -np.inf)
    np.testing.assert_array_equal(fo.insert_refcat(rest, refcat=3)[:, 3], 0.0)
