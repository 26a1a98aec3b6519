"""The streamed reduce from one process to Dask: time and peak memory (docs/scale.md).

Writes N rows of the forum model as partitioned Parquet (one file per partition, generated one at
a time, so the generator never holds all rows), then builds ``hm.stream_model`` from it three ways,
each in a fresh process so that its peak memory is its own:

- ``stream``: one process, the Parquet files read in batches (``chunksize`` rows);
- ``dask-threads``: ``dd.read_parquet`` with the threaded scheduler;
- ``dask-processes``: the same on a ``LocalCluster`` of 2 worker processes (1 thread each); the
  workers' peak memory is reported beside the client's, and the cluster's start-up apart;
- ``in-memory``: ``pd.read_parquet`` of every file and ``hm.Model`` on the whole frame (where it
  fits), the model a streamed one must equal;
- ``duckdb`` and ``polars``: the folder read by DuckDB (``read_parquet('…/*.parquet')``) or Polars
  (``pl.scan_parquet``) into the same one-process reduce (``hiermod.data.sources``);
- ``spark``: ``spark.read.parquet`` on a ``local[2]`` session (``mapInPandas`` + ``treeAggregate``);
  the session's start-up apart.

Usage::

    .venv/bin/python benchmarks/scale.py                  # 1M rows, a quick run
    .venv/bin/python benchmarks/scale.py --rows 10000000  # the 10M-row run of docs/scale.md

Peak memory is ``resource.getrusage(...).ru_maxrss`` (the resident peak, Linux: KiB).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FORMULA = "y ~ x1 + x2 + (1 + x1 | group:color)\nsigma ~ (1 | group:color)"
MODES = ("in-memory", "stream", "duckdb", "polars", "dask-threads", "dask-processes", "spark")


def generate(folder: Path, rows: int, partition_rows: int, seed: int = 0) -> int:
    """``rows`` rows in files of ``partition_rows`` rows: 50 groups × 8 colours = 400 cells."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    slope = rng.normal(size=(50, 8))
    parts = 0
    for start in range(0, rows, partition_rows):
        n = min(partition_rows, rows - start)
        group, color = rng.integers(0, 50, n), rng.integers(0, 8, n)
        x1, x2 = rng.normal(size=n), rng.normal(size=n)
        y = 1.0 + slope[group, color] * x1 + 0.3 * x2 + rng.normal(size=n) * (0.5 + 0.1 * color)
        frame = pd.DataFrame(
            {"y": y, "x1": x1, "x2": x2, "group": [f"g{g}" for g in group], "color": color}
        )
        frame.to_parquet(folder / f"part-{parts:04d}.parquet", index=False)
        parts += 1
    return parts


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(mode: str, folder: Path, chunksize: int) -> dict[str, object]:
    """One mode in this process: seconds to build the model and the peak memory."""
    import hiermod as hm

    result: dict[str, object] = {"mode": mode, "baseline_mb": round(_peak_mb())}
    if mode == "stream":
        import pyarrow.parquet as pq

        def chunks():  # type: ignore[no-untyped-def]
            for path in sorted(folder.glob("*.parquet")):
                for batch in pq.ParquetFile(path).iter_batches(batch_size=chunksize):
                    yield batch.to_pandas()

        start = time.perf_counter()
        model = hm.stream_model(FORMULA, chunks)
    elif mode == "in-memory":
        import pandas as pd

        start = time.perf_counter()
        frame = pd.concat([pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))])
        model = hm.Model(FORMULA, frame.reset_index(drop=True), centered=False)
        model.pymc  # noqa: B018 - the reduced model built, as stream_model builds it
    elif mode in ("duckdb", "polars"):
        if mode == "duckdb":
            import duckdb

            source: object = duckdb.sql(f"select * from read_parquet('{folder}/*.parquet')")
        else:
            import polars as pl

            source = pl.scan_parquet(str(folder / "*.parquet"))
        start = time.perf_counter()
        model = hm.stream_model(FORMULA, source, chunksize=chunksize)
    elif mode == "spark":
        import os

        from pyspark.sql import SparkSession

        os.environ["PYSPARK_PYTHON"] = sys.executable
        began = time.perf_counter()
        spark = (
            SparkSession.builder.master("local[2]")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.memory", "2g")
            .getOrCreate()
        )
        result["cluster_start_s"] = round(time.perf_counter() - began, 2)
        start = time.perf_counter()
        model = hm.stream_model(FORMULA, spark.read.parquet(str(folder)))
        spark.stop()
    else:
        import dask
        import dask.dataframe as dd

        frame = dd.read_parquet(str(folder))
        if mode == "dask-threads":
            start = time.perf_counter()
            with dask.config.set(scheduler="threads"):
                model = hm.stream_model(FORMULA, frame)
        else:
            from distributed import Client, LocalCluster

            began = time.perf_counter()
            cluster = LocalCluster(
                n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
            )
            client = Client(cluster)
            result["cluster_start_s"] = round(time.perf_counter() - began, 2)
            start = time.perf_counter()
            model = hm.stream_model(FORMULA, frame)
            peaks = client.run(_peak_mb)
            result["worker_peak_mb"] = [round(v) for v in peaks.values()]
            client.close()
            cluster.close()
    result["seconds"] = round(time.perf_counter() - start, 2)
    assert model.ir.suffstats is not None
    result["rows"] = model.ir.suffstats.n_rows
    result["cells"] = len(model.ir.suffstats.coords[model.ir.suffstats.cell_dim])
    result["peak_mb"] = round(_peak_mb())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--partition-rows", type=int, default=250_000)
    parser.add_argument("--chunksize", type=int, default=250_000)
    parser.add_argument(
        "--folder", type=Path, help="where the Parquet files go (default: a temp dir)"
    )
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--run", choices=MODES, help=argparse.SUPPRESS)  # one mode, in a child
    args = parser.parse_args()
    if args.run:
        print(json.dumps(run(args.run, args.folder, args.chunksize)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or Path(tmp) / "data"
        began = time.perf_counter()
        parts = generate(folder, args.rows, args.partition_rows)
        print(f"{args.rows:,} rows in {parts} Parquet files: {time.perf_counter() - began:.1f} s")
        print(
            "| mode | seconds | peak MB (client) | baseline MB | workers' peak MB | cluster start s |"
        )
        print("|---|---|---|---|---|---|")
        for mode in args.modes:
            command = [sys.executable, __file__, "--run", mode, "--folder", str(folder)]
            command += ["--chunksize", str(args.chunksize)]
            out = subprocess.run(command, capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            assert r["rows"] == args.rows, r
            print(
                f"| {mode} | {r['seconds']} | {r['peak_mb']} | {r['baseline_mb']} | "
                f"{r.get('worker_peak_mb', '')} | {r.get('cluster_start_s', '')} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
