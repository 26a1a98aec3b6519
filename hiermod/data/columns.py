"""Reading data columns: kinds, missing values, level tables and codes, cells, used columns.

Column reading for :mod:`hiermod.data.design` and :mod:`hiermod.data.stream`: kinds (numeric or
categorical) and the dtype rules behind them (:func:`check_dtypes`), missing values (R's
``na.omit``), level tables and codes, the observed cells of a grouping interaction, and which
columns a formula reads (:func:`used_columns`, with the nodes for carets). Evaluating the formula's
calls is :mod:`hiermod.data.transforms`'.

The dtype rules (docs/guide.md, "Column types"), for a column read as a *value* (anything but a
grouping factor or ``C(f)``): an object column of numbers only is numeric, with a DataWarning; numbers
mixed with other values, dates, durations and periods are a DataError. A grouping factor or ``C(g)``
takes any values as levels (dates; 1 and "1", two levels), but not booleans mixed with numbers.
"""

from __future__ import annotations

import decimal
import numbers
import warnings
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from hiermod.data.design import Contrast
from hiermod.data.names import argument, data_names  # re-exported: callers import them here
from hiermod.data.runtime import cell_positions
from hiermod.errors import DataError
from hiermod.formula.functions import CONTRASTS, closest, contrast_name
from hiermod.formula.syntax import (
    ArithNode,
    Call,
    Keyword,
    Name,
    Number,
    String,
    UnaryMinus,
)
from hiermod.formula.terms import Atom, ModelFormula
from hiermod.warnings import DataWarning, user_stacklevel

__all__ = [
    "CategoricalOptions",
    "argument",
    "categorical_options",
    "check_columns",
    "check_dtypes",
    "column_kind",
    "data_names",
    "factorize",
    "find_level",
    "kept_rows",
    "lookup_cells",
    "missing_mask",
    "observed_cells",
    "ordered_levels",
    "used_columns",
    "warn_read_as_numbers",
]

Kind = Literal["numeric", "categorical"]


def column_kind(series: pd.Series) -> Kind:
    """Numbers are numeric; strings, booleans, dates, mixed objects and categoricals are categorical.
    An object column of numbers only (``pd.Series([1.5, 2, None], dtype=object)``) is numeric."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
        return "categorical"
    if pd.api.types.is_object_dtype(dtype):
        return "numeric" if _object_contents(series) == "numbers" else "categorical"
    return "numeric" if pd.api.types.is_numeric_dtype(dtype) else "categorical"


# What pandas' infer_dtype says of an object column, by what hiermod makes of it.
_NUMBERS = ("integer", "floating", "mixed-integer-float", "decimal")
_PLAIN = ("string", "boolean", "empty", "bytes", "complex", "categorical")
_TEMPORAL = ("datetime", "datetime64", "date", "time", "timedelta", "timedelta64", "period")
Contents = Literal["numbers", "mixed", "temporal", "other"]


def _is_number(value: object) -> bool:
    """A real number that is not a boolean (``True`` is a number to Python, a level to hiermod)."""
    real = isinstance(value, numbers.Real | decimal.Decimal)
    return real and not isinstance(value, bool | np.bool_)


def _object_contents(series: pd.Series) -> Contents:
    """What an object column's non-missing values are: only numbers, numbers mixed with other
    values, dates or durations, or other values (strings, booleans …) without numbers."""
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    if inferred in _NUMBERS:
        return "numbers"
    if inferred in _PLAIN:
        return "other"
    if inferred in _TEMPORAL:
        return "temporal"
    is_number = _number_mask(series)
    present = np.asarray(pd.notna(series), dtype=bool)
    if not is_number.any():
        return "other"
    return "numbers" if is_number[present].all() else "mixed"


def _number_mask(series: pd.Series) -> np.ndarray:
    values = series.to_numpy(dtype=object)
    return np.fromiter((_is_number(v) for v in values), dtype=bool, count=len(values))


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
    Mixed values sort numbers first, then strings, as pandas does (``["b", 2, "1", 1]`` gives
    ``(1, 2, "1", "b")``: 1 and "1" are two levels); values that do not compare at all
    (a date and a number) sort by :func:`_mixed_key`.
    """
    try:
        codes, uniques = pd.factorize(series, sort=True)
    except TypeError:  # '<' not supported between instances of 'int' and 'Timestamp'
        codes, uniques = pd.factorize(series, sort=False)
        found = uniques.tolist()
        order = sorted(range(len(found)), key=lambda i: _mixed_key(found[i]))
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        codes = np.where(codes >= 0, rank[np.maximum(codes, 0)], -1)
        uniques = uniques.take(order)
    return codes.astype(np.int64, copy=False), tuple(_python(v) for v in uniques.tolist())


