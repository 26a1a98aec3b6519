"""Collapse duplicate design rows into counts for bernoulli, binomial and poisson models.

Rows with the same predictor values — the same population design row, the same group level in every
block, the same offset — share one mean, so their log-likelihood depends on the data only through
the count of rows (or summed trials) and the summed response (the maths is in :class:`CollapsedIR`).
Example: 100,000 bernoulli rows with ``y ~ treatment + sex + (1 | clinic)`` over 40 clinics have at
most 2 × 2 × 40 = 160 distinct predictor rows, so each evaluation costs 160 terms, not 100,000.

Used with ``suffstats="auto"`` when it merges at least half of the rows; ``True`` forces it (an error
says why when it is not valid), ``False`` keeps the rows. Continuous predictors usually make every
row distinct, and then nothing is gained. Weights are not supported (they would change the counts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
from scipy.special import gammaln

from hiermod.data.families import get_family
from hiermod.data.runtime import cell_codes
from hiermod.plan.ir import CollapsedIR, ModelIR
from hiermod.plan.suffstats import CellData, wanted

__all__ = ["identical_row_cells", "plan_collapse"]


def _why_not(ir: ModelIR) -> str | None:
    lik = ir.likelihood
    if "collapse" not in get_family(lik.family).reductions:
        return f"the {lik.family} family's rows cannot be merged into counts"
    if lik.weights is not None:
        return "weights() would change the counts"
    if any(p.gps for p in ir.predictors):
        return "rows with gp() terms are not merged into counts"
    if lik.truncated is not None:
        return "truncated rows (trunc()) are not merged into counts"
    if lik.censored is not None or lik.censoring is not None:
        return "censored rows (cens()) cannot be merged into counts"
    if smooth := next((s.term for p in ir.predictors for s in p.smooths), None):
        return f"{smooth} is a smooth: each row has its own basis values, no cells to merge"
    if lik.family == "poisson" and lik.link != "log":
        # The merged log-likelihood k log mu - n mu is undefined where a cell's rate is 0 or
        # below, which only the log link excludes.
        return f"the poisson family's {lik.link} link can give a cell a rate of 0 or below"
    return None


def identical_row_cells(
    values: Mapping[str, np.ndarray],
    names: Iterable[str],
    extra: list[np.ndarray],
    n_rows: int,
    mode: bool | str,
) -> tuple[np.ndarray, int, np.ndarray] | None:
    """Each row's cell of identical values of the containers ``names`` (a matrix's columns each)
    and the ``extra`` row arrays: the cell codes, their number and each cell's first row; ``None``
    when ``mode`` is ``"auto"`` and fewer than half of the rows would merge (collapsed counts
    and merged rows share this rule)."""
    columns: list[np.ndarray] = []
    for name in names:
        array = values[name]
        columns.extend(array.T if array.ndim == 2 else [array])
    cell = cell_codes([*columns, *extra], n_rows)
    n_cells = int(cell.max()) + 1 if n_rows else 0
    if mode == "auto" and n_cells > n_rows // 2:
        return None
    return cell, n_cells, np.unique(cell, return_index=True)[1]


def plan_collapse(
    ir: ModelIR, y: np.ndarray, trials: np.ndarray | None, mode: bool | str = "auto"
) -> CollapsedIR | None:
    """The collapsed likelihood for ``ir``, or ``None`` when it does not apply or gains little.

    Raises:
        SuffStatsError: ``mode`` is True and rows cannot be collapsed for this model.
    """
    if not wanted(mode, _why_not(ir), "rows cannot be collapsed"):
        return None
    mu = ir.predictors[0]
    values = ir.data_values
    n_rows = int(y.shape[0])
    found = identical_row_cells(values, mu.data_names(), [], n_rows, mode)
    if found is None:
        return None
    cell, n_cells, first = found

    family = ir.likelihood.family
    k = np.bincount(cell, weights=y, minlength=n_cells)
    if family == "binomial":
        assert trials is not None
        n = np.bincount(cell, weights=trials, minlength=n_cells)
        # log C(n_i, y_i) summed over rows: the part of the binomial log-likelihood without parameters.
        constant = float(np.sum(gammaln(trials + 1) - gammaln(y + 1) - gammaln(trials - y + 1)))
    else:
        n = np.bincount(cell, minlength=n_cells).astype(np.float64)
        constant = float(-np.sum(gammaln(y + 1))) if family == "poisson" else 0.0

    cells = CellData(ir)
    ir_specs = {d.name: d for d in ir.data}
    renamed = {name: cells.copy_of(ir_specs[name], values[name][first]) for name in mu.data_names()}
    what = "trials" if family == "binomial" else "rows"
    n_name = cells.add("cell_n", n, (cells.cell_dim,), "suffstat", f"{what} per cell")
    k_name = cells.add(
        "cell_k", k, (cells.cell_dim,), "suffstat", f"summed {ir.likelihood.name} per cell"
    )
    return CollapsedIR(
        cell_dim=cells.cell_dim,
        mu=mu.with_data(renamed),
        n=n_name,
        k=k_name,
        constant=constant,
        data=tuple(cells.specs),
        reason=f"{n_rows:,} rows merge into {n_cells:,} cells with identical predictors",
        n_rows=n_rows,
        coords={cells.cell_dim: tuple(range(n_cells))},
        values=cells.values,
        row_cell=cells.namer.claim("row_cell"),
    )
