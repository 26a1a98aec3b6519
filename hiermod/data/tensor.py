"""brms's tensor-product smooth ``t2(x, z)``, fitted once: the constants
:func:`~hiermod.data.runtime.tensor_basis` evaluates (mgcv's ``t2``, Wood, Scheipl & Faraway 2013).

brms passes ``t2(x, z)`` through ``mgcv::smoothCon(absorb.cons = TRUE)`` and ``smooth2random`` like
``s(x)`` (:mod:`hiermod.data.smooth`). The construction, written from the paper and checked against
mgcv 1.8 in tests/test_smooths_t2.py:

1. each margin is its one-column smooth, unconstrained, with penalty ``S``: ``cr``, formulae's
   ``NaturalCubicSpline``, the cardinal cubic spline on mgcv's knots; ``cc``, formulae's
   ``CyclicCubicSpline`` on mgcv's knots (``place.knots``: quantiles of the distinct values,
   given to formulae: its own are quantiles of the values wrapped into the cycle, where the
   largest falls on the smallest, and differ from mgcv's by up to 1%); ``tp``, mgcv's thin-plate
   regression spline of one column (:func:`~hiermod.data.tprs.tprs_raw`);
2. each margin reparameterised (mgcv's ``nat.param(type = 3)``): the range space of ``S`` by its
   eigenvectors times ``D^-1/2`` (penalty the identity), the null space (``cr``, ``tp``: the
   linear functions; ``cc``: the constant) by a basis whose columns have the range columns' mean
   squared norm; with two null columns, the basis is then rotated so that its centred columns are
   orthogonal (one is the constant); each part scaled to root mean square 1 over the rows;
3. the tensor basis is the row-wise Kronecker product of the margins' parts, range (``r``) and
   null (``n``) in mgcv's order: for two margins ``rr``, ``nr``, ``rn`` (three penalised blocks,
   each with its own identity penalty: brms's ``Zs_1_1``, ``Zs_1_2``, ``Zs_1_3``), then ``nn``,
   unpenalised; for three ``rrr``, ``nrr``, ``rnr``, ``nnr``, ``rrn``, ``nrn``, ``rnn``, ``nnn``;
4. ``smoothCon``'s ``scale.penalty``: every block's penalty divided by ``1 / norm(X, "I")^2``,
   that is the penalised columns times ``1 / norm(X, "I")`` (the largest row sum of absolute
   values of the unconstrained basis), folded into the first margin here;
5. the sum-to-zero constraint falls on the ``nn`` columns only (the population columns; none when
   every margin is cyclic: their product is the constant, the intercept's, dropped as mgcv's
   ``C = ncol(X)``); with a numeric ``by`` there is no constraint (mgcv's, for a ``by`` that is
   not constant): every ``nn`` column is a population column, and every column is multiplied by
   the ``by`` column.

The null-space basis of step 2 changes the model (the penalised ``rn`` and ``nr`` blocks are
products with it), and mgcv's is the one its eigen-decomposition happens to return for the cr
penalty, whose null space is two-dimensional: the knots' linear function that is zero at the first
knot, and the direction orthogonal to it. hiermod uses the same two vectors (checked on mgcv's
basis: with any other pair, the blocks' singular values against mgcv's are up to 9% from 1). For
``tp``, mgcv's ``eigen`` returns the polynomial columns themselves (the penalty is zero there), and
so does hiermod.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from formulae.transforms import CyclicCubicSpline, NaturalCubicSpline

from hiermod.data.runtime import cubic_basis, tensor_basis, tprs_basis
from hiermod.data.tprs import tprs_raw
from hiermod.formula.syntax import Call
from hiermod.formula.tensor import t2_options, t2_variables

__all__ = ["Margin", "margin_columns", "place_knots", "t2_basis", "t2_fit"]


def _tolist(values: np.ndarray) -> Any:
    if values.ndim == 0:
        return float(values)
    return tuple(_tolist(v) for v in values)


def place_knots(x: np.ndarray, k: int) -> np.ndarray:
    """mgcv's ``place.knots(x, k)`` of a cyclic spline: ``k`` knots at evenly spaced quantiles of
    the distinct values, the first and last at the data's range (formulae's own are quantiles of
    the values wrapped into the cycle, where the largest falls on the smallest: up to 1% off)."""
    return np.asarray(np.quantile(np.unique(x), np.linspace(0.0, 1.0, k)))


class Margin:
    """One margin, unconstrained: its ``basis`` at the rows, its ``penalty``, a basis ``null`` of
    the penalty's null space (mgcv's, see the module's docstring) and ``part``, the evaluator's
    tables of a map from the coefficients (:meth:`mapped`). Also ``s(x, by = v)``'s unconstrained
    basis with a numeric v (:func:`hiermod.data.smooth.varying_fit`; ``tp`` of one or two
    columns)."""

    def __init__(self, x: np.ndarray, kind: str, k: int) -> None:
        self.kind = kind
        if kind == "tp":
            raw = tprs_raw(x, k)
            self.basis, self.penalty, self._uz = raw["X"], raw["penalty"], raw["uz"]
            self._shift, self._sites = raw["shift"], raw["sites"]
            m = raw["sites"].shape[1] + 1  # the polynomial columns 1, x (, z)
            self.null = np.eye(k)[:, k - m :]
            return
        if kind == "cr":
            spline = NaturalCubicSpline()
            basis = spline(x, df=k, center=False)
        else:  # mgcv's cc: the cycle is the data's range, k knots (place.knots), the two ends one
            spline = CyclicCubicSpline()
            knots = place_knots(x, k)
            basis = spline(
                x, period=float(np.ptp(x)), knots=knots[1:-1], lower_bound=knots[0], center=False
            )
        self.basis = np.asarray(basis, dtype=np.float64)
        self.penalty = np.asarray(spline.penalty_matrix)
        self._ppoly = spline._spline  # scipy's CubicSpline of the cardinal basis
        width = self.penalty.shape[0]
        if kind == "cr":  # the linear functions of the knots' values
            t = np.asarray(self._ppoly.x)
            line = (t - t[0]) / np.linalg.norm(t - t[0])
            level = np.ones(width) - line.sum() * line
            self.null = np.column_stack([line, level / np.linalg.norm(level)])
        else:  # cc: the constant
            self.null = np.ones((width, 1)) / np.sqrt(width)

    def mapped(self, transform: np.ndarray) -> tuple[Any, ...]:
        """The evaluator's tables of the columns ``basis @ transform``: ``(knots, coefs)`` for
        :func:`cubic_basis`, ``(shift, sites, radial, poly)`` for :func:`tprs_basis`."""
        if self.kind == "tp":
            n = self._sites.shape[0]
            weights = self._uz @ transform
            return (
                tuple(float(v) for v in self._shift),
                _tolist(self._sites),
                _tolist(weights[:n]),
                _tolist(weights[n:]),
            )
        coefs = np.einsum("pmk,kq->mpq", self._ppoly.c, transform)
        return _tolist(np.asarray(self._ppoly.x)), _tolist(coefs)


def _natural(margin: Margin) -> tuple[np.ndarray, int]:
    """Step 2: the map from the marginal coefficients to the [range, null] columns, and the rank."""
    basis, penalty = margin.basis, margin.penalty
    values, vectors = np.linalg.eigh((penalty + penalty.T) / 2.0)
    order = np.argsort(-values, kind="stable")
    values, vectors = values[order], vectors[:, order]
    null = margin.null
    rank = penalty.shape[0] - null.shape[1]
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


def t2_fit(x: np.ndarray, call: Call, centred: bool = True) -> dict[str, Any]:
    """The constants of ``t2(…)`` on the training columns ``x`` (n, d): each margin's kind and
    ``parts`` (:meth:`Margin.mapped`, evaluated by :func:`margin_columns`), the ``ranks`` of the
    margins' penalties, the map ``null`` of the all-null product onto the population columns
    (``fixed`` of them; with ``centred``, mgcv's sum-to-zero constraint on them), the penalised
    ``blocks``' widths and mgcv's ``penalty_scale``."""
    options = t2_options(call)
    columns = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    margins, transforms, evaluated, ranks = [], [], [], []
    for j, (kind, k) in enumerate(options):
        distinct = np.unique(columns[:, j]).shape[0]
        if distinct < k:
            raise ValueError(
                f"{call.args[j]} has {distinct} distinct values, fewer than its margin's k = {k}"
            )
        margin = Margin(columns[:, j], kind, k)
        transform, rank = _natural(margin)
        margins.append(margin)
        transforms.append(transform)
        evaluated.append(margin.basis @ transform)
        ranks.append(rank)
    nulls = int(np.prod([m.shape[1] - r for m, r in zip(evaluated, ranks, strict=True)]))
    unconstrained = tensor_basis(tuple(evaluated), tuple(ranks), _tolist(np.eye(nulls)))
    top = float(np.abs(unconstrained).sum(axis=1).max())  # norm(X, "I"): scale.penalty's
    transforms[0] = transforms[0] / top
    null_part = unconstrained[:, :nulls] / top
    centre = np.eye(nulls)
    if centred:  # the sum-to-zero constraint (none left of a single null column: dropped)
        centre = np.linalg.qr(null_part.sum(axis=0)[:, None], mode="complete")[0][:, 1:]
    fixed = centre / np.sqrt(((null_part @ centre) ** 2).mean(axis=0))
    return {
        "bs": "t2",
        "fixed": fixed.shape[1],
        "penalty_scale": 1.0 / top**2,
        "margins": tuple(m.kind for m in margins),
        "columns": tuple(str(v) for v in t2_variables(call)),
        "parts": tuple(m.mapped(t) for m, t in zip(margins, transforms, strict=True)),
        "ranks": tuple(ranks),
        "null": _tolist(fixed),
        "blocks": _block_widths(evaluated, ranks),
    }


def _block_widths(evaluated: list[np.ndarray], ranks: list[int]) -> tuple[int, ...]:
    """The widths of the penalised blocks, in mgcv's order (all but the last, all-null, product)."""
    widths = [ranks[0], evaluated[0].shape[1] - ranks[0]]
    for m, r in zip(evaluated[1:], ranks[1:], strict=True):
        widths = [w * r for w in widths] + [w * (m.shape[1] - r) for w in widths]
    return tuple(widths[:-1])


def margin_columns(kind: str, part: tuple[Any, ...], x: np.ndarray) -> np.ndarray:
    """One margin's [range, null] columns at ``x`` from its stored ``part``."""
    if kind == "tp":
        return tprs_basis(x, *part)
    return cubic_basis(x, part[0], part[1], kind == "cc")


def t2_basis(state: Any, x: np.ndarray) -> np.ndarray:
    """Every column of ``t2(…)`` at ``x`` (n, d): the unpenalised ones first, then the blocks."""
    columns = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    kinds, parts = state["margins"], state["parts"]
    margins = tuple(margin_columns(kinds[j], parts[j], columns[:, j]) for j in range(len(kinds)))
    return tensor_basis(margins, state["ranks"], state["null"])
