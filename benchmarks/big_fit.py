"""A full NUTS fit at scale, and the reduced likelihood checked against the row-wise one by sampling.

1. **1M rows × 4,000 cells** (the forum scenario: ``y ~ 1 + x1..x5 + (1 + x1..x5 | group:color)``,
   ``sigma ~ (1 | group:color)``, 1000 groups × 4 colours, 250 rows per cell): build with
   ``hm.Model`` (sufficient statistics chosen automatically), then ``Model.fit`` with 4 chains ×
   1000 draws after 1000 tuning steps. Reports build time, fit wall time (compile + tune + draws),
   peak memory, divergences, the largest R-hat and the smallest bulk ESS over the population-level
   parameters, tree depths.
2. **100k-row subsample** of the same rows (all 4,000 cells, about 25 rows each): the same fit twice,
   with the sufficient-statistics likelihood and with the row-wise one (``suffstats=False``), and
   their posteriors compared: for every population-level scalar the difference of posterior means
   in units of its Monte Carlo standard error, and the ratio of posterior sds; for the 24,000 cell
   effects the correlation of posterior means and the largest difference in posterior sds.

Every stage runs in its own subprocess (peak memory is that stage's). Results go to
``docs/benchmarks-fit.md``; ``--json`` keeps the raw numbers.

Run: ``make bench-fit`` (about 45 minutes on 2 cores; the subsample fits use
``--compare-draws 500``) or, for a quick look,
``.venv/bin/python benchmarks/big_fit.py --rows 100000 --groups 100 --subsample 20000 --draws 200``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks-fit.md"
FEATURES = tuple(f"x{j}" for j in range(1, 6))
_TERMS = " + ".join(FEATURES)
FORMULA = f"y ~ 1 + {_TERMS} + (1 + {_TERMS} | group:color)\nsigma ~ (1 | group:color)"
SEED = 1
# Thresholds of the posterior comparison: differences of means beyond 4 Monte Carlo standard errors,
# or posterior sds more than 15% apart, would mean the two likelihoods disagree.
MAX_Z = 4.0
MAX_SD_RATIO = 1.15


# -- stages (run in subprocesses) -----------------------------------------------------------------


def population(model: Any) -> list[str]:
    """Population-level parameters: intercepts, slopes, group-level sds and correlations."""
    roles = {"intercept", "coefficients", "group_sd", "group_corr", "auxiliary"}
    return [p.name for p in model.ir.parameters() if p.role in roles]


def effects(model: Any) -> list[str]:
    return [p.name for p in model.ir.parameters() if p.role == "group_effects"]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10


def stage_fit(args: argparse.Namespace) -> dict[str, Any]:
    """Build and fit one model on the stored rows; summarise the posterior for the comparison."""
    import arviz as az

    import hiermod as hm

    data = pd.read_pickle(args.data)
    start = time.perf_counter()
    suffstats = {"true": True, "false": False}.get(args.suffstats, args.suffstats)
    model = hm.Model(FORMULA, data, suffstats=suffstats, centered=args.centered)
    model.pymc  # noqa: B018 - building the PyMC model is part of the build time
    build_s = time.perf_counter() - start
    reduced = model.ir.suffstats is not None
    start = time.perf_counter()
    idata = model.fit(
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        sampler=args.sampler,
        random_seed=SEED,
        progressbar=False,
        log_likelihood=False,
    )
    fit_s = time.perf_counter() - start
    names = population(model)
    posterior = idata["posterior"]
    stats = idata["sample_stats"]
    rhat = az.rhat(idata, var_names=names)
    ess = az.ess(idata, var_names=names, method="bulk")
    summary: dict[str, dict[str, float]] = {}
    correlations = {p.name for p in model.ir.parameters() if p.role == "group_corr"}
    for name in names:
        values = posterior[name]
        flat = values.stack(sample=("chain", "draw"))
        labels = _labels(values)
        mcse = az.mcse(idata, var_names=[name])[name].values.reshape(-1)
        means = flat.mean("sample").values.reshape(-1)
        sds = flat.std("sample").values.reshape(-1)
        keep = np.arange(len(labels))
        if name in correlations:  # one entry per pair: the upper triangle without the diagonal
            k = values.shape[-1]
            rows, cols = np.triu_indices(k, 1)
            keep = rows * k + cols
        for i in keep:
            summary[labels[i]] = {
                "mean": float(means[i]),
                "sd": float(sds[i]),
                "mcse": float(mcse[i]),
            }
    cell_effects = {}
    for name in effects(model):
        flat = posterior[name].stack(sample=("chain", "draw"))
        cell_effects[name] = {
            "mean": flat.mean("sample").values.reshape(-1).tolist(),
            "sd": flat.std("sample").values.reshape(-1).tolist(),
        }
    depth_name = "depth" if "depth" in stats else "tree_depth"
    depths = stats[depth_name].values.reshape(-1) if depth_name in stats else np.array([])
    steps = stats["n_steps"].values.reshape(-1) if "n_steps" in stats else np.array([])
    worst_rhat = max(names, key=lambda n: float(np.nanmax(rhat[n].values)))
    worst_ess = min(names, key=lambda n: float(np.nanmin(ess[n].values)))
    return {
        "rows": len(data),
        "cells": int(data.groupby(["group", "color"], observed=True).ngroups),
        "likelihood": "suffstats" if reduced else "row-wise",
        "centered": args.centered,
        "sampler": args.sampler,
        "chains": args.chains,
        "draws": args.draws,
        "tune": args.tune,
        "params": int(sum(np.prod(p.shape) for p in model.ir.free_parameters())),
        "build_s": build_s,
        "fit_s": fit_s,
        "sampling_s": float(posterior.attrs.get("sampling_time", np.nan)),
        "peak_mb": peak_rss_mb(),
        "divergences": int(stats["diverging"].sum()),
        "max_rhat": float(np.nanmax(rhat[worst_rhat].values)),
        "max_rhat_param": worst_rhat,
        "min_ess": float(np.nanmin(ess[worst_ess].values)),
        "min_ess_param": worst_ess,
        "depth_counts": np.bincount(depths.astype(int)).tolist() if depths.size else [],
        "mean_steps": float(steps.mean()) if steps.size else None,
        "summary": summary,
        "effects": cell_effects,
    }


def _labels(values: Any) -> list[str]:
    """``b[x1]``, ``sd_group__color[Intercept]``, ``corr_…[x1, x2]`` … for every element."""
    name = values.name
    dims = [d for d in values.dims if d not in ("chain", "draw")]
    if not dims:
        return [name]
    index = pd.MultiIndex.from_product([values[d].values for d in dims])
    return [f"{name}[{', '.join(map(str, key))}]" for key in index]


# -- orchestration --------------------------------------------------------------------------------


def run_stage(options: list[str], timeout: float) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        target = out.name
    command = [sys.executable, __file__, "--stage", target, *options]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    start = time.perf_counter()
    proc = subprocess.run(command, env=env, timeout=timeout, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"stage {options} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(Path(target).read_text())
    result["wall_s"] = time.perf_counter() - start
    Path(target).unlink()
    return result


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Posterior of the reduced likelihood (a) against the row-wise one (b), same data."""
    rows = []
    for label, sa in a["summary"].items():
        sb = b["summary"][label]
        z = (sa["mean"] - sb["mean"]) / float(np.hypot(sa["mcse"], sb["mcse"]))
        rows.append({"param": label, "z": z, "sd_ratio": sa["sd"] / sb["sd"], **_pair(sa, sb)})
    mean_a = np.concatenate([np.asarray(v["mean"]) for v in a["effects"].values()])
    mean_b = np.concatenate([np.asarray(v["mean"]) for v in b["effects"].values()])
    sd_a = np.concatenate([np.asarray(v["sd"]) for v in a["effects"].values()])
    sd_b = np.concatenate([np.asarray(v["sd"]) for v in b["effects"].values()])
    z_max = max(abs(r["z"]) for r in rows)
    ratio_worst = max(max(r["sd_ratio"], 1 / r["sd_ratio"]) for r in rows)
    return {
        "rows": rows,
        "max_abs_z": z_max,
        "worst_sd_ratio": ratio_worst,
        "effects": int(mean_a.size),
        "effects_mean_corr": float(np.corrcoef(mean_a, mean_b)[0, 1]),
        "effects_max_mean_diff_in_sd": float(np.max(np.abs(mean_a - mean_b) / sd_b)),
        "effects_sd_ratio_range": [float(np.min(sd_a / sd_b)), float(np.max(sd_a / sd_b))],
        "match": bool(z_max < MAX_Z and ratio_worst < MAX_SD_RATIO),
    }


