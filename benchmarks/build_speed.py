"""Model-building time and memory for the compiler's acceptance scenario.

100,000 rows, 5 features, ``y ~ x1..x5 + (1 + x1..x5 | group:color)`` with 50 × 4 levels and
``sigma ~ (1 | group:color)``: parse + bind + lower + build of the ``pm.Model``.
Memory is the peak of Python/NumPy allocations above the data (tracemalloc), the data frame excluded.

Run: ``.venv/bin/python benchmarks/build_speed.py [--rows N]``
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc

import hiermod as hm
from hiermod.datasets import forum_scenario


def measure(rows: int, repeats: int) -> tuple[float, float]:
    sim = forum_scenario(n_rows=rows, n_features=5, n_groups=50, n_colors=4, seed=1)
    _ = hm.Model(sim.formula, sim.data).pymc  # warm-up: imports, PyTensor caches
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        model = hm.Model(sim.formula, sim.data)
        _ = model.pymc
        times.append(time.perf_counter() - start)
    gc.collect()
    tracemalloc.start()
    model = hm.Model(sim.formula, sim.data)
    _ = model.pymc
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times), peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    seconds, megabytes = measure(args.rows, args.repeats)
    print(
        f"rows={args.rows:,}  build (parse+bind+lower+pm.Model) median {seconds:.3f} s  "
        f"peak memory above data {megabytes:.0f} MB"
    )


if __name__ == "__main__":
    main()
