"""mgcv's thin-plate regression spline ``s(x)``, ``s(x, z)`` (``bs = "tp"``), fitted once, in brms's
mixed-model form: the constants :func:`~hiermod.data.runtime.tprs_basis` evaluates.

The construction is Wood (2003) as mgcv's ``smooth.construct.tp.smooth.spec`` does it, step by
step, because brms's ``sds`` is a scale on mgcv's own parameterisation of the basis (its penalty
rescaling ``scale.penalty`` depends on it: on mcycle, formulae's thin-plate basis rescaled by the
same rule gives penalised columns 1 / 0.9013 times mgcv's):

1. the covariates minus their means; the distinct rows are the sites (at most :data:`MAX_KNOTS`;
   beyond, a fixed random subset, where mgcv draws with R's generator);
2. ``E``, the thin-plate kernel between sites, and ``T``, the polynomials ``1, x_1, .., x_d``
   there; the ``k`` eigenvectors ``U`` of ``E`` with the largest absolute eigenvalues ``v``,
   ordered by value, largest first (mgcv's Lanczos order);
3. ``Z``, the null space of ``T'U`` from Householder reflections of its rows, each one folding
   the leading entries of a row into its last (mgcv's ``QT``); the basis ``X = [E U Z, T]`` with
   penalty ``Z' diag(v) Z``, every column scaled to root mean square 1 over the data rows;
4. ``smoothCon``'s ``scale.penalty``: S divided by ``norm(S, "O") / norm(X, "I")^2``; the
   sum-to-zero constraint absorbed; ``smooth2random``'s split: the penalty's null space (the
   linear columns, d of them) first, then the penalised columns times ``D^-1/2`` of the penalty's
   eigenvalues, so their penalty is the identity.

Step 4's penalised columns are then mgcv's ``Zs`` up to an orthogonal rotation (which leaves
the model unchanged: ``zs`` is standard normal), checked against mgcv in tests/test_smooths.py.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from hiermod.data import runtime

# the runtime function takes the schema's nested tuples; here it is fed arrays (the same maths)
tprs_basis = cast(Any, runtime.tprs_basis)

__all__ = ["MAX_KNOTS", "default_k", "tprs_fit", "tprs_raw"]

MAX_KNOTS = 2000  # distinct sites a tp basis is built from at most, as mgcv's max.knots


def default_k(d: int) -> int:
    """mgcv's default basis dimension: ``M + c(8, 27, 100)[d]``, 10 for s(x), 30 for s(x, z)."""
    return (d + 1) + (8, 27)[d - 1]


def _householder_null(tu: np.ndarray) -> np.ndarray:
    """``Q`` with ``tu @ Q = [0, B]``: one reflection per row of ``tu``, folding entries
    ``0 .. c - i - 1`` of row i into entry ``c - i - 1``; ``Q[:, :c - rows]`` spans tu's null space."""
    a = np.array(tu, dtype=np.float64)
    rows, cols = a.shape
    q = np.eye(cols)
    for i in range(rows):
        last = cols - i
        u = np.zeros(cols)
        u[:last] = a[i, :last]
        norm = float(np.sqrt(u @ u))
        if u[last - 1] < 0.0:
            norm = -norm
        u[last - 1] += norm
        g = 1.0 / (norm * u[last - 1]) if norm else 0.0
        a -= g * np.outer(a @ u, u)
        q -= g * np.outer(q @ u, u)
    return q


def _sites(u: np.ndarray) -> np.ndarray:
    sites = np.unique(u, axis=0)
    if sites.shape[0] > MAX_KNOTS:
        keep = np.random.default_rng(1).choice(sites.shape[0], MAX_KNOTS, replace=False)
        sites = sites[np.sort(keep)]
    return sites


