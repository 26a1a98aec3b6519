"""Where the two passes of a streamed model run: one process over chunks, Dask tasks, or Spark.

Both engines do the same thing with a pass's ``mapper`` (a chunk → a partial state),
``merge`` (two states → one, associative and commutative) and ``spec`` (what every chunk needs:
the formula for the scan, the schema for the reduce):

- :func:`reduce_local` maps the chunks one after another and merges left to right;
- :func:`reduce_dask` maps each partition of a ``dask.dataframe.DataFrame`` in its own task and
  merges the states in a tree, ``split_every`` states per task (64 partitions, split_every 8: 8
  merge tasks, then one). ``spec`` is one key of the graph, so the scheduler sends it to each
  worker once, not once per partition; the states, not the rows, travel to the client.

- :func:`reduce_spark` maps each partition of a ``pyspark.sql.DataFrame`` with ``mapInPandas``
  (Arrow batches as pandas chunks, each partition's chunks merged on its executor into one
  pickled state) and merges the states with ``treeAggregate`` (``depth`` levels); ``spec`` is a
  broadcast variable, sent to each executor once.

Dask and Spark are imported only when the source is one of their DataFrames (the optional
``dask`` and ``spark`` extras).
"""

from __future__ import annotations

import pickle
import uuid
from collections.abc import Callable, Iterable, Mapping
from functools import reduce
from typing import Any

import pandas as pd

__all__ = [
    "SPLIT_EVERY",
    "is_dask_frame",
    "is_spark_frame",
    "numbers_as_text",
    "reduce_dask",
    "reduce_local",
    "reduce_spark",
    "spark_columns",
]

SPLIT_EVERY = 8  # states merged per task of Dask's tree reduction


def is_dask_frame(source: object) -> bool:
    """Whether ``source`` is a ``dask.dataframe.DataFrame`` (Dask is not imported otherwise)."""
    if not type(source).__module__.startswith(("dask", "dask_expr")):
        return False
    import dask.dataframe as dd

    return isinstance(source, dd.DataFrame)


def numbers_as_text(
    levels: Mapping[str, frozenset[Any]], dtypes: Mapping[str, Any], values: Iterable[str]
) -> dict[str, list[str]]:
    """The text columns among ``values`` (the columns read for their values, not as levels) whose
    levels all look like numbers, or some do: for each, up to three of those levels.

    Dask turns object columns into text by default (``dataframe.convert-string``), so an object
    column of numbers, which ``hm.Model`` on the pandas frame reads as numbers (with a warning),
    or of numbers mixed with text ("n/a"), which it refuses, arrives as text and would become
    categories without a word. Example: an object column [1, 2, 3] of a pandas frame arrives
    from ``dd.from_pandas`` as the strings "1", "2", "3": {"x": ["1", "2", "3"]}.
    """
    found: dict[str, list[str]] = {}
    for name in values:
        if not pd.api.types.is_string_dtype(dtypes.get(name, object)):
            continue
        numeric = sorted(str(v) for v in levels.get(name, ()) if _looks_numeric(v))
        if numeric:
            found[name] = numeric[:3]
    return found


def _looks_numeric(value: object) -> bool:
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def is_spark_frame(source: object) -> bool:
    """Whether ``source`` is a ``pyspark.sql.DataFrame`` (Spark is not imported otherwise)."""
    return type(source).__module__.startswith("pyspark") and type(source).__name__ == "DataFrame"


def spark_columns(frame: Any, names: list[str]) -> Any:
    """The Spark DataFrame's columns ``names``, each quoted (a name with a dot or a backtick is
    one column, not a field path: ```a.b``` )."""
    from pyspark.sql.functions import col

    return frame.select(*[col("`" + name.replace("`", "``") + "`") for name in names])


def reduce_local[S, T](
    chunks: Iterable[pd.DataFrame],
    mapper: Callable[[S, pd.DataFrame], T],
    spec: S,
    merge: Callable[[T, T], T],
    empty: T,
) -> T:
    """Map each chunk to its state and merge them left to right, on this process."""
    return reduce(merge, (mapper(spec, chunk) for chunk in chunks), empty)


def _merge_all[T](merge: Callable[[T, T], T], states: list[T]) -> T:
    return reduce(merge, states[1:], states[0])


def reduce_dask[S, T](
    frame: Any,
    mapper: Callable[[S, pd.DataFrame], T],
    spec: S,
    merge: Callable[[T, T], T],
    empty: T,
    split_every: int = SPLIT_EVERY,
) -> T:
    """Map each partition of the Dask DataFrame ``frame`` to its state in a task, merge the states
    in a tree of ``split_every`` per task, and compute the result with the current scheduler
    (``dask.config.set(scheduler=…)``, or the ``dask.distributed.Client`` in use)."""
    from dask.delayed import delayed

    # A named key, not traversed: the spec is a frozen dataclass that Dask would otherwise take
    # apart field by field, and hashing it (pure=True) would walk the whole schema.
    shared = delayed(spec, name=f"hiermod-spec-{uuid.uuid4().hex}", traverse=False)
    states = [delayed(mapper)(shared, part) for part in frame.to_delayed()]
    if not states:
        return empty
    while len(states) > 1:
        states = [
            delayed(_merge_all)(merge, states[i : i + split_every])
            for i in range(0, len(states), split_every)
        ]
    result: T = states[0].compute()
    return result


def reduce_spark[S, T](
    frame: Any,
    mapper: Callable[[S, pd.DataFrame], T],
    spec: S,
    merge: Callable[[T, T], T],
    empty: T,
    depth: int = 2,
) -> T:
    """Map each partition of the Spark DataFrame ``frame`` to one state on its executor
    (``mapInPandas``: the partition's Arrow batches as pandas chunks, merged in order) and merge
    the pickled states in a tree of ``depth`` levels (``treeAggregate``) on the driver's way.

    The states travel pickled (a ``binary`` column): they are hiermod's frozen dataclasses, which
    Spark's row types cannot hold. Example: 200 partitions, depth 2: about 14 states merged per
    executor task, then the partial merges on the driver.
    """
    shared = frame.sparkSession.sparkContext.broadcast(spec)

    def partition_state(chunks: Iterable[pd.DataFrame]) -> Iterable[pd.DataFrame]:
        state = reduce_local(chunks, mapper, shared.value, merge, empty)
        yield pd.DataFrame({"state": [pickle.dumps(state)]})

    def add(total: T, pickled: bytes) -> T:
        other: T = pickle.loads(pickled)  # a state partition_state pickled in this job
        return merge(total, other)

    states = frame.mapInPandas(partition_state, schema="state binary").rdd.map(lambda r: r.state)
    result: T = states.treeAggregate(empty, add, merge, depth=depth)
    shared.unpersist()
    return result
