"""``Model.fixef``, ``ranef``, ``varcorr``, ``corr``, ``summary``: a mixin of ``hm.Model``.

:class:`SummaryMethods` is inherited by the model (``hiermod.model``); each method calls the function
of the same name in :mod:`hiermod.inference.summaries` (``summary``: :mod:`hiermod.inference.report`)
with the model's plan and data. The mixin never imports the model (a later module): what it reads of
it is :class:`SummarisedModel`. Every table takes ``prob=`` (default 0.95), the width of its
equal-tailed interval, named as in :mod:`hiermod.inference.intervals` (``lower_95``, ``upper_95``).
"""

from __future__ import annotations

from typing import Protocol

import pandas as pd
import xarray as xr

from hiermod.data.design import Design
from hiermod.inference import report, summaries
from hiermod.inference.intervals import DEFAULT_PROB
from hiermod.inference.report import Summary
from hiermod.plan.ir import ModelIR

__all__ = ["SummarisedModel", "SummaryMethods"]


class SummarisedModel(Protocol):
    """The parts of ``hm.Model`` the summaries read."""

    @property
    def ir(self) -> ModelIR: ...
    @property
    def design(self) -> Design: ...
    @property
    def streamed(self) -> bool: ...


class SummaryMethods:
    """The lme4-style summaries of ``hm.Model`` (see the module docstring)."""

    def fixef(
        self: SummarisedModel, idata: xr.DataTree, dpar: str = "mu", *, prob: float = DEFAULT_PROB
    ) -> pd.DataFrame:
        """Population-level effects indexed by coefficient label (``Intercept``, ``x``, ``f[b]``)."""
        return summaries.fixef(self.ir, idata, dpar, prob=prob)

    def ranef(
        self: SummarisedModel, idata: xr.DataTree, *, prob: float = DEFAULT_PROB
    ) -> dict[str, pd.DataFrame]:
        """Group-level effects: per grouping, a level × (stat, term) DataFrame."""
        return summaries.ranef(self.ir, self.design.schema, idata, prob=prob)

    def varcorr(
        self: SummarisedModel, idata: xr.DataTree, *, prob: float = DEFAULT_PROB
    ) -> pd.DataFrame:
        """Group-level sds indexed by (group, term), the residual sd, and correlations alongside."""
        return summaries.varcorr(self.ir, idata, prob=prob)

    def corr(
        self: SummarisedModel, idata: xr.DataTree, *, prob: float = DEFAULT_PROB
    ) -> pd.DataFrame:
        """Group-level correlations indexed by (group, term1, term2), with full summaries."""
        return summaries.correlations(self.ir, idata, prob=prob)

    def summary(
        self: SummarisedModel,
        idata: xr.DataTree,
        show: bool | None = None,
        *,
        prob: float = DEFAULT_PROB,
    ) -> Summary:
        """The lme4-style summary of a fit, shown once wherever it lands: a notebook shows its
        tables, a REPL its text, ``print(m.summary(fit))`` prints it; ``.fixef``, ``.varcorr``, …
        are its tables. ``show=`` is deprecated (a ``FutureWarning``; ``show=True`` still prints).

        Example:
            >>> print(m.summary(fit, prob=0.9))   # doctest: +SKIP
        """
        return report.summary(
            self.ir, self.design, idata, streamed=self.streamed, prob=prob, show=show
        )
