"""brms's tensor-product smooth ``t2(x, z)``, fitted once: the constants
:func:`~hiermod.data.runtime.tensor_basis` evaluates (mgcv's ``t2``, Wood, Scheipl & Faraway 2013).

brms passes ``t2(x, z)`` through ``mgcv::smoothCon(absorb.cons = TRUE)`` and ``smooth2random`` like
``s(x)`` (:mod:`hiermod.data.smooth`). The construction, written from the paper and checked against
mgcv 1.8 in tests/test_smooths_t2.py:

1. each margin is its one-column smooth (``cr``: formulae's ``NaturalCubicSpline``, the cardinal
   cubic spline on mgcv's knots; ``cc``: ``CyclicCubicSpline``), unconstrained, with penalty ``S``;
2. each margin reparameterised: the range space of ``S`` by its eigenvectors times ``D^-1/2``
   (penalty the identity), the null space (``cr``: the linear functions; ``cc``: the constant) by
   a basis whose columns have the range columns' mean squared norm; with two null columns, the
   basis is then rotated so that its centred columns are orthogonal (one is the constant); each
   part scaled to root mean square 1 over the rows;
3. the tensor basis is the row-wise Kronecker product of the margins' parts, range (``r``) and
   null (``n``) in mgcv's order: for two margins ``rr``, ``nr``, ``rn`` (three penalised blocks,
   each with its own identity penalty: brms's ``Zs_1_1``, ``Zs_1_2``, ``Zs_1_3``), then ``nn``,
   unpenalised; for three ``rrr``, ``nrr``, ``rnr``, ``nnr``, ``rrn``, ``nrn``, ``rnn``, ``nnn``;
4. ``smoothCon``'s ``scale.penalty``: every block's penalty divided by ``1 / norm(X, "I")^2``,
   that is the penalised columns times ``1 / norm(X, "I")`` (the largest row sum of absolute
   values of the unconstrained basis), folded into the first margin here;
5. the sum-to-zero constraint falls on the ``nn`` columns only (the population columns; none when
   every margin is cyclic: their product is the constant, the intercept's).

The null-space basis of step 2 changes the model (the penalised ``rn`` and ``nr`` blocks are
products with it), and mgcv's is the one its eigen-decomposition happens to return for the cr
penalty, whose null space is two-dimensional: the knots' linear function that is zero at the first
knot, and the direction orthogonal to it. hiermod uses the same two vectors (checked on mgcv's
basis: with any other pair, the blocks' singular values against mgcv's are up to 9% from 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from formulae.transforms import CyclicCubicSpline, NaturalCubicSpline

from hiermod.data.runtime import cubic_basis, tensor_basis
from hiermod.formula.syntax import Call
from hiermod.formula.tensor import t2_options, t2_variables

__all__ = ["t2_basis", "t2_fit"]


def _tolist(values: np.ndarray) -> Any:
    if values.ndim == 0:
        return float(values)
    return tuple(_tolist(v) for v in values)


def _margin(x: np.ndarray, kind: str, k: int) -> tuple[np.ndarray, np.ndarray, Any]:
    """The unconstrained marginal basis at ``x``, its penalty and formulae's spline (its knots)."""
    if kind == "cr":
        raw = NaturalCubicSpline()
        basis = raw(x, df=k, center=False)
    else:  # mgcv's cc: the cycle is the data's range, k knots, the two ends one
        raw = CyclicCubicSpline()
        basis = raw(
            x, period=float(np.ptp(x)), df=k - 1, lower_bound=float(np.min(x)), center=False
        )
    return np.asarray(basis, dtype=np.float64), np.asarray(raw.penalty_matrix), raw._spline


