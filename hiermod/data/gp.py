"""brms's Gaussian process terms ``gp(x)``, ``gp(x, k=20, c=5/4)``, ``gp(x1, x2)``, ``gp(x, by=f)``.

This module makes brms's Hilbert-space approximate GP (brms's ``k=``/``c=``; the exact GP's
arrays are :mod:`hiermod.data.gp_exact`'s, and which of the two a gp() is, is decided here): each GP is
``basis @ (sqrt(spd) * zgp)``, where the basis depends on the data only and the spectral density
``spd`` of the exponentiated-quadratic kernel on ``sdgp`` and ``lscale``. The data rules, as
brms's ``.data_gp`` (2.18), fitted once on the training rows and stored in the schema:

* the distinct rows of the covariates are scaled so that their largest Euclidean distance is 1
  (``scale=TRUE``, brms's default): mcycle's times 2.4 … 57.6 are divided by ``dmax`` = 55.2;
* then centred on the mean of those distinct scaled rows (``center``);
* the basis lives on [-L, L] per covariate, ``L = c * max(1, range)`` (brms's ``choose_L``): for
  one scaled covariate the range is 1, so L = c = 1.25;
* with ``by=f`` each level of f has its own GP, scaled and centred on its own rows (brms's
  ``cmc=TRUE``: one GP per level, none left out); a row's basis is 0 for the other levels' GPs.

The smallest and largest distance between the scaled distinct rows (each level's) are kept for
the default prior of ``lscale`` (:mod:`hiermod.plan.gp`). The basis itself is
:func:`~hiermod.data.runtime.gp_basis`, which the generated module carries.

``gp(x, k=NA)`` is brms's exact GP (:mod:`hiermod.data.gp_exact`). ``gp(x)`` without ``k`` is
brms's exact GP too when its GPs have at most :data:`~hiermod.data.gp_exact.EXACT_LIMIT` distinct
points in all; above, it is the approximation with ``k=20`` and ``c=5/4`` (the values brms's
documentation suggests) and a :class:`~hiermod.warnings.DataWarning` that says so.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hiermod.data.gp_exact import EXACT_LIMIT, ExactArrays, exact_arrays, exact_constants
from hiermod.data.runtime import gp_basis, gp_eigenvalues, level_codes
from hiermod.errors import DataError, Span
from hiermod.formula.gp import DEFAULT_K, GPOptions, gp_options, label_of
from hiermod.formula.syntax import ArithNode, Call
from hiermod.warnings import DataWarning, user_stacklevel

__all__ = ["GPDesign", "gp_design"]

Error = Callable[[str, Span | None, str | None], DataError]


@dataclass(frozen=True, slots=True, eq=False)
class GPDesign:
    """The arrays of one gp() term over the kept rows.

    ``basis`` is (n, k^D), or (n, levels, k^D) with ``by`` (0 where a row is in another level);
    ``eigenvalues`` the squared frequencies, (k^D,) or (levels, k^D); ``distances`` each GP's
    (smallest, largest) distance between distinct scaled training rows. The exact GP (``k`` None)
    has ``exact`` instead, and empty ``basis`` and ``eigenvalues``.
    """

    call: Call
    label: str  # brms's: gptimes, gpx1x2, gptimesf
    covariates: tuple[str, ...]
    by: str | None
    levels: tuple[Any, ...]  # by's levels, in code order; () without by
    k: int | None  # None: the exact GP
    basis: np.ndarray
    eigenvalues: np.ndarray
    distances: tuple[tuple[float, float], ...]
    exact: ExactArrays | None = None


def _distances(z: np.ndarray) -> tuple[float, float]:
    """The smallest positive and the largest distance between the rows of ``z``."""
    if z.shape[1] == 1:
        ordered = np.sort(z[:, 0])
        steps = np.diff(ordered)
        return float(steps[steps > 0].min()), float(ordered[-1] - ordered[0])
    squared = np.sum((z[:, None, :] - z[None, :, :]) ** 2, axis=2)
    return float(np.sqrt(squared[squared > 0].min())), float(np.sqrt(squared.max()))


def _fit(
    x: np.ndarray, options: GPOptions, call: Call, error: Error, exact: bool
) -> dict[str, Any]:
    """One GP's constants from its training rows ``x`` (n, D), as brms's ``.data_gp``."""
    distinct = np.unique(x, axis=0)
    if distinct.shape[0] < 2:
        raise error(f"{call} needs at least two distinct values of its covariates", call.span, None)
    dmax = _distances(distinct)[1] if options.scale else 1.0
    z = distinct / dmax
    if exact:
        return {**exact_constants(z, float(dmax)), "distances": _distances(z)}
    center = z.mean(axis=0)
    spread = np.maximum(1.0, z.max(axis=0) - z.min(axis=0))
    lower, upper = _distances(z)
    return {
        "dmax": float(dmax),
        "center": tuple(float(v) for v in center),
        "bound": tuple(float(options.c * r) for r in spread),
        "distances": (lower, upper),
    }


def _choose_k(options: GPOptions, points: int, call: Call) -> int | None:
    """``k``, or None for the exact GP: k=NA, or no k and at most EXACT_LIMIT distinct points."""
    if options.given or points <= EXACT_LIMIT:
        return options.k
    warnings.warn(
        f"{call}: the data have {points} distinct covariate points (more than {EXACT_LIMIT}), so "
        f"hiermod uses brms's Hilbert-space approximation with k={DEFAULT_K} basis functions "
        f"per covariate instead of the exact GP; write gp(..., k=NA) for the exact GP (its cost "
        f"grows as the cube of the points) or gp(..., k={DEFAULT_K}) to choose the approximation",
        DataWarning,
        stacklevel=user_stacklevel(),
    )
    return DEFAULT_K


def gp_design(
    call: Call,
    numeric: Callable[[ArithNode], np.ndarray],
    by_levels: Mapping[str, tuple[Any, ...]],
    by_values: Callable[[str], Any],
    constants: dict[str, dict[str, Any]],
    fit: bool,
    error: Error,
) -> GPDesign:
    """The basis of one gp() call over the kept rows; its constants fitted (``fit``) or read."""
    options = gp_options(call, error)
    x = np.column_stack([numeric(c) for c in options.covariates])
    levels: tuple[Any, ...] = ()
    codes = np.zeros(x.shape[0], dtype=np.int64)
    if options.by is not None:
        levels = by_levels.get(options.by, ())
        if not levels:
            raise error(
                f"{call}: by={options.by} must be a categorical column (one GP per level); "
                "a numeric by (brms: the GP times the number) is not supported yet",
                call.span,
                f"write C({options.by}) as a column, or drop by=",
            )
        codes = level_codes(by_values(options.by), levels)
        if (codes < 0).any():
            raise error(f"{call}: {options.by} has levels not seen in training", call.span, None)
    key = str(call)
    if fit:
        parts = [x[codes == j] for j in range(max(1, len(levels)))]
        k = _choose_k(options, sum(len(np.unique(p, axis=0)) for p in parts), call)
        fitted = [_fit(p, options, call, error, k is None) for p in parts]
        constants[key] = {"k": k, **{name: tuple(f[name] for f in fitted) for name in fitted[0]}}
    state = constants[key]
    if state["k"] is None:
        return GPDesign(
            call=call,
            label=label_of(call, options),
            covariates=tuple(str(c) for c in options.covariates),
            by=options.by,
            levels=levels,
            k=None,
            basis=np.zeros((x.shape[0], 0)),
            eigenvalues=np.zeros(0),
            distances=tuple((float(a), float(b)) for a, b in state["distances"]),
            exact=exact_arrays(x, codes, state),
        )
    bases, eigen = [], []
    for j in range(max(1, len(levels))):
        center, dmax, bound = state["center"][j], state["dmax"][j], state["bound"][j]
        phi = gp_basis(x, tuple(center), float(dmax), tuple(bound), int(state["k"]))
        bases.append(phi * (codes == j)[:, None])
        eigen.append(gp_eigenvalues(tuple(bound), int(state["k"])))
    return GPDesign(
        call=call,
        label=label_of(call, options),
        covariates=tuple(str(c) for c in options.covariates),
        by=options.by,
        levels=levels,
        k=int(state["k"]),
        basis=np.stack(bases, axis=1) if levels else bases[0],
        eigenvalues=np.stack(eigen) if levels else eigen[0],
        distances=tuple((float(a), float(b)) for a, b in state["distances"]),
    )
