"""Hypotheses about a fit's coefficients, as brms's ``hypothesis()``, read by hiermod's own grammar.

A hypothesis compares two arithmetic expressions of coefficients with one of ``<``, ``>`` or ``=``:
``"Days > 8"``, ``"Intercept + Days * 5 = 300"``, ``"`f[b]` < `f[c]`"``. The names are the labels of
``Model.fixef`` (``Intercept``, ``Days``, ``f[b]``, ``x1:x2``; those of a distributional parameter's
formula carry its prefix, ``sigma_Intercept``) and the family's scalar parameters (``sigma``); a name
that is not an identifier goes in backticks. Nothing is evaluated as Python: the text is split at its
one comparison operator, each side is parsed by the formula grammar as the argument of ``I(…)``
(arithmetic, as in ``I(x**2)``), and :func:`evaluate` computes that tree on the draws with
``+ - * / **`` and the functions of :data:`FUNCTIONS`.

As brms, ``left - right`` is tested against 0 (``Days > 8`` is ``Days - 8 > 0``). The table of
:func:`hypothesis_table` has brms's columns under the names of :mod:`hiermod.interpret`'s tables
(brms's in parentheses); with ``prob=0.95``:

================  ===========================================================================
``estimate``      posterior mean of ``left - right`` (``Estimate``); ``sd`` its sd (``Est.Error``)
``lower_95``      a 95% credible interval of ``left - right`` (``CI.Lower``, ``CI.Upper``):
``upper_95``      equal-tailed (the 2.5% and 97.5% quantiles) for ``=``; one-sided for ``>``
                  (the 5% quantile, ``inf``) and for ``<`` (``-inf``, the 95% quantile), as older
                  brms printed them — brms 2.x shows the 5% and 95% quantiles for both
``evid_ratio``    one-sided: the posterior odds, share / (1 - share) of the draws satisfying it
                  (``Evid.Ratio``); ``=``: the Savage–Dickey ratio, the posterior density of
                  ``left - right`` at 0 over its prior density at 0 (:func:`density_at` on
                  posterior and prior draws), NaN without prior draws
``post_prob``     one-sided: the share of draws satisfying it; ``=``: ER / (1 + ER), the
                  probability of the point hypothesis at equal prior odds (brms's ``Post.Prob``)
``star``          ``*`` when a one-sided post_prob exceeds ``prob``, or when 0 lies outside the
                  interval of a point hypothesis (brms's ``Star``)
================  ===========================================================================

Worked example: 2000 draws of ``Days - 8`` of which 1900 are positive give post_prob 0.95 and
evid_ratio 1900 / 100 = 19.

``group="Subject"`` tests the hypothesis for every level of a grouping, on that level's coefficients
(population + group effect, lme4's ``coef()``, brms's ``scope="coef"``;
:func:`hiermod.interpret.coefficients.level_draws`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import special

from hiermod.data.design import Schema
from hiermod.errors import ArgumentError, FormulaError, FormulaSyntaxError, OptionError, Span
from hiermod.formula.functions import closest
from hiermod.formula.parser import parse_syntax
from hiermod.formula.syntax import Arith, ArithNode, Call, Name, Number, UnaryMinus, arith_nodes
from hiermod.inference.intervals import DEFAULT_PROB, check_prob, interval_names
from hiermod.interpret.coefficients import level_draws, population_draws
from hiermod.plan.ir import ModelIR

__all__ = [
    "FUNCTIONS",
    "Hypothesis",
    "HypothesisError",
    "density_at",
    "draws_table",
    "evaluate",
    "hypothesis_table",
    "parse_hypothesis",
]


class HypothesisError(FormulaError):
    """A hypothesis cannot be read, or it names no coefficient of the model."""


Values = Mapping[str, np.ndarray]

FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "I": np.asarray,
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "plogis": special.expit,  # R's names for the inverse logit and the logit
    "inv_logit": special.expit,
    "qlogis": special.logit,
    "logit": special.logit,
}
_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "**": np.power,
}
_PREFIX = "~ I("  # each side is read as the one argument of I(…): arithmetic, not formula algebra
_NAMES_HINT = (
    "write arithmetic of coefficient names and numbers, e.g. 'Intercept + Days * 5 = 300'; "
    "a name that is not an identifier goes in backticks: `f[b]` > 0"
)


# -- reading a hypothesis ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """``left op right`` as parsed; ``*_offset`` maps a node's span in its side to the text."""

    text: str
    op: str  # "<", ">" or "="
    left: ArithNode
    right: ArithNode
    left_offset: int
    right_offset: int

    @property
    def difference(self) -> ArithNode:
        """What is compared with 0: ``left - right`` (``left`` when ``right`` is 0)."""
        if isinstance(self.right, Number) and self.right.value == 0:
            return self.left
        return Arith("-", self.left, self.right)

    @property
    def names(self) -> tuple[str, ...]:
        """The coefficient names it uses, in order of appearance (each once)."""
        found = (
            n.name for side in (self.left, self.right) for n in _nodes(side) if isinstance(n, Name)
        )
        return tuple(dict.fromkeys(found))

    @property
    def tested(self) -> str:
        """The hypothesis as tested, brms's rewriting: ``"Days > 8"`` → ``"Days - 8 > 0"``."""
        return f"{self.difference} {self.op} 0"


