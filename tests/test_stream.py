"""Streaming: a model reduced chunk by chunk equals the model built from all rows at once."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hiermod as hm
from hiermod.data.stream import StreamError
from hiermod.datasets import forum_scenario
from hiermod.errors import DataError, HiermodError
from hiermod.model import stream_model
from hiermod.warnings import DataWarning
from tests.support import assert_same_model


@pytest.fixture(scope="module")
def forum() -> pd.DataFrame:
    sim = forum_scenario(n_rows=3000, n_features=2, n_groups=5, n_colors=3, seed=11)
    data = sim.data.copy()
    # A group that only appears in the last rows: the scan must still find its level.
    data.loc[data.index[-40:], "group"] = "g99"
    return data


FORUM = "y ~ center(x1) + x2 + (1 + x1 | group:color) + (1 | color)\nsigma ~ (1 | group)"


def _chunks(data: pd.DataFrame, size: int):  # type: ignore[no-untyped-def]
    return lambda: (data.iloc[i : i + size] for i in range(0, len(data), size))


@pytest.mark.parametrize("kind", ["csv", "parquet", "callable"])
def test_streamed_equals_in_memory(forum: pd.DataFrame, tmp_path: Path, kind: str) -> None:
    if kind == "csv":
        source: object = tmp_path / "data.csv"
        forum.to_csv(source, index=False)
    elif kind == "parquet":
        source = tmp_path / "data.parquet"
        forum.to_parquet(source, index=False)
    else:
        source = _chunks(forum, 450)
    streamed = stream_model(FORUM, source, chunksize=450)  # type: ignore[arg-type]
    # A streamed model keeps no rows to judge its blocks with (hiermod.plan.centring): they stay
    # non-centred, so the in-memory model it equals is the non-centred one.
    assert not any(b.centered for p in streamed.ir.predictors for b in p.blocks)
    whole = hm.Model(FORUM, forum, centered=False)
    assert streamed.priors["prior"].tolist() == whole.priors["prior"].tolist()
    # Running sums in chunks differ from one sum only in rounding (last digit).
    for key, state in whole.design.schema.transforms.items():
        assert streamed.design.schema.transforms[key].get("mean") == pytest.approx(
            state.get("mean"), rel=1e-12
        )
    assert_same_model(whole.pymc, streamed.pymc, n_points=2)
    assert streamed.ir.suffstats is not None
    assert streamed.ir.suffstats.n_rows == len(forum)


def test_missing_values_warn_once_with_the_total(forum: pd.DataFrame) -> None:
    data = forum.copy()
    data.loc[[3, 700, 2900], "x2"] = np.nan
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = stream_model(FORUM, _chunks(data, 500))
    messages = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    assert messages == [f"dropped 3 of {len(data)} rows with missing values in: 'x2' (3 rows)"]
    assert model.design.schema.n_dropped == 3
    with pytest.raises(DataError, match="missing values in 3 of"):
        stream_model(FORUM, _chunks(data, 500), na_action="raise")


def test_pandas_categoricals_keep_their_category_order(forum: pd.DataFrame) -> None:
    data = forum.assign(color=pd.Categorical(forum.color, categories=["red", "green", "blue"]))
    streamed = stream_model(FORUM, _chunks(data, 700))
    assert streamed.pymc.coords["color"] == ("red", "green", "blue")
    assert_same_model(hm.Model(FORUM, data, centered=False).pymc, streamed.pymc, n_points=1)


@pytest.mark.parametrize(
    ("formula", "kwargs", "message"),
    [
        ("y ~ poly(x1, 2) + (1 | group)", {}, "poly\\(\\) needs all rows"),
        ("y ~ gp(x1) + (1 | group)", {}, "gp\\(\\) needs all rows"),
        ("y ~ x1 + (1 | group)", {"family": "student_t"}, "needs sufficient statistics"),
    ],
)
def test_refused_models(forum: pd.DataFrame, formula: str, kwargs: dict, message: str) -> None:
    with pytest.raises(StreamError, match=message):
        stream_model(formula, _chunks(forum, 1000), **kwargs)


def test_a_streamed_model_has_no_rows(forum: pd.DataFrame) -> None:
    model = stream_model("y ~ x1 + (1 | group)", _chunks(forum, 1000))
    with pytest.raises(HiermodError, match="keeps no rows"):
        _ = model.pymc_rows