def _mixed_key(value: Any) -> tuple[int, float, str]:
    """The order of values of types that do not compare: numbers by value, then other types by
    name and text, then strings: ``[Timestamp("2020-01-01"), "a", 3, 1]`` sorts 1, 3, the
    Timestamp, "a" (the same whatever the order of the rows)."""
    if _is_number(value):
        return (0, float(value), "")
    return (2, 0.0, value) if isinstance(value, str) else (1, 0.0, f"{type(value)}{value!r}")


def used_columns(
    formula: ModelFormula, present: Iterable[object], response: bool, *, values: bool = False
) -> dict[str, Name]:
    """Every data column the formulas read, with the node of its first use (for carets).

    The response is included when ``response`` is true; addition columns (``trials(n)``) also when
    they are all ``present`` in the data. Distributional left sides (``sigma``) are not columns.
    With ``values=True`` only the columns read for their values: not those read only as levels,
    by a grouping factor or ``C()`` (in ``y ~ x + C(f) + (1 | g)``: y and x).
    """
    present = set(present)
    nodes: list[Name] = []
    lhs = formula.response
    if lhs is not None:
        # cbind(s, f) also gives the trials: read it whenever its columns are there (as trials(n)).
        value = data_names(lhs.value)
        counts = isinstance(lhs.value, Call) and lhs.value.func == "cbind"
        nodes += value if response or (counts and all(n.name in present for n in value)) else []
        for addition in lhs.additions:
            names = data_names(addition)
            nodes += names if response or all(n.name in present for n in names) else []
    for f in formula.formulas:
        atoms = [a for t in f.terms for a in t.factors] + list(f.offsets)
        for block in f.blocks:
            atoms += [a for t in block.terms for a in t.factors]
            atoms += [] if values else list(block.grouping.factors)
            atoms += [block.by] if block.by is not None and not values else []  # gr(g, by = f)
        if values:
            atoms = [a for a in atoms if not (isinstance(a, Call) and a.func == "C")]
        nodes += [n for atom in atoms for n in data_names(atom)]
    used: dict[str, Name] = {}
    for node in nodes:
        used.setdefault(node.name, node)
    return used


def check_columns(data: pd.DataFrame, used: Mapping[str, Name], text: str) -> None:
    """Every used column exists once; an unknown name suggests the closest column."""
    names = [str(c) for c in data.columns]
    for name, node in used.items():
        numbered = [c for c in data.columns if str(c) == name and c != name]
        if name not in data.columns and numbered:
            # `0` ~ `1` on a frame with integer column names 0 and 1: formulas name columns by text.
            raise DataError(
                f"column {name!r} is named by the number {name} in the data, not the text {name!r}",
                text,
                node.span,
                hint="formulas read columns by their names as strings: rename them, e.g. "
                "data.columns = data.columns.astype(str)",
            )
        if name not in data.columns:
            guess = closest(name, names)
            hint = f"did you mean {guess!r}?" if guess else f"the columns are: {', '.join(names)}"
            raise DataError(
                f"unknown column {name!r}: the data has no such column", text, node.span, hint=hint
            )
        if isinstance(data[name], pd.DataFrame):
            raise DataError(f"column {name!r} appears more than once in the data", text, node.span)


