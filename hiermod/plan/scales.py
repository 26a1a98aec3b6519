"""The scales of the data behind default priors: the response's location and scale on the link
scale, the noise sd, and which columns stand in for an intercept (:mod:`hiermod.plan.lower` reads
them; the prior rules themselves are in :mod:`hiermod.plan.priors`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hiermod.data.design import DataMoments, Design, FormulaDesign
from hiermod.data.families import Family
from hiermod.plan.priors import safe_sd

__all__ = [
    "ResponseScale",
    "compact",
    "data_bounds",
    "intercept_columns",
    "noise_scale",
    "response_scale",
]


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
    return ResponseScale(float(np.mean(y)), safe_sd(y), True)


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
