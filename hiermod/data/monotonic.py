"""The data rule of brms's monotonic effect ``mo(x)``: which categories, and each row's code.

``mo(x)`` reads an ordered predictor with categories 0..D (brms's ``get_mo_values``):

* an **ordered** pandas Categorical: its categories in their order, every one of them whether
  observed or not (``pd.Categorical(["lo", "hi"], categories=["lo", "mid", "hi"], ordered=True)``
  has D = 2; its code of "hi" is 2);
* **integers** (any integer dtype, or floats that are all whole numbers): every integer from the
  training minimum to the maximum, each one a step even if unobserved: (2, 3, 5) gives the
  categories 2, 3, 4, 5 (D = 3; 2 is code 0, 5 is code 3). brms subtracts the minimum of the data
  at hand; hiermod keeps the training minimum, so new data are coded as the training data.

Anything else is an error that names the column and shows a value: an unordered categorical or
text (``'a'``), booleans, non-integers (``2.5``), a single category, or more than
:data:`MAX_STEPS` steps. The categories are stored in the schema under the term's text
(``Schema.columns["mo(x)"]``), so ``predict`` and the exported source code new rows with the
training categories; a category outside them is an error naming it
(:func:`~hiermod.data.runtime.monotonic_codes`, the one copy of the coding rule).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
import pandas as pd

from hiermod.data.design import ColumnSchema, Level, MonotonicDesign
from hiermod.data.levels import listing
from hiermod.data.runtime import level_codes, monotonic_codes
from hiermod.errors import DataError, Span, UnseenLevelError
from hiermod.formula.monotonic import split_monotonic
from hiermod.formula.syntax import Call, Name
from hiermod.formula.terms import Atom, Term

__all__ = ["MAX_STEPS", "monotonic_designs", "monotonic_levels"]

MAX_STEPS = 1000  # integers 0..1e6 are a numeric predictor, not 10^6 simplex weights


class _Rows(Protocol):  # hiermod.data.row_columns.Rows
    frame: dict[str, pd.Series]

    def error(self, message: str, span: Span | None, hint: str | None = None) -> DataError: ...

    def unseen(
        self,
        what: str,
        name: str,
        codes: np.ndarray,
        span: Span | None,
        hint: str | None = None,
        levels: tuple[Level, ...] = (),
    ) -> UnseenLevelError: ...


def monotonic_levels(series: pd.Series, term: str) -> tuple[Level, ...]:
    """The categories 0..D of ``mo(x)`` in the training data (see the module docstring).

    Raises ``ValueError`` with the reason when the column is not an ordered predictor.
    """
    name = series.name
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        if not dtype.ordered:
            cats = listing(dtype.categories.tolist())
            raise ValueError(
                f"{term} needs an ordered predictor, but {name!r} is an unordered categorical "
                f"(categories {cats})"
            )
        levels: tuple[Level, ...] = tuple(dtype.categories.tolist())
    elif pd.api.types.is_bool_dtype(dtype):
        raise ValueError(f"{term} needs an ordered predictor, but {name!r} is boolean (True/False)")
    elif pd.api.types.is_numeric_dtype(dtype):
        values = series.to_numpy(dtype=float)
        fractional = values != np.round(values)
        if fractional.any():
            raise ValueError(
                f"{term} needs integers or an ordered categorical, but {name!r} has the "
                f"non-integer {float(values[fractional][0])!r}"
            )
        lo, hi = int(values.min()), int(values.max())
        if hi - lo > MAX_STEPS:
            raise ValueError(
                f"{term} would have {hi - lo} steps ({name!r} runs from {lo} to {hi}); "
                f"at most {MAX_STEPS}"
            )
        levels = tuple(range(lo, hi + 1))
    else:
        first = series.iloc[0] if len(series) else None
        raise ValueError(
            f"{term} needs integers or an ordered categorical, but {name!r} holds values such "
            f"as {first!r}"
        )
    if len(levels) < 2:
        raise ValueError(
            f"{term} needs at least two categories, but {name!r} has one: {listing(levels)}"
        )
    return levels


_HINT = (
    "make it an ordered pandas Categorical, e.g. df[{0!r}] = pd.Categorical(df[{0!r}], "
    "categories=[...], ordered=True), or integer codes 0..D"
)


def monotonic_designs(
    terms: Sequence[Term],
    rows: _Rows,
    schemas: dict[str, ColumnSchema],
    fit: bool,
    numeric: Callable[[Atom], np.ndarray],
) -> tuple[tuple[Term, ...], tuple[MonotonicDesign, ...]]:
    """The population terms that are columns of ``X``, and each ``mo(x)`` term's design.

    When fitting, the categories are found (:func:`monotonic_levels`) and stored in ``schemas``
    under the call's text; else they are read from there and new values are checked against them.
    ``mo(x):z`` (brms: the monotonic effect times z) reads its other factors with ``numeric``;
    they must be numeric columns or calls (``mo(x):log(z)``), not categoricals.
    """
    plain, monotonic = split_monotonic(terms)
    out = []
    for term in monotonic:
        call = next(f for f in term.factors if isinstance(f, Call) and f.func == "mo")
        others = [f for f in term.factors if f is not call]
        covariate = None
        for other in others:
            value = numeric(_numeric_factor(other, term, schemas, rows))
            covariate = value if covariate is None else covariate * value
        node = call.args[0] if call.args else call.kwargs[0].value
        assert isinstance(node, Name)  # formula.monotonic.check_monotonic_call
        key, series = str(call), rows.frame[node.name]
        if fit and key not in schemas:
            try:
                levels = monotonic_levels(series, key)
            except ValueError as problem:
                raise rows.error(str(problem), node.span, _HINT.format(node.name)) from None
            schemas[key] = ColumnSchema(key, "categorical", levels, levels[0])
        levels = schemas[key].levels
        try:
            codes = monotonic_codes(series, levels)
        except ValueError:  # worded as every unseen level is: values, rows, closest level
            hint = f"{key} takes only the training data's categories: {listing(levels)}"
            found = level_codes(series, levels)
            raise rows.unseen(key, node.name, found, node.span, hint, levels) from None
        out.append(MonotonicDesign(str(term), node.name, levels, codes, covariate))
    return plain, tuple(out)


def _numeric_factor(atom: Atom, term: Term, schemas: dict[str, ColumnSchema], rows: _Rows) -> Atom:
    """``z`` of ``mo(x):z``, refused when it is not one numeric column (a categorical, a basis)."""
    categorical = (
        atom.func in ("C", "poly", "bs")
        if isinstance(atom, Call)
        else schemas[atom.name].kind == "categorical"
    )
    if categorical:
        raise rows.error(
            f"{term}: a monotonic effect times a categorical or a basis ({atom}) is not "
            "supported yet",
            atom.span,
            "mo(x):z takes a numeric z (brms multiplies the monotonic effect by it)",
        )
    return atom