def check_dtypes(
    data: pd.DataFrame,
    used: Mapping[str, Name],
    values: Mapping[str, Name],
    text: str,
    *,
    first_row: int = 0,
    quiet: Collection[str] = (),
) -> set[str]:
    """Apply the dtype rules (module docstring) to the ``used`` columns, ``values`` those read as
    values; return the object columns read as numbers (each warned about unless in ``quiet``).

    ``first_row`` is the position of the data's first row in the whole source (a chunk's offset),
    so that an error names positions in the whole data.
    """
    read_as_numbers: set[str] = set()
    for name, node in used.items():
        series = data[name]
        is_object = pd.api.types.is_object_dtype(series.dtype)
        if is_object and pd.api.types.infer_dtype(series, skipna=True) == "mixed":
            _check_cells(name, series, text, node, first_row)
        if name not in values:  # a grouping factor or C(): any values are levels, but True is 1
            if is_object and _bools_and_numbers(series):
                raise DataError(
                    f"grouping factor {name!r} mixes booleans and numbers, which pandas cannot "
                    "tell apart (True == 1 and False == 0 would be one level)",
                    text, node.span,
                    hint=f"make the levels text first: df[{name!r}] = df[{name!r}].astype(str)",
                )  # fmt: skip
            continue
        node = values[name]
        contents = _value_contents(series)
        if contents == "temporal":
            raise _temporal_error(name, series, text, node)
        if contents == "complex":
            hint = f"use its real part or modulus: np.real(df[{name!r}]) or np.abs(…)"
            raise DataError(f"column {name!r} holds complex numbers", text, node.span, hint=hint)
        if contents == "mixed":
            raise _mixed_error(name, series, text, node, first_row)
        if contents == "numbers" and is_object:
            read_as_numbers.add(name)
    warn_read_as_numbers(read_as_numbers - set(quiet))
    return read_as_numbers


def warn_read_as_numbers(names: Collection[str]) -> None:
    """One warning per object column read as numbers (a streamed scan warns once, after the merge)."""
    for name in sorted(names):
        warnings.warn(
            f"column {name!r} has dtype object but holds only numbers: it is read as numbers "
            f"(df[{name!r}].astype(float) says so and silences this; for categories write "
            f"C({name}) or use astype('category'))",
            DataWarning,
            stacklevel=user_stacklevel(),
        )


def _check_cells(name: str, series: pd.Series, text: str, node: Name, first_row: int) -> None:
    """A list, dict, set or array in a cell (``[[1], [2]]``) is neither a number nor a level."""
    for position, value in enumerate(series.to_numpy(dtype=object)):
        if isinstance(value, list | dict | set | np.ndarray | pd.Series | pd.DataFrame):
            where = f"e.g. {value!r:.40} at row {position + first_row} (rows counted from 0)"
            raise DataError(
                f"column {name!r} holds {type(value).__name__} values, {where}: each cell must "
                "be one number or one level", text, node.span,
                hint=f"spread them into columns, or make them text: df[{name!r}].astype(str)",
            )  # fmt: skip


def _value_contents(series: pd.Series) -> Contents | Literal["complex"]:
    dtype, types = series.dtype, pd.api.types
    if types.is_datetime64_any_dtype(dtype) or types.is_timedelta64_dtype(dtype):
        return "temporal"
    if isinstance(dtype, pd.PeriodDtype):
        return "temporal"
    if pd.api.types.is_complex_dtype(dtype):
        return "complex"
    return _object_contents(series) if pd.api.types.is_object_dtype(dtype) else "other"


def _bools_and_numbers(series: pd.Series) -> bool:
    if pd.api.types.infer_dtype(series, skipna=True) not in ("mixed", "mixed-integer"):
        return False
    flags = (isinstance(v, bool | np.bool_) for v in series.to_numpy(dtype=object))
    return any(flags) and bool(_number_mask(series).any())


def _temporal_error(name: str, series: pd.Series, text: str, node: Name) -> DataError:
    """Dates are not numbers: the hint shows one (days since the first date, as R's
    ``as.numeric(t - min(t))``); a grouping factor ``(1 | t)`` takes dates as levels."""
    column = f"df[{name!r}]"
    dtype = series.dtype
    if pd.api.types.is_timedelta64_dtype(dtype):
        what, number = "durations", f"{column}.dt.total_seconds()"
    elif isinstance(dtype, pd.PeriodDtype):
        what, number = "periods", f"({column}.dt.start_time - {column}.dt.start_time.min()).dt.days"
    elif pd.api.types.is_object_dtype(dtype):
        what, number = "dates or times", f"pd.to_datetime({column}), then days since the first"
    else:
        what, number = "dates", f"({column} - {column}.min()).dt.days"
    return DataError(
        f"column {name!r} holds {what} ({dtype}), not numbers, but is used as a number here",
        text,
        node.span,
        hint=f"use a number made from it, e.g. {number}; as a grouping factor (1 | {name}) or "
        f"C({name}) its values are levels",
    )


