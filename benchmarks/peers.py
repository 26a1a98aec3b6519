"""hiermod against its peers: Bambi and a hand-written PyMC model, on the same generated data.

Scenario (the forum thread in ``shared/context``): ``y ~ 1 + x1..x5 + (1 + x1..x5 | group:color)``
with ``sigma ~ (1 | group:color)``, data from :func:`hiermod.datasets.forum_scenario` at 1k and 100k
rows (50 × 4 cells) and 1M rows (1000 × 4 cells); plus a Poisson ``y ~ x + (1 + x | g)`` at 100k
rows. Per tool and size: model build time (DataFrame → ``pm.Model``), first compile of logp+gradient,
logp+gradient time per evaluation, peak memory, and on the smallest size ESS per second with PyMC's
NUTS and with nutpie. Every tool compiles with PyTensor's Numba backend (PyTensor 3's default, and
what ``Model.fit`` uses; benchmarks/backends.py compares it with the C backend). Workers run with
one BLAS thread (``--blas-threads``) so that timings do not depend on whether another process holds
the second core.

Every measurement runs in its own subprocess (this script with a hidden ``--worker`` flag) under an
address-space limit and a timeout, so memory is that of one tool on one data set and an out-of-memory
or crash is recorded as the reason instead of ending the run. Results go to ``docs/benchmarks.md``.

Run: ``make bench`` (everything; about 10 minutes on 2 cores) or, for a quick look,
``.venv/bin/python benchmarks/peers.py --sizes 1k,100k --skip-sampling``. ``--json runs.json`` keeps
the raw results; ``--report-from runs.json`` rewrites the markdown from them without measuring.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import inspect
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import tempfile
import time
import timeit
import traceback
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from interpreters import python_for, tool_versions

if TYPE_CHECKING:
    import pymc as pm

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
STACK_NOTES = ROOT / "benchmarks" / "stack-change.md"  # appended to the report as written
FEATURES = tuple(f"x{j}" for j in range(1, 6))
_TERMS = " + ".join(FEATURES)
FORUM_MU = f"y ~ 1 + {_TERMS} + (1 + {_TERMS} | group:color)"
FORUM_SIGMA = "sigma ~ (1 | group:color)"
POISSON = "y ~ x + (1 + x | g)"
SEED = 1
WARMUP_ROWS = 300  # rows used to warm one-time costs (imports, lazy caches) before timing a build
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


# -- data sets ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DataSet:
    """One generated data set: forum scenario at some size, or the Poisson case."""

    key: str  # "1k", "100k", "1M", "poisson-100k"
    rows: int
    groups: int
    colors: int = 0
    family: str = "gaussian"

    @property
    def cells(self) -> str:
        return f"{self.groups} × {self.colors}" if self.colors else f"{self.groups}"


FORUM_SIZES = {
    "1k": DataSet("1k", 1_000, 50, 4),
    "100k": DataSet("100k", 100_000, 50, 4),
    "1M": DataSet("1M", 1_000_000, 1000, 4),
}
POISSON_SET = DataSet("poisson-100k", 100_000, 50, family="poisson")


def poisson_data(rows: int, groups: int, seed: int) -> pd.DataFrame:
    """Counts with a correlated random intercept and slope per group: ``y ~ x + (1 + x | g)``."""
    rng = np.random.default_rng(seed)
    sd = np.array([0.5, 0.2])
    cov = np.array([[1.0, 0.3], [0.3, 1.0]]) * np.outer(sd, sd)
    r = rng.multivariate_normal(np.zeros(2), cov, size=groups)
    g = rng.permutation(np.arange(rows) % groups)
    x = rng.normal(0.0, 1.0, size=rows)
    eta = 1.0 + r[g, 0] + (0.3 + r[g, 1]) * x
    y = rng.poisson(np.exp(eta))
    return pd.DataFrame({"g": [f"g{i:03d}" for i in g], "x": x, "y": y})


def generate(dataset: DataSet, directory: Path) -> Path:
    """Generate the data set once and store it, so every tool reads the very same rows."""
    from hiermod.datasets import forum_scenario

    path = directory / f"{dataset.key}.pkl"
    if dataset.family == "poisson":
        data = poisson_data(dataset.rows, dataset.groups, SEED)
    else:
        data = forum_scenario(
            dataset.rows, len(FEATURES), dataset.groups, dataset.colors, seed=SEED
        ).data
    data.to_pickle(path)
    return path


# -- jobs and results -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Job:
    """One measurement in one subprocess."""

    task: str  # "logp" | "sample" | "warmup"
    tool: str  # "hiermod" | "bambi" | "pymc"
    # shown in tables: "hiermod", "hiermod suffstats=False", "Bambi", "hand-written PyMC"
    label: str
    dataset: str  # DataSet key
    path: str  # pickled DataFrame
    family: str = "gaussian"
    options: dict[str, Any] = field(default_factory=dict)  # hiermod.Model keyword arguments
    sampler: str = ""  # "pymc" | "nutpie"
    draws: int = 500
    tune: int = 500
    chains: int = 4
    env: dict[str, str] = field(default_factory=dict)  # extra environment of the worker
    profile: bool = False  # after timing, profile logp+gradient with PyTensor's profiler


@dataclass(slots=True)
class Result:
    """What a worker measured (times in seconds unless named otherwise)."""

    job: Job
    status: str = "ok"  # "ok" | "failed" | "out of memory" | "timeout" | "killed"
    reason: str = ""
    build_s: float | None = None
    compile_s: float | None = None
    eval_ms: float | None = None  # median logp+gradient evaluation
    eval_min_ms: float | None = None
    n_params: int | None = None
    logp: float | None = None
    base_mb: float | None = None  # RSS after imports, data and warm-up
    peak_mb: float | None = None  # high-water RSS of the worker (getrusage ru_maxrss)
    sample_s: float | None = None  # tune + draws wall time, compile excluded
    ess_min: float | None = None
    ess_param: str = ""
    divergences: int | None = None
    wall_s: float | None = None  # the whole subprocess
    variant: str = ""  # hiermod: which likelihood it built ("suffstats" or "row-wise")
    profile: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.job.label} [{self.variant}]" if self.variant else self.job.label


# -- model builders (run inside workers) ----------------------------------------------------------


def build_hiermod(data: pd.DataFrame, job: Job) -> pm.Model:
    """hiermod: formula text to ``pm.Model`` (every available mode, chosen by ``job.options``)."""
    import hiermod as hm

    if job.family == "poisson":
        model = hm.Model(POISSON, data, family="poisson", **job.options)
    else:
        model = hm.Model(f"{FORUM_MU}\n{FORUM_SIGMA}", data, **job.options)
    _LAST_HIERMOD["model"] = model
    return model.pymc


_LAST_HIERMOD: dict[str, Any] = {}  # the last hm.Model built, for its parameter roles


def build_bambi(data: pd.DataFrame, job: Job) -> pm.Model:
    """Bambi with the same formula; sigma through a distributional formula (``bmb.Formula``)."""
    import bambi as bmb

    if job.family == "poisson":
        model = bmb.Model(POISSON, data, family="poisson")
    else:
        formula = bmb.Formula(FORUM_MU, FORUM_SIGMA.replace(" ", ""))
        model = bmb.Model(formula, data, family="gaussian")
    model.build()
    return model.backend.model


def build_handwritten(data: pd.DataFrame, job: Job) -> pm.Model:
    """The forum thread's nested model, written by hand as a careful PyMC user would.

    Dims ``(group, color, effect)``, effects gathered with two indices ``r[g_idx, c_idx]``, an LKJ
    prior on the correlation of the effects, non-centred (``r = z @ chol.T``), per-cell noise
    ``exp(sigma_Intercept + sigma_r[g_idx, c_idx])``; priors scaled to the data like hiermod's defaults.
    """
    import pymc as pm

    if job.family != "gaussian":
        raise NotImplementedError("the hand-written model covers the forum scenario only")
    g_codes, groups = pd.factorize(data["group"], sort=True)
    c_codes, colors = pd.factorize(data["color"], sort=True)
    x = data[list(FEATURES)].to_numpy()
    y = data["y"].to_numpy()
    y_sd, x_sd = float(y.std()), x.std(axis=0)
    coords = {
        "obs": np.arange(len(y)),
        "group": groups,
        "color": colors,
        "feature": list(FEATURES),
        "effect": ["Intercept", *FEATURES],
    }
    with pm.Model(coords=coords) as model:
        x_data = pm.Data("X", x, dims=("obs", "feature"))
        g_idx = pm.Data("g_idx", g_codes, dims="obs")
        c_idx = pm.Data("c_idx", c_codes, dims="obs")
        y_data = pm.Data("y_obs", y, dims="obs")

        intercept = pm.StudentT("Intercept", nu=3, mu=y.mean(), sigma=2.5 * y_sd)
        b = pm.Normal("b", mu=0.0, sigma=2.5 * y_sd / x_sd, dims="feature")

        k = len(FEATURES) + 1
        sd_scale = y_sd / np.concatenate([[1.0], x_sd])
        chol, _, sd = pm.LKJCholeskyCov(
            "chol", n=k, eta=2.0, sd_dist=pm.HalfNormal.dist(sd_scale, shape=k), compute_corr=True
        )
        pm.Deterministic("sd", sd, dims="effect")
        z = pm.Normal("z", 0.0, 1.0, dims=("group", "color", "effect"))
        r = pm.Deterministic("r", z @ chol.T, dims=("group", "color", "effect"))
        r_rows = r[g_idx, c_idx]  # (obs, effect)
        mu = intercept + x_data @ b + r_rows[:, 0] + (x_data * r_rows[:, 1:]).sum(axis=-1)

        sigma_intercept = pm.Normal("sigma_Intercept", mu=np.log(y_sd), sigma=1.5)
        sigma_sd = pm.HalfNormal("sigma_sd", 1.0)
        sigma_z = pm.Normal("sigma_z", 0.0, 1.0, dims=("group", "color"))
        sigma_r = pm.Deterministic("sigma_r", sigma_sd * sigma_z, dims=("group", "color"))
        sigma = pm.math.exp(sigma_intercept + sigma_r[g_idx, c_idx])
        pm.Normal("y", mu=mu, sigma=sigma, observed=y_data, dims="obs")
    return model


BUILDERS: dict[str, Callable[[pd.DataFrame, Job], pm.Model]] = {
    "hiermod": build_hiermod,
    "bambi": build_bambi,
    "pymc": build_handwritten,
}


def population_names(model: pm.Model, job: Job) -> list[str]:
    """Population-level parameters for ESS: intercepts, slopes, group-level sds (not correlations,
    which Bambi does not have, and not the per-cell effects)."""
    if job.tool == "bambi":
        return [v.name for v in model.free_RVs if not v.name.endswith("_offset")]
    if job.tool == "pymc":
        return ["Intercept", "b", "sd", "sigma_Intercept", "sigma_sd"]
    roles = {"intercept", "coefficients", "group_sd", "auxiliary"}
    return [p.name for p in _LAST_HIERMOD["model"].ir.parameters() if p.role in roles]


# -- measurements (run inside workers) ------------------------------------------------------------


def rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10  # kB on Linux


def measure_build(data: pd.DataFrame, job: Job, result: Result) -> pm.Model:
    """Build time from DataFrame to ``pm.Model``, after a warm-up build on a few rows."""
    builder = BUILDERS[job.tool]
    _PHASE[0] = "warm-up build"
    builder(data.head(WARMUP_ROWS).copy(), job)  # imports, grammar tables, lazy caches
    result.base_mb = rss_mb()
    _PHASE[0] = "build"
    start = time.perf_counter()
    model = builder(data, job)
    result.build_s = time.perf_counter() - start
    if job.tool == "hiermod":
        reduced = getattr(_LAST_HIERMOD["model"].ir, "suffstats", None) is not None
        result.variant = "suffstats" if reduced else "row-wise"
    return model


def compile_logp_dlogp(model: pm.Model, **kwargs: Any) -> tuple[Any, np.ndarray]:
    """The joint logp+gradient function PyMC's NUTS uses, and the initial point as one vector."""
    from pymc.blocking import DictToArrayBijection

    fn = model.logp_dlogp_function(ravel_inputs=True, **kwargs)
    fn.set_extra_values({})
    point = model.initial_point()
    x = DictToArrayBijection.map({v.name: point[v.name] for v in fn._grad_vars}).data
    return fn, x


