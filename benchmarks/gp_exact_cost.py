"""The cost of one logp+gradient of brms's exact GP against the number of distinct points m:
the measurement behind hiermod.data.gp_exact.EXACT_LIMIT (docs/terms.md quotes it).

``y ~ gp(x, k = NA)`` on m equally spaced x (one row each), compiled by PyMC's default backend;
the median of repeated calls of the compiled logp+gradient at the initial point, one BLAS thread.
For comparison the approximation with k = 20 at the same m.

Run: ``OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/gp_exact_cost.py`` (about 2 minutes).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

import hiermod as hm


def seconds(text: str, m: int) -> float:
    x = np.linspace(0.0, 1.0, m)
    data = pd.DataFrame({"x": x, "y": np.sin(6 * x)})
    model = hm.Model(text, data).pymc
    function = model.logp_dlogp_function(ravel_inputs=True)
    function.set_extra_values({})
    point = model.initial_point()
    array = np.concatenate([np.ravel(point[v.name]) for v in function._grad_vars])
    function(array)  # compiled and warm
    repeats = max(3, int(2000 / m))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(array)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    print(f"{'m':>6} {'exact (ms)':>12} {'k=20 (ms)':>10}")
    for m in (100, 250, 500, 1000, 2000):
        exact = seconds("y ~ gp(x, k = NA)", m)
        approx = seconds("y ~ gp(x, k = 20)", m)
        print(f"{m:>6} {1000 * exact:>12.2f} {1000 * approx:>10.3f}")


if __name__ == "__main__":
    main()
