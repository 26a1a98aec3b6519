"""Continuous families beyond the classic ones, and those with a point mass at 0 (or 1).

Each is brms's parameterisation (its Stan code and ``vignette("brms_families")``), written as
PyMC's distribution with the parameters mapped, or as a distribution of
:mod:`hiermod.output.distributions` where PyMC has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytensor.tensor as pt

from hiermod.data.families.classic import LINKS_P, LINKS_POSITIVE, SIGMA
from hiermod.data.families.counts import HU, ZI
from hiermod.data.families.family import Dpar, Family

__all__ = ["CONTINUOUS"]

_REAL = "for a response on a bounded scale pick a family for that range"
_IDENTITY_LOG = ("identity", "log")


def _mu(p: Mapping[str, Any]) -> Any:
    return p["mu"]  # the mean is mu (brms's parameterisation)


def _shifted_lognormal_mean(p: Mapping[str, Any]) -> Any:
    return p["ndt"] + pt.exp(p["mu"] + p["sigma"] ** 2 / 2.0)


def _hurdle_gamma_mean(p: Mapping[str, Any]) -> Any:
    return (1.0 - p["hu"]) * p["mu"]  # the gamma part has no zeros: nothing is truncated


def _hurdle_lognormal_mean(p: Mapping[str, Any]) -> Any:
    return (1.0 - p["hu"]) * pt.exp(p["mu"] + p["sigma"] ** 2 / 2.0)


def _zero_inflated_beta_mean(p: Mapping[str, Any]) -> Any:
    return (1.0 - p["zi"]) * p["mu"]


def _zero_one_inflated_beta_mean(p: Mapping[str, Any]) -> Any:
    # 0 or 1 with probability zoi, 1 among those with probability coi: zoi coi + (1 - zoi) mu
    return p["zoi"] * p["coi"] + (1.0 - p["zoi"]) * p["mu"]


_PHI = Dpar("phi", "the Beta precision")

CONTINUOUS: tuple[Family, ...] = (
    Family(
        "skew_normal",
        _IDENTITY_LOG,
        "real",
        "skew_normal",  # PyMC's SkewNormal loses log Phi below alpha z ~ -7 (-inf at -14)
        (("mu", "{mu}"), ("sigma", "{sigma}"), ("alpha", "{alpha}")),
        (
            Dpar("sigma", "the standard deviation of the response", prior=None),
            Dpar("alpha", "the skewness (0: the normal)", "normal(0, 4)", "identity"),
        ),
        aliases=("skewnormal",),
        custom=True,
        mean=_mu,
        data_scale="y",
        brms="skew_normal",
        hint=_REAL,
    ),
    # brms: exp_mod_normal(y | mu - beta, sigma, 1 / beta): mu is the mean, beta the mean of the
    # exponential part.
    Family(
        "exgaussian",
        _IDENTITY_LOG,
        "real",
        "exgaussian",  # as skew_normal: a log Phi accurate in the tails
        (("mu", "{mu}"), ("sigma", "{sigma}"), ("beta", "{beta}")),
        (
            Dpar("sigma", "the sd of the Gaussian part", prior=None),
            Dpar("beta", "the mean of the exponential part", prior=None),
        ),
        aliases=("exgauss", "ex_gaussian"),
        custom=True,
        mean=_mu,
        data_scale="y",
        brms="exgaussian",
        hint=_REAL,
    ),
    # brms: y - ndt ~ lognormal(mu, sigma); ndt, a non-decision time, defaults to a uniform
    # prior below the smallest response.
    Family(
        "shifted_lognormal",
        ("identity",),
        "positive",
        "shifted_lognormal",
        (("mu", "{mu}"), ("sigma", "{sigma}"), ("ndt", "{ndt}")),
        (SIGMA, Dpar("ndt", "the shift (non-decision time)", "uniform(0, {min_y})")),
        custom=True,
        mean=_shifted_lognormal_mean,
        data_scale="log y",
        brms="shifted_lognormal",
        hint="response times are positive",
    ),
    # brms: asym_laplace_lpdf(y | mu, sigma, quantile); mu is the quantile-th quantile of y.
    # PyMC's AsymmetricLaplace(b, kappa, mu) with q = quantile has kappa = sqrt(q / (1 - q)), and
    # brms's rates q / sigma above mu and (1 - q) / sigma below need b = sqrt(q (1 - q)) / sigma.
    Family(
        "asym_laplace",
        _IDENTITY_LOG,
        "real",
        "AsymmetricLaplace",
        (
            ("b", "pt.sqrt({quantile} * (1.0 - {quantile})) / {sigma}"),
            ("q", "{quantile}"),
            ("mu", "{mu}"),
        ),
        (
            Dpar("sigma", "the scale of the asymmetric Laplace", prior=None),
            Dpar("quantile", "the quantile mu is of the response", "beta(1, 1)", "logit"),
        ),
        aliases=("asymmetric_laplace", "asymmetriclaplace"),
        data_scale="y",
        brms="asym_laplace",
        hint=_REAL,
    ),
    Family(
        "laplace",
        _IDENTITY_LOG,
        "real",
        "Laplace",
        (("mu", "{mu}"), ("b", "{sigma}")),
        (Dpar("sigma", "the scale of the Laplace (the mean absolute deviation)", prior=None),),
        data_scale="y",
        brms="(Bambi's laplace; brms: asym_laplace with quantile 0.5)",
        hint=_REAL,
    ),
    Family(
        "wald",
        LINKS_POSITIVE,
        "positive",
        "Wald",
        (("mu", "{mu}"), ("lam", "{shape}")),
        (Dpar("shape", "the inverse Gaussian shape", "gamma(0.01, 0.01)"),),
        aliases=("inverse_gaussian", "inverse.gaussian", "inversegaussian"),
        brms="inverse.gaussian (brms's default link is 1/mu^2; hiermod's is log)",
        hint="the inverse Gaussian is for positive responses",
    ),
    Family(
        "von_mises",
        ("tan_half", "identity"),
        "angle",
        "VonMises",
        (("mu", "{mu}"), ("kappa", "{kappa}")),
        (Dpar("kappa", "the concentration", "gamma(2, 0.01)"),),
        aliases=("vonmises",),
        brms="von_mises",
        hint="angles are in radians, in [-pi, pi]: wrap them with np.angle(np.exp(1j * a))",
    ),
    Family(
        "hurdle_gamma",
        LINKS_POSITIVE,
        "nonnegative",
        "HurdleGamma",
        (("psi", "1.0 - {hu}"), ("alpha", "{alpha}"), ("beta", "{alpha} / {mu}")),
        (Dpar("alpha", "the Gamma shape", "gamma(0.01, 0.01)"), HU),
        mean=_hurdle_gamma_mean,
        brms="hurdle_gamma (shape)",
        hint="the hurdle gamma is for non-negative responses",
    ),
    Family(
        "hurdle_lognormal",
        ("identity",),
        "nonnegative",
        "HurdleLogNormal",
        (("psi", "1.0 - {hu}"), ("mu", "{mu}"), ("sigma", "{sigma}")),
        (Dpar("sigma", "the sd of log y above 0", "half_student_t(3, 2.5)"), HU),
        mean=_hurdle_lognormal_mean,
        brms="hurdle_lognormal",
        hint="the hurdle lognormal is for non-negative responses",
    ),
    Family(
        "zero_inflated_beta",
        LINKS_P,
        "unit_with_zero",
        "zero_inflated_beta",
        (("mu", "{mu}"), ("phi", "{phi}"), ("zi", "{zi}")),
        (_PHI, ZI),
        custom=True,
        mean=_zero_inflated_beta_mean,
        brms="zero_inflated_beta",
        hint="for exact 1s too use family='zero_one_inflated_beta'",
    ),
    Family(
        "zero_one_inflated_beta",
        LINKS_P,
        "unit_closed",
        "zero_one_inflated_beta",
        (("mu", "{mu}"), ("phi", "{phi}"), ("zoi", "{zoi}"), ("coi", "{coi}")),
        (
            _PHI,
            Dpar("zoi", "the probability of a 0 or 1", "beta(1, 1)", "logit"),
            Dpar("coi", "the probability of a 1 given a 0 or 1", "beta(1, 1)", "logit"),
        ),
        custom=True,
        mean=_zero_one_inflated_beta_mean,
        aliases=("zoib",),
        brms="zero_one_inflated_beta",
        hint="proportions are in [0, 1]",
    ),
)