def _operator_positions(text: str) -> list[int]:
    """Where ``<``, ``>`` and ``=`` sit outside backticks and quotes: ``"`a<b` > 0"`` → ``[6]``."""
    positions: list[int] = []
    quote: str | None = None
    escaped = False
    for position, char in enumerate(text):
        if quote is not None:
            if escaped:
                escaped = False
            elif char == "\\" and quote != "`":  # a backticked name is verbatim
                escaped = True
            elif char == quote:
                quote = None
        elif char in "`\"'":
            quote = char
        elif char in "<>=":
            positions.append(position)
    return positions


def _within(span: Span | None, offset: int, text: str) -> Span:
    """A span of the parsed side, moved into the hypothesis text (and kept inside it)."""
    if span is None:
        return Span(0, len(text))
    start = min(max(span.start + offset, 0), len(text))
    return Span(start, min(max(span.end + offset, start), len(text)))


def _side(text: str, start: int, end: int, which: str) -> tuple[ArithNode, int]:
    """One side of the hypothesis as an arithmetic tree, and the offset of its spans in ``text``."""
    side = text[start:end]
    if not side.strip():
        raise HypothesisError(
            f"the {which} side of the hypothesis is empty", text, Span(start, end), hint=_NAMES_HINT
        )
    offset = start - len(_PREFIX)
    try:
        tree = parse_syntax(_PREFIX + side + ")")
    except FormulaSyntaxError as error:
        if error.span is not None and error.span.start >= len(_PREFIX) + len(side):
            # the parser stopped at the ')' closing I(…): the side ends in the middle of an
            # expression, e.g. the left side of "Days + > 2"
            raise HypothesisError(
                f"the {which} side of the hypothesis is unfinished",
                text,
                Span(end, min(end + 1, len(text))) if end < len(text) else Span(end, end),
                hint=_NAMES_HINT,
            ) from None
        raise HypothesisError(
            f"cannot read the hypothesis: {error.message}",
            text,
            _within(error.span, offset, text),
            hint=_NAMES_HINT,
        ) from None
    formulas = tree.formulas
    rhs = formulas[0].rhs if len(formulas) == 1 and formulas[0].lhs is None else None
    if not (isinstance(rhs, Call) and rhs.func == "I" and len(rhs.args) == 1 and not rhs.kwargs):
        raise HypothesisError(
            f"the {which} side of a hypothesis is one arithmetic expression",
            text,
            Span(start, end),
            hint=_NAMES_HINT,
        )
    return rhs.args[0], offset


def parse_hypothesis(text: str) -> Hypothesis:
    """Read ``"left op right"`` (``op`` one of ``<``, ``>``, ``=``) with hiermod's grammar.

    Raises:
        HypothesisError: no or several comparison operators, or a side that is not arithmetic
            (with a caret under the problem).
    """
    if not isinstance(text, str):
        raise ArgumentError(f"a hypothesis is a str such as 'Days > 8', not {type(text).__name__}")
    positions = _operator_positions(text)
    if len(positions) != 1:
        found = f"it has {len(positions)}" if positions else "it has none"
        span = Span(positions[0], positions[-1] + 1) if positions else Span(0, len(text))
        raise HypothesisError(
            f"a hypothesis compares two expressions with one of <, > or =; {found}",
            text,
            span,
            hint="e.g. 'Days > 8' or 'Intercept + Days * 5 = 300' (not <=, >= or ==)",
        )
    at = positions[0]
    left, left_offset = _side(text, 0, at, "left")
    right, right_offset = _side(text, at + 1, len(text), "right")
    return Hypothesis(text, text[at], left, right, left_offset, right_offset)


_nodes = arith_nodes


