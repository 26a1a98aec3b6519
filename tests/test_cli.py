"""The ``hiermod`` command, run as a separate process (``python -m hiermod …``) as a user would."""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from support import HANG_GUARD_SECONDS

from hiermod.cli import main
from hiermod.datasets import correlated_slopes

FORMULA = "y ~ x + (1 + x | g)"


def hiermod(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hiermod", *args],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
        env=env,
    )


@functools.cache
def data_csv(tmp: Path) -> Path:
    path = tmp / "data.csv"
    correlated_slopes(n_groups=5, per_group=6, seed=2).data.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return data_csv(tmp_path_factory.mktemp("cli"))


def test_parse_prints_the_canonical_formula_and_tree() -> None:
    done = hiermod("parse", "y ~ a*b + (x || g1/g2)")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "y ~ 1 + a + b + a:b + (1 + x || g1) + (1 + x || g1:g2)"
    assert "  block  | g1:g2  (uncorrelated, 2 effects per level)" in lines


def test_formula_error_is_a_caret_message_and_status_2() -> None:
    done = hiermod("parse", "y ~ x + (1 | )")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "hiermod parse: error: unexpected ')'",
        "  y ~ x + (1 | )",
        "               ^",
        "hint: empty grouping: name the grouping factor after '|', e.g. (1 | group)",
    ]


def test_compile_writes_runnable_source(csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "model.py"
    done = hiermod("compile", FORMULA, "--data", str(csv), "-o", str(out))
    assert done.returncode == 0, done.stderr
    source = out.read_text(encoding="utf-8")
    compile(source, str(out), "exec")
    assert source.startswith('"""A PyMC model written by hiermod from the formula')
    assert "def build_model(" in source
    assert "data: pd.DataFrame | dict[str, np.ndarray]" in source


def test_data_error_is_a_caret_message_and_status_2(csv: Path) -> None:
    done = hiermod("compile", "y ~ x + (1 | gg)", "--data", str(csv))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[:3] == [
        "hiermod compile: error: unknown column 'gg': the data has no such column",
        "  y ~ x + (1 | gg)",
        "               ^^",
    ]
    assert "hint: did you mean 'g'?" in done.stderr


# In-process runs of main() for the variants (the subprocess tests above cover the real command).


def test_graph_mermaid_needs_no_graphviz(
    csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model's graph (Model.graph: labels from the plan, a subgraph per block), as Mermaid
    text, without the graphviz package (DOT comes from graphviz, a core dependency)."""
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz fails
    assert main(["graph", FORMULA, "--data", str(csv), "-o", str(tmp_path / "g.mmd")]) == 0
    text = (tmp_path / "g.mmd").read_text(encoding="utf-8")
    assert text.startswith("flowchart TD")
    assert 'subgraph block0 ["(1 + x | g)"]' in text
    assert '["intercept and x slope deviations per g<br/>r_g[2]"]' in text  # a box
    # a stadium: the block's free variable (centred here, by the data's information ratio)
    assert (
        '(["intercept and x slope per g<br/>beta_g[2] ~ bivariate normal(mean, sd, corr)"])' in text
    )
    assert main(["graph", FORMULA, "--data", str(csv), "-o", str(tmp_path / "g.mmd")]) == 2
    assert (
        main(["graph", FORMULA, "--data", str(csv), "-o", str(tmp_path / "g.mmd"), "--force"]) == 0
    )


def _without_dot_program(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rendering fails as when graphviz's ``dot`` is not installed. (Blanking PATH instead would also
    hide the C compiler's assembler from PyTensor for the rest of the worker process.)"""
    graphviz = pytest.importorskip("graphviz")

    def missing(*args: object, **kwargs: object) -> None:
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(graphviz.Digraph, "pipe", missing)


def test_graph_to_svg_without_dot_names_the_fix(
    csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _without_dot_program(monkeypatch)
    assert main(["graph", FORMULA, "--data", str(csv), "-o", str(tmp_path / "g.svg")]) == 2
    err = capsys.readouterr().err
    assert "needs graphviz's 'dot' program" in err
    assert "apt-get install graphviz" in err
    assert "format='dot' or format='mermaid'" in err
    monkeypatch.setitem(sys.modules, "graphviz", None)
    assert main(["graph", FORMULA, "--data", str(csv), "-o", str(tmp_path / "g.png")]) == 2
    assert "needs the Python package 'graphviz': pip install graphviz" in capsys.readouterr().err


def test_compile_to_stdout_and_missing_file(csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", FORMULA, "--data", str(csv), "--family", "gaussian"]) == 0
    assert "def prepare(df: pd.DataFrame)" in capsys.readouterr().out
    assert main(["compile", FORMULA, "--data", str(csv.parent / "nope.csv")]) == 2
    assert "cannot read the data file" in capsys.readouterr().err


def test_family_and_link_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "binary.csv"
    pd.DataFrame({"yes": [0, 1, 1, 0, 1, 0], "x": [0.1, 0.5, 0.9, 0.2, 0.7, 0.3]}).to_csv(
        path, index=False
    )
    assert (
        main(
            ["compile", "yes ~ x", "--data", str(path), "--family", "bernoulli", "--link", "probit"]
        )
        == 0
    )
    assert "mu = pm.math.invprobit(probit_mu)" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stopped:  # refused by the parser, before the data are read
        main(["compile", "yes ~ x", "--data", str(path), "--family", "bernouli"])
    assert stopped.value.code == 2
    assert "argument --family: unknown family 'bernouli'" in capsys.readouterr().err


def test_graph_formats(csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", FORMULA, "--data", str(csv)]) == 0
    dot = capsys.readouterr().out
    assert dot.startswith('digraph "y ~ 1 + x + (1 + x | g)" {')
    assert 'label="(1 + x | g)"' in dot
    assert main(["graph", FORMULA, "--data", str(csv), "-o", str(tmp_path / "g.txt")]) == 2
    assert "cannot tell the graph format" in capsys.readouterr().err
    if shutil.which("dot") is None:
        pytest.skip("graphviz's dot program is not installed")
    assert main(["graph", FORMULA, "--data", str(csv), "-o", str(tmp_path / "g.svg")]) == 0
    assert "<svg" in (tmp_path / "g.svg").read_text(encoding="utf-8")
