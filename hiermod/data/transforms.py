"""Reading data columns and evaluating formula calls with NumPy: hiermod's own interpreter.

Column reading: kinds (numeric or categorical), missing values (R's ``na.omit``), level tables and
codes, the observed cells of a grouping interaction. Evaluation: arithmetic and the allow-listed calls.

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

import math
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.interpolate import BSpline

from hiermod.errors import DataError, Span
from hiermod.formula.functions import closest
from hiermod.formula.syntax import Arith, ArithNode, Call, Name, Number, String, UnaryMinus
from hiermod.formula.terms import ModelFormula
from hiermod.warnings import DataWarning, user_stacklevel

__all__ = [
    "Constants",
    "Evaluator",
    "argument",
    "bs_apply",
    "bs_fit",
    "check_columns",
    "column_kind",
    "data_names",
    "encode",
    "factorize",
    "find_level",
    "kept_rows",
    "lookup_cells",
    "missing_mask",
    "observed_cells",
    "poly_apply",
    "poly_fit",
    "used_columns",
]

Kind = Literal["numeric", "categorical"]
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
# Reading raw columns.


def column_kind(series: pd.Series) -> Kind:
    """Strings, objects, booleans and pandas categoricals are categorical; numbers are numeric."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
        return "categorical"
    return "numeric" if pd.api.types.is_numeric_dtype(dtype) else "categorical"


def missing_mask(series: pd.Series) -> np.ndarray:
    """Rows that count as missing: NaN, None, pd.NA, and ±inf in numeric columns."""
    if column_kind(series) == "numeric":
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return np.asarray(~np.isfinite(values), dtype=bool)
    return np.asarray(pd.isna(series), dtype=bool)


def factorize(series: pd.Series) -> tuple[np.ndarray, tuple[Any, ...]]:
    """Codes and the observed levels in code order: a categorical's category order, else sorted.

    ``pd.Categorical(["b", "a"], categories=["b", "a", "c"])`` has levels ``("b", "a")``: unused
    categories are dropped (as ``factor()`` does in lme4) so no coefficient is fitted without data.
    """
    codes, uniques = pd.factorize(series, sort=True)
    return codes.astype(np.int64, copy=False), tuple(_python(v) for v in uniques.tolist())


def encode(series: pd.Series, levels: tuple[Any, ...]) -> np.ndarray:
    """Codes of ``series`` in a stored level table; ``-1`` for a value not in it."""
    mixed = len({type(v) for v in levels}) > 1
    index = pd.Index(list(levels), dtype=object if mixed else None)
    return np.asarray(index.get_indexer(series), dtype=np.int64)


def used_columns(
    formula: ModelFormula, present: Iterable[object], response: bool
) -> dict[str, Name]:
    """Every data column the formulas read, with the node of its first use (for carets).

    The response is included when ``response`` is true; addition columns (``trials(n)``) also when
    they are all ``present`` in the data. Distributional left sides (``sigma``) are not columns.
    """
    present = set(present)
    nodes: list[Name] = []
    lhs = formula.response
    if lhs is not None:
        nodes += data_names(lhs.value) if response else []
        for addition in lhs.additions:
            names = data_names(addition)
            nodes += names if response or all(n.name in present for n in names) else []
    for f in formula.formulas:
        atoms = [a for t in f.terms for a in t.factors] + list(f.offsets)
        for block in f.blocks:
            atoms += [a for t in block.terms for a in t.factors] + list(block.grouping.factors)
        nodes += [n for atom in atoms for n in data_names(atom)]
    used: dict[str, Name] = {}
    for node in nodes:
        used.setdefault(node.name, node)
    return used


def check_columns(data: pd.DataFrame, used: Mapping[str, Name], text: str) -> None:
    """Every used column exists once; an unknown name suggests the closest column."""
    names = [str(c) for c in data.columns]
    for name, node in used.items():
        if name not in data.columns:
            guess = closest(name, names)
            hint = f"did you mean {guess!r}?" if guess else f"the columns are: {', '.join(names)}"
            raise DataError(
                f"unknown column {name!r}: the data has no such column", text, node.span, hint=hint
            )
        if isinstance(data[name], pd.DataFrame):
            raise DataError(f"column {name!r} appears more than once in the data", text, node.span)


def kept_rows(data: pd.DataFrame, used: Iterable[str], na_action: str) -> np.ndarray:
    """Positions of the rows with no missing value in a used column, as R's ``na.omit``.

    With ``na_action="drop"`` one :class:`DataWarning` says how many rows were dropped and where:
    ``dropped 2 of 10 rows with missing values (NaN, None or inf) in: 'x' (1 row), 'g' (1 row)``.
    """
    n = len(data)
    if n == 0:
        raise DataError("the data has no rows")
    missing = np.zeros(n, dtype=bool)
    counts: dict[str, int] = {}
    for name in used:
        mask = missing_mask(data[name])
        if mask.any():
            counts[name] = int(mask.sum())
            missing |= mask
    if not counts:
        return np.arange(n, dtype=np.int64)
    dropped = int(missing.sum())
    where = ", ".join(f"{k!r} ({v} row{'s' * (v != 1)})" for k, v in counts.items())
    if na_action == "raise":
        raise DataError(
            f"missing values (NaN, None or inf) in {dropped} of {n} rows, in columns: {where}",
            hint="drop or impute them, or pass na_action='drop'",
        )
    if dropped == n:
        raise DataError(f"no rows left: all {n} rows have missing values in {where}")
    message = f"dropped {dropped} of {n} rows with missing values (NaN, None or inf) in: {where}"
    warnings.warn(message, DataWarning, stacklevel=user_stacklevel())
    return np.flatnonzero(~missing).astype(np.int64)