def _listed(names: Sequence[str], most: int = 20) -> str:
    """``a, b, c`` — the first ``most`` names and how many more."""
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _check(hypothesis: Hypothesis, known: Sequence[str], scope: str) -> None:
    """Every name is a coefficient, every call a function of :data:`FUNCTIONS`, no strings."""
    text = hypothesis.text
    sides = ((hypothesis.left, hypothesis.left_offset), (hypothesis.right, hypothesis.right_offset))
    for side, offset in sides:
        for node in _nodes(side):
            span = _within(node.span, offset, text)
            if isinstance(node, Name) and node.name not in known:
                guess = closest(node.name, known)
                did_you_mean = f"did you mean {guess!r}? " if guess else ""
                raise HypothesisError(
                    f"{node.name!r} is not a coefficient of the model",
                    text,
                    span,
                    hint=f"{did_you_mean}the coefficients{scope} are: {_listed(known)}",
                )
            if isinstance(node, Call) and (
                node.func not in FUNCTIONS or len(node.args) != 1 or node.kwargs
            ):
                raise HypothesisError(
                    f"{node.func}() is not a function of one value that hypotheses know",
                    text,
                    span,
                    hint=f"the functions are: {', '.join(f'{f}(x)' for f in FUNCTIONS)}",
                )
            if not isinstance(node, (Name, Number, Arith, UnaryMinus, Call)):
                raise HypothesisError(
                    "a hypothesis holds names and numbers, not strings",
                    text,
                    span,
                    hint="a name that is not an identifier goes in backticks: `f[b]`",
                )


def evaluate(node: ArithNode, values: Values) -> Any:
    """The arithmetic tree ``node`` computed on ``values`` (name → draws); numbers stay scalars.

    Example: ``Days * 5 + Intercept`` on ``{"Days": d, "Intercept": i}`` is ``d * 5 + i``.
    """
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Name):
        return values[node.name]
    if isinstance(node, UnaryMinus):
        return -evaluate(node.operand, values)
    if isinstance(node, Arith):
        return _OPERATORS[node.op](evaluate(node.left, values), evaluate(node.right, values))
    if isinstance(node, Call):
        return FUNCTIONS[node.func](evaluate(node.args[0], values))
    raise TypeError(f"cannot evaluate {node!r}")  # _check refuses strings before this


# -- testing hypotheses -----------------------------------------------------------------------------


def density_at(values: np.ndarray, point: float = 0.0) -> float:
    """The Gaussian kernel density estimate of ``values`` at ``point``.

    The bandwidth is R's default (``bw.nrd0``, the one brms's Savage–Dickey ratio uses through
    ``density()``): 0.9 · min(sd, IQR / 1.34) · n^(-1/5). The density is computed at the point itself,
    not interpolated from a grid. Example: 4000 draws of normal(0, 10) give about
    1 / (10 √(2π)) ≈ 0.0399 at 0.
    """
    x = np.asarray(values, dtype=float).ravel()
    x = x[np.isfinite(x)]
    if x.size < 2:
        return math.nan
    sd = float(x.std(ddof=1))
    iqr = float(np.subtract(*np.quantile(x, [0.75, 0.25])))
    spread = min(sd, iqr / 1.34) or sd or abs(float(x[0])) or 1.0
    bandwidth = 0.9 * spread * x.size ** (-0.2)
    kernel = np.exp(-0.5 * ((point - x) / bandwidth) ** 2)
    return float(kernel.mean() / (bandwidth * math.sqrt(2 * math.pi)))


def _difference(hypothesis: Hypothesis, values: Values) -> np.ndarray:
    """``left - right`` per draw (× level): finite, or a HypothesisError saying where it is not."""
    with np.errstate(all="ignore"):
        result = np.asarray(evaluate(hypothesis.difference, values), dtype=float)
    if result.ndim == 0:
        raise HypothesisError(
            "the hypothesis names no coefficient",
            hypothesis.text,
            Span(0, len(hypothesis.text)),
            hint=_NAMES_HINT,
        )
    bad = int((~np.isfinite(result)).sum())
    if bad:
        raise HypothesisError(
            f"the hypothesis is not a finite number for {bad} of {result.size} draws "
            "(the log or square root of a negative value, or a division by zero?)",
            hypothesis.text,
            Span(0, len(hypothesis.text)),
        )
    return result


