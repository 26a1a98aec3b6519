"""Where the time to a first draw goes on small models: hiermod against Bambi, stage by stage.

For each case of benchmarks/workflow_cases.py chosen (default sleepstudy, radon, cbpp) and each tool
(hiermod, and Bambi when it is installed: the ``bench`` extra), a fresh process per measurement:

* **build**: ``hm.Model(formula, data).pymc`` split into its stages (parse, bind, lower, emit the
  source, run the source); Bambi's ``bmb.Model(...)`` + ``.build()``;
* **compile**: ``nutpie.compile_pymc_model(model)``, what ``fit(sampler="nutpie")`` calls, on a warm
  PyTensor cache (a cache of the tool and case, filled by a first run) and on an empty one (a new
  ``base_compiledir`` per process), split into the initial-point function, nutpie's shape
  function, the logp+gradient function, the expand function (the draws' deterministics) and
  Numba's compile of nutpie's C callbacks;
* **graph**: Apply nodes of the logp+gradient and of the expand function after PyTensor's rewrites
  (``fn.maker.fgraph.apply_nodes``), and of the initial-point function;
* **logp+grad**: one evaluation of the compiled logp+gradient (µs, best of 5 × 2,000 calls);
* **second fit**: in one process, a fit, then a new model of the same formula on the rows
  shuffled (new data, same structure) fitted again: the seconds from the second ``Model(...)``
  until nutpie starts sampling.

Each measurement is repeated (``--repeats``, default 3) in its own process, and the minimum kept:
the machine is shared, so read the numbers as ratios within one run.

Run: ``.venv/bin/python benchmarks/compile_overhead.py`` (``make venv-bench`` installs Bambi, in an
environment of its own: ``benchmarks/interpreters.py``; about 10 minutes on 2 cores),
``--cases sleepstudy --tools hiermod --repeats 1`` for a quick look,
``--json out.json`` keeps the raw numbers. It prints the tables (Markdown).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from interpreters import has_tool, python_for
from markers import measured_on
from peers import THREAD_VARIABLES, fmt
from workflow_cases import CACHE, CASES, load

BUILD_STAGES = ("parse", "bind", "lower", "emit", "run source")
COMPILE_PARTS = ("initial point", "shapes", "logp+grad fn", "expand fn", "numba cfunc")
COMPILE_COLUMNS = (*COMPILE_PARTS, "other", "fit to sampling")
IMPORTS = {"hiermod": "hiermod.model", "bambi": "bambi"}  # hm.Model is imported on first use


# -- timing hooks ---------------------------------------------------------------------------------


STACK: list[float] = []  # per open timed call: seconds spent in timed calls nested in it


def timed(
    label: str, function: Callable[..., Any], seconds: dict[str, float]
) -> Callable[..., Any]:
    """``function`` adding its wall time to ``seconds[label]``, less that of timed calls inside it
    (nutpie's shape function builds an initial-point function: counted as "initial point")."""

    def call(*args: Any, **kwargs: Any) -> Any:
        STACK.append(0.0)
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            elapsed = time.perf_counter() - start
            inner = STACK.pop()
            seconds[label] = seconds.get(label, 0.0) + elapsed - inner
            if STACK:
                STACK[-1] += elapsed

    return call


@contextmanager
def timed_attributes(
    targets: dict[str, tuple[Any, str]], seconds: dict[str, float]
) -> Iterator[None]:
    """Replace each ``owner.attribute`` by :func:`timed` while active."""
    originals = {label: getattr(owner, name) for label, (owner, name) in targets.items()}
    for label, (owner, name) in targets.items():
        setattr(owner, name, timed(label, originals[label], seconds))
    try:
        yield
    finally:
        for label, (owner, name) in targets.items():
            setattr(owner, name, originals[label])


def build_hooks() -> dict[str, tuple[Any, str]]:
    """The stage functions ``hm.Model`` and ``Model.pymc`` call, by stage."""
    import hiermod.model as hm_model
    import hiermod.output.source as source

    hooks = {
        "parse": (hm_model, "_combine"),
        "bind": (hm_model, "bind"),
        "lower": (hm_model, "lower"),
        "lower+": (hm_model, "plan_suffstats"),
        "lower++": (hm_model, "plan_collapse"),
        "emit": (source, "emit_source"),
        "run source": (hm_model, "load_module"),
        "run source+": (hm_model, "build"),
    }
    return {k: v for k, v in hooks.items() if hasattr(*v)}


def compile_hooks(seconds: dict[str, float]) -> tuple[dict[str, tuple[Any, str]], list[Any]]:
    """nutpie's compile steps; the PyTensor functions nutpie compiles go in the list, in order
    (the logp+gradient, then the expand function), and Numba's compile of its callbacks is timed."""
    import numba
    import nutpie.compile_pymc as ncp
    import pymc.initial_point
    import pymc.pytensorf

    functions: list[Any] = []
    compile_pymc = pymc.pytensorf.compile

    def collecting_compile(*args: Any, **kwargs: Any) -> Any:
        label = ("logp+grad fn", "expand fn")[min(len(functions), 1)]
        fn = timed(label, compile_pymc, seconds)(*args, **kwargs)
        functions.append(fn)
        return fn

    cfunc = numba.cfunc

    def timed_cfunc(*args: Any, **kwargs: Any) -> Any:
        return timed("numba cfunc", cfunc(*args, **kwargs), seconds)

    hooks = {
        "initial point": (pymc.initial_point, "make_initial_point_fn"),
        "shapes": (ncp, "_compute_shapes"),
    }
    pymc.pytensorf.compile = collecting_compile  # a worker process measures once, then exits
    numba.cfunc = timed_cfunc
    return hooks, functions


def fold(seconds: dict[str, float]) -> dict[str, float]:
    """Labels ``stage+`` added into ``stage``."""
    out: dict[str, float] = {}
    for label, value in seconds.items():
        key = label.rstrip("+")
        out[key] = out.get(key, 0.0) + value
    return out


# -- the tools ------------------------------------------------------------------------------------


def build_model(tool: str, key: str, data: Any) -> tuple[Any, dict[str, float]]:
    """The case's PyMC model built by ``tool``, and the build's seconds by stage (``total`` too)."""
    case = CASES[key]
    formula, _, _ = load(case)
    seconds: dict[str, float] = {}
    if tool == "hiermod":
        import hiermod as hm  # imports are not part of the build

        hooks = build_hooks()
        start = time.perf_counter()
        with timed_attributes(hooks, seconds):
            model = hm.Model(formula, data, family=case.family)
            pymc_model = model.pymc
    else:
        import bambi as bmb

        start = time.perf_counter()
        model = bmb.Model(case.bambi or formula, data, family=case.family)
        model.build()
        pymc_model = model.backend.model
    seconds = fold(seconds)
    seconds["total"] = time.perf_counter() - start
    return (model, pymc_model), seconds


class _StopBeforeSamplingError(Exception):
    """Raised instead of sampling: the fit is measured up to nutpie's first draw."""


def measure_compile(tool: str, model: Any) -> dict[str, Any]:
    """The tool's own ``fit(... nutpie)`` up to sampling: ``nutpie.compile_pymc_model`` timed by
    part (with the options the tool passes), graph sizes, one logp+gradient."""
    import nutpie

    seconds: dict[str, float] = {}
    hooks, functions = compile_hooks(seconds)
    kept: list[Any] = []
    compile_pymc_model, sample = nutpie.compile_pymc_model, nutpie.sample

    def timed_compile(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        with timed_attributes(hooks, seconds):
            kept.append(compile_pymc_model(*args, **kwargs))
        seconds["total"] = time.perf_counter() - start
        return kept[-1]

    def stop(*args: Any, **kwargs: Any) -> Any:
        seconds["fit to sampling"] = time.perf_counter() - start
        raise _StopBeforeSamplingError

    nutpie.compile_pymc_model, nutpie.sample = timed_compile, stop
    settings = {"draws": 1, "tune": 1, "chains": 1, "random_seed": 1, "progressbar": False}
    start = time.perf_counter()
    try:
        if tool == "hiermod":
            model.fit(sampler="nutpie", log_likelihood=False, **settings)
        else:
            model.fit(inference_method="nutpie", **settings)
    except _StopBeforeSamplingError:
        pass
    finally:
        nutpie.compile_pymc_model, nutpie.sample = compile_pymc_model, sample
    seconds["other"] = seconds["total"] - sum(seconds.get(p, 0.0) for p in COMPILE_PARTS)
    (compiled,) = kept
    logp_fn, expand_fn = functions
    x = compiled.initial_point_func(1)
    fn = compiled.logp_func
    fn.trust_input = True
    fn(x)
    loops = 2000
    best = min(timeit.repeat(lambda: fn(x), number=loops, repeat=5)) / loops
    return {
        "compile": seconds,
        "nodes": {
            "logp+grad": len(logp_fn.maker.fgraph.apply_nodes),
            "expand": len(expand_fn.maker.fgraph.apply_nodes),
        },
        "logp_us": best * 1e6,
        "n_dim": int(compiled.n_dim),
        "n_expanded": int(compiled.n_expanded),
    }


def measure_second_fit(tool: str, key: str, data: Any) -> dict[str, float]:
    """In one process: a short fit, then a new model of the same formula on the same rows (a
    copy), then on the rows shuffled (new data): seconds from each ``Model(...)`` to nutpie's first
    draw."""
    import nutpie

    settings = {"draws": 20, "tune": 20, "chains": 1, "random_seed": 1, "progressbar": False}
    marks: dict[str, float] = {}
    sample = nutpie.sample

    def marked_sample(*args: Any, **kwargs: Any) -> Any:
        marks.setdefault("sample", time.perf_counter())
        return sample(*args, **kwargs)

    nutpie.sample = marked_sample
    times = {}
    fits = (
        ("first", data),
        ("same data", data.copy()),
        ("new data", data.sample(frac=1.0, random_state=2)),
    )
    for label, rows in fits:
        marks.clear()
        start = time.perf_counter()
        (model, _), _ = build_model(tool, key, rows.reset_index(drop=True))
        if tool == "hiermod":
            model.fit(sampler="nutpie", log_likelihood=False, **settings)
        else:
            model.fit(inference_method="nutpie", **settings)
        times[label] = marks["sample"] - start
    return times


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    import warnings

    warnings.simplefilter("ignore")
    case = CASES[spec["case"]]
    _, data, reason = load(case)
    if data is None:
        raise SystemExit(reason)
    importlib.import_module(IMPORTS[spec["tool"]])  # imports are not timed
    if spec["phase"] == "second":
        return {"second_fit": measure_second_fit(spec["tool"], spec["case"], data)}
    importlib.import_module("nutpie")
    start = time.perf_counter()
    (model, _), build = build_model(spec["tool"], spec["case"], data)
    result = {"build": build, **measure_compile(spec["tool"], model)}
    result["to_first_logp"] = time.perf_counter() - start
    return result


# -- the parent -----------------------------------------------------------------------------------


def run(spec: dict[str, Any], compiledir: Path) -> dict[str, Any]:
    """One worker process with one BLAS thread and PyTensor's cache in ``compiledir``."""
    flags = ",".join(
        filter(None, [os.environ.get("PYTENSOR_FLAGS"), f"base_compiledir={compiledir}"])
    )
    env = {**os.environ, **dict.fromkeys(THREAD_VARIABLES, "1"), "PYTENSOR_FLAGS": flags}
    done = subprocess.run(
        [python_for(spec["tool"]), __file__, "--worker", json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise SystemExit(f"worker {spec} failed: {tail}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def minimum(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each number's minimum over the runs (nested dicts key by key)."""
    first = runs[0]
    if isinstance(first, dict):
        return {k: minimum([r[k] for r in runs]) for k in first}
    return min(runs)


def measure(case: str, tool: str, repeats: int, scratch: Path) -> dict[str, Any]:
    warm_dir = CACHE / "compile-overhead" / f"{tool}-{case}"
    spec = {"case": case, "tool": tool, "phase": "compile"}
    run(spec, warm_dir)  # fills the warm cache
    warm = minimum([run(spec, warm_dir) for _ in range(repeats)])
    empty = minimum([run(spec, scratch / f"{tool}-{case}-{i}") for i in range(repeats)])
    second = minimum([run({**spec, "phase": "second"}, warm_dir) for _ in range(repeats)])
    return {"warm": warm, "empty": empty, **second}


# -- tables ---------------------------------------------------------------------------------------


def tables(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    lines = [
        "| case | tool | build (s) | compile warm (s) | compile empty (s) | logp+grad nodes "
        "| expand nodes | logp+grad (µs) | second fit, same data / new data (s) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case, by_tool in results.items():
        for tool, r in by_tool.items():
            w, e = r["warm"], r["empty"]
            lines.append(
                f"| {case} | {tool} | {fmt(w['build']['total'])} | {fmt(w['compile']['total'])} "
                f"| {fmt(e['compile']['total'])} | {w['nodes']['logp+grad']} "
                f"| {w['nodes']['expand']} | {fmt(w['logp_us'], 1)} "
                f"| {fmt(r['second_fit']['same data'])} / {fmt(r['second_fit']['new data'])} |"
            )
    lines += ["", "Build by stage (s, warm cache):", ""]
    lines += ["| case | tool | " + " | ".join(BUILD_STAGES) + " |", "|---|---|" + "---:|" * 5]
    for case, by_tool in results.items():
        for tool, r in by_tool.items():
            b = r["warm"]["build"]
            cells = " | ".join(fmt(b.get(s)) for s in BUILD_STAGES)
            lines.append(f"| {case} | {tool} | {cells} |")
    lines += ["", "Compile by part (s), warm / empty cache:", ""]
    lines += [
        "| case | tool | " + " | ".join(COMPILE_COLUMNS) + " |",
        "|---|---|" + "---:|" * len(COMPILE_COLUMNS),
    ]
    for case, by_tool in results.items():
        for tool, r in by_tool.items():
            w, e = r["warm"]["compile"], r["empty"]["compile"]
            cells = " | ".join(f"{fmt(w.get(p))} / {fmt(e.get(p))}" for p in COMPILE_COLUMNS)
            lines.append(f"| {case} | {tool} | {cells} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--cases", default="sleepstudy,radon,cbpp")
    parser.add_argument("--tools", default="hiermod,bambi")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the raw results here")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    tools = args.tools.split(",")
    if "bambi" in tools and not has_tool("bambi"):
        print("Bambi is not installed (make venv-bench): hiermod only", file=sys.stderr)
        tools.remove("bambi")
    results: dict[str, dict[str, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="compile-overhead-") as scratch:
        for case in args.cases.split(","):
            for tool in tools:
                print(f"{case} {tool} …", file=sys.stderr, flush=True)
                results.setdefault(case, {})[tool] = measure(
                    case, tool, args.repeats, Path(scratch)
                )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(tables(results))
    print()
    print(measured_on(f"one BLAS thread per process; minimum of {args.repeats} processes each."))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