def tprs_raw(x: np.ndarray, k: int) -> dict[str, Any]:
    """Steps 1 to 3, mgcv's unconstrained thin-plate basis of the (n, d) covariates ``x`` with
    dimension ``k``: its columns ``X`` at the rows (the polynomial ones, 1, x_1, .., x_d, last),
    its ``penalty``, the covariates' ``shift``, the ``sites`` and ``uz``, the map from the k
    coefficients to the kernel weights at the sites (its first rows) and the polynomial's (the
    last d + 1): :func:`tprs_basis` of ``uz[:n_sites]``, ``uz[n_sites:]`` gives ``X``."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    d = x.shape[1]
    m = d + 1  # the null space of a second-order penalty: 1, x_1, .., x_d
    shift = x.mean(axis=0)
    u = x - shift
    sites = _sites(u)
    n_sites = sites.shape[0]
    if n_sites < k:
        raise ValueError(f"{n_sites} distinct covariate values for a basis of dimension {k}")
    zero = np.zeros(d)
    kernel = tprs_basis(sites, zero, sites, np.eye(n_sites), np.zeros((m, n_sites)))
    polynomial = np.column_stack([np.ones(n_sites), sites])
    values, vectors = np.linalg.eigh((kernel + kernel.T) / 2.0)
    keep = np.argsort(-np.abs(values), kind="stable")[:k]
    keep = keep[np.argsort(-values[keep], kind="stable")]
    v, U = values[keep], vectors[:, keep]
    Z = _householder_null(polynomial.T @ U)[:, : k - m]
    # UZ maps the k coefficients to the kernel weights at the sites and the polynomial's
    uz = np.zeros((n_sites + m, k))
    uz[:n_sites, : k - m] = U @ Z
    uz[n_sites:, k - m :] = np.eye(m)
    penalty = np.zeros((k, k))
    penalty[: k - m, : k - m] = Z.T @ (v[:, None] * Z)
    X = tprs_basis(u, zero, sites, uz[:n_sites], uz[n_sites:])
    w = np.sqrt((X**2).mean(axis=0))
    return {
        "X": X / w,
        "penalty": penalty / np.outer(w, w),
        "uz": uz / w,
        "shift": shift,
        "sites": sites,
    }


def tprs_fit(x: np.ndarray, k: int) -> dict[str, Any]:
    """The constants of a thin-plate smooth of the (n, d) covariates ``x`` with basis dimension
    ``k``: ``shift``, ``sites``, ``radial``, ``poly`` (:func:`tprs_basis`'s arguments), the number
    of unpenalised columns ``fixed`` (d) and mgcv's ``penalty_scale``."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    d = x.shape[1]
    raw = tprs_raw(x, k)
    X, penalty, uz, shift, sites = (raw[key] for key in ("X", "penalty", "uz", "shift", "sites"))
    u, n_sites = x - shift, sites.shape[0]
    scale = float(np.abs(penalty).sum(axis=0).max() / np.abs(X).sum(axis=1).max() ** 2)
    penalty /= scale
    # the sum-to-zero constraint: the null space of the column sums, from a complete QR
    sums = X.sum(axis=0)[:, None]
    centre = np.linalg.qr(sums, mode="complete")[0][:, 1:]
    constrained = centre.T @ penalty @ centre
    eigen, basis = np.linalg.eigh((constrained + constrained.T) / 2.0)
    order = np.argsort(eigen, kind="stable")  # the d zero eigenvalues first
    eigen, basis = eigen[order], basis[:, order]
    free = basis[:, :d]
    # each unpenalised column with root mean square 1 over the rows and a positive first
    # covariate trend (mgcv's sign is arbitrary)
    free_columns = X @ centre @ free
    free = free / np.sqrt((free_columns**2).mean(axis=0))
    slope = np.sign(np.linalg.lstsq(np.column_stack([np.ones(len(u)), u]), X @ centre @ free)[0][1])
    free = free * np.where(slope == 0.0, 1.0, slope)
    penalised = basis[:, d:] / np.sqrt(eigen[d:])
    transform = centre @ np.column_stack([free, penalised])
    mapped = uz @ transform
    return {
        "bs": "tp",
        "fixed": d,
        "penalty_scale": scale,
        "shift": tuple(float(s) for s in shift),
        "sites": sites,
        "radial": mapped[:n_sites],
        "poly": mapped[n_sites:],
    }
