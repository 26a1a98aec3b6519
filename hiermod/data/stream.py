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

import math
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hiermod.data.binder import apply_schema, bind
from hiermod.data.columns import (
    check_columns,
    check_dtypes,
    column_kind,
    missing_mask,
    used_columns,
)
from hiermod.data.design import DataMoments, Design, GroupingSchema, Schema, TransformState
from hiermod.data.families import Family
from hiermod.data.transforms import Evaluator
from hiermod.errors import DataError
from hiermod.formula.syntax import Call
from hiermod.formula.terms import ModelFormula
from hiermod.warnings import DataWarning, user_stacklevel

__all__ = [
    "DesignMoments",
    "RunningMoments",
    "Source",
    "StreamError",
    "encoded_chunks",
    "scan_schema",
]

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


def _unit(spread: np.ndarray | float) -> np.ndarray:
    """The power of two at or just below a spread, or the smallest float for a zero spread.

    Dividing by a power of two is exact, so deviations scaled by it keep every digit; for a spread
    of 3e300 the unit is 2**998 (about 2.7e300), for 0 it is 2**-1074 (then every deviation is 0).
    """
    exponent = np.frexp(np.asarray(spread, dtype=np.float64))[1]
    unit: np.ndarray = np.where(np.asarray(spread) > 0, np.ldexp(1.0, exponent - 1), 2.0**-1074)
    return unit


def _two_sum(a: Any, b: Any) -> tuple[Any, Any]:
    """``a + b`` rounded, and what the rounding lost (Knuth's TwoSum): exactly a + b = s + e."""
    s = a + b
    v = s - a
    return s, (a - (s - v)) + (b - v)


@dataclass(frozen=True, slots=True)
class RunningMoments:
    """Count, mean and spread of the values seen so far (per column of a matrix), mergeable.

    Never Σx² − n·mean²: for x = 1e9 + N(0, 1) those are two numbers near 1e18·n whose difference
    has no digit of the variance left. A chunk's moments come from its own mean (two passes over
    the chunk); chunks merge with Chan, Golub & LeVeque's pairwise update, which is associative
    (up to rounding), so chunks — or workers — may be merged in any order or grouping.

    Two details keep every digit: the mean is a rounded ``mean`` plus the ``mean_error`` it misses
    (for x ~1e9 the rounding, ~1e-7, would otherwise enter the difference of two chunks' means),
    and the sum of squared deviations M2 is ``unit**2 * q`` with ``unit`` a power of two near the
    spread, so that it neither overflows for sd ~1e300 nor underflows to 0 for sd ~1e-320.
    """

    n: int = 0
    mean: np.ndarray | float = 0.0
    mean_error: np.ndarray | float = 0.0
    unit: np.ndarray | float = 1.0
    q: np.ndarray | float = 0.0

    @staticmethod
    def of(values: np.ndarray) -> RunningMoments:
        """The moments of ``values`` (rows × columns, or one column)."""
        n = int(values.shape[0])
        if n == 0:
            return RunningMoments()
        scale = _unit(np.max(np.abs(values), axis=0, initial=0.0))
        mean = (values / scale).mean(axis=0) * scale  # no overflow of the sum for x ~1e308
        deviation = values - mean
        unit = _unit(np.max(np.abs(deviation), axis=0, initial=0.0))
        scaled = deviation / unit
        # The corrected two-pass sum: less (Σd)²/n takes out the rounding of the mean.
        q = (scaled * scaled).sum(axis=0) - scaled.sum(axis=0) ** 2 / n
        mean, error = _two_sum(mean, scaled.sum(axis=0) / n * unit)
        return RunningMoments(n, mean, error, unit, np.maximum(q, 0.0))

    def merge(self, other: RunningMoments) -> RunningMoments:
        """The moments of both sets of values (Chan et al.): with counts a, b and delta the
        difference of the means, mean = mean_a + delta·b/(a+b) and
        M2 = M2_a + M2_b + delta²·a·b/(a+b), all scaled by the larger unit."""
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        n = self.n + other.n
        delta = np.subtract(other.mean, self.mean) + np.subtract(other.mean_error, self.mean_error)
        unit = np.maximum(np.maximum(self.unit, other.unit), _unit(np.abs(delta)))
        step = delta / unit
        q = (
            self.q * np.divide(self.unit, unit) ** 2
            + other.q * np.divide(other.unit, unit) ** 2
            + step * step * (self.n * (other.n / n))
        )
        mean, error = _two_sum(self.mean, self.mean_error + delta * (other.n / n))
        return RunningMoments(n, mean, error, unit, q)

    def add(self, values: np.ndarray) -> RunningMoments:
        """These moments merged with those of more ``values``."""
        return self.merge(RunningMoments.of(values))

    def sd(self) -> Any:
        """R's ``sd`` (n − 1 in the denominator); 0 for fewer than two values."""
        return self.unit * np.sqrt(np.divide(self.q, max(self.n - 1, 1)))


@dataclass
class _Scan:
    """What the first pass learns."""

    used: list[str] = field(default_factory=list)
    levels: dict[str, dict[Any, None]] = field(default_factory=dict)  # insertion-ordered sets
    categories: dict[str, list[Any]] = field(default_factory=dict)  # pandas Categorical columns
    cells: dict[tuple[str, ...], set[tuple[Any, ...]]] = field(default_factory=dict)
    moments: dict[str, RunningMoments] = field(default_factory=dict)
    read_as_numbers: set[str] = field(default_factory=set)  # object columns warned about
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
        used = used_columns(formula, chunk.columns, True)
        values = used_columns(formula, chunk.columns, True, values=True)
        scan.read_as_numbers |= check_dtypes(
            chunk, used, values, formula.text, first_row=scan.rows, quiet=scan.read_as_numbers
        )
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
                key, column = str(call), evaluator.numeric(call.args[0])
                scan.moments[key] = scan.moments.get(key, RunningMoments()).add(column)
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


class DesignMoments:
    """Running moments behind the default priors: the response and every design column."""

    def __init__(self, family: Family) -> None:
        self.family = family
        self.response = RunningMoments()
        self.columns: dict[tuple[str, str, int], RunningMoments] = {}

    def add(self, design: Design) -> None:
        assert design.y is not None
        self.response = self.response.add(self.family.on_data_scale(design.y))
        for fd in design.formulas:
            self._add(("X", fd.dpar, -1), fd.X)
            for position, bd in enumerate(fd.blocks):
                self._add(("Z", fd.dpar, position), bd.Z)

    def _add(self, key: tuple[str, str, int], values: np.ndarray) -> None:
        self.columns[key] = self.columns.get(key, RunningMoments()).add(values)

    def merge(self, other: DesignMoments) -> DesignMoments:
        """The moments of both sources' rows (for reducing parts of a source apart)."""
        merged = DesignMoments(self.family)
        merged.response = self.response.merge(other.response)
        for key in {**self.columns, **other.columns}:
            empty = RunningMoments()
            merged.columns[key] = self.columns.get(key, empty).merge(other.columns.get(key, empty))
        return merged

    def result(self) -> DataMoments:
        """Means and sds as the in-memory rule (``plan.scales.safe_sd``): a zero or non-finite
        sd counts as 1."""
        sd = float(self.response.sd())
        return DataMoments(
            (float(self.response.mean), sd if math.isfinite(sd) and sd > 0 else 1.0),
            {k: _usable(np.atleast_1d(s.sd())) for k, s in self.columns.items()},
        )


def _usable(sds: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(sds) & (sds > 0), sds, 1.0)


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
