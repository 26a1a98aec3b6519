"""The data rules every generated module carries: real functions that hiermod runs and copies.

hiermod encodes data with these functions, and the source emitter writes their text
(``inspect.getsource``) into each generated module that uses them
(:mod:`hiermod.output.source_helpers`), so an exported module prepares data exactly as hiermod
does, without importing hiermod. There is one copy of each rule: this one.

A function here may use only what a generated module imports — ``np``, ``pd``, ``math`` and
scipy's ``BSpline`` (:data:`IMPORTS` lists each function's extra imports) — and other functions of
this module that it names in :data:`NEEDS`. No hiermod name, no module state.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.interpolate import BSpline

__all__ = [
    "IMPORTS",
    "NEEDS",
    "bspline_basis",
    "cell_codes",
    "cell_gram",
    "cell_index",
    "cell_labels",
    "cell_moments",
    "cell_positions",
    "censoring_codes",
    "cubic_basis",
    "gp_basis",
    "gp_eigenvalues",
    "gp_points",
    "gp_sq_distances",
    "known_codes",
    "level_codes",
    "level_labels",
    "monotonic_codes",
    "poly_basis",
    "smooth_by",
    "tensor_basis",
    "tprs_basis",
    "unique_labels",
]


def level_codes(values: pd.Series, levels: tuple[object, ...]) -> np.ndarray:
    """Each row's position in ``levels`` (a level table of the training data); -1 if not in it.

    A value is matched exactly first; a value no level equals is then matched by its text, when
    exactly one level has that text: ``"308"`` finds the number 308 in a table without the string
    "308", and 308 the string "308" in a table of text. Case is never folded (``"hennepin"`` is
    not ``"HENNEPIN"``), and in a table with both 1 and "1" each matches only itself.
    """
    mixed = len({type(v) for v in levels}) > 1
    index = pd.Index(list(levels), dtype=object if mixed else None)
    codes = np.asarray(index.get_indexer(pd.Index(values)), dtype=np.int64)
    unmatched = (codes < 0) & np.asarray(pd.notna(values), dtype=bool)
    if unmatched.any():
        texts = pd.Series([str(level) for level in levels], dtype=object)
        shared = texts.duplicated(keep=False).to_numpy()
        once = {t: i for i, t in enumerate(texts) if not shared[i]}
        unknown = pd.Series(np.asarray(values, dtype=object)[unmatched])
        found = unknown.map(str).map(once).fillna(-1)
        codes[unmatched] = found.to_numpy(dtype=np.int64)
    return codes


def known_codes(values: pd.Series, levels: tuple[object, ...]) -> np.ndarray:
    """``level_codes``, with an error naming the first values the training data did not have."""
    codes = level_codes(values, levels)
    if (codes < 0).any():
        unseen = pd.unique(values[codes < 0])[:5].tolist()
        raise ValueError(f"{values.name!r} has levels unseen in training: {unseen}")
    return codes


def monotonic_codes(values: pd.Series, levels: tuple[object, ...]) -> np.ndarray:
    """brms's ``mo(x)`` codes: each row's category 0..D among the ``levels`` of the training data.

    ``levels`` are an ordered categorical's categories (all of them, used or not), or every
    integer from the training minimum to the maximum: integers (2, 3, 5) have levels
    (2, 3, 4, 5), so 2 is 0 and 5 is 3 steps up, the unobserved 4 a step of its own. A value
    outside them (6, 3.5, a new category) is an error naming it.
    """
    codes = level_codes(values, levels)
    if (codes < 0).any():
        unseen = pd.unique(values[codes < 0])[:5].tolist()
        raise ValueError(
            f"mo({values.name}) has categories not in the training data's {levels[0]!r} to "
            f"{levels[-1]!r}: {unseen}"
        )
    return codes


def cell_positions(
    codes: tuple[np.ndarray, ...],
    cells: tuple[tuple[int, ...], ...],
) -> np.ndarray:
    """Each row's position among the observed ``cells`` (rows of level codes); -1 if not among them.

    With cells ((0, 1), (1, 0)), rows with codes (1, 0) and (0, 0) get positions 1 and -1.
    """
    rows = pd.MultiIndex.from_arrays(list(codes))
    known = pd.MultiIndex.from_tuples([tuple(cell) for cell in cells])
    return np.asarray(known.get_indexer(rows), dtype=np.int64)


def cell_index(
    codes: tuple[np.ndarray, ...],
    cells: tuple[tuple[int, ...], ...],
) -> np.ndarray:
    """``cell_positions``, with an error when a row is in a combination unseen in training."""
    index = cell_positions(codes, cells)
    if (index < 0).any():
        raise ValueError("some rows are in a combination of levels unseen in training")
    return index


def unique_labels(texts: list[str], spelled: list[str]) -> tuple[str, ...]:
    """``texts[i]``, or where that text is another label too ``spelled[i]``, or where that clashes
    as well ``spelled[i]#i`` (i the position): labels that are unique and depend only on the table.

    Of labels that clash, those on the plainest form move on. For the levels 1, "1" and "'1'"
    (texts "1", "1", "'1'"; spelled as ``repr``: "1", "'1'", "\"'1'\""): 1 and "1" clash and
    are spelled, "1" and "'1'"; then "1" spelled clashes with the text of "'1'", which is spelled.
    """
    rungs = (texts, spelled, [f"{s}#{i}" for i, s in enumerate(spelled)])
    rung = [0] * len(texts)
    while True:
        labels = [rungs[r][i] for i, r in enumerate(rung)]
        lowest: dict[str, int] = {}
        counts: dict[str, int] = {}
        for label, r in zip(labels, rung, strict=True):
            counts[label] = counts.get(label, 0) + 1
            lowest[label] = min(lowest.get(label, r), r)
        clash = [
            i
            for i, label in enumerate(labels)
            if counts[label] > 1 and rung[i] == lowest[label] and rung[i] < 2
        ]
        if not clash:
            return tuple(labels)
        for i in clash:
            rung[i] += 1


def level_labels(levels: tuple[object, ...]) -> tuple[object, ...]:
    """The coords of a grouping factor's level table: the levels themselves when they are all whole
    numbers (``.sel(Subject=308)``) or all text; else their text, unique (:func:`unique_labels`).

    A level whose text another level shares takes its ``repr``: the number 1 and the string "1"
    are labelled "1" and "'1'", the boolean True and the string "True" "True" and "'True'".
    """
    ints = [isinstance(v, int | np.integer) for v in levels]
    if all(ints) and not any(isinstance(v, bool) for v in levels):
        return tuple(np.asarray(levels, dtype=np.int64).tolist())
    if all(isinstance(v, str) for v in levels):
        return tuple(levels)
    return unique_labels([str(v) for v in levels], [repr(v) for v in levels])


def cell_labels(
    cells: tuple[tuple[int, ...], ...],
    *levels: tuple[object, ...],
) -> list[str]:
    """Labels of observed cells, the coordinates of their dim: the levels' labels joined by ":"
    (``"a:red"``, ``"308:1"``), a label that holds a ":" in quotes, so that the cells ("p:q", "r")
    and ("p", "q:r") are ``'p:q':r`` and ``p:'q:r'``; unique as :func:`unique_labels` makes them.
    """
    tables = [[str(label) for label in level_labels(table)] for table in levels]
    parts = [[repr(t) if ":" in t else t for t in table] for table in tables]
    texts = [":".join(parts[j][c] for j, c in enumerate(cell)) for cell in cells]
    spelled = [repr(tuple(levels[j][c] for j, c in enumerate(cell))) for cell in cells]
    return list(unique_labels(texts, spelled))


def cell_codes(columns: list[np.ndarray], n: int) -> np.ndarray:
    """One code per distinct combination of the columns' values, 0..k-1, in sorted order.

    Each column is factorised and folded into the running key, which is re-factorised at each
    step so that the key never overflows, however many columns there are. Rows (1, 5), (0, 7),
    (1, 5) get codes 1, 0, 1.
    """
    key = np.zeros(n, dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(column, sort=True)
        key = key * len(uniques) + codes
        key, _ = pd.factorize(key, sort=True)
        key = key.astype(np.int64)
    return key


def cell_gram(
    cell: np.ndarray,
    w: np.ndarray,
    n_cells: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows per cell, and the sum of w w' over each cell's rows: (cells,) and (cells, d, d).

    ``cell`` holds each row's cell, ``w`` each row's d features. One ``np.bincount`` per pair of
    features, no loop over rows.
    """
    d = w.shape[1]
    ww = np.empty((n_cells, d, d))
    for a in range(d):
        for b in range(a, d):
            pair = np.bincount(cell, weights=w[:, a] * w[:, b], minlength=n_cells)
            ww[:, a, b] = ww[:, b, a] = pair
    return np.bincount(cell, minlength=n_cells).astype(np.float64), ww


