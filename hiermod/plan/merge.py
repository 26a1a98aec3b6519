"""Merge identical rows into cells counted once, for discrete families whose statistic is no sum.

A negative-binomial (zero-inflated, hurdle, beta-binomial, …) log-likelihood has no sufficient
statistic of a few sums, but two rows with the same predictor values — of every distributional
parameter's formula — the same response and the same trials have the *same* log-likelihood
term. So the rows merge into cells of identical rows, and
``sum_i log p(y_i) = sum_c n_c log p(y_c | the cell's parameters)`` exactly (:class:`MergedIR`).
Example: the salamanders counts (0..36, mostly 0) with ``count ~ spp * mined`` and
``zi ~ spp * mined``: 644 rows, 14 design rows, merge into 91 cells of (design row, count).
The families of categories merge alike: the ordinal families (with ``disc ~ …``), ``categorical``
(``muc ~ …``) and ``multinomial``, whose response in the key is the category, or the vector of
counts (a column each) and its trials.

Used with ``suffstats="auto"`` when it merges at least half of the rows (as
:mod:`hiermod.plan.collapse`); ``True`` forces it (an error says why when it is not valid),
``False`` keeps the rows. A continuous predictor or response makes every row distinct. With
``weights()`` the weight is part of a cell's key, and the cell's term counts its summed weights
(``w (log p) + w (log p) = 2w log p``).
"""

from __future__ import annotations

import numpy as np

from hiermod.data.families import get_family
from hiermod.plan.collapse import identical_row_cells
from hiermod.plan.ir import MergedIR, ModelIR
from hiermod.plan.suffstats import CellData, wanted

__all__ = ["merge_keys", "plan_merge"]


def _why_not(ir: ModelIR) -> str | None:
    lik = ir.likelihood
    family = get_family(lik.family)
    if "merge" not in family.reductions:
        return f"the {lik.family} family's rows cannot be merged"
    if lik.truncated is not None:
        return "truncated rows (trunc()) are not merged"
    if lik.censored is not None or lik.censoring is not None:
        return "censored rows (cens()) are not merged"
    if any(p.gps for p in ir.predictors):
        return "rows with gp() terms are not merged"
    if smooth := next((s.term for p in ir.predictors for s in p.smooths), None):
        return f"{smooth} is a smooth: each row has its own basis values, no cells to merge"
    if any(p.monotonic for p in ir.predictors):
        return "rows with mo() terms are not merged yet"
    if any(isinstance(source, str) for _, source in lik.dpars):
        return "a distributional parameter read from data per row is not merged"
    return None


def merge_keys(ir: ModelIR) -> list[str]:
    """The row containers whose values define a cell: every predictor's data (each once)."""
    return list(dict.fromkeys(name for p in ir.predictors for name in p.data_names()))


def plan_merge(
    ir: ModelIR, y: np.ndarray, trials: np.ndarray | None, mode: bool | str = "auto"
) -> MergedIR | None:
    """The merged likelihood for ``ir``, or ``None`` when it does not apply or gains little.

    Raises:
        SuffStatsError: ``mode`` is True and rows cannot be merged for this model.
    """
    if not wanted(mode, _why_not(ir), "rows cannot be merged"):
        return None
    values = ir.data_values
    n_rows = int(y.shape[0])
    extra = list(y.T) if y.ndim == 2 else [y]  # multinomial: the count of every category
    if trials is not None:
        extra.append(np.broadcast_to(trials, (n_rows,)))
    weights = values[ir.likelihood.weights] if ir.likelihood.weights else None
    if weights is not None:  # weights(): a cell's rows share their weight too
        extra.append(weights)
    found = identical_row_cells(values, merge_keys(ir), extra, n_rows, mode)
    if found is None:
        return None
    cell, n_cells, first = found
    cells = CellData(ir)
    specs = {d.name: d for d in ir.data}
    renamed = {name: cells.copy_of(specs[name], values[name][first]) for name in merge_keys(ir)}
    # each cell's term counts once per row, times the rows' weight with weights()
    n = np.bincount(cell, weights=weights, minlength=n_cells).astype(np.float64)
    text = "summed weights per cell" if weights is not None else "identical rows per cell"
    n_name = cells.add("cell_n", n, (cells.cell_dim,), "suffstat", text)
    first_name = cells.add("cell_first", first, (cells.cell_dim,), "index", "each cell's first row")
    kept = ["predictors", "response", *(["trials"] if trials is not None else [])]
    kept += ["weight"] if weights is not None else []
    what = ", ".join(kept[:-1]) + " and " + kept[-1]  # predictors, response and trials
    return MergedIR(
        cell_dim=cells.cell_dim,
        predictors=tuple(p.with_data(renamed) for p in ir.predictors),
        n=n_name,
        first=first_name,
        data=tuple(cells.specs),
        reason=f"{n_rows:,} rows merge into {n_cells:,} cells of identical {what}",
        n_rows=n_rows,
        coords={cells.cell_dim: tuple(range(n_cells))},
        values=cells.values,
        row_cell=cells.namer.claim("row_cell"),
    )