def _pair(sa: dict[str, float], sb: dict[str, float]) -> dict[str, float]:
    return {
        "mean_suffstats": sa["mean"],
        "mean_rows": sb["mean"],
        "sd_suffstats": sa["sd"],
        "sd_rows": sb["sd"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--colors", type=int, default=4)
    parser.add_argument("--subsample", type=int, default=100_000)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument(
        "--compare-draws", type=int, help="draws and tuning steps of the subsample fits"
    )
    parser.add_argument("--sampler", default="nutpie")
    parser.add_argument("--centered", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--skip-comparison", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--doc", type=Path, default=DOC)
    parser.add_argument("--report-from", type=Path, help="rewrite the markdown from a --json file")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--suffstats", default="auto", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.stage:
        result = stage_fit(args)
        Path(args.stage).write_text(json.dumps(result))
        return 0
    if args.report_from:
        report = json.loads(args.report_from.read_text())
        args.doc.write_text(markdown(report))
        return 0

    from hiermod.datasets import forum_scenario

    began = time.perf_counter()
    load_before = os.getloadavg()
    common = [
        f"--draws={args.draws}",
        f"--tune={args.tune}",
        f"--chains={args.chains}",
        f"--sampler={args.sampler}",
        "--centered" if args.centered else "--no-centered",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        data = forum_scenario(args.rows, len(FEATURES), args.groups, args.colors, seed=SEED).data
        full = Path(tmp) / "full.pkl"
        data.to_pickle(full)
        rng = np.random.default_rng(SEED)
        keep = np.sort(rng.choice(len(data), size=min(args.subsample, len(data)), replace=False))
        sub = Path(tmp) / "sub.pkl"
        data.iloc[keep].reset_index(drop=True).to_pickle(sub)
        del data
        print(f"fit: {args.rows:,} rows", flush=True)
        big = run_stage([*common, f"--data={full}"], timeout=3600)
        print(f"  {big['fit_s']:.0f} s", flush=True)
        comparison = None
        if args.compare_draws:
            common[:2] = [f"--draws={args.compare_draws}", f"--tune={args.compare_draws}"]
        if not args.skip_comparison:
            print(f"subsample: {args.subsample:,} rows, suffstats", flush=True)
            small = run_stage([*common, f"--data={sub}", "--suffstats=true"], timeout=3600)
            print(f"  {small['fit_s']:.0f} s; row-wise", flush=True)
            rows = run_stage([*common, f"--data={sub}", "--suffstats=false"], timeout=3600)
            print(f"  {rows['fit_s']:.0f} s", flush=True)
            comparison = {"suffstats": small, "rows": rows, "result": compare(small, rows)}
    report = {
        "when": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "minutes": (time.perf_counter() - began) / 60,
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "machine": machine(),
        "settings": vars(args) | {"json": None, "doc": None, "report_from": None},
        "big": big,
        "comparison": comparison,
    }
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))
    args.doc.write_text(markdown(report))
    print(f"wrote {args.doc}", flush=True)
    return 0


def machine() -> dict[str, str]:
    versions = {}
    for package in ("hiermod", "pymc", "pytensor", "nutpie", "numba", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    cpu = platform.processor() or platform.machine()
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "memory": f"{memory_gib:.1f} GiB",
        "python": platform.python_version(),
        "platform": platform.platform(),
        **versions,
    }


# -- report ---------------------------------------------------------------------------------------


def _fit_row(title: str, r: dict[str, Any]) -> str:
    depth = ", ".join(f"{d}: {n}" for d, n in enumerate(r["depth_counts"]) if n)
    return (
        f"| {title} | {r['rows']:,} | {r['cells']:,} | {r['likelihood']} | {r['params']:,} | "
        f"{r['chains']} × {r['draws']} ({r['tune']}) | "
        f"{r['build_s']:.2f} | {r['fit_s'] / 60:.1f} | {r['peak_mb']:,.0f} | {r['divergences']} | "
        f"{r['max_rhat']:.3f} ({r['max_rhat_param']}) | {r['min_ess']:.0f} ({r['min_ess_param']}) | "
        f"{depth} |"
    )


def markdown(report: dict[str, Any]) -> str:
    m, s, big = report["machine"], report["settings"], report["big"]
    param = "centred" if s["centered"] else "non-centred"
    lines = [
        "# A full fit at 1M rows",
        "",
        f"Generated by `benchmarks/big_fit.py` on {report['when']} in {report['minutes']:.1f} min "
        f"(load average {', '.join(f'{v:.1f}' for v in report['load_before'])} before, "
        f"{', '.join(f'{v:.1f}' for v in report['load_after'])} after).",
        "",
        f"- Machine: {m['cpus']} logical CPUs, {m['memory']} RAM, {m['platform']}",
        f"- Python {m['python']}, hiermod {m['hiermod']}, pymc {m['pymc']}, pytensor "
        f"{m['pytensor']}, nutpie {m['nutpie']}, numba {m['numba']}, numpy {m['numpy']}",
        f"- Model: `{FORMULA.replace(chr(10), '; ')}`, {param} group effects "
        f"(`centered={s['centered']}`), data from `hiermod.datasets.forum_scenario` "
        f"({s['groups']} groups × {s['colors']} colours, seed {SEED}).",
        f"- Fit: `Model.fit(sampler={s['sampler']!r}, chains={s['chains']}, tune={s['tune']}, "
        f"draws={s['draws']}, log_likelihood=False)`; *fit* is its whole wall time (compile, "
        "tuning, drawing, building the InferenceData); peak RSS is that of the process that built "
        "and fitted the model.",
        "",
        "Reproduce: `make bench-fit`.",
        "",
        "| fit | rows | cells | likelihood | parameters | chains × draws (tuning) | build (s) | "
        "fit (min) | peak RSS (MB) | divergences | largest R-hat | smallest bulk ESS | "
        "tree depths (depth: draws) |",
        "|---|---:|---:|---|---:|---|---:|---:|---:|---:|---|---|---|",
        _fit_row("full data", big),
    ]
    comparison = report["comparison"]
    if comparison is not None:
        result = comparison["result"]
        lines += [
            _fit_row("subsample", comparison["suffstats"]),
            _fit_row("subsample", comparison["rows"]),
            "",
            "R-hat and ESS are over the population-level parameters (intercepts, slopes, group-level "
            "sds, correlations, `sigma_*`).",
            "",
            f"## Same posterior: sufficient statistics vs row-wise on {comparison['rows']['rows']:,} "
            "rows",
            "",
            f"The subsample is {comparison['rows']['rows']:,} rows drawn at random from the data "
            "above; both fits use the same settings and seed. *z* is the difference of the posterior "
            "means divided by the combined Monte Carlo standard error (a draw from about N(0, 1) "
            "when both sample the same posterior); *sd ratio* is the ratio of the posterior sds. "
            f"The likelihoods agree if every |z| < {MAX_Z:g} and every sd ratio is within "
            f"{MAX_SD_RATIO:.2f}×: **{'yes' if result['match'] else 'NO'}** (largest |z| "
            f"{result['max_abs_z']:.2f}, sd ratio furthest from 1: {result['worst_sd_ratio']:.3f}).",
            "",
            f"Cell effects ({result['effects']:,}): posterior means correlate "
            f"{result['effects_mean_corr']:.6f}; the largest difference of means is "
            f"{result['effects_max_mean_diff_in_sd']:.3f} posterior sds; sd ratios range "
            f"{result['effects_sd_ratio_range'][0]:.3f}–{result['effects_sd_ratio_range'][1]:.3f}.",
            "",
            "| parameter | mean, suffstats | mean, row-wise | sd, suffstats | sd, row-wise | z | "
            "sd ratio |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for row in result["rows"]:
            lines.append(
                f"| {row['param']} | {row['mean_suffstats']:.4f} | {row['mean_rows']:.4f} | "
                f"{row['sd_suffstats']:.4f} | {row['sd_rows']:.4f} | {row['z']:+.2f} | "
                f"{row['sd_ratio']:.3f} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
