"""``conditional_effects``, ``marginal_means``, ``comparisons`` and ``slopes`` of a multivariate model.

Each is the univariate function of the same name (:mod:`hiermod.interpret.effects`,
:mod:`hiermod.interpret.comparisons`) on one response at a time: a
:class:`~hiermod.interpret.grid.ModelView` with the response's schema and training rows, whose
``predict`` is the multivariate model's own, cut to that response. So brms's
``conditional_effects(fit, "x")`` of ``mvbind(y1, y2) ~ x`` is ``m.conditional_effects(fit, "x")``:
``{"y1": …, "y2": …}``, one result per response whose formula reads ``x`` (``response="y1"``: that
one's alone).

The grid rows hold the columns of the one response's formula; the multivariate prediction encodes
every response's, so a column only the *other* responses read is set to its first training value:
it cannot change the predictions of this response (its mean, or its draws' marginal distribution).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import pandas as pd
import xarray as xr

from hiermod.data.sources import formula_columns
from hiermod.errors import OptionError
from hiermod.interpret.comparisons import comparisons, slopes
from hiermod.interpret.effects import conditional_effects, marginal_means
from hiermod.interpret.grid import ModelView

__all__ = ["ResponseEffects"]


class _Multivariate(Protocol):
    """The parts of ``MultivariateModel`` the views read."""

    models: dict[str, Any]
    data: pd.DataFrame

    @property
    def responses(self) -> tuple[str, ...]: ...
    def predict(self, idata: Any, data: pd.DataFrame | None = None, **options: Any) -> Any: ...


def _columns(model: Any, present: list[str]) -> set[str]:
    return set(formula_columns(model.formula, present))


def response_view(
    mv: _Multivariate, fit: xr.DataTree, response: str, random_seed: int | None
) -> ModelView:
    """The view of one response of ``mv``: its design, ``predict`` = the multivariate prediction's
    ``response`` slice (rows completed with the other responses' columns)."""
    model = mv.models[response]
    present = [str(c) for c in mv.data.columns]
    own = _columns(model, present)
    others = {c for r, m in mv.models.items() if r != response for c in _columns(m, present)}
    fill = {c: mv.data[c].iloc[0] for c in sorted(others - own)}

    def predict(
        rows: pd.DataFrame, kind: str, groups: bool | tuple[str, ...], new_levels: str
    ) -> xr.DataArray:
        complete = rows.assign(**{c: v for c, v in fill.items() if c not in rows.columns})
        values = mv.predict(
            fit,
            complete,
            kind=kind,
            new_levels=new_levels,
            random_seed=random_seed,
            groups=groups,
        )
        one: xr.DataArray = values.sel(response=response, drop=True).rename(response)
        return one

    design = model.design
    training = mv.data.iloc[design.rows].reset_index(drop=True)
    return ModelView(design.schema, training, design.y, design.trials, predict)


def _names(variable: Any) -> list[str]:
    """The variables a call names: ``"x"``, ``"x:z"``, ``["x", "z"]``, ``{"x": [0, 1]}``."""
    if isinstance(variable, str):
        return variable.split(":")
    if isinstance(variable, Mapping):
        return [str(k) for k in variable]
    return [str(v) for v in variable]


class ResponseEffects:
    """The interpretation methods of a multivariate model: a dict over the responses, or one
    response's result with ``response=``."""

    def _each(
        self,
        function: Callable[..., Any],
        fit: xr.DataTree,
        variable: Any,
        response: str | None,
        random_seed: int | None,
        options: dict[str, Any],
    ) -> Any:
        mv: _Multivariate = self  # type: ignore[assignment]
        if response is not None:
            if response not in mv.responses:
                raise OptionError(
                    f"response={response!r} is not a response of the model "
                    f"({', '.join(mv.responses)})"
                )
            return function(response_view(mv, fit, response, random_seed), variable, **options)
        present = [str(c) for c in mv.data.columns]
        names = set(_names(variable))
        reading = [r for r, m in mv.models.items() if names <= _columns(m, present)]
        if not reading:
            formulas = "; ".join(str(m.formula) for m in mv.models.values())
            raise OptionError(
                f"no response's formula reads {', '.join(sorted(names))} (the responses' "
                f"formulas: {formulas})"
            )
        return {
            r: function(response_view(mv, fit, r, random_seed), variable, **options)
            for r in reading
        }

    def conditional_effects(
        self,
        fit: xr.DataTree,
        effect: str | Sequence[str],
        *,
        response: str | None = None,
        random_seed: int | None = None,
        **options: Any,
    ) -> Any:
        """``Model.conditional_effects`` per response: ``{"y1": ConditionalEffects, …}`` for the
        responses whose formula reads ``effect``, or one with ``response="y1"``."""
        return self._each(conditional_effects, fit, effect, response, random_seed, options)

    def marginal_means(
        self,
        fit: xr.DataTree,
        variable: str,
        *,
        response: str | None = None,
        random_seed: int | None = None,
        **options: Any,
    ) -> Any:
        """``Model.marginal_means`` per response (see :meth:`conditional_effects`)."""
        return self._each(marginal_means, fit, variable, response, random_seed, options)

    def comparisons(
        self,
        fit: xr.DataTree,
        contrast: str | Mapping[str, object],
        *,
        response: str | None = None,
        random_seed: int | None = None,
        **options: Any,
    ) -> Any:
        """``Model.comparisons`` per response (see :meth:`conditional_effects`)."""
        return self._each(comparisons, fit, contrast, response, random_seed, options)

    def slopes(
        self,
        fit: xr.DataTree,
        variable: str,
        *,
        response: str | None = None,
        random_seed: int | None = None,
        **options: Any,
    ) -> Any:
        """``Model.slopes`` per response (see :meth:`conditional_effects`)."""
        return self._each(slopes, fit, variable, response, random_seed, options)
