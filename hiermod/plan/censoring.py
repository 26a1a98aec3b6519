"""brms's ``cens()``: how each censored row enters the likelihood.

A row's code says what its response is (brms's coding, :func:`hiermod.data.runtime.censoring_codes`):
0 the value itself (its density), 1 right-censored (a lower bound: P(y > value)), -1 left-censored
(an upper bound: P(y < value)), 2 interval-censored (P(value < y < y2), with ``y2`` the upper bound of
``cens(c, y2)``). E.g. times (5, 8, 3) with codes (0, 1, 2) and y2 (., ., 4): the density at 5,
P(y > 8) and P(3 < y < 4).

For counts the same terms as brms's Stan code (``*_lccdf``, ``*_lcdf``): right-censored
P(y > value) = 1 - F(value), left-censored P(y <= value) = F(value), interval-censored
P(value < y <= y2) = F(y2) - F(value); e.g. Poisson(2) counts censored on the right at 3 add
log(1 - F(3)) = log 0.143.

Two forms: ``pm.Censored`` with per-row bounds when every row is observed, right- or left-censored,
the response is continuous and there are no weights (PyMC's own, the readable source; for a count
it would be P(y >= value)); otherwise a ``pm.CustomDist`` whose
log-likelihood picks each row's term by its code (:func:`hiermod.output.likelihoods.censored_loglik`)
and multiplies it by the row's weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hiermod.data.design import Design
from hiermod.data.families import Family
from hiermod.errors import DataError, FamilyError
from hiermod.plan.lower_blocks import PlanBuilder

__all__ = ["Censoring", "censoring"]


@dataclass(frozen=True, slots=True)
class Censoring:
    """The data containers of one form: ``bounds`` (lower, upper) for ``pm.Censored``, or ``coded``
    (codes, upper bounds y2) for the coded likelihood."""

    bounds: tuple[str, str] | None = None
    coded: tuple[str, str] | None = None


def censoring(
    run: PlanBuilder, design: Design, family: Family, y_name: str, y: np.ndarray
) -> Censoring:
    """The containers of ``cens()`` (see the module docstring), after checking the family and the
    intervals; an empty :class:`Censoring` without ``cens()``."""
    truncated = any(b is not None for b in design.truncation)  # trunc(): coded terms renormalised
    # trunc() with weights() and no cens(): the coded likelihood with every row observed (code 0)
    # is the weighted, renormalised density, w * log(f(y) / (F(ub) - F(lb))); pm.Truncated takes
    # no weights.
    weighted_truncation = design.cens is None and truncated and design.weights is not None
    if design.cens is None and not weighted_truncation:
        return Censoring()
    text, span = design.schema.formula.text, design.schema.formula.main.span
    # Families with a point mass (a hurdle's zeros: those with their own mean) or a hiermod-made
    # distribution have no CDF PyMC could censor.
    unsupported = family.custom or family.mean is not None or family.has_categories
    if design.cens is not None and (unsupported or family.per_category):  # trunc(): its own check
        raise FamilyError(
            f"cens() is not supported with the {family.name} family yet", text, span,
            hint="censored responses work with the families PyMC has a CDF for: gaussian, "
            "student_t, lognormal, gamma, weibull, exponential, beta, poisson, negativebinomial, "
            "binomial, geometric, …",
        )  # fmt: skip
    codes = np.zeros(len(y), dtype=np.int64) if design.cens is None else design.cens
    interval = codes == 2
    # Counts take the coded form: brms's right-censored count is P(y > t) = 1 - F(t) (Stan's
    # lccdf), pm.Censored's P(y >= t) = 1 - F(t - 1). E.g. Poisson(2) right-censored at 3:
    # 1 - F(3) = 0.143, not 1 - F(2) = 0.323.
    if not interval.any() and design.weights is None and not family.discrete and not truncated:
        lower = np.where(codes == -1, y, -np.inf)
        upper = np.where(codes == 1, y, np.inf)
        return Censoring(
            bounds=(
                run.add_data(f"{y_name}_lower", lower, ("obs",), "censoring", "left-censoring bounds"),
                run.add_data(f"{y_name}_upper", upper, ("obs",), "censoring", "right-censoring bounds"),
            )
        )  # fmt: skip
    y2 = (
        y.copy()
        if design.cens is None
        else _interval_bounds(design, y, interval, whole=family.discrete)
    )
    return Censoring(
        coded=(
            run.add_data(f"{y_name}_cens", codes, ("obs",), "censoring", "cens() codes"),
            run.add_data(f"{y_name}_y2", y2, ("obs",), "censoring", "upper bounds of intervals"),
        )
    )


def _interval_bounds(
    design: Design, y: np.ndarray, interval: np.ndarray, *, whole: bool
) -> np.ndarray:
    """``y2`` of ``cens(c, y2)``, checked: every interval-censored row needs one above its
    response (brms's ``y < y2``), a whole number for a count (``whole``). Rows that are not intervals do not read it (their y2 is set to
    their response: any finite value would do)."""
    cens = next(a for a in design.schema.formula.response.additions if a.func == "cens")  # type: ignore[union-attr]
    text = design.schema.formula.text
    if design.cens_upper is None:
        if interval.any():
            raise DataError(
                f"{int(interval.sum())} rows are interval-censored (code 2), but {cens} gives no "
                "upper bounds",
                text,
                cens.span,
                hint=f"write cens({cens.args[0]}, y2) with y2 the column of the intervals' upper "
                "bounds, as brms",
            )
        return y.copy()
    y2 = design.cens_upper
    bad = interval & ~(y2 > y)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"an interval-censored row needs y2 ({cens.args[1]}) above its response, but "
            f"{int(bad.sum())} rows have not (e.g. response {y[row]:g}, {cens.args[1]} "
            f"{y2[row]:g})",
            text,
            cens.span,
        )
    fraction = interval & (np.floor(y2) != y2) if whole else np.zeros_like(interval)
    if fraction.any():
        row = int(np.flatnonzero(fraction)[0])
        raise DataError(
            f"a count's interval bound y2 ({cens.args[1]}) must be a whole number, but "
            f"{int(fraction.sum())} rows have fractions (e.g. {y2[row]:g})",
            text,
            cens.span,
        )
    return np.where(interval, y2, y)
