"""Distributions brms has and PyMC lacks: real functions a generated module carries.

Also the bivariate normal of a correlated block of two terms (``(1 + x | g)``), written out
rather than as PyMC's ``pm.LKJCholeskyCov`` and ``pm.MvNormal`` (the same model, a smaller graph:
:mod:`hiermod.output.source_model`).

Like :mod:`hiermod.output.likelihoods`, one copy: a family whose ``distribution`` is ``"<stem>"``
with ``custom=True`` (:mod:`hiermod.data.families`) has here either ``<stem>_logp`` and
``<stem>_random`` (a ``pm.CustomDist`` with an explicit density and NumPy draws) or ``<stem>_dist``
(a ``pm.CustomDist`` whose density PyMC derives from a graph of its own distributions). The
emitter writes these functions' own source into the module (``inspect.getsource``), and hiermod
builds its models by running that module. They may use only ``np``, ``pm`` and ``pt``.

Each density is brms's (its Stan functions, ``inst/chunks/fun_*.stan``); the parameters come in
the order of the family's ``params``. Where a branch of a ``pt.switch`` would be undefined at the
other branch's values (the Beta density at ``y = 0``), it is evaluated at a harmless stand-in
value, so that neither the density nor its gradient is NaN.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

__all__ = [
    "NEEDS",
    "acat_log_probs",
    "bivariate_normal_dist",
    "bivariate_normal_logp",
    "correlated_pair",
    "cratio_log_probs",
    "cumulative_log_probs",
    "exgaussian_logp",
    "exgaussian_random",
    "normal_lcdf",
    "ordinal_log_ccdf",
    "ordinal_log_cdf",
    "ordinal_steps",
    "shifted_lognormal_dist",
    "skew_normal_logp",
    "skew_normal_random",
    "sratio_log_probs",
    "zero_inflated_beta_binomial_dist",
    "zero_inflated_beta_logp",
    "zero_inflated_beta_random",
    "zero_one_inflated_beta_logp",
    "zero_one_inflated_beta_random",
]

# Which of these functions each one calls (written into the module before it).
NEEDS: dict[str, tuple[str, ...]] = {
    "skew_normal_logp": ("normal_lcdf",),
    "exgaussian_logp": ("normal_lcdf",),
    "ordinal_log_cdf": ("normal_lcdf",),
    "ordinal_log_ccdf": ("ordinal_log_cdf",),
    "cumulative_log_probs": ("ordinal_steps", "ordinal_log_cdf"),
    "sratio_log_probs": ("ordinal_steps", "ordinal_log_cdf", "ordinal_log_ccdf"),
    "cratio_log_probs": ("ordinal_steps", "ordinal_log_cdf", "ordinal_log_ccdf"),
    "acat_log_probs": ("ordinal_steps", "ordinal_log_cdf", "ordinal_log_ccdf"),
}


def normal_lcdf(z):
    """log Phi(z), accurate in both tails: log(erfcx(-z / sqrt 2) / 2) - z^2 / 2 below -1 (where
    Phi(z) itself underflows: Phi(-40) ~ 1e-350), log1p(-erfc(z / sqrt 2) / 2) above."""
    left = np.log(0.5) + pt.log(pt.erfcx(-z / np.sqrt(2.0))) - z**2 / 2.0
    right = pt.log1p(-0.5 * pt.erfc(z / np.sqrt(2.0)))
    return pt.switch(pt.lt(z, -1.0), left, right)


def skew_normal_logp(value, mu, sigma, alpha):
    """brms's skew_normal: mean ``mu``, sd ``sigma``, skewness ``alpha``.

    With delta = alpha / sqrt(1 + alpha^2), the skew-normal's own scale is
    omega = sigma / sqrt(1 - 2 delta^2 / pi) and its location xi = mu - omega delta sqrt(2 / pi);
    the density is 2 / omega phi(z) Phi(alpha z) with z = (y - xi) / omega.
    """
    delta = alpha / pt.sqrt(1.0 + alpha**2)
    omega = sigma / pt.sqrt(1.0 - 2.0 / np.pi * delta**2)
    z = (value - mu) / omega + delta * np.sqrt(2.0 / np.pi)
    normal = -0.5 * z**2 - 0.5 * np.log(2.0 * np.pi) - pt.log(omega)
    return np.log(2.0) + normal + normal_lcdf(alpha * z)


def skew_normal_random(mu, sigma, alpha, rng=None, size=None):
    """Draws of :func:`skew_normal_logp`'s distribution: xi + omega (delta |U| + sqrt(1 - delta^2) V)."""
    delta = alpha / np.sqrt(1.0 + alpha**2)
    omega = sigma / np.sqrt(1.0 - 2.0 / np.pi * delta**2)
    xi = mu - omega * delta * np.sqrt(2.0 / np.pi)
    u, v = np.abs(rng.normal(size=size)), rng.normal(size=size)
    return xi + omega * (delta * u + np.sqrt(1.0 - delta**2) * v)


