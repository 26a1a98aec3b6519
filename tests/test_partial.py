"""The partial-state protocol of a streamed model (issue 17): any partition, any order, any tree.

A data set cut into chunks, each chunk mapped to its scan state (or reduced state), and the
states merged in a random order and bracketing gives the state of the whole data set: level
tables, cells, counts exactly; moments to 1e-12 relative, also for values ~1e9 + N(0, 1), whose
running sums keep no digit of the spread.
"""

from __future__ import annotations

import itertools
import math
import pickle
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hiermod as hm
from hiermod.data.families import get_family
from hiermod.data.moments import RunningMoments
from hiermod.data.partial import ScanSpec, ScanState, scan_partition
from hiermod.data.stream import finish_scan
from hiermod.plan.lower import LowerOptions
from hiermod.plan.reduce import ReducedState, ReduceSpec, reduce_partition
from hiermod.warnings import DataWarning

FORMULA = "y ~ scale(x) + center(z) + f + (1 + x | g:h) + (1 | h)"
N = 240
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _data(offset: float) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    data = pd.DataFrame(
        {
            "y": offset + rng.normal(size=N),
            "x": offset + rng.normal(size=N),
            "z": rng.normal(size=N) * 1e-3,
            "f": rng.choice(["b", "a", "c"], N),
            "g": rng.choice([3, 1, 2, 10], N),
            "h": pd.Categorical(rng.choice(["lo", "hi"], N), categories=["lo", "hi", "mid"]),
        }
    )
    data.loc[[5, 77, 200], "z"] = np.nan
    return data


DATA = {offset: _data(offset) for offset in (0.0, 1e9)}
SPEC = ScanSpec.of(hm.parse(FORMULA))


@st.composite
def partitions(draw: st.DrawFn) -> list[tuple[int, int]]:
    """Chunks of the rows (empty ones included), in a random order."""
    cuts = sorted(draw(st.lists(st.integers(0, N), max_size=8)))
    bounds = [0, *cuts, N]
    chunks = list(itertools.pairwise(bounds))
    return draw(st.permutations(chunks))


def _tree[T: (ScanState, ReducedState)](draw: st.DrawFn, states: list[T]) -> T:
    """The states merged in a random bracketing: adjacent pairs, each picked at random."""
    states = list(states)
    while len(states) > 1:
        i = draw(st.integers(0, len(states) - 2))
        states[i : i + 2] = [states[i].merge(states[i + 1])]
    return states[0]


def _same_moments(a: RunningMoments, b: RunningMoments) -> None:
    assert a.n == b.n
    # A mean near 0 (a centred column's, ~1e-17) is compared on the scale of the spread.
    np.testing.assert_allclose(a.mean, b.mean, rtol=1e-12, atol=1e-12 * np.max(b.sd()))
    np.testing.assert_allclose(a.sd(), b.sd(), rtol=1e-12)


@pytest.mark.parametrize("offset", sorted(DATA))
@SETTINGS
@given(data=st.data())
def test_scan_states_merge_in_any_partition_order_and_tree(
    offset: float, data: st.DataObject
) -> None:
    frame = DATA[offset]
    whole = scan_partition(SPEC, frame)
    chunks = data.draw(partitions())
    merged = _tree(data.draw, [scan_partition(SPEC, frame.iloc[a:b]) for a, b in chunks])
    assert merged == whole  # levels, cells, categories, counts: exactly
    assert merged.moments.keys() == whole.moments.keys()
    for key, moments in whole.moments.items():
        _same_moments(merged.moments[key], moments)
    assert merged.level_table("g") == (1, 2, 3, 10)  # sorted, as the in-memory model sorts
    assert merged.level_table("f") == ("a", "b", "c")
    assert merged.level_table("h") == ("lo", "hi")  # a categorical's order, unused dropped
    assert merged.missing == {"z": 3}
    assert (merged.dropped, merged.rows) == (3, N)


def _exact_sd(values: np.ndarray) -> float:
    exact = [Fraction(float(v)) for v in values]
    mean = sum(exact, Fraction(0)) / len(exact)
    return math.sqrt(sum(((v - mean) ** 2 for v in exact), Fraction(0)) / (len(exact) - 1))


