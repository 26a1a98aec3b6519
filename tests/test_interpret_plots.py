"""The figures of conditional effects, marginal means, comparisons and slopes carry their tables.

Headless (Agg): each test reads the artists back — line data, band polygons, error bars, scatter
offsets, panel titles — and compares them with the result's ``frame``.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr
from fit_support import prior_fit, sleepstudy_like
from matplotlib.collections import LineCollection, PathCollection, PolyCollection
from matplotlib.figure import Figure

import hiermod as hm

DATA = sleepstudy_like(72, seed=3)


@pytest.fixture(scope="module")
def sleep() -> tuple[hm.Model, xr.DataTree]:
    model = hm.Model("Reaction ~ Days + f + (Days | Subject)", DATA)
    return model, prior_fit(model, draws=8, seed=4)


def _bands(axis) -> list[np.ndarray]:
    return [c.get_paths()[0].vertices for c in axis.collections if isinstance(c, PolyCollection)]


def test_lines_and_bands_are_the_table(sleep) -> None:
    model, fit = sleep
    effects = model.conditional_effects(fit, "Days:f", resolution=5)
    figure = effects.plot()
    assert isinstance(figure, Figure)
    (axis,) = figure.axes
    assert len(axis.lines) == 3
    bands = _bands(axis)
    assert len(bands) == 3
    for line, band, (level, rows) in zip(
        axis.lines, bands, effects.frame.groupby("f", sort=False), strict=True
    ):
        np.testing.assert_allclose(line.get_xdata(), rows["Days"])
        np.testing.assert_allclose(line.get_ydata(), rows["estimate"])
        assert line.get_label() == f"f = {level}"
        ys = band[:, 1]
        assert ys.min() == pytest.approx(rows["lower_95"].min())
        assert ys.max() == pytest.approx(rows["upper_95"].max())
        for x, low, high in zip(rows["Days"], rows["lower_95"], rows["upper_95"], strict=True):
            at_x = ys[np.isclose(band[:, 0], x)]
            assert at_x.min() == pytest.approx(low)
            assert at_x.max() == pytest.approx(high)
    assert "95% interval" in axis.get_ylabel()
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["f = a", "f = b", "f = c"]


def test_points_are_the_training_rows(sleep) -> None:
    model, fit = sleep
    figure = model.conditional_effects(fit, "Days", resolution=4).plot(points=True)
    (axis,) = figure.axes
    (scatter,) = [c for c in axis.collections if isinstance(c, PathCollection)]
    np.testing.assert_allclose(scatter.get_offsets(), DATA[["Days", "Reaction"]].to_numpy())
    with pytest.raises(ValueError, match="response scale"):
        model.conditional_effects(fit, "Days", kind="linear").plot(points=True)


def test_by_makes_one_panel_per_value(sleep) -> None:
    model, fit = sleep
    effects = model.conditional_effects(fit, "Days", by="f", resolution=3)
    figure = effects.plot()
    visible = [a for a in figure.axes if a.get_visible()]
    assert [a.get_title() for a in visible] == ["f = a", "f = b", "f = c"]
    for axis, (_, rows) in zip(visible, effects.frame.groupby("f", sort=False), strict=True):
        np.testing.assert_allclose(axis.lines[0].get_ydata(), rows["estimate"])


def _error_bars(axis) -> list[np.ndarray]:
    return [c.get_segments() for c in axis.collections if isinstance(c, LineCollection)]


def test_categorical_x_draws_points_with_error_bars(sleep) -> None:
    model, fit = sleep
    means = model.marginal_means(fit, "f", prob=0.9)
    (axis,) = means.plot().axes
    np.testing.assert_allclose(axis.lines[0].get_ydata(), means.frame["estimate"])
    (segments,) = _error_bars(axis)
    np.testing.assert_allclose([s[:, 1].min() for s in segments], means.frame["lower_90"])
    np.testing.assert_allclose([s[:, 1].max() for s in segments], means.frame["upper_90"])
    assert [t.get_text() for t in axis.get_xticklabels()] == ["a", "b", "c"]
    assert "90% interval" in axis.get_ylabel()


def test_comparisons_and_slopes_plots(sleep) -> None:
    model, fit = sleep
    table = model.comparisons(fit, "f")
    (axis,) = table.plot().axes
    np.testing.assert_allclose(axis.lines[0].get_ydata(), table.frame["estimate"])
    assert [t.get_text() for t in axis.get_xticklabels()] == ["b - a", "c - a"]
    reference = [ln for ln in axis.lines if ln.get_linestyle() == "--"]
    assert [tuple(ln.get_ydata()) for ln in reference] == [(0.0, 0.0)]
    by_days = model.comparisons(fit, "f", by="Days")
    (axis,) = by_days.plot().axes
    assert len(_bands(axis)) == 2  # a numeric by: a line and band per contrast
    slopes = model.slopes(fit, "Days", by="Subject")
    (axis,) = slopes.plot().axes
    np.testing.assert_allclose(axis.lines[0].get_ydata(), slopes.frame["estimate"])
    assert len(axis.get_xticklabels()) == 8


def test_plot_into_given_axes(sleep) -> None:
    model, fit = sleep
    figure, axis = plt.subplots()
    try:
        returned = model.conditional_effects(fit, "Days", resolution=3).plot(ax=axis)
        assert returned is figure
        assert len(axis.lines) == 1
        with pytest.raises(ValueError, match="3 panels"):
            model.conditional_effects(fit, "Days", by="f", resolution=3).plot(ax=axis)
    finally:
        plt.close(figure)


def test_results_show_their_table(sleep) -> None:
    model, fit = sleep
    effects = model.marginal_means(fit, "f")
    assert "estimate" in repr(effects)
    assert "<table" in effects._repr_html_()


def test_marginal_means_of_numeric_values_are_points(sleep) -> None:
    model, fit = sleep
    means = model.marginal_means(fit, "Days", by="f", at={"Days": [0, 8]})
    (axis,) = means.plot().axes
    assert [t.get_text() for t in axis.get_xticklabels()] == ["0", "8"]
    assert len(_bands(axis)) == 0
    containers = axis.containers  # one ErrorbarContainer per level of f
    assert [c.get_label() for c in containers] == ["f = a", "f = b", "f = c"]
    for container, (_, rows) in zip(containers, means.frame.groupby("f", sort=False), strict=True):
        np.testing.assert_allclose(container.lines[0].get_ydata(), rows["estimate"])
        offsets = container.lines[0].get_xdata() - np.arange(2)  # dodged around 0 and 1
        assert np.allclose(offsets, offsets[0])
