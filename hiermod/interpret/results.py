"""The results of the interpretations: a table (``.frame``), the draws behind it, and ``.plot()``.

Each result holds ``frame``, a pandas DataFrame with one row per estimate (the variables that
define it, then ``estimate`` and the ``lower_<p>`` / ``upper_<p>`` interval, see
:mod:`hiermod.inference.intervals`), and ``draws``, an ``xarray.DataArray`` with dims
``(chain, draw, row)`` whose ``row`` ``i`` is summarised in ``frame.iloc[i]``. A notebook shows the
table; ``.plot()`` returns a matplotlib Figure (see :mod:`hiermod.interpret.plots`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
import xarray as xr

from hiermod.errors import OptionError
from hiermod.inference.intervals import interval_label, interval_names
from hiermod.interpret.plots import draw

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["Comparisons", "ConditionalEffects", "Interpretation", "MarginalMeans", "Slopes"]

_SCALES = {"mean": "expected value", "response": "new observation", "linear": "link scale"}


@dataclass(frozen=True, eq=False, repr=False)
class Interpretation:
    """A table of posterior summaries and its draws (see the module docstring).

    ``kind`` is the scale predicted (``"mean"``, ``"response"``, ``"linear"``), ``response`` the
    response's name, ``by`` the variables that split the table into panels or groups.
    """

    frame: pd.DataFrame
    draws: xr.DataArray
    prob: float
    kind: str
    response: str
    by: tuple[str, ...]

    @property
    def interval(self) -> tuple[str, str]:
        """The names of the interval's columns: ``("lower_95", "upper_95")``."""
        return interval_names(self.prob)

    def _ylabel(self, what: str = "") -> str:
        """E.g. ``"Reaction\n(expected value, 95% interval)"``; ``what`` goes before the name."""
        return f"{what}{self.response}\n({_SCALES[self.kind]}, {interval_label(self.prob)})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}\n{self.frame.to_string(max_rows=40)}"

    def _repr_html_(self) -> str:
        return self.frame.to_html(max_rows=40)


@dataclass(frozen=True, eq=False, repr=False)
class ConditionalEffects(Interpretation):
    """The prediction along ``effects[0]``, a line per value of ``effects[1]`` if given, a panel per
    value of ``by``. ``points`` are the training rows (variables and response) for ``plot``."""

    effects: tuple[str, ...] = ()
    numeric_x: bool = True
    points: pd.DataFrame | None = None

    def plot(self, points: bool = False, ax: Axes | None = None) -> Figure:
        """Lines with bands (points with bars for a categorical x); ``points=True`` adds the data."""
        if points and self.kind == "linear":
            raise OptionError(
                "the data are on the response scale: points need kind='mean' or 'response'"
            )
        return draw(
            self.frame,
            x=self.effects[0],
            colour=self.effects[1] if len(self.effects) > 1 else None,
            facets=self.by,
            interval=self.interval,
            ylabel=self._ylabel(),
            numeric_x=self.numeric_x,
            points=self.points if points else None,
            response=self.response,
            ax=ax,
        )


@dataclass(frozen=True, eq=False, repr=False)
class MarginalMeans(Interpretation):
    """The average prediction over the reference grid per value of ``variable`` (and ``by``);
    a few values each, so even a numeric variable's are drawn as points with bars."""

    variable: str = ""

    def plot(self, ax: Axes | None = None) -> Figure:
        """A point and bar per value of the variable, dodged by the first ``by``, panels by the rest."""
        return draw(
            self.frame,
            x=self.variable,
            colour=self.by[0] if self.by else None,
            facets=self.by[1:],
            interval=self.interval,
            ylabel=self._ylabel("marginal mean of "),
            numeric_x=False,
            ax=ax,
        )


@dataclass(frozen=True, eq=False, repr=False)
class Comparisons(Interpretation):
    """Average differences (or ratios) of predictions between values of ``term``, per ``by``."""

    term: str = ""
    comparison: str = "difference"
    numeric_by: bool = False

    def plot(self, ax: Axes | None = None) -> Figure:
        """Each contrast against the first ``by`` (lines if it is numeric), dashed line at no effect."""
        several = self.frame["contrast"].nunique() > 1
        return draw(
            self.frame,
            x=self.by[0] if self.by else "contrast",
            colour="contrast" if self.by and several else None,
            facets=self.by[1:],
            interval=self.interval,
            ylabel=self._ylabel(f"{self.comparison} in "),
            numeric_x=bool(self.by) and self.numeric_by,
            reference=1.0 if self.comparison == "ratio" else 0.0,
            ax=ax,
        )


@dataclass(frozen=True, eq=False, repr=False)
class Slopes(Interpretation):
    """Average derivatives of the prediction in ``term`` (``slope`` says which), per ``by``."""

    term: str = ""
    slope: str = "dydx"
    eps: float = 0.0
    numeric_by: bool = False

    def plot(self, ax: Axes | None = None) -> Figure:
        """The slope against the first ``by`` (a line if it is numeric), dashed line at zero."""
        return draw(
            self.frame,
            x=self.by[0] if self.by else "term",
            facets=self.by[1:],
            interval=self.interval,
            ylabel=self._ylabel(f"slope ({self.slope}) of "),
            numeric_x=bool(self.by) and self.numeric_by,
            reference=0.0,
            ax=ax,
        )
