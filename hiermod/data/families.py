"""Response families: each one defined once, as data every stage reads.

A family is one :class:`Family` entry in :data:`FAMILIES` and nothing else: its distributional
parameters (``mu`` first) with their meaning and default priors, the links ``mu`` allows, what a valid
response looks like, its PyMC distribution with the parameter mapping as code templates, the default
priors' data scale, and which likelihood reductions it admits. The lowering (default priors), the
source emitter (the likelihood line, the comments), the PyMC model (which *is* the emitted module,
:mod:`hiermod.output.module`), prediction (PyMC's own ``mean()`` and random draws of that
distribution) and the graph all read it from here. Adding a family is adding an entry and its tests
(worked example in docs/architecture.md).

=================  =========================  =========================  ==============================
family             parameters (link)          response                   PyMC (templates)
=================  =========================  =========================  ==============================
gaussian           mu (identity|log), sigma   real                       Normal(mu, sigma)
student_t          mu, sigma, nu              real                       StudentT(nu, mu, sigma)
bernoulli          mu (logit|probit|cloglog)  0/1, bool, two levels      Bernoulli(p=mu)
binomial           mu (logit|probit|cloglog)  0..trials, trials()        Binomial(n, p=mu)
poisson            mu (log|identity)          counts 0, 1, 2, ...        Poisson(mu)
negativebinomial   mu (log|identity), alpha   counts                     NegativeBinomial(mu, alpha)
gamma              mu (log|identity), alpha   positive                   Gamma(alpha, alpha / mu)
lognormal          mu (identity), sigma       positive                   LogNormal(mu, sigma)
beta               mu (logit|...), phi        in (0, 1)                  Beta(mu phi, (1 - mu) phi)
exponential        mu (log|identity)          non-negative               Exponential(scale=mu)
weibull            mu (log|identity), shape   non-negative               Weibull(shape,
                                                                         mu / Γ(1 + 1/shape))
=================  =========================  =========================  ==============================

``mu`` is the mean of the response for every family but the lognormal (the mean of ``log y``), as in
brms; so ``exponential`` and ``weibull`` are brms's parameterisations (brms's Stan code:
``exponential_lpdf(y | inv(mu))``, ``weibull_lpdf(y | shape, mu / tgamma(1 + 1 / shape))``). Every
parameter other than ``mu`` is positive and modelled on the log scale when it has a formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from hiermod.errors import DataError, FamilyError
from hiermod.formula.functions import closest

__all__ = ["FAMILIES", "LINKS", "Dpar", "Family", "get_family"]

LINKS = ("identity", "log", "logit", "probit", "cloglog")

ResponseKind = Literal[
    "real", "binary", "count", "bounded_count", "positive", "nonnegative", "unit"
]
Reduction = Literal["suffstats", "collapse"]


@dataclass(frozen=True, slots=True)
class Dpar:
    """A distributional parameter besides ``mu`` (positive; log link when it has a formula).

    Attributes:
        name: as in formulas (``sigma ~ x``), priors and the posterior (``"shape"``).
        meaning: what it is, for the comments of the generated source (``"the Weibull shape"``).
        prior: its default prior when it has no formula, in prior syntax; ``None`` for a noise sd,
            whose default is ``exponential(1 / sd(y))`` (set from the data when the plan is made).
    """

    name: str
    meaning: str
    prior: str | None = "gamma(2, 0.1)"


@dataclass(frozen=True, slots=True)
class Family:
    """A likelihood family.

    Attributes:
        name: the family's name as users write it (``"gaussian"``).
        links: allowed links for ``mu``; the first is the default.
        response: what a valid response is (see :meth:`check_response`).
        distribution: the PyMC distribution of one response (``"Normal"`` for ``pm.Normal``).
        params: its arguments as code templates over the distributional parameters, in call
            order: ``(("alpha", "{alpha}"), ("beta", "{alpha} / {mu}"))``. ``{trials}`` is the
            number of trials of a ``trials()`` response.
        auxiliary: the distributional parameters besides ``mu``.
        aliases: other accepted spellings (``"normal"``, ``"negbinomial"``).
        logit_param: the argument that takes ``mu``'s logit directly, used with the logit link
            (``"logit_p"``: ``pm.Bernoulli(logit_p=eta)`` is stabler than ``p=sigmoid(eta)``).
        data_scale: with the identity link, default priors of the mean's intercept and of ``sigma``
            are set on this scale of the response (``"y"``, or ``"log y"`` for the lognormal); ``None``
            for families whose default priors are on the unit scale of the link.
        reductions: the likelihood reductions :mod:`hiermod.plan` may apply (per-cell sufficient
            statistics for the Gaussian, merged counts for Poisson and binomial rows).
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

    @property
    def default_link(self) -> str:
        return self.links[0]

    @property
    def auxiliary(self) -> tuple[str, ...]:
        """The names of the distributional parameters besides ``mu`` (all positive, log link)."""
        return tuple(d.name for d in self.auxiliary_params)

    @property
    def dpars(self) -> tuple[str, ...]:
        """Every distributional parameter's name, ``mu`` first."""
        return ("mu", *self.auxiliary)

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
        elif self.response == "nonnegative" and (finite < 0).any():
            problem = "must be non-negative (>= 0)"
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
    elif kind == "nonnegative":
        bad = y[y < 0]
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
    "exponential": "times and durations are non-negative; for real-valued responses use 'gaussian'",
    "weibull": "times and durations are non-negative; for real-valued responses use 'gaussian'",
}

