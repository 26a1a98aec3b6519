"""Fast single-machine readers for a streamed model: DuckDB relations, Polars frames and Parquet
datasets (a folder or a glob), each turned into the chunk source the streamed reduce reads.

``hm.stream_model(formula, source)`` reads a CSV or Parquet file, or any function returning a fresh
iterable of pandas DataFrames (:mod:`hiermod.data.stream`). The engines here hand it such a
function, which reads **only the columns the formula uses** (pushed down into the engine's own
query, so a wide table is never read whole) in chunks of ``chunksize`` rows:

- a DuckDB relation (``duckdb.sql("select … from 'events/*.parquet'")``): Arrow record batches of
  the relation's query, which DuckDB runs again for each of the two passes;
- a Polars ``LazyFrame`` (``pl.scan_parquet(…)``, ``pl.scan_csv(…)``) or ``DataFrame``: the
  streaming engine's batches (``collect_batches``);
- a Parquet folder or glob (``"events/"``, ``"events/*.parquet"``): a PyArrow dataset's batches.

Each pass reads the source again (nothing is kept between them), so the two passes see the same
rows only if the source does not change in between: a relation over a table being written to
gives a schema and a reduce of different rows. The engines are optional: a source of one kind is
recognised by its type's module, and its engine is imported only then.
"""

from __future__ import annotations

import glob
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from hiermod.data.columns import used_columns
from hiermod.data.partial import StreamError
from hiermod.formula.terms import ModelFormula

__all__ = ["engine_source", "formula_columns"]

Chunks = Callable[[], Iterable[pd.DataFrame]]


def engine_source(source: Any, formula: ModelFormula, chunksize: int) -> Any:
    """``source`` as a function of pandas chunks of the formula's columns when it is a DuckDB
    relation, a Polars frame or a Parquet folder or glob; any other source unchanged."""
    module = type(source).__module__.split(".")[0]
    if module == "duckdb" and hasattr(source, "columns"):
        return _duckdb(source, formula_columns(formula, source.columns), chunksize)
    if module == "polars" and type(source).__name__ in ("LazyFrame", "DataFrame"):
        frame = source.lazy()
        return _polars(frame, formula_columns(formula, frame.collect_schema().names()), chunksize)
    if isinstance(source, str | Path) and _is_dataset(source):
        return _parquet_dataset(source, formula, chunksize)
    return source


def formula_columns(formula: ModelFormula, present: list[str]) -> list[str]:
    """The source's columns the formula reads, in the source's order (a column it lacks is left
    to the scan, whose error names it and suggests the closest). Every engine reads only these:
    DuckDB, Polars and Parquet here, Dask and Spark in :func:`hiermod.plan.reduce.stream_stages`."""
    used = used_columns(formula, present, True)
    return [name for name in present if name in used]


def _duckdb(relation: Any, columns: list[str], chunksize: int) -> Chunks:
    selected = relation.select(*[_quoted(c) for c in columns])

    def chunks() -> Iterator[pd.DataFrame]:
        # DuckDB >= 1.4 calls it to_arrow_reader; earlier releases fetch_arrow_reader
        read = getattr(selected, "to_arrow_reader", None) or selected.fetch_arrow_reader
        for batch in read(chunksize):
            yield batch.to_pandas()

    return chunks


def _quoted(name: str) -> str:
    """A column name as a DuckDB identifier: ``"my col"``, with any ``"`` doubled."""
    return '"' + name.replace('"', '""') + '"'


def _polars(frame: Any, columns: list[str], chunksize: int) -> Chunks:
    selected = frame.select(columns)

    def chunks() -> Iterator[pd.DataFrame]:
        for batch in selected.collect_batches(chunk_size=chunksize):
            yield batch.to_pandas()

    return chunks


def _is_dataset(path: str | Path) -> bool:
    """A folder, or a path with a glob pattern (``*``, ``?``, ``[``): read as a Parquet dataset."""
    return Path(path).is_dir() or any(c in str(path) for c in "*?[")


def _parquet_dataset(path: str | Path, formula: ModelFormula, chunksize: int) -> Chunks:
    try:
        import pyarrow.dataset as ds
    except ImportError as missing:
        raise StreamError(
            "reading a Parquet folder or glob needs pyarrow", hint="pip install pyarrow"
        ) from missing
    files: str | list[str] = str(path)
    if not Path(path).is_dir():
        files = sorted(glob.glob(str(path), recursive=True))
        if not files:
            raise StreamError(f"no file matches {str(path)!r}")
    dataset = ds.dataset(files, format="parquet")
    columns = formula_columns(formula, dataset.schema.names)

    def chunks() -> Iterator[pd.DataFrame]:
        for batch in dataset.to_batches(columns=columns, batch_size=chunksize):
            yield batch.to_pandas()

    return chunks
