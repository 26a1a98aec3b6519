"""hiermod's warning classes (tests turn them into errors unless a test expects one)."""

from __future__ import annotations

__all__ = ["DataWarning", "FitWarning", "HiermodWarning", "SamplingWarning"]


class HiermodWarning(UserWarning):
    """Base class of every warning hiermod issues."""


class DataWarning(HiermodWarning):
    """Rows were dropped, a grouping factor has one level, …"""


class SamplingWarning(HiermodWarning):
    """Divergences, low effective sample size or high R-hat after a fit."""


class FitWarning(HiermodWarning):
    """A fit left out an optional part, e.g. a pointwise log-likelihood too large for memory."""
