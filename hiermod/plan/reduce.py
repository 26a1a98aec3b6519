"""The second pass of a streamed model as partial states that merge, and the two passes driven.

A chunk maps to a :class:`ReducedState` (:func:`reduce_partition`): its rows encoded with the
scan's schema (as ``apply_schema`` encodes new data), planned, and reduced to per-cell sufficient
statistics (:func:`hiermod.plan.suffstats.cell_stats`) and to the moments behind default priors
(:class:`hiermod.data.moments.DesignMoments`). States merge associatively and commutatively
(cells matched by their keys and sorted, sums added; moments by Chan's update), so any engine of
:mod:`hiermod.data.engines` may merge them in any tree.

:func:`stream_stages` runs both passes on an engine: the scan (:mod:`hiermod.data.partial`), the
schema, a check that the model admits the reduction — before any row of the second pass is read —
then the reduce. A model that admits none is refused with the reason and what would admit one;
nothing is ever pulled into memory instead.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from hiermod.data.binder import apply_schema
from hiermod.data.columns import used_columns
from hiermod.data.design import Design, Schema
from hiermod.data.engines import (
    is_dask_frame,
    is_spark_frame,
    numbers_as_text,
    reduce_dask,
    reduce_local,
    reduce_spark,
    spark_columns,
)
from hiermod.data.families import Family
from hiermod.data.moments import DesignMoments
from hiermod.data.partial import ScanSpec, ScanState, StreamError, scan_partition
from hiermod.data.sources import engine_source, formula_columns
from hiermod.data.stream import Source, complete_rows, finish_scan, read_chunks
from hiermod.errors import DataError
from hiermod.formula.terms import ModelFormula
from hiermod.plan.ir import ModelIR
from hiermod.plan.lower import LowerOptions, lower
from hiermod.plan.suffstats import (
    CellStats,
    cell_stats,
    merge_cell_stats,
    reduction_plan,
    suffstats_ir,
    why_not,
)
from hiermod.warnings import DataWarning, user_stacklevel

__all__ = ["ReduceSpec", "ReducedState", "reduce_partition", "refusal", "stream_stages"]


@dataclass(frozen=True, slots=True)
class ReduceSpec:
    """What every chunk's reduce needs (sent to each worker once)."""

    schema: Schema
    family: Family
    options: LowerOptions
    used: tuple[str, ...]  # the columns whose missing values drop a row


@dataclass(frozen=True, slots=True)
class ReducedState:
    """The reduced statistics of some rows; ``ReducedState()`` is the merge's identity."""

    stats: CellStats | None = None
    n_rows: int = 0
    moments: DesignMoments = field(default_factory=DesignMoments)

    def merge(self, other: ReducedState) -> ReducedState:
        if other.stats is None:
            return self
        if self.stats is None:
            return other
        return ReducedState(
            merge_cell_stats([self.stats, other.stats]),
            self.n_rows + other.n_rows,
            self.moments.merge(other.moments),
        )


def refusal(reason: str, family: Family) -> StreamError:
    """The error for a model without a reduction: why, and which models have one.

    ``y ~ x`` with ``family="bernoulli"`` and a continuous x: the bernoulli likelihood has no
    per-cell sums that reproduce it, so its rows would have to be kept — which a stream never does
    (in memory, ``hm.Model`` merges bernoulli rows with equal predictor values into counts, which
    pays with categorical predictors only; the stream has no such reduction).
    """
    also = (
        f"; in memory, hm.Model merges {family.name} rows that share every predictor value into "
        "counts (categorical predictors), but a stream cannot"
        if "collapse" in family.reductions
        else ""
    )
    return StreamError(
        f"a streamed model needs sufficient statistics, but {reason}",
        hint=(
            "a gaussian family with the identity link, unweighted rows, no cens(), trunc() or "
            "se(), and a sigma constant within the cells of the group effects admits one"
            f"{also}; otherwise fit hm.Model on rows that fit in memory (a sample, or "
            "ddf.compute())"
        ),
    )


