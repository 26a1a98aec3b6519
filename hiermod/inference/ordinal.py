"""Predictions of a model of categories: category probabilities, the expected category, draws.

The response of an ordinal model is a ``pm.Categorical`` over the codes 0 .. K-1 of its ordered
categories (:mod:`hiermod.data.ordinal`). Its predictions are given on the categories' own scale:
a category's value is the category itself when the categories are numbers (ratings 1 … 4), else
its rank 1 … K — so ``kind="mean"`` is the expected rating, as brms's ``posterior_epred`` summed
over categories, and ``kind="response"`` draws ratings, not codes.

A categorical model (unordered categories) has no expected category: its ``kind="mean"`` is the
category probabilities, as brms's ``posterior_epred``, ``kind="linear"`` the log-odds of every
category against the reference (0 for the reference itself), both with a category dim, and
``kind="response"`` draws the categories themselves (their labels). The multinomial and Dirichlet
families predict a row per category too: the mean is trials · p (a multinomial) or p (a
Dirichlet), ``kind="probs"`` is p for both, ``kind="response"`` draws the columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytensor.tensor as pt
from pymc.distributions.moments.means import mean as expected_value

from hiermod.data.families import Family

__all__ = ["categorical_output", "category_dim", "category_values", "ordinal_output"]


def category_values(levels: tuple[object, ...]) -> np.ndarray:
    """Each category's value: itself when every category is a number, else its rank from 1."""
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in levels):
        return np.asarray(levels, dtype=float)
    return np.arange(1.0, len(levels) + 1.0)


def ordinal_output(response: Any, levels: tuple[object, ...], kind: str) -> Any:
    """The prediction of ``kind`` ("mean", "probs" or "response") from the categorical response
    variable: its probabilities (rows × categories) are the distribution's ``p``."""
    node = response.owner
    probabilities = node.op.dist_params(node)[0]
    values = pt.as_tensor(category_values(levels))
    if kind == "probs":
        return probabilities
    if kind == "mean":
        return (probabilities * values).sum(axis=-1)
    return values[response]


def categorical_output(response: Any, log_odds: list[Any], kind: str, categorical: bool) -> Any:
    """The prediction of ``kind`` of a model with a predictor per category (categorical,
    multinomial, Dirichlet) from its response variable and the log-odds of the categories after
    the reference (``log_odds``, one value per row each)."""
    stacked = pt.stack([pt.zeros_like(log_odds[0]), *log_odds], axis=-1)
    if kind == "linear":
        return stacked
    if kind == "probs" or (kind == "mean" and categorical):
        return pt.special.softmax(stacked, axis=-1)
    if kind == "mean":  # trials * p of a multinomial, p of a Dirichlet
        return expected_value(response)
    return response


def category_dim(family: Family, kind: str) -> bool:
    """Whether a prediction of ``kind`` has a category dim: probabilities always, and every
    prediction of a model with a predictor per category but a categorical's drawn categories."""
    if kind == "probs":
        return True
    return family.per_category and not (family.categorical and kind == "response")
