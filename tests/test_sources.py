"""The streamed reduce from DuckDB relations, Polars frames and Parquet datasets (issue 17).

``hm.stream_model(formula, source)`` with a DuckDB relation, a Polars LazyFrame or DataFrame, or a
Parquet folder or glob reads the source in chunks of only the formula's columns
(:mod:`hiermod.data.sources`); the model must equal the in-memory model (log density and gradient
at random points, relative 1e-9), and a wide table's other columns are never read.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

duckdb = pytest.importorskip("duckdb")  # the sources extra (installed with the test extra)
pl = pytest.importorskip("polars")

import hiermod as hm  # noqa: E402
from hiermod.data.sources import engine_source  # noqa: E402
from hiermod.data.stream import StreamError  # noqa: E402
from hiermod.datasets import forum_scenario  # noqa: E402
from tests.support import assert_same_model  # noqa: E402

FORUM = "y ~ center(x1) + scale(x2) + (1 + x1 | group:color) + (1 | color)\nsigma ~ (1 | group)"


@pytest.fixture(scope="module")
def forum() -> pd.DataFrame:
    sim = forum_scenario(n_rows=1500, n_features=2, n_groups=5, n_colors=3, seed=5)
    data = sim.data.copy()
    data["unused"] = "never read"  # a column the formula does not use
    return data


@pytest.fixture(scope="module")
def whole(forum: pd.DataFrame) -> hm.Model:
    return hm.Model(FORUM, forum, centered=False)  # a streamed model's blocks stay non-centred


def _check(whole: hm.Model, streamed: hm.Model, n_rows: int) -> None:
    assert streamed.streamed
    assert streamed.ir.suffstats is not None
    assert streamed.ir.suffstats.n_rows == n_rows
    assert streamed.priors["prior"].tolist() == whole.priors["prior"].tolist()
    assert_same_model(whole.pymc, streamed.pymc, n_points=3, rtol=1e-9)


def test_a_duckdb_relation(forum: pd.DataFrame, whole: hm.Model) -> None:
    connection = duckdb.connect()
    connection.register("forum", forum)
    relation = connection.sql("select * from forum")
    _check(whole, hm.stream_model(FORUM, relation, chunksize=400), len(forum))


@pytest.mark.parametrize("lazy", [True, False], ids=["LazyFrame", "DataFrame"])
def test_a_polars_frame(forum: pd.DataFrame, whole: hm.Model, lazy: bool) -> None:
    frame = pl.from_pandas(forum)
    _check(
        whole, hm.stream_model(FORUM, frame.lazy() if lazy else frame, chunksize=350), len(forum)
    )


def _parquet_files(data: pd.DataFrame, folder: Path) -> Path:
    folder.mkdir()
    rows = data.sample(frac=1.0, random_state=2)
    for i, start in enumerate(range(0, len(rows), 400)):  # 4 files of 400, 400, 400, 300 rows
        rows.iloc[start : start + 400].to_parquet(folder / f"part-{i}.parquet", index=False)
    return folder


def test_a_parquet_folder_and_glob(forum: pd.DataFrame, whole: hm.Model, tmp_path: Path) -> None:
    folder = _parquet_files(forum, tmp_path / "forum")
    _check(whole, hm.stream_model(FORUM, folder, chunksize=300), len(forum))
    _check(whole, hm.stream_model(FORUM, str(folder / "part-*.parquet")), len(forum))
    with pytest.raises(StreamError, match="no file matches"):
        hm.stream_model(FORUM, str(folder / "nothing-*.parquet"))


@pytest.mark.parametrize("kind", ["duckdb", "polars", "parquet"])
def test_only_the_formulas_columns_are_read(forum: pd.DataFrame, kind: str, tmp_path: Path) -> None:
    formula = hm.Model(FORUM, forum).formula
    if kind == "duckdb":
        connection = duckdb.connect()
        connection.register("forum", forum)
        source = connection.sql("select * from forum")
    elif kind == "polars":
        source = pl.from_pandas(forum).lazy()
    else:
        source = _parquet_files(forum, tmp_path / "forum")
    chunks = list(engine_source(source, formula, 500)())
    assert sum(len(c) for c in chunks) == len(forum)
    assert max(len(c) for c in chunks) <= 500
    assert set(chunks[0].columns) == {"y", "x1", "x2", "group", "color"}


def test_a_missing_column_is_named_with_a_suggestion(forum: pd.DataFrame) -> None:
    relation = duckdb.connect().sql('select y, x1, x2 as x_two, "group", color from forum')
    with pytest.raises(hm.errors.DataError, match="x2"):
        hm.stream_model(FORUM, relation)


def test_other_sources_pass_through_unchanged(forum: pd.DataFrame) -> None:
    formula = hm.Model(FORUM, forum).formula

    def chunks() -> list[pd.DataFrame]:
        return [forum]

    assert engine_source(chunks, formula, 10) is chunks
    assert engine_source("data.csv", formula, 10) == "data.csv"
