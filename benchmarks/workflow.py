"""Time to a usable posterior: hiermod, Bambi and brms on the classic mixed models, one fit each.

Every tool fits the same rows (one CSV per model and run) with its ordinary calls, in a fresh
process per tool and model, like a user's script: hiermod ``hm.Model(formula, data).fit(
sampler="nutpie")``, Bambi ``bmb.Model(formula, data).fit(inference_method="nutpie")``, brms
``brm(formula, data)`` (rstan), where ``Rscript`` with brms is installed. Settings: 4 chains × 1000
draws after 1000 tuning steps, seed 1. Reported per fit: build, compile and sampling time, the total
wall time of the user-visible calls, gradient evaluations per draw, the minimum bulk ESS and maximum
R-hat over the population effects, group sds and sigma, ESS per second of total time, divergences,
and how far each peer's posterior means lie from hiermod's (in hiermod posterior sds). hiermod and
Bambi are also run once on an empty PyTensor cache (a few draws) for the first-run compile time.

Run: ``make bench-workflow`` (a few hours on 2 cores: InstEval and the 100k-row forum model are
slow in the peers) rewrites the tables of docs/benchmarks-workflow.md and keeps the raw results in
benchmarks/.cache/workflow/results.json; ``--report-from that.json`` rewrites the page from them.
``--quick`` (2 chains × 200 draws, no InstEval and no 100k rows) prints the tables instead.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from interpreters import python_for
from markers import measured_on, replace_between
from peers import THREAD_VARIABLES, fmt, machine, md
from workflow_cases import CACHE, CASES, Case, load
from workflow_fits import FIRST_RUN, Job, Result, worker

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks-workflow.md"
BEGIN = "<!-- workflow:begin (benchmarks/workflow.py writes this section) -->"
END = "<!-- workflow:end -->"
TOOLS = ("hiermod", "bambi", "brms")
SHOWN = {"hiermod": "hiermod", "bambi": "Bambi", "brms": "brms"}
MEM_LIMIT = 16 * 2**30  # RLIMIT_AS of a worker


# -- running workers ------------------------------------------------------------------------------


def brms_versions() -> dict[str, str] | None:
    """R, brms and rstan versions when ``Rscript`` can load brms; otherwise None."""
    if shutil.which("Rscript") is None:
        return None
    code = (
        'suppressPackageStartupMessages(library(brms)); cat(paste(R.version$major, R.version$minor, sep="."), '
        'as.character(packageVersion("brms")), as.character(packageVersion("rstan")))'
    )
    done = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, check=False)
    parts = done.stdout.split()
    if done.returncode != 0 or len(parts) != 3:
        return None
    return dict(zip(("R", "brms", "rstan"), parts, strict=True))


def boost_dir() -> str:
    """A directory holding only a link ``boost`` to the system's Boost headers: Debian's rstan
    needs it (its r-cran-bh has no headers; see shared/data/README.md). Empty when not needed."""
    system = Path("/usr/include/boost")
    if not system.is_dir():
        return ""
    link = CACHE / "boost-include" / "boost"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(system)
    return str(link.parent)


def worker_env(compiledir: Path) -> dict[str, str]:
    """One BLAS/OpenMP thread (as benchmarks/peers.py), and a PyTensor cache of the tool and model."""
    flags = ",".join(
        filter(None, [os.environ.get("PYTENSOR_FLAGS"), f"base_compiledir={compiledir}"])
    )
    return {**os.environ, **dict.fromkeys(THREAD_VARIABLES, "1"), "PYTENSOR_FLAGS": flags}


def run_job(job: Job, timeout: float, env: dict[str, str], logs: Path) -> Result:
    """Run a job in a worker process (its own session, killed with its children on timeout)."""
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{job.case}-{job.tool}-{job.phase}.log"
    with tempfile.TemporaryDirectory(prefix="workflow-") as tmp:
        out = Path(tmp) / "result.json"
        command = [
            python_for(job.tool),
            __file__,
            "--worker",
            json.dumps(asdict(job)),
            "--out",
            str(out),
        ]

        def limit_memory() -> None:
            resource.setrlimit(resource.RLIMIT_AS, (MEM_LIMIT, MEM_LIMIT))

        start = time.monotonic()
        timed_out = False
        with log.open("w") as log_file:
            proc = subprocess.Popen(
                command,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                preexec_fn=limit_memory,
                start_new_session=True,
                env=env,
            )
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
            with contextlib.suppress(ProcessLookupError):  # the worker's samplers, Rscript, …
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        wall = time.monotonic() - start
        if out.exists():
            result = Result(**json.loads(out.read_text(encoding="utf-8")))
        else:
            result = Result(job.tool, job.case, job.phase, status="failed")
            tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])[-300:]
            if timed_out:
                result.status, result.reason = "timeout", f"timed out after {timeout / 60:.0f} min"
            elif proc.returncode < 0:
                name = signal.Signals(-proc.returncode).name
                result.status, result.reason = "killed", f"killed by {name}; {tail}"
            else:
                result.reason = f"exit {proc.returncode}; {tail}"
    result.process_s = wall
    return result


def measure(
    args: argparse.Namespace, run: dict[str, Any], save: Callable[[list[Result]], None]
) -> list[Result]:
    """Every chosen case with every chosen tool, one after the other; results saved as they come."""
    results: list[Result] = []
    directory = CACHE / "run"
    directory.mkdir(parents=True, exist_ok=True)
    timeout = 60 * args.timeout
    started = time.monotonic()
    boost = boost_dir() if run["brms"] else ""
    for key in args.models:
        case = CASES[key]
        formula, data, reason = load(case)
        run["formulas"][key] = formula
        path = directory / f"{case.key}.csv"
        if data is not None:
            data.to_csv(path, index=False)
        for tool in args.tools:
            if data is None:
                result = Result(tool, key, status="skipped", reason=reason)
            elif tool == "brms" and not run["brms"]:
                result = Result(tool, key, status="not installed", reason="Rscript with brms")
            else:
                job = Job(tool, key, str(path), formula, boost=boost, **run["settings"])
                result = fit(job, timeout, directory)
            results.append(result)
            minutes = (time.monotonic() - started) / 60
            shown = result.status + (f" ({result.reason[:120]})" if result.reason else "")
            print(
                f"[{minutes:5.1f} min] {key:<11} {tool:<8} total {fmt(result.total_s):>7} s  "
                f"first compile {fmt(result.first_compile_s):>6} s  {shown}",
                flush=True,
            )
            save(results)
    return results


def fit(job: Job, timeout: float, directory: Path) -> Result:
    """The timed fit; for hiermod and Bambi first a fit of a few draws on an empty PyTensor cache
    (its compile time is the first-run compile; the timed fit then finds the cache filled)."""
    compiledir = directory / "compiledir" / f"{job.case}-{job.tool}"
    shutil.rmtree(compiledir, ignore_errors=True)
    env, logs = worker_env(compiledir), directory / "logs"
    first = None
    if job.tool != "brms":
        first = run_job(replace(job, phase="first"), timeout, env, logs)
    if first is not None and first.status != "ok":  # the timed fit would fail the same way
        shutil.rmtree(compiledir, ignore_errors=True)
        return replace(first, phase="timed", reason=f"empty-cache run: {first.reason}")
    result = run_job(job, timeout, env, logs)
    if first is not None:
        result.first_compile_s = first.compile_s
    else:
        result.first_compile_s = result.compile_s  # brm() compiles its Stan program every time
    shutil.rmtree(compiledir, ignore_errors=True)
    return result


# -- the report -----------------------------------------------------------------------------------


def worst(result: Result, key: str, pick: Callable[..., str]) -> tuple[float | None, str]:
    """The smallest (``pick=min``) or largest value of ``key`` over the compared parameters."""
    values = {k: v[key] for k, v in result.params.items()}
    if not values:
        return None, ""
    name = pick(values, key=values.__getitem__)
    return values[name], name


def ess_per_s(result: Result) -> float | None:
    ess, _ = worst(result, "ess", min)
    return ess / result.total_s if ess is not None and result.total_s else None


def agreement(ours: Result | None, theirs: Result) -> tuple[float | None, str]:
    """max |mean_hiermod − mean_peer| / sd_hiermod over the parameters both have."""
    if ours is None or theirs is ours or ours.status != "ok" or theirs.status != "ok":
        return None, ""
    gaps = {
        k: abs(ours.params[k]["mean"] - theirs.params[k]["mean"]) / ours.params[k]["sd"]
        for k in ours.params.keys() & theirs.params.keys()
    }
    if not gaps:
        return None, ""
    name = max(gaps, key=gaps.__getitem__)
    return gaps[name], name


def note(result: Result) -> str:
    parts = [] if result.status == "ok" else [f"{result.status}: {result.reason}"]
    if result.missing:
        parts.append(f"not found: {', '.join(result.missing)}; has {', '.join(result.available)}")
    return md("; ".join(parts))


def case_table(case: Case, rows: list[Result]) -> list[str]:
    ours = next((r for r in rows if r.tool == "hiermod"), None)
    lines = [
        "| tool | build (s) | compile (s), cached / empty cache | sampling (s) | total (s) | grads/draw | "
        "min bulk ESS | max R-hat | ESS/s | div. | max Δmean/sd vs hiermod | note |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        ess, ess_name = worst(r, "ess", min)
        rhat, rhat_name = worst(r, "rhat", max)
        gap, gap_name = agreement(ours, r)
        compile_s = f"{fmt(r.compile_s)} / {fmt(r.first_compile_s)}"
        lines.append(
            f"| {SHOWN[r.tool]} | {fmt(r.build_s)} | {compile_s} | {fmt(r.sample_s)} | "
            f"{fmt(r.total_s)} | {fmt(r.grads, 1)} | "
            + (f"{ess:.0f} ({ess_name})" if ess is not None else "—")
            + " | "
            + (f"{rhat:.3f} ({rhat_name})" if rhat is not None else "—")
            + f" | {fmt(ess_per_s(r))} | {'—' if r.divergences is None else r.divergences} | "
            + (f"{gap:.2f} ({gap_name})" if gap is not None else "—")
            + f" | {note(r)} |"
        )
    return lines


def times(theirs: float | None, ours: float | None) -> str:
    """``theirs / ours`` as ``12×``, ``5.5×`` or ``0.03×``."""
    if theirs is None or not ours:
        return "—"
    x = theirs / ours
    return f"{x:.0f}×" if x >= 10 else f"{x:.1f}×" if x >= 1 else f"{x:.2g}×"


def short(result: Result | None) -> str:
    if result is None:
        return "—"
    return {"timeout": result.reason}.get(result.status, result.status)


def ratio_table(results: list[Result]) -> list[str]:
    """Peer ÷ hiermod: total time (above 1×: hiermod is faster) and ESS/s (below 1×: hiermod is
    more efficient)."""
    peers = [t for t in TOOLS[1:] if any(r.tool == t for r in results)]
    if not peers:
        return ["No peer was run (`--tools`)."]
    head = " | ".join(
        f"{SHOWN[t]} ÷ hiermod: total time | {SHOWN[t]} ÷ hiermod: ESS/s" for t in peers
    )
    lines = [f"| model | {head} |", "|---|" + "---:|" * 2 * len(peers)]
    for key in dict.fromkeys(r.case for r in results):
        rows = {r.tool: r for r in results if r.case == key}
        ours = rows.get("hiermod")
        cells = []
        for tool in peers:
            theirs = rows.get(tool)
            if ours is None or ours.status != "ok" or theirs is None or theirs.status != "ok":
                text = short(theirs) if ours is not None and ours.status == "ok" else short(ours)
                cells += [text, text]
            else:
                cells += [
                    times(theirs.total_s, ours.total_s),
                    times(ess_per_s(theirs), ess_per_s(ours)),
                ]
        lines.append(f"| {key} | {' | '.join(cells)} |")
    return lines


def report(run: dict[str, Any], results: list[Result]) -> str:
    """The section between the page's markers: one table per model, the ratios, the settings."""
    lines: list[str] = []
    for key in dict.fromkeys(r.case for r in results):
        case = CASES[key]
        rows = [r for r in results if r.case == key]
        formula = run["formulas"].get(key, case.formula).replace("\n", "`, `")
        spelled = f"; Bambi `{case.bambi}`" if case.bambi else ""
        lines += [f"### {case.title}", "", f"`{formula}`{spelled}", "", *case_table(case, rows)]
        if case.note:
            lines += ["", case.note]
        lines.append("")
    s = run["settings"]
    versions = ", ".join(f"{k} {v}" for k, v in run["versions"].items())
    info = run["machine"]
    lines += [
        "### Ratios",
        "",
        *ratio_table(results),
        "",
        measured_on(
            f"{info['cpu'].split(',')[0]}, {info['ram']} RAM; {versions}; {s['chains']} chains × {s['draws']} draws after "
            f"{s['tune']} tuning steps, seed {s['seed']}; timeout {run['timeout_min']:.0f} min per "
            f"fit; load average {run['load_before']} before, {run.get('load_after', '—')} after; "
            f"{run.get('runtime_min', 0):.0f} min in all. `benchmarks/workflow.py`."
        ),
    ]
    return "\n".join(lines)


