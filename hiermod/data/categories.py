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
from hiermod.formula.syntax import ArithNode, Call

__all__ = [
    "SIMPLEX_TOLERANCE",
    "categorical_response",
    "category_dpars",
    "category_formulas",
    "columns_response",
]

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
    if not family.per_category or response is None:
        return formulas
    main, written = formulas[0], {f.dpar: f for f in formulas[1:]}
    names = category_dpars(response.levels)
    per_category = tuple(written.get(name) or replace(main, dpar=name) for name in names)
    return (main, *per_category, *(f for f in formulas[1:] if f.dpar not in names))


# Rows of a Dirichlet response must add up to 1: brms's check, with room for shares written to
# 6 decimals (0.333333 + 0.333333 + 0.333334). A row further off is an error, never rescaled.
SIMPLEX_TOLERANCE = 1e-6


def columns_response(
    value: ArithNode,
    family: Family,
    stored: ColumnSchema | None,
    additions: dict[str, np.ndarray],
    numeric: Callable[[ArithNode], np.ndarray] | None,
    error: ErrorAt,
) -> tuple[np.ndarray | None, ColumnSchema]:
    """The (n, K) response of the multinomial and Dirichlet families, ``cbind(a, b, c)``: a column
    per category (the first the reference), and its schema (the categories are the columns).

    ``numeric`` evaluates a column (``None`` when the rows have no response, as in prediction).
    A multinomial's trials are the row sums, put in ``additions``; a ``trials(n)`` must equal
    them. ``cbind(a, b, c)`` with rows (2, 0, 1) and (0, 3, 3) has the trials (3, 6).
    """
    span = value.span
    if not (isinstance(value, Call) and value.func == "cbind" and len(value.args) >= 2):
        raise error(
            f"the {family.name} family's response is a column per category, not {value}",
            span,
            f"write it as cbind(a, b, c) ~ …, with the first column the reference; {family.hint}",
        )
    label = str(value)
    if stored is None:
        names = tuple(str(a) for a in value.args)
        if len(set(names)) < len(names):
            raise error(f"{label} names a column twice: each category is one column", span, None)
        stored = ColumnSchema(label, "numeric", names, names[0])
    if numeric is None:
        return None, stored
    y = np.column_stack([numeric(a) for a in value.args]).astype(np.float64)
    try:
        family.check_response(y, label)
    except DataError as problem:
        raise error(problem.message, span, problem.hint) from None
    totals = y.sum(axis=1)
    if family.response == "simplex":
        off = np.abs(totals - 1.0) > SIMPLEX_TOLERANCE
        what, hint = "add up to 1", "divide each row by its sum if the columns are amounts"
    else:
        given = additions.setdefault("trials", totals.astype(np.int64))
        off, what, hint = given != totals, "add up to trials()", "drop trials(): it is the row sums"
    if off.any():
        row = int(np.flatnonzero(off)[0])
        raise error(
            f"the columns of {label} must {what} in every row for the {family.name} family, but "
            f"{int(off.sum())} rows do not (e.g. a row whose columns sum to {totals[row]:g})",
            span,
            hint,
        )
    return y, stored
