"""One fit of benchmarks/workflow.py, run inside a worker process: hiermod, Bambi or brms.

A worker fits one case with one tool the way a user's script would (a fresh process, the tool's
ordinary calls), times the phases, and summarises the compared parameters (bulk ESS, R-hat, mean,
sd) with ArviZ, the same estimator for every tool. brms runs as an ``Rscript`` child of the worker,
which reads back its draws.

Timing: hiermod's ``Model.fit`` and Bambi's ``Model.fit`` both sample through ``pm.sample(...,
nuts_sampler="nutpie")``, which calls ``nutpie.compile_pymc_model`` and then ``nutpie.sample``;
:class:`NutpieTimer` wraps those two functions, so *compile* and *sampling* are the wall times of
exactly those calls inside the user-visible ``fit``. For brms, the messages ``brm`` prints
("Compiling Stan program...", "Start sampling") mark the phases of the one ``brm(...)`` call.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from workflow_cases import CASES, Case, bambi_name, brms_name, hiermod_name, read_rows

FIRST_RUN = {"draws": 20, "tune": 20, "chains": 1}  # the empty-cache run: build + compile only


@dataclass(frozen=True, slots=True)
class Job:
    """One fit in one worker process."""

    tool: str  # "hiermod" | "bambi" | "brms"
    case: str  # a key of CASES
    data: str  # the run's CSV of the case
    formula: str  # hiermod's formula (the forum cases' comes with their data)
    phase: str = "timed"  # "timed" | "first" (empty PyTensor cache, a few draws)
    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    seed: int = 1
    boost: str = ""  # brms: a directory holding a link "boost" to Boost's headers (rstan on Debian)


@dataclass(slots=True)
class Result:
    """What a worker measured; times in seconds."""

    tool: str
    case: str
    phase: str = "timed"
    status: str = "ok"  # "ok" | "failed" | "timeout" | "killed" | "skipped" | "not installed"
    reason: str = ""
    build_s: float | None = None  # DataFrame → model (brms: until "Compiling Stan program")
    compile_s: float | None = None
    sample_s: float | None = None
    total_s: float | None = None  # the user-visible calls: build + fit (brms: brm())
    process_s: float | None = None  # the whole worker process, imports and data included
    first_compile_s: float | None = None  # compile in a fresh process on an empty PyTensor cache
    grads: float | None = None  # leapfrog steps (gradient evaluations) per draw
    divergences: int | None = None
    params: dict[str, dict[str, float]] = field(default_factory=dict)  # label → mean, sd, ess, rhat
    missing: list[str] = field(default_factory=list)  # compared parameters the tool did not have
    available: list[str] = field(default_factory=list)  # its posterior's names, when some missed
    versions: dict[str, str] = field(default_factory=dict)


# -- measuring ------------------------------------------------------------------------------------


class NutpieTimer:
    """Wall time spent in ``nutpie.compile_pymc_model`` and ``nutpie.sample`` while active."""

    def __init__(self) -> None:
        self.seconds = {"compile_pymc_model": 0.0, "sample": 0.0}

    @contextmanager
    def active(self) -> Iterator[NutpieTimer]:
        import nutpie

        originals = {name: getattr(nutpie, name) for name in self.seconds}
        for name, function in originals.items():
            setattr(nutpie, name, self._timed(name, function))
        try:
            yield self
        finally:
            for name, function in originals.items():
                setattr(nutpie, name, function)

    def _timed(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start

        return timed


def summarise(draws: dict[str, np.ndarray], result: Result) -> None:
    """Mean, sd, bulk ESS and R-hat of each compared parameter (arrays of shape (chain, draw))."""
    import arviz as az
    import xarray as xr

    if not draws:
        return
    data = xr.Dataset({k: (("chain", "draw"), v) for k, v in draws.items()})
    ess, rhat = az.ess(data, method="bulk"), az.rhat(data)
    result.params = {
        k: {
            "mean": float(v.mean()),
            "sd": float(v.std(ddof=1)),
            "ess": float(ess[k]),
            "rhat": float(rhat[k]),
        }
        for k, v in draws.items()
    }


def pick(
    posterior: Any, names: dict[str, tuple[str, dict[str, str]]], result: Result
) -> dict[str, np.ndarray]:
    """Each compared parameter's draws from a posterior Dataset, by the tool's name and selection."""
    draws = {}
    for label, (name, selection) in names.items():
        if name not in posterior:
            result.missing.append(f"{label} ({name})")
            continue
        values = posterior[name]
        values = values.sel({d: v for d, v in selection.items() if d in values.dims})
        if set(values.dims) != {"chain", "draw"}:
            result.missing.append(f"{label} ({name} has dims {values.dims})")
            continue
        draws[label] = values.transpose("chain", "draw").to_numpy()
    if result.missing:
        result.available = sorted(str(v) for v in posterior.data_vars)
    return draws


def nutpie_stats(idata: Any, result: Result) -> None:
    stats = idata["sample_stats"]
    result.grads = float(stats["n_steps"].mean())
    result.divergences = int(stats["diverging"].sum())


def settings(job: Job) -> dict[str, int]:
    if job.phase == "first":
        return dict(FIRST_RUN)
    return {"draws": job.draws, "tune": job.tune, "chains": job.chains}


# -- the tools ------------------------------------------------------------------------------------


def fit_hiermod(job: Job, case: Case, data: pd.DataFrame, result: Result) -> None:
    """``hm.Model(formula, data, family=...)`` then ``.fit(sampler="nutpie", ...)``."""
    import hiermod as hm

    timer = NutpieTimer()
    with timer.active():
        start = time.perf_counter()
        model = hm.Model(job.formula, data, family=case.family)
        model.pymc  # noqa: B018 - built on first use; part of the build
        result.build_s = time.perf_counter() - start
        idata = model.fit(
            **settings(job),
            sampler="nutpie",
            random_seed=job.seed,
            progressbar=False,
            log_likelihood=False,  # Bambi and brms do not compute it unasked either
        )
        result.total_s = time.perf_counter() - start
    result.compile_s = timer.seconds["compile_pymc_model"]
    result.sample_s = timer.seconds["sample"]
    result.versions = {"hiermod": hm.__version__}
    if job.phase == "timed":
        nutpie_stats(idata, result)
        names = {p.label: hiermod_name(p) for p in case.params}
        summarise(pick(idata["posterior"].to_dataset(), names, result), result)


def bambi_formula(job: Job, case: Case) -> Any:
    """Bambi's spelling: ``case.bambi``, or the formula with a distributional second line as
    ``bmb.Formula(main, "sigma~...")`` (as benchmarks/peers.py ``build_bambi`` writes it)."""
    import bambi as bmb

    lines = job.formula.splitlines()
    if len(lines) > 1:
        return bmb.Formula(lines[0], *(line.replace(" ", "") for line in lines[1:]))
    return case.bambi or job.formula


def fit_bambi(job: Job, case: Case, data: pd.DataFrame, result: Result) -> None:
    """``bmb.Model(formula, data, family=...)``, ``.build()``, ``.fit(inference_method="nutpie")``."""
    import bambi as bmb

    timer = NutpieTimer()
    with timer.active():
        start = time.perf_counter()
        model = bmb.Model(bambi_formula(job, case), data, family=case.family)
        model.build()
        result.build_s = time.perf_counter() - start
        idata = model.fit(
            **settings(job),
            inference_method="nutpie",
            random_seed=job.seed,
            progressbar=False,
        )
        result.total_s = time.perf_counter() - start
    result.compile_s = timer.seconds["compile_pymc_model"]
    result.sample_s = timer.seconds["sample"]
    result.versions = {"bambi": bmb.__version__}
    nutpie_stats(idata, result)
    names = {p.label: bambi_name(p) for p in case.params}
    summarise(pick(idata["posterior"].to_dataset(), names, result), result)


BRMS_SCRIPT = r"""
# One brm() fit for benchmarks/workflow.py: timings, sampler statistics and the draws of the
# population-level parameters (b_*, sd_*, cor_*, sigma) go to files in spec$out.
spec <- jsonlite::fromJSON(commandArgs(trailingOnly = TRUE)[[1]])
now <- function() unname(proc.time()[["elapsed"]])
suppressPackageStartupMessages({ library(brms); library(rstan) })
if (nzchar(spec$boost)) rstan::rstan_options(boost_lib = spec$boost)
data <- read.csv(spec$data)
for (column in spec$factors) data[[column]] <- factor(data[[column]])
formulas <- lapply(spec$formula, as.formula)
formula <- if (length(formulas) > 1) do.call(brms::bf, formulas) else formulas[[1]]
marks <- c(start = now())
fit <- withCallingHandlers(
  brm(formula, data = data, family = brmsfamily(spec$family), chains = spec$chains,
      iter = spec$tune + spec$draws, warmup = spec$tune, cores = spec$cores, seed = spec$seed,
      refresh = 0, backend = "rstan"),
  message = function(m) {
    text <- conditionMessage(m)
    if (grepl("Compiling Stan program", text)) marks[["compile"]] <<- now()
    if (grepl("Start sampling", text)) marks[["sample"]] <<- now()
  }
)
marks[["end"]] <- now()
mark <- function(k) if (k %in% names(marks)) marks[[k]] else NA
keep <- grep("^(b_|sd_|cor_|sigma$)", variables(fit), value = TRUE)
draws <- as.data.frame(posterior::as_draws_df(fit, variable = keep))
write.csv(draws, file.path(spec$out, "draws.csv"), row.names = FALSE)
params <- rstan::get_sampler_params(fit$fit, inc_warmup = FALSE)
elapsed <- rstan::get_elapsed_time(fit$fit)
info <- list(
  build_s = mark("compile") - marks[["start"]],
  compile_s = mark("sample") - mark("compile"),
  sample_s = marks[["end"]] - mark("sample"),
  total_s = marks[["end"]] - marks[["start"]],
  grads = mean(unlist(lapply(params, function(p) p[, "n_leapfrog__"]))),
  divergences = sum(unlist(lapply(params, function(p) p[, "divergent__"]))),
  stan_chain_s = sum(elapsed),
  versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                  brms = as.character(packageVersion("brms")),
                  rstan = as.character(packageVersion("rstan")))
)
jsonlite::write_json(info, file.path(spec$out, "timings.json"), auto_unbox = TRUE,
                     digits = NA, na = "null")
