"""Drawing an interpretation table: lines with bands over a numeric x, points with bars otherwise.

One function, :func:`draw`, draws every table of :mod:`hiermod.interpret` (conditional effects,
marginal means, comparisons, slopes) from its DataFrame: the x variable, an optional variable whose
values get a line (or a dodged point) of their own colour, and facet variables with a panel per
combination of their values. Each line's data are the table's ``estimate`` column and each band's
(or error bar's) ends its ``lower_<p>`` / ``upper_<p>`` columns, so a figure holds exactly the
numbers of the table.

Figures are made with :class:`matplotlib.figure.Figure`, not ``pyplot``: nothing is left open in
pyplot's state, and a notebook shows a returned figure once. In a script, ``fig.savefig(path)``; or
pass ``ax=`` (e.g. from ``plt.subplots()``) to draw into an axes of your own. ArviZ's plots are for
draws of model variables; these tables are summaries over a grid of new rows, so they are drawn with
matplotlib directly.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hiermod.errors import OptionError

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn, not with hm.Model
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["draw", "label"]

BAND_ALPHA = 0.25  # one band; with more lines each is lighter, so overlaps stay readable
MAX_COLUMNS = 3


def label(value: object) -> str:
    """A value as a legend or title shows it: 4 significant digits for a float (``4.478``)."""
    if isinstance(value, float | np.floating):
        return f"{value:.4g}"
    return str(value)


def _groups(
    frame: pd.DataFrame, columns: Sequence[str]
) -> Iterator[tuple[tuple[Any, ...], pd.DataFrame]]:
    """The rows of each combination of ``columns``' values, in order of first appearance."""
    if not columns:
        yield (), frame
        return
    for key, rows in frame.groupby(list(columns), sort=False, dropna=False):
        yield (key if isinstance(key, tuple) else (key,)), rows


def _axes(n_panels: int, ax: Axes | None) -> tuple[Figure, list[Axes]]:
    from matplotlib.figure import Figure

    if ax is not None:
        if n_panels > 1:
            raise OptionError(f"this plot has {n_panels} panels; ax= takes one (leave it out)")
        figure = ax.get_figure()
        assert isinstance(figure, Figure)
        return figure, [ax]
    columns = min(MAX_COLUMNS, n_panels)
    rows = math.ceil(n_panels / columns)
    figure = Figure(figsize=(4.6 * columns + 1.4, 3.4 * rows), layout="constrained")
    grid = figure.subplots(rows, columns, sharey=True, squeeze=False)
    axes = list(grid.ravel())
    for unused in axes[n_panels:]:
        unused.set_visible(False)
    return figure, axes[:n_panels]


def _points_in(points: pd.DataFrame, facets: Sequence[str], key: tuple[Any, ...]) -> pd.DataFrame:
    """The data points of a panel: those with its facet values, where the data has such values (a
    numeric facet at mean ± sd matches no row, so its panels show every point, as brms does)."""
    for facet, value in zip(facets, key, strict=True):
        if facet in points.columns:
            match = points[facet] == value
            if match.any():
                points = points[match]
    return points


def _colour(i: int, n: int) -> Any:
    """The colour of line ``i`` of ``n``: matplotlib's cycle for up to 10 (C0, C1, …), beyond that
    evenly spaced along viridis, so 18 subjects get 18 distinct colours."""
    if n <= 10:
        return f"C{i}"
    from matplotlib import colormaps

    return colormaps["viridis"](i / (n - 1))


def draw(
    frame: pd.DataFrame,
    *,
    x: str,
    interval: tuple[str, str],
    ylabel: str,
    numeric_x: bool,
    colour: str | None = None,
    facets: Sequence[str] = (),
    points: pd.DataFrame | None = None,
    response: str | None = None,
    reference: float | None = None,
    ax: Axes | None = None,
) -> Figure:
    """The figure of ``frame``: ``estimate`` against ``x`` with the ``interval`` columns' band.

    ``numeric_x``: lines and bands (else a point and error bar per category, dodged by colour);
    ``colour``: a line per value; ``facets``: a panel per combination; ``points``: data rows with
    ``x`` and the ``response`` column, drawn behind; ``reference``: a dashed horizontal line (0 for
    a difference). E.g. conditional effects of ``Days:Subject``: x ``Days``, colour ``Subject``.
    """
    lower, upper = interval
    panels = list(_groups(frame, facets))
    figure, axes = _axes(len(panels), ax)
    categories = list(dict.fromkeys(frame[x].tolist())) if not numeric_x else []
    handles: dict[str, Any] = {}
    for axis, (key, part) in zip(axes, panels, strict=True):
        series = list(_groups(part, [colour] if colour else []))
        if points is not None and response is not None:
            shown = _points_in(points, facets, key)
            px = shown[x].to_numpy()
            if not numeric_x:
                px = np.array([categories.index(v) if v in categories else np.nan for v in px])
            axis.scatter(px, shown[response], s=9, color="0.55", alpha=0.6, zorder=1)
        width = min(0.6, 0.8 / max(len(series), 1))
        alpha = BAND_ALPHA if len(series) <= 3 else max(0.05, 0.75 / len(series))
        for i, (level, rows) in enumerate(series):
            name = f"{colour} = {label(level[0])}" if colour else None
            color = _colour(i, len(series))
            estimate = rows["estimate"].to_numpy()
            low, high = rows[lower].to_numpy(), rows[upper].to_numpy()
            if numeric_x:
                xs = rows[x].to_numpy(dtype=float)
                (line,) = axis.plot(xs, estimate, color=color, label=name, zorder=3)
                axis.fill_between(xs, low, high, color=color, alpha=alpha, lw=0, zorder=2)
            else:
                offset = (i - (len(series) - 1) / 2) * width if colour else 0.0
                xs = np.array([categories.index(v) for v in rows[x]]) + offset
                bars = np.vstack([estimate - low, high - estimate])
                line = axis.errorbar(
                    xs, estimate, yerr=bars, fmt="o", color=color, capsize=3, label=name, zorder=3
                )[0]
            if name is not None:
                handles.setdefault(name, line)
        if reference is not None:
            axis.axhline(reference, color="0.4", lw=0.8, ls="--", zorder=0)
        if not numeric_x:  # upright labels collide beyond about 8 categories of one panel
            turn = 90 if len(categories) > 8 else 0
            axis.set_xticks(range(len(categories)), [label(c) for c in categories], rotation=turn)
        axis.set_xlabel(x)
        if facets:
            axis.set_title(", ".join(f"{f} = {label(v)}" for f, v in zip(facets, key, strict=True)))
    for axis in axes:
        spec = axis.get_subplotspec()
        if spec is None or spec.is_first_col():
            axis.set_ylabel(ylabel)
    if handles:
        if ax is not None:
            ax.legend(list(handles.values()), list(handles), fontsize="small")
        else:
            columns = math.ceil(len(handles) / 20)
            figure.legend(
                list(handles.values()),
                list(handles),
                loc="outside right upper",
                fontsize="small",
                ncols=columns,
            )
    return figure
