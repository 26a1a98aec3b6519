"""Gaussian models from data larger than memory: two passes over chunks, never all rows at once.

``hm.stream_model(formula, "big.csv")`` (or a Parquet file, or a function returning an iterable of
DataFrames) makes two passes:

1. **scan** — the level tables of categorical and grouping columns, the observed cells of every
   grouping, running moments for ``center()``/``scale()`` and missing-value counts;
2. **reduce** — each chunk is encoded with the schema from the scan (exactly as ``bind`` would encode
   the whole file) and reduced to per-cell sufficient statistics, which are added up
   (:class:`hiermod.plan.suffstats.Accumulator`); the moments behind default priors are added up too.

This module reads the chunks, makes the scan (:func:`scan_schema`), encodes the chunks of the second
pass (:func:`encoded_chunks`) and adds up the moments (:class:`DesignMoments`);
:func:`hiermod.model.stream_model` plans each encoded chunk and adds up its statistics.

Memory is bounded by the chunk size plus the number of cells, not by the number of rows. The model
is the sufficient-statistics model (so it needs a Gaussian model that admits the reduction);
``poly()`` and ``bs()`` need all rows at once and are refused. A streamed model keeps no rows:
fitting, summaries and ``predict(idata, data=new_rows)`` work; row-wise quantities of the training
data (pointwise log-likelihood, posterior predictive of the training rows) are not available.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hiermod.data.binder import apply_schema, bind
from hiermod.data.columns import check_columns, column_kind, missing_mask, used_columns
from hiermod.data.design import DataMoments, Design, GroupingSchema, Schema, TransformState
from hiermod.data.families import Family
from hiermod.data.transforms import Evaluator
from hiermod.errors import DataError
from hiermod.formula.syntax import Call
from hiermod.formula.terms import ModelFormula
from hiermod.warnings import DataWarning, user_stacklevel

__all__ = ["DesignMoments", "Source", "StreamError", "encoded_chunks", "scan_schema"]

Source = str | Path | Callable[[], Iterable[pd.DataFrame]]
PROTOTYPE_ROWS = 1_000  # real rows kept from the scan to build the schema


class StreamError(DataError):
    """The model cannot be fitted from chunks (the message says why)."""


def _read_chunks(source: Source, chunksize: int) -> Iterator[pd.DataFrame]:
    if callable(source):
        yield from source()
        return
    path = Path(source)
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq
        except ImportError as missing:
            raise StreamError(
                "reading Parquet needs pyarrow", hint="pip install pyarrow, or pass a CSV file"
            ) from missing
        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunksize):
            yield batch.to_pandas()
        return
    yield from pd.read_csv(path, chunksize=chunksize)


def _stateful_calls(formula: ModelFormula) -> list[Call]:
    calls: list[Call] = []
    for f in formula.formulas:
        atoms = [a for t in f.terms for a in t.factors]
        for block in f.blocks:
            atoms += [a for t in block.terms for a in t.factors]
        calls += [a for a in atoms if isinstance(a, Call)]
    for call in calls:
        if call.func in ("poly", "bs"):
            raise StreamError(
                f"{call.func}() needs all rows at once (its basis depends on the whole column)",
                formula.text,
                call.span,
                hint="fit it in memory with hm.Model, or precompute the basis columns",
            )
    return list({str(c): c for c in calls if c.func in ("center", "scale", "standardize")}.values())


@dataclass
class _Sums:
    """Running count, sum and sum of squares (for means and sds over chunks)."""

    n: float = 0.0
    total: np.ndarray | float = 0.0
    squares: np.ndarray | float = 0.0

    def add(self, values: np.ndarray) -> None:
        self.n += values.shape[0]
        self.total = self.total + values.sum(axis=0)
        self.squares = self.squares + (values * values).sum(axis=0)

    def mean(self) -> Any:
        return self.total / self.n

    def sd(self) -> Any:
        variance = (self.squares - self.n * self.mean() ** 2) / max(self.n - 1.0, 1.0)
        return np.sqrt(np.maximum(variance, 0.0))


@dataclass
class _Scan:
    """What the first pass learns."""

    used: list[str] = field(default_factory=list)
    levels: dict[str, dict[Any, None]] = field(default_factory=dict)  # insertion-ordered sets
    categories: dict[str, list[Any]] = field(default_factory=dict)  # pandas Categorical columns
    cells: dict[tuple[str, ...], set[tuple[Any, ...]]] = field(default_factory=dict)
    moments: dict[str, _Sums] = field(default_factory=dict)
    prototype: pd.DataFrame | None = None
    rows: int = 0
    dropped: int = 0
    missing: dict[str, int] = field(default_factory=dict)


def _scan(
    formula: ModelFormula, chunks: Iterable[pd.DataFrame], family: Family, na_action: str
) -> _Scan:
    scan = _Scan()
    stateful = _stateful_calls(formula)
    groupings = {b.factors for f in formula.formulas for b in f.blocks}
    for chunk in chunks:
        if not scan.used:
            scan.used = list(used_columns(formula, chunk.columns, True))
            check_columns(chunk, used_columns(formula, chunk.columns, True), formula.text)
        missing = np.zeros(len(chunk), dtype=bool)
        for name in scan.used:
            mask = missing_mask(chunk[name])
            if mask.any():
                scan.missing[name] = scan.missing.get(name, 0) + int(mask.sum())
                missing |= mask
        scan.rows += len(chunk)
        scan.dropped += int(missing.sum())
        kept = chunk.loc[~missing, scan.used]
        if kept.empty:
            continue
        grouping_columns = {f for factors in groupings for f in factors}
        for name in scan.used:
            series = kept[name]
            if isinstance(series.dtype, pd.CategoricalDtype):
                known = scan.categories.setdefault(name, [])
                known += [c for c in series.cat.categories if c not in known]
            if column_kind(series) == "categorical" or name in grouping_columns:
                scan.levels.setdefault(name, {}).update(dict.fromkeys(pd.unique(series)))
        for factors in groupings:
            combos = kept[list(factors)].drop_duplicates().itertuples(index=False, name=None)
            scan.cells.setdefault(factors, set()).update(combos)
        if stateful:
            frame = {k: kept[k] for k in scan.used}
            evaluator = Evaluator(frame, len(kept), formula.text, {}, fit=True)
            for call in stateful:
                scan.moments.setdefault(str(call), _Sums()).add(evaluator.numeric(call.args[0]))
        if scan.prototype is None or len(scan.prototype) < PROTOTYPE_ROWS:
            head = kept.head(PROTOTYPE_ROWS)
            scan.prototype = head if scan.prototype is None else pd.concat([scan.prototype, head])
    if scan.prototype is None:
        raise DataError("the data has no rows without missing values")
    if scan.dropped and na_action == "raise":
        where = ", ".join(f"{k!r} ({v} rows)" for k, v in scan.missing.items())
        raise DataError(
            f"missing values in {scan.dropped} of {scan.rows} rows, in columns: {where}",
            hint="drop or impute them, or pass na_action='drop'",
        )
    if scan.dropped:
        where = ", ".join(f"{k!r} ({v} rows)" for k, v in scan.missing.items())
        warnings.warn(
            f"dropped {scan.dropped} of {scan.rows} rows with missing values in: {where}",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
    return scan


def _prototype(scan: _Scan) -> pd.DataFrame:
    """Real rows from the scan, plus one copy of a row per level they miss (so bind sees every level)."""
    assert scan.prototype is not None
    frame = scan.prototype.reset_index(drop=True)
    extra: list[pd.DataFrame] = []
    for name, levels in scan.levels.items():
        present = set(pd.unique(frame[name]))
        for level in (v for v in levels if v not in present):
            row = frame.iloc[[0]].copy()
            row[name] = level
            extra.append(row)
    frame = pd.concat([frame, *extra], ignore_index=True) if extra else frame
    for name, categories in scan.categories.items():
        frame[name] = pd.Categorical(frame[name], categories=categories)
    return frame


def _schema(formula: ModelFormula, scan: _Scan, family: Family) -> Schema:
    """The schema of the whole source: bind on the prototype, then the scan's global facts."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        schema = bind(formula, _prototype(scan), family=family).schema
    transforms = dict(schema.transforms)
    for key, sums in scan.moments.items():
        values: dict[str, Any] = {"mean": float(sums.mean())}
        if not key.startswith("center("):
            values["sd"] = float(sums.sd())
        transforms[key] = TransformState(key, tuple(values.items()))
    groupings = {}
    for factors, grouping in schema.groupings.items():
        lookup = [{v: i for i, v in enumerate(levels)} for levels in grouping.levels]
        codes = [[lookup[j][v] for j, v in enumerate(combo)] for combo in scan.cells[factors]]
        cells = np.unique(np.asarray(codes, dtype=np.int64).reshape(-1, len(factors)), axis=0)
        groupings[factors] = GroupingSchema(factors, grouping.levels, cells)
    return replace(
        schema,
        transforms=transforms,
        groupings=groupings,
        n_rows=scan.rows - scan.dropped,
        n_dropped=scan.dropped,
    )


