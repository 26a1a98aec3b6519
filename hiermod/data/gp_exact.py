"""brms's exact Gaussian process ``gp(x, k=NA)``: its training points and the arrays of the rows.

brms's exact GP (its ``gp()`` in Stan, ``gr=TRUE``): the GP lives on the *distinct* rows of the
covariates, scaled by their largest Euclidean distance ``dmax`` (``scale=TRUE``, as for the
approximation; brms's ``Xgp``); each row reads the value of its point (brms's ``Jgp``), so rows
with one value of x share one value of the GP. With ``by=f`` each level has its own points, scaled
by its own ``dmax``. The model (:mod:`hiermod.output.source_gp_exact`) needs, per GP, the squared
distances between its training points; to predict at new x also those between the new points and
the training points, and between the new points (:func:`~hiermod.data.runtime.gp_points`,
:func:`~hiermod.data.runtime.gp_sq_distances`).

Which GP ``gp(x)`` without ``k`` is: :data:`EXACT_LIMIT`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hiermod.data.runtime import gp_points, gp_sq_distances

__all__ = ["EXACT_LIMIT", "ExactArrays", "exact_arrays", "exact_constants"]

EXACT_LIMIT = 250
"""``gp(x)`` without ``k`` is the exact GP when its GPs have at most this many distinct covariate
points in all (summed over the levels of ``by``), else the approximation with k = 20 and a
warning. One logp+gradient of the exact GP costs a Cholesky factor of the points' covariance and
its gradient, O(m^3): measured (benchmarks/gp_exact_cost.py, one BLAS thread, 2-core machine at
load 1.2) 0.38 ms at m = 100, 2.8 ms at 250, 36 ms at 500, 0.18 s at 1000 and 1.06 s at 2000,
against 0.01-0.05 ms for the approximation with k = 20. A fit of 4 chains x 2000 iterations at
~30 gradients an iteration is 240,000 gradients: about 11 minutes of them at 250 points (6 on two
cores), 2.4 hours at 500 and 12 hours at 1000. 250 keeps the default fit within minutes."""


@dataclass(frozen=True, slots=True, eq=False)
class ExactArrays:
    """The arrays of one exact GP over some rows: ``index`` (n,) into the GP's values (all
    training points, then all new points); per GP (level of by) ``sqdist`` (m, m) between its
    training points, ``cross`` (p, m) from its new points to them, ``newsq`` (p, p)."""

    index: np.ndarray
    sqdist: tuple[np.ndarray, ...]
    cross: tuple[np.ndarray, ...]
    newsq: tuple[np.ndarray, ...]

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(d.shape[0] for d in self.sqdist)


def exact_constants(z: np.ndarray, dmax: float) -> dict[str, Any]:
    """The constants of one exact GP from its distinct scaled training points ``z`` (m, D)."""
    return {"points": tuple(tuple(float(v) for v in row) for row in z.tolist()), "dmax": dmax}


def exact_arrays(x: np.ndarray, codes: np.ndarray, state: dict[str, Any]) -> ExactArrays:
    """The arrays of the rows ``x`` (n, D) of GP ``codes`` (the level of by, else 0)."""
    points, dmax = state["points"], state["dmax"]
    index, new = gp_points(x, codes, points, dmax)
    known = [np.asarray(p, dtype=np.float64) for p in points]
    return ExactArrays(
        index=index,
        sqdist=tuple(gp_sq_distances(p, p) for p in known),
        cross=tuple(gp_sq_distances(n, p) for n, p in zip(new, known, strict=True)),
        newsq=tuple(gp_sq_distances(n, n) for n in new),
    )
