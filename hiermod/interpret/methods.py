"""``Model.conditional_effects``, ``marginal_means``, ``comparisons``, ``slopes``: a mixin of hm.Model.

:class:`EffectsMethods` is inherited by the model (``hiermod.model``); each method binds the fit to
the model's own :meth:`~hiermod.Model.predict` in a :class:`~hiermod.interpret.grid.ModelView` and
calls the function of the same name in :mod:`hiermod.interpret.effects` or
:mod:`hiermod.interpret.comparisons`. The mixin never imports the model: what it needs of it is the
:class:`~hiermod.interpret.protocol.FittedModel` protocol (the design, the training data and
``predict``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import xarray as xr

from hiermod.errors import DataError
from hiermod.inference.intervals import DEFAULT_PROB
from hiermod.interpret.comparisons import comparisons, slopes
from hiermod.interpret.effects import conditional_effects, marginal_means
from hiermod.interpret.grid import GroupsChoice, ModelView
from hiermod.interpret.protocol import FittedModel
from hiermod.interpret.results import Comparisons, ConditionalEffects, MarginalMeans, Slopes

__all__ = ["EffectsMethods", "model_view"]

Names = str | Sequence[str] | None


def model_view(model: FittedModel, fit: xr.DataTree, random_seed: int | None = None) -> ModelView:
    """The model's schema and training rows, with ``predict`` bound to ``fit``."""
    if model.data is None:
        raise DataError(
            "interpreting a fit needs the training rows (typical values, ranges), and a streamed "
            "model keeps none",
            hint="rebuild the model on a sample of the rows: hm.Model.from_idata(fit, sample)",
        )
    design = model.design

    def predict(
        rows: pd.DataFrame, kind: str, groups: bool | tuple[str, ...], new_levels: str
    ) -> xr.DataArray:
        return model.predict(
            fit, rows, kind=kind, new_levels=new_levels, random_seed=random_seed, groups=groups
        )

    training = model.data.iloc[design.rows].reset_index(drop=True)
    assert design.y is not None
    return ModelView(design.schema, training, design.y, design.trials, predict)


class EffectsMethods:
    """The interpretation methods of ``hm.Model`` (see :mod:`hiermod.interpret`)."""

    def conditional_effects(
        self: FittedModel,
        fit: xr.DataTree,
        effect: str | Sequence[str],
        *,
        by: Names = None,
        at: Mapping[str, object] | None = None,
        groups: GroupsChoice = None,
        kind: str = "mean",
        prob: float = DEFAULT_PROB,
        resolution: int = 100,
        random_seed: int | None = None,
    ) -> ConditionalEffects:
        """The prediction over a grid of ``effect`` (``"Days"``, ``"Days:Subject"``), other variables
        at typical values; ``.frame`` is the table, ``.plot(points=True)`` the figure. See
        :func:`hiermod.interpret.effects.conditional_effects`.

        Example:
            >>> m.conditional_effects(fit, "Days").plot(points=True)   # doctest: +SKIP
        """
        return conditional_effects(
            model_view(self, fit, random_seed),
            effect,
            by=by,
            at=at,
            groups=groups,
            kind=kind,
            prob=prob,
            resolution=resolution,
        )

    def marginal_means(
        self: FittedModel,
        fit: xr.DataTree,
        variable: str,
        *,
        by: Names = None,
        at: Mapping[str, object] | None = None,
        groups: GroupsChoice = None,
        kind: str = "mean",
        prob: float = DEFAULT_PROB,
        random_seed: int | None = None,
    ) -> MarginalMeans:
        """Average predictions per value of ``variable`` over the reference grid (emmeans); see
        :func:`hiermod.interpret.effects.marginal_means`."""
        return marginal_means(
            model_view(self, fit, random_seed),
            variable,
            by=by,
            at=at,
            groups=groups,
            kind=kind,
            prob=prob,
        )

    def comparisons(
        self: FittedModel,
        fit: xr.DataTree,
        contrast: str | Mapping[str, object],
        *,
        by: Names = None,
        at: Mapping[str, object] | None = None,
        data: pd.DataFrame | None = None,
        groups: GroupsChoice = None,
        kind: str = "mean",
        comparison: str = "difference",
        prob: float = DEFAULT_PROB,
        random_seed: int | None = None,
    ) -> Comparisons:
        """Average differences of predictions between values of one variable (``"floor"``,
        ``{"Days": [0, 9]}``), per ``by``; see :func:`hiermod.interpret.comparisons.comparisons`."""
        return comparisons(
            model_view(self, fit, random_seed),
            contrast,
            by=by,
            at=at,
            data=data,
            groups=groups,
            kind=kind,
            comparison=comparison,
            prob=prob,
        )

    def slopes(
        self: FittedModel,
        fit: xr.DataTree,
        variable: str,
        *,
        by: Names = None,
        at: Mapping[str, object] | None = None,
        data: pd.DataFrame | None = None,
        groups: GroupsChoice = None,
        kind: str = "mean",
        eps: float | None = None,
        slope: str = "dydx",
        prob: float = DEFAULT_PROB,
        random_seed: int | None = None,
    ) -> Slopes:
        """Average derivatives of the prediction in ``variable`` (finite differences), per ``by``;
        see :func:`hiermod.interpret.comparisons.slopes`."""
        return slopes(
            model_view(self, fit, random_seed),
            variable,
            by=by,
            at=at,
            data=data,
            groups=groups,
            kind=kind,
            eps=eps,
            slope=slope,
            prob=prob,
        )
