"""The first pass of a streamed model as partial states that merge: one definition for every engine.

A chunk of rows — a pandas chunk of a file, a Dask partition on a worker — maps to a
:class:`ScanState` (:func:`scan_partition`); states merge with :meth:`ScanState.merge`, which is
associative and commutative, so chunks may be merged in any order or tree (a single process folds
them left to right; Dask reduces them in a tree of ``split_every`` states per task). Every field is
a plain, picklable value:

- level tables are sets (a chunk with levels ``{b, a}`` merged with one with ``{c, a}`` gives
  ``{a, b, c}`` either way); their order is the in-memory model's (:meth:`ScanState.level_table`:
  :func:`hiermod.data.columns.factorize`, sorted, numbers before strings);
- observed cells of each grouping are sets of level tuples;
- the moments of ``center()``/``scale()`` are :class:`RunningMoments` (Chan et al.'s parallel
  count/mean/M2, stable for values ~1e9 + small noise, where running sums keep no digit);
- missing-value counts and row counts add up.

The only field outside the merge's laws is ``prototype``: a few real rows that carry the columns'
dtypes into ``bind`` (any rows serve — the schema's levels, cells and constants come from the
merged fields), so it takes no part in equality.

Workers never warn (warnings would be lost in another process, and ``catch_warnings`` is not
thread-safe): an object column read as numbers is recorded in ``read_as_numbers`` and warned about
once, after the merge, by :mod:`hiermod.data.stream`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hiermod.data.columns import (
    check_columns,
    check_dtypes,
    column_kind,
    factorize,
    missing_mask,
    used_columns,
)
from hiermod.data.moments import RunningMoments
from hiermod.data.transforms import Evaluator
from hiermod.errors import DataError
from hiermod.formula.syntax import Call
from hiermod.formula.terms import ModelFormula

__all__ = ["PROTOTYPE_ROWS", "ScanSpec", "ScanState", "scan_partition", "stateful_calls"]

PROTOTYPE_ROWS = 1_000  # real rows kept from the scan to build the schema


class StreamError(DataError):
    """The model cannot be fitted from chunks (the message says why)."""


def stateful_calls(formula: ModelFormula) -> tuple[Call, ...]:
    """The ``center()``/``scale()``/``standardize()`` calls whose constants the scan computes;
    ``poly()`` and ``bs()`` are refused (their basis depends on the whole column)."""
    calls: list[Call] = []
    for f in formula.formulas:
        atoms = [a for t in f.terms for a in t.factors]
        for block in f.blocks:
            atoms += [a for t in block.terms for a in t.factors]
        calls += [a for a in atoms if isinstance(a, Call)]
    for call in calls:
        if call.func in (
            "poly",
            "bs",
            "s",
            "t2",
            "gp",
        ):  # gp(): its scaling, centre and basis range
            raise StreamError(
                f"{call.func}() needs all rows at once (its basis depends on the whole column)",
                formula.text,
                call.span,
                hint="fit it in memory with hm.Model, or precompute the basis columns",
            )
    wanted = (c for c in calls if c.func in ("center", "scale", "standardize"))
    return tuple({str(c): c for c in wanted}.values())


@dataclass(frozen=True, slots=True)
class ScanSpec:
    """What every chunk's scan needs, computed once from the formula (and sent to workers once)."""

    formula: ModelFormula
    stateful: tuple[Call, ...]
    groupings: tuple[tuple[str, ...], ...]

    @staticmethod
    def of(formula: ModelFormula) -> ScanSpec:
        blocks = [b for f in formula.formulas for b in f.blocks]
        groupings = {b.factors: None for b in blocks}
        # gr(g, by = f): the (g, f) pairs are a grouping's cells too (hiermod.data.grouping_by)
        groupings |= {(*b.factors, b.by.name): None for b in blocks if b.by is not None}
        return ScanSpec(formula, stateful_calls(formula), tuple(groupings))


def _union[K, V](a: Mapping[K, frozenset[V]], b: Mapping[K, frozenset[V]]) -> dict[K, frozenset[V]]:
    return {k: a.get(k, frozenset()) | b.get(k, frozenset()) for k in {**a, **b}}