def exgaussian_logp(value, mu, sigma, beta):
    """brms's exgaussian: a normal(mu - beta, sigma) plus an exponential of mean ``beta``, so that
    ``mu`` is the mean (Stan's exp_mod_normal(y | mu - beta, sigma, 1 / beta))."""
    lam = 1.0 / beta
    location = mu - beta
    return (
        pt.log(lam)
        + lam * (location + 0.5 * lam * sigma**2 - value)
        + normal_lcdf((value - location - lam * sigma**2) / sigma)
    )


def exgaussian_random(mu, sigma, beta, rng=None, size=None):
    """Draws of :func:`exgaussian_logp`'s distribution."""
    return rng.normal(mu - beta, sigma, size=size) + rng.exponential(beta, size=size)


def shifted_lognormal_dist(mu, sigma, ndt, size):
    """brms's shifted_lognormal: ``y - ndt`` is lognormal(mu, sigma), ``ndt`` a non-decision time."""
    return ndt + pm.LogNormal.dist(mu=mu, sigma=sigma, size=size)


def zero_inflated_beta_binomial_dist(mu, phi, zi, trials, size):
    """brms's zero_inflated_beta_binomial: an extra zero with probability ``zi``, else
    beta_binomial(trials, mu * phi, (1 - mu) * phi)."""
    counts = pm.BetaBinomial.dist(alpha=mu * phi, beta=(1.0 - mu) * phi, n=trials, size=size)
    zeros = pm.DiracDelta.dist(pt.zeros_like(trials * mu * phi * zi, dtype="int64"), size=size)
    zi = pt.broadcast_to(zi, zeros.shape)
    return pm.Mixture.dist(w=pt.stack([zi, 1.0 - zi], axis=-1), comp_dists=[zeros, counts])


def zero_inflated_beta_logp(value, mu, phi, zi):
    """brms's zero_inflated_beta: ``y = 0`` with probability ``zi``, else beta(mu phi, (1 - mu) phi)."""
    inside = pt.switch(pt.eq(value, 0.0), 0.5, value)  # the Beta density only where y > 0
    beta = pm.logp(pm.Beta.dist(alpha=mu * phi, beta=(1.0 - mu) * phi), inside)
    return pt.switch(pt.eq(value, 0.0), pt.log(zi), pt.log1p(-zi) + beta)


def zero_inflated_beta_random(mu, phi, zi, rng=None, size=None):
    """Draws of :func:`zero_inflated_beta_logp`'s distribution."""
    values = rng.beta(mu * phi, (1.0 - mu) * phi, size=size)
    return np.where(rng.uniform(size=size) < zi, 0.0, values)


