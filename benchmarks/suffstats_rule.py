"""Does ``suffstats="auto"`` pick the faster likelihood? Measured on a grid of sizes.

For each model and row count, one logp+gradient (Numba, the sampler's mode) is timed for the reduced
likelihood (``suffstats=True``) and the row-wise one (``suffstats=False``), and compared with what
``"auto"`` chose (:func:`hiermod.plan.suffstats.reduction_pays`). A wrong pick is reported with the
time it costs; near the break-even both forms are within a few per cent.

Run: ``.venv/bin/python benchmarks/suffstats_rule.py`` (about 5 minutes on 2 cores); it rewrites the
table between the markers in docs/performance.md. Every worker runs with one BLAS thread: on a
shared 2-core machine OpenBLAS's threads otherwise wait on each other (seen here: 16 ms instead of
40 µs for the forum model at 3,000 rows).
"""

from __future__ import annotations

import argparse
import os
import timeit
import warnings
from pathlib import Path

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pymc as pm  # noqa: E402
from markers import measured_on, replace_between  # noqa: E402
from pymc.blocking import DictToArrayBijection  # noqa: E402

import hiermod as hm  # noqa: E402
from hiermod.inference.fit import sampling_mode  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
BEGIN = "<!-- suffstats-rule:begin (benchmarks/suffstats_rule.py writes this table) -->"
END = "<!-- suffstats-rule:end -->"


def microseconds_per_gradient(model: pm.Model) -> float:
    """The fastest of 5 timed loops of one logp+gradient at the initial point, in µs."""
    fn = model.logp_dlogp_function(ravel_inputs=True, mode=sampling_mode())
    fn.set_extra_values({})
    point = model.initial_point()
    x = DictToArrayBijection.map({v.name: point[v.name] for v in model.value_vars}).data
    fn(x)
    once = max(timeit.timeit(lambda: fn(x), number=20) / 20, 1e-7)
    number = max(200, int(0.2 / once))
    return min(timeit.timeit(lambda: fn(x), number=number) / number for _ in range(5)) * 1e6


def simulated(rows: int, groups: int, seed: int = 0) -> pd.DataFrame:
    """``y = 1 + x/2 + u_g + e`` with two predictors and one grouping factor of ``groups`` levels."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, groups, rows)
    x, x2 = rng.normal(size=rows), rng.normal(size=rows)
    y = 1 + 0.5 * x + rng.normal(size=groups)[g] + rng.normal(size=rows)
    return pd.DataFrame({"y": y, "x": x, "x2": x2, "g": g.astype(str)})


def grid(quick: bool) -> list[tuple[str, str, pd.DataFrame]]:
    """(label, formula, data) for each point of the grid."""
    sizes = {
        ("y ~ x + (1 | g)", 50): (300, 1000, 3000),
        ("y ~ x + (1 + x | g)", 20): (200, 500, 1000, 3000),
        ("y ~ x + x2 + (1 + x + x2 | g)", 200): (600, 2000, 5000),
    }
    points = []
    for (formula, groups), row_counts in sizes.items():
        for rows in row_counts[:2] if quick else row_counts:
            points.append((f"{groups} groups", formula, simulated(rows, groups)))
    for groups in (8, 50):
        for rows in (300, 1000) if quick else (300, 1000, 3000):
            sim = hm.datasets.forum_scenario(
                n_rows=rows, n_features=5, n_groups=groups, n_colors=4, seed=1
            )
            points.append((f"forum, {groups * 4} cells", sim.formula, sim.data))
    return points


def measure(label: str, formula: str, data: pd.DataFrame) -> dict[str, object]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        auto = hm.Model(formula, data)
        reduced = microseconds_per_gradient(hm.Model(formula, data, suffstats=True).pymc)
        rows = microseconds_per_gradient(hm.Model(formula, data, suffstats=False).pymc)
    picked = "reduced" if auto.ir.suffstats is not None else "row-wise"
    faster = "reduced" if reduced < rows else "row-wise"
    chosen, other = (reduced, rows) if picked == "reduced" else (rows, reduced)
    return {
        # a | inside a table cell ends the cell unless escaped
        "model": f"`{formula.splitlines()[0]}`".replace("|", "\\|")
        + (" + sigma formula" if "\n" in formula else ""),
        "data": label,
        "rows": len(data),
        "reduced": reduced,
        "row-wise": rows,
        "auto": picked,
        "faster": faster,
        "cost": chosen / other - 1.0,
    }


def table(results: list[dict[str, object]]) -> str:
    lines = [
        "| model | data | rows | reduced (µs) | row-wise (µs) | `auto` picks | faster | auto's cost |",
        "|---|---|---:|---:|---:|---|---|---:|",
    ]
    for r in results:
        cost = float(r["cost"])  # type: ignore[arg-type]
        verdict = "—" if cost <= 0 else f"+{cost:.0%}"
        lines.append(
            f"| {r['model']} | {r['data']} | {int(r['rows']):,} | {float(r['reduced']):.1f} | "  # type: ignore[call-overload]
            f"{float(r['row-wise']):.1f} | {r['auto']} | {r['faster']} | {verdict} |"  # type: ignore[arg-type]
        )
    wrong = [r for r in results if float(r["cost"]) > 0]  # type: ignore[arg-type]
    worst = max((float(r["cost"]) for r in wrong), default=0.0)  # type: ignore[arg-type]
    lines += [
        "",
        f"`auto` picked the faster form at {len(results) - len(wrong)} of {len(results)} points; "
        f"where it did not, the chosen form was at most {worst:.0%} slower per evaluation.",
        "",
        measured_on("one logp+gradient under Numba, fastest of 5 loops, one BLAS thread."),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes; do not write the docs")
    args = parser.parse_args()
    results = []
    for label, formula, data in grid(args.quick):
        result = measure(label, formula, data)
        print(result, flush=True)
        results.append(result)
    text = table(results)
    print(text)
    if not args.quick:
        replace_between(DOC, BEGIN, END, text)


if __name__ == "__main__":
    main()