def find_level(levels: tuple[Any, ...], ref: object) -> int | None:
    """The index of ``ref="b"`` (or ``ref=2``) among the levels; also matched by text, so that
    ``ref="2"`` finds the number 2, ``ref=2`` the string "2" and ``ref="True"`` the boolean."""
    if not isinstance(ref, (String, Number)):
        return None
    for i, level in enumerate(levels):
        if level == ref.value or str(level) == str(ref).strip('"'):
            return i
    return None


def observed_cells(codes: list[np.ndarray], sizes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The observed combinations of codes, sorted lexicographically, and each row's cell.

    Vectorised and overflow-free: fold one factor at a time into a rank among the combinations
    seen so far, ``key = rank * size + code``. For g in {a, b} and c in {x, y} with rows (a,y),
    (b,x), (a,y): cells [[0, 1], [1, 0]] and cell [0, 1, 0].
    """
    cell = codes[0]
    cells = np.arange(sizes[0], dtype=np.int64)[:, None]
    for code, size in zip(codes[1:], sizes[1:], strict=True):
        cell, keys = pd.factorize(cell * size + code, sort=True)
        cells = np.column_stack([cells[keys // size], keys % size])
    return cells.astype(np.int64), cell.astype(np.int64)


def lookup_cells(cells: np.ndarray, codes: list[np.ndarray]) -> np.ndarray:
    """Each row's index into the fitted ``cells``; -1 for an unseen level or a new combination."""
    if len(codes) == 1:
        return codes[0].copy()
    known = pd.MultiIndex.from_arrays([cells[:, j] for j in range(cells.shape[1])])
    return np.asarray(known.get_indexer(pd.MultiIndex.from_arrays(codes)), dtype=np.int64)


def _python(value: Any) -> Any:
    """A level as a plain Python scalar (``np.int64(3)`` -> ``3``) so labels print as typed."""
    return value.item() if isinstance(value, np.generic) else value


def argument(call: Call, position: int, name: str) -> ArithNode | None:
    """The argument at ``position`` or given as ``name=``."""
    if len(call.args) > position:
        return call.args[position]
    kw = call.keyword(name)
    return kw.value if kw is not None else None


def data_names(node: object) -> list[Name]:
    """The column references a node reads, in order (keyword options such as ``raw=TRUE`` or
    ``ref="b"`` are not columns; the data argument given as ``x=`` is)."""
    out: list[Name] = []
    if isinstance(node, Name):
        out.append(node)
    elif isinstance(node, Call):
        for arg in node.args[:1]:
            out.extend(data_names(arg))
        data_kw = node.keyword("x")
        if data_kw is not None:
            out.extend(data_names(data_kw.value))
    elif isinstance(node, Arith):
        out.extend(data_names(node.left) + data_names(node.right))
    elif isinstance(node, UnaryMinus):
        out.extend(data_names(node.operand))
    return out


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


def poly_apply(x: np.ndarray, alpha: tuple[float, ...], norm2: tuple[float, ...]) -> np.ndarray:
    """R's ``predict.poly``: the three-term recurrence, columns scaled to unit norm on the fit data.

    ``Z0 = 1``, ``Z1 = x - α0``, ``Z(i+1) = (x - αi) Zi - (norm2[i+1] / norm2[i]) Z(i-1)``.
    """
    degree = len(alpha)
    z = np.empty((x.shape[0], degree + 1))
    z[:, 0] = 1.0
    z[:, 1] = x - alpha[0]
    for i in range(1, degree):
        z[:, i + 1] = (x - alpha[i]) * z[:, i] - (norm2[i + 1] / norm2[i]) * z[:, i - 1]
    return np.asarray(z[:, 1:] / np.sqrt(np.asarray(norm2[2:])), dtype=np.float64)


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
    """The basis without its first column (``intercept = FALSE``), and how many rows lie outside.

    Inside the boundary knots the B-spline basis; outside, R's extrapolation: a Taylor polynomial of
    the basis around a pivot a quarter of the way from the boundary to the next knot.
    """
    lo, hi = boundary
    t = np.sort(np.r_[[lo] * (degree + 1), knots, [hi] * (degree + 1)])
    n_basis = t.shape[0] - degree - 1
    spline = BSpline(t, np.eye(n_basis), degree, extrapolate=False)
    below, above = x < lo, x > hi
    basis = np.empty((x.shape[0], n_basis))
    inside = ~(below | above)
    basis[inside] = spline(x[inside])
    for side, pivot in (
        (below, 0.75 * lo + 0.25 * t[degree + 1]),
        (above, 0.75 * hi + 0.25 * t[-degree - 2]),
    ):
        if side.any():
            derivs = np.stack([spline(pivot, nu=d) for d in range(degree + 1)])
            derivs /= np.array([math.factorial(d) for d in range(degree + 1)])[:, None]
            powers = (x[side] - pivot)[:, None] ** np.arange(degree + 1)
            basis[side] = powers @ derivs
    return basis[:, 1:], int(below.sum() + above.sum())


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

    def additions(self, calls: Iterable[Call], family: str) -> dict[str, np.ndarray]:
        """``trials(n)``: whole numbers >= 0 (binomial only); ``weights(w)``, ``se(s)``: positive.
        An addition whose column is absent is skipped (new data read without the response)."""
        out: dict[str, np.ndarray] = {}
        for call in calls:
            arg = argument(call, 0, "x")
            if arg is None or not all(n.name in self.columns for n in data_names(arg)):
                continue
            if call.func == "trials" and family != "binomial":
                raise self.error(
                    f"trials() is only used by the binomial family, not {family}", call.span
                )
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
            return poly_apply(x, state["alpha"], state["norm2"])
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