def zero_one_inflated_beta_logp(value, mu, phi, zoi, coi):
    """brms's zero_one_inflated_beta: ``y`` is 0 or 1 with probability ``zoi`` (1 with probability
    ``coi`` of those), else beta(mu phi, (1 - mu) phi)."""
    edge = pt.eq(value, 0.0) | pt.eq(value, 1.0)
    inside = pt.switch(edge, 0.5, value)
    beta = pm.logp(pm.Beta.dist(alpha=mu * phi, beta=(1.0 - mu) * phi), inside)
    ends = pt.log(zoi) + pt.switch(pt.eq(value, 1.0), pt.log(coi), pt.log1p(-coi))
    return pt.switch(edge, ends, pt.log1p(-zoi) + beta)


def zero_one_inflated_beta_random(mu, phi, zoi, coi, rng=None, size=None):
    """Draws of :func:`zero_one_inflated_beta_logp`'s distribution."""
    values = rng.beta(mu * phi, (1.0 - mu) * phi, size=size)
    ends = np.where(rng.uniform(size=size) < coi, 1.0, 0.0)
    return np.where(rng.uniform(size=size) < zoi, ends, values)


def correlated_pair(z, sd, corr):
    """Two correlated effects from standard-normal ``z`` (..., 2): ``z @ chol.T`` for the Cholesky
    factor [[sd_1, 0], [sd_2 corr, sd_2 sqrt(1 - corr^2)]], written out. E.g. corr = 0.6 takes
    z = (1, 0) to (sd_1, 0.6 sd_2) and z = (0, 1) to (0, 0.8 sd_2)."""
    first = sd[0] * z[..., 0]
    second = sd[1] * (corr * z[..., 0] + pt.sqrt(1.0 - corr**2) * z[..., 1])
    return pt.stack([first, second], axis=-1)


def bivariate_normal_logp(value, mu, sd, corr):
    """The normal density of pairs ``value`` (..., 2): means ``mu``, sds ``sd``, correlation
    ``corr``. With e = (value - mu) / sd: -(e_1^2 - 2 corr e_1 e_2 + e_2^2) / (2 (1 - corr^2))
    - log(2 pi sd_1 sd_2) - log(1 - corr^2) / 2."""
    e = (value - mu) / sd
    cross = 2.0 * corr * e[..., 0] * e[..., 1]
    quadratic = (e[..., 0] ** 2 - cross + e[..., 1] ** 2) / (1.0 - corr**2)
    scale = pt.log(sd[..., 0]) + pt.log(sd[..., 1]) + 0.5 * pt.log1p(-(corr**2))
    return -0.5 * quadratic - np.log(2.0 * np.pi) - scale


def bivariate_normal_dist(mu, sd, corr, size):
    """Draws of :func:`bivariate_normal_logp`'s distribution: PyMC's MvNormal with the pair's
    Cholesky factor [[sd_1, 0], [sd_2 corr, sd_2 sqrt(1 - corr^2)]] (its density is not used)."""
    zero = pt.zeros_like(corr)
    first = pt.stack([sd[..., 0], zero], axis=-1)
    second = pt.stack([sd[..., 1] * corr, sd[..., 1] * pt.sqrt(1.0 - corr**2)], axis=-1)
    return pm.MvNormal.dist(mu=mu, chol=pt.stack([first, second], axis=-2), size=size)


def ordinal_log_cdf(x, link):
    """log F(x) for the inverse ``link`` F of an ordinal model; log(1 - F(x)) is log F(-x) for the
    symmetric links (logit, probit, cauchit), and -exp(x) for cloglog's F(x) = 1 - exp(-exp(x))."""
    if link == "logit":
        return -pt.softplus(-x)
    if link == "probit":
        return normal_lcdf(x)
    if link == "cloglog":
        return pt.log1mexp(-pt.exp(x))  # log(1 - exp(-e^x)), still -1.8e-24 at x = 4
    return pt.log(0.5 + pt.arctan(x) / np.pi)  # cauchit


def ordinal_log_ccdf(x, link):
    """log(1 - F(x)) (see :func:`ordinal_log_cdf`)."""
    return -pt.exp(x) if link == "cloglog" else ordinal_log_cdf(-x, link)


