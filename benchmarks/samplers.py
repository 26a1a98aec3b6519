"""Which NUTS implementation hiermod should run by default: PyMC's, nutpie or NumPyro, end to end.

Issue 18 asks for the fastest sampler end to end as the default, "with its compile cost measured".
For each model of benchmarks/workflow_cases.py chosen and each sampler, a fresh process does what a
user's script does, ``hm.Model(formula, data, family=...).fit(sampler=...)`` with every other
setting at hiermod's default (4 chains × 1000 draws after 1000 tuning steps, seed 1, no pointwise
log-likelihood, as in benchmarks/workflow.py), and reports:

* *total*: the wall time of ``Model(...)`` + ``fit(...)``, the time to a posterior in hand;
* *min bulk ESS* and *max R-hat* over the case's compared parameters (population effects, group
  sds, sigma), by ArviZ from the draws; *ESS/s* = min bulk ESS / total;
* *CPU*: the CPU seconds of the same calls, this process's threads and its chain processes
  (PyMC's): on a shared machine a steadier comparison than wall time; *ESS per CPU s*;
* *grads/draw*: leapfrog steps per draw after tuning; *div.*: divergences after tuning.

Each (case, sampler) first runs once with a few draws to fill its PyTensor cache (an empty cache per
sampler and case, so no sampler profits from another's compiled code); the timed process then
compiles on that warm cache, as a user's second session does. The first run's time is shown too
(*empty cache*).

Run: ``.venv/bin/python benchmarks/samplers.py`` (the six small models, about 15 minutes on 2
cores), ``--models sleepstudy,radon --samplers pymc,nutpie`` to choose, ``--json out.json`` for the
raw numbers. It prints a Markdown table; docs/performance.md quotes it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from markers import measured_on
from peers import THREAD_VARIABLES, fmt
from workflow_cases import CASES, hiermod_name, load

SAMPLERS = ("pymc", "nutpie", "numpyro")
SMALL = ("sleepstudy", "radon", "cbpp", "epilepsy", "penicillin", "forum-1k")
FIRST = {"draws": 20, "tune": 20, "chains": 1}
TIMED = {"draws": 1000, "tune": 1000, "chains": 4}


def cpu_seconds() -> float:
    """CPU time of this process (nutpie's and NumPyro's chains are its threads) and of its ended
    children (PyMC's chains are processes): less sensitive to a busy machine than wall time."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def worker(case_key: str, sampler: str, phase: str) -> dict[str, Any]:
    """One fit in this process; the numbers of :func:`run`."""
    import arviz as az
    import numpy as np
    import xarray as xr

    case = CASES[case_key]
    formula, data, reason = load(case)
    if data is None:
        return {"status": "skipped", "why": reason}
    import hiermod.model as hm_model  # what `hm.Model` imports on first use: not part of the timing

    start, cpu = time.perf_counter(), cpu_seconds()
    model = hm_model.Model(formula, data, family=case.family)
    settings = FIRST if phase == "first" else TIMED
    fit = model.fit(
        sampler=sampler, random_seed=1, progressbar=False, log_likelihood=False, **settings
    )
    total = time.perf_counter() - start
    out: dict[str, Any] = {"status": "ok", "total_s": total, "cpu_s": cpu_seconds() - cpu}
    if phase == "first":
        return out
    posterior, stats = fit["posterior"].to_dataset(), fit["sample_stats"].to_dataset()
    draws = {}
    for p in case.params:
        name, selection = hiermod_name(p)
        values = posterior[name]
        values = values.sel({d: v for d, v in selection.items() if d in values.dims})
        draws[p.label] = (("chain", "draw"), values.transpose("chain", "draw").to_numpy())
    data_set = xr.Dataset(draws)
    ess, rhat = az.ess(data_set, method="bulk"), az.rhat(data_set)
    steps = next(stats[k] for k in ("n_steps", "tree_size", "num_steps") if k in stats)
    out |= {
        "min_ess": float(min(float(ess[k]) for k in draws)),
        "min_ess_of": min(draws, key=lambda k: float(ess[k])),
        "max_rhat": float(max(float(rhat[k]) for k in draws)),
        "grads": float(np.asarray(steps).mean()),
        "divergences": int(np.asarray(stats["diverging"]).sum()),
    }
    return out


def run(case_key: str, sampler: str, phase: str, compiledir: Path) -> dict[str, Any]:
    """:func:`worker` in a fresh process with one BLAS thread and its own PyTensor cache."""
    env = dict(os.environ) | dict.fromkeys(THREAD_VARIABLES, "1")
    env["PYTENSOR_FLAGS"] = f"base_compiledir={compiledir}"
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [sys.executable, __file__, "--worker", f"{case_key},{sampler},{phase}"]
        done = subprocess.run(
            [*command, "--out", out.name], env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            tail = " ".join(done.stderr.strip().splitlines()[-3:])
            return {"status": "failed", "why": tail[-300:]}
        result: dict[str, Any] = json.loads(Path(out.name).read_text())
        return result


def table(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    """The Markdown table: a row per case and sampler."""
    head = (
        "| model | sampler | total (s), warm cache | CPU (s) | empty cache (s) | grads/draw | "
        "min bulk ESS | max R-hat | ESS/s | ESS per CPU s | div. |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [head]
    for case_key, by_sampler in results.items():
        for sampler, r in by_sampler.items():
            timed, first = r["timed"], r["first"]
            if timed.get("status") != "ok":
                lines.append(
                    f"| {case_key} | {sampler} | {timed.get('status')}: "
                    f"{timed.get('why', '')} | | | | | | | | |"
                )
                continue
            ess_s = timed["min_ess"] / timed["total_s"]
            lines.append(
                f"| {case_key} | {sampler} | {fmt(timed['total_s'])} | {fmt(timed['cpu_s'])} | "
                f"{fmt(first.get('total_s'))} | {fmt(timed['grads'])} | "
                f"{timed['min_ess']:.0f} ({timed['min_ess_of']}) | {timed['max_rhat']:.3f} | "
                f"{fmt(ess_s)} | {fmt(timed['min_ess'] / timed['cpu_s'])} | "
                f"{timed['divergences']} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(SMALL))
    parser.add_argument("--samplers", default="pymc,nutpie")
    parser.add_argument("--json", type=Path, help="write the raw results here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        case_key, sampler, phase = args.worker.split(",")
        args.out.write_text(json.dumps(worker(case_key, sampler, phase)))
        return
    models, samplers = args.models.split(","), args.samplers.split(",")
    unknown = sorted({*models} - CASES.keys() | {*samplers} - {*SAMPLERS})
    if unknown:
        raise SystemExit(f"unknown: {', '.join(unknown)}")
    results: dict[str, dict[str, dict[str, Any]]] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        for case_key in models:
            results[case_key] = {}
            for sampler in samplers:
                compiledir = Path(scratch) / f"{case_key}-{sampler}"
                first = run(case_key, sampler, "first", compiledir)
                timed = run(case_key, sampler, "timed", compiledir)
                results[case_key][sampler] = {"first": first, "timed": timed}
                print(case_key, sampler, timed, flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    minutes = (time.perf_counter() - started) / 60
    print(table(results))
    print()
    print(
        measured_on(
            f"4 chains × 1000 draws after 1000 tuning steps, seed 1; load average "
            f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} after; {minutes:.0f} min in all. "
            "`benchmarks/samplers.py`."
        )
    )


if __name__ == "__main__":
    main()
