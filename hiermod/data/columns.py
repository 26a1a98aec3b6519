"""Reading data columns: kinds, missing values, level tables and codes, cells, used columns.

Column reading for :mod:`hiermod.data.design` and :mod:`hiermod.data.stream`: kinds (numeric or
categorical), missing values (R's ``na.omit``), level tables and codes, the observed cells of a
grouping interaction, and which columns a formula reads (:func:`used_columns`, with the nodes for
carets). Evaluating the formula's calls is :mod:`hiermod.data.transforms`'.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from hiermod.data.design import Contrast
from hiermod.data.runtime import cell_positions
from hiermod.errors import DataError
from hiermod.formula.functions import CONTRASTS, FUNCTIONS, closest, contrast_name
from hiermod.formula.syntax import (
    Arith,
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
]

Kind = Literal["numeric", "categorical"]


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


def argument(call: Call, position: int, name: str) -> ArithNode | None:
    """The argument at ``position`` or given as ``name=``."""
    if len(call.args) > position:
        return call.args[position]
    kw = call.keyword(name)
    return kw.value if kw is not None else None


def data_names(node: object) -> list[Name]:
    """The column references a node reads, in order (options such as ``raw=TRUE``, ``ref="b"`` or
    the contrast of ``C(f, sum)`` are not columns; the data argument given as ``x=`` is, and both
    arguments of ``cbind(s, f)``)."""
    out: list[Name] = []
    if isinstance(node, Name):
        out.append(node)
    elif isinstance(node, Call):
        spec = FUNCTIONS.get(node.func)
        for arg in node.args[: spec.data_arguments if spec is not None else 1]:
            out.extend(data_names(arg))
        data_kw = node.keyword("x")
        if data_kw is not None:
            out.extend(data_names(data_kw.value))
    elif isinstance(node, Arith):
        out.extend(data_names(node.left) + data_names(node.right))
    elif isinstance(node, UnaryMinus):
        out.extend(data_names(node.operand))
    return out


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
