"""Independent log densities of brms's response families, written with numpy/scipy.special only.

A test oracle for hiermod's PyMC likelihoods: every density here was written from brms's own
definitions (its Stan code in ``inst/chunks/fun_*.stan`` and ``R/stan-likelihood.R``, the dpar
transformations in ``R/stan-predictor.R``, the expected values in ``R/posterior_epred.R`` and the
formulas in ``vignettes/brms_families.Rmd``), never from PyMC, so that an agreement between the
two is evidence rather than a tautology.

``ORACLES[family](y, **dpars)`` is the elementwise log density (log pmf for counts) at natural-scale
parameters named as brms names them; everything broadcasts with numpy's rules. Binomial-type
families take ``trials=``. Outside the support the value is ``-inf`` (no warnings). Count families
assume integer ``y``.

``EXPECTATIONS[family](**dpars)`` is E[y] as brms's ``posterior_epred`` computes it. Two exceptions
follow brms: von_mises returns ``mu``, the *circular* mean (``arg E[exp(i y)]``), and the ordinal and
categorical families return the category probabilities (``posterior_epred`` does too), shape
``(..., K)``.

Ordinal families: ``ORACLES["cumulative"](y, eta, thresholds, disc=1, link="logit")`` and likewise
``sratio``, ``cratio``, ``acat``; ``y`` in ``1..K`` with ``K = thresholds.shape[-1] + 1``; ``eta``
is brms's latent ``mu`` (no intercept); ``probs(eta, thresholds, disc, link, family)`` gives all
category probabilities. Links: logit, probit, cloglog, cauchit.

Categorical: ``ORACLES["categorical"](y, mu)`` with ``mu`` of shape ``(..., K)`` holding all
``K`` linear predictors, the reference category's included (fixed at 0; ``insert_refcat`` builds it
from the ``K - 1`` others; brms's default reference is the first category).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import special

__all__ = [
    "EXPECTATIONS",
    "LINKS",
    "ORACLES",
    "ORDINAL_FAMILIES",
    "insert_refcat",
    "log1mexp",
    "ordinal_log_probs",
    "probs",
    "skew_normal_dp",
]

LOG_2PI = float(np.log(2.0 * np.pi))
LOG_2 = float(np.log(2.0))
LINKS = ("logit", "probit", "cloglog", "cauchit")
ORDINAL_FAMILIES = ("cumulative", "sratio", "cratio", "acat")


# ------------------------------------------------------------------ numerical helpers


def _a(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _log(x) -> np.ndarray:
    """log(x), and -inf where x <= 0, without a divide-by-zero warning."""
    x = _a(x)
    out = np.full(x.shape, -np.inf)
    np.log(x, out=out, where=x > 0)
    return out


def _log1m(p) -> np.ndarray:
    """log(1 - p), -inf at p >= 1 (no warning)."""
    p = _a(p)
    ok = p < 1
    return np.where(ok, np.log1p(-np.where(ok, p, 0.0)), -np.inf)


def log1mexp(x) -> np.ndarray:
    """log(1 - exp(x)) for x <= 0 (Mächler's switch at -log 2); -inf at x == 0."""
    x = _a(x)
    near0 = x > -LOG_2
    a = np.where(near0, x, -1.0)
    b = np.where(near0, -1.0, x)
    return np.where(near0, _log(-np.expm1(a)), np.log1p(-np.exp(b)))


def _exp(x) -> np.ndarray:
    """exp(x) capped at exp(709) (no overflow warning; a log density minus it is ~ -inf anyway)."""
    return np.exp(np.minimum(x, 709.0))


def _mask(ok, value) -> np.ndarray:
    return np.where(ok, value, -np.inf)


# ------------------------------------------------------------------ base densities (own closed forms)


def _normal(y, mu, sigma):
    z = (_a(y) - mu) / sigma
    return -0.5 * LOG_2PI - np.log(sigma) - 0.5 * z * z


def _poisson(y, mu):
    y = _a(y)
    ok = y >= 0
    ys = np.where(ok, y, 0.0)
    return _mask(ok, special.xlogy(ys, mu) - mu - special.gammaln(ys + 1.0))


def _negbin(y, mu, shape):
    """Stan's neg_binomial_2(y | mu, phi): mean mu, variance mu + mu^2 / phi."""
    y, mu, shape = _a(y), _a(mu), _a(shape)
    ok = y >= 0
    ys = np.where(ok, y, 0.0)
    log_mps = np.log(mu + shape)
    val = (
        special.gammaln(ys + shape)
        - special.gammaln(shape)
        - special.gammaln(ys + 1.0)
        + shape * (np.log(shape) - log_mps)
        + special.xlogy(ys, mu)
        - ys * log_mps
    )
    return _mask(ok, val)


def _negbin_log_p0(mu, shape):
    """log NB(0 | mu, shape) = shape * log(shape / (mu + shape)) = -shape * log1p(mu / shape)."""
    return -_a(shape) * np.log1p(_a(mu) / shape)


def _log_choose(n, k):
    return special.gammaln(n + 1.0) - special.gammaln(k + 1.0) - special.gammaln(n - k + 1.0)


def _binomial(y, trials, p):
    y, n = _a(y), _a(trials)
    ok = (y >= 0) & (y <= n)
    ys = np.where(ok, y, 0.0)
    val = _log_choose(n, ys) + special.xlogy(ys, p) + special.xlog1py(n - ys, -_a(p))
    return _mask(ok, val)


def _beta_binomial(y, trials, a, b):
    y, n = _a(y), _a(trials)
    ok = (y >= 0) & (y <= n)
    ys = np.where(ok, y, 0.0)
    val = _log_choose(n, ys) + special.betaln(ys + a, n - ys + b) - special.betaln(a, b)
    return _mask(ok, val)


def _beta(y, a, b):
    y = _a(y)
    ok = (y > 0) & (y < 1)
    ys = np.where(ok, y, 0.5)
    val = (a - 1.0) * np.log(ys) + (b - 1.0) * np.log1p(-ys) - special.betaln(a, b)
    return _mask(ok, val)


def _gamma(y, shape, rate):
    """Stan's gamma(y | shape, rate)."""
    y = _a(y)
    ok = y > 0
    ys = np.where(ok, y, 1.0)
    val = shape * np.log(rate) - special.gammaln(shape) + (shape - 1.0) * np.log(ys) - rate * ys
    return _mask(ok, val)


def _lognormal(y, mu, sigma):
    y = _a(y)
    ok = y > 0
    ly = np.log(np.where(ok, y, 1.0))
    return _mask(ok, _normal(ly, mu, sigma) - ly)


# ------------------------------------------------------------------ continuous families


def gaussian(y, mu, sigma):
    return _normal(y, mu, sigma)


def student(y, mu, sigma, nu):
    """Stan student_t(nu, mu, sigma)."""
    nu = _a(nu)
    z = (_a(y) - mu) / sigma
    return (
        special.gammaln(0.5 * (nu + 1.0))
        - special.gammaln(0.5 * nu)
        - 0.5 * np.log(nu * np.pi)
        - np.log(sigma)
        - 0.5 * (nu + 1.0) * np.log1p(z * z / nu)
    )


def skew_normal_dp(mu, sigma, alpha):
    """brms's CP -> DP map (R/stan-predictor.R, R/distributions.R cp2dp): returns (xi, omega).

    delta = alpha / sqrt(1 + alpha^2); omega = sigma / sqrt(1 - 2/pi delta^2);
    xi = mu - omega delta sqrt(2/pi). So mu is the mean and sigma the SD of y.
    """
    alpha = _a(alpha)
    delta = alpha / np.sqrt(1.0 + alpha * alpha)
    omega = _a(sigma) / np.sqrt(1.0 - 2.0 / np.pi * delta * delta)
    xi = _a(mu) - omega * delta * np.sqrt(2.0 / np.pi)
    return xi, omega


def skew_normal(y, mu, sigma, alpha):
    """Stan skew_normal(y | xi, omega, alpha) = 2/omega phi(z) Phi(alpha z), z = (y - xi)/omega."""
    xi, omega = skew_normal_dp(mu, sigma, alpha)
    z = (_a(y) - xi) / omega
    return LOG_2 - np.log(omega) - 0.5 * LOG_2PI - 0.5 * z * z + special.log_ndtr(alpha * z)


def exgaussian(y, mu, sigma, beta):
    """brms: exp_mod_normal(y | mu - beta, sigma, 1 / beta); mu is the mean, beta the exp. scale.

    Density lambda exp(lambda (m - y) + lambda^2 sigma^2 / 2) Phi((y - m)/sigma - lambda sigma),
    m = mu - beta, lambda = 1 / beta (the erfc form of Stan's exp_mod_normal, rewritten with Phi).
    """
    y, sigma, beta = _a(y), _a(sigma), _a(beta)
    lam = 1.0 / beta
    m = _a(mu) - beta
    return (
        np.log(lam)
        + lam * (m - y)
        + 0.5 * (lam * sigma) ** 2
        + special.log_ndtr((y - m) / sigma - lam * sigma)
    )


def lognormal(y, mu, sigma):
    return _lognormal(y, mu, sigma)


def shifted_lognormal(y, mu, sigma, ndt):
    """brms: lognormal(y - ndt | mu, sigma)."""
    return _lognormal(_a(y) - ndt, mu, sigma)


def asym_laplace(y, mu, sigma, quantile):
    """brms fun_asym_laplace.stan: log(q(1-q)) - log(sigma) - rho_q((y - mu)/sigma),
    rho_q(x) = x (q - 1{x < 0})."""
    q = _a(quantile)
    x = (_a(y) - mu) / sigma
    rho = np.where(x < 0, x * (q - 1.0), x * q)
    return np.log(q * (1.0 - q)) - np.log(sigma) - rho


def inverse_gaussian(y, mu, shape):
    """brms fun_inv_gaussian.stan: mean mu, shape lambda."""
    y, mu = _a(y), _a(mu)
    ok = y > 0
    ys = np.where(ok, y, 1.0)
    val = (
        0.5 * np.log(shape / (2.0 * np.pi))
        - 1.5 * np.log(ys)
        - 0.5 * shape * (ys - mu) ** 2 / (mu * mu * ys)
    )
    return _mask(ok, val)


def von_mises(y, mu, kappa):
    """exp(kappa cos(y - mu)) / (2 pi I0(kappa)) on [-pi, pi] (brms_families vignette)."""
    y, kappa = _a(y), _a(kappa)
    ok = (y >= -np.pi) & (y <= np.pi)
    val = kappa * (np.cos(y - mu) - 1.0) - LOG_2PI - np.log(special.i0e(kappa))
    return _mask(ok, val)


def exponential(y, mu):
    """brms: exponential(rate = 1 / mu)."""
    y = _a(y)
    ok = y >= 0
    return _mask(ok, -np.log(mu) - np.where(ok, y, 0.0) / mu)


def gamma(y, mu, shape):
    """brms: gamma(shape, rate = shape / mu)."""
    return _gamma(y, shape, _a(shape) / mu)


def weibull(y, mu, shape):
    """brms: weibull(shape, scale = mu / Gamma(1 + 1/shape))."""
    y, shape = _a(y), _a(shape)
    scale = _a(mu) / special.gamma(1.0 + 1.0 / shape)
    ok = y > 0
    lz = np.log(np.where(ok, y, 1.0) / scale)
    return _mask(ok, np.log(shape) - np.log(scale) + (shape - 1.0) * lz - _exp(shape * lz))


def frechet(y, mu, nu):
    """brms: frechet(nu, scale = mu / Gamma(1 - 1/nu)), nu > 1."""
    y, nu = _a(y), _a(nu)
    scale = _a(mu) / special.gamma(1.0 - 1.0 / nu)
    ok = y > 0
    lz = np.log(np.where(ok, y, 1.0) / scale)
    return _mask(ok, np.log(nu) - np.log(scale) - (1.0 + nu) * lz - _exp(-nu * lz))


def gen_extreme_value(y, mu, sigma, xi):
    """brms fun_gen_extreme_value.stan; x = (y - mu)/sigma, t = 1 + xi x > 0;
    -log sigma - (1 + 1/xi) log t - t^(-1/xi), and the Gumbel form at xi == 0."""
    y, sigma, xi = _a(y), _a(sigma), _a(xi)
    x = (y - mu) / sigma
    is0 = xi == 0
    xis = np.where(is0, 1.0, xi)
    tx = np.where(is0, 0.0, xis * x)
    ok = is0 | (tx > -1.0)
    lt = np.log1p(np.where(ok, tx, 0.0))
    gev = -np.log(sigma) - (1.0 + 1.0 / xis) * lt - _exp(-lt / xis)
    xg = np.where(is0, x, 0.0)
    gumbel = -np.log(sigma) - xg - _exp(-xg)
    return _mask(ok, np.where(is0, gumbel, gev))


def beta(y, mu, phi):
    """brms: beta(mu phi, (1 - mu) phi)."""
    return _beta(y, _a(mu) * phi, (1.0 - _a(mu)) * phi)


# ------------------------------------------------------------------ discrete families


def poisson(y, mu):
    return _poisson(y, mu)


def bernoulli(y, mu):
    y = _a(y)
    return np.where(y == 1, _log(mu), np.where(y == 0, _log1m(mu), -np.inf))


def binomial(y, mu, trials):
    return _binomial(y, trials, mu)


def beta_binomial(y, mu, phi, trials):
    """brms: beta_binomial(trials, mu phi, (1 - mu) phi)."""
    return _beta_binomial(y, trials, _a(mu) * phi, (1.0 - _a(mu)) * phi)


def negbinomial(y, mu, shape):
    """brms: neg_binomial_2(mu, shape): variance mu + mu^2 / shape."""
    return _negbin(y, mu, shape)


def geometric(y, mu):
    """brms: neg_binomial_2(mu, 1) on 0, 1, 2, ...: P(y) = mu^y / (1 + mu)^(y + 1)."""
    y, mu = _a(y), _a(mu)
    ok = y >= 0
    ys = np.where(ok, y, 0.0)
    return _mask(ok, special.xlogy(ys, mu) - (ys + 1.0) * np.log1p(mu))


# ------------------------------------------------------------------ zero-inflated and hurdle


def _zero_inflated(y, zi, base_logp, base_logp0):
    """zi + (1 - zi) f(0) at 0, (1 - zi) f(y) elsewhere (brms fun_zero_inflated_*.stan)."""
    y = _a(y)
    at0 = np.logaddexp(_log(zi), _log1m(zi) + base_logp0)
    return np.where(y == 0, at0, _log1m(zi) + base_logp)


def zero_inflated_poisson(y, mu, zi):
    return _zero_inflated(y, zi, _poisson(y, mu), -_a(mu))


def zero_inflated_negbinomial(y, mu, shape, zi):
    return _zero_inflated(y, zi, _negbin(y, mu, shape), _negbin_log_p0(mu, shape))


def zero_inflated_binomial(y, mu, zi, trials):
    log_p0 = _a(trials) * np.log1p(-_a(mu))
    return _zero_inflated(y, zi, _binomial(y, trials, mu), log_p0)


def zero_inflated_beta_binomial(y, mu, phi, zi, trials):
    a, b = _a(mu) * phi, (1.0 - _a(mu)) * phi
    log_p0 = special.betaln(a, _a(trials) + b) - special.betaln(a, b)
    return _zero_inflated(y, zi, _beta_binomial(y, trials, a, b), log_p0)


def _hurdle(y, hu, positive_logp):
    """hu at 0, (1 - hu) g(y) for y > 0 (g the zero-truncated or continuous positive part)."""
    y = _a(y)
    return np.where(y == 0, _log(hu), np.where(y > 0, _log1m(hu) + positive_logp, -np.inf))


def hurdle_poisson(y, mu, hu):
    """brms: poisson(y | mu) - log1m_exp(-mu) for y > 0."""
    return _hurdle(y, hu, _poisson(y, mu) - log1mexp(-_a(mu)))


def hurdle_negbinomial(y, mu, shape, hu):
    """brms: neg_binomial_2(y | mu, shape) - log1m((shape / (mu + shape))^shape) for y > 0."""
    return _hurdle(y, hu, _negbin(y, mu, shape) - log1mexp(_negbin_log_p0(mu, shape)))


def hurdle_gamma(y, mu, shape, hu):
    """brms: gamma(shape, shape / mu) for y > 0."""
    return _hurdle(y, hu, _gamma(y, shape, _a(shape) / mu))


def hurdle_lognormal(y, mu, sigma, hu):
    return _hurdle(y, hu, _lognormal(y, mu, sigma))


def zero_inflated_beta(y, mu, phi, zi):
    """brms fun_zero_inflated_beta.stan: zi at 0, (1 - zi) beta(mu phi, (1 - mu) phi) on (0, 1)."""
    y = _a(y)
    cont = _log1m(zi) + _beta(y, _a(mu) * phi, (1.0 - _a(mu)) * phi)
    return np.where(y == 0, _log(zi), cont)


def zero_one_inflated_beta(y, mu, phi, zoi, coi):
    """brms fun_zero_one_inflated_beta.stan: zoi (1 - coi) at 0, zoi coi at 1, else (1 - zoi) beta."""
    y = _a(y)
    cont = _log1m(zoi) + _beta(y, _a(mu) * phi, (1.0 - _a(mu)) * phi)
    at0 = _log(zoi) + _log1m(coi)
    at1 = _log(zoi) + _log(coi)
    return np.where(y == 0, at0, np.where(y == 1, at1, cont))


# ------------------------------------------------------------------ ordinal


def _log_cdf_sf(x, link: str) -> tuple[np.ndarray, np.ndarray]:
    """(log F(x), log(1 - F(x))) for the inverse link F (a distribution function)."""
    x = _a(x)
    if link == "logit":
        return -np.logaddexp(0.0, -x), -np.logaddexp(0.0, x)
    if link == "probit":
        return special.log_ndtr(x), special.log_ndtr(-x)
    if link == "cloglog":  # F(x) = 1 - exp(-exp(x)) (Stan's inv_cloglog)
        e = _exp(x)
        return log1mexp(-e), -e
    if link == "cauchit":  # F(x) = 1/2 + atan(x)/pi = atan2(1, -x)/pi, accurate in both tails
        return _log(np.arctan2(1.0, -x) / np.pi), _log(np.arctan2(1.0, x) / np.pi)
    raise ValueError(f"unknown ordinal link {link!r}")


def ordinal_log_probs(eta, thresholds, disc=1.0, link="logit", family="cumulative") -> np.ndarray:
    """Log category probabilities, shape (..., K), as brms's stan_ordinal_lpmf (R/stan-likelihood.R).

    cumulative: P(y <= k) = F(disc (tau_k - eta)).
    sratio:     P(y = k | y >= k) = F(disc (tau_k - eta)).
    cratio:     P(y > k | y >= k) = F(disc (eta - tau_k)).
    acat:       P(y = k) ∝ prod_{j<k} F(disc (eta - tau_j)) prod_{j>=k} (1 - F(disc (eta - tau_j)));
                for logit, ∝ exp(sum_{j<k} disc (eta - tau_j)).
    """
    tau = _a(thresholds)
    eta = _a(eta)[..., None]
    disc = _a(disc)[..., None]
    if family in ("cumulative", "sratio"):
        c = disc * (tau - eta)
    elif family in ("cratio", "acat"):
        c = disc * (eta - tau)
    else:
        raise ValueError(f"unknown ordinal family {family!r}")
    logF, logS = _log_cdf_sf(c, link)
    zero = np.zeros((*c.shape[:-1], 1))
    if family == "cumulative":
        a, b = c[..., 1:], c[..., :-1]  # P(y = k) = F(a) - F(b), a > b
        lFa, lFb, lSa, lSb = logF[..., 1:], logF[..., :-1], logS[..., 1:], logS[..., :-1]
        lower = lFa + log1mexp(np.minimum(lFb - lFa, 0.0))
        upper = lSb + log1mexp(np.minimum(lSa - lSb, 0.0))
        mid = np.where(a + b > 0, upper, lower)
        return np.concatenate([logF[..., :1], mid, logS[..., -1:]], axis=-1)
    if family in ("sratio", "cratio"):
        stop, cont = (logF, logS) if family == "sratio" else (logS, logF)
        prefix = np.concatenate([zero, np.cumsum(cont, axis=-1)], axis=-1)
        return np.concatenate([stop, zero], axis=-1) + prefix
    # acat
    prefix_F = np.concatenate([zero, np.cumsum(logF, axis=-1)], axis=-1)
    suffix_S = np.concatenate([np.cumsum(logS[..., ::-1], axis=-1)[..., ::-1], zero], axis=-1)
    un = prefix_F + suffix_S
    return un - special.logsumexp(un, axis=-1, keepdims=True)


def probs(eta, thresholds, disc=1.0, link="logit", family="cumulative") -> np.ndarray:
    """Category probabilities, shape (..., K)."""
    return np.exp(ordinal_log_probs(eta, thresholds, disc, link, family))


def _pick(y, logp) -> np.ndarray:
    """logp[..., y - 1] for y in 1..K, -inf elsewhere."""
    y = np.asarray(y)
    K = logp.shape[-1]
    shape = np.broadcast_shapes(y.shape, logp.shape[:-1])
    y = np.broadcast_to(y, shape)
    logp = np.broadcast_to(logp, (*shape, K))
    idx = np.clip(y.astype(int) - 1, 0, K - 1)
    out = np.take_along_axis(logp, idx[..., None], axis=-1)[..., 0]
    return _mask((y >= 1) & (y <= K), out)


def _ordinal(family: str) -> Callable[..., np.ndarray]:
    def logpmf(y, eta, thresholds, disc=1.0, link="logit"):
        return _pick(y, ordinal_log_probs(eta, thresholds, disc, link, family))

    logpmf.__name__ = family
    logpmf.__doc__ = f"brms {family}: log P(y | eta, thresholds, disc); y in 1..K."
    return logpmf


def _ordinal_epred(family: str) -> Callable[..., np.ndarray]:
    def epred(eta, thresholds, disc=1.0, link="logit"):
        return probs(eta, thresholds, disc, link, family)

    return epred


# ------------------------------------------------------------------ categorical


def insert_refcat(eta, refcat: int = 0) -> np.ndarray:
    """Insert the reference category's 0 linear predictor at position ``refcat`` (last axis)."""
    eta = _a(eta)
    return np.insert(eta, refcat, 0.0, axis=-1)


def _categorical_log_probs(mu) -> np.ndarray:
    mu = _a(mu)
    return mu - special.logsumexp(mu, axis=-1, keepdims=True)


def categorical(y, mu):
    """brms categorical (logit): log softmax(mu)[y - 1], mu of shape (..., K)."""
    return _pick(y, _categorical_log_probs(mu))


# ------------------------------------------------------------------ registries

ORACLES: dict[str, Callable[..., np.ndarray]] = {
    "gaussian": gaussian,
    "student": student,
    "skew_normal": skew_normal,
    "exgaussian": exgaussian,
    "lognormal": lognormal,
    "shifted_lognormal": shifted_lognormal,
    "asym_laplace": asym_laplace,
    "wald": inverse_gaussian,
    "inverse.gaussian": inverse_gaussian,
    "von_mises": von_mises,
    "exponential": exponential,
    "gamma": gamma,
    "weibull": weibull,
    "frechet": frechet,
    "gen_extreme_value": gen_extreme_value,
    "beta": beta,
    "poisson": poisson,
    "bernoulli": bernoulli,
    "binomial": binomial,
    "beta_binomial": beta_binomial,
    "negbinomial": negbinomial,
    "geometric": geometric,
    "zero_inflated_poisson": zero_inflated_poisson,
    "zero_inflated_negbinomial": zero_inflated_negbinomial,
    "zero_inflated_binomial": zero_inflated_binomial,
    "zero_inflated_beta_binomial": zero_inflated_beta_binomial,
    "hurdle_poisson": hurdle_poisson,
    "hurdle_negbinomial": hurdle_negbinomial,
    "hurdle_gamma": hurdle_gamma,
    "hurdle_lognormal": hurdle_lognormal,
    "zero_inflated_beta": zero_inflated_beta,
    "zero_one_inflated_beta": zero_one_inflated_beta,
    **{fam: _ordinal(fam) for fam in ORDINAL_FAMILIES},
    "categorical": categorical,
}


def _gev_mean(mu, sigma, xi):
    """mu + sigma (Gamma(1 - xi) - 1) / xi (brms), its limit mu + sigma * Euler's gamma at
    xi == 0, and inf for xi >= 1."""
    xi = _a(xi)
    is0 = xi == 0
    fin = xi < 1
    xis = np.where(is0 | ~fin, 0.5, xi)
    val = np.where(is0, np.euler_gamma, (special.gamma(1.0 - xis) - 1.0) / xis)
    return np.where(fin, mu + sigma * val, np.inf)


def _lognormal_mean(mu, sigma):
    return np.exp(_a(mu) + 0.5 * _a(sigma) ** 2)


EXPECTATIONS: dict[str, Callable[..., np.ndarray]] = {
    "gaussian": lambda mu, sigma: _a(mu) + 0 * sigma,
    "student": lambda mu, sigma, nu: _a(mu) + 0 * sigma + 0 * nu,
    "skew_normal": lambda mu, sigma, alpha: _a(mu) + 0 * sigma + 0 * alpha,
    "exgaussian": lambda mu, sigma, beta: _a(mu) + 0 * sigma + 0 * beta,
    "lognormal": _lognormal_mean,
    "shifted_lognormal": lambda mu, sigma, ndt: _lognormal_mean(mu, sigma) + ndt,
    "asym_laplace": lambda mu, sigma, quantile: (
        mu + sigma * (1.0 - 2.0 * quantile) / (quantile * (1.0 - quantile))
    ),
    "wald": lambda mu, shape: _a(mu) + 0 * shape,
    "inverse.gaussian": lambda mu, shape: _a(mu) + 0 * shape,
    "von_mises": lambda mu, kappa: _a(mu) + 0 * kappa,  # circular mean
    "exponential": lambda mu: _a(mu),
    "gamma": lambda mu, shape: _a(mu) + 0 * shape,
    "weibull": lambda mu, shape: _a(mu) + 0 * shape,
    "frechet": lambda mu, nu: _a(mu) + 0 * nu,
    "gen_extreme_value": _gev_mean,
    "beta": lambda mu, phi: _a(mu) + 0 * phi,
    "poisson": lambda mu: _a(mu),
    "bernoulli": lambda mu: _a(mu),
    "binomial": lambda mu, trials: _a(mu) * trials,
    "beta_binomial": lambda mu, phi, trials: _a(mu) * trials + 0 * phi,
    "negbinomial": lambda mu, shape: _a(mu) + 0 * shape,
    "geometric": lambda mu: _a(mu),
    "zero_inflated_poisson": lambda mu, zi: _a(mu) * (1.0 - zi),
    "zero_inflated_negbinomial": lambda mu, shape, zi: _a(mu) * (1.0 - zi) + 0 * shape,
    "zero_inflated_binomial": lambda mu, zi, trials: _a(mu) * trials * (1.0 - zi),
    "zero_inflated_beta_binomial": lambda mu, phi, zi, trials: (
        _a(mu) * trials * (1.0 - zi) + 0 * phi
    ),
    "hurdle_poisson": lambda mu, hu: _a(mu) / -np.expm1(-_a(mu)) * (1.0 - hu),
    "hurdle_negbinomial": lambda mu, shape, hu: (
        _a(mu) / -np.expm1(_negbin_log_p0(mu, shape)) * (1.0 - hu)
    ),
    "hurdle_gamma": lambda mu, shape, hu: _a(mu) * (1.0 - hu) + 0 * shape,
    "hurdle_lognormal": lambda mu, sigma, hu: _lognormal_mean(mu, sigma) * (1.0 - hu),
    "zero_inflated_beta": lambda mu, phi, zi: _a(mu) * (1.0 - zi) + 0 * phi,
    "zero_one_inflated_beta": lambda mu, phi, zoi, coi: (
        _a(zoi) * coi + _a(mu) * (1.0 - zoi) + 0 * phi
    ),
    **{fam: _ordinal_epred(fam) for fam in ORDINAL_FAMILIES},
    "categorical": lambda mu: np.exp(_categorical_log_probs(mu)),
}
