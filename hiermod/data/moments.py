"""Moments that merge: count, mean and spread of values seen in parts (chunks, partitions, workers).

:class:`RunningMoments` is Chan, Golub & LeVeque's parallel update of count/mean/M2 (stable for
x = 1e9 + N(0, 1), where Σx² − n·mean² keeps no digit of the variance); :class:`DesignMoments`
holds those behind the default priors of a streamed model (the response and every design column).
Both are frozen, picklable values whose ``merge`` is associative and commutative (up to rounding).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hiermod.data.design import DataMoments, Design
from hiermod.data.families import Family

__all__ = ["DesignMoments", "RunningMoments"]


def _unit(spread: np.ndarray | float) -> np.ndarray:
    """The power of two at or just below a spread, or the smallest float for a zero spread.

    Dividing by a power of two is exact, so deviations scaled by it keep every digit; for a spread
    of 3e300 the unit is 2**998 (about 2.7e300), for 0 it is 2**-1074 (then every deviation is 0).
    """
    exponent = np.frexp(np.asarray(spread, dtype=np.float64))[1]
    unit: np.ndarray = np.where(np.asarray(spread) > 0, np.ldexp(1.0, exponent - 1), 2.0**-1074)
    return unit


def _two_sum(a: Any, b: Any) -> tuple[Any, Any]:
    """``a + b`` rounded, and what the rounding lost (Knuth's TwoSum): exactly a + b = s + e."""
    s = a + b
    v = s - a
    return s, (a - (s - v)) + (b - v)


@dataclass(frozen=True, slots=True)
class RunningMoments:
    """Count, mean and spread of the values seen so far (per column of a matrix), mergeable.

    Never Σx² − n·mean²: for x = 1e9 + N(0, 1) those are two numbers near 1e18·n whose difference
    has no digit of the variance left. A chunk's moments come from its own mean (two passes over
    the chunk); chunks merge with Chan, Golub & LeVeque's pairwise update, which is associative
    (up to rounding), so chunks — or workers — may be merged in any order or grouping.

    Two details keep every digit: the mean is a rounded ``mean`` plus the ``mean_error`` it misses
    (for x ~1e9 the rounding, ~1e-7, would otherwise enter the difference of two chunks' means),
    and the sum of squared deviations M2 is ``unit**2 * q`` with ``unit`` a power of two near the
    spread, so that it neither overflows for sd ~1e300 nor underflows to 0 for sd ~1e-320.
    """

    n: int = 0
    mean: np.ndarray | float = 0.0
    mean_error: np.ndarray | float = 0.0
    unit: np.ndarray | float = 1.0
    q: np.ndarray | float = 0.0

    @staticmethod
    def of(values: np.ndarray) -> RunningMoments:
        """The moments of ``values`` (rows × columns, or one column)."""
        n = int(values.shape[0])
        if n == 0:
            return RunningMoments()
        scale = _unit(np.max(np.abs(values), axis=0, initial=0.0))
        mean = (values / scale).mean(axis=0) * scale  # no overflow of the sum for x ~1e308
        deviation = values - mean
        unit = _unit(np.max(np.abs(deviation), axis=0, initial=0.0))
        scaled = deviation / unit
        # The corrected two-pass sum: less (Σd)²/n takes out the rounding of the mean.
        q = (scaled * scaled).sum(axis=0) - scaled.sum(axis=0) ** 2 / n
        mean, error = _two_sum(mean, scaled.sum(axis=0) / n * unit)
        return RunningMoments(n, mean, error, unit, np.maximum(q, 0.0))

    def merge(self, other: RunningMoments) -> RunningMoments:
        """The moments of both sets of values (Chan et al.): with counts a, b and delta the
        difference of the means, mean = mean_a + delta·b/(a+b) and
        M2 = M2_a + M2_b + delta²·a·b/(a+b), all scaled by the larger unit."""
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        n = self.n + other.n
        delta = np.subtract(other.mean, self.mean) + np.subtract(other.mean_error, self.mean_error)
        unit = np.maximum(np.maximum(self.unit, other.unit), _unit(np.abs(delta)))
        step = delta / unit
        q = (
            self.q * np.divide(self.unit, unit) ** 2
            + other.q * np.divide(other.unit, unit) ** 2
            + step * step * (self.n * (other.n / n))
        )
        mean, error = _two_sum(self.mean, self.mean_error + delta * (other.n / n))
        return RunningMoments(n, mean, error, unit, q)

    def add(self, values: np.ndarray) -> RunningMoments:
        """These moments merged with those of more ``values``."""
        return self.merge(RunningMoments.of(values))

    def sd(self) -> Any:
        """R's ``sd`` (n − 1 in the denominator); 0 for fewer than two values."""
        return self.unit * np.sqrt(np.divide(self.q, max(self.n - 1, 1)))


@dataclass(frozen=True, slots=True)
class DesignMoments:
    """Moments behind the default priors: the response (on the data scale) and every design
    column, keyed ``("X", dpar, -1)`` or ``("Z", dpar, block position)``; ``DesignMoments()`` is
    the merge's identity."""

    response: RunningMoments = RunningMoments()
    columns: Mapping[tuple[str, str, int], RunningMoments] = field(default_factory=dict)

    @staticmethod
    def of(design: Design, family: Family) -> DesignMoments:
        """The moments of one encoded chunk."""
        assert design.y is not None
        columns: dict[tuple[str, str, int], RunningMoments] = {}
        for fd in design.formulas:
            columns[("X", fd.dpar, -1)] = RunningMoments.of(fd.X)
            for position, bd in enumerate(fd.blocks):
                columns[("Z", fd.dpar, position)] = RunningMoments.of(bd.Z)
        return DesignMoments(RunningMoments.of(family.on_data_scale(design.y)), columns)

    def merge(self, other: DesignMoments) -> DesignMoments:
        """The moments of both parts' rows."""
        empty = RunningMoments()
        columns = {
            key: self.columns.get(key, empty).merge(other.columns.get(key, empty))
            for key in {**self.columns, **other.columns}
        }
        return DesignMoments(self.response.merge(other.response), columns)

    def result(self) -> DataMoments:
        """Means and sds as the in-memory rule (``plan.scales.safe_sd``): a zero or non-finite
        sd counts as 1."""
        sd = float(self.response.sd())
        return DataMoments(
            (float(self.response.mean), sd if math.isfinite(sd) and sd > 0 else 1.0),
            {k: _usable(np.atleast_1d(s.sd())) for k, s in self.columns.items()},
        )


def _usable(sds: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(sds) & (sds > 0), sds, 1.0)
