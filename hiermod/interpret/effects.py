"""Conditional effects (brms's ``conditional_effects``) and marginal means (emmeans's ``emmeans``).

Both predict on a reference grid (:mod:`hiermod.interpret.grid`) with the model's own ``predict``
and summarise each grid point's draws, so a row of the table *is* ``Model.predict`` at that row:

- :func:`conditional_effects`: the prediction along one variable, a line per value of a second
  one (``"Days:Subject"``), a panel per value of ``by``; every other variable at its typical value.
  ``kind="response"`` gives predictive intervals (a new observation), ``"linear"`` the link scale.
- :func:`marginal_means`: per value of a variable (and of ``by``), the average prediction over
  the reference grid of every other categorical predictor's levels, with equal weights, numeric
  predictors at their means. It averages on the scale of ``kind``: ``"mean"`` (the default) averages
  expected responses, as marginaleffects' ``avg_predictions``; ``"linear"`` averages the linear
  predictor, emmeans's default for a GLM before it back-transforms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from hiermod.arguments import check_choice, check_count, check_type
from hiermod.errors import OptionError
from hiermod.inference.intervals import DEFAULT_PROB, check_prob, summarise
from hiermod.interpret.grid import (
    GroupsChoice,
    ModelView,
    given_at,
    names_of,
    reference_grid,
    shown_values,
    with_groups,
)
from hiermod.interpret.results import ConditionalEffects, MarginalMeans

__all__ = ["conditional_effects", "marginal_means", "summary_draws"]

KINDS = ("mean", "response", "linear")


def summary_draws(values: np.ndarray, like: xr.DataArray) -> xr.DataArray:
    """``values`` (chain, draw, row) as a DataArray with ``like``'s chain and draw coordinates."""
    return xr.DataArray(
        values,
        dims=("chain", "draw", "row"),
        coords={"chain": like["chain"].values, "draw": like["draw"].values},
        name=like.name,
    )


def _check_kind(kind: str, allowed: Sequence[str] = KINDS) -> str:
    check_choice("kind", kind, allowed)
    return kind


def _training_points(view: ModelView, columns: Sequence[str], response: str) -> pd.DataFrame:
    """The training rows' ``columns`` and response (a proportion for the binomial: the grid's
    ``trials`` is 1)."""
    points = view.training[list(dict.fromkeys(columns))].reset_index(drop=True)
    y = view.response if view.trials is None else view.response / view.trials
    return points.assign(**{response: y})


def conditional_effects(
    view: ModelView,
    effect: str | Sequence[str],
    *,
    by: str | Sequence[str] | None = None,
    at: Mapping[str, object] | None = None,
    groups: GroupsChoice = None,
    kind: str = "mean",
    prob: float = DEFAULT_PROB,
    resolution: int = 100,
) -> ConditionalEffects:
    """The prediction over a grid of ``effect`` (one variable, or two: ``"Days:Subject"``) and ``by``.

    The first variable spans the x axis (``resolution`` points over a numeric one's range, or every
    level), the second gets a line per value (levels, or mean − sd, mean, mean + sd), each ``by``
    a panel per value; ``at`` sets the values of any of them or holds another variable
    (``at={"x2": 1.0}``). ``groups`` as in :mod:`hiermod.interpret.grid`: by default the group
    effects of a grouping named here (``"Days:Subject"``), no others.
    """
    at = given_at(at)
    effects, facets = names_of(effect, "effect"), names_of(by)
    if not 1 <= len(effects) <= 2:
        raise OptionError(f"effect names one or two variables ('x' or 'x:z'), not {len(effects)}")
    check_count("resolution", resolution, 2)
    _check_kind(kind)
    check_prob(prob)
    for name in (*effects, *facets):
        view.check(name)
    shown = {name: shown_values(view, name, "spread", at) for name in facets}
    if len(effects) == 2:
        shown[effects[1]] = shown_values(view, effects[1], "spread", at)
    shown[effects[0]] = shown_values(view, effects[0], "range", at, resolution)
    grid = reference_grid(view, shown, at)
    rows, choice, new_levels = with_groups(view, grid, groups)
    predicted = view.predict(rows, _check_kind(kind), choice, new_levels)
    ordered = [*effects, *facets]
    frame = grid[[*ordered, *(c for c in grid.columns if c not in ordered)]]
    table = pd.concat([frame, summarise(predicted.values, check_prob(prob))], axis=1)
    response = str(predicted.name)
    return ConditionalEffects(
        frame=table,
        draws=summary_draws(predicted.values, predicted),
        prob=prob,
        kind=kind,
        response=response,
        by=facets,
        effects=effects,
        numeric_x=view.is_numeric(effects[0]),
        points=_training_points(view, ordered, response),
    )


def marginal_means(
    view: ModelView,
    variable: str,
    *,
    by: str | Sequence[str] | None = None,
    at: Mapping[str, object] | None = None,
    groups: GroupsChoice = None,
    kind: str = "mean",
    prob: float = DEFAULT_PROB,
) -> MarginalMeans:
    """Per value of ``variable`` (and of each ``by``), the prediction averaged with equal weights
    over the levels of every other categorical predictor, numeric ones at their means.

    E.g. ``y ~ floor * f`` with ``f`` in (a, b, c): the marginal mean of floor 1 is the average
    of the predictions at (1, a), (1, b), (1, c). A numeric variable is evaluated at its distinct
    values (at most 12) or at ``at[variable]``.
    """
    at = given_at(at)
    check_type("variable", variable, str, "a variable's name such as 'x'")
    _check_kind(kind)
    check_prob(prob)
    focal = (view.check(variable), *(view.check(n) for n in names_of(by)))
    shown = {name: shown_values(view, name, "distinct", at) for name in focal}
    averaged = [
        n for n in view.predictors if n not in focal and n not in at and not view.is_numeric(n)
    ]
    for name in averaged:
        shown[name] = list(view.levels(name))
    grid = reference_grid(view, shown, at)
    rows, choice, new_levels = with_groups(view, grid, groups)
    predicted = view.predict(rows, _check_kind(kind), choice, new_levels)
    keys = pd.MultiIndex.from_frame(grid[list(focal)])
    cells = keys.unique()  # in order of first appearance
    cell_of_row = cells.get_indexer(keys)
    means = np.stack(
        [predicted.values[..., cell_of_row == k].mean(axis=-1) for k in range(len(cells))], axis=-1
    )
    table = pd.concat([cells.to_frame(index=False), summarise(means, check_prob(prob))], axis=1)
    return MarginalMeans(
        frame=table,
        draws=summary_draws(means, predicted),
        prob=prob,
        kind=kind,
        response=str(predicted.name),
        by=focal[1:],
        variable=variable,
    )
