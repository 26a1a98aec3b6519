"""The streamed reduce on Spark (issue 17): ``hm.stream_model(formula, spark_df)``.

Each partition is mapped to its partial state on an executor (``mapInPandas``) and the states are
merged with ``treeAggregate``; on a ``local[2]`` session the model equals the in-memory model
(log density and gradient at random points, relative 1e-9), with even and skewed partitions.
Runs where pyspark and a Java runtime are installed (the ``spark`` extra; CI installs both).
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from collections.abc import Iterator

import pandas as pd
import pytest

pyspark = pytest.importorskip("pyspark")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs a Java runtime", allow_module_level=True)

import hiermod as hm  # noqa: E402
from hiermod.datasets import forum_scenario  # noqa: E402
from tests.support import assert_same_model  # noqa: E402

pytestmark = [
    pytest.mark.slow,  # a Spark session starts a JVM (~10 s)
    # PySpark 4.x on pandas 3 says it does not fully support it yet: what these tests check
    # works (the data are floats, integers and strings), so its warning is not an error here.
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]

FORUM = "y ~ center(x1) + scale(x2) + (1 + x1 | group:color) + (1 | color)\nsigma ~ (1 | group)"


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    from pyspark.sql import SparkSession

    before = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable  # the workers run this venv's Python
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the JVM's and py4j's start-up chatter
        session = (
            SparkSession.builder.master("local[2]")
            .appName("hiermod-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate()
        )
    yield session
    session.stop()
    if before is None:
        os.environ.pop("PYSPARK_PYTHON", None)
    else:
        os.environ["PYSPARK_PYTHON"] = before


@pytest.fixture(scope="module")
def forum() -> pd.DataFrame:
    sim = forum_scenario(n_rows=1500, n_features=2, n_groups=5, n_colors=3, seed=8)
    data = sim.data.copy()
    data["group"] = data["group"].astype(str)  # Spark has no pandas categorical
    data["color"] = data["color"].astype(str)
    data["unused"] = 1.0
    return data


@pytest.mark.parametrize("partitions", ["even", "skewed"])
def test_a_spark_dataframe_equals_the_in_memory_model(
    spark: object, forum: pd.DataFrame, partitions: str
) -> None:
    frame = spark.createDataFrame(forum)  # type: ignore[attr-defined]
    # skewed: every row of one group in one partition, the groups over 3 partitions
    frame = frame.repartition(5) if partitions == "even" else frame.repartition(3, "group")
    whole = hm.Model(FORUM, forum, centered=False)  # a streamed model's blocks are non-centred
    streamed = hm.stream_model(FORUM, frame)
    assert streamed.streamed
    assert streamed.ir.suffstats is not None
    assert streamed.ir.suffstats.n_rows == len(forum)
    assert streamed.priors["prior"].tolist() == whole.priors["prior"].tolist()
    assert_same_model(whole.pymc, streamed.pymc, n_points=3, rtol=1e-9)


def test_a_model_without_a_reduction_is_refused_before_the_reduce(
    spark: object, forum: pd.DataFrame
) -> None:
    data = forum.assign(hit=(forum["y"] > forum["y"].median()).astype(int))
    frame = spark.createDataFrame(data)  # type: ignore[attr-defined]
    with pytest.raises(hm.errors.HiermodError, match="admits"):
        hm.stream_model("hit ~ x1 + (1 | group)", frame, family="bernoulli")