def _natural(
    basis: np.ndarray, penalty: np.ndarray, kind: str, knots: np.ndarray
) -> tuple[np.ndarray, int]:
    """Step 2: the map from the marginal coefficients to the [range, null] columns, and the rank."""
    values, vectors = np.linalg.eigh((penalty + penalty.T) / 2.0)
    order = np.argsort(-values, kind="stable")
    values, vectors = values[order], vectors[:, order]
    width = penalty.shape[0]
    if kind == "cr":  # cr: the null space is the linear functions of the knots' values
        line = knots - knots[0]
        line = line / np.linalg.norm(line)
        level = np.ones(width) - line.sum() * line
        null = np.column_stack([line, level / np.linalg.norm(level)])
    else:  # cc: the constant
        null = np.ones((width, 1)) / np.sqrt(width)
    rank = width - null.shape[1]
    ranged = vectors[:, :rank] / np.sqrt(values[:rank])
    average = float(((basis @ ranged) ** 2).sum(axis=0).mean())
    null = null / np.sqrt(((basis @ null) ** 2).sum(axis=0) / average)
    if null.shape[1] > 1:  # centred columns orthogonal, larger first
        columns = basis @ null
        centred = columns - columns.mean(axis=0)
        gram_values, rotation = np.linalg.eigh(centred.T @ centred)
        null = null @ rotation[:, np.argsort(-gram_values, kind="stable")]
    ranged = ranged / np.sqrt(((basis @ ranged) ** 2).mean())
    null = null / np.sqrt(((basis @ null) ** 2).mean())
    return np.column_stack([ranged, null]), rank


def t2_fit(x: np.ndarray, call: Call) -> dict[str, Any]:
    """The constants of ``t2(…)`` on the training columns ``x`` (n, d): each margin's ``knots``,
    ``coefs`` and whether it is cyclic (:func:`~hiermod.data.runtime.cubic_basis`'s arguments),
    the ``ranks`` of the margins' penalties, the map ``fixed`` of the all-null product onto the
    population columns, the penalised ``blocks``' widths and mgcv's ``penalty_scale``."""
    options = t2_options(call)
    columns = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    margins, evaluated, ranks = [], [], []
    for j, (kind, k) in enumerate(options):
        distinct = np.unique(columns[:, j]).shape[0]
        if distinct < k:
            raise ValueError(
                f"{call.args[j]} has {distinct} distinct values, fewer than its margin's k = {k}"
            )
        basis, penalty, ppoly = _margin(columns[:, j], kind, k)
        transform, rank = _natural(basis, penalty, kind, np.asarray(ppoly.x))
        coefs = np.einsum("pmk,kq->mpq", ppoly.c, transform)
        margins.append({"kind": kind, "knots": np.asarray(ppoly.x), "coefs": coefs})
        evaluated.append(basis @ transform)
        ranks.append(rank)
    nulls = int(np.prod([m.shape[1] - r for m, r in zip(evaluated, ranks, strict=True)]))
    unconstrained = tensor_basis(tuple(evaluated), tuple(ranks), _tolist(np.eye(nulls)))
    top = float(np.abs(unconstrained).sum(axis=1).max())  # norm(X, "I"): scale.penalty's
    margins[0]["coefs"] = margins[0]["coefs"] / top
    unconstrained = unconstrained / top
    null_part = unconstrained[:, :nulls]
    centre = np.linalg.qr(null_part.sum(axis=0)[:, None], mode="complete")[0][:, 1:]
    fixed_columns = null_part @ centre
    fixed = centre / np.sqrt((fixed_columns**2).mean(axis=0))
    blocks = _block_widths(evaluated, ranks)
    return {
        "bs": "t2",
        "fixed": fixed.shape[1],
        "penalty_scale": 1.0 / top**2,
        "margins": tuple(m["kind"] for m in margins),
        "columns": tuple(str(v) for v in t2_variables(call)),
        "knots": tuple(_tolist(m["knots"]) for m in margins),
        "coefs": tuple(_tolist(m["coefs"]) for m in margins),
        "ranks": tuple(ranks),
        "null": _tolist(fixed),
        "blocks": blocks,
    }


def _block_widths(evaluated: list[np.ndarray], ranks: list[int]) -> tuple[int, ...]:
    """The widths of the penalised blocks, in mgcv's order (all but the last, all-null, product)."""
    widths = [ranks[0], evaluated[0].shape[1] - ranks[0]]
    for m, r in zip(evaluated[1:], ranks[1:], strict=True):
        widths = [w * r for w in widths] + [w * (m.shape[1] - r) for w in widths]
    return tuple(widths[:-1])


def t2_basis(state: Any, x: np.ndarray) -> np.ndarray:
    """Every column of ``t2(…)`` at ``x`` (n, d): the unpenalised ones first, then the blocks."""
    columns = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    kinds, knots, coefs = state["margins"], state["knots"], state["coefs"]
    margins = tuple(
        cubic_basis(columns[:, j], knots[j], coefs[j], kinds[j] == "cc") for j in range(len(kinds))
    )
    return tensor_basis(margins, state["ranks"], state["null"])
