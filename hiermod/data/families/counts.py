"""Counts beyond Poisson and binomial: beta-binomial, geometric, zero-inflated and hurdle models.

brms's parameterisations (its Stan functions ``fun_zero_inflated_*.stan``, ``fun_hurdle_*.stan``):
``zi`` is the probability of an extra zero, ``hu`` the probability of a zero, both logit-linked
when they have a formula; ``mu`` is the mean of the count part (untruncated, for the hurdles).
PyMC's zero-inflated and hurdle distributions take ``psi``, the probability of the count part, so
``psi = 1 - zi`` (``1 - hu``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytensor.tensor as pt

from hiermod.data.families.classic import LINKS_P, LINKS_POSITIVE
from hiermod.data.families.family import Dpar, Family

__all__ = ["COUNTS", "HU", "ZI"]

ZI = Dpar("zi", "the probability of an extra zero (zero inflation)", "beta(1, 1)", "logit")
HU = Dpar("hu", "the probability of a zero (the hurdle)", "beta(1, 1)", "logit")
_ALPHA = Dpar("alpha", "the NegativeBinomial overdispersion")
_PHI = Dpar("phi", "the beta-binomial precision", "gamma(0.01, 0.01)")  # brms's default
_COUNTS = "for real-valued responses use family='gaussian'"
_TRIALS = "write the response as successes | trials(n) ~ …"


def _hurdle_poisson_mean(p: Mapping[str, Any]) -> Any:
    # E[y] = (1 - hu) E[y | y > 0], and a Poisson count is above 0 with probability 1 - exp(-mu):
    # mu = 2, hu = 0.3 gives 0.7 * 2 / (1 - e^-2) = 1.619.
    return (1.0 - p["hu"]) * p["mu"] / -pt.expm1(-p["mu"])


def _hurdle_negbinomial_mean(p: Mapping[str, Any]) -> Any:
    # As the Poisson hurdle with P(y = 0) = (alpha / (alpha + mu))^alpha for the count part.
    zero = pt.exp(p["alpha"] * (pt.log(p["alpha"]) - pt.log(p["alpha"] + p["mu"])))
    return (1.0 - p["hu"]) * p["mu"] / (1.0 - zero)


def _zero_inflated_binomial_kind_mean(p: Mapping[str, Any]) -> Any:
    return (1.0 - p["zi"]) * p["mu"] * p["trials"]


COUNTS: tuple[Family, ...] = (
    Family(
        "beta_binomial",
        LINKS_P,
        "bounded_count",
        "BetaBinomial",
        (("alpha", "{mu} * {phi}"), ("beta", "(1.0 - {mu}) * {phi}"), ("n", "{trials}")),
        (_PHI,),
        aliases=("betabinomial",),
        reductions=("merge",),
        brms="beta_binomial",
        hint=_TRIALS,
    ),
    # brms's geometric is the negative binomial with shape 1 (counts 0, 1, 2, … with mean mu);
    # PyMC's Geometric counts trials from 1, so it is not that.
    Family(
        "geometric",
        LINKS_POSITIVE,
        "count",
        "NegativeBinomial",
        (("mu", "{mu}"), ("alpha", "1.0")),
        reductions=("merge",),
        brms="geometric",
        hint=_COUNTS,
    ),
    Family(
        "zero_inflated_poisson",
        LINKS_POSITIVE,
        "count",
        "ZeroInflatedPoisson",
        (("psi", "1.0 - {zi}"), ("mu", "{mu}")),
        (ZI,),
        aliases=("zip",),
        reductions=("merge",),
        brms="zero_inflated_poisson",
        hint=_COUNTS,
    ),
    Family(
        "zero_inflated_negbinomial",
        LINKS_POSITIVE,
        "count",
        "ZeroInflatedNegativeBinomial",
        (("psi", "1.0 - {zi}"), ("mu", "{mu}"), ("alpha", "{alpha}")),
        (_ALPHA, ZI),
        aliases=("zero_inflated_negativebinomial", "zinb"),
        reductions=("merge",),
        brms="zero_inflated_negbinomial (shape)",
        hint=_COUNTS,
    ),
    Family(
        "zero_inflated_binomial",
        LINKS_P,
        "bounded_count",
        "ZeroInflatedBinomial",
        (("psi", "1.0 - {zi}"), ("n", "{trials}"), ("p", "{mu}")),
        (ZI,),
        reductions=("merge",),
        brms="zero_inflated_binomial",
        hint=_TRIALS,
    ),
    Family(
        "zero_inflated_beta_binomial",
        LINKS_P,
        "bounded_count",
        "zero_inflated_beta_binomial",
        (("mu", "{mu}"), ("phi", "{phi}"), ("zi", "{zi}"), ("trials", "{trials}")),
        (_PHI, ZI),
        custom=True,
        mean=_zero_inflated_binomial_kind_mean,
        reductions=("merge",),
        brms="zero_inflated_beta_binomial",
        hint=_TRIALS,
    ),
    Family(
        "hurdle_poisson",
        LINKS_POSITIVE,
        "count",
        "HurdlePoisson",
        (("psi", "1.0 - {hu}"), ("mu", "{mu}")),
        (HU,),
        mean=_hurdle_poisson_mean,
        reductions=("merge",),
        brms="hurdle_poisson",
        hint=_COUNTS,
    ),
    Family(
        "hurdle_negbinomial",
        LINKS_POSITIVE,
        "count",
        "HurdleNegativeBinomial",
        (("psi", "1.0 - {hu}"), ("mu", "{mu}"), ("alpha", "{alpha}")),
        (_ALPHA, HU),
        aliases=("hurdle_negativebinomial",),
        mean=_hurdle_negbinomial_mean,
        reductions=("merge",),
        brms="hurdle_negbinomial (shape)",
        hint=_COUNTS,
    ),
)
