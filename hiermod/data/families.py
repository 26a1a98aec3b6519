"""Response families: their distributional parameters, links and response checks.

A family is data, not code paths scattered over the compiler: each lists its distributional parameters
(``mu`` first), the default and allowed links, and what a valid response looks like. The builder maps a
family to its PyMC distribution in one place (:mod:`hiermod.output.build`).

=================  =======================  ===========================  =========================
family             parameters (link)        response                     PyMC
=================  =======================  ===========================  =========================
gaussian           mu (identity), sigma     real                         Normal(mu, sigma)
student_t          mu, sigma, nu            real                         StudentT(nu, mu, sigma)
bernoulli          mu (logit|probit|cloglog) 0/1, bool, two levels       Bernoulli(p)
binomial           mu (logit|probit|cloglog) 0..trials, trials()         Binomial(n, p)
poisson            mu (log)                 counts 0, 1, 2, ...          Poisson(mu)
negativebinomial   mu (log), alpha          counts                       NegativeBinomial(mu, alpha)
gamma              mu (log), alpha          positive                     Gamma(alpha, alpha / mu)
lognormal          mu (identity), sigma     positive                     LogNormal(mu, sigma)
beta               mu (logit), phi          in (0, 1)                    Beta(mu phi, (1 - mu) phi)
=================  =======================  ===========================  =========================

Every parameter other than ``mu`` is positive and modelled on the log scale when it has a formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from hiermod.errors import DataError, FamilyError
from hiermod.formula.functions import closest

__all__ = ["FAMILIES", "LINKS", "Family", "get_family"]

LINKS = ("identity", "log", "logit", "probit", "cloglog")

ResponseKind = Literal["real", "binary", "count", "bounded_count", "positive", "unit"]


@dataclass(frozen=True, slots=True)
class Family:
    """A likelihood family.

    Attributes:
        name: the family's name as users write it (``"gaussian"``).
        dpars: distributional parameters, ``mu`` first; the others are positive.
        links: allowed links for ``mu``; the first is the default.
        response: what a valid response is (see :meth:`check_response`).
        aliases: other accepted spellings (``"normal"``, ``"negbinomial"``).
    """

    name: str
    dpars: tuple[str, ...]
    links: tuple[str, ...]
    response: ResponseKind
    aliases: tuple[str, ...] = ()

    @property
    def default_link(self) -> str:
        return self.links[0]

    @property
    def auxiliary(self) -> tuple[str, ...]:
        """The distributional parameters besides ``mu`` (all positive, log link)."""
        return self.dpars[1:]

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
        finite = y[np.isfinite(y)] if y.dtype.kind == "f" else y
        problem: str | None = None
        if self.response == "binary" and not np.isin(finite, (0, 1)).all():
            problem = "must be 0/1, boolean, or have exactly two levels"
        elif self.response in ("count", "bounded_count"):
            if (finite < 0).any():
                problem = "must be counts (0, 1, 2, …) but has negative values"
            elif not np.equal(np.mod(finite, 1), 0).all():
                problem = "must be counts (0, 1, 2, …) but has non-integer values"
            elif self.response == "bounded_count" and trials is not None and (y > trials).any():
                problem = "has more successes than trials in some rows"
        elif self.response == "positive" and (finite <= 0).any():
            problem = "must be positive (> 0)"
        elif self.response == "unit" and ((finite <= 0) | (finite >= 1)).any():
            problem = "must lie strictly between 0 and 1"
        if problem is not None:
            bad = _first_bad_value(self.response, finite, trials)
            raise DataError(
                f"response {column!r} {problem} for the {self.name} family (e.g. {bad})",
                hint=_RESPONSE_HINTS.get(self.name),
            )


def _first_bad_value(kind: str, y: np.ndarray, trials: np.ndarray | None) -> str:
    if kind == "binary":
        bad = y[~np.isin(y, (0, 1))]
    elif kind in ("count", "bounded_count"):
        bad = y[(y < 0) | (np.mod(y, 1) != 0)]
        if not bad.size and trials is not None:
            bad = y[y > trials]
    elif kind == "positive":
        bad = y[y <= 0]
    else:
        bad = y[(y <= 0) | (y >= 1)]
    return repr(bad[0].item()) if bad.size else "?"


_RESPONSE_HINTS = {
    "bernoulli": "for counts of successes out of n trials use family='binomial' with y | trials(n) ~ …",
    "poisson": "for real-valued responses use family='gaussian'",
    "negativebinomial": "for real-valued responses use family='gaussian'",
    "binomial": "write the response as successes | trials(n) ~ …",
    "gamma": "for data with zeros consider a hurdle model or log1p(y) with family='gaussian'",
    "lognormal": "for data with zeros consider log1p(y) with family='gaussian'",
    "beta": "squeeze exact 0/1 values into (0, 1), e.g. (y * (n - 1) + 0.5) / n",
}

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("gaussian", ("mu", "sigma"), ("identity", "log"), "real", ("normal",)),
        Family("student_t", ("mu", "sigma", "nu"), ("identity", "log"), "real", ("studentt", "t")),
        Family("bernoulli", ("mu",), ("logit", "probit", "cloglog"), "binary", ("logistic",)),
        Family("binomial", ("mu",), ("logit", "probit", "cloglog"), "bounded_count"),
        Family("poisson", ("mu",), ("log", "identity"), "count"),
        Family(
            "negativebinomial",
            ("mu", "alpha"),
            ("log", "identity"),
            "count",
            ("negbinomial", "negative_binomial", "nb"),
        ),
        Family("gamma", ("mu", "alpha"), ("log", "identity"), "positive"),
        Family("lognormal", ("mu", "sigma"), ("identity",), "positive"),
        Family("beta", ("mu", "phi"), ("logit", "probit", "cloglog"), "unit"),
    )
}

_ALIASES = {alias: f for f in FAMILIES.values() for alias in (f.name, *f.aliases)}


def get_family(name: str | Family) -> Family:
    """Look a family up by name or alias (case-insensitive); an unknown name suggests the closest."""
    if isinstance(name, Family):
        return name
    key = str(name).lower().replace("-", "_")
    family = _ALIASES.get(key) or _ALIASES.get(key.replace("_", ""))
    if family is None:
        suggestion = closest(key, _ALIASES)
        raise FamilyError(
            f"unknown family {name!r}",
            hint=(f"did you mean {suggestion!r}? " if suggestion else "")
            + f"families: {', '.join(FAMILIES)}",
        )
    return family
