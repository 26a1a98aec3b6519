"""Peak memory of a streamed model against the same model built from all rows in memory.

Writes the forum scenario (default 1M rows, 1000 × 4 cells, 5 features) to a CSV, then in separate
processes builds ``hm.stream_model(formula, csv, chunksize=...)`` and ``hm.Model(formula,
pd.read_csv(csv))`` and reports each one's peak resident memory (``ru_maxrss``) and time. The streamed
peak is bounded by the chunk size and the number of cells, not the number of rows.

Run: ``.venv/bin/python benchmarks/stream_memory.py [--rows N] [--chunksize N]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKER = """
import resource, sys, time
import pandas as pd
import hiermod as hm
import hiermod.model  # import PyMC before measuring
formula, path, mode, chunksize = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if mode == "baseline":
    print(f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} 0")
    sys.exit()
start = time.perf_counter()
if mode == "stream":
    model = hm.stream_model(formula, path, chunksize=chunksize)
else:
    model = hm.Model(formula, pd.read_csv(path))
model.pymc
seconds = time.perf_counter() - start
print(f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} {seconds:.2f}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunksize", type=int, default=100_000)
    args = parser.parse_args()
    from hiermod.datasets import forum_scenario

    sim = forum_scenario(n_rows=args.rows, n_features=5, n_groups=1000, n_colors=4, seed=1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "forum.csv"
        start = time.perf_counter()
        sim.data.to_csv(path, index=False)
        size = path.stat().st_size / 2**20
        print(f"wrote {args.rows:,} rows ({size:.0f} MB) in {time.perf_counter() - start:.1f} s")
        del sim
        for mode in ("baseline", "stream", "memory"):
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    WORKER,
                    forum_formula(),
                    str(path),
                    mode,
                    str(args.chunksize),
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            print(f"{mode:>8}: peak RSS {out[-2]} MB, build (incl. reading the CSV) {out[-1]} s")


def forum_formula() -> str:
    terms = " + ".join(f"x{j}" for j in range(1, 6))
    return f"y ~ {terms} + (1 + {terms} | group:color)\nsigma ~ (1 | group:color)"


if __name__ == "__main__":
    main()