def ordinal_steps(eta, thresholds, disc):
    """disc (tau_k - eta) for every row and threshold (rows by thresholds): what the inverse link
    F of every ordinal family is applied to. ``disc`` is brms's discrimination, one value per row,
    or one number (``disc ~ 1``), or None where it is 1 (not modelled)."""
    x = thresholds[None, :] - eta[:, None]
    return x if disc is None else pt.as_tensor(disc)[..., None] * x


def cumulative_log_probs(eta, thresholds, link, disc=None):
    """brms's cumulative: P(y <= k) = F(disc (thresholds[k] - eta)), so log P(y = k) is
    log(F(tau_k - eta) - F(tau_{k-1} - eta)) with tau_0 = -inf, tau_K = +inf (disc 1). Rows by
    categories.

    E.g. logit, thresholds (-1, 1), eta 0: P = (0.269, 0.462, 0.269); with disc 2,
    P = (0.119, 0.762, 0.119).
    """
    x = ordinal_steps(eta, thresholds, disc)
    if link == "cloglog":  # through 1 - F(x) = exp(-e^x), exact in both tails: S_{k-1} - S_k
        above = -pt.exp(x)  # log P(y > k)
        upper = pt.concatenate([pt.zeros_like(above[:, :1]), above], axis=1)
        lower = pt.concatenate([above, pt.full_like(above[:, :1], -np.inf)], axis=1)
        return pm.math.logdiffexp(upper, lower)
    below = ordinal_log_cdf(x, link)  # log P(y <= k), k = 1 .. K-1
    upper = pt.concatenate([below, pt.zeros_like(below[:, :1])], axis=1)
    lower = pt.concatenate([pt.full_like(below[:, :1], -np.inf), below], axis=1)
    return pm.math.logdiffexp(upper, lower)


def sratio_log_probs(eta, thresholds, link, disc=None):
    """brms's sratio (stopping ratio): P(y = k | y >= k) = F(disc (tau_k - eta)); P(y = K) is the
    rest."""
    x = ordinal_steps(eta, thresholds, disc)
    stop, go = ordinal_log_cdf(x, link), ordinal_log_ccdf(x, link)
    passed = pt.concatenate([pt.zeros_like(go[:, :1]), pt.cumsum(go, axis=1)], axis=1)
    return passed + pt.concatenate([stop, pt.zeros_like(stop[:, :1])], axis=1)


def cratio_log_probs(eta, thresholds, link, disc=None):
    """brms's cratio (continuation ratio): P(y > k | y >= k) = F(disc (eta - tau_k))."""
    x = -ordinal_steps(eta, thresholds, disc)
    go, stop = ordinal_log_cdf(x, link), ordinal_log_ccdf(x, link)
    passed = pt.concatenate([pt.zeros_like(go[:, :1]), pt.cumsum(go, axis=1)], axis=1)
    return passed + pt.concatenate([stop, pt.zeros_like(stop[:, :1])], axis=1)


def acat_log_probs(eta, thresholds, link, disc=None):
    """brms's acat (adjacent category): P(y = k) is proportional to
    prod_{j<k} F(x_j) prod_{j>=k} (1 - F(x_j)) with x_j = disc (eta - tau_j); for logit, to
    exp(sum_{j<k} x_j)."""
    x = -ordinal_steps(eta, thresholds, disc)
    up, down = ordinal_log_cdf(x, link), ordinal_log_ccdf(x, link)
    zero = pt.zeros_like(up[:, :1])
    ups = pt.concatenate([zero, pt.cumsum(up, axis=1)], axis=1)
    downs = pt.concatenate([pt.cumsum(down[:, ::-1], axis=1)[:, ::-1], zero], axis=1)
    unnormalised = ups + downs
    return unnormalised - pm.math.logsumexp(unnormalised, axis=1, keepdims=True)
