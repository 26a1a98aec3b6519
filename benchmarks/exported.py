"""The exported source, run by itself, against ``Model.pymc``: the same model at the same speed.

``Model.pymc`` is the generated module run by hiermod (docs/architecture.md), so the two should
agree by construction; this benchmark shows it from the user's side. For each model the source of
``Model.source()`` is written to a file and the data to a Parquet file; then, each in a fresh
process with one BLAS thread and the same warm PyTensor cache:

* ``hiermod``: ``hm.Model(formula, df).pymc``;
* ``exported``: the file run with ``runpy`` in a process that never imports hiermod (checked), its
  ``build_model(pd.read_parquet(...))``.

Reported: seconds from the DataFrame to the ``pm.Model``, imports excluded (hiermod's includes
parsing, binding, planning, writing the source and running it; the file's, running it with its
``prepare`` and ``cell_data``), and one logp+gradient (Numba, as NUTS
uses it; best of 5 repeats, :func:`backends.time_logp_dlogp`), with their ratio; each the fastest
of 3 fresh processes, alternating between the two (a 10 µs gradient varies by a third from one
process to the next).

Run: ``.venv/bin/python benchmarks/exported.py`` (a few minutes); it rewrites the table between the
markers in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from backends import MODELS, case, time_logp_dlogp
from markers import measured_on, replace_between

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
BEGIN = "<!-- exported:begin (benchmarks/exported.py writes this table) -->"
END = "<!-- exported:end -->"
CHOSEN = ("sleepstudy", "forum-100k", "poisson-100k")
REPEATS = 3  # fresh processes per kind; the fastest of each is reported


def worker(kind: str, name: str, folder: Path) -> dict[str, float]:
    import pandas as pd
    import pymc  # noqa: F401  (imports are not timed, for either)

    data = pd.read_parquet(folder / "data.parquet")
    if kind == "hiermod":
        import hiermod as hm

        formula, _, options = case(name)
        start = time.perf_counter()
        model = hm.Model(formula, data, **options).pymc
    else:
        import runpy

        start = time.perf_counter()
        module = runpy.run_path(str(folder / "model.py"), run_name="exported")
        model = module["build_model"](data)
        if any(m == "hiermod" or m.startswith("hiermod.") for m in sys.modules):
            raise RuntimeError("the exported module imported hiermod")
    build_seconds = time.perf_counter() - start
    return {"build_s": build_seconds, **time_logp_dlogp(model)}


def run(kind: str, name: str, folder: Path, compiledir: Path) -> dict[str, float]:
    env = {
        **os.environ,
        "PYTENSOR_FLAGS": f"base_compiledir={compiledir}",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    done = subprocess.run(
        [sys.executable, __file__, "--worker", kind, name, str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{kind} {name} failed:\n{done.stderr[-2000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(names: list[str]) -> list[dict[str, Any]]:
    import hiermod as hm

    rows = []
    with tempfile.TemporaryDirectory(prefix="hiermod-exported-") as scratch:
        compiledir = Path(scratch) / "pytensor"
        for name in names:
            folder = Path(scratch) / name
            folder.mkdir()
            formula, data, options = case(name)
            data.to_parquet(folder / "data.parquet")
            source = hm.Model(formula, data, **options).source()
            (folder / "model.py").write_text(source, encoding="utf-8")
            run("hiermod", name, folder, compiledir)  # warms the compile cache for both
            row: dict[str, Any] = {"model": name}
            runs: dict[str, list[dict[str, float]]] = {"hiermod": [], "exported": []}
            for _ in range(REPEATS):  # alternating, so that drift in the machine hits both
                for kind in runs:
                    runs[kind].append(run(kind, name, folder, compiledir))
            for kind, results in runs.items():
                row[kind] = {key: min(r[key] for r in results) for key in results[0]}
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| model | hiermod: build (s) | exported file: build (s) | hiermod: logp+grad (ms) "
        "| exported file: logp+grad (ms) | exported / hiermod per gradient |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        h, e = r["hiermod"], r["exported"]
        lines.append(
            f"| {MODELS[r['model']].replace('|', chr(92) + '|')} | {h['build_s']:.2f} "
            f"| {e['build_s']:.2f} | {h['eval_ms']:.3f} | {e['eval_ms']:.3f} "
            f"| {e['eval_ms'] / h['eval_ms']:.2f} |"
        )
    lines += ["", measured_on("one BLAS thread per process, warm compile cache.")]
    return "\n".join(lines)


def write(rows: list[dict[str, Any]]) -> None:
    replace_between(DOC, BEGIN, END, table(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--worker", nargs=3, metavar=("KIND", "MODEL", "FOLDER"), help=argparse.SUPPRESS
    )
    parser.add_argument("--models", default=",".join(CHOSEN), help="comma-separated subset")
    parser.add_argument("--json", type=Path, help="also write the raw rows here")
    parser.add_argument("--report-from", type=Path, help="rewrite the table from a --json file")
    args = parser.parse_args()
    if args.worker:
        kind, name, folder = args.worker
        print(json.dumps(worker(kind, name, Path(folder))))
        return
    if args.report_from:
        write(json.loads(args.report_from.read_text(encoding="utf-8")))
        return
    names = args.models.split(",")
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        raise SystemExit(f"unknown models {unknown}; choose from {list(MODELS)}")
    rows = measure(names)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    write(rows)


if __name__ == "__main__":
    main()
