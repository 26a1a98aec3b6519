"""Ordinal responses: ordered categories coded 0 .. K-1 (the cumulative, sratio, cratio and acat
families of :mod:`hiermod.data.families.ordinal`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from hiermod.data.design import ColumnSchema
from hiermod.data.runtime import level_codes
from hiermod.errors import DataError, Span

__all__ = ["ordinal_response"]

ErrorAt = Callable[[str, Span | None, str | None], DataError]


def ordinal_response(
    series: pd.Series,
    label: str,
    family: str,
    stored: ColumnSchema | None,
    span: Span | None,
    error: ErrorAt,
) -> tuple[np.ndarray, ColumnSchema]:
    """The codes of an ordinal response (-1 for a value not among the categories) and its schema.

    The categories are an ordered pandas categorical's (unused ones too), or the whole numbers from
    the smallest value to the largest (a middle value nobody chose is still a category, as in
    brms): ratings 1, 2, 4 have the categories (1, 2, 3, 4). New data use the training categories.
    """
    if stored is None:
        levels = _categories(series, label, family, span, error)
        if len(levels) < 3:
            raise error(
                f"response {label!r} has {len(levels)} categories: an ordinal model needs at "
                "least 3",
                span,
                "for two categories use family='bernoulli'",
            )
        stored = ColumnSchema(label, "categorical", levels, levels[0])
    return level_codes(series, stored.levels), stored


def _categories(
    series: pd.Series, label: str, family: str, span: Span | None, error: ErrorAt
) -> tuple[object, ...]:
    if isinstance(series.dtype, pd.CategoricalDtype):
        if not series.cat.ordered:
            raise error(
                f"response {label!r} is an unordered categorical: the {family} family needs "
                "its categories in order",
                span,
                f"make it ordered: df[{label!r}] = pd.Categorical(df[{label!r}], "
                "categories=[...], ordered=True)",
            )
        return tuple(v.item() if isinstance(v, np.generic) else v for v in series.cat.categories)
    numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(numbers) | (np.mod(numbers, 1) != 0)
    if bad.any():
        raise error(
            f"response {label!r} must be ordered categories for the {family} family: whole "
            f"numbers or an ordered categorical (e.g. {series[bad].iloc[0]!r})",
            span,
            "ratings 1 to 5 as integers, or pd.Categorical(..., ordered=True)",
        )
    return tuple(range(int(numbers.min()), int(numbers.max()) + 1))
