"""Ordinal families: ordered categories through thresholds on a latent scale, as brms's.

With K categories, K - 1 thresholds tau (the ``Intercept`` vector, dim ``<response>_threshold``;
increasing for ``cumulative``, free for the others, whose thresholds are steps of conditional
probabilities, as in brms) take the place of the intercept of ``mu``'s formula, whose other terms
make the linear predictor eta. F is the inverse link (logit, probit, cloglog or cauchit):

- ``cumulative``: P(y <= k) = F(tau_k - eta);
- ``sratio`` (stopping ratio): P(y = k | y >= k) = F(tau_k - eta);
- ``cratio`` (continuation ratio): P(y > k | y >= k) = F(eta - tau_k);
- ``acat`` (adjacent categories): P(y = k) proportional to
  prod_{j<k} F(eta - tau_j) prod_{j>=k} (1 - F(eta - tau_j)).

A larger eta moves probability to higher categories in all four. The log probabilities are
computed by :mod:`hiermod.output.distributions` (``cumulative_log_probs`` …) and the response is a
``pm.Categorical`` over them. brms's ``disc`` (a discrimination, fixed at 1 by default) is not a
parameter here yet.
"""

from __future__ import annotations

from hiermod.data.families.family import Family

__all__ = ["ORDINAL"]

_LINKS = ("logit", "probit", "cloglog", "cauchit")
_HINT = "ratings as whole numbers (1, 2, …) or an ordered pandas categorical"


def _ordinal(name: str, brms: str) -> Family:
    return Family(
        name,
        _LINKS,
        "ordinal",
        name,  # the stem of <name>_log_probs in hiermod.output.distributions
        (),  # no parameter templates: the emitter's ordinal likelihood passes eta and thresholds
        custom=True,
        brms=brms,
        hint=_HINT,
    )


ORDINAL: tuple[Family, ...] = (
    _ordinal("cumulative", "cumulative"),
    _ordinal("sratio", "sratio"),
    _ordinal("cratio", "cratio"),
    _ordinal("acat", "acat"),
)
