"""brms's ``trunc()``: a response known to lie in [lb, ub], its density renormalised to that range.

``y | trunc(lb = 0) ~ x``: each row's likelihood is f(y) / P(Y >= 0); with both bounds
f(y) / (F(ub) - F(lb)), and for counts (Stan's ``T[lb, ub]``) F(ub) - F(lb - 1). The source writes
``pm.Truncated(name, pm.Normal.dist(...), lower=0.0, upper=...)``, which computes the same. A bound
is a number (a literal in the source) or a column (a data container, one bound per row).
"""

from __future__ import annotations

import numpy as np

from hiermod.data.columns import argument
from hiermod.data.design import Design
from hiermod.data.families import Family
from hiermod.errors import DataError, FamilyError
from hiermod.formula.syntax import Number, UnaryMinus
from hiermod.plan.lower_blocks import PlanBuilder

__all__ = ["Bound", "new_row_bounds", "truncation"]

type Bound = float | str | None  # a number, a data container's name, or no bound on that side


def truncation(
    run: PlanBuilder, design: Design, family: Family, y_name: str, y: np.ndarray
) -> tuple[Bound, Bound] | None:
    """The (lower, upper) bounds of ``trunc()`` after checking the family and the response;
    ``None`` without ``trunc()``."""
    response = design.schema.formula.response
    call = next((a for a in response.additions if a.func == "trunc"), None) if response else None
    if call is None:
        return None
    text, span = design.schema.formula.text, call.span
    # PyMC truncates a distribution through its CDF: hiermod-made distributions, point masses
    # (hurdles, zero inflation: the families with a mean of their own) and categories have none.
    if family.custom or family.mean is not None or family.has_categories or family.per_category:
        raise FamilyError(
            f"trunc() is not supported with the {family.name} family yet", text, span,
            hint="truncation works with the families PyMC has a CDF for: gaussian, student_t, "
            "lognormal, gamma, weibull, exponential, beta, poisson, negativebinomial, …",
        )  # fmt: skip
    bounds: list[Bound] = []
    for i, side in enumerate(("lb", "ub")):
        node, values = argument(call, i, side), design.truncation[i]
        if node is None or values is None:
            bounds.append(None)
            continue
        outside = (y < values) if side == "lb" else (y > values)
        if outside.any():
            row = int(np.flatnonzero(outside)[0])
            word = "below lb" if side == "lb" else "above ub"
            raise DataError(
                f"trunc(): the response must lie within the bounds, but {int(outside.sum())} "
                f"rows are {word} (e.g. {y[row]:g} against {values[row]:g})",
                text,
                span,
            )
        if isinstance(node, (Number, UnaryMinus)):  # a number: a literal in the source
            bounds.append(float(values[0]))
        else:
            what = "lower" if side == "lb" else "upper"
            bounds.append(
                run.add_data(f"{y_name}_{side}", values, ("obs",), "truncation", f"{what} truncation bounds")
            )  # fmt: skip
    low, high = design.truncation
    if low is not None and high is not None and not (low < high).all():
        raise DataError("trunc(): every row's lb must be below its ub", text, span)
    return bounds[0], bounds[1]


def new_row_bounds(
    truncated: tuple[Bound, Bound] | None, design: Design
) -> tuple[float | np.ndarray | None, float | np.ndarray | None] | None:
    """The bounds of ``trunc()`` for new rows (``design`` their encoding): numbers as they are,
    columns read from the new rows; a prediction's draws stay within each row's own bounds, so new
    data must have the bound columns too."""
    if truncated is None:
        return None
    out: list[float | np.ndarray | None] = []
    for bound, given in zip(truncated, design.truncation, strict=True):
        if isinstance(bound, str) and given is None:
            raise DataError("the new data need the trunc() bound columns of the formula to predict")
        out.append(given if isinstance(bound, str) else bound)
    return out[0], out[1]