def tool_compile_kwargs(job: Job) -> dict[str, Any]:
    """How each tool's sampler compiles logp+gradient: hiermod's ``Model.fit`` passes
    :func:`hiermod.inference.fit.sampling_mode` (Numba) to PyMC; Bambi and a hand-written model
    use PyMC's default mode."""
    if job.tool != "hiermod":
        return {}
    from hiermod.inference.fit import sampling_mode

    return {"mode": sampling_mode()}


def measure_compile(model: pm.Model, result: Result) -> tuple[Any, np.ndarray]:
    _PHASE[0] = "compile"
    start = time.perf_counter()
    fn, x = compile_logp_dlogp(model, **tool_compile_kwargs(result.job))
    fn(x)
    result.compile_s = time.perf_counter() - start
    return fn, x


def measure_eval(fn: Any, x: np.ndarray, result: Result) -> None:
    """Median time per logp+gradient call at the initial point: 3 warm-up calls, then timeit loops
    of at least 0.2 s each, 7 of them (about 1.5–2 s in all)."""
    _PHASE[0] = "logp+grad"
    for _ in range(3):
        fn(x)
    timer = timeit.Timer(lambda: fn(x))
    number, _ = timer.autorange()
    per_call = [t / number for t in timer.repeat(repeat=7, number=number)]
    result.eval_ms = 1e3 * statistics.median(per_call)
    result.eval_min_ms = 1e3 * min(per_call)
    result.n_params = int(x.size)
    result.logp = float(fn(x)[0])


