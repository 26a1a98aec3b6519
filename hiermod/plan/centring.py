"""Centred or non-centred group effects, chosen from how much each level's data inform its effects.

A block ``(e | g)`` puts ``r[l] ~ N(0, tau)`` on each level ``l``'s effects. Written non-centred
(``r = z * tau``, ``z ~ N(0, 1)``) the sampler is free of the funnel between ``tau`` and the effects
when a level's data say little about its effect; written centred (``r`` itself the parameter) it is
free of the opposite funnel, between ``tau`` and ``z``, when the data pin each effect down. Which one
a level needs depends on its *information ratio* (Papaspiliopoulos, Roberts & Sköld 2007; Betancourt
& Girolami 2015)::

    kappa_l = tau² / se_l²

the prior variance of the effect against the variance of its estimate from that level's data alone.
``kappa_l > 1``: the data dominate, centred mixes better; ``kappa_l < 1``: non-centred.

The rule (``centered="auto"``, the default) applies to the blocks of families whose mean is linear
in the coefficients on the data's scale (gaussian and student_t with the identity link, lognormal
on ``log y``): to the mean's blocks as below, and to ``sigma``'s blocks through each level's log
residual sd (:func:`sigma_information_ratio`). Other blocks stay non-centred. For a block of the
mean:

1. residuals ``e`` of ``y`` after least squares on the population columns;
2. per level, least squares of ``e`` on the block's columns ``Z_l`` (levels with no more rows
   than columns, or a singular ``Z_l'Z_l``, have ``kappa_l = 0``); ``sigma²`` is the pooled residual
   variance of those fits and ``se_lj² = sigma² [(Z_l'Z_l)^-1]_jj``;
3. ``tau_j²`` by the method of moments: the variance of the level estimates ``u_lj`` minus the mean
   of their ``se_lj²`` (at least 0);
4. ``kappa_l = min_j tau_j² / se_lj²`` (the least informed effect of the level), and the block is
   centred when the median ``kappa_l`` over its levels exceeds 1.

Example: sleepstudy's ``(Days | Subject)``, 10 rows per subject: ``tau`` ≈ (25, 6), ``se`` ≈ (15, 3)
→ ``kappa`` ≈ 2.7 → centred. The forum scenario at 100k rows, ~500 rows per cell → ``kappa`` ≈ 64
→ centred; radon's ``(1 | county)``, median 5 rows per county → ``kappa`` ≈ 0.86 → non-centred.
"""

from __future__ import annotations

import numpy as np

from hiermod.data.design import BlockDesign, FormulaDesign
from hiermod.data.runtime import cell_gram, cell_moments

__all__ = ["information_ratio", "sigma_information_ratio"]


def _level_fits(
    w: np.ndarray, y: np.ndarray, cell: np.ndarray, n_cells: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Least squares of ``y`` on ``w`` within each level: rows per level, which levels could be
    fitted (more rows than columns, a well-conditioned ``w_l'w_l``), their estimates, the diagonals
    of ``(w_l'w_l)^-1``, and residual sums of squares. One batched solve, no loop over levels."""
    k = w.shape[1]
    n, gram = cell_gram(cell, w, n_cells)
    yy, wy = cell_moments(cell, w, y, n_cells)
    fitted = n > k
    fitted[fitted] = np.linalg.cond(gram[fitted]) < 1e10
    inverse = np.linalg.inv(gram[fitted])
    estimate = np.einsum("lij,lj->li", inverse, wy[fitted])
    rss = np.maximum(yy[fitted] - np.einsum("li,li->l", wy[fitted], estimate), 0.0)
    return n, fitted, estimate, np.diagonal(inverse, axis1=1, axis2=2), rss


def _median_ratio(kappa: np.ndarray, n_rows: np.ndarray) -> float:
    """The median information ratio over the levels that have rows (unfitted ones count as 0)."""
    return float(np.median(kappa[n_rows > 0])) if np.any(n_rows > 0) else 0.0


def information_ratio(y: np.ndarray, fd: FormulaDesign, bd: BlockDesign) -> float:
    """The median over the block's levels of ``kappa_l`` (see the module docstring).

    ``y`` is the response on the scale its mean is linear on; ``fd`` the formula holding the block.
    """
    residual = _population_residual(y, fd)
    n_cells, k = len(bd.grouping.cells), bd.Z.shape[1]
    n, fitted, estimate, inverse_diagonal, rss = _level_fits(bd.Z, residual, bd.cell, n_cells)
    if fitted.sum() < 2:
        return 0.0
    sigma2 = max(rss.sum() / (n[fitted] - k).sum(), 1e-300)
    se2 = sigma2 * inverse_diagonal  # (fitted levels, k)
    tau2 = np.maximum(estimate.var(axis=0, ddof=1) - se2.mean(axis=0), 0.0)
    kappa = np.zeros(n_cells)
    kappa[fitted] = np.min(tau2 / se2, axis=1)
    return _median_ratio(kappa, n)


def sigma_information_ratio(y: np.ndarray, mean: FormulaDesign, bd: BlockDesign) -> float:
    """The same for a block of ``log sigma``: each level's ``log sigma_l`` estimated from its own
    rows, after the mean's columns (its population columns and every block's) are fitted in the
    level, with ``se² = 1 / (2 (n_l - p))`` (the variance of a log sd from ``n_l - p`` degrees of
    freedom). Example: ``sigma ~ (1 | group:color)`` of ``make demo``, ~170 rows per cell:
    ``se²`` ≈ 0.003 against a spread of the cells' log sigma of ~0.3² → centred."""
    columns = [np.ones(len(y))] if mean.intercept else []
    columns += [mean.X, *(b.Z for b in mean.blocks)]
    w = np.column_stack(columns)
    w = w[:, _independent_columns(w)]
    n_cells, p = len(bd.grouping.cells), w.shape[1]
    n, fitted, _, _, rss = _level_fits(w, y, bd.cell, n_cells)
    dof = n[fitted] - p
    usable = dof >= 2
    if usable.sum() < 2:
        return 0.0
    log_sd = 0.5 * np.log(np.maximum(rss[usable], 1e-300) / dof[usable])
    se2 = 1.0 / (2.0 * dof[usable])
    tau2 = max(log_sd.var(ddof=1) - se2.mean(), 0.0)
    kappa = np.zeros(n_cells)
    kappa[np.flatnonzero(fitted)[usable]] = tau2 / se2
    return _median_ratio(kappa, n)


def _population_residual(y: np.ndarray, fd: FormulaDesign) -> np.ndarray:
    """``y`` after least squares on the formula's population columns (intercept included)."""
    columns = [np.ones(len(y))] if fd.intercept else []
    design = np.column_stack([*columns, fd.X]) if columns or fd.X.shape[1] else None
    if design is None:
        return np.asarray(y, dtype=float)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return np.asarray(y - design @ coef, dtype=float)


def _independent_columns(w: np.ndarray) -> list[int]:
    """Indices of columns of ``w`` none of which is a linear combination of the earlier ones
    (the mean's intercept column and a block's intercept column are one column)."""
    gram = w.T @ w  # rank(w[:, S]) = rank(gram[S, S]), without a pass over the rows per column
    keep: list[int] = []
    for j in range(w.shape[1]):
        trial = [*keep, j]
        if np.linalg.matrix_rank(gram[np.ix_(trial, trial)], hermitian=True) == len(trial):
            keep.append(j)
    return keep
