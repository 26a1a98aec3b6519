"""The scales of the data behind default priors: the response's location and scale on the link
scale, the noise sd, the sds of design columns, and which columns stand in for an intercept
(:mod:`hiermod.plan.lower` reads them; the prior rules themselves are in :mod:`hiermod.plan.priors`).

Means and sds are computed so that they neither overflow nor underflow: values beyond 1e150 (or
below 1e-150) in size are divided by their largest absolute value first (:func:`safe_sd`), so a
column near 1e300 has sd near 1e300, not inf (which counted as "no spread" and gave the prior of
a column of sd 1). A default prior whose scale is still not a finite positive number, e.g.
``2.5 * sd(y) / sd(x)`` for ``sd(x) ~ 1e-320``, is refused with the column named
(:func:`prior_scales`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hiermod.data.design import DataMoments, Design, FormulaDesign
from hiermod.data.families import Family
from hiermod.errors import DataError

__all__ = [
    "ResponseScale",
    "compact",
    "data_bounds",
    "intercept_columns",
    "noise_scale",
    "prior_scales",
    "response_scale",
    "safe_mean",
    "safe_sd",
]

_NORMAL = (1e-150, 1e150)  # sizes whose squares (and sums of 1e9 of them) stay normal floats


def _unit(values: np.ndarray) -> tuple[np.ndarray, float]:
    """``values`` over their largest absolute value when that is outside :data:`_NORMAL`, and
    the factor: 1e300s become numbers near 1 whose squares do not overflow."""
    top = float(np.max(np.abs(values))) if values.size else 0.0
    if top == 0.0 or not math.isfinite(top) or _NORMAL[0] <= top <= _NORMAL[1]:
        return values, 1.0
    return values / top, top


def safe_sd(values: np.ndarray) -> float:
    """Sample standard deviation, or 1 when there is no spread (or fewer than two values).

    Without overflow or underflow: values of size 1e300 have sd of size 1e300 (``np.std`` gives inf),
    values of size 1e-320 one of size 1e-320 (``np.std`` gives 0); in between ``np.std`` exactly.
    """
    if values.size < 2:
        return 1.0
    unit, factor = _unit(values)
    sd = float(np.std(unit, ddof=1)) * factor
    return sd if math.isfinite(sd) and sd > 0 else 1.0


def safe_mean(values: np.ndarray) -> float:
    """The mean, as :func:`safe_sd` without overflow (1e308s sum to inf)."""
    unit, factor = _unit(values)
    return float(np.mean(unit)) * factor


def prior_scales(
    scales: np.ndarray, sds: np.ndarray, labels: Sequence[str], parameter: str
) -> np.ndarray:
    """``scales / sds``, each a finite positive number, else a :class:`DataError` naming the column.

    E.g. ``2.5 * sd(y) / sd(x)`` of ``b[x]`` with sd(x) = 1e-320 is inf: the column must be rescaled.
    """
    with np.errstate(over="ignore", divide="ignore", under="ignore"):
        values: np.ndarray = np.broadcast_to(np.asarray(scales, dtype=np.float64), sds.shape) / sds
    bad = ~(np.isfinite(values) & (values > 0))
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"column {labels[j]!r} has sd {sds[j]:.3g}, too {'small' if sds[j] < 1 else 'large'} "
            f"for a default prior: {parameter}[{labels[j]}] would get scale {values[j]:.3g}",
            hint=f"rescale it to values near 1, e.g. scale({labels[j]}) in the formula, or "
            "multiply it by a power of ten in the data",
        )
    return values


@dataclass(frozen=True, slots=True)
class ResponseScale:
    """Location and scale of the response on the link scale, for default priors."""

    center: float
    scale: float
    data_scaled: bool  # whether the scale came from the data (gaussian-like) or is 1


def response_scale(
    design: Design, family: Family, link: str, moments: DataMoments | None
) -> ResponseScale:
    if family.data_scale is None or link != "identity":
        return ResponseScale(0.0, 1.0, False)
    if moments is not None:
        return ResponseScale(moments.response[0], moments.response[1], True)
    y = design.y
    if y is None or y.size == 0:
        return ResponseScale(0.0, 1.0, False)
    y = family.on_data_scale(y)
    scale = safe_sd(y)
    if not math.isfinite(2.5 * scale):
        raise DataError(
            f"the response has sd {scale:.3g}: the default prior of the intercept, 2.5 sds "
            "wide, overflows",
            hint="rescale the response to values near 1, e.g. divide it by a power of ten",
        )
    return ResponseScale(safe_mean(y), scale, True)


def noise_scale(design: Design, family: Family, moments: DataMoments | None) -> float | None:
    """The sd of the response on sigma's scale (log y for lognormal), whatever the link of mu.

    sigma is on the response scale even when mu has a log link (``gaussian``, ``link="log"``), so its
    default priors use sd(y) there too. ``None`` without a response, or for families without sigma.
    """
    if "sigma" not in family.auxiliary:
        return None
    if moments is not None:
        return moments.response[1]
    y = design.y
    if y is None or y.size == 0:
        return None
    return safe_sd(family.on_data_scale(y))


def compact(values: np.ndarray) -> float | tuple[float, ...]:
    """One number when every element is the same (``normal(0, 2.5)``), else the vector."""
    return float(values[0]) if np.all(values == values[0]) else tuple(values.tolist())


def intercept_columns(fd: FormulaDesign) -> list[int]:
    """The columns of the first term whose indicators sum to one in every row, if any.

    Without an intercept, R's coding gives the first categorical term one indicator per level
    (``0 + f``: f[a], f[b], f[c]); those columns together are the intercept, level by level.
    """
    terms = list(dict.fromkeys(fd.coef_terms))
    for term in terms:
        columns = [j for j, t in enumerate(fd.coef_terms) if t == term]
        block = fd.X[:, columns]
        if np.isin(block, (0.0, 1.0)).all() and (block.sum(axis=1) == 1).all():
            return columns
    return []


def data_bounds(design: Design) -> dict[str, str]:
    """What a default prior may name of the response: ``{min_y}``, its smallest value (the
    shifted lognormal's shift ``ndt`` lies below it, brms's ``uniform(0, min_Y)``), rounded
    down to the 4 digits the source shows (0.35571 → 0.3557), so it is never above it."""
    y = design.y
    if y is None or not (np.isfinite(y) & (y > 0)).any():
        return {"min_y": "1.0"}
    smallest = float(np.min(y[np.isfinite(y) & (y > 0)]))
    digits = 3 - int(np.floor(np.log10(smallest)))
    return {"min_y": repr(float(np.floor(smallest * 10.0**digits) / 10.0**digits))}
