"""The streamed reduce on Dask (issue 17): the same model as in memory, on any scheduler.

``hm.stream_model(formula, ddf)`` runs the scan and the reduce as Dask tasks; with the ``sync``
and ``threads`` schedulers and a LocalCluster of two worker processes its log density and gradient
equal the in-memory model's, also when the partitions are shuffled, uneven or empty.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

dask = pytest.importorskip("dask")  # the dask extra (installed with the test extra)
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import hiermod as hm  # noqa: E402
import hiermod.plan.reduce as reduce_module  # noqa: E402
from hiermod.data.engines import reduce_dask  # noqa: E402
from hiermod.data.partial import ScanSpec, ScanState, scan_partition  # noqa: E402
from hiermod.data.stream import StreamError  # noqa: E402
from hiermod.datasets import forum_scenario  # noqa: E402
from hiermod.warnings import DataWarning  # noqa: E402
from tests.support import assert_same_model  # noqa: E402

FORUM = "y ~ center(x1) + scale(x2) + (1 + x1 | group:color) + (1 | color)\nsigma ~ (1 | group)"


@pytest.fixture(scope="module")
def forum() -> pd.DataFrame:
    sim = forum_scenario(n_rows=2000, n_features=2, n_groups=5, n_colors=3, seed=11)
    data = sim.data.copy()
    data.loc[data.index[-30:], "group"] = "g99"  # a level only the last rows have
    data["x2"] += 1e9  # scale() of values ~1e9 + N(0, 1): the moments must keep its digits
    return data


@pytest.fixture(scope="module")
def whole(forum: pd.DataFrame) -> hm.Model:
    # A streamed model's blocks stay non-centred (it keeps no rows to judge them with).
    return hm.Model(FORUM, forum, centered=False)


def _uneven(data: pd.DataFrame) -> object:
    """Shuffled rows in partitions of 1, 0, 700, 3, … rows (one empty)."""
    rows = data.sample(frac=1.0, random_state=4)
    bounds = np.cumsum([0, 1, 0, 700, 3, 250, 1])
    pieces = [rows.iloc[a:b] for a, b in zip(bounds, [*bounds[1:], len(rows)], strict=True)]
    return dd.from_delayed([dask.delayed(p) for p in pieces], meta=data.head(0))


def _frame(data: pd.DataFrame, kind: str) -> object:
    if kind == "even":
        return dd.from_pandas(data, npartitions=6)
    return _uneven(data)


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
@pytest.mark.parametrize("kind", ["even", "shuffled uneven"])
def test_local_schedulers_equal_the_in_memory_model(
    forum: pd.DataFrame, whole: hm.Model, scheduler: str, kind: str
) -> None:
    with dask.config.set(scheduler=scheduler):
        streamed = hm.stream_model(FORUM, _frame(forum, kind))
    assert streamed.streamed
    assert streamed.ir.suffstats is not None
    assert streamed.ir.suffstats.n_rows == len(forum)
    assert streamed.priors["prior"].tolist() == whole.priors["prior"].tolist()
    assert_same_model(whole.pymc, streamed.pymc, n_points=3, rtol=1e-9)


def _count(_: None, chunk: pd.DataFrame) -> tuple[int, ...]:
    return (len(chunk),)


def test_the_tree_merges_every_partition_once(forum: pd.DataFrame) -> None:
    """11 partitions, 3 states per merge task: 4 tasks, then 2, then 1 — each row counted once,
    and the scan state of the whole frame, however the tree groups the partitions."""
    frame = dd.from_pandas(forum, npartitions=11)
    assert frame.npartitions == 11
    with dask.config.set(scheduler="sync"):
        sizes = reduce_dask(frame, _count, None, lambda a, b: a + b, (), split_every=3)
        spec = ScanSpec.of(hm.parse(FORUM))
        scan = reduce_dask(frame, scan_partition, spec, ScanState.merge, ScanState(), split_every=3)
        lengths = frame.map_partitions(len).compute().tolist()
    assert sorted(sizes) == sorted(lengths)
    assert sum(sizes) == len(forum)
    assert scan == scan_partition(spec, forum)


def test_model_routes_a_dask_frame_to_the_stream(forum: pd.DataFrame, whole: hm.Model) -> None:
    with dask.config.set(scheduler="sync"):
        model = hm.Model(FORUM, dd.from_pandas(forum, npartitions=3), centered=False)
    assert model.streamed
    assert model.data is None  # nothing pulled into memory
    assert_same_model(whole.pymc, model.pymc, n_points=2, rtol=1e-9)


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


@pytest.mark.slow  # ~11 s with the cluster's start on a loaded 2-core machine
@pytest.mark.parametrize("kind", ["even", "shuffled uneven"])
def test_a_cluster_of_two_processes_equals_the_in_memory_model(
    client: object, forum: pd.DataFrame, whole: hm.Model, kind: str
) -> None:
    streamed = hm.stream_model(FORUM, _frame(forum, kind))
    assert_same_model(whole.pymc, streamed.pymc, n_points=3, rtol=1e-9)


def test_a_model_without_a_reduction_is_refused_before_the_reduce(
    forum: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bernoulli with a continuous predictor: refused after the scan, with the reason and what
    would admit a reduction; no partition is reduced, none is pulled into memory."""

    def never(*_: object) -> None:
        raise AssertionError("the reduce pass ran")

    monkeypatch.setattr(reduce_module, "reduce_partition", never)
    data = forum.assign(win=(forum.y > forum.y.median()).astype(int))
    with (
        dask.config.set(scheduler="sync"),
        pytest.raises(StreamError, match="bernoulli family has no Gaussian") as refused,
    ):
        hm.stream_model("win ~ x1 + (1 | group)", dd.from_pandas(data, 4), family="bernoulli")
    assert "a gaussian family with the identity link" in str(refused.value)
    assert "merges bernoulli rows that share every predictor value" in str(refused.value)


