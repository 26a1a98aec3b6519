"""Ordinal responses: ordered categories coded 0 .. K-1 (the cumulative, sratio, cratio and acat
families of :mod:`hiermod.data.families.ordinal`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from hiermod.data.design import ColumnSchema
from hiermod.data.families import Family
from hiermod.data.runtime import level_codes
from hiermod.errors import DataError, Span
from hiermod.formula.checks import number_value
from hiermod.formula.syntax import Call, Name, String

__all__ = ["ordinal_response", "response_levels"]

ErrorAt = Callable[[str, Span | None, str | None], DataError]


def ordinal_response(
    series: pd.Series,
    label: str,
    family: str,
    stored: ColumnSchema | None,
    span: Span | None,
    error: ErrorAt,
    listed: tuple[object, ...] | None = None,
) -> tuple[np.ndarray, ColumnSchema]:
    """The codes of an ordinal response (-1 for a value not among the categories) and its schema.

    The categories are an ordered pandas categorical's (unused ones too), or the whole numbers from
    the smallest value to the largest (a middle value nobody chose is still a category, as in
    brms): ratings 1, 2, 4 have the categories (1, 2, 3, 4). New data use the training categories.
    ``listed``: the categories of ``ordered(y, levels = c(…))``, in that order; every value of the
    column must be one of them.
    """
    if stored is None:
        levels = _categories(series, label, family, span, error) if listed is None else listed
        if listed is not None:
            unlisted = series.notna().to_numpy() & (level_codes(series, listed) < 0)
            if unlisted.any():
                values = pd.unique(series[unlisted])
                raise error(
                    f"response {label!r} has {len(values)} values that ordered()'s levels do not "
                    f"list: {', '.join(map(repr, values[:5].tolist()))}",
                    span,
                    "levels=c(…) lists every category of the data once, in order",
                )
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


def response_levels(
    value: object, family: Family, error: ErrorAt
) -> tuple[Name, tuple[object, ...]] | None:
    """The column and the categories of R's ``ordered(rating, levels = c("low", "mid", "high"))``,
    in order (a whole number is an int: ``c(1, 2, 3)`` are the levels 1, 2, 3); ``None`` for any
    other response. Only an ordinal family takes it."""
    if not (isinstance(value, Call) and value.func == "ordered"):
        return None
    if not family.ordinal:
        raise error(
            f"ordered() is the response of an ordinal family, not of {family.name}",
            value.span,
            "family='cumulative' (or sratio, cratio, acat)",
        )
    keyword = value.keyword("levels")
    items = keyword.value.args if keyword is not None and isinstance(keyword.value, Call) else ()
    levels: list[object] = []
    for item in items:
        number = number_value(item)  # else a string: the formula stage checked the list
        if number is None:
            levels.append(item.value if isinstance(item, String) else str(item))
        else:
            levels.append(int(number) if float(number).is_integer() else float(number))
    column = value.args[0]
    assert isinstance(column, Name)  # the formula stage: ordered() takes a column
    return column, tuple(levels)
