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
``pm.Categorical`` over them.

brms's discrimination ``disc`` multiplies every difference of threshold and eta:
P(y <= k) = F(disc (tau_k - eta)) for ``cumulative``, and likewise in the other three. It is 1
unless a formula models it, ``disc ~ x + (1 | g)``, on the log scale with brms's normal(0, 1) prior
on that formula's intercept (the intercept is identified only through that prior: scaling disc
by c and the thresholds and eta by 1/c gives the same probabilities, as in brms). Example: logit,
thresholds (-1, 1), eta 0 and disc 2 give P = (0.119, 0.762, 0.119) instead of (0.269, 0.462,
0.269): a larger disc makes the categories sharper.
"""

from __future__ import annotations

from hiermod.data.families.family import Dpar, Family

__all__ = ["ORDINAL"]

_LINKS = ("logit", "probit", "cloglog", "cauchit")
_HINT = "ratings as whole numbers (1, 2, …) or an ordered pandas categorical"
_DISC = Dpar(
    "disc",
    "the discrimination (1 unless modelled)",
    prior=None,
    fixed=1.0,
    intercept_prior="normal(0, 1)",
)


def _ordinal(name: str, brms: str) -> Family:
    return Family(
        name,
        _LINKS,
        "ordinal",
        name,  # the stem of <name>_log_probs in hiermod.output.distributions
        (),  # no parameter templates: the emitter's ordinal likelihood passes eta and thresholds
        (_DISC,),
        custom=True,
        reductions=("merge",),  # identical rows merge into cells (hiermod.plan.merge)
        brms=brms,
        hint=_HINT,
    )


ORDINAL: tuple[Family, ...] = (
    _ordinal("cumulative", "cumulative"),
    _ordinal("sratio", "sratio"),
    _ordinal("cratio", "cratio"),
    _ordinal("acat", "acat"),
)
