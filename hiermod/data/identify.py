"""Can the data tell the population-level coefficients apart? A rank check of each formula's design,
reported as R's ``lm`` reports aliased coefficients (an :class:`IdentifiabilityWarning`).

**The rule.** A formula's columns are the intercept (a column of ones, when it has one) and its X,
in order. Each column is scaled to unit length (after dividing it by its largest absolute value, so
that values near 1e300 do not overflow). Then, in order, a column whose part not explained by the
earlier *kept* columns has length below :data:`TOLERANCE` (1e-7, ``lm.fit``'s ``tol``) is
*aliased*: the earlier columns are kept and the later one reported, as R's ``dqrdc2`` (pivoting
only deficient columns to the end) gives an NA coefficient for it. So ``y ~ x1 + x2`` with
``x2 = 2*x1`` reports ``x2 = 2*x1``; a constant ``x`` reports ``x = 3*Intercept``; ``y ~ f + fb``
with a hand-made indicator ``fb`` of level b reports ``fb = f[b]``; ``bs(x, df=1000)`` on 60 rows
has more columns than rows. The residuals come from Gram–Schmidt with reorthogonalisation (as
accurate as Householder QR, and it keeps the column order).

**The cost.** rows × columns² for the whole design; with more than :data:`SAMPLE_ROWS` rows the
check runs on evenly spaced rows first, with each column scaled by its length over *all* rows. A
column's residual over some rows is at most its residual over all rows (least squares over more rows
cannot fit better), so a sample in which no column is aliased proves that none is in the whole
design; only a sample with an aliased column (a rare level missing from it, say) is checked again on
every row. A report is therefore always about the whole design.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from hiermod.data.design import Design, FormulaDesign
from hiermod.warnings import IdentifiabilityWarning, user_stacklevel

__all__ = ["SAMPLE_ROWS", "TOLERANCE", "Aliasing", "aliasing", "warn_unidentifiable"]

TOLERANCE = 1e-7  # R's lm.fit(tol = 1e-7): a column's residual relative to its length
SAMPLE_ROWS = 20_000  # designs with more rows are checked on a sample first (module docstring)
SHOWN = 5  # aliased columns named in a warning before "and k more"
TERMS = 6  # a relation with more terms is named by its count ("a combination of 60 columns")


@dataclass(frozen=True, slots=True)
class Aliasing:
    """The aliased columns of one design: ``relations[j]`` writes ``aliased[j]`` in terms of kept
    columns as ``(label, coefficient)`` pairs (empty for a column that is zero in every row), and
    ``gaps[j]`` is the length of what they leave of it over its own length (below 1e-7; near 1e-16
    when the relation is exact, larger when it nearly holds: x = 1e9 + N(0, 1) is x ≈ 1e9*Intercept
    to 1e-9)."""

    labels: tuple[str, ...]
    rows: int
    rank: int
    aliased: tuple[str, ...]
    relations: tuple[tuple[tuple[str, float], ...], ...]
    gaps: tuple[float, ...]


def aliasing(X: np.ndarray, labels: tuple[str, ...], intercept: bool = False) -> Aliasing | None:
    """The aliased columns of ``X`` (rows × columns, labelled; after a column of ones labelled
    ``labels[0]`` when ``intercept``), or ``None`` when it has full rank.

    Example: ``X = [x, 2x]`` labelled Intercept, x1, x2 with the intercept gives aliased
    ``("x2",)`` with the relation ``(("x1", 2.0),)``.
    """
    n = X.shape[0]
    p = X.shape[1] + int(intercept)
    if p == 0:
        return None
    ones = np.full(int(intercept), math.sqrt(n))
    scale = np.concatenate([ones, _lengths(X)])
    scale[scale == 0] = 1.0  # a zero column stays zero: aliased, "= 0 in every row"

    def unit(rows: np.ndarray | slice) -> np.ndarray:  # the columns over rows, over their lengths
        part = X[rows]
        U = np.empty((part.shape[0], p), order="F")  # LAPACK's order: no copy in qr
        if intercept:
            U[:, 0] = 1.0 / scale[0]
        np.divide(part, scale[int(intercept) :], out=U[:, int(intercept) :])
        return U

    if n > SAMPLE_ROWS and p <= n:
        sample = np.linspace(0, n - 1, max(SAMPLE_ROWS, 4 * p)).astype(np.int64)
        for _ in range(2):
            flagged = _sequential(_triangle(unit(sample)))[1]
            if not flagged:  # none aliased over the sample: none is over all rows
                return None
            # A rare level's indicator may be zero over the sample: add each flagged column's
            # largest and smallest rows, and look again.
            columns = [X[:, j - int(intercept)] for j in flagged[:50] if j >= int(intercept)]
            extremes = [f(c) for c in columns for f in (np.argmax, np.argmin)]
            sample = np.unique(np.concatenate([sample, np.asarray(extremes, dtype=np.int64)]))
    kept, aliased, C, gaps = _sequential(_triangle(unit(slice(None))))
    if not aliased:
        return None
    relations = []
    for k in aliased[:SHOWN]:
        # x_k / s_k = sum_i beta_i x_i / s_i over the kept columns i, whose triangular factor is
        # C[:, kept]; terms below 1e-8 of the largest (unit-length columns) are rounding.
        zero = not C[:, k].any()
        beta = np.linalg.solve(C[:, kept], C[:, k]) if kept and not zero else np.zeros(0)
        cut = 1e-8 * max(1.0, float(np.max(np.abs(beta), initial=0.0)))
        relations.append(
            tuple(
                (labels[i], float(b * scale[k] / scale[i]))
                for i, b in zip(kept, beta, strict=False)
                if abs(b) > cut
            )
        )
    named = tuple(labels[k] for k in aliased)
    return Aliasing(labels, n, len(kept), named, tuple(relations), tuple(gaps[: len(relations)]))


def _lengths(X: np.ndarray) -> np.ndarray:
    """Each column's Euclidean length, without overflow (values near 1e300) or underflow (near
    1e-320): squares summed directly, and columns whose squares leave the normal range again over
    their largest absolute value."""
    if X.shape[0] == 0:
        return np.zeros(X.shape[1])
    top = np.maximum(X.max(axis=0), -X.min(axis=0))
    with np.errstate(over="ignore", under="ignore"):
        length: np.ndarray = np.sqrt(np.einsum("ij,ij->j", X, X))
    for j in np.flatnonzero((top > 1e150) | ((top < 1e-150) & (top > 0))):
        length[j] = float(np.linalg.norm(X[:, j] / top[j])) * top[j]
    return length


def _triangle(U: np.ndarray) -> np.ndarray:
    """R of ``U = QR`` (Householder, LAPACK): the columns' coordinates in an orthonormal basis, so
    every length and projection of the columns is R's. Householder QR is backward stable whatever
    the rank (R is exactly that of ``U + E``, ``|E| ~ 1e-16 |U|``), far below :data:`TOLERANCE`."""
    R: np.ndarray = np.linalg.qr(U, mode="r")
    return R


def _sequential(U: np.ndarray) -> tuple[list[int], list[int], np.ndarray, list[float]]:
    """The columns of ``U`` (each of length at most 1) kept and aliased, in order; ``C``, the
    coefficients of every column on the kept orthonormal directions (kept × columns), so that
    ``C[:, kept]`` is the kept columns' upper triangular factor; each aliased column's residual."""
    n, p = U.shape
    Q = np.zeros((n, min(n, p)), order="F")  # Q[:, :m] stays contiguous: BLAS matvecs
    C = np.zeros((min(n, p), p))
    kept: list[int] = []
    aliased: list[int] = []
    gaps: list[float] = []
    for k in range(p):
        m = len(kept)
        v = U[:, k].copy()
        for _ in range(2):  # Gram-Schmidt twice: orthogonal to rounding (Giraud et al. 2005)
            step = Q[:, :m].T @ v
            v -= Q[:, :m] @ step
            C[:m, k] += step
        residual = float(np.linalg.norm(v))
        if residual < TOLERANCE or m == min(n, p):
            aliased.append(k)
            gaps.append(residual)
        else:
            Q[:, m] = v / residual
            C[m, k] = residual
            kept.append(k)
    return kept, aliased, C[: len(kept)], gaps


def _relation(name: str, terms: tuple[tuple[str, float], ...], gap: float) -> str:
    """``x2 = 2*x1``, ``b = Intercept - a``, ``z = 0`` (zero in every row), for a long one
    ``bs(x, df = 1000)[70] is a combination of 60 other columns``; a relation that holds only to
    ``gap`` > 1e-12 of the column's length is ``x ≈ 1e+09*Intercept (to 1e-09)``."""
    if not terms:
        return f"{name} = 0 in every row"
    near = gap > 1e-12
    if near and len(terms) <= TERMS:
        return _relation(name, terms, 0.0).replace(" = ", " ≈ ", 1) + f" (to {gap:.0e})"
    if len(terms) > TERMS:
        first = ", ".join(label for label, _ in terms[:3])
        return f"{name} is a combination of {len(terms)} other columns ({first}, …)"
    text = ""
    for label, c in terms:
        sign = "-" if c < 0 else "+"
        size = "" if abs(abs(c) - 1.0) < 1e-9 else f"{abs(c):.4g}*"
        text += f" {sign} {size}{label}" if text else f"{'-' if c < 0 else ''}{size}{label}"
    return f"{name} = {text}"


