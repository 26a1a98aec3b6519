"""Evaluating formula calls with NumPy: hiermod's own interpreter.

Evaluation: arithmetic and the allow-listed calls. Reading the columns (kinds, missing values, level
tables and codes) is :mod:`hiermod.data.columns`'.

Formula text is untrusted, so nothing here calls ``eval``, ``exec`` or ``getattr`` on it: each node kind
has one branch below and each allowed function one table entry or one small function. Evaluation works
on the rows that are kept after missing values were dropped, so every input value is finite and any
non-finite result (``log(0)``, ``sqrt(-1)``, ``I(1/x)`` with a zero) is the transform's fault and a
:class:`~hiermod.errors.DataError` naming the call.

Stateful calls (``center``, ``scale``, ``poly``, ``bs``) have two halves: *fit* computes constants
from the training rows (stored by :mod:`hiermod.data.design` in ``Schema.transforms`` under ``str(call)``)
and *apply* evaluates with given constants. Binding always fits first and then applies, so encoding
the training data again with the stored constants gives bit-identical arrays.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hiermod.data.columns import argument, column_kind, data_names
from hiermod.data.runtime import bspline_basis, censoring_codes, poly_basis
from hiermod.errors import DataError, Span
from hiermod.formula.syntax import Arith, ArithNode, Call, Name, Number, String, UnaryMinus
from hiermod.warnings import DataWarning, user_stacklevel

if TYPE_CHECKING:
    from hiermod.data.families import Family

__all__ = [
    "Constants",
    "Evaluator",
    "bs_apply",
    "bs_fit",
    "poly_fit",
]

Constants = dict[str, dict[str, Any]]  # str(call) -> constants of that call

_ELEMENTWISE: dict[str, tuple[Callable[[np.ndarray], np.ndarray], str]] = {
    "log": (np.log, "log() needs values > 0; log1p(x) accepts zeros"),
    "log1p": (np.log1p, "log1p() needs values > -1"),
    "log2": (np.log2, "log2() needs values > 0"),
    "log10": (np.log10, "log10() needs values > 0"),
    "exp": (np.exp, "exp() overflows for values above about 709"),
    "sqrt": (np.sqrt, "sqrt() needs values >= 0"),
    "abs": (np.abs, ""),
}
_ARITH: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power
}  # fmt: skip
_TRUE = frozenset({"TRUE", "True", "T", "true"})
_FALSE = frozenset({"FALSE", "False", "F", "false"})


# ---------------------------------------------------------------------------------------------------
# Orthogonal polynomials, as R's poly() and predict.poly().


def poly_fit(x: np.ndarray, degree: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """R's ``poly(x, degree)`` constants ``alpha`` (degree values) and ``norm2`` (degree + 2).

    As in R: QR of the centred Vandermonde matrix ``[1, xc, xc², …]``; ``Z = Q diag(R)`` are the
    Gram–Schmidt residuals of the powers (independent of QR's sign convention), ``norm2`` their
    squared norms (with a leading 1) and ``alpha`` the recurrence shifts in the original x scale.
    """
    xbar = float(np.mean(x))
    xc = x - xbar
    vandermonde = xc[:, None] ** np.arange(degree + 1)
    q, r = np.linalg.qr(vandermonde)
    z = q * np.diag(r)
    norm2 = np.sum(z**2, axis=0)
    alpha = (np.sum(xc[:, None] * z**2, axis=0) / norm2 + xbar)[:degree]
    return tuple(alpha.tolist()), (1.0, *norm2.tolist())


# ---------------------------------------------------------------------------------------------------
# B-splines, as R's splines::bs(x, df, degree, intercept = FALSE).


def bs_fit(
    x: np.ndarray, df: int | None, degree: int
) -> tuple[tuple[float, ...], tuple[float, float]]:
    """Interior knots and boundary knots of ``bs(x, df, degree)``.

    ``df - degree`` interior knots at equally spaced quantiles of x (R's default type-7 quantiles),
    boundary knots at ``range(x)``. ``bs(x, df=5)`` (degree 3): 2 interior knots at the 1/3 and 2/3
    quantiles; ``bs(x)``: no interior knots, 3 columns.
    """
    n_interior = 0 if df is None else df - degree
    probs = np.linspace(0.0, 1.0, n_interior + 2)[1:-1]
    knots = np.quantile(x, probs) if n_interior > 0 else np.empty(0)
    return tuple(knots.tolist()), (float(np.min(x)), float(np.max(x)))


def bs_apply(
    x: np.ndarray, knots: tuple[float, ...], boundary: tuple[float, float], degree: int
) -> tuple[np.ndarray, int]:
    """The basis without its first column (:func:`~hiermod.data.runtime.bspline_basis`), and how
    many rows lie outside the boundary knots (where the basis is extrapolated)."""
    outside = int(np.sum((x < boundary[0]) | (x > boundary[1])))
    return bspline_basis(x, knots, boundary, degree), outside


# ---------------------------------------------------------------------------------------------------
# The interpreter.


class Evaluator:
    """Evaluates arithmetic nodes and numeric calls over the kept rows.

    ``columns`` are the used data columns (already restricted to the kept rows); ``constants`` holds
    stateful calls' constants: filled in when ``fit`` is true, read otherwise.
    """

    def __init__(
        self,
        columns: Mapping[str, pd.Series],
        n: int,
        text: str,
        constants: Constants,
        *,
        fit: bool,
    ) -> None:
        self.columns = columns
        self.n = n
        self.text = text
        self.constants = constants
        self.fit = fit
        self._cache: dict[str, np.ndarray] = {}

    def error(self, message: str, span: Span | None, hint: str | None = None) -> DataError:
        return DataError(message, self.text, span, hint=hint)

    def numeric(self, node: ArithNode) -> np.ndarray:
        """A node's values as a float64 vector of length n."""
        if isinstance(node, Name):
            return self.column(node)
        if isinstance(node, Number):
            return np.full(self.n, float(node.value))
        if isinstance(node, UnaryMinus):
            return -self.numeric(node.operand)
        if isinstance(node, Arith):
            with np.errstate(all="ignore"):
                return _ARITH[node.op](self.numeric(node.left), self.numeric(node.right))
        if isinstance(node, String):
            raise self.error("a string is not a number", node.span)
        key = str(node)
        if key not in self._cache:
            self._cache[key] = self._call(node)
        return self._cache[key]

    def column(self, node: Name) -> np.ndarray:
        """A column read as numbers; booleans count as 0/1, strings are an error."""
        series = self.columns[node.name]
        if pd.api.types.is_bool_dtype(series.dtype):
            return series.to_numpy(dtype=np.float64)
        if column_kind(series) != "numeric":
            sample = ", ".join(repr(v) for v in pd.unique(series)[:3].tolist())
            raise self.error(
                f"column {node.name!r} is not numeric (it holds values such as {sample}) "
                "but is used as a number here",
                node.span,
                f"use {node} on its own as a categorical term, or convert it to numbers first",
            )
        return series.to_numpy(dtype=np.float64, na_value=np.nan)

    def _call(self, call: Call) -> np.ndarray:
        data = argument(call, 0, "x")
        if data is None:  # checks.check_calls guarantees the data argument; keep mypy honest
            raise self.error(f"{call.func}() needs an argument", call.span)
        if call.func in _ELEMENTWISE:
            func, hint = _ELEMENTWISE[call.func]
            with np.errstate(all="ignore"):
                return self._finite(call, func(self.numeric(data)), hint)
        if call.func in ("I", "offset"):
            return self._finite(call, self.numeric(data), "check for division by zero or overflow")
        if call.func in ("center", "scale", "standardize"):
            return self._standardise(call, self.numeric(data))
        raise self.error(f"{call.func}() does not give one numeric column here", call.span)

    def _finite(self, call: Call, values: np.ndarray, hint: str) -> np.ndarray:
        bad = ~np.isfinite(values)
        if bad.any():
            raise self.error(
                f"{call} is not finite in {int(bad.sum())} of {self.n} rows",
                call.span,
                hint or None,
            )
        return values

    def _standardise(self, call: Call, x: np.ndarray) -> np.ndarray:
        """``center(x) = x - mean``; ``scale(x) = standardize(x) = (x - mean) / sd`` with R's sd
        (``ddof=1``): for x = 1, 2, 3 the mean is 2, sd 1 and scale(x) is -1, 0, 1."""
        key = str(call)
        if self.fit:
            state: dict[str, Any] = {"mean": float(np.mean(x))}
            if call.func != "center":
                sd = float(np.std(x, ddof=1)) if self.n > 1 else 0.0
                if not sd > 0:
                    raise self.error(
                        f"{call} divides by the standard deviation, which is 0 in the data",
                        call.span,
                        "the column is constant; use center() or drop the term",
                    )
                state["sd"] = sd
            self.constants[key] = state
        state = self.constants[key]
        out = x - float(state["mean"])
        return out / float(state["sd"]) if "sd" in state else out

    def additions(self, calls: Iterable[Call], family: Family) -> dict[str, np.ndarray]:
        """``trials(n)``: whole numbers >= 0 (binomial kinds only); ``weights(w)``, ``se(s)``: positive.
        An addition whose column is absent is skipped (new data read without the response)."""
        out: dict[str, np.ndarray] = {}
        for call in calls:
            if call.func == "trunc":  # trunc(lb = 0, ub = u): each bound a number or a column
                out |= _read_arguments(self, call, {"trunc_lb": (0, "lb"), "trunc_ub": (1, "ub")})
                continue
            arg = argument(call, 0, "x")
            if arg is None or not all(n.name in self.columns for n in data_names(arg)):
                continue
            if call.func == "trials" and not family.needs_trials:
                raise self.error(
                    "trials() is only used by the binomial family and its kin (beta_binomial, "
                    f"zero_inflated_binomial, …), not {family.name}",
                    call.span,
                )
            if call.func == "cens":
                out["cens"] = _censoring(self, arg, call)
                out |= _read_arguments(self, call, {"cens_upper": (1, "y2")})
                continue
            values = self.numeric(arg)
            if call.func == "trials":
                bad, need = (values < 0) | (np.mod(values, 1) != 0), "whole numbers >= 0"
            else:
                bad, need = ~(values > 0), "positive values"
            if bad.any():
                raise self.error(
                    f"{call.func}() needs {need}, but {arg} has {int(bad.sum())} rows that are not "
                    f"(e.g. {values[bad][0]:g})",
                    call.span,
                )
            out[call.func] = values.astype(np.int64) if call.func == "trials" else values
        return out

    def basis(self, call: Call) -> np.ndarray:
        """``poly()`` or ``bs()``: an (n, k) matrix of basis columns."""
        data = argument(call, 0, "x")
        if data is None:
            raise self.error(f"{call.func}() needs an argument", call.span)
        x = self.numeric(data)
        key = str(call)
        if call.func == "poly":
            degree = _whole(argument(call, 1, "degree"), 1)
            if self._poly_raw(call):
                return x[:, None] ** np.arange(1, degree + 1)
            if self.fit:
                distinct = np.unique(x).shape[0]
                if degree >= distinct:
                    raise self.error(
                        f"{call} needs more distinct values than its degree "
                        f"({data} has {distinct})",
                        call.span,
                        "lower the degree",
                    )
                alpha, norm2 = poly_fit(x, degree)
                self.constants[key] = {"alpha": alpha, "norm2": norm2}
            state = self.constants[key]
            return poly_basis(x, state["alpha"], state["norm2"])
        degree = _whole(argument(call, 1, "degree"), 3)
        df_node = call.keyword("df")
        df = _whole(df_node.value, 0) if df_node is not None else None
        if self.fit:
            if df is not None and df < degree:
                raise self.error(
                    f"{call} has df={df} but needs at least degree={degree} columns",
                    call.span,
                    f"use df >= {degree}, or lower the degree",
                )
            knots, boundary = bs_fit(x, df, degree)
            if boundary[0] == boundary[1]:
                raise self.error(f"{call} needs a non-constant {data}", call.span)
            self.constants[key] = {"knots": knots, "boundary": boundary, "degree": degree}
        state = self.constants[key]
        values, outside = bs_apply(x, state["knots"], state["boundary"], state["degree"])
        if outside:
            lo, hi = state["boundary"]
            warnings.warn(
                f"{call}: {outside} row(s) lie outside the boundary knots [{lo:g}, {hi:g}] of the "
                "fitted data; the basis is extrapolated as R's bs() does",
                DataWarning,
                stacklevel=user_stacklevel(),
            )
        return values

    def _poly_raw(self, call: Call) -> bool:
        kw = call.keyword("raw")
        if kw is None:
            return False
        value = kw.value
        if isinstance(value, Number) and value.value in (0, 1):
            return bool(value.value)
        if isinstance(value, Name) and value.name in _TRUE | _FALSE:
            return value.name in _TRUE
        raise self.error("poly() raw must be TRUE or FALSE", kw.span)


def _whole(node: ArithNode | None, default: int) -> int:
    return int(node.value) if isinstance(node, Number) else default


def _censoring(evaluator: Evaluator, arg: ArithNode, call: Call) -> np.ndarray:
    """``cens(x)``: brms's codes -1, 0, 1 (:func:`~hiermod.data.runtime.censoring_codes`)."""
    if not isinstance(arg, Name):
        raise evaluator.error("cens() takes a column of censoring codes", call.span)
    try:
        return censoring_codes(evaluator.columns[arg.name])
    except ValueError as problem:
        raise evaluator.error(
            str(problem), call.span, 'e.g. a column with 1 for "still alive at this time"'
        ) from None


def _read_arguments(
    evaluator: Evaluator, call: Call, wanted: dict[str, tuple[int, str]]
) -> dict[str, np.ndarray]:
    """The arguments of ``call`` at (position, name) as numbers, under their keys (``trunc_lb``:
    ``trunc(lb = …)``'s first); those whose columns the data lack are left out (new data)."""
    found = {key: argument(call, *at) for key, at in wanted.items()}
    return {
        key: evaluator.numeric(node)
        for key, node in found.items()
        if node is not None and all(n.name in evaluator.columns for n in data_names(node))
    }
