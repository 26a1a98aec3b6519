"""``hiermod fit`` and ``hiermod demo``, run as the real command in a subprocess with tiny draws."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import arviz as az
import pandas as pd
import pytest
from support import HANG_GUARD_SECONDS

import hiermod as hm


def _hiermod(
    *args: str, cwd: Path, timeout: float = HANG_GUARD_SECONDS
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hiermod", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    sim = hm.datasets.correlated_slopes(n_groups=5, per_group=8, seed=4)
    path = folder / "data.csv"
    sim.data.to_csv(path, index=False)
    return path


def test_fit_prints_the_summary_and_saves_a_reloadable_fit(csv: Path) -> None:
    out = csv.parent / "fit.nc"
    result = _hiermod(
        "fit", "y ~ x + (x | g)", "--data", str(csv), "--draws", "30", "--tune", "30",
        "--chains", "2", "--seed", "1", "-o", str(out), "--no-progress", cwd=csv.parent,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for part in (
        "Formula: y ~ 1 + x + (1 + x | g)",
        "Population-level effects",
        "Group-level standard deviations",
        "Sampler diagnostics",
        f"wrote {out}",
    ):
        assert part in result.stdout, part
    assert result.stdout.count("Population-level effects") == 1  # the summary printed once
    idata = az.from_netcdf(out)
    data = pd.read_csv(csv)
    model = hm.Model.from_idata(idata, data)
    assert model.predict(idata).shape == (2, 30, len(data))


@pytest.mark.slow
def test_fit_map_with_a_family(csv: Path) -> None:
    data = pd.read_csv(csv)
    data["count"] = (data["y"] - data["y"].min()).round().astype(int)
    path = csv.parent / "counts.csv"
    data.to_csv(path, index=False)
    result = _hiermod(
        "fit", "count ~ x + (1 | g)", "--data", str(path), "--family", "poisson",
        "--method", "map", cwd=csv.parent,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Family:  poisson (link: log)" in result.stdout
    assert "posterior mode (MAP)" in result.stdout


def test_fit_reports_formula_errors_without_a_traceback(csv: Path) -> None:
    result = _hiermod("fit", "y ~ x + (x | nope)", "--data", str(csv), cwd=csv.parent)
    assert result.returncode == 2
    assert "nope" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_demo_writes_its_outputs_and_prints_the_recovery_table(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = _hiermod(
        "demo", "--out", str(out), "--draws", "40", "--tune", "40", "--chains", "1",
        "--no-progress", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "Formula (canonical):" in text
    assert (
        "y ~ 1 + x1 + x2 + x3 + (1 + x1 + x2 + x3 | group:color); sigma ~ 1 + (1 | group:color)"
        in text
    )
    assert "Recovery of the true values" in text
    for row in (
        "Intercept",
        "b[x1]",
        "sd_group__color[x3]",
        "sigma_Intercept",
        "sigma_sd_group__color",
    ):
        assert row in text, row
    assert (out / "graph.dot").read_text().lstrip().startswith(("digraph", "strict digraph"))
    assert "def build_model" in (out / "model.py").read_text()
    assert (out / "graph.svg").exists() or "graph.svg not written" in text
