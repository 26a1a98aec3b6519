"""Comparisons and slopes: average differences and derivatives of predictions, Bambi's semantics.

Both start from rows — the training rows by default, or ``data`` — and predict each row twice (or
once per value compared) with the model's own ``predict``, changing only the variable of interest:

- :func:`comparisons`: a categorical variable's every level against its reference level (or, given
  ``{"f": ["b", "a", "c"]}``, each later value against the first); a numeric one ``x → x + 1`` from
  each row's own value (``{"x": 5}``: ``x → x + 5``; ``{"x": [0, 9]}``: every row at 0 against 9).
  The row-wise differences (``comparison="ratio"``: ratios) are averaged over the rows, per value of
  ``by``: the comparison of ``b`` against ``a`` is ``mean_i f(row_i with f=b) − f(row_i with f=a)``
  for each posterior draw.
- :func:`slopes`: the derivative in a numeric variable by a forward finite difference,
  ``(f(x + eps) − f(x)) / eps`` per row, averaged as above. ``eps`` defaults to 1e-4 × the
  variable's training range (marginaleffects's rule: small against the variable's scale, far above
  rounding). ``slope="eyex"`` multiplies by ``x / f(x)`` (an elasticity), ``"eydx"`` divides by
  ``f(x)``, ``"dyex"`` multiplies by ``x``.

``at`` changes the rows first: a value sets a column in every row (``at={"x2": 1.0}``), a list
repeats the rows once per value (a counterfactual grid: ``at={"u": [-1, 0, 1]}, by="u"``). The rows
hold every grouping factor, so by default the predictions include every group effect, as Bambi's
and marginaleffects's; ``groups=False`` leaves them out. ``kind`` is ``"mean"`` or ``"linear"``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from hiermod.arguments import check_choice, check_positive, check_type
from hiermod.errors import ArgumentError, DataError, OptionError
from hiermod.inference.intervals import DEFAULT_PROB, check_prob, summarise
from hiermod.interpret.effects import summary_draws
from hiermod.interpret.grid import GroupsChoice, ModelView, given_at, listed, names_of, with_groups
from hiermod.interpret.plots import label
from hiermod.interpret.results import Comparisons, Slopes

__all__ = ["COMPARISONS", "SLOPES", "comparisons", "slopes"]

COMPARISONS: dict[str, tuple[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    "difference": ("-", np.subtract),
    "ratio": ("/", np.divide),
}
SLOPES = ("dydx", "eyex", "eydx", "dyex")
_KINDS = ("mean", "linear")


def _rows(view: ModelView, data: pd.DataFrame | None, at: Mapping[str, object]) -> pd.DataFrame:
    """The rows to average over, with ``at`` applied (a list repeats the rows once per value)."""
    if data is not None:
        check_type(
            "data", data, pd.DataFrame, "a pandas DataFrame of rows to average over, or None"
        )
    rows = (view.training if data is None else data).reset_index(drop=True)
    for name, value in at.items():
        view.check(name)
        rows = pd.concat([rows.assign(**{name: v}) for v in listed(value)], ignore_index=True)
    return rows


def _predict_variants(
    view: ModelView, variants: list[pd.DataFrame], kind: str, groups: GroupsChoice
) -> tuple[np.ndarray, xr.DataArray]:
    """Predictions of every variant of the rows in one call: (chain, draw, variant, row), and the
    DataArray they come from (its name and draw coordinates)."""
    check_choice("kind", kind, _KINDS)
    stacked, choice, new_levels = with_groups(view, pd.concat(variants, ignore_index=True), groups)
    predicted = view.predict(stacked, kind, choice, new_levels)
    if predicted.sizes["obs"] != len(stacked):
        raise DataError(
            "some rows have missing values in a variable of the model",
            hint="drop them first: data.dropna(subset=[...])",
        )
    shape = (*predicted.shape[:2], len(variants), len(variants[0]))
    return predicted.values.reshape(shape), predicted


def _averaged(
    values: list[np.ndarray], rows: pd.DataFrame, by: tuple[str, ...]
) -> tuple[pd.DataFrame, np.ndarray]:
    """Each array of ``values`` (chain, draw, row) averaged over the rows of each ``by`` cell: the
    cells' values and the averages (chain, draw, array × cell), cells fastest."""
    if not by:
        return pd.DataFrame(index=range(1)), np.stack([v.mean(axis=-1) for v in values], axis=-1)
    keys = pd.MultiIndex.from_frame(rows[list(by)])
    cells = keys.unique()
    cell_of_row = cells.get_indexer(keys)
    averages = [v[..., cell_of_row == k].mean(axis=-1) for v in values for k in range(len(cells))]
    return cells.to_frame(index=False), np.stack(averages, axis=-1)


def _table(
    term: str, labels: list[str], cells: pd.DataFrame, averages: np.ndarray, prob: float
) -> pd.DataFrame:
    """``term``, ``contrast`` (one label per compared pair), the ``by`` cells, the summaries."""
    repeated = pd.concat([cells] * len(labels), ignore_index=True)
    head = pd.DataFrame(
        {"term": term, "contrast": np.repeat(labels, len(cells))}, index=repeated.index
    )
    summary = summarise(averages, check_prob(prob))
    return pd.concat([head, repeated, summary], axis=1)