def _mixed_error(name: str, series: pd.Series, text: str, node: Name, first_row: int) -> DataError:
    """Numbers mixed with other values: show the odd ones out, up to three, with their positions.

    ``[1.5, "n/a", 2, 3]`` (mostly numbers) shows ``'n/a' (row 1)``; ``["a", "b", 3]`` (mostly
    not numbers) shows ``3 (row 2)``. Positions count the rows of the data from 0 (``df.iloc``).
    """
    present = np.asarray(pd.notna(series), dtype=bool)
    is_number = _number_mask(series) & present
    mostly_numbers = 2 * int(is_number.sum()) >= int(present.sum())
    odd = np.flatnonzero(present & ~is_number) if mostly_numbers else np.flatnonzero(is_number)
    values = series.to_numpy(dtype=object)
    shown: dict[str, int] = {}
    for position in odd:
        shown.setdefault(repr(values[position]), int(position) + first_row)
        if len(shown) == 3:
            break
    listed = ", ".join(f"{value} at row {row}" for value, row in shown.items())
    count = f"{len(odd)} of {int(present.sum())} values"
    problem = f"{count} are not numbers" if mostly_numbers else f"{count} are numbers among others"
    return DataError(
        f"column {name!r} mixes numbers and other values: {problem}, e.g. {listed} "
        "(rows counted from 0)",
        text,
        node.span,
        hint=f"to read it as numbers: df[{name!r}] = pd.to_numeric(df[{name!r}], errors='coerce') "
        f"(the rest become missing); to read it as categories: C({name}) in the formula, or "
        f"df[{name!r}] = df[{name!r}].astype('category')",
    )


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


def ordered_levels(
    found: tuple[Any, ...], listed: tuple[String | Number, ...], node: Name, atom: Atom, text: str
) -> tuple[Any, ...]:
    """The data's levels in the order of ``C(f, levels=c(…))``, which must list each exactly once.

    For levels a, b, c: ``c("c", "a", "b")`` gives (c, a, b); ``c("c", "a")`` misses b and
    ``c("c", "a", "b", "z")`` adds z, both errors that name the level. Levels match as ``ref=``
    does (:func:`find_level`): ``c(2, 1)`` finds the numbers 2 and 1, or the strings "2" and "1".
    """
    order = [find_level(found, item) for item in listed]
    extra = [item for item, j in zip(listed, order, strict=True) if j is None]
    if extra:
        raise DataError(
            f"{atom} lists {', '.join(map(str, extra))}, not a level of {node.name!r} in the data",
            text,
            extra[0].span or atom.span,
            hint=f"its levels are: {', '.join(map(repr, found))}",
        )
    missing = [level for j, level in enumerate(found) if j not in order]
    if missing:
        raise DataError(
            f"{atom} misses level(s) of {node.name!r}: {', '.join(map(repr, missing))}",
            text,
            atom.span,
            hint="levels= lists every level of the data once, in the order wanted",
        )
    return tuple(found[j] for j in order if j is not None)


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
    return cell_positions(tuple(codes), tuple(map(tuple, cells.tolist())))


def _python(value: Any) -> Any:
    """A level as a plain Python scalar (``np.int64(3)`` -> ``3``) so labels print as typed."""
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True, slots=True)
class CategoricalOptions:
    """What ``f`` or ``C(f, contrast, ref=…, levels=c(…))`` asks for (checked by the formula
    stage): the coding, the reference level's node and the listed level order."""

    contrast: Contrast = "treatment"
    ref: Keyword | None = None
    levels: tuple[String | Number, ...] | None = None


def categorical_options(atom: Atom) -> CategoricalOptions:
    """The options of a categorical factor: ``C(f, sum, levels=c("c", -1))`` is sum coding with
    the levels ``"c"`` and ``-1`` (a negative number is a minus sign before it in the text)."""
    if not isinstance(atom, Call):
        return CategoricalOptions()
    name = contrast_name(argument(atom, 1, "contrast"))
    listed = atom.keyword("levels")
    levels = None
    if listed is not None and isinstance(listed.value, Call):
        levels = tuple(_level_literal(node) for node in listed.value.args)
    contrast: Contrast = "sum" if name is not None and CONTRASTS.get(name) == "sum" else "treatment"
    return CategoricalOptions(contrast, atom.keyword("ref"), levels)


def _level_literal(node: ArithNode) -> String | Number:
    if isinstance(node, UnaryMinus) and isinstance(node.operand, Number):
        return Number(-node.operand.value, span=node.span)
    assert isinstance(node, (String, Number)), node  # checks._check_levels
    return node