def measure_logp(data: pd.DataFrame, job: Job, result: Result) -> None:
    model = measure_build(data, job, result)
    fn, x = measure_compile(model, result)
    measure_eval(fn, x, result)
    if job.profile:
        profile_logp(model, result)


def warm_compile_cache(data: pd.DataFrame, job: Job, result: Result) -> None:
    """Compile once on a few rows so PyTensor's on-disk cache holds this tool's ops."""
    model = BUILDERS[job.tool](data.head(WARMUP_ROWS).copy(), job)
    measure_compile(model, result)


def sample_pymc(model: pm.Model, job: Job, result: Result) -> Any:
    import pymc as pm

    idata = pm.sample(
        draws=job.draws,
        tune=job.tune,
        chains=job.chains,
        cores=min(job.chains, os.cpu_count() or 1),
        model=model,
        random_seed=SEED,
        progressbar=False,
        compute_convergence_checks=False,
        nuts_sampler="pymc",  # PyMC 6 picks nutpie when it is installed; nutpie is measured apart
        compile_kwargs=tool_compile_kwargs(job),
    )
    result.sample_s = float(idata["posterior"].attrs["sampling_time"])
    return idata


def sample_nutpie(model: pm.Model, job: Job, result: Result) -> Any:
    import nutpie

    start = time.perf_counter()
    compiled = nutpie.compile_pymc_model(model)
    result.compile_s = time.perf_counter() - start
    start = time.perf_counter()
    idata = nutpie.sample(
        compiled,
        draws=job.draws,
        tune=job.tune,
        chains=job.chains,
        cores=min(job.chains, os.cpu_count() or 1),
        seed=SEED,
        progress_bar=False,
    )
    result.sample_s = time.perf_counter() - start
    return idata


