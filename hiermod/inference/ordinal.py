"""Predictions of an ordinal model: category probabilities, the expected category, draws.

The response of an ordinal model is a ``pm.Categorical`` over the codes 0 .. K-1 of its ordered
categories (:mod:`hiermod.data.ordinal`). Its predictions are given on the categories' own scale:
a category's value is the category itself when the categories are numbers (ratings 1 … 4), else
its rank 1 … K — so ``kind="mean"`` is the expected rating, as brms's ``posterior_epred`` summed
over categories, and ``kind="response"`` draws ratings, not codes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytensor.tensor as pt

__all__ = ["category_values", "ordinal_output"]


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
