"""The response of the categorical family: unordered categories, the first the reference.

Its categories are a pandas categorical's (in their order, unused ones dropped, as for a
categorical predictor) or the values found, sorted; the first is the reference, as brms's default
``refcat``. Each other category k has a linear predictor named ``mu<k>`` (:func:`category_dpars`),
the log-odds of k against the reference. New data use the training categories.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from hiermod.data.columns import factorize
from hiermod.data.design import ColumnSchema, FormulaDesign
from hiermod.data.families import Family
from hiermod.data.runtime import level_codes
from hiermod.errors import DataError, Span

__all__ = ["categorical_response", "category_dpars", "category_formulas"]

ErrorAt = Callable[[str, Span | None, str | None], DataError]


def category_dpars(levels: tuple[object, ...]) -> tuple[str, ...]:
    """The names of the linear predictors of the categories after the first, as brms's: ``"mu"``
    and the category without the characters a name cannot have.

    ``("a", "b", "c")`` gives ``("mub", "muc")``; ``(1, 2, 3)`` gives ``("mu2", "mu3")``;
    ``("no", "yes, often")`` gives ``("muyesoften",)``. When that makes two names the same or
    leaves nothing (``("a-b", "ab")``, ``("+", "-")``), every category is named by its position
    instead: ``mu2``, ``mu3``, …
    """
    names = tuple("mu" + re.sub(r"[^0-9A-Za-z]+", "", str(level)) for level in levels)
    if len(set(names)) < len(names) or "mu" in names:
        names = tuple(f"mu{k}" for k in range(1, len(levels) + 1))
    return names[1:]


def categorical_response(
    series: pd.Series,
    label: str,
    family: str,
    stored: ColumnSchema | None,
    span: Span | None,
    error: ErrorAt,
) -> tuple[np.ndarray, ColumnSchema]:
    """The codes of a categorical response (-1 for a value not among the categories) and its
    schema: ``["b", "a", "b"]`` has the categories ("a", "b") and the codes (1, 0, 1)."""
    if stored is None:
        _, levels = factorize(series)
        if len(levels) < 2:
            raise error(
                f"response {label!r} has {len(levels)} category: the {family} family needs at "
                "least 2",
                span,
                None,
            )
        stored = ColumnSchema(label, "categorical", levels, levels[0])
    return level_codes(series, stored.levels), stored


def category_formulas(
    formulas: tuple[FormulaDesign, ...], response: ColumnSchema | None, family: Family
) -> tuple[FormulaDesign, ...]:
    """The formulas of a categorical model: the response's (``mu``), then one per category after
    the reference — its own ``mu<k> ~ …`` when written, else a copy of ``mu``'s (the same columns,
    its own parameters) — then the others (a name that is no category is reported by the plan).

    ``y ~ x`` with ``muc ~ 1`` and categories (a, b, c): mu (x), mub (x), muc (1). The formulas
    of any other family are returned as they are.
    """
    if not family.categorical or response is None:
        return formulas
    main, written = formulas[0], {f.dpar: f for f in formulas[1:]}
    names = category_dpars(response.levels)
    per_category = tuple(written.get(name) or replace(main, dpar=name) for name in names)
    return (main, *per_category, *(f for f in formulas[1:] if f.dpar not in names))