# -- the command ----------------------------------------------------------------------------------


def source_state() -> str:
    """The commit of the hiermod being measured, and whether its working tree had changes."""
    done = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty=, with local changes"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown commit"


def loadavg() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 chains × 200 draws, small models")
    parser.add_argument("--models", help=f"comma-separated subset of {', '.join(CASES)}")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset")
    parser.add_argument("--timeout", type=float, help="minutes per fit (default 30; quick 10)")
    parser.add_argument("--json", type=Path, help="raw results (default benchmarks/.cache/…)")
    parser.add_argument("--report-from", type=Path, help="rewrite the page from a --json file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(Job(**json.loads(args.worker)), args.out)
        return
    if args.report_from:
        saved = json.loads(args.report_from.read_text(encoding="utf-8"))
        results = [Result(**r) for r in saved["results"]]
        replace_between(DOC, BEGIN, END, report(saved["run"], results))
        return
    default = [k for k, c in CASES.items() if c.quick or not args.quick]
    args.models = args.models.split(",") if args.models else default
    args.tools = args.tools.split(",")
    unknown = sorted({*args.models} - CASES.keys() | {*args.tools} - {*TOOLS})
    if unknown:
        raise SystemExit(f"unknown model or tool: {', '.join(unknown)}")
    args.timeout = args.timeout or (10.0 if args.quick else 30.0)
    name = "results-quick.json" if args.quick else "results.json"
    path = args.json or CACHE / name
    brms = brms_versions() if "brms" in args.tools else None
    sizes = {"chains": 2, "draws": 200, "tune": 200} if args.quick else {}
    started = time.monotonic()
    info = machine()
    run: dict[str, Any] = {
        "machine": info,
        "versions": {
            "hiermod": f"{info['hiermod']} ({source_state()})",
            **{k: info[k] for k in ("bambi", "nutpie")},
            **(brms or ({"brms": "not installed"} if "brms" in args.tools else {})),
        },
        "brms": brms is not None,
        "settings": {"draws": 1000, "tune": 1000, "chains": 4, "seed": 1, **sizes},
        "first_run": FIRST_RUN,
        "timeout_min": args.timeout,
        "load_before": loadavg(),
        "formulas": {},  # each model's hiermod formula, as fitted
    }

    def save(results: list[Result]) -> None:
        run["load_after"] = loadavg()
        run["runtime_min"] = (time.monotonic() - started) / 60
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = {"run": run, "results": [asdict(r) for r in results]}
        path.write_text(json.dumps(raw, indent=1), encoding="utf-8")

    results = measure(args, run, save)
    save(results)
    print(f"wrote {path}")
    if args.quick:
        print(report(run, results))
    else:
        replace_between(DOC, BEGIN, END, report(run, results))


if __name__ == "__main__":
    main()
