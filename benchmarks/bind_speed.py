"""Time ``bind`` on 100,000 rows: five numeric predictors, a 50 x 4 grouping interaction.

Run with ``python benchmarks/bind_speed.py``; prints the best of several runs (target: < 50 ms).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

import hiermod as hm
from hiermod.data.binder import bind

FORMULA = "y ~ x1 + x2 + x3 + x4 + x5 + (1 + x1 + x2 + x3 + x4 + x5 | group:color); sigma ~ (1 | group:color)"


def make_data(n: int = 100_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = {f"x{i}": rng.normal(size=n) for i in range(1, 6)}
    data["group"] = rng.choice([f"g{i:02d}" for i in range(50)], size=n)
    data["color"] = rng.choice(["red", "green", "blue", "yellow"], size=n)
    data["y"] = rng.normal(size=n)
    return pd.DataFrame(data)


def main(repeats: int = 7) -> None:
    data = make_data()
    formula = hm.parse(FORMULA)
    bind(formula, data)  # warm-up (imports, caches)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        design = bind(formula, data)
        times.append(time.perf_counter() - start)
    block = design.main.blocks[0]
    print(
        f"bind: {len(data):,} rows, {design.main.X.shape[1]} predictors, {block.grouping.n_cells} cells"
    )
    print(f"best {min(times) * 1e3:.1f} ms, median {sorted(times)[len(times) // 2] * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