def measure_sampling(data: pd.DataFrame, job: Job, result: Result) -> None:
    """Min bulk ESS over the population parameters per second of sampling (tune + draws)."""
    import arviz as az

    model = measure_build(data, job, result)
    _PHASE[0] = f"sampling with {job.sampler}"
    idata = (sample_pymc if job.sampler == "pymc" else sample_nutpie)(model, job, result)
    names = population_names(model, job)
    posterior = idata["posterior"]  # a DataTree node (PyMC 6) or a Dataset (nutpie's own result)
    if hasattr(posterior, "to_dataset"):
        posterior = posterior.to_dataset()
    ess = az.ess(posterior[names], method="bulk")
    worst = {name: float(np.nanmin(ess[name].values)) for name in names}
    result.ess_param = min(worst, key=worst.__getitem__)
    result.ess_min = worst[result.ess_param]
    result.divergences = int(idata["sample_stats"]["diverging"].sum())


def profile_logp(model: pm.Model, result: Result) -> None:
    """PyTensor's profiler on the logp+gradient function: time per op class, C or Python.

    Under the C virtual machine: Numba compiles the whole graph into one function, so its profile
    has no per-op times. The op mix is the same graph either way.
    """
    from pytensor.compile.mode import get_mode

    _PHASE[0] = "profile"
    fn, x = compile_logp_dlogp(model, profile=True, mode=get_mode("CVM"))
    profiled = Result(result.job)
    measure_eval(fn, x, profiled)
    prof = fn.profile
    by_class: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    python_ops: dict[str, float] = defaultdict(float)
    for (_fgraph, node), seconds in prof.apply_time.items():
        impl = "C" if prof.apply_cimpl.get(node) else "Python"
        entry = by_class[(type(node.op).__name__, impl)]
        entry[0] += seconds
        entry[1] += 1
        if impl == "Python":
            python_ops[str(node.op)] += seconds
    total = sum(prof.apply_time.values()) or 1.0
    rows = sorted(by_class.items(), key=lambda kv: -kv[1][0])
    nodes = sorted(prof.apply_time.items(), key=lambda kv: -kv[1])[:5]
    result.profile = {
        "nodes": [
            {
                "op": describe_node(node),
                "impl": "C" if prof.apply_cimpl.get(node) else "Python",
                "share": t / total,
                "shapes": " ".join(str(_shape(i)) for i in node.inputs),
            }
            for (_fgraph, node), t in nodes
        ],
        "classes": [
            {"op": op, "impl": impl, "share": t / total, "nodes": int(n)}
            for (op, impl), (t, n) in rows
        ],
        "python_ops": sorted(
            ({"op": op, "share": t / total} for op, t in python_ops.items()),
            key=lambda d: -d["share"],
        ),
        "calls": int(prof.fct_callcount),
        "ops_time_per_call_ms": 1e3 * total / max(prof.fct_callcount, 1),
        "eval_ms": profiled.eval_ms,
    }


def describe_node(node: Any) -> str:
    """``str(op)``; for a fused elementwise op, also the scalar operations it fuses."""
    scalar = getattr(node.op, "scalar_op", None)
    inner = getattr(scalar, "fgraph", None)
    if inner is None:
        return str(node.op)
    names = sorted({type(n.op).__name__.lower() for n in inner.toposort()})
    return f"{node.op} fusing {', '.join(names)}"


def _shape(variable: Any) -> tuple[int | None, ...] | str:
    shape = getattr(variable.type, "shape", None)
    return tuple(shape) if shape is not None else "?"


TASKS: dict[str, Callable[[pd.DataFrame, Job, Result], None]] = {
    "logp": measure_logp,
    "sample": measure_sampling,
    "warmup": warm_compile_cache,
}


def worker(job: Job, out: Path) -> None:
    """Entry point of a subprocess: run one job, write its result as JSON (also on failure)."""
    import warnings

    warnings.filterwarnings("ignore")
    result = Result(job)
    try:
        data = pd.read_pickle(job.path)  # our own file, written by the parent process
        TASKS[job.task](data, job, result)
    except MemoryError as exc:
        result.status = "out of memory"
        result.reason = f"MemoryError in {where(exc)}: {exc}"
    except Exception as exc:
        result.status = "failed"
        result.reason = f"{type(exc).__name__} in {where(exc)}: {exc}".splitlines()[0][:300]
        traceback.print_exc()
    result.peak_mb = peak_rss_mb()
    out.write_text(json.dumps(asdict(result)))


def where(exc: BaseException) -> str:
    """The phase that failed and the innermost library module on the stack (``formulae.matrices``)."""
    module = "?"
    for frame in traceback.extract_tb(exc.__traceback__):
        parts = Path(frame.filename).parts
        if "site-packages" in parts:
            tail = parts[parts.index("site-packages") + 1 :]
            module = ".".join(tail).removesuffix(".py")
        elif "hiermod" in parts:
            module = ".".join(parts[parts.index("hiermod") :]).removesuffix(".py")
    return f"{_PHASE[0]} ({module})"


_PHASE = ["start"]  # the worker's current phase, for failure reasons


# -- running workers (parent process) -------------------------------------------------------------


