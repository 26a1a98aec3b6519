"""Centred, non-centred, and what ``centered="auto"`` picks: NUTS efficiency on the classic models.

For each model both fixed choices are fitted with the same settings (nutpie, 4 chains × 1000 draws
after 1000 tuning steps, seed 1); ``"auto"`` is the plan hiermod makes with its defaults, which is
one of the two per block — the table says which, block by block, with the information ratio. Reported
per fit: mean step size, gradient evaluations per draw (leapfrog steps), the minimum bulk ESS and
the maximum R-hat over the population parameters, group sds and sigma's parameters, and divergences.

Run: ``.venv/bin/python benchmarks/parameterisation.py`` (about 10 minutes on 2 cores); it rewrites
the table between the markers in docs/pooling.md.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path
from typing import Any

import arviz as az
import pandas as pd
from markers import measured_on, replace_between

import hiermod as hm

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "pooling.md"
DATA = ROOT.parent / "shared" / "data"
BEGIN = "<!-- parameterisation:begin (benchmarks/parameterisation.py writes this table) -->"
END = "<!-- parameterisation:end -->"


def cases() -> dict[str, tuple[str, pd.DataFrame]]:
    forum = hm.datasets.forum_scenario
    demo = forum(n_rows=3000, n_features=3, n_groups=6, n_colors=3, seed=11)
    small = forum(n_rows=1000, n_features=5, n_groups=8, n_colors=4, seed=1)
    big = forum(n_rows=100_000, n_features=5, n_groups=50, n_colors=4, seed=1)
    return {
        "sleepstudy": ("Reaction ~ Days + (Days | Subject)", pd.read_csv(DATA / "sleepstudy.csv")),
        "radon": ("log_radon ~ floor + (1 | county)", pd.read_csv(DATA / "radon.csv")),
        "make demo (3,000 rows, 18 cells)": (demo.formula, demo.data),
        "forum, 1,000 rows, 32 cells": (small.formula, small.data),
        "forum, 100k rows, 200 cells": (big.formula, big.data),
    }


def checked(posterior: Any) -> list[str]:
    """Population parameters, group sds and sigma's parameters (not per-level effects)."""
    population = ("Intercept", "b", "sigma", "sigma_Intercept", "sigma_b")
    return [
        name
        for name in posterior.data_vars
        if name in population or name.startswith(("sd_", "sigma_sd_"))
    ]


def fit_stats(model: hm.Model) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the table reports what the warnings would say
        fit = model.fit(
            draws=1000,
            tune=1000,
            chains=4,
            sampler="nutpie",
            random_seed=1,
            progressbar=False,
            log_likelihood=False,
        )
    stats = fit["sample_stats"]
    posterior = fit["posterior"].to_dataset()
    values = posterior[checked(posterior)]
    return {
        "step": float(stats["step_size"].mean()),
        "grads": float(stats["n_steps"].mean()),
        "ess": float(az.ess(values).to_array().min()),
        "rhat": float(az.rhat(values).to_array().max()),
        "divergences": int(stats["diverging"].sum()),
    }


def measure(names: list[str] | None) -> list[dict[str, Any]]:
    rows = []
    for name, (formula, data) in cases().items():
        if names and name not in names:
            continue
        auto = hm.Model(formula, data)
        row: dict[str, Any] = {
            "model": name,
            "auto": [
                {"dpar": p.dpar, "centred": b.centered, "reason": b.centered_reason}
                for p in auto.ir.predictors
                for b in p.blocks
            ],
        }
        for centered in (False, True):
            row[str(centered)] = fit_stats(hm.Model(formula, data, centered=centered))
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def _cell(stats: dict[str, Any]) -> str:
    return (
        f"{stats['step']:.2f} | {stats['grads']:.0f} | {stats['ess']:.0f} | {stats['rhat']:.3f} "
        f"| {stats['divergences']}"
    )


def _ratio(reason: str) -> str:
    return reason.split("information ratio ")[1].split(" ")[0] if "ratio" in reason else "—"


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| model | `auto` chose (information ratio) | non-centred: step · grads/draw · min ESS · "
        "max R-hat · div. | centred: step · grads/draw · min ESS · max R-hat · div. |",
        "|---|---|---|---|",
    ]
    for r in rows:
        chose = "; ".join(
            f"{a['dpar']}: {'centred' if a['centred'] else 'non-centred'} ({_ratio(a['reason'])})"
            for a in r["auto"]
        )
        no, yes = r["False"], r["True"]
        lines.append(
            f"| {r['model']} | {chose} | {_cell(no).replace(' | ', ' · ')} "
            f"| {_cell(yes).replace(' | ', ' · ')} |"
        )
    import nutpie

    lines += [
        "",
        measured_on(
            f"nutpie {nutpie.__version__}, 4 chains × 1000 draws after 1000 tuning steps, seed 1. "
            "ESS and R-hat over the population parameters, group sds and sigma's parameters. "
            "`benchmarks/parameterisation.py`."
        ),
    ]
    return "\n".join(lines)


def write(rows: list[dict[str, Any]]) -> None:
    replace_between(DOC, BEGIN, END, table(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", help="comma-separated subset of the model names")
    parser.add_argument("--json", type=Path, help="also write the raw rows here")
    parser.add_argument("--report-from", type=Path, help="rewrite the table from a --json file")
    args = parser.parse_args()
    if args.report_from:
        write(json.loads(args.report_from.read_text(encoding="utf-8")))
        return
    rows = measure(args.models.split(",") if args.models else None)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    write(rows)


if __name__ == "__main__":
    main()