def _compared_values(view: ModelView, name: str, given: object) -> list[object]:
    """The values compared, the reference first: a categorical's reference, then its other levels."""
    if given is not None:
        values = listed(given)
        return values if len(values) > 1 else [view.typical(name), *values]
    reference = view.typical(name)
    return [reference, *(v for v in view.levels(name) if v != reference)]


def comparisons(
    view: ModelView,
    contrast: str | Mapping[str, object],
    *,
    by: str | Sequence[str] | None = None,
    at: Mapping[str, object] | None = None,
    data: pd.DataFrame | None = None,
    groups: GroupsChoice = None,
    kind: str = "mean",
    comparison: str = "difference",
    prob: float = DEFAULT_PROB,
) -> Comparisons:
    """Average differences (or ratios) of predictions between values of one variable; see the
    module docstring. ``contrast`` is a name (``"floor"``) or one name with its values
    (``{"floor": [0, 1]}``, ``{"Days": 2}``: a step of 2)."""
    check_choice("comparison", comparison, tuple(COMPARISONS))
    check_choice("kind", kind, _KINDS)
    check_prob(prob)
    if isinstance(contrast, str):
        name, given = contrast, None
    elif isinstance(contrast, Mapping) and len(contrast) == 1:
        ((name, given),) = contrast.items()
    elif isinstance(contrast, Mapping):
        raise OptionError(f"contrast names one variable: 'x' or {{'x': values}}, not {contrast!r}")
    else:
        raise ArgumentError(
            "contrast is a variable's name ('x') or one name with its values ({'x': [0, 1]}), "
            f"not {type(contrast).__name__}"
        )
    check_type("contrast", name, str, "a variable's name")
    view.check(name)
    facets = tuple(view.check(n) for n in names_of(by))
    rows = _rows(view, data, given_at(at))
    symbol, function = COMPARISONS[comparison]
    if view.is_numeric(name) and (given is None or isinstance(given, int | float)):
        step = 1.0 if given is None else float(given)
        variants = [rows, rows.assign(**{name: rows[name].to_numpy(dtype=float) + step})]
        labels = [f"+{label(step)}"]
    else:
        values = _compared_values(view, name, given)
        variants = [rows.assign(**{name: pd.Series([v] * len(rows))}) for v in values]
        labels = [f"{label(v)} {symbol} {label(values[0])}" for v in values[1:]]
    predicted, like = _predict_variants(view, variants, kind, groups)
    compared = [function(predicted[:, :, k], predicted[:, :, 0]) for k in range(1, len(variants))]
    cells, averages = _averaged(compared, rows, facets)
    return Comparisons(
        frame=_table(name, labels, cells, averages, prob),
        draws=summary_draws(averages, like),
        prob=prob,
        kind=kind,
        response=str(like.name),
        by=facets,
        term=name,
        comparison=comparison,
        numeric_by=bool(facets) and view.is_numeric(facets[0]),
    )


def slopes(
    view: ModelView,
    variable: str,
    *,
    by: str | Sequence[str] | None = None,
    at: Mapping[str, object] | None = None,
    data: pd.DataFrame | None = None,
    groups: GroupsChoice = None,
    kind: str = "mean",
    eps: float | None = None,
    slope: str = "dydx",
    prob: float = DEFAULT_PROB,
) -> Slopes:
    """Average derivatives of the prediction in the numeric ``variable``; see the module docstring.

    E.g. ``Reaction ~ Days + (Days | Subject)``: ``slopes(view, "Days")`` is the average of
    ``b[Days] + r_Subject[Days]`` over the rows, ``by="Subject"`` each subject's own slope.
    """
    check_choice("slope", slope, SLOPES)
    check_choice("kind", kind, _KINDS)
    check_prob(prob)
    check_type("variable", variable, str, "a numeric variable's name such as 'x'")
    if eps is not None:
        eps = check_positive("eps", eps)
    if not view.is_numeric(view.check(variable)):
        raise DataError(
            f"{variable!r} is categorical: it has no derivative",
            hint=f"compare its levels with m.comparisons(fit, {variable!r})",
        )
    facets = tuple(view.check(n) for n in names_of(by))
    if eps is None:
        values = view.training[variable].to_numpy(dtype=float)
        eps = 1e-4 * float(np.ptp(values)) or 1e-4
    rows = _rows(view, data, given_at(at))
    x = rows[variable].to_numpy(dtype=float)
    variants = [rows.assign(**{variable: x}), rows.assign(**{variable: x + eps})]
    predicted, like = _predict_variants(view, variants, kind, groups)
    at_x, moved = predicted[:, :, 0], predicted[:, :, 1]
    derivative = (moved - at_x) / eps
    scaled = {
        "dydx": derivative,
        "eyex": derivative * x / at_x,
        "eydx": derivative / at_x,
        "dyex": derivative * x,
    }[slope]
    cells, averages = _averaged([scaled], rows, facets)
    return Slopes(
        frame=_table(variable, [slope], cells, averages, prob).rename(
            columns={"contrast": "slope"}
        ),
        draws=summary_draws(averages, like),
        prob=prob,
        kind=kind,
        response=str(like.name),
        by=facets,
        term=variable,
        slope=slope,
        eps=eps,
        numeric_by=bool(facets) and view.is_numeric(facets[0]),
    )
