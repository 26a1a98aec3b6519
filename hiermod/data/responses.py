"""Response terms read from the data beside the response: lme4's ``cbind(successes, failures)``
(the trials of a binomial) and brms's ``rate(exposure)`` (an offset of the log mean)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from hiermod.data.columns import data_names
from hiermod.data.families import Family
from hiermod.errors import DataError
from hiermod.formula.syntax import ArithNode, Call
from hiermod.formula.terms import ModelFormula

__all__ = ["cbind_trials", "log_rate"]


def log_rate(
    formula: ModelFormula, additions: dict[str, np.ndarray], error: Callable[..., DataError]
) -> np.ndarray | None:
    """``rate(exposure)``: the mean is ``exposure * mu``, i.e. ``log(exposure)`` is an offset of
    mu's linear predictor (brms's rate; the log link is checked by the plan). New data must
    have the column too: a prediction at exposure 1 would be silent."""
    response = formula.response
    rate = next((a for a in response.additions if a.func == "rate"), None) if response else None
    if rate is None:
        return None
    if "rate" not in additions:
        raise error(f"the data need the column of {rate} to predict", rate.span)
    return np.log(additions["rate"])


def cbind_trials(
    counts: Call,
    family: Family,
    frame: Mapping[str, pd.Series],
    numeric: Callable[[ArithNode], np.ndarray],
    error: Callable[..., DataError],
    given_trials: Call | None = None,
) -> np.ndarray | None:
    """lme4's ``cbind(s, f)``: the trials ``s + f`` (``None`` when new data lack the columns).

    Both must be whole numbers >= 0: ``cbind(incidence, size - incidence)`` with a size below
    the incidence is an error under ``size - incidence``. ``given_trials`` is the response's
    ``trials(n)`` term, if any: an error, as the sum already gives the trials (a multinomial's
    ``cbind(a, b, c) | trials(n)`` is read by :func:`~hiermod.data.categories.columns_response`).
    """
    if family.categorical:
        raise error(
            f"{counts} is a column per category (counts), but the categorical family takes "
            "one column of category labels",
            counts.span,
            "pass family='multinomial' for counts, family='dirichlet' for shares",
        )
    if not family.needs_trials:
        raise error(
            f"{counts} is a binomial response (lme4's successes and failures), but the "
            f"family is {family.name}",
            counts.span,
            "pass family='binomial'; hiermod's default family is gaussian",
        )
    if len(counts.args) != 2:
        raise error(
            f"{counts}: lme4's cbind() response is two columns, successes and failures",
            counts.span,
            "for counts of several categories, a column each, use family='multinomial'",
        )
    if given_trials is not None:
        raise error(
            "cbind(successes, failures) already gives the trials (their sum)",
            given_trials.span,
            f"drop trials(), or write {counts.args[0]} | trials(n) ~ … without cbind",
        )
    if not all(n.name in frame for n in data_names(counts)):
        return None
    values = [numeric(arg) for arg in counts.args]
    for arg, column, role in zip(counts.args, values, ("successes", "failures"), strict=True):
        bad = (column < 0) | (np.mod(column, 1) != 0)
        if bad.any():
            raise error(
                f"cbind()'s {role} {arg} must be whole numbers >= 0, but {int(bad.sum())} "
                f"rows are not (e.g. {column[bad][0]:g})",
                arg.span or counts.span,
            )
    trials: np.ndarray = (values[0] + values[1]).astype(np.int64)
    return trials
