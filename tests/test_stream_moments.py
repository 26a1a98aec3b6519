"""Streaming moments (issue 13): stable (no Σx² − n·mean²) and mergeable in any order or grouping.

For x = 1e9 + N(0, 1) the old running sums lost every digit of the variance; the moments of chunks
merged with Chan's update agree with numpy on all the rows, and so do a streamed model's default
priors, ``scale()`` constants and log density with the in-memory model's.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

import hiermod as hm
from hiermod.data.families import get_family
from hiermod.data.stream import DesignMoments, RunningMoments, encoded_chunks, scan_schema
from hiermod.warnings import IdentifiabilityWarning
from tests.support import assert_same_model

RNG = np.random.default_rng(17)
UNEVEN = [1, 2, 250, 7, 0, 100, 3, 637]  # 1000 rows, with an empty chunk


def _split(values: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    return np.split(values, np.cumsum(sizes)[:-1])


def _fold(values: np.ndarray, sizes: list[int]) -> RunningMoments:
    moments = RunningMoments()
    for chunk in _split(values, sizes):
        moments = moments.add(chunk)
    return moments


def _exact(values: np.ndarray) -> tuple[float, float]:
    """Mean and sd of the float values in exact arithmetic, each rounded once (scaled by a power
    of two, exactly, so that nothing overflows or underflows on the way)."""
    unit = Fraction(2) ** math.frexp(float(np.max(np.abs(values))))[1]
    exact = [Fraction(float(v)) / unit for v in values]
    mean = sum(exact, Fraction(0)) / len(exact)
    variance = sum(((v - mean) ** 2 for v in exact), Fraction(0)) / (len(exact) - 1)
    return float(mean * unit), math.sqrt(variance) * float(unit)


@pytest.mark.parametrize(
    ("offset", "spread", "sizes", "numpy"),
    [
        (0.0, 1.0, UNEVEN, True),
        (1e9, 1.0, UNEVEN, True),  # the case: Σx² − n·mean² kept no digit here
        (1e9, 1.0, [3] * 333 + [1], True),  # many small chunks: the merge must not lose digits
        (1e8, 1.0, [1000], True),
        # numpy's own two passes are off by 1e-3 here (a mean of -1e12 rounded, uncorrected)
        (-1e12, 1e-3, UNEVEN, False),
        (0.0, 1e300, UNEVEN, False),  # squares overflow (numpy's sd is inf)
        (1e305, 1e300, UNEVEN, False),
        (0.0, 1e-300, UNEVEN, False),  # squares underflow to 0 (numpy's sd is 0)
        (0.0, 1e-320, UNEVEN, False),  # subnormal values
    ],
)
def test_moments_of_uneven_chunks_match_all_rows(
    offset: float, spread: float, sizes: list[int], numpy: bool
) -> None:
    values = offset + spread * RNG.normal(size=1000)
    moments = _fold(values, sizes)
    mean, sd = _exact(values)
    assert moments.n == 1000
    assert abs(float(moments.mean) - mean) <= 1e-12 * sd + abs(mean) * 2e-16
    assert float(moments.sd()) == pytest.approx(sd, rel=1e-12)
    if numpy:
        assert float(moments.mean) == pytest.approx(np.mean(values), rel=1e-15)
        assert float(moments.sd()) == pytest.approx(np.std(values, ddof=1), rel=1e-9)


@pytest.mark.parametrize("offset", [0.0, 1e9, 1e300])
def test_merging_in_any_order_or_grouping_gives_the_same_moments(offset: float) -> None:
    values = offset + RNG.normal(size=(60, 3)) * np.array([1.0, 1e-6, 1e6]) * max(1.0, offset / 1e9)
    parts = [RunningMoments.of(c) for c in _split(values, [5, 17, 1, 9, 28])]
    whole = RunningMoments.of(values)
    results = []
    for order in itertools.permutations(range(len(parts))):
        left = parts[order[0]]
        for i in order[1:]:
            left = left.merge(parts[i])
        results.append(left)
    # Other groupings: a tree ((a b) (c (d e))) and right to left.
    a, b, c, d, e = parts
    results.append(a.merge(b).merge(c.merge(d.merge(e))))
    results.append(a.merge(b.merge(c.merge(d.merge(e)))))
    for merged in results:
        assert merged.n == whole.n
        np.testing.assert_allclose(merged.mean, whole.mean, rtol=1e-14)
        np.testing.assert_allclose(merged.sd(), whole.sd(), rtol=1e-12)


@pytest.mark.parametrize(
    ("values", "sd"),
    [
        (np.empty(0), 0.0),
        (np.array([3.0]), 0.0),  # R's sd of one value is NA; the moments say 0 (no spread seen)
        (np.full(10, 1e9), 0.0),
        (np.array([1.0, 2.0, 3.0]), 1.0),
    ],
)
def test_small_and_constant_inputs(values: np.ndarray, sd: float) -> None:
    moments = RunningMoments.of(values)
    assert float(moments.sd()) == sd
    empty = RunningMoments()
    assert empty.merge(moments) == moments
    assert moments.merge(empty) == moments


def test_columns_of_a_matrix_and_no_columns() -> None:
    x = RNG.normal(size=(50, 3)) * [1.0, 1e200, 0.0] + [0.0, 0.0, 7.0]
    moments = _fold(x, [10, 40])
    np.testing.assert_allclose(
        moments.sd(),
        [np.std(x[:, 0], ddof=1), 1e200 * np.std(x[:, 1] / 1e200, ddof=1), 0.0],
        rtol=1e-12,
    )
    assert RunningMoments.of(np.empty((5, 0))).sd().shape == (0,)


# ---------------------------------------------------------------------------------------------------
# End to end: a streamed model on data with a large offset equals the in-memory model.

FORMULA = "y ~ x + scale(z) + (1 + x | g)"
SIZES = [1, 250, 7, 100, 242]


@pytest.fixture(scope="module")
def offset_data() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = sum(SIZES)
    return pd.DataFrame(
        {
            "y": 1e9 + rng.normal(size=n),
            "x": 1e9 + rng.normal(size=n),
            "z": 1e8 + rng.normal(size=n),  # the scale(x) case: sd 1.145 instead of 0.998
            "g": rng.integers(0, 6, n),
        }
    )


def _in_memory(data: pd.DataFrame) -> hm.Model:
    """The in-memory model. x = 1e9 + N(0, 1) is the intercept to 1e-9 of its length, which R's
    lm (tol 1e-7) reports as aliased, and so does hiermod; a streamed model is not checked."""
    with pytest.warns(IdentifiabilityWarning, match=r"x ≈ 1e\+09\*Intercept \(to 1e-09\)"):
        return hm.Model(FORMULA, data, centered=False)


def _source(data: pd.DataFrame):  # type: ignore[no-untyped-def]
    bounds = np.cumsum([0, *SIZES])
    return lambda: (data.iloc[a:b] for a, b in itertools.pairwise(bounds))


def test_streamed_default_priors_equal_the_in_memory_ones(offset_data: pd.DataFrame) -> None:
    streamed = hm.stream_model(FORMULA, _source(offset_data))
    whole = _in_memory(offset_data)
    assert [(p.name, p.prior) for p in streamed.ir.priors] == [
        (p.name, p.prior) for p in whole.ir.priors
    ]
    state = whole.design.schema.transforms["scale(z)"]
    for key in ("mean", "sd"):
        assert streamed.design.schema.transforms["scale(z)"].get(key) == pytest.approx(
            state.get(key), rel=1e-12
        )
    assert state.get("sd") == pytest.approx(np.std(offset_data.z, ddof=1), rel=1e-12)
    assert_same_model(whole.pymc, streamed.pymc, n_points=2, rtol=1e-9)


def test_streamed_moments_equal_the_rows_moments(offset_data: pd.DataFrame) -> None:
    """The unrounded moments behind the priors (the priors themselves show 4 digits)."""
    family = get_family("gaussian")
    formula = hm.parse(FORMULA)
    schema = scan_schema(formula, _source(offset_data), family, chunksize=1, na_action="drop")
    moments = DesignMoments()
    for design in encoded_chunks(schema, _source(offset_data), chunksize=1):
        moments = moments.merge(DesignMoments.of(design, family))
    whole = _in_memory(offset_data).design
    result = moments.result()
    assert result.response[0] == pytest.approx(np.mean(whole.y), rel=1e-15)
    assert result.response[1] == pytest.approx(np.std(whole.y, ddof=1), rel=1e-9)
    np.testing.assert_allclose(
        result.columns[("X", "mu", -1)], np.std(whole.main.X, axis=0, ddof=1), rtol=1e-9
    )
    z = whole.main.blocks[0].Z[:, 1:]
    np.testing.assert_allclose(
        result.columns[("Z", "mu", 0)][1:], np.std(z, axis=0, ddof=1), rtol=1e-9
    )
    # Merging the moments of two halves of the source gives the same result.
    halves = [DesignMoments(), DesignMoments()]
    for i, design in enumerate(encoded_chunks(schema, _source(offset_data), chunksize=1)):
        halves[i % 2] = halves[i % 2].merge(DesignMoments.of(design, family))
    merged = halves[1].merge(halves[0]).result()
    assert merged.response == pytest.approx(result.response, rel=1e-12)
    for key, sds in result.columns.items():
        np.testing.assert_allclose(merged.columns[key], sds, rtol=1e-12)
