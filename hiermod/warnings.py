"""hiermod's warning classes (tests turn them into errors unless a test expects one), and
:func:`user_stacklevel`, which every stage passes to ``warnings.warn``."""

from __future__ import annotations

import sys
from types import FrameType
from typing import cast

__all__ = [
    "DataWarning",
    "FitWarning",
    "FormulaWarning",
    "HiermodWarning",
    "IdentifiabilityWarning",
    "SamplingWarning",
    "user_stacklevel",
]


class HiermodWarning(UserWarning):
    """Base class of every warning hiermod issues."""


class FormulaWarning(HiermodWarning):
    """The formula means what R makes of it, which is likely not what was meant: ``(a - b):c``."""


class DataWarning(HiermodWarning):
    """Rows were dropped, a grouping factor has one level, …"""


class IdentifiabilityWarning(DataWarning):
    """The data cannot tell some coefficients apart: a constant column, columns that are exact
    combinations of others (``x2 = 2*x1``), more columns than rows — what R's ``lm`` reports as
    coefficients "not defined because of singularities"."""


class SamplingWarning(HiermodWarning):
    """Divergences, low effective sample size or high R-hat after a fit."""


class FitWarning(HiermodWarning):
    """A fit left out an optional part, e.g. a pointwise log-likelihood too large for memory."""


def user_stacklevel() -> int:
    """The ``stacklevel`` of the first caller outside hiermod, so a warning shows the user's line."""
    level, frame = 1, cast("FrameType | None", sys._getframe(1))
    while frame is not None and frame.f_globals.get("__name__", "").startswith("hiermod"):
        level, frame = level + 1, frame.f_back
    return level