def run_job(
    job: Job, timeout: float, mem_limit: int, base_env: dict[str, str] | None = None
) -> Result:
    """Run a job in a subprocess with an address-space limit and a timeout; never raises."""
    with tempfile.TemporaryDirectory(prefix="peers-") as tmp:
        out, log = Path(tmp) / "result.json", Path(tmp) / "log.txt"
        spec = json.dumps(asdict(job))
        command = [python_for(job.tool), __file__, "--worker", spec, "--out", str(out)]

        def limit_memory() -> None:
            resource.setrlimit(resource.RLIMIT_AS, (mem_limit, mem_limit))

        start = time.monotonic()
        with log.open("w") as log_file:
            proc = subprocess.Popen(
                command,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                preexec_fn=limit_memory,
                start_new_session=True,
                env={**os.environ, **(base_env or {}), **job.env},
            )
            timed_out = False
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() - start > timeout:
                    timed_out = True
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)  # the worker and its sampler processes
                    pid, status, usage = os.wait4(proc.pid, 0)
                    break
                time.sleep(0.05)
            proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - start
        if out.exists():
            data = json.loads(out.read_text())
            data["job"] = job
            result = Result(**data)
        else:
            result = Result(job, peak_mb=usage.ru_maxrss / 2**10)
            tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])[-300:]
            if timed_out:
                result.status, result.reason = "timeout", f"no result after {timeout:.0f} s"
            elif proc.returncode < 0:
                name = signal.Signals(-proc.returncode).name
                result.status, result.reason = "killed", f"killed by {name}; {tail}"
            else:
                result.status, result.reason = "failed", f"exit {proc.returncode}; {tail}"
        result.wall_s = wall
        return result


def hiermod_modes() -> list[tuple[str, dict[str, Any]]]:
    """hiermod as users get it, plus ``suffstats=False`` once that switch exists."""
    modes: list[tuple[str, dict[str, Any]]] = [("hiermod", {})]
    if suffstats_default() is not None:
        modes.append(("hiermod suffstats=False", {"suffstats": False}))
    return modes


def suffstats_default() -> object | None:
    """The default of ``hm.Model(..., suffstats=...)``, or None when there is no such switch."""
    import hiermod as hm

    parameter = inspect.signature(hm.Model).parameters.get("suffstats")
    default: object | None = None if parameter is None else parameter.default
    return default


# -- the report -----------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def ratio(other: float | None, ours: float | None) -> str:
    if other is None or ours is None or ours == 0:
        return "—"
    return f"{other / ours:.1f}×"


def md(text: str) -> str:
    """Text safe inside a markdown table cell (Bambi's names contain ``|``)."""
    return text.replace("|", "\\|").replace("\n", " ")


def status_note(result: Result) -> str:
    return "" if result.status == "ok" else md(f"{result.status}: {result.reason}")


def machine() -> dict[str, str]:
    import psutil

    versions = {}
    for package in ("pymc", "pytensor", "nutpie", "numpy", "numba", "hiermod"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    versions["bambi"] = tool_versions("bambi", ("bambi",))["bambi"]  # its own environment
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{cpu}, {os.cpu_count()} logical CPUs",
        "ram": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        **versions,
    }