"""


def fit_brms(job: Job, case: Case, data: pd.DataFrame, result: Result) -> None:
    """``brm(formula, data, family, chains, iter, warmup, cores, seed)`` in an ``Rscript`` child."""
    del data  # R reads the CSV itself
    with tempfile.TemporaryDirectory(prefix="workflow-brms-") as tmp:
        work = Path(tmp)
        script, spec_path = work / "fit.R", work / "spec.json"
        script.write_text(BRMS_SCRIPT, encoding="utf-8")
        spec = {
            "data": job.data,
            "factors": list(case.factors),
            "formula": job.formula.splitlines(),
            "family": case.family,
            "out": tmp,
            "boost": job.boost,
            "cores": min(job.chains, os.cpu_count() or 1),
            **{k: getattr(job, k) for k in ("draws", "tune", "chains", "seed")},
        }
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        done = subprocess.run(["Rscript", str(script), str(spec_path)], check=False)
        if done.returncode != 0 or not (work / "timings.json").exists():
            raise RuntimeError(f"Rscript exited with {done.returncode} (see the job's log)")
        info = json.loads((work / "timings.json").read_text(encoding="utf-8"))
        rows = pd.read_csv(work / "draws.csv")
    for key in ("build_s", "compile_s", "sample_s", "total_s", "grads"):
        setattr(result, key, info[key])
    result.divergences = int(info["divergences"])
    result.versions = info["versions"]
    rows = rows.sort_values([".chain", ".iteration"])
    chains = rows[".chain"].nunique()
    draws = {}
    for p in case.params:
        name = brms_name(p)
        if name in rows:
            draws[p.label] = rows[name].to_numpy().reshape(chains, -1)
        else:
            result.missing.append(f"{p.label} ({name})")
    if result.missing:
        result.available = [c for c in rows.columns if not c.startswith(".")]
    summarise(draws, result)


FITTERS: dict[str, Callable[[Job, Case, pd.DataFrame, Result], None]] = {
    "hiermod": fit_hiermod,
    "bambi": fit_bambi,
    "brms": fit_brms,
}


def worker(job: Job, out: Path) -> None:
    """Entry point of a worker process: run one job, write its Result as JSON (also on failure)."""
    result = Result(job.tool, job.case, job.phase)
    try:
        case = CASES[job.case]
        data = read_rows(Path(job.data), case)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the table reports convergence itself
            FITTERS[job.tool](job, case, data, result)
    except Exception as exc:
        result.status = "failed"
        result.reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        traceback.print_exc()
    out.write_text(json.dumps(asdict(result)), encoding="utf-8")