def cell_moments(
    cell: np.ndarray,
    w: np.ndarray,
    y: np.ndarray,
    n_cells: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The sums of y^2 and of w y over each cell's rows: (cells,) and (cells, d)."""
    yy = np.bincount(cell, weights=y * y, minlength=n_cells)
    wy = np.zeros((n_cells, w.shape[1]))
    for j in range(w.shape[1]):
        wy[:, j] = np.bincount(cell, weights=w[:, j] * y, minlength=n_cells)
    return yy, wy


def poly_basis(
    x: np.ndarray,
    alpha: tuple[float, ...],
    norm2: tuple[float, ...],
) -> np.ndarray:
    """R's ``predict(poly(x, degree))``: orthogonal polynomials with the training constants.

    Three-term recurrence: Z0 = 1, Z1 = x - alpha[0],
    Z[i + 1] = (x - alpha[i]) Z[i] - norm2[i + 1] / norm2[i] Z[i - 1]; unit norm on the training x.
    """
    degree = len(alpha)
    z = np.empty((x.shape[0], degree + 1))
    z[:, 0] = 1.0
    z[:, 1] = x - alpha[0]
    for i in range(1, degree):
        z[:, i + 1] = (x - alpha[i]) * z[:, i] - (norm2[i + 1] / norm2[i]) * z[:, i - 1]
    return np.asarray(z[:, 1:] / np.sqrt(np.asarray(norm2[2:])), dtype=np.float64)


def bspline_basis(
    x: np.ndarray,
    knots: tuple[float, ...],
    boundary: tuple[float, float],
    degree: int,
) -> np.ndarray:
    """R's ``predict(bs(x, df, degree))``: the B-spline basis without its first column.

    Outside the boundary knots the basis is extrapolated as R does it: a Taylor polynomial
    around a pivot a quarter of the way from the boundary to the next knot.
    """
    lo, hi = boundary
    t = np.sort(np.r_[[lo] * (degree + 1), knots, [hi] * (degree + 1)])
    n_basis = t.shape[0] - degree - 1
    spline = BSpline(t, np.eye(n_basis), degree, extrapolate=False)
    below, above = x < lo, x > hi
    basis = np.empty((x.shape[0], n_basis))
    inside = ~(below | above)
    basis[inside] = spline(x[inside])
    factorials = np.array([math.factorial(d) for d in range(degree + 1)])[:, None]
    for side, pivot in (
        (below, 0.75 * lo + 0.25 * t[degree + 1]),
        (above, 0.75 * hi + 0.25 * t[-degree - 2]),
    ):
        if side.any():
            derivs = np.stack([spline(pivot, nu=d) for d in range(degree + 1)])
            powers = (x[side] - pivot)[:, None] ** np.arange(degree + 1)
            basis[side] = powers @ (derivs / factorials)
    return np.asarray(basis[:, 1:], dtype=np.float64)


def gp_basis(
    x: np.ndarray,
    center: tuple[float, ...],
    dmax: float,
    bound: tuple[float, ...],
    k: int,
) -> np.ndarray:
    """brms's basis of an approximate GP (Hilbert space, Riutort-Mayol et al. 2023): (n, k^D).

    ``x`` (n, D) is scaled by the training data's largest distance ``dmax`` and centred, and on
    [-L, L] each basis function is a product over covariates of sin(m pi (z + L) / (2 L)) / sqrt(L),
    m = 1..k, the first covariate's m varying fastest (R's expand.grid): with k = 2 and D = 2 the
    functions are (1, 1), (2, 1), (1, 2), (2, 2).
    """
    z = np.asarray(x, dtype=np.float64).reshape(len(x), -1) / dmax - np.asarray(center)
    half = np.asarray(bound, dtype=np.float64)
    m = np.indices((k,) * half.shape[0]).reshape(half.shape[0], -1)[::-1].T + 1.0
    phase = (z[:, None, :] + half) * m * (np.pi / (2.0 * half))
    return np.asarray(np.prod(np.sin(phase) / np.sqrt(half), axis=2), dtype=np.float64)


def gp_eigenvalues(bound: tuple[float, ...], k: int) -> np.ndarray:
    """The squared frequencies sum_d (m_d pi / (2 L_d))^2 of :func:`gp_basis`'s functions: (k^D,)."""
    half = np.asarray(bound, dtype=np.float64)
    m = np.indices((k,) * half.shape[0]).reshape(half.shape[0], -1)[::-1].T + 1.0
    return np.asarray(np.sum((m * np.pi / (2.0 * half)) ** 2, axis=1), dtype=np.float64)


def gp_points(
    x: np.ndarray,
    codes: np.ndarray,
    points: tuple[tuple[tuple[float, ...], ...], ...],
    dmax: tuple[float, ...],
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Where each row of an exact GP is: (index, new points per GP).

    ``x`` (n, D) are the rows' covariates, ``codes`` each row's GP (its level of ``by``, else 0),
    ``points[j]`` GP j's distinct training points scaled by its ``dmax[j]`` (brms's ``Xgp``). The
    GP's values are held in one vector: every GP's training points in order, then every GP's new
    points (the rows' scaled points that are not training points, sorted, distinct); ``index`` is
    each row's position in it, so rows with one value share one value of the GP.
    """
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    sizes = [len(p) for p in points]
    start, index, new = sum(sizes), np.zeros(len(x), dtype=np.int64), []
    for j, known in enumerate(points):
        rows = np.flatnonzero(codes == j)
        z = x[rows] / dmax[j]
        where = {tuple(p): i + sum(sizes[:j]) for i, p in enumerate(known)}
        found = np.array([where.get(tuple(r), -1) for r in z.tolist()], dtype=np.int64)
        novel = np.unique(z[found < 0], axis=0).reshape(-1, z.shape[1])
        extra = {tuple(p): i + start for i, p in enumerate(novel.tolist())}
        found[found < 0] = [extra[tuple(r)] for r in z[found < 0].tolist()]
        index[rows], start = found, start + len(novel)
        new.append(novel)
    return index, tuple(new)


def gp_sq_distances(a: object, b: object) -> np.ndarray:
    """The squared Euclidean distances between the rows of ``a`` (n, D) and ``b`` (m, D): (n, m)."""
    left, right = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.asarray(np.sum((left[:, None, :] - right[None, :, :]) ** 2, axis=2))


def tprs_basis(
    x: np.ndarray,
    shift: tuple[float, ...],
    sites: tuple[tuple[float, ...], ...],
    radial: tuple[tuple[float, ...], ...],
    poly: tuple[tuple[float, ...], ...],
) -> np.ndarray:
    """A thin-plate smooth ``s(x)`` or ``s(x, z)`` in its mixed-model columns at ``x`` ((n,) or
    (n, d) for d = 1, 2 covariates), mgcv's basis (Wood 2003) after brms's reparameterisation.

    ``u = x - shift``; the columns are ``eta(|u - site|) @ radial + [1, u_1, .., u_d] @ poly``
    with the thin-plate kernel of a second-order penalty, ``eta(r) = r^3 / 12`` in one dimension
    and ``r^2 log(r) / (8 pi)`` in two: the unpenalised columns first (d of them), then the
    penalised ones, whose penalty is the identity on mgcv's scale (brms's ``Xs``, then ``Zs``).
    """
    at = np.asarray(sites, dtype=np.float64)
    u = np.asarray(x, dtype=np.float64).reshape(len(x), -1) - np.asarray(shift)
    weights, affine = np.asarray(radial), np.asarray(poly)
    out = np.empty((u.shape[0], weights.shape[1]))
    for start in range(0, u.shape[0], 4096):  # the kernel a block of rows at a time
        part = u[start : start + 4096]
        r = np.sqrt(((part[:, None, :] - at[None, :, :]) ** 2).sum(axis=2))
        if at.shape[1] == 1:
            kernel = r**3 / 12.0
        else:
            kernel = np.where(r > 0.0, r**2 * np.log(np.where(r > 0.0, r, 1.0)), 0.0)
            kernel /= 8.0 * np.pi
        polynomial = np.column_stack([np.ones(part.shape[0]), part])
        out[start : start + 4096] = kernel @ weights + polynomial @ affine
    return out


def cubic_basis(
    x: np.ndarray,
    knots: tuple[float, ...],
    coefs: tuple[tuple[tuple[float, ...], ...], ...],
    cyclic: bool,
) -> np.ndarray:
    """A smooth ``s(x, bs="cr")`` or ``"cc"`` in its mixed-model columns at ``x``.

    A cubic in each interval between ``knots``: ``coefs[i][p][j]`` is the coefficient of
    ``(x - knots[i])**(3 - p)`` of column ``j``. ``cr``: linear beyond the boundary knots (a
    natural spline); ``cc``: x is wrapped into the period ``[knots[0], knots[-1])``.
    """
    t, c = np.asarray(knots), np.asarray(coefs)
    x = np.asarray(x, dtype=np.float64)
    if cyclic:
        x = t[0] + np.mod(x - t[0], t[-1] - t[0])
    inside = np.clip(x, t[0], t[-1])
    i = np.clip(np.searchsorted(t, inside, side="right") - 1, 0, t.shape[0] - 2)
    d, ci = (inside - t[i])[:, None], c[i]
    value = ((ci[:, 0] * d + ci[:, 1]) * d + ci[:, 2]) * d + ci[:, 3]
    slope = (3.0 * ci[:, 0] * d + 2.0 * ci[:, 1]) * d + ci[:, 2]
    return np.asarray(value + (x - inside)[:, None] * slope)


def tensor_basis(
    margins: tuple[np.ndarray, ...],
    ranks: tuple[int, ...],
    null: tuple[tuple[float, ...], ...],
) -> np.ndarray:
    """A tensor-product smooth ``t2(x, z)`` in its mixed-model columns, from its
    margins' columns at the rows (each: its penalty's range part, ``ranks[j]`` columns,
    then its null part).

    The row-wise Kronecker products of the parts in mgcv's order (two margins:
    range-range, null-range, range-null, then null-null): the null-null product times
    ``null`` first (the unpenalised columns), then the others, each a penalised block
    with an identity penalty.
    """
    parts = [margins[0][:, : ranks[0]], margins[0][:, ranks[0] :]]
    for m, r in zip(margins[1:], ranks[1:], strict=True):
        pairs = [(p, q) for q in (m[:, :r], m[:, r:]) for p in parts]
        parts = [(p[:, :, None] * q[:, None, :]).reshape(len(p), -1) for p, q in pairs]
    last = parts[-1]
    free = last @ np.asarray(null).reshape(last.shape[1], -1)
    return np.hstack([free, *parts[:-1]])


def smooth_by(basis: np.ndarray, codes: np.ndarray, n: int, fixed: int) -> np.ndarray:
    """``s(x, by = f)``: the smooth's columns once per level of f (``n`` levels, ``codes``),
    zero outside the level's rows.

    The unpenalised columns of every level first (level by level), then the penalised ones:
    for levels a, b and basis [l, p1, p2]: [l·a, l·b, p1·a, p2·a, p1·b, p2·b] (·a: times the
    indicator of f = a), as mgcv's factor ``by`` (each level's smooth has its own sd).
    """
    pieces = [basis[:, :fixed] * (codes == j)[:, None] for j in range(n)]
    pieces += [basis[:, fixed:] * (codes == j)[:, None] for j in range(n)]
    return np.hstack(pieces)


# The imports a generated module needs for each function (numpy and pandas it always has).
IMPORTS: dict[str, tuple[str, ...]] = {
    "bspline_basis": ("import math", "from scipy.interpolate import BSpline"),
}

# The other functions of this module that each one calls (emitted with it, before it).
NEEDS: dict[str, tuple[str, ...]] = {
    "known_codes": ("level_codes",),
    "monotonic_codes": ("level_codes",),
    "cell_index": ("cell_positions",),
    "cell_labels": ("level_labels",),
    "level_labels": ("unique_labels",),
}


def censoring_codes(values: pd.Series) -> np.ndarray:
    """brms's censoring codes of a ``cens()`` column: -1 left-censored (the value is an upper bound
    of the true one), 0 observed, 1 right-censored (a lower bound: survival data still alive).

    A column may give the codes as numbers (-1, 0, 1, 2; 0/1 and booleans for right-censoring, as
    brms's ``cens(censored)``) or as the words "left", "none", "right", "interval" (2: the true
    value lies between the response and the upper bound ``y2`` of ``cens(c, y2)``). Any other value
    is an error.
    """
    words = {"left": -1, "none": 0, "right": 1, "interval": 2}
    numbers = pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(
        values.dtype
    )
    if not numbers or isinstance(values.dtype, pd.CategoricalDtype):
        mapped = values.astype(str).str.lower().map(words)
        bad = mapped.isna().to_numpy()
        codes = mapped.fillna(0).to_numpy(dtype=float)
    else:
        codes = values.to_numpy(dtype=float)
        bad = ~np.isin(codes, (-1.0, 0.0, 1.0, 2.0))
    if bad.any():
        first = values[bad].iloc[0]
        raise ValueError(
            f"cens() codes must be -1/0/1/2 or left/none/right/interval, but {values.name!r} "
            f"has {first!r}"
        )
    return codes