def logp_table(results: list[Result], datasets: list[DataSet]) -> list[str]:
    lines = [
        "| rows | cells | tool | build (s) | first compile (s) | logp+grad (ms), median (min) | params | "
        "peak RSS (MB) | RSS before build (MB) | note |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for ds in datasets:
        for r in (r for r in results if r.job.dataset == ds.key):
            lines.append(
                f"| {ds.rows:,} | {ds.cells} | {r.name} | {fmt(r.build_s)} | "
                f"{fmt(r.compile_s)} | {fmt(r.eval_ms, 3)} ({fmt(r.eval_min_ms, 3)}) | {r.n_params or '—'} | "
                f"{fmt(r.peak_mb)} | {fmt(r.base_mb)} | {status_note(r)} |"
            )
    return lines


def ratio_table(results: list[Result], datasets: list[DataSet], peers: list[str]) -> list[str]:
    """Peer ÷ hiermod for every hiermod mode: above 1× means hiermod is faster or smaller."""
    head = "| rows | hiermod mode | vs | logp+grad | build | first compile | peak RSS |"
    lines = [head, "|---:|---|---|---:|---:|---:|---:|"]
    for ds in datasets:
        here = [r for r in results if r.job.dataset == ds.key]
        for ours in (r for r in here if r.job.tool == "hiermod" and r.status == "ok"):
            for theirs in (r for r in here if r.job.label in peers):
                if theirs.status != "ok":
                    lines.append(
                        f"| {ds.rows:,} | {ours.job.label} | {theirs.job.label} | "
                        f"{theirs.status} | | | |"
                    )
                    continue
                lines.append(
                    f"| {ds.rows:,} | {ours.job.label} | {theirs.job.label} | "
                    f"{ratio(theirs.eval_ms, ours.eval_ms)} | {ratio(theirs.build_s, ours.build_s)} | "
                    f"{ratio(theirs.compile_s, ours.compile_s)} | "
                    f"{ratio(theirs.peak_mb, ours.peak_mb)} |"
                )
    return lines


def sampling_table(results: list[Result]) -> list[str]:
    lines = [
        "| tool | sampler | compile (s) | sampling (s) | min bulk ESS | worst parameter | "
        "ESS/s | divergences | note |",
        "|---|---|---:|---:|---:|---|---:|---:|---|",
    ]
    for r in results:
        ess_s = r.ess_min / r.sample_s if r.ess_min is not None and r.sample_s else None
        compile_s = fmt(r.compile_s) if r.job.sampler == "nutpie" else "(in sampling call)"
        lines.append(
            f"| {r.name} | {r.job.sampler} | {compile_s} | {fmt(r.sample_s)} | "
            f"{fmt(r.ess_min, 0)} | {md(r.ess_param) or '—'} | {fmt(ess_s)} | "
            f"{'—' if r.divergences is None else r.divergences} | {status_note(r)} |"
        )
    return lines


def profile_section(results: list[Result]) -> list[str]:
    lines: list[str] = []
    for r in results:
        lines += [
            "",
            f"**{r.name}**, {r.job.dataset}" + (" rows" if r.job.family == "gaussian" else ""),
        ]
        if r.status != "ok":
            lines.append(f": {status_note(r)}")
            continue
        prof = r.profile
        lines += [
            f"(logp+grad {fmt(prof['eval_ms'], 3)} ms per call under the profiler; "
            f"{prof['ops_time_per_call_ms']:.3f} ms of it inside ops):",
            "",
            "| op class | implementation | share of op time | nodes |",
            "|---|---|---:|---:|",
        ]
        for row in prof["classes"][:10]:
            lines.append(
                f"| {row['op']} | {row['impl']} | {100 * row['share']:.1f}% | {row['nodes']} |"
            )
        lines += ["", "Most expensive nodes:", ""]
        for node in prof["nodes"]:
            lines.append(
                f"- {100 * node['share']:.1f}% {node['impl']}: {md(node['op'])} "
                f"(input shapes {md(node['shapes'])})"
            )
        py = prof["python_ops"]
        share = sum(op["share"] for op in py)
        listed = ", ".join(f"`{op['op']}` {100 * op['share']:.1f}%" for op in py[:8]) or "none"
        lines += [
            "",
            f"Ops without C code (Python/NumPy `perform`), {100 * share:.1f}% in all: {listed}.",
        ]
    return lines


def write_report(
    path: Path,
    run: dict[str, Any],
    results: dict[str, list[Result]],
    datasets: list[DataSet],
) -> None:
    info = run["machine"]
    sample = results["sample"]
    lines = [
        "# Benchmarks: hiermod, Bambi and hand-written PyMC",
        "",
        f"Generated by `benchmarks/peers.py` on {info['date']} in {run['runtime_s'] / 60:.1f} min "
        f"(load average {run['load_before']} before, {run['load_after']} after).",
        "",
        f"- Machine: {info['cpu']}, {info['ram']} RAM, {info['os']}",
        f"- Python {info['python']}, pymc {info['pymc']}, pytensor {info['pytensor']}, "
        f"bambi {info['bambi']}, nutpie {info['nutpie']}, numba {info['numba']}, "
        f"numpy {info['numpy']}, hiermod {info['hiermod']}",
        "- PyTensor: every tool compiles with the Numba backend (PyTensor 3's default mode; "
        "hiermod's `Model.fit` names it: `hiermod.inference.fit.sampling_mode()`). "
        "[performance.md](performance.md#the-pytensor-backend-numba) compares it with the C backend.",
        f"- hiermod modes measured: {', '.join(run['modes'])}. " + run["modes_note"],
        "",
        "Reproduce: `make bench` (everything), or a quick run without the 1M rows and the samplers: "
        "`.venv/bin/python benchmarks/peers.py --sizes 1k,100k --skip-sampling`. "
        "Bambi runs in an environment of its own, `benchmarks/.venv-bambi` (`make venv-bench`): "
        "Bambi 0.21 requires formulae < 0.7 and hiermod formulae ≥ 0.9; both have the same PyMC.",
        "",
        "## What is measured",
        "",
        "- **Data**: `hiermod.datasets.forum_scenario(rows, 5 features, groups, 4 colours, seed=1)`, "
        "generated once per size and read by every tool. Model: "
        f"`{FORUM_MU}` with `{FORUM_SIGMA}`.",
        "- **hiermod**: `hm.Model(formula, data, **mode).pymc`. **Bambi**: "
        f'`bmb.Model(bmb.Formula("{FORUM_MU}", "{FORUM_SIGMA.replace(" ", "")}"), data, '
        'family="gaussian")` then `.build()`. Bambi has no correlated group effects (each term of '
        "`(1 + x1 + … | g)` gets its own independent sd), hiermod and the hand-written model put an "
        "LKJ prior on the 6 × 6 correlation; the parameter counts are close (see `params`).",
        "- **hand-written PyMC** (`build_handwritten` in the script): the forum thread's nested "
        "model, dims `(group, color, effect)`, `r[g_idx, c_idx]` two-index gathers, LKJCholeskyCov "
        "non-centred, per-cell sigma `exp(sigma_Intercept + sigma_r[g_idx, c_idx])`, priors scaled "
        "like hiermod's defaults.",
        "- **build**: DataFrame → `pm.Model`, after an untimed warm-up build on "
        f"{WARMUP_ROWS} rows in the same process (imports and one-time caches are not counted).",
        "- **first compile**: `model.logp_dlogp_function(ravel_inputs=True)` (the joint "
        "logp+gradient function PyMC's NUTS uses) plus its first call, in a fresh process, with "
        "PyTensor's on-disk cache warmed beforehand by one compile per tool on a few rows. Each "
        "tool compiles the way its own fit does: hiermod with `mode=hiermod.inference.fit.sampling_mode()` "
        "(Numba), Bambi and the hand-written model with PyMC's default mode (Numba).",
        "- **logp+grad**: median time per call at the initial point; 3 warm-up calls, then 7 "
        "`timeit` loops of at least 0.2 s each.",
        "- **peak RSS**: the worker process's high-water resident set (`getrusage` `ru_maxrss`), "
        "which includes Python, the imports and the data; *RSS before build* is the resident set "
        "(psutil) after imports, data loading and the warm-up build, so the difference is what "
        "building, compiling and evaluating the model cost. Each tool and size runs in its own "
        f"subprocess under an address-space limit of {run['mem_limit_gb']:.0f} GB "
        "(`RLIMIT_AS`) and a timeout.",
        "- **ESS/s** (smallest size only): minimum bulk ESS over the population parameters "
        "(intercepts, slopes, group-level sds; not the correlations, which Bambi lacks, nor the "
        "per-cell effects) divided by the wall time of tuning + drawing "
        f"({run['chains']} chains × {run['draws']} draws after {run['tune']} tuning steps, "
        f"{min(run['chains'], os.cpu_count() or 1)} in parallel; compile excluded). More chains "
        "than cores give more ESS for proportionally more time, not more ESS/s; `--chains 4` for "
        "steadier estimates.",
        f"- **Threads**: every worker runs with {run['threads_note']}. NumPy's OpenBLAS "
        "otherwise starts one thread per core for the 100k × 5 matrix-vector products (Bambi's "
        "`Gemv`, the hand-written `X @ b`), and on a shared 2-core machine those threads wait on "
        "each other: the same evaluation then takes 2.5 or 16 ms from one process to the next.",
        "- **Noise**: other processes running at the same time (see the load average above) slow "
        "the memory-bound row-wise evaluations most; the minimum over the 7 loops is shown next to "
        "the median.",
        "- **Ratios**: peer ÷ hiermod, so 10× means hiermod takes a tenth of the time or memory.",
        "",
        "## Gaussian: the forum scenario",
        "",
        *logp_table(results["logp"], datasets),
        "",
        "Ratios (peer ÷ hiermod; above 1× hiermod is faster or smaller):",
        "",
        *ratio_table(results["logp"], datasets, ["Bambi", "hand-written PyMC"]),
        "",
    ]
    if sample:
        lines += [
            f"### Sampling efficiency, {sample[0].job.dataset} rows",
            "",
            *sampling_table(sample),
            "",
        ]
        worst = min((r.ess_min for r in sample if r.ess_min is not None), default=None)
        if worst is not None and worst < 100:
            lines += [
                f"The lowest bulk ESS here is {worst:.0f} of {run['chains'] * run['draws']} draws: "
                "with about 5 rows per cell the group-level sds mix slowly, so these ESS/s figures "
                "are rough; `--draws 2000 --chains 4` gives steadier ones at a longer run.",
                "",
            ]
    else:
        lines += ["Sampling was skipped (`--skip-sampling`).", ""]
    if results["poisson"]:
        ds = POISSON_SET
        lines += [
            f"## Poisson: `{POISSON}`, {ds.rows:,} rows, {ds.groups} groups",
            "",
            *logp_table(results["poisson"], [ds]),
            "",
            *ratio_table(results["poisson"], [ds], ["Bambi"]),
            "",
        ]
    profiled = [r for kind in results.values() for r in kind if r.profile]
    if profiled:
        lines += [
            "## Where the time goes",
            "",
            "PyTensor's profiler (`logp_dlogp_function(..., profile=True)`), op time per op class "
            "over the timing loop, under the C virtual machine: Numba compiles the whole graph into "
            "one function, so it has no per-op times, but the ops are the same. *Python* means the "
            "op has no C implementation and runs its `perform` method (NumPy).",
            *profile_section(profiled),
            "",
        ]
    if STACK_NOTES.exists():  # measured once on the previous stack; why ratios moved
        lines += [STACK_NOTES.read_text(encoding="utf-8").strip(), ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


# -- the plan -------------------------------------------------------------------------------------


def parse_sizes(text: str) -> list[DataSet]:
    keys = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in FORUM_SIZES]
    if unknown:
        raise SystemExit(f"unknown size(s) {unknown}; choose from {list(FORUM_SIZES)}")
    return [FORUM_SIZES[k] for k in keys]


def tools(modes: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str, dict[str, Any]]]:
    peers: list[tuple[str, str, dict[str, Any]]] = [
        ("bambi", "Bambi", {}),
        ("pymc", "hand-written PyMC", {}),
    ]
    return [("hiermod", label, opts) for label, opts in modes] + peers