class DesignMoments:
    """Running sums behind the default priors: the response and every design column."""

    def __init__(self, family: Family) -> None:
        self.family = family
        self.response = _Sums()
        self.columns: dict[tuple[str, str, int], _Sums] = {}

    def add(self, design: Design) -> None:
        assert design.y is not None
        self.response.add(self.family.on_data_scale(design.y))
        for fd in design.formulas:
            self.columns.setdefault(("X", fd.dpar, -1), _Sums()).add(fd.X)
            for position, bd in enumerate(fd.blocks):
                self.columns.setdefault(("Z", fd.dpar, position), _Sums()).add(bd.Z)

    def result(self) -> DataMoments:
        sd = float(self.response.sd())
        return DataMoments(
            (float(self.response.mean()), sd if sd > 0 else 1.0),
            {k: np.where(s.sd() > 0, s.sd(), 1.0) for k, s in self.columns.items()},
        )


def scan_schema(
    formula: ModelFormula, source: Source, family: Family, *, chunksize: int, na_action: str
) -> Schema:
    """The first pass: the schema of the whole source, as ``bind`` would make it from all rows."""
    scan = _scan(formula, _read_chunks(source, chunksize), family, na_action)
    return _schema(formula, scan, family)


def encoded_chunks(schema: Schema, source: Source, chunksize: int) -> Iterator[Design]:
    """The second pass: each chunk of ``source`` encoded with ``schema`` (chunks without complete
    rows are skipped; the scan already warned about missing values once)."""
    for chunk in _read_chunks(source, chunksize):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)  # the scan already warned once
            try:
                design = apply_schema(schema, chunk, with_response=True)
            except DataError as error:
                if "has no rows" in error.message or "no rows" in error.message:
                    continue
                raise
        yield design