def _message(found: Aliasing, dpar: str) -> str:
    whose = "the population-level design" if dpar == "mu" else f"{dpar}'s population-level design"
    p, lost = len(found.labels), len(found.labels) - found.rank
    size = f"{p} columns" + (f" but only {found.rows} rows" if found.rows < p else "")
    shown = "; ".join(
        _relation(name, terms, gap)
        for name, terms, gap in zip(found.aliased, found.relations, found.gaps, strict=False)
    )
    more = f" and {len(found.aliased) - SHOWN} more" if len(found.aliased) > SHOWN else ""
    return (
        f"{whose} has {size} and rank {found.rank}: the data cannot tell {lost} coefficient"
        f"{'s' * (lost != 1)} from the others (R's lm would report "
        f"{'them' if lost != 1 else 'it'} as NA, not defined because of singularities). "
        f"Aliased: {shown}{more}. Drop or recode the aliased columns, or the posterior of their "
        "coefficients is their prior along a ridge"
    )


def warn_unidentifiable(design: Design) -> None:
    """One :class:`IdentifiabilityWarning` per formula whose design has aliased columns."""
    seen: set[int] = set()
    for fd in design.formulas:
        if id(fd.X) in seen:  # the categories of a categorical model share mu's X
            continue
        seen.add(id(fd.X))
        found = _check(fd)
        if found is not None:
            warnings.warn(
                _message(found, fd.dpar), IdentifiabilityWarning, stacklevel=user_stacklevel()
            )


def _check(fd: FormulaDesign) -> Aliasing | None:
    labels = ("Intercept", *fd.coef_labels) if fd.intercept else fd.coef_labels
    return aliasing(fd.X, labels, intercept=fd.intercept)