def reduce_partition(spec: ReduceSpec, chunk: pd.DataFrame) -> ReducedState:
    """The reduced statistics of one chunk of rows (its rows with missing values dropped)."""
    rows = complete_rows(chunk, spec.used)
    if not len(rows):
        return ReducedState()
    family = spec.family
    design = apply_schema(spec.schema, rows, with_response=True)
    ir = lower(design, family, spec.options)
    reason = why_not(ir)
    if reason is not None:
        raise refusal(reason, family)
    assert design.y is not None
    stats = cell_stats(reduction_plan(ir), ir.data_values, design.y)
    return ReducedState(stats, int(design.y.shape[0]), DesignMoments.of(design, family))


def _run[S, T](
    source: Any, chunksize: int, mapper: Callable[[S, pd.DataFrame], T], spec: S, empty: T
) -> T:
    merge: Callable[[T, T], T] = type(empty).merge  # type: ignore[attr-defined]
    if is_dask_frame(source):
        return reduce_dask(source, mapper, spec, merge, empty)
    if is_spark_frame(source):
        return reduce_spark(source, mapper, spec, merge, empty)
    return reduce_local(read_chunks(source, chunksize), mapper, spec, merge, empty)


def stream_stages(
    formula: ModelFormula,
    source: Source | Any,
    family: Family,
    options: LowerOptions,
    *,
    chunksize: int,
    na_action: str,
) -> tuple[Design, ModelIR]:
    """Both passes over ``source`` (a file, a function of chunks, or a Dask DataFrame): the design
    of a few rows under the whole source's schema, and the IR with the reduced likelihood."""
    if is_dask_frame(source):  # only the columns the formula reads travel (or are read)
        frame: Any = source
        source = frame[formula_columns(formula, list(frame.columns))]
    elif is_spark_frame(source):
        frame = source
        source = spark_columns(frame, formula_columns(formula, list(frame.columns)))
    source = engine_source(source, formula, chunksize)  # DuckDB, Polars, a Parquet folder or glob
    scan = _run(source, chunksize, scan_partition, ScanSpec.of(formula), ScanState())
    if is_dask_frame(source):
        _warn_numbers_as_text(formula, source, scan)
    schema = finish_scan(formula, scan, family, na_action)
    assert scan.prototype is not None  # finish_scan raises for a source without complete rows
    # The model is checked on the prototype's rows before the second pass reads any row.
    design = apply_schema(schema, scan.prototype, with_response=True)
    reason = why_not(lower(design, family, options))
    if reason is not None:
        raise refusal(reason, family)
    spec = ReduceSpec(schema, family, options, scan.used)
    reduced = _run(source, chunksize, reduce_partition, spec, ReducedState())
    if reduced.stats is None:
        raise DataError("the data has no rows without missing values")
    ir = lower(design, family, options, reduced.moments.result())
    plan = reduction_plan(ir)
    reduction = suffstats_ir(ir, plan, reduced.stats, reduced.n_rows, rows=False)
    return replace(design, schema=schema), replace(ir, suffstats=reduction)


def _warn_numbers_as_text(formula: ModelFormula, frame: Any, scan: ScanState) -> None:
    """A DataWarning for each text column of a Dask frame, read for its values, whose levels look
    like numbers (:func:`hiermod.data.engines.numbers_as_text`): it becomes categories."""
    values = used_columns(formula, frame.columns, True, values=True)
    for name, examples in numbers_as_text(scan.levels, dict(frame.dtypes), values).items():
        shown = ", ".join(repr(v) for v in examples)
        warnings.warn(
            f"column {name!r} of the Dask DataFrame is text, and its values look like numbers "
            f"({shown}): it is read as categories. Dask turns object columns into text by default "
            "(its dataframe.convert-string option); for numbers convert it first: "
            f"ddf[{name!r}] = dd.to_numeric(ddf[{name!r}]), or for categories make it one: "
            f"ddf[{name!r}].astype('category')",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