def test_worker_errors_reach_the_caller(forum: pd.DataFrame) -> None:
    with dask.config.set(scheduler="threads"), pytest.raises(hm.DataError, match="x3"):
        hm.stream_model("y ~ x3 + (1 | group)", dd.from_pandas(forum, 3))


def test_without_dask_other_sources_keep_their_errors() -> None:
    """Dask blocked from import: a list is still "not a DataFrame", an int not a source."""
    code = (
        "import sys; sys.modules['dask'] = None\n"
        "import hiermod as hm\n"
        "for call in (lambda: hm.Model('y ~ x', [1, 2]), lambda: hm.stream_model('y ~ x', 3)):\n"
        "    try:\n"
        "        call()\n"
        "    except hm.DataError as error:\n"
        "        print(error.message)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [
        "data must be a pandas DataFrame, not list",
        "a streamed model reads a CSV or Parquet path, a Parquet folder or glob, a function "
        "returning DataFrames, a dask.dataframe.DataFrame, a DuckDB relation or a Polars frame, "
        "not int",
    ]


def _numbers_in_objects() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    k = pd.Series([i % 3 for i in range(60)], dtype=object)  # numbers in an object column
    mixed = pd.Series([*(str(i % 4) for i in range(59)), "n/a"], dtype=object)
    return pd.DataFrame(
        {"y": rng.normal(size=60), "g": [f"g{i % 4}" for i in range(60)], "k": k, "m": mixed}
    )


@pytest.mark.parametrize(
    ("formula", "column", "shown"),
    [("y ~ k + (1 | g)", "k", "'0', '1', '2'"), ("y ~ m + (1 | g)", "m", "'0', '1', '2'")],
)
def test_numbers_dask_turned_into_text_are_named(formula: str, column: str, shown: str) -> None:
    # With dataframe.convert-string (Dask's default) the object column arrives as text: the
    # pandas model reads k as numbers (with a warning) and refuses m (numbers and "n/a"); here
    # each becomes categories, which the warning says, naming the column and how to convert it.
    frame = dd.from_pandas(_numbers_in_objects(), npartitions=3)
    assert pd.api.types.is_string_dtype(frame.dtypes[column])
    with dask.config.set(scheduler="sync"), pytest.warns(DataWarning) as caught:
        hm.stream_model(formula, frame)
    (message,) = [str(w.message) for w in caught]
    assert f"column {column!r} of the Dask DataFrame is text" in message
    assert f"({shown})" in message
    assert "convert-string" in message
    assert f"dd.to_numeric(ddf[{column!r}])" in message


def test_text_read_as_levels_or_made_categorical_is_not_warned_about() -> None:
    frame = dd.from_pandas(_numbers_in_objects(), npartitions=3)
    with dask.config.set(scheduler="sync"):
        hm.stream_model("y ~ 1 + (1 | k)", frame)  # a grouping: levels whatever they look like
        hm.stream_model("y ~ k + (1 | g)", frame.assign(k=frame["k"].astype("category")))