def _categories(a: tuple[Any, ...] | None, b: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
    """Two chunks' pandas categories: kept when they agree; ``None`` when they differ (then, as
    ``pd.concat`` of the chunks would, the column is plain values with sorted levels)."""
    return a if a == b else None


@dataclass(frozen=True, slots=True)
class ScanState:
    """What the first pass learns from some rows; ``ScanState()`` is the merge's identity."""

    used: tuple[str, ...] = ()
    levels: Mapping[str, frozenset[Any]] = field(default_factory=dict)
    categories: Mapping[str, tuple[Any, ...] | None] = field(default_factory=dict)
    cells: Mapping[tuple[str, ...], frozenset[tuple[Any, ...]]] = field(default_factory=dict)
    moments: Mapping[str, RunningMoments] = field(default_factory=dict, compare=False)
    read_as_numbers: frozenset[str] = frozenset()
    missing: Mapping[str, int] = field(default_factory=dict)
    rows: int = 0
    dropped: int = 0
    prototype: pd.DataFrame | None = field(default=None, compare=False)  # see the module doc

    def merge(self, other: ScanState) -> ScanState:
        """The state of both sets of rows (associative and commutative but for ``prototype``)."""
        if not other.used:
            return self
        if not self.used:
            return other
        moments = {
            k: self.moments.get(k, RunningMoments()).merge(other.moments.get(k, RunningMoments()))
            for k in {**self.moments, **other.moments}
        }
        categories = {**other.categories, **self.categories}
        for k in self.categories.keys() & other.categories.keys():
            categories[k] = _categories(self.categories[k], other.categories[k])
        missing = {k: self.missing.get(k, 0) + other.missing.get(k, 0) for k in self.used}
        return ScanState(
            used=self.used,
            levels=_union(self.levels, other.levels),
            categories=categories,
            cells=_union(self.cells, other.cells),
            moments=moments,
            read_as_numbers=self.read_as_numbers | other.read_as_numbers,
            missing={k: v for k, v in missing.items() if v},
            rows=self.rows + other.rows,
            dropped=self.dropped + other.dropped,
            prototype=_rows(self.prototype, other.prototype),
        )

    def level_table(self, name: str) -> tuple[Any, ...]:
        """The levels of ``name`` in the in-memory model's order: a pandas categorical's category
        order, else sorted (``{"b", 2, 1}`` gives ``(1, 2, "b")``)."""
        categories = self.categories.get(name)
        found = self.levels.get(name, frozenset())
        if categories is not None:
            return tuple(c for c in categories if c in found)
        return factorize(pd.Series(list(found), dtype=object if found else None))[1]


def _rows(a: pd.DataFrame | None, b: pd.DataFrame | None) -> pd.DataFrame | None:
    if a is None or len(a) >= PROTOTYPE_ROWS:
        return a if a is not None else b
    return a if b is None else pd.concat([a, b.head(PROTOTYPE_ROWS - len(a))])


def _first_row(chunk: pd.DataFrame) -> int:
    """Where the chunk starts in the whole source, for the rows named in errors: its RangeIndex's
    start (a file's chunks are so numbered by :func:`hiermod.data.stream.read_chunks`, and a Dask
    partition of ``dd.from_pandas`` keeps its rows' labels), else 0 (then rows count in the chunk)."""
    index = chunk.index
    if isinstance(index, pd.RangeIndex) and index.step == 1:
        return int(index.start)
    return 0


def scan_partition(spec: ScanSpec, chunk: pd.DataFrame) -> ScanState:
    """The state of one chunk of rows (``chunk`` is any pandas DataFrame: a file's chunk, a Dask
    partition). Raises the in-memory model's errors for missing or badly typed columns."""
    formula = spec.formula
    used = used_columns(formula, chunk.columns, True)
    check_columns(chunk, used, formula.text)
    values = used_columns(formula, chunk.columns, True, values=True)
    first_row = _first_row(chunk)
    read_as_numbers = check_dtypes(
        chunk, used, values, formula.text, first_row=first_row, quiet=used
    )
    names = tuple(used)
    missing = np.zeros(len(chunk), dtype=bool)
    counts: dict[str, int] = {}
    for name in names:
        mask = missing_mask(chunk[name])
        if mask.any():
            counts[name] = int(mask.sum())
            missing |= mask
    kept = chunk.loc[~missing, list(names)]
    categories = {
        name: tuple(kept[name].cat.categories)
        for name in names
        if isinstance(kept[name].dtype, pd.CategoricalDtype)
    }
    state = ScanState(
        used=names,
        categories=categories,
        read_as_numbers=frozenset(read_as_numbers),
        missing=counts,
        rows=len(chunk),
        dropped=int(missing.sum()),
    )
    if kept.empty:
        return state
    grouping_columns = {f for factors in spec.groupings for f in factors}
    levels: dict[str, frozenset[Any]] = {}
    for name in names:
        series = kept[name]
        if column_kind(series) == "categorical" or name in grouping_columns:
            levels[name] = frozenset(pd.unique(series))
    cells = {
        factors: frozenset(kept[list(factors)].drop_duplicates().itertuples(index=False, name=None))
        for factors in spec.groupings
    }
    moments: dict[str, RunningMoments] = {}
    if spec.stateful:
        evaluator = Evaluator({k: kept[k] for k in names}, len(kept), formula.text, {}, fit=True)
        for call in spec.stateful:
            moments[str(call)] = RunningMoments.of(evaluator.numeric(call.args[0]))
    return ScanState(
        used=names,
        levels=levels,
        categories=categories,
        cells=cells,
        moments=moments,
        read_as_numbers=state.read_as_numbers,
        missing=counts,
        rows=len(chunk),
        dropped=state.dropped,
        prototype=kept.head(PROTOTYPE_ROWS),
    )
