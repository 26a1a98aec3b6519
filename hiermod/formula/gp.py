"""gp() in the formula: its options, checked when the formula is parsed (:mod:`hiermod.formula.checks`).

``gp(x)``, ``gp(x, k=20, c=5/4)``, ``gp(x1, x2)``, ``gp(x, by=f)``, ``gp(x, scale=FALSE)``: brms's
Gaussian process term. A gp() term stays a term of the formula (``str()`` prints it back); its
basis is made by :mod:`hiermod.data.gp` and its parameters by :mod:`hiermod.plan.gp`.

``gp(x, k=NA)`` is brms's exact GP (:mod:`hiermod.data.gp_exact`); ``gp(x, k=20, c=5/4)`` brms's
Hilbert-space approximation: ``k`` basis functions per covariate on [-L, L], ``L = c * range`` of
the scaled covariates (``c`` default 5/4). ``gp(x)`` without ``k`` is the exact GP when the data
have few distinct covariate points, else the approximation with ``k = 20`` and a warning
(the rule: :func:`hiermod.data.gp.gp_design`); ``GPOptions.k`` is then ``None`` and
``GPOptions.given`` false.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hiermod.errors import HiermodError, Span
from hiermod.formula.syntax import Arith, ArithNode, Call, Name, Number
from hiermod.formula.terms import Term

__all__ = [
    "GPOptions",
    "gp_calls",
    "gp_options",
    "is_gp",
    "label_of",
    "ordinary_terms",
    "refuse_in_block",
]

DEFAULT_K = 20
DEFAULT_C = 1.25
_TRUE = frozenset({"TRUE", "True", "T", "true"})
_FALSE = frozenset({"FALSE", "False", "F", "false"})

Error = Callable[[str, Span | None, str | None], HiermodError]


def is_gp(term: Term) -> bool:
    return any(isinstance(f, Call) and f.func == "gp" for f in term.factors)


def ordinary_terms(terms: Iterable[Term]) -> tuple[Term, ...]:
    """The terms that are columns of X: all but the gp() terms."""
    return tuple(t for t in terms if not is_gp(t))


def gp_calls(terms: Iterable[Term], error: Error) -> tuple[Call, ...]:
    """The gp() calls among ``terms``; ``gp(x):z`` is an error (brms writes ``gp(x, by=z)``)."""
    calls = []
    for term in terms:
        if not is_gp(term):
            continue
        (call,) = [f for f in term.factors if isinstance(f, Call) and f.func == "gp"]
        if term.degree > 1:
            raise error(
                f"{term}: a gp() term cannot be part of an interaction",
                term.span or call.span,
                "for one GP per level of a factor write gp(x, by=f)",
            )
        calls.append(call)
    return tuple(calls)


def refuse_in_block(terms: Iterable[Term], error: Error) -> None:
    """``(gp(x) | g)`` is an error: brms has no group-level GPs (one GP per level is ``by=``)."""
    for term in terms:
        if is_gp(term):
            raise error(
                f"{term} cannot vary by group",
                term.span,
                "for one GP per level of g write gp(x, by=g), outside the group term",
            )


@dataclass(frozen=True, slots=True)
class GPOptions:
    covariates: tuple[ArithNode, ...]
    by: str | None
    k: int | None  # None: the exact GP (k=NA), or the default rule when not ``given``
    c: float
    scale: bool
    given: bool = True  # k written in the call (k=NA or a number)


def _number(node: ArithNode) -> float | None:
    if isinstance(node, Number):
        return float(node.value)
    if isinstance(node, Arith) and node.op in ("/", "*", "+", "-"):  # c = 5/4
        left, right = _number(node.left), _number(node.right)
        if left is None or right is None or (node.op == "/" and right == 0):
            return None
        ops = {"/": left / (right or 1.0), "*": left * right, "+": left + right, "-": left - right}
        return ops[node.op]
    return None


def gp_options(call: Call, error: Error) -> GPOptions:
    """The options of a gp() call, checked: ``k`` a whole number >= 1 or ``NA`` (brms's exact
    GP), ``c`` a number > 0, ``scale`` TRUE/FALSE, ``by`` a column."""
    options = {kw.name: kw for kw in call.kwargs}
    k: int | None = None
    c, scale, by = DEFAULT_C, True, None
    if "k" in options:
        kw = options["k"]
        if not (isinstance(kw.value, Name) and kw.value.name == "NA"):
            value = _number(kw.value)
            if value is None or value < 1 or not value.is_integer():
                raise error(
                    "gp() k must be a whole number of basis functions, >= 1, or NA (the exact GP)",
                    kw.span,
                    None,
                )
            k = int(value)
    if "c" in options:
        value = _number(options["c"].value)
        if value is None or not value > 0:
            raise error("gp() c must be a positive number, e.g. c=5/4", options["c"].span, None)
        c = value
    if "scale" in options:
        node = options["scale"].value
        if not (isinstance(node, Name) and node.name in _TRUE | _FALSE):
            raise error("gp() scale must be TRUE or FALSE", options["scale"].span, None)
        scale = node.name in _TRUE
    if "by" in options:
        node = options["by"].value
        if not isinstance(node, Name):
            raise error("gp() by must be a column (a factor)", options["by"].span, None)
        by = node.name
    covariates = call.args or tuple(kw.value for kw in call.kwargs if kw.name == "x")
    return GPOptions(tuple(covariates), by, k, c, scale, "k" in options)


def label_of(call: Call, options: GPOptions) -> str:
    """brms's suffix of the GP's parameters: ``gp(times)`` is ``gptimes``, ``gp(x1, x2, by=f)``
    ``gpx1x2f`` (its names are ``sdgp_gptimes``, ``lscale_gptimes``)."""
    text = "".join(str(c) for c in options.covariates) + (options.by or "")
    return "gp" + "".join(ch for ch in text if ch.isalnum() or ch == "_")
