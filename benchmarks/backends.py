"""PyTensor backends for hiermod's models: C virtual machine vs Numba, compile and logp+gradient time.

For each model the joint logp+gradient function that PyMC's NUTS uses
(``model.logp_dlogp_function(ravel_inputs=True)``) is compiled and timed under

* ``C``: PyTensor's C virtual machine (``CVM``) with ``allow_gc=False``, hiermod's mode before
  PyTensor 3;
* ``NUMBA``: PyTensor 3's default mode, what ``Model.fit`` uses now (``hiermod.inference.fit.sampling_mode``).

Each measurement runs in a fresh process (this script with ``--worker``) with one BLAS thread. The
first compile runs with an empty PyTensor cache (a new ``base_compiledir``: what a new machine, or a
new model structure, pays once); the second in a new process on the now warm cache (what every
later fit of that structure pays). One logp+gradient is the best of 5 ``timeit`` repeats.

Run: ``.venv/bin/python benchmarks/backends.py`` (about 15 minutes on 2 cores); it rewrites the
table between the markers in docs/performance.md. ``--json runs.json`` keeps the raw numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from markers import measured_on, replace_between

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
SHARED = ROOT.parent / "shared" / "data"
BEGIN = "<!-- backends:begin (benchmarks/backends.py writes this table) -->"
END = "<!-- backends:end -->"
MODES = ("C", "NUMBA")

# name -> (description, builder key)
MODELS = {
    "sleepstudy": "sleepstudy `Reaction ~ Days + (Days | Subject)` (180 rows)",
    "demo": "`make demo`: forum scenario, 3,000 rows, 6 × 3 cells, 3 features",
    "forum-1k": "forum scenario, 1,000 rows, 8 × 4 cells, 5 features",
    "forum-100k": "forum scenario, 100k rows, 50 × 4 cells (sufficient statistics)",
    "forum-100k-rows": "the same, row-wise (`suffstats=False`)",
    "poisson-100k": "Poisson `y ~ x + (1 + x | g)`, 100k rows, 50 groups",
}


def case(name: str) -> tuple[str, pd.DataFrame, dict[str, Any]]:
    """The formula, the data and the ``hm.Model`` keywords of the model called ``name``."""
    import hiermod as hm

    if name == "sleepstudy":
        data = pd.read_csv(SHARED / "sleepstudy.csv")
        return "Reaction ~ Days + (Days | Subject)", data, {}
    if name == "poisson-100k":
        rng = np.random.default_rng(1)
        n = 100_000
        g = rng.integers(0, 50, n)
        x = rng.normal(size=n)
        eta = 0.3 + rng.normal(0, 0.3, 50)[g] + (0.2 + rng.normal(0, 0.1, 50)[g]) * x
        data = pd.DataFrame({"y": rng.poisson(np.exp(eta)), "x": x, "g": [f"g{v}" for v in g]})
        return "y ~ x + (1 + x | g)", data, {"family": "poisson"}
    sizes = {
        "demo": {"n_rows": 3000, "n_features": 3, "n_groups": 6, "n_colors": 3, "seed": 11},
        "forum-1k": {"n_rows": 1000, "n_features": 5, "n_groups": 8, "n_colors": 4, "seed": 1},
        "forum-100k": {
            "n_rows": 100_000,
            "n_features": 5,
            "n_groups": 50,
            "n_colors": 4,
            "seed": 1,
        },
    }
    key = "forum-100k" if name == "forum-100k-rows" else name
    sim = hm.datasets.forum_scenario(**sizes[key])
    options = {"suffstats": False} if name == "forum-100k-rows" else {}
    return sim.formula, sim.data, options


def build(name: str) -> Any:
    import hiermod as hm

    formula, data, options = case(name)
    return hm.Model(formula, data, **options).pymc


def time_logp_dlogp(model: Any, mode: Any = None) -> dict[str, float]:
    """Compile ``model``'s joint logp+gradient (as NUTS does) and time one evaluation at a point
    near the initial one: compile seconds, and the best of 5 ``timeit`` repeats in ms."""
    start = time.perf_counter()
    function = model.logp_dlogp_function(mode=mode, ravel_inputs=True)
    function.set_extra_values({})
    point = np.concatenate([np.ravel(v) for v in model.initial_point().values()])
    point = point + np.random.default_rng(0).normal(0.0, 0.1, point.size)
    function(point)
    compile_seconds = time.perf_counter() - start
    number, _ = timeit.Timer(lambda: function(point)).autorange()
    best = min(timeit.repeat(lambda: function(point), number=number, repeat=5)) / number
    return {"compile_s": compile_seconds, "eval_ms": best * 1e3}


def mode_for(name: str) -> Any:
    from pytensor.compile.mode import get_mode

    if name == "C":
        return get_mode("CVM").clone(link_kwargs={"allow_gc": False})
    return get_mode(name)


def worker(model_name: str, mode_name: str) -> dict[str, float]:
    return time_logp_dlogp(build(model_name), mode_for(mode_name))


def run(model_name: str, mode_name: str, compiledir: Path) -> dict[str, float]:
    env = {
        **os.environ,
        "PYTENSOR_FLAGS": f"base_compiledir={compiledir}",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    done = subprocess.run(
        [sys.executable, __file__, "--worker", model_name, mode_name],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{model_name} {mode_name} failed:\n{done.stderr[-2000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(models: list[str]) -> list[dict[str, Any]]:
    rows = []
    for model_name in models:
        for mode_name in MODES:
            with tempfile.TemporaryDirectory(prefix="hiermod-backends-") as folder:
                cold = run(model_name, mode_name, Path(folder))
                warm = run(model_name, mode_name, Path(folder))
            row = {
                "model": model_name,
                "mode": mode_name,
                "cold_compile_s": cold["compile_s"],
                "warm_compile_s": warm["compile_s"],
                "eval_ms": min(cold["eval_ms"], warm["eval_ms"]),
            }
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    by = {(r["model"], r["mode"]): r for r in rows}
    lines = [
        "| model | C: first compile (s) | C: cached compile (s) | C: logp+grad (ms) "
        "| Numba: first compile (s) | Numba: cached compile (s) | Numba: logp+grad (ms) "
        "| Numba speed-up per gradient |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in dict.fromkeys(r["model"] for r in rows):
        c, n = by[(name, "C")], by[(name, "NUMBA")]
        lines.append(
            f"| {MODELS[name].replace('|', chr(92) + '|')} | {c['cold_compile_s']:.1f} | {c['warm_compile_s']:.1f} "
            f"| {c['eval_ms']:.3f} | {n['cold_compile_s']:.1f} | {n['warm_compile_s']:.1f} "
            f"| {n['eval_ms']:.3f} | {c['eval_ms'] / n['eval_ms']:.1f}× |"
        )
    lines += ["", measured_on("one BLAS thread per process.")]
    return "\n".join(lines)


def write(rows: list[dict[str, Any]]) -> None:
    replace_between(DOC, BEGIN, END, table(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", nargs=2, metavar=("MODEL", "MODE"), help=argparse.SUPPRESS)
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated subset")
    parser.add_argument("--json", type=Path, help="also write the raw rows here")
    parser.add_argument("--report-from", type=Path, help="rewrite the table from a --json file")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    if args.report_from:
        write(json.loads(args.report_from.read_text(encoding="utf-8")))
        return
    models = args.models.split(",")
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        raise SystemExit(f"unknown models {unknown}; choose from {list(MODELS)}")
    rows = measure(models)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    write(rows)


if __name__ == "__main__":
    main()
