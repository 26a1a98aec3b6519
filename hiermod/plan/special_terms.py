"""The terms of a formula that are not columns of ``X``: ``mo()``, ``gp()`` and ``s()``'s penalised
part, lowered together for one distributional parameter (each by its own module:
:mod:`hiermod.plan.monotonic`, :mod:`hiermod.plan.gp`, :mod:`hiermod.plan.smooth`)."""

from __future__ import annotations

from hiermod.data.design import FormulaDesign
from hiermod.plan.gp import lower_gps
from hiermod.plan.ir import GPIR, MonotonicIR, SmoothIR
from hiermod.plan.lower_blocks import PlanBuilder
from hiermod.plan.monotonic import lower_monotonic
from hiermod.plan.smooth import lower_smooth

__all__ = ["lower_special_terms"]


def lower_special_terms(
    run: PlanBuilder, fd: FormulaDesign, prefix: str, slope_scale: float, sd_scale: float
) -> tuple[tuple[GPIR, ...], tuple[MonotonicIR, ...], tuple[SmoothIR, ...]]:
    """The formula's GPs, monotonic effects and smooths, in ``PredictorIR``'s field order.

    ``slope_scale`` is the data scale of its slopes (a ``mo()`` coefficient's prior), ``sd_scale``
    that of its group-level sds (a GP's ``sdgp``, a smooth's ``sds``).
    """
    monotonic = lower_monotonic(run, fd, prefix, slope_scale)
    gps = lower_gps(run, fd, prefix, sd_scale)
    smooths = tuple(lower_smooth(run, s, prefix, fd.dpar, sd_scale) for s in fd.smooths)
    return gps, monotonic, smooths
