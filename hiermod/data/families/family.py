"""What a family is: :class:`Family` and its distributional parameters :class:`Dpar`.

The entries themselves are in the sibling modules (:mod:`.classic`, :mod:`.counts`,
:mod:`.continuous`, :mod:`.ordinal`, :mod:`.categorical`); :mod:`hiermod.data.families` gathers
them into ``FAMILIES``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from hiermod.errors import DataError, FamilyError

__all__ = ["LINKS", "Dpar", "DparLink", "Family", "ResponseKind"]

# The links of mu. tan_half is brms's link of von Mises's mean direction: mu = 2 atan(eta), so
# that every real eta is an angle in (-pi, pi).
LINKS = ("identity", "log", "logit", "probit", "cloglog", "cauchit", "tan_half")

ResponseKind = Literal[
    "real",
    "binary",
    "count",
    "bounded_count",
    "positive",
    "nonnegative",
    "unit",
    "unit_with_zero",  # [0, 1): zero-inflated beta
    "unit_closed",  # [0, 1]: zero-one-inflated beta
    "angle",  # [-pi, pi]: von Mises
    "ordinal",  # ordered categories, coded 0 .. K-1 (hiermod.data.ordinal)
    "categorical",  # unordered categories, coded 0 .. K-1, the first the reference
    "count_matrix",  # counts of K categories, a column each: cbind(a, b, c) (multinomial)
    "simplex",  # shares of K categories, a column each, adding up to 1 per row (Dirichlet)
]
Reduction = Literal["suffstats", "collapse", "merge"]  # merge: hiermod.plan.merge
DparLink = Literal["log", "logit", "identity"]

# What each link of an auxiliary parameter makes it: a prior without a formula must have this
# support (hiermod.plan.priors checks it), e.g. zi in (0, 1) has a beta prior, sigma a positive one.
DPAR_SUPPORT: dict[str, str] = {"log": "positive", "logit": "unit", "identity": "real"}


@dataclass(frozen=True, slots=True)
class Dpar:
    """A distributional parameter besides ``mu``.

    Attributes:
        name: as in formulas (``sigma ~ x``), priors and the posterior (``"shape"``).
        meaning: what it is, for the comments of the generated source (``"the Weibull shape"``).
        prior: its default prior when it has no formula, in prior syntax; ``None`` for a noise sd,
            whose default is ``exponential(1 / sd(y))`` (set from the data when the plan is made).
        link: the scale its formula is linear on, brms's: ``"log"`` for a positive parameter,
            ``"logit"`` for a probability (``zi``, ``hu``), ``"identity"`` for a real one (the
            skew-normal ``alpha``).
        fixed: without a formula the parameter is this number, not estimated: brms's ``disc`` of
            the ordinal families is 1 unless ``disc ~ …`` models it (on the log scale).
        intercept_prior: the default prior of its formula's intercept (on the link scale), when
            it is not hiermod's rule for the link (``disc``: brms's normal(0, 1)).
    """

    name: str
    meaning: str
    prior: str | None = "gamma(2, 0.1)"
    link: DparLink = "log"
    fixed: float | None = None
    intercept_prior: str | None = None

    @property
    def support(self) -> str:
        """``"positive"``, ``"unit"`` or ``"real"``: what its link maps the real line onto."""
        return DPAR_SUPPORT[self.link]


# E[y] of a family as a function of its distributional parameters (PyTensor variables by name,
# ``trials`` for the binomial kinds), for families whose PyMC distribution has no mean() or not
# this one, e.g. a zero-inflated Poisson: ``lambda p: (1.0 - p["zi"]) * p["mu"]``.
Expectation = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class Family:
    """A likelihood family.

    Attributes:
        name: the family's name as users write it (``"gaussian"``).
        links: allowed links for ``mu``; the first is the default.
        response: what a valid response is (see :meth:`check_response`).
        distribution: the PyMC distribution of one response (``"Normal"`` for ``pm.Normal``), or
            for a family PyMC lacks the stem of its functions in :mod:`hiermod.output.distributions`
            (``"zero_inflated_beta"``: ``zero_inflated_beta_logp`` and ``_random``, or ``_dist``),
            written into the generated module and called through ``pm.CustomDist``; see ``custom``.
        params: its arguments as code templates over the distributional parameters, in call
            order: ``(("alpha", "{alpha}"), ("beta", "{alpha} / {mu}"))``. ``{trials}`` is the
            number of trials of a ``trials()`` response.
        auxiliary_params: the distributional parameters besides ``mu``.
        aliases: other accepted spellings (``"normal"``, ``"negbinomial"``).
        logit_param: the argument that takes ``mu``'s logit directly, used with the logit link
            (``"logit_p"``: ``pm.Bernoulli(logit_p=eta)`` is stabler than ``p=sigmoid(eta)``).
        data_scale: with the identity link, default priors of the mean's intercept and of ``sigma``
            are set on this scale of the response (``"y"``, or ``"log y"`` for the lognormal); ``None``
            for families whose default priors are on the unit scale of the link.
        reductions: the likelihood reductions :mod:`hiermod.plan` may apply (per-cell sufficient
            statistics for the Gaussian, merged counts for Poisson and binomial rows, identical
            rows counted once with their number for the other discrete families).
        custom: ``distribution`` names functions of :mod:`hiermod.output.distributions`, not a
            PyMC class.
        mean: E[y] from the distributional parameters, when PyMC's ``mean()`` of the distribution
            does not give it (a hurdle's truncated part, a custom distribution).
        brms: brms's name of the family, for the docs (``"zero_inflated_poisson"``).
        hint: what to do about a response this family cannot take.
    """

    name: str
    links: tuple[str, ...]
    response: ResponseKind
    distribution: str
    params: tuple[tuple[str, str], ...]
    auxiliary_params: tuple[Dpar, ...] = ()
    aliases: tuple[str, ...] = ()
    logit_param: str | None = None
    data_scale: Literal["y", "log y"] | None = None
    reductions: tuple[Reduction, ...] = ()
    custom: bool = False
    mean: Expectation | None = None
    brms: str = ""
    hint: str | None = None

    @property
    def default_link(self) -> str:
        return self.links[0]

    @property
    def auxiliary(self) -> tuple[str, ...]:
        """The names of the distributional parameters besides ``mu``."""
        return tuple(d.name for d in self.auxiliary_params)

    @property
    def dpars(self) -> tuple[str, ...]:
        """Every distributional parameter's name, ``mu`` first."""
        return ("mu", *self.auxiliary)

    @property
    def needs_trials(self) -> bool:
        """The response is successes out of ``trials()`` (binomial, beta-binomial, …)."""
        return self.response in ("bounded_count", "count_matrix")

    @property
    def ordinal(self) -> bool:
        """An ordinal model: thresholds instead of an intercept, category probabilities."""
        return self.response == "ordinal"

    @property
    def categorical(self) -> bool:
        """Unordered categories: one linear predictor ``mu<category>`` per non-reference category."""
        return self.response == "categorical"

    @property
    def per_category(self) -> bool:
        """One linear predictor ``mu<category>`` per category after the first: the categorical,
        multinomial and Dirichlet families (:mod:`hiermod.data.families.categorical`)."""
        return self.response in ("categorical", "count_matrix", "simplex")

    @property
    def columns_response(self) -> bool:
        """The response is several columns, one per category: ``cbind(a, b, c) ~ …``."""
        return self.response in ("count_matrix", "simplex")

    @property
    def has_categories(self) -> bool:
        """The response is one of K categories, predicted as K probabilities (ordinal, categorical)."""
        return self.response in ("ordinal", "categorical")

    @property
    def discrete(self) -> bool:
        """The response takes whole numbers (bars, not densities, in a predictive check)."""
        discrete = ("binary", "count", "bounded_count", "ordinal", "categorical", "count_matrix")
        return self.response in discrete

    def dpar(self, name: str) -> Dpar:
        """The auxiliary parameter called ``name``."""
        return next(d for d in self.auxiliary_params if d.name == name)

    def on_data_scale(self, y: np.ndarray) -> np.ndarray:
        """The response on the scale of the default priors' moments: ``log y`` for the lognormal."""
        return np.log(y) if self.data_scale == "log y" else y

    def check_link(self, link: str | None) -> str:
        """The link to use: the default when ``None``, else ``link`` if this family allows it."""
        if link is None:
            return self.default_link
        if link not in self.links:
            raise FamilyError(
                f"family {self.name!r} does not take the link {link!r}",
                hint=f"its links are: {', '.join(self.links)}",
            )
        return link

    def check_response(self, y: np.ndarray, column: str, trials: np.ndarray | None = None) -> None:
        """Raise :class:`DataError` naming the column when ``y`` is not valid for this family.

        ``y`` is the numeric response after encoding (a two-level categorical is already 0/1).
        """
        finite = np.isfinite(y) if y.dtype.kind == "f" else np.ones(y.shape, dtype=bool)
        if trials is not None:
            trials = np.broadcast_to(trials, y.shape)[finite]
        found = _problem(self.response, y[finite], trials)
        if found is not None:
            problem, bad = found
            raise DataError(
                f"response {column!r} {problem} for the {self.name} family "
                f"(e.g. {bad.flat[0].item()!r})",
                hint=self.hint,
            )


def _problem(
    kind: ResponseKind, y: np.ndarray, trials: np.ndarray | None
) -> tuple[str, np.ndarray] | None:
    """What is wrong with a ``kind`` response ``y`` and the values at fault; ``None`` if nothing."""
    if kind in ("count", "bounded_count", "count_matrix"):
        checks = [
            ("must be counts (0, 1, 2, …) but has negative values", y < 0),
            ("must be counts (0, 1, 2, …) but has non-integer values", np.mod(y, 1) != 0),
        ]
        if kind == "bounded_count" and trials is not None:
            more = y > trials
            checks.append(("has more successes than trials in some rows", more))
    else:
        checks = [(_PROBLEMS[kind], _OUTSIDE[kind](y))]
    for problem, bad in checks:
        if bad.any():
            return problem, y[bad]
    return None


_OUTSIDE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "real": lambda v: np.zeros(v.shape, dtype=bool),
    "binary": lambda v: ~np.isin(v, (0, 1)),
    "positive": lambda v: v <= 0,
    "nonnegative": lambda v: v < 0,
    "unit": lambda v: (v <= 0) | (v >= 1),
    "unit_with_zero": lambda v: (v < 0) | (v >= 1),
    "unit_closed": lambda v: (v < 0) | (v > 1),
    "angle": lambda v: np.abs(v) > np.pi,
    "ordinal": lambda v: v < 0,  # codes of the categories (hiermod.data.ordinal)
    "categorical": lambda v: v < 0,
    "simplex": lambda v: (v <= 0) | (v >= 1),
}
_PROBLEMS: dict[str, str] = {
    "real": "",
    "binary": "must be 0/1, boolean, or have exactly two levels",
    "positive": "must be positive (> 0)",
    "nonnegative": "must be non-negative (>= 0)",
    "unit": "must lie strictly between 0 and 1",
    "unit_with_zero": "must lie in [0, 1): zeros and values strictly between 0 and 1",
    "unit_closed": "must lie in [0, 1]",
    "angle": "must be an angle in radians, between -pi and pi",
    "ordinal": "must be one of the ordered categories",
    "categorical": "must be one of the categories",
    "simplex": "must be shares strictly between 0 and 1",
}