_SIGMA = Dpar("sigma", "the residual standard deviation", prior=None)
_LINKS_P = ("logit", "probit", "cloglog")
_LINKS_POSITIVE = ("log", "identity")

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "gaussian",
            ("identity", "log"),
            "real",
            "Normal",
            (("mu", "{mu}"), ("sigma", "{sigma}")),
            (_SIGMA,),
            aliases=("normal",),
            data_scale="y",
            reductions=("suffstats",),
        ),
        Family(
            "student_t",
            ("identity", "log"),
            "real",
            "StudentT",
            (("nu", "{nu}"), ("mu", "{mu}"), ("sigma", "{sigma}")),
            (
                Dpar("sigma", "the scale of the Student-t", prior=None),
                Dpar("nu", "the Student-t degrees of freedom"),  # gamma(2, 0.1) as brms
            ),
            aliases=("studentt", "t"),
            data_scale="y",
        ),
        Family(
            "bernoulli",
            _LINKS_P,
            "binary",
            "Bernoulli",
            (("p", "{mu}"),),
            aliases=("logistic",),
            logit_param="logit_p",
            reductions=("collapse",),
        ),
        Family(
            "binomial",
            _LINKS_P,
            "bounded_count",
            "Binomial",
            (("n", "{trials}"), ("p", "{mu}")),
            logit_param="logit_p",
            reductions=("collapse",),
        ),
        Family(
            "poisson",
            _LINKS_POSITIVE,
            "count",
            "Poisson",
            (("mu", "{mu}"),),
            reductions=("collapse",),
        ),
        Family(
            "negativebinomial",
            _LINKS_POSITIVE,
            "count",
            "NegativeBinomial",
            (("mu", "{mu}"), ("alpha", "{alpha}")),
            (Dpar("alpha", "the NegativeBinomial overdispersion"),),
            aliases=("negbinomial", "negative_binomial", "nb"),
        ),
        Family(
            "gamma",
            _LINKS_POSITIVE,
            "positive",
            "Gamma",
            (("alpha", "{alpha}"), ("beta", "{alpha} / {mu}")),
            (Dpar("alpha", "the Gamma shape"),),
        ),
        Family(
            "lognormal",
            ("identity",),
            "positive",
            "LogNormal",
            (("mu", "{mu}"), ("sigma", "{sigma}")),
            (_SIGMA,),
            data_scale="log y",
        ),
        Family(
            "beta",
            _LINKS_P,
            "unit",
            "Beta",
            (("alpha", "{mu} * {phi}"), ("beta", "(1.0 - {mu}) * {phi}")),
            (Dpar("phi", "the Beta precision"),),
        ),
        # brms: exponential_lpdf(y | inv(mu)); the mean is mu.
        Family(
            "exponential",
            _LINKS_POSITIVE,
            "nonnegative",
            "Exponential",
            (("scale", "{mu}"),),
        ),
        # brms: weibull_lpdf(y | shape, mu / tgamma(1 + 1 / shape)), so that the mean is mu;
        # brms's default prior of the shape is gamma(0.01, 0.01).
        Family(
            "weibull",
            _LINKS_POSITIVE,
            "nonnegative",
            "Weibull",
            (("alpha", "{shape}"), ("beta", "{mu} / pt.gamma(1.0 + 1.0 / {shape})")),
            (Dpar("shape", "the Weibull shape", prior="gamma(0.01, 0.01)"),),
        ),
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
