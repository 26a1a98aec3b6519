"""The exported source as a product: golden files, hostile names, and a script run on its own.

Golden files in ``tests/fixtures/golden/`` pin the emitted text of representative models; run with
``HIERMOD_UPDATE_GOLDEN=1`` to rewrite them after an intended change (and read the diff).
"""

from __future__ import annotations

import ast
import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from support import HANG_GUARD_SECONDS, assert_same_model

import hiermod as hm
from hiermod.datasets import correlated_slopes, forum_scenario

GOLDEN = Path(__file__).parent / "fixtures" / "golden"
SLEEPSTUDY = Path(__file__).resolve().parents[2] / "shared" / "data" / "sleepstudy.csv"
UPDATE = os.environ.get("HIERMOD_UPDATE_GOLDEN") == "1"


@functools.cache
def forum_data() -> pd.DataFrame:
    return forum_scenario(n_rows=400, n_features=3, n_groups=4, n_colors=2, seed=0).data


@functools.cache
def visits() -> pd.DataFrame:
    """Counts over exposure times, in clinics: a Poisson rate model with an offset."""
    rng = np.random.default_rng(42)
    clinic = rng.integers(0, 6, 120)
    exposure = rng.uniform(0.5, 4.0, 120)
    age = rng.normal(50.0, 12.0, 120)
    rate = np.exp(-1.0 + 0.02 * (age - 50) + rng.normal(0, 0.3, 6)[clinic])
    return pd.DataFrame(
        {
            "clinic": [f"c{c}" for c in clinic],
            "age": age.round(1),
            "exposure": exposure.round(2),
            "visits": rng.poisson(rate * exposure),
        }
    )


def golden_models() -> dict[str, tuple[str, Any, dict[str, Any]]]:
    return {
        "forum_additive": (
            "y ~ x1 + x2 + x3 + (1 + x1 + x2 + x3 | group) + (1 + x1 + x2 + x3 | color)",
            forum_data,
            {},
        ),
        "forum_nested_sigma": (forum_scenario().formula, forum_data, {}),
        "sleepstudy": ("Reaction ~ Days + (Days | Subject)", lambda: pd.read_csv(SLEEPSTUDY), {}),
        "poisson_offset": (
            "visits ~ center(age) + offset(log(exposure)) + (1 | clinic)",
            visits,
            {"family": "poisson"},
        ),
        "distributional": (
            "y ~ x + (1 + x | g)\nsigma ~ x + (1 | g)",
            lambda: correlated_slopes(n_groups=6, per_group=10, seed=4).data,
            {},
        ),
    }


@pytest.mark.parametrize("name", list(golden_models()))
def test_golden_source(name: str) -> None:
    formula, data, options = golden_models()[name]
    if name == "sleepstudy" and not SLEEPSTUDY.exists():
        pytest.skip(f"{SLEEPSTUDY} is absent (the shared data folder beside the project)")
    source = hm.Model(formula, data(), **options).source()
    path = GOLDEN / f"{name}.py"
    if UPDATE or not path.exists():
        path.write_text(source, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"wrote the missing golden file {path}; check it in")
    assert source == path.read_text(encoding="utf-8"), (
        f"the source of {name} changed; rerun with HIERMOD_UPDATE_GOLDEN=1 if that is intended"
    )


# ---------------------------------------------------------------------------------------------------
# Hostile column names and levels: they must stay data.

PAYLOAD = '__import__("os").system("touch PWNED")'
LEVELS = (
    "plain",
    'it\'s "quoted"',
    "back\\slash\\",
    "new\nline",
    '"""; __import__("os").system("touch PWNED"); """',
    "'; __import__('os').system('touch PWNED') #",
    "\u2028para\u2029",
    "ünïcödé 日本",
    "with space.and.dots",
)


@functools.cache
def hostile() -> tuple[hm.Model, pd.DataFrame]:
    rng = np.random.default_rng(3)
    n = 90
    data = pd.DataFrame(
        {
            'resp "y"\\': rng.normal(size=n),
            PAYLOAD: rng.normal(size=n),
            "grp. ünï 日本": np.array(LEVELS)[np.arange(n) % len(LEVELS)],
            "kind'\"": rng.choice(list(LEVELS[:4]), n),
        }
    )
    formula = f'`resp "y"\\` ~ `{PAYLOAD}` + `kind\'"` + (1 + `{PAYLOAD}` | `grp. ünï 日本`)'
    return hm.Model(formula, data), data


def test_hostile_names_stay_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model, data = hostile()
    source = model.source()
    tree = ast.parse(source)
    # The payload is never code: no name __import__, no call of .system, anywhere in the module.
    assert not any(isinstance(n, ast.Name) and n.id == "__import__" for n in ast.walk(tree))
    assert not any(isinstance(n, ast.Attribute) and n.attr == "system" for n in ast.walk(tree))
    # Every line break of a level is escaped: comments and strings stay on their line.
    assert all("PWNED" not in line or "#" in line or '"' in line for line in source.splitlines())
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "hiermod_generated"}
    exec(compile(source, "<hostile>", "exec"), namespace)
    built = namespace["build_model"](data)
    assert not (tmp_path / "PWNED").exists()
    assert_same_model(built, model.pymc, n_points=1)
    assert {k: tuple(v) for k, v in built.coords.items()} == model.ir.coords
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is not None:
        (tmp_path / "hostile.py").write_text(source, encoding="utf-8")
        fmt = subprocess.run(
            [ruff, "format", "--isolated", "--check", "--diff", str(tmp_path / "hostile.py")],
            capture_output=True,
            text=True,
        )
        assert fmt.returncode == 0, fmt.stdout + fmt.stderr


# ---------------------------------------------------------------------------------------------------
# The exported script on its own: a separate Python process reads a CSV and samples.


@pytest.mark.slow
def test_exported_script_runs_in_its_own_process(tmp_path: Path) -> None:
    sim = correlated_slopes(n_groups=5, per_group=8, seed=1)
    script, csv = tmp_path / "model.py", tmp_path / "data.csv"
    script.write_text(hm.Model(sim.formula, sim.data).source(), encoding="utf-8")
    sim.data.to_csv(csv, index=False)
    args = ["--draws", "20", "--tune", "20", "--chains", "1"]
    done = subprocess.run(
        [sys.executable, str(script), str(csv), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=HANG_GUARD_SECONDS,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    table = done.stdout
    for name in ("Intercept", "b[x]", "sd_g[Intercept]", "sd_g[x]", "sigma", "mean", "r_hat"):
        assert name in table, table


def test_docs_page_shows_the_real_source_and_graph() -> None:
    page = (Path(__file__).parents[1] / "docs" / "source-export.md").read_text(encoding="utf-8")
    python = page.split("```python\n")[-1].split("```\n")[0]
    assert python == (GOLDEN / "forum_nested_sigma.py").read_text(encoding="utf-8")
    mermaid = page.split("```mermaid\n")[1].split("```\n")[0]
    formula, data, options = golden_models()["forum_nested_sigma"]
    assert mermaid == hm.Model(formula, data(), **options).graph("mermaid")
    assert (Path(__file__).parents[1] / "docs" / "img" / "forum-graph.svg").exists()