def test_merged_moments_keep_the_digits_running_sums_lose() -> None:
    """x = 1e9 + N(0, 1): Σx² − n·mean² is off in the first digit; the merged moments agree
    with the exact sd to 1e-12."""
    x = DATA[1e9].x.to_numpy()
    states = [RunningMoments.of(x[i : i + 7]) for i in range(0, N, 7)]
    merged = states[0]
    for state in states[1:]:
        merged = merged.merge(state)
    exact = _exact_sd(x)
    naive = math.sqrt(max((x * x).sum() - N * x.mean() ** 2, 0.0) / (N - 1))
    assert abs(naive - exact) > 0.01 * exact
    assert float(merged.sd()) == pytest.approx(exact, rel=1e-12)


def _reduce_spec(offset: float) -> ReduceSpec:
    scan = scan_partition(SPEC, DATA[offset])
    with pytest.warns(DataWarning, match="dropped 3 of 240 rows"):
        schema = finish_scan(SPEC.formula, scan, get_family("gaussian"), "drop")
    return ReduceSpec(schema, get_family("gaussian"), LowerOptions("identity"), scan.used)


@pytest.fixture(scope="module")
def reduce_specs() -> dict[float, ReduceSpec]:
    return {offset: _reduce_spec(offset) for offset in DATA}


@pytest.mark.parametrize("offset", sorted(DATA))
@settings(SETTINGS, max_examples=20)
@given(data=st.data())
def test_reduced_states_merge_in_any_partition_order_and_tree(
    offset: float, data: st.DataObject, reduce_specs: dict[float, ReduceSpec]
) -> None:
    spec, frame = reduce_specs[offset], DATA[offset]
    whole = reduce_partition(spec, frame)
    chunks = data.draw(partitions())
    merged = _tree(data.draw, [reduce_partition(spec, frame.iloc[a:b]) for a, b in chunks])
    assert merged.stats is not None
    assert whole.stats is not None
    assert merged.n_rows == whole.n_rows == N - 3
    np.testing.assert_array_equal(merged.stats.keys, whole.stats.keys)  # cells sorted by key
    np.testing.assert_array_equal(merged.stats.n, whole.stats.n)
    for name in ("yy", "wy", "ww"):
        np.testing.assert_allclose(
            getattr(merged.stats, name), getattr(whole.stats, name), rtol=1e-12
        )
    _same_moments(merged.moments.response, whole.moments.response)
    assert merged.moments.columns.keys() == whole.moments.columns.keys()
    for key, moments in whole.moments.columns.items():
        _same_moments(merged.moments.columns[key], moments)


def test_states_and_specs_survive_pickling(reduce_specs: dict[float, ReduceSpec]) -> None:
    """What travels between Dask's processes: the specs out, the states back."""
    frame = DATA[1e9]
    scan = scan_partition(SPEC, frame)
    assert pickle.loads(pickle.dumps(scan)) == scan
    assert pickle.loads(pickle.dumps(SPEC)) == SPEC
    spec = pickle.loads(pickle.dumps(reduce_specs[1e9]))
    reduced = pickle.loads(pickle.dumps(reduce_partition(spec, frame)))
    assert reduced.stats is not None
    np.testing.assert_array_equal(
        reduced.stats.n, reduce_partition(reduce_specs[1e9], frame).stats.n
    )  # type: ignore[union-attr]


def test_chunks_that_disagree_on_categories_read_as_plain_values() -> None:
    """As ``pd.concat`` of the chunks would: categories ["lo", "hi"] and ["hi", "lo"] give sorted
    levels."""
    frame = DATA[0.0]
    first, second = frame.iloc[:100].copy(), frame.iloc[100:].copy()
    second["h"] = second.h.cat.reorder_categories(["hi", "lo", "mid"])
    merged = scan_partition(SPEC, first).merge(scan_partition(SPEC, second))
    assert merged.categories["h"] is None
    assert merged.level_table("h") == ("hi", "lo")
