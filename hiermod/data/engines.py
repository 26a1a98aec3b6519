"""Where the two passes of a streamed model run: one process over chunks, or Dask tasks.

Both engines do the same thing with a pass's ``mapper`` (a chunk → a partial state),
``merge`` (two states → one, associative and commutative) and ``spec`` (what every chunk needs:
the formula for the scan, the schema for the reduce):

- :func:`reduce_local` maps the chunks one after another and merges left to right;
- :func:`reduce_dask` maps each partition of a ``dask.dataframe.DataFrame`` in its own task and
  merges the states in a tree, ``split_every`` states per task (64 partitions, split_every 8: 8
  merge tasks, then one). ``spec`` is one key of the graph, so the scheduler sends it to each
  worker once, not once per partition; the states, not the rows, travel to the client.

Dask is imported only when the source is a Dask DataFrame (it is the optional ``dask`` extra).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from functools import reduce
from typing import Any

import pandas as pd

__all__ = ["SPLIT_EVERY", "is_dask_frame", "reduce_dask", "reduce_local"]

SPLIT_EVERY = 8  # states merged per task of Dask's tree reduction


def is_dask_frame(source: object) -> bool:
    """Whether ``source`` is a ``dask.dataframe.DataFrame`` (Dask is not imported otherwise)."""
    if not type(source).__module__.startswith(("dask", "dask_expr")):
        return False
    import dask.dataframe as dd

    return isinstance(source, dd.DataFrame)


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
