"""Per-cell sufficient statistics for Gaussian models (DESIGN.md §3; the maths is in :class:`SuffStatsIR`).

When is it valid? The family is gaussian with the identity link, rows are unweighted, sigma is a
constant or has a formula whose design is constant within cells, and there is no ``se()``. A *cell*
is a set of rows that share every group-effect index (of every block of mu and sigma) and every value
of sigma's design. Example: ``y ~ x1 + (1 + x1 | group:color); sigma ~ (1 | group:color)`` — the cells
are the (group, color) pairs; ``sigma ~ x1`` with a continuous x1 makes every row its own cell.

When is it used? With ``suffstats="auto"`` (the default) when valid and faster, by the measured cost
model of :func:`reduction_pays`: the row-wise likelihood costs about one operation per row and
per term of the linear predictors, the reduced one a fixed overhead plus ``cells × features²``. The
forum scenario (14 terms, 6 features) reduces from 313 rows with 32 cells and from 832 rows with
200 (at 1M rows and 4,000 cells: 14M row operations against 176k); sleepstudy (180 rows) keeps its
rows. ``suffstats=False`` always keeps the row-wise likelihood; ``True`` requires the reduction (an
error explains why when it is not valid).

The statistics are sums, so they can be computed chunk by chunk and added up
(:func:`merge_cell_stats`, used by :mod:`hiermod.plan.reduce` for data larger than memory). Features are the
distinct design columns, identified by label (``"x1"`` in X and ``"x1"`` in a block's Z are the
same column; the block intercept is the ``Intercept`` column of ones).

Predictions, log-likelihoods and posterior predictive draws use the row-wise model
(``Model.pymc_rows``), which has the same parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from hiermod.data.families import get_family
from hiermod.data.runtime import cell_codes, cell_gram, cell_moments
from hiermod.errors import HiermodError
from hiermod.plan.ir import (
    ConstantIR,
    Contribution,
    DataSpec,
    ModelIR,
    PredictorIR,
    SuffStatsIR,
)
from hiermod.plan.names import Namer

__all__ = [
    "CellStats",
    "SuffStatsError",
    "merge_cell_stats",
    "plan_suffstats",
    "reduction_pays",
    "reduction_plan",
]

Column = tuple[str, int | None]  # a data container and a column of it (None: the container is 1-D)


class SuffStatsError(HiermodError, ValueError):
    """The sufficient-statistics likelihood does not apply to this model (the message says why)."""


def wanted(mode: bool | str, reason: str | None, refusal: str) -> bool:
    """Whether to try a reduction: never with ``mode=False``; only when valid (``reason is None``)
    otherwise, and when ``mode=True`` an invalid reduction is an error that says why."""
    if mode is False:
        return False
    if reason is not None and mode is True:
        raise SuffStatsError(f"{refusal}: {reason}")
    return reason is None


def why_not(ir: ModelIR) -> str | None:
    """Why the reduction does not apply to ``ir``, or ``None`` when it does."""
    lik = ir.likelihood
    if get_family(lik.family).response == "simplex":  # merged rows need identical responses
        return f"the {lik.family} family's shares are continuous: rows are not identical to merge"
    if "suffstats" not in get_family(lik.family).reductions:
        return f"the {lik.family} family has no Gaussian sufficient statistics"
    if lik.link != "identity":
        return f"the {lik.link} link makes the mean non-linear in the coefficients"
    if lik.truncated is not None:
        return "truncated rows (trunc()) have no sufficient statistics"
    if lik.censored is not None or lik.censoring is not None:
        return "censored rows (cens()) have no sufficient statistics"
    if lik.weights is not None:
        return "weights() are not supported by the reduction"
    if isinstance(dict(lik.dpars)["sigma"], str):
        return "se() gives every row its own known sigma"
    if any(p.gps for p in ir.predictors):
        return "gp() terms are not linear in a few coefficients per cell"
    if smooth := next((s.term for p in ir.predictors for s in p.smooths), None):
        return f"{smooth} is a smooth: each row has its own basis values, no cells to merge"
    mu = ir.predictors[0]
    if mu.monotonic:  # each category's effect would be a feature with its own coefficient
        return "the mean's monotonic effects (mo()) are not in the sufficient statistics yet"
    if mu.population.intercept is None and mu.population.X is None and not mu.blocks:
        return "the mean has no terms to reduce over"
    return None


@dataclass(frozen=True, slots=True)
class ReductionPlan:
    """What the reduction reads, fixed by the IR alone (the same for every chunk of the data).

    ``keys`` are the columns whose values define a cell; ``features`` the distinct design columns
    (``None`` is the column of ones); ``contributions`` say which parameters make up each feature's
    coefficient (effects refer to the key column holding their block's index).
    """

    keys: tuple[Column, ...]
    feature_labels: tuple[str, ...]
    features: tuple[Column | None, ...]
    contributions: tuple[Contribution, ...]
    block_keys: tuple[tuple[str, int], ...]  # (r name, position of its index among the keys)


def reduction_plan(ir: ModelIR) -> ReductionPlan:
    """The cell keys and features of ``ir`` (call :func:`why_not` first)."""
    mu = ir.predictors[0]
    sigma = dict(ir.likelihood.dpars)["sigma"]
    specs = {d.name: d for d in ir.data}
    keys: list[Column] = [(b.index, None) for b in mu.blocks]
    if isinstance(sigma, PredictorIR):
        for name in sigma.data_names():
            width = len(ir.coords[specs[name].dims[1]]) if len(specs[name].dims) > 1 else None
            keys += [(name, None)] if width is None else [(name, j) for j in range(width)]
    keys = list(dict.fromkeys(keys))

    labels: list[str] = []
    columns: list[Column | None] = []
    contributions: list[Contribution] = []

    def feature(label: str, column: Column | None) -> int:
        if label not in labels:
            labels.append(label)
            columns.append(column)
        return labels.index(label)

    pop = mu.population
    if pop.intercept is not None:
        contributions.append(
            Contribution(feature("Intercept", None), "intercept", pop.intercept.name)
        )
    if pop.coefficients is not None and pop.X is not None:
        for k, label in enumerate(pop.coef_labels):
            j = feature(label, (pop.X, k))
            contributions.append(Contribution(j, "coefficient", pop.coefficients.name, k))
    block_keys: list[tuple[str, int]] = []
    for block in mu.blocks:
        block_keys.append((block.r.name, keys.index((block.index, None))))
        for t, label in enumerate(block.term_labels):
            if block.intercept and t == 0:
                j = feature("Intercept", None)
            else:
                assert block.Z is not None
                j = feature(label, (block.Z, t if block.term_dim is not None else None))
            contributions.append(Contribution(j, "effect", block.r.name, t))
    if mu.offset is not None:
        contributions.append(Contribution(feature("offset", (mu.offset, None)), "offset"))
    return ReductionPlan(
        tuple(keys), tuple(labels), tuple(columns), tuple(contributions), tuple(block_keys)
    )


def _column(values: Mapping[str, np.ndarray], column: Column) -> np.ndarray:
    name, j = column
    array = values[name]
    return array[:, j] if j is not None else array


@dataclass(frozen=True, slots=True)
class CellStats:
    """Sums per cell; ``keys`` holds each cell's key values (one row per cell)."""

    keys: np.ndarray  # (cells, n_keys) float64
    n: np.ndarray  # (cells,)
    yy: np.ndarray  # (cells,)
    wy: np.ndarray  # (cells, features)
    ww: np.ndarray  # (cells, features, features)

    @property
    def n_cells(self) -> int:
        return int(self.n.shape[0])


def cell_stats(plan: ReductionPlan, values: Mapping[str, np.ndarray], y: np.ndarray) -> CellStats:
    """The statistics of one batch of rows (vectorised: one ``bincount`` per sum, no row loops)."""
    n_rows = int(y.shape[0])
    key_columns = [_column(values, c).astype(np.float64) for c in plan.keys]
    cell = cell_codes(key_columns, n_rows)
    n_cells = int(cell.max()) + 1 if n_rows else 0
    first = np.unique(cell, return_index=True)[1]
    keys = (
        np.column_stack([k[first] for k in key_columns]) if key_columns else np.zeros((n_cells, 0))
    )
    W = [np.ones(n_rows) if c is None else _column(values, c) for c in plan.features]
    w = np.column_stack(W) if W else np.zeros((n_rows, 0))
    n, ww = cell_gram(cell, w, n_cells)
    yy, wy = cell_moments(cell, w, y, n_cells)
    return CellStats(keys=keys, n=n, yy=yy, wy=wy, ww=ww)


def merge_cell_stats(parts: list[CellStats]) -> CellStats:
    """The statistics of all parts' rows: cells matched by their key values, sums added.

    Associative and commutative (up to the rounding of the sums): the cells come out in the sorted
    order of their keys, whatever the order of the parts — the parts of (1, 0) and (0, 2), or of
    (0, 2) and (1, 0), give the cells (0, 2), (1, 0)."""
    if len(parts) == 1:
        return parts[0]
    keys = np.vstack([p.keys for p in parts])
    if keys.shape[1]:
        table, cell = np.unique(keys, axis=0, return_inverse=True)
    else:
        table, cell = np.zeros((1 if keys.shape[0] else 0, 0)), np.zeros(keys.shape[0], np.int64)
    cell = cell.reshape(-1)

    def summed(arrays: list[np.ndarray]) -> np.ndarray:
        stacked = np.concatenate(arrays)
        out = np.zeros((table.shape[0], *stacked.shape[1:]))
        np.add.at(out, cell, stacked)
        return out

    return CellStats(
        table,
        summed([p.n for p in parts]),
        summed([p.yy for p in parts]),
        summed([p.wy for p in parts]),
        summed([p.ww for p in parts]),
    )


def plan_suffstats(ir: ModelIR, y: np.ndarray, mode: bool | str = "auto") -> SuffStatsIR | None:
    """The reduction for ``ir``, or ``None`` when it does not apply (or is not worth it under "auto").

    Raises:
        SuffStatsError: ``mode`` is True and the reduction is not valid.
    """
    if not wanted(mode, why_not(ir), "sufficient statistics are not available"):
        return None
    plan = reduction_plan(ir)
    with np.errstate(over="ignore", invalid="ignore"):
        stats = cell_stats(plan, ir.data_values, y)
    # Columns near 1e300 have squares that overflow: the rows' likelihood has no such sums.
    finite = all(np.isfinite(a).all() for a in (stats.yy, stats.wy, stats.ww))
    overflow = None if finite else "the sums of squares of the data overflow (values near 1e300)"
    if not wanted(mode, overflow, "sufficient statistics are not available"):
        return None
    if mode == "auto" and not reduction_pays(ir, plan, stats.n_cells, int(y.shape[0])):
        return None
    return suffstats_ir(ir, plan, stats, int(y.shape[0]))


# The reduced likelihood's cost over the row-wise one's, in row-term operations (one term of a
# linear predictor on one row), measured per logp+gradient under Numba (benchmarks/suffstats_rule.py,
# docs/performance.md): a fixed overhead of ~2 µs (the CustomDist's extra graph) and
# ~1.2 operations per cell and feature pair (theta' S_ww theta and its gradient), against
# ~0.0007 µs per row-term of the row-wise form.
REDUCED_FIXED_COST = 3000.0
REDUCED_COST_PER_CELL_PAIR = 1.2


def reduction_pays(ir: ModelIR, plan: ReductionPlan, n_cells: int, n_rows: int) -> bool:
    """Whether the per-cell likelihood is cheaper than the rows' (``suffstats="auto"``).

    Row-wise, each evaluation reads every row once per term of mu and of sigma's formula (the
    intercept, each coefficient, each group effect): ``rows × terms`` operations. Reduced, it
    costs :data:`REDUCED_FIXED_COST` plus ``cells × features²`` times
    :data:`REDUCED_COST_PER_CELL_PAIR`. Examples (measured break-even in brackets):
    ``y ~ x + (1 + x | g)`` with 20 groups (4 terms, 2 features) reduces from 775 rows (~450);
    the forum model with 200 cells (14 terms, 6 features) from 832 rows (~760); sleepstudy
    (180 rows, 18 cells) keeps its rows. Near the break-even the two forms are within ~10% per
    evaluation, and the row-wise one compiles faster.
    """
    terms = sum(_row_terms(predictor) for predictor in ir.predictors)
    features = len(plan.features)
    reduced = REDUCED_FIXED_COST + REDUCED_COST_PER_CELL_PAIR * n_cells * features**2
    return n_rows * terms > reduced


def _row_terms(predictor: PredictorIR) -> int:
    """The terms a row-wise evaluation adds up on every row: intercept, coefficients, group
    effects and offset. ``y ~ x + (1 + x | g)``: 4."""
    population = predictor.population
    return (
        (population.intercept is not None)
        + len(population.coef_labels)
        + sum(len(block.term_labels) for block in predictor.blocks)
        + (predictor.offset is not None)
    )


class CellData:
    """The data containers of a reduced likelihood: one ``cell`` dim, names unique in the model."""

    def __init__(self, ir: ModelIR) -> None:
        taken = set(ir.coords) | {d.name for d in ir.data} | {p.name for p in ir.parameters()}
        self.namer = Namer(taken)
        self.cell_dim = self.namer.claim("cell")
        self.specs: list[DataSpec] = []
        self.values: dict[str, np.ndarray] = {}

    def add(
        self, wanted: str, array: np.ndarray, dims: tuple[str, ...], role: str, text: str
    ) -> str:
        name = self.namer.claim(wanted)
        self.specs.append(DataSpec(name, dims, role, text, str(array.dtype)))
        self.values[name] = array
        return name

    def copy_of(self, spec: DataSpec, cell_values: np.ndarray) -> str:
        """A cell-level copy of a row container (one row per cell), for a predictor per cell."""
        return self.add(
            f"{spec.name}_cell",
            cell_values.astype(spec.dtype),
            (self.cell_dim, *spec.dims[1:]),
            spec.role,
            f"{spec.description}, one row per cell",
        )


def suffstats_ir(
    ir: ModelIR, plan: ReductionPlan, stats: CellStats, n_rows: int, *, rows: bool = True
) -> SuffStatsIR:
    """Package the statistics as data over a ``cell`` dim, with cell-level sigma.

    ``rows=False`` (a streamed model) says that only the cell sums exist, not the rows.
    """
    cells = CellData(ir)
    cell_dim, add = cells.cell_dim, cells.add
    feature_dim = cells.namer.claim("feature")
    feature_bis = cells.namer.claim(f"{feature_dim}_bis")

    mu = ir.predictors[0]
    cell_maps = {}
    for (r_name, key), block in zip(plan.block_keys, mu.blocks, strict=True):
        cell_maps[r_name] = add(
            f"{block.index}_cell",
            stats.keys[:, key].astype(np.int64),
            (cell_dim,),
            "index",
            f"each cell's level of {':'.join(block.block.factors)} ({r_name})",
        )
    contributions = tuple(
        replace(c, cell_map=cell_maps[c.param]) if c.kind == "effect" and c.param else c
        for c in plan.contributions
    )
    n_name = add("cell_n", stats.n, (cell_dim,), "suffstat", "rows per cell")
    yy_name = add("cell_yy", stats.yy, (cell_dim,), "suffstat", "sum of y² per cell")
    wy_name = add("cell_wy", stats.wy, (cell_dim, feature_dim), "suffstat", "sum of w·y per cell")
    ww_name = add(
        "cell_ww",
        stats.ww,
        (cell_dim, feature_dim, feature_bis),
        "suffstat",
        "sum of w·wᵀ per cell",
    )
    sigma = dict(ir.likelihood.dpars)["sigma"]
    assert isinstance(sigma, (PredictorIR, ConstantIR))
    if isinstance(sigma, PredictorIR):
        renamed: dict[str, str] = {}
        ir_specs = {d.name: d for d in ir.data}
        # A block index that mu's blocks already map to cells is shared, not copied twice.
        mapped = {b.index: cell_maps[b.r.name] for b in mu.blocks}
        for name in sigma.data_names():
            if name in mapped:
                renamed[name] = mapped[name]
                continue
            spec = ir_specs[name]
            columns = [i for i, (key_name, _) in enumerate(plan.keys) if key_name == name]
            cell_values = stats.keys[:, columns]
            renamed[name] = cells.copy_of(
                spec, cell_values[:, 0] if len(spec.dims) == 1 else cell_values
            )
        sigma = sigma.with_data(renamed)
    d = len(plan.features)
    return SuffStatsIR(
        cell_dim=cell_dim,
        feature_dim=feature_dim,
        features=plan.feature_labels,
        n=n_name,
        yy=yy_name,
        wy=wy_name,
        ww=ww_name,
        contributions=contributions,
        sigma=sigma,
        data=tuple(cells.specs),
        reason=(
            f"{n_rows:,} rows reduce to {stats.n_cells:,} cells × {d} features "
            f"({stats.n_cells * d * d:,} instead of {n_rows * d:,} operations per evaluation)"
        ),
        n_rows=n_rows,
        coords={
            cell_dim: tuple(range(stats.n_cells)),
            feature_dim: plan.feature_labels,
            feature_bis: plan.feature_labels,
        },
        values=cells.values,
        row_cell=cells.namer.claim("row_cell"),
        row_features=cells.namer.claim("row_features"),
        rows=rows,
    )