def plan(
    args: argparse.Namespace,
    datasets: list[DataSet],
    modes: list[tuple[str, dict[str, Any]]],
    paths: dict[str, str],
) -> list[tuple[str, Job]]:
    """Every measured job in run order, tagged with the report section it belongs to.

    hiermod at 100k rows is also profiled (in the same worker, after timing).
    """
    everyone = tools(modes)
    extras = not args.skip_extras
    jobs: list[tuple[str, Job]] = []
    forum = list(datasets)
    if extras and FORUM_SIZES["100k"] not in forum:
        forum.append(FORUM_SIZES["100k"])  # for the profile section only
    for ds in forum:
        for tool, label, opts in everyone:
            if ds not in datasets and tool != "hiermod":
                continue
            extra = extras and tool == "hiermod" and ds.key == "100k"
            job = Job("logp", tool, label, ds.key, paths[ds.key], options=opts, profile=extra)
            jobs.append(("logp" if ds in datasets else "extra", job))
    if extras:
        path = paths[POISSON_SET.key]
        for tool, label in (("hiermod", "hiermod"), ("bambi", "Bambi")):
            job = Job(
                "logp", tool, label, POISSON_SET.key, path, "poisson", profile=tool == "hiermod"
            )
            jobs.append(("poisson", job))
    if not args.skip_sampling:  # hiermod as users get it (its first mode), and the peers
        smallest = min(datasets, key=lambda ds: ds.rows)
        for tool, label, opts in everyone[:1] + everyone[len(modes) :]:
            for sampler in ("pymc", "nutpie"):
                job = Job("sample", tool, label, smallest.key, paths[smallest.key], options=opts)
                sizes = {"draws": args.draws, "tune": args.tune, "chains": args.chains}
                jobs.append(("sample", replace(job, sampler=sampler, **sizes)))
    return jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1k,100k,1M", help="comma-separated: 1k,100k,1M")
    parser.add_argument("--skip-sampling", action="store_true", help="no ESS/s measurements")
    parser.add_argument("--skip-extras", action="store_true", help="no Poisson, no profile")
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--chains", type=int, default=2, help="chains (run in parallel)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per subprocess")
    parser.add_argument("--mem-limit-gb", type=float, default=16.0, help="RLIMIT_AS per worker")
    parser.add_argument(
        "--blas-threads", type=int, default=1, help="OpenBLAS/OpenMP threads per worker; 0: inherit"
    )
    parser.add_argument("--output", type=Path, default=DOC)
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--report-from", type=Path, help="rewrite the report from a --json file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(Job(**json.loads(args.worker)), args.out)
        return
    if args.report_from:
        saved = json.loads(args.report_from.read_text())
        run_info = saved["run"]
        loaded = {
            kind: [Result(**{**r, "job": Job(**r["job"])}) for r in rs]
            for kind, rs in saved["results"].items()
        }
        datasets = [FORUM_SIZES[key] for key in run_info["sizes"]]
        write_report(args.output, run_info, defaultdict(list, loaded), datasets)
        print(f"wrote {args.output} from {args.report_from}")
        return

    started = time.monotonic()
    load_before = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    datasets = parse_sizes(args.sizes)
    mem_limit = int(args.mem_limit_gb * 2**30)
    modes = hiermod_modes()
    results: dict[str, list[Result]] = defaultdict(list)
    threads = str(args.blas_threads)
    base_env = dict.fromkeys(THREAD_VARIABLES, threads) if args.blas_threads > 0 else {}

    def run(job: Job) -> Result:
        result = run_job(job, args.timeout, mem_limit, base_env)
        shown = f"{result.status}" + (f" ({result.reason[:100]})" if result.reason else "")
        print(
            f"[{(time.monotonic() - started) / 60:5.1f} min] {job.task:<7} {job.dataset:<12} "
            f"{job.label:<24} {job.sampler:<6} "
            f"{result.wall_s or 0:6.1f} s  {shown}",
            flush=True,
        )
        return result

    with tempfile.TemporaryDirectory(prefix="peers-data-") as tmp:
        directory = Path(tmp)
        needed = {*datasets, *([] if args.skip_extras else [FORUM_SIZES["100k"], POISSON_SET])}
        paths = {ds.key: str(generate(ds, directory)) for ds in needed}
        jobs = plan(args, datasets, modes, paths)
        smallest = min(datasets, key=lambda ds: ds.rows)
        warmups = [  # fill PyTensor's on-disk cache; untimed, so two at a time
            Job("warmup", tool, label, smallest.key, paths[smallest.key], options=opts)
            for tool, label, opts in tools(modes)
        ]
        # Numba caches whole graphs: a few rows give hiermod's row-wise likelihood, so warm its
        # reduced one (what it builds at 100k rows and more) too.
        if suffstats_default() is not None:
            path = paths[smallest.key]
            options = {"suffstats": True}
            warmups.append(Job("warmup", "hiermod", "hiermod", smallest.key, path, options=options))
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            list(pool.map(run, warmups))
        for kind, job in jobs:
            results[kind].append(run(job))

    runtime = time.monotonic() - started
    run_info = {
        "machine": machine(),
        "runtime_s": runtime,
        "load_before": load_before,
        "load_after": ", ".join(f"{x:.1f}" for x in os.getloadavg()),
        "modes": [label for label, _ in modes],
        "modes_note": (
            "This hiermod has no `suffstats` switch; it is measured as is."
            if suffstats_default() is None
            else f"`hiermod` is `hm.Model` with its defaults (`suffstats={suffstats_default()!r}`); "
            "the brackets say which Gaussian likelihood it built: per-cell sufficient statistics "
            "or row-wise."
        ),
        "mem_limit_gb": args.mem_limit_gb,
        "sizes": [ds.key for ds in datasets],
        "threads_note": (
            ", ".join(f"`{name}={threads}`" for name in THREAD_VARIABLES) + " (`--blas-threads`)"
            if base_env
            else "the BLAS/OpenMP thread settings of the calling environment (`--blas-threads 0`)"
        ),
        "draws": args.draws,
        "tune": args.tune,
        "chains": args.chains,
    }
    write_report(args.output, run_info, results, datasets)
    if args.json:
        raw = {k: [asdict(r) for r in v] for k, v in results.items()}
        args.json.write_text(json.dumps({"run": run_info, "results": raw}, indent=1, default=str))
    print(f"wrote {args.output} in {runtime / 60:.1f} min")


if __name__ == "__main__":
    main()
