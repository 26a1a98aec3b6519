"""Gaussian models from data larger than memory: two passes over chunks, never all rows at once.

``hm.stream_model(formula, "big.csv")`` (or a Parquet file, or a function returning an iterable of
DataFrames) makes two passes:

1. **scan** — the level tables of categorical and grouping columns, the observed cells of every
   grouping, running moments for ``center()``/``scale()`` and missing-value counts;
2. **reduce** — each chunk is encoded with the schema from the scan (exactly as ``bind`` would encode
   the whole file) and reduced to per-cell sufficient statistics, which are added up
   (:mod:`hiermod.plan.reduce`); the moments behind default priors are merged too.

Each pass maps a chunk to a partial state and merges the states (the scan's
:class:`hiermod.data.partial.ScanState`, the reduce's :class:`hiermod.plan.reduce.ReducedState`),
on one process or as Dask tasks (:mod:`hiermod.data.engines`). This module reads the chunks of a
file (:func:`read_chunks`), turns the merged scan into the schema (:func:`finish_scan`; one
process: :func:`scan_schema`) and drops the rows with missing values before encoding
(:func:`complete_rows`, :func:`encoded_chunks`).

Memory is bounded by the chunk size plus the number of cells, not by the number of rows. The model
is the sufficient-statistics model (so it needs a Gaussian model that admits the reduction);
``poly()`` and ``bs()`` need all rows at once and are refused. A streamed model keeps no rows:
fitting, summaries and ``predict(idata, data=new_rows)`` work; row-wise quantities of the training
data (pointwise log-likelihood, posterior predictive of the training rows) are not available.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from functools import partial, reduce
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hiermod.data.binder import apply_schema, bind
from hiermod.data.columns import missing_mask, used_columns, warn_read_as_numbers
from hiermod.data.design import Design, GroupingSchema, Schema, TransformState
from hiermod.data.families import Family
from hiermod.data.moments import DesignMoments, RunningMoments
from hiermod.data.partial import ScanSpec, ScanState, StreamError, scan_partition
from hiermod.errors import DataError
from hiermod.formula.terms import ModelFormula
from hiermod.warnings import DataWarning, user_stacklevel

__all__ = [
    "DesignMoments",
    "RunningMoments",
    "Source",
    "StreamError",
    "complete_rows",
    "encoded_chunks",
    "finish_scan",
    "read_chunks",
    "scan_schema",
]

Source = str | Path | Callable[[], Iterable[pd.DataFrame]]


def read_chunks(source: Source, chunksize: int) -> Iterator[pd.DataFrame]:
    """The chunks of a CSV or Parquet file, or of a function returning an iterable of DataFrames,
    each numbered by its rows' positions in the whole source (rows 0–449, 450–899, …), so that an
    error names a row of the source."""
    offset = 0
    for chunk in _chunks(source, chunksize):
        yield chunk.set_axis(pd.RangeIndex(offset, offset + len(chunk)))
        offset += len(chunk)


def _chunks(source: Source, chunksize: int) -> Iterator[pd.DataFrame]:
    if callable(source):
        yield from source()
        return
    if not isinstance(source, str | Path):
        raise StreamError(
            "a streamed model reads a CSV or Parquet path, a Parquet folder or glob, a function "
            "returning DataFrames, a dask.dataframe.DataFrame, a DuckDB relation or a Polars "
            f"frame, not {type(source).__name__}",
            hint="for a Dask DataFrame: pip install 'hiermod[dask]'",
        )
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


def _report(scan: ScanState, na_action: str) -> None:
    """The scan's errors and warnings, once for the whole source (workers never warn)."""
    if scan.prototype is None:
        raise DataError("the data has no rows without missing values")
    where = ", ".join(f"{k!r} ({v} rows)" for k, v in scan.missing.items())
    if scan.dropped and na_action == "raise":
        raise DataError(
            f"missing values in {scan.dropped} of {scan.rows} rows, in columns: {where}",
            hint="drop or impute them, or pass na_action='drop'",
        )
    warn_read_as_numbers(scan.read_as_numbers)
    if scan.dropped:
        warnings.warn(
            f"dropped {scan.dropped} of {scan.rows} rows with missing values in: {where}",
            DataWarning,
            stacklevel=user_stacklevel(),
        )


def _prototype(scan: ScanState) -> pd.DataFrame:
    """Real rows from the scan, plus one copy of a row per level they miss (so bind sees every level)."""
    assert scan.prototype is not None
    frame = scan.prototype.reset_index(drop=True)
    extra: list[pd.DataFrame] = []
    for name in scan.levels:
        present = set(pd.unique(frame[name]))
        for level in (v for v in scan.level_table(name) if v not in present):
            row = frame.iloc[[0]].copy()
            row[name] = level
            extra.append(row)
    frame = pd.concat([frame, *extra], ignore_index=True) if extra else frame
    for name, categories in scan.categories.items():
        if categories is not None:
            frame[name] = pd.Categorical(frame[name], categories=categories)
        elif isinstance(frame[name].dtype, pd.CategoricalDtype):
            frame[name] = frame[name].astype(object)  # chunks disagree on the categories
    return frame


def finish_scan(formula: ModelFormula, scan: ScanState, family: Family, na_action: str) -> Schema:
    """The schema of the whole source from the merged scan: bind on the prototype, then the
    scan's global facts (constants of center()/scale(), observed cells, row counts)."""
    _report(scan, na_action)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        schema = bind(formula, _prototype(scan), family=family).schema
    transforms = dict(schema.transforms)
    for key, sums in scan.moments.items():
        values: dict[str, Any] = {"mean": float(sums.mean)}
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


def scan_schema(
    formula: ModelFormula, source: Source, family: Family, *, chunksize: int, na_action: str
) -> Schema:
    """The first pass on one process: each chunk mapped to a :class:`ScanState`, merged left to
    right, then :func:`finish_scan`."""
    states = map(partial(scan_partition, ScanSpec.of(formula)), read_chunks(source, chunksize))
    return finish_scan(formula, reduce(ScanState.merge, states, ScanState()), family, na_action)


def complete_rows(chunk: pd.DataFrame, used: Iterable[str]) -> pd.DataFrame:
    """The rows of ``chunk`` without a missing value in ``used`` (the scan counted and reported
    the others once, so encoding the rest never warns)."""
    missing = np.zeros(len(chunk), dtype=bool)
    for name in used:
        missing |= missing_mask(chunk[name])
    return chunk.loc[~missing] if missing.any() else chunk


def encoded_chunks(schema: Schema, source: Source, chunksize: int) -> Iterator[Design]:
    """The second pass: each chunk of ``source`` encoded with ``schema`` (chunks without complete
    rows are skipped)."""
    for chunk in read_chunks(source, chunksize):
        rows = complete_rows(chunk, used_columns(schema.formula, chunk.columns, True))
        if len(rows):
            yield apply_schema(schema, rows, with_response=True)