def _test(op: str, diff: np.ndarray, prior: np.ndarray | None, prob: float) -> list[Any]:
    """One row of the table for the draws ``diff`` of ``left - right`` (see the module docstring)."""
    if op == "=":
        tail = (1 - prob) / 2
        lower, upper = (float(q) for q in np.quantile(diff, [tail, 1 - tail]))
        ratio = math.nan
        if prior is not None:
            posterior_density, prior_density = density_at(diff), density_at(prior)
            if prior_density > 0:
                ratio = posterior_density / prior_density
        post_prob = 1.0 if math.isinf(ratio) else ratio / (1 + ratio)
        star = not lower <= 0 <= upper
    else:
        share = float(np.mean(diff > 0 if op == ">" else diff < 0))
        ratio = math.inf if share == 1 else share / (1 - share)
        post_prob = share
        if op == ">":
            lower, upper = float(np.quantile(diff, 1 - prob)), math.inf
        else:
            lower, upper = -math.inf, float(np.quantile(diff, prob))
        star = share > prob
    sd = float(diff.std(ddof=1)) if diff.size > 1 else math.nan
    return [float(diff.mean()), sd, lower, upper, ratio, post_prob, "*" if star else ""]


def hypothesis_table(
    ir: ModelIR,
    schema: Schema,
    posterior: xr.Dataset,
    hypotheses: str | Sequence[str],
    *,
    prob: float = DEFAULT_PROB,
    group: str | None = None,
    prior: xr.Dataset | None = None,
) -> pd.DataFrame:
    """brms's ``hypothesis()`` table: one row per hypothesis (per level of ``group`` if given).

    ``prior`` holds prior draws of the same variables (dims (chain, draw, …)) for the
    Savage–Dickey ratio of point hypotheses; without it, or without a variable they name, their
    ``evid_ratio`` and ``post_prob`` are NaN. Columns and their meaning: the module docstring.
    """
    texts = [hypotheses] if isinstance(hypotheses, str) else list(hypotheses)
    index: pd.Index | None = None
    if group is None:
        values: Values = population_draws(ir, posterior)
    else:
        index, values = level_draws(ir, schema, posterior, group)
    prior_values: Values | None = None
    if prior is not None:
        prior_values = (
            population_draws(ir, prior)
            if group is None
            else level_draws(ir, schema, prior, group)[1]
        )
    scope = "" if group is None else f" of each level of {group}"
    return draws_table(texts, values, prob=prob, index=index, prior=prior_values, scope=scope)


def draws_table(
    hypotheses: str | Sequence[str],
    values: Values,
    *,
    prob: float = DEFAULT_PROB,
    index: pd.Index | None = None,
    prior: Values | None = None,
    scope: str = "",
) -> pd.DataFrame:
    """:func:`hypothesis_table` of named draws: ``values`` maps each name a hypothesis may use to
    its draws (n,), or (n, levels) with ``index`` the levels; ``prior`` holds prior draws of the
    same names for point hypotheses' Savage–Dickey ratios; ``scope`` words the names' scope in the
    error listing them (``" of each level of Subject"``). A multivariate model's hypotheses are
    this table of its tagged names (:mod:`hiermod.interpret.response_checks`)."""
    prob = check_prob(prob)
    texts = [hypotheses] if isinstance(hypotheses, str) else list(hypotheses)
    if not texts:
        raise OptionError(
            "no hypothesis given: pass a string such as 'Days > 8', or a list of them"
        )
    parsed = [parse_hypothesis(text) for text in texts]
    prior_values = prior if any(h.op == "=" for h in parsed) else None
    rows: list[list[Any]] = []
    keys: list[Any] = []
    for hypothesis in parsed:
        _check(hypothesis, list(values), scope)
        diff = _difference(hypothesis, values)
        prior_diff = None
        if (
            hypothesis.op == "="
            and prior_values is not None
            and all(name in prior_values for name in hypothesis.names)
        ):
            with np.errstate(all="ignore"):
                prior_diff = np.asarray(evaluate(hypothesis.difference, prior_values), dtype=float)
        if index is None:
            rows.append(_test(hypothesis.op, diff, prior_diff, prob))
            keys.append(hypothesis.tested)
            continue
        for k, level in enumerate(index):
            level_prior = None if prior_diff is None else prior_diff[:, k]
            rows.append(_test(hypothesis.op, diff[:, k], level_prior, prob))
            keys.append((hypothesis.tested, *(level if isinstance(level, tuple) else (level,))))
    columns = ["estimate", "sd", *interval_names(prob), "evid_ratio", "post_prob", "star"]
    if index is None:
        row_index = pd.Index(keys, name="hypothesis")
    else:
        row_index = pd.MultiIndex.from_tuples(keys, names=["hypothesis", *index.names])
    table = pd.DataFrame(rows, index=row_index, columns=columns)
    table.attrs["prob"] = prob
    return table
