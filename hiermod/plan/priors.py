"""Priors: the :class:`Prior` value, parsing ``"normal(0, 2.5)"``, default rules, and user overrides.

A prior string is parsed by hiermod's own formula grammar as a single function call, never evaluated::

    >>> from hiermod.plan.priors import parse_prior
    >>> parse_prior("student_t(3, 0, 2.5)")
    Prior('student_t', nu=3.0, mu=0.0, sigma=2.5)

Default priors (weakly informative and scaled to the data, after rstanarm's autoscaling and brms):

===================================  ==========================================================
parameter                            default
===================================  ==========================================================
``Intercept`` (gaussian, identity)   ``student_t(3, mean(y), 2.5 sd(y))``
``Intercept`` (other families)       ``student_t(3, 0, 2.5)`` on the link scale
``b`` (slope of column ``x``)        ``normal(0, 2.5 s / sd(x))``; ``s = sd(y)`` for gaussian, else 1
``sd_<g>`` (group-level sd)          ``half_normal(s)`` for the intercept, ``half_normal(s / sd(x))``
``corr_<g>``                         ``lkj(2)``: mildly favours small correlations
``sigma`` (constant)                 ``exponential(1 / sd(y))``
``sigma_Intercept`` (log link)       ``normal(log sd(y), 1.5)``
``sigma_b`` / ``sigma_sd_<g>``       ``normal(0, 1 / sd(x))`` / ``half_normal(1)`` (log scale)
``nu`` (student_t)                   ``gamma(2, 0.1)`` (brms)
``alpha``, ``phi`` (shape/precision)  ``gamma(2, 0.1)``
===================================  ==========================================================

Without an intercept, the indicator columns that take its place (``y ~ 0 + f``, ``sigma ~ 0 + g:c``:
one column per level, exactly one 1 per row) are intercepts level by level and get the intercept's
location and scale as a normal: ``normal(mean(y), 2.5 sd(y))``, or ``normal(log sd(y), 1.5)`` for sigma.
Every default is rounded to 4 significant digits (:meth:`Prior.rounded`).

A column with zero spread uses ``sd(x) = 1``. Binary columns (dummies) are scaled like any other column.
"gaussian" above means gaussian or student_t with the identity link, and lognormal with ``log(y)`` in
place of ``y`` (its mu and sigma are on the log scale). sigma's priors use ``sd(y)`` whatever the link
of mu: with ``link="log"``, mu is on the log scale but sigma is on the scale of ``y``.

Overrides (``priors={...}``) are matched by key, most specific first:

* an exact parameter name: ``"b"``, ``"sd_group"``, ``"corr_group__color"``, ``"sigma"``,
  ``"sigma_Intercept"``;
* one coefficient: ``"b[x1]"`` (the label in the ``coef`` dim);
* a class: ``"Intercept"``, ``"b"``, ``"sd"`` (every group-level sd), ``"corr"`` (every correlation), each
  optionally prefixed by a distributional parameter: ``"sigma_b"``, ``"sigma_sd"``.

A key that matches nothing is a :class:`~hiermod.errors.PriorError` naming the closest parameter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hiermod.errors import ArgumentError, FormulaSyntaxError, PriorError, Span
from hiermod.formula.functions import closest
from hiermod.formula.syntax import Arith, Call, Name, Number, UnaryMinus

if TYPE_CHECKING:  # the family table imports PyTensor: not at import (hiermod's CLI parser)
    from hiermod.data.families import Family

__all__ = [
    "DISTRIBUTIONS",
    "Prior",
    "PriorSlot",
    "check_fixed_priors",
    "parse_prior",
    "resolve_priors",
]


@dataclass(frozen=True, slots=True)
class _DistSpec:
    pymc: str  # the PyMC class name
    params: tuple[str, ...]  # PyMC parameter names, in the order a prior string gives them
    support: str  # "real", "positive", "unit" or "correlation"
    defaults: tuple[tuple[str, float], ...] = ()


DISTRIBUTIONS: dict[str, _DistSpec] = {
    "normal": _DistSpec("Normal", ("mu", "sigma"), "real"),
    "student_t": _DistSpec("StudentT", ("nu", "mu", "sigma"), "real"),
    "cauchy": _DistSpec("Cauchy", ("alpha", "beta"), "real"),
    "laplace": _DistSpec("Laplace", ("mu", "b"), "real"),
    "logistic": _DistSpec("Logistic", ("mu", "s"), "real"),
    "uniform": _DistSpec("Uniform", ("lower", "upper"), "real"),
    "flat": _DistSpec("Flat", (), "real"),
    "half_normal": _DistSpec("HalfNormal", ("sigma",), "positive"),
    "half_student_t": _DistSpec("HalfStudentT", ("nu", "sigma"), "positive"),
    "half_cauchy": _DistSpec("HalfCauchy", ("beta",), "positive"),
    "half_flat": _DistSpec("HalfFlat", (), "positive"),
    "exponential": _DistSpec("Exponential", ("lam",), "positive"),
    "gamma": _DistSpec("Gamma", ("alpha", "beta"), "positive"),
    "inverse_gamma": _DistSpec("InverseGamma", ("alpha", "beta"), "positive"),
    "lognormal": _DistSpec("LogNormal", ("mu", "sigma"), "positive"),
    "weibull": _DistSpec("Weibull", ("alpha", "beta"), "positive"),
    "beta": _DistSpec("Beta", ("alpha", "beta"), "unit"),
    "lkj": _DistSpec("LKJ", ("eta",), "correlation"),
    "dirichlet": _DistSpec("Dirichlet", ("a",), "simplex"),  # simo of mo(x)
}
_ALIASES = {
    "gaussian": "normal",
    "studentt": "student_t",
    "t": "student_t",
    "halfnormal": "half_normal",
    "halfstudentt": "half_student_t",
    "half_t": "half_student_t",
    "halfcauchy": "half_cauchy",
    "halfflat": "half_flat",
    "inv_gamma": "inverse_gamma",
    "inversegamma": "inverse_gamma",
    "log_normal": "lognormal",
    "lkj_corr": "lkj",
    "lkjcorr": "lkj",
}

ParamValue = float | tuple[float, ...]


def _canonical_dist(name: str) -> str | None:
    key = name.lower()
    key = _ALIASES.get(key, key)
    return key if key in DISTRIBUTIONS else None


@dataclass(frozen=True, slots=True, init=False)
class Prior:
    """A prior distribution: a name from :data:`DISTRIBUTIONS` and its parameters.

    Build one as ``Prior("normal", 0, 2.5)``, ``Prior("normal", mu=0, sigma=2.5)`` or from text with
    :func:`parse_prior`. A parameter may be a vector (one value per coefficient).
    """

    dist: str
    params: tuple[tuple[str, ParamValue], ...]

    def __init__(self, dist: str, *args: Any, **kwargs: Any) -> None:
        if not isinstance(dist, str):  # Prior(3), Prior(None): the name comes first
            raise ArgumentError(
                f"a Prior's first argument is the distribution's name, e.g. Prior('normal', 0, 1), "
                f"not {type(dist).__name__}"
            )
        name = _canonical_dist(dist)
        if name is None:
            raise PriorError(
                f"unknown prior distribution {dist!r}",
                hint=_did_you_mean(dist, DISTRIBUTIONS),
            )
        spec = DISTRIBUTIONS[name]
        if len(args) > len(spec.params):
            raise PriorError(
                f"{name}() takes {len(spec.params)} parameters ({', '.join(spec.params)}), "
                f"got {len(args)}"
            )
        values: dict[str, ParamValue] = {}
        for param, value in zip(spec.params, args, strict=False):
            values[param] = _as_value(value, name, param)
        for param, value in kwargs.items():
            if param not in spec.params:
                raise PriorError(
                    f"{name}() has no parameter {param!r}",
                    hint=f"its parameters are: {', '.join(spec.params) or 'none'}",
                )
            if param in values:
                raise PriorError(f"{name}() got {param!r} twice")
            values[param] = _as_value(value, name, param)
        missing = [p for p in spec.params if p not in values]
        if missing:
            raise PriorError(
                f"{name}() needs {', '.join(missing)}",
                hint=f"e.g. {name}({', '.join(spec.params)})",
            )
        _check_values(name, values)
        object.__setattr__(self, "dist", name)
        object.__setattr__(self, "params", tuple((p, values[p]) for p in spec.params))

    @property
    def pymc_class(self) -> str:
        """The PyMC distribution class name (``"Normal"``)."""
        return DISTRIBUTIONS[self.dist].pymc

    @property
    def support(self) -> str:
        return DISTRIBUTIONS[self.dist].support

    def kwargs(self) -> dict[str, Any]:
        """PyMC keyword arguments; vector parameters become NumPy arrays."""
        return {
            k: (np.asarray(v, dtype=float) if isinstance(v, tuple) else v) for k, v in self.params
        }

    def __str__(self) -> str:
        return f"{self.dist}({', '.join(_fmt(v) for _, v in self.params)})"

    def rounded(self, digits: int = 4) -> Prior:
        """The same prior with every parameter rounded to ``digits`` significant digits.

        Default priors are rounded so tables and generated source read like hand-written ones:
        ``student_t(3, 251.4, 141.5)`` rather than ``student_t(3, 251.40510032, 141.4855981)``.
        """

        def r(value: ParamValue) -> ParamValue:
            if isinstance(value, tuple):
                return tuple(float(f"{v:.{digits}g}") for v in value)
            return float(f"{value:.{digits}g}")

        return Prior(self.dist, **{k: r(v) for k, v in self.params})

    def __repr__(self) -> str:
        inner = ", ".join([repr(self.dist), *(f"{k}={v!r}" for k, v in self.params)])
        return f"Prior({inner})"


def _did_you_mean(name: str, options: object) -> str | None:
    suggestion = closest(name, options)
    return f"did you mean {suggestion!r}?" if suggestion else None


def _fmt(value: ParamValue) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return f"{value:.4g}" if not float(value).is_integer() else str(int(value))


def _as_value(value: Any, dist: str, param: str) -> ParamValue:
    array = np.asarray(value, dtype=float) if not isinstance(value, str) else None
    if array is None or array.ndim > 1:
        raise PriorError(f"{dist}() parameter {param!r} must be a number or a vector of numbers")
    if not np.isfinite(array).all():
        raise PriorError(f"{dist}() parameter {param!r} must be finite")
    if array.ndim == 1:
        return tuple(float(v) for v in array)
    return float(array)


_POSITIVE = {
    "sigma",
    "beta",
    "lam",
    "alpha",
    "nu",
    "eta",
    "b",
    "s",
    "a",
}


def _check_values(dist: str, values: Mapping[str, ParamValue]) -> None:
    for param, value in values.items():
        if dist in ("normal", "student_t", "laplace", "logistic", "lognormal") and param == "mu":
            continue
        if dist == "uniform":
            continue
        if param in _POSITIVE and min(np.atleast_1d(value)) <= 0:
            raise PriorError(f"{dist}() parameter {param!r} must be positive, got {_fmt(value)}")
    if dist == "uniform" and not np.all(np.asarray(values["lower"]) < np.asarray(values["upper"])):
        raise PriorError("uniform() needs lower < upper")


def parse_prior(text: str | Prior) -> Prior:
    """Parse ``"normal(0, 2.5)"`` (positional or keyword arguments) into a :class:`Prior`.

    The text goes through hiermod's grammar as one function call; numbers (with a leading minus)
    are the only argument values allowed. Nothing is evaluated.
    """
    if isinstance(text, Prior):
        return text
    if not isinstance(text, str):
        raise PriorError(
            f"a prior is a Prior or a string like 'normal(0, 1)', not {type(text).__name__}"
        )
    from hiermod.formula.parser import (
        parse_syntax,
    )  # local: parser imports lark lazily for the whole package

    stripped = text.strip()
    if not stripped:
        raise PriorError(
            "the prior is an empty string",
            hint="write a distribution call such as normal(0, 2.5), or leave the class out of "
            "priors= to keep hiermod's default",
        )
    try:
        tree = parse_syntax("~ " + stripped)
    except FormulaSyntaxError as error:
        span = error.span
        shifted = Span(max(0, span.start - 2), max(0, span.end - 2)) if span else None
        raise PriorError(
            f"cannot read the prior: {error.message}",
            stripped,
            shifted,
            hint="write a distribution call such as normal(0, 2.5)",
        ) from None
    rhs = tree.formulas[0].rhs if len(tree.formulas) == 1 else None
    if not isinstance(rhs, Call):
        raise PriorError(
            "a prior is one distribution call",
            stripped,
            Span(0, len(stripped)),
            hint="e.g. normal(0, 2.5)",
        )
    args = [_value(a, stripped) for a in rhs.args]
    kwargs = {k.name: _value(k.value, stripped) for k in rhs.kwargs}
    return Prior(rhs.func, *args, **kwargs)


def _value(node: object, text: str) -> float | list[float]:
    """A number, or a vector written ``[0, 1]`` or ``c(0, 1)``: ``normal([0, 1], 2.5)``."""
    if isinstance(node, Call) and node.func == "c":
        return [_number(item, text) for item in node.args]
    return _number(node, text)


def _number(node: object, text: str) -> float:
    if isinstance(node, Number):
        return node.value
    if isinstance(node, UnaryMinus) and isinstance(node.operand, Number):
        return -node.operand.value
    span = getattr(node, "span", None)
    shifted = Span(span.start - 2, span.end - 2) if span is not None else None
    what = (
        "a name"
        if isinstance(node, Name)
        else "an expression"
        if isinstance(node, Arith)
        else "this"
    )
    raise PriorError(
        f"prior parameters must be numbers, not {what}", text, shifted, hint="e.g. normal(0, 2.5)"
    )


# ---------------------------------------------------------------------------------------------------
# Default rules and override resolution.


@dataclass(frozen=True, slots=True)
class PriorSlot:
    """A parameter that needs a prior, with the keys that may override it.

    ``keys`` are tried most specific first (e.g. ``("sd_g", "sd")``); ``labels`` are the coefficient
    labels of a vector parameter, so ``"b[x1]"`` can override one element.
    """

    name: str
    keys: tuple[str, ...]
    default: Prior
    support: str
    labels: tuple[str, ...] = ()
    detail: str = ""  # how the default was chosen, when not by the default rule


@dataclass(frozen=True, slots=True)
class ResolvedPrior:
    name: str
    prior: Prior
    source: str  # "default" or "user"
    detail: str = ""  # which key matched, or how the default was scaled


def resolve_priors(
    slots: Sequence[PriorSlot], user: Mapping[str, Prior | str] | None
) -> dict[str, ResolvedPrior]:
    """Give every slot its prior: the user's (most specific key wins) or the default.

    Per-coefficient keys (``"b[x1]"``) replace one element of a vector prior; this needs the chosen
    distribution to be the same for the whole vector (``normal`` for all of ``b``), else an error.
    """
    parsed = {key: parse_prior(value) for key, value in (user or {}).items()}
    used: set[str] = set()
    out: dict[str, ResolvedPrior] = {}
    for slot in slots:
        chosen = ResolvedPrior(slot.name, slot.default, "default", slot.detail)
        for key in slot.keys:
            if key in parsed:
                chosen = ResolvedPrior(slot.name, parsed[key], "user", key)
                used.add(key)
                break
        element_keys = [(i, f"{slot.name}[{label}]") for i, label in enumerate(slot.labels)]
        overrides = [(i, key) for i, key in element_keys if key in parsed]
        if overrides:
            chosen = _override_elements(slot, chosen, [(i, parsed[k]) for i, k in overrides])
            used.update(k for _, k in overrides)
        _check_support(slot, chosen)
        _check_length(slot, chosen)
        out[slot.name] = chosen
    unknown = [key for key in parsed if key not in used]
    if unknown:
        known = sorted(
            {k for s in slots for k in s.keys}
            | {f"{s.name}[{lb}]" for s in slots for lb in s.labels}
        )
        error = PriorError(
            f"the prior key {unknown[0]!r} matches no parameter of this model",
            hint=_did_you_mean(unknown[0], known) or f"keys: {', '.join(known)}",
        )
        error.unknown_keys = tuple(unknown)  # Model.update drops the old keys a new formula lacks
        raise error
    return out


def _override_elements(
    slot: PriorSlot, base: ResolvedPrior, elements: list[tuple[int, Prior]]
) -> ResolvedPrior:
    dist = base.prior.dist
    if any(p.dist != dist for _, p in elements):
        raise PriorError(
            f"per-coefficient priors for {slot.name!r} must use the same distribution as the rest "
            f"({dist})",
            hint=f"set the whole vector first, e.g. priors={{'{slot.name}': '{dist}(...)'}}",
        )
    n = len(slot.labels)
    merged: dict[str, list[float]] = {
        k: list(v) if isinstance(v, tuple) else [float(v)] * n for k, v in base.prior.params
    }
    for index, prior in elements:
        for k, v in prior.params:
            if isinstance(v, tuple):
                raise PriorError(f"the prior for {slot.name}[{slot.labels[index]}] must be scalar")
            merged[k][index] = float(v)
    prior = Prior(dist, **{k: tuple(v) for k, v in merged.items()})
    keys = ", ".join(f"{slot.name}[{slot.labels[i]}]" for i, _ in elements)
    return ResolvedPrior(
        slot.name, prior, "user", keys if base.source == "default" else f"{base.detail}, {keys}"
    )


def _check_length(slot: PriorSlot, chosen: ResolvedPrior) -> None:
    """A vector of prior values has one value per coefficient: ``normal([0, 0, 0], 1)`` for a ``b``
    of two coefficients is an error, not a ``b`` of the wrong shape."""
    size = len(slot.labels) or 1
    for param, value in chosen.prior.params:
        if isinstance(value, tuple) and len(value) not in (1, size):
            what = (
                f"{size} coefficient{'s' if size > 1 else ''} ({', '.join(slot.labels)})"
                if slot.labels
                else "one value"
            )
            raise PriorError(
                f"the prior {chosen.prior} for {slot.name} gives {param} {len(value)} values, "
                f"but {slot.name} has {what}",
                hint="give one number for all of them, or one per coefficient in their order"
                if slot.labels
                else f"{slot.name} is one number: give its prior one value",
            )


def _uniform_within(prior: Prior, lower: float, upper: float) -> bool:
    """``prior`` is ``uniform(a, b)`` with ``lower <= a < b <= upper``: e.g. ``uniform(0, 0.3)``
    is a prior of a positive parameter (the shifted lognormal's ``ndt``) and of a probability."""
    if prior.dist != "uniform":
        return False
    bounds = dict(prior.params)
    a, b = bounds["lower"], bounds["upper"]
    return isinstance(a, float | int) and isinstance(b, float | int) and lower <= a and b <= upper


def _check_support(slot: PriorSlot, chosen: ResolvedPrior) -> None:
    support = chosen.prior.support
    if slot.support == "positive" and not (
        support == "positive" or _uniform_within(chosen.prior, 0.0, np.inf)
    ):
        raise PriorError(
            f"{slot.name} is positive but {chosen.prior} is not",
            hint="use a positive distribution such as half_normal, exponential or gamma",
        )
    if slot.support == "unit" and not (support == "unit" or _uniform_within(chosen.prior, 0, 1)):
        raise PriorError(
            f"{slot.name} is a probability (between 0 and 1) but {chosen.prior} is not",
            hint="use beta(a, b), e.g. beta(1, 1) (uniform) or beta(2, 8) (mostly below 0.5)",
        )
    if slot.support == "correlation" and support != "correlation":
        raise PriorError(f"{slot.name} is a correlation matrix: its prior is lkj(eta)")
    if slot.support == "real" and support == "correlation":
        raise PriorError(f"lkj() is only for correlation matrices, not {slot.name}")
    if (slot.support == "simplex") != (support == "simplex"):
        raise PriorError(
            f"{slot.name} is a simplex: its prior is dirichlet(a)"
            if slot.support == "simplex"
            else f"dirichlet() is only for the simplex of mo() (simo_…), not {slot.name}"
        )


def check_fixed_priors(family: Family, dpars: Iterable[str], priors: Mapping[str, object]) -> None:
    """A prior for a parameter that is a number here (an ordinal ``disc`` without a formula)."""
    for d in family.auxiliary_params:
        if d.fixed is not None and d.name not in dpars and d.name in priors:
            raise PriorError(
                f"{d.name} is {d.fixed:g} in the {family.name} family unless a formula models it, "
                "so it takes no prior",
                hint=f"model it: {d.name} ~ 1 + …; its priors are then {d.name}_Intercept, "
                f"{d.name}_b, …",
            )
