"""docs/notebooks/sleepstudy.ipynb runs end to end in a kernel of this Python (nbclient).

The notebook is stored without outputs; here it is executed from its own folder, as a reader who
opens it would, and the cells that matter (tagged in their metadata) are checked for what they
show: the graph as SVG with its block cluster, the summary, the two plots as pictures, LOO and the
comparison of the two models, the hypothesis and the source. It reads ``sleepstudy.csv`` from
``shared/data/`` beside the repository, and is skipped (saying so) where that is absent.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "notebooks" / "sleepstudy.ipynb"
DATA = ROOT.parent / "shared" / "data" / "sleepstudy.csv"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DATA.exists(), reason=f"sleepstudy.csv not found at {DATA}"),
]


def _text(cell: Any) -> str:
    """Everything a cell showed, as text: streams, plain/HTML/SVG reprs."""
    parts: list[str] = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            parts.append(output["text"])
        for kind in ("text/plain", "text/html", "image/svg+xml"):
            if kind in output.get("data", {}):
                parts.append(output["data"][kind])
    return "\n".join(parts)


def _kinds(cell: Any) -> set[str]:
    return {kind for output in cell.get("outputs", []) for kind in output.get("data", {})}


def test_stored_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    assert all(not cell.outputs and cell.execution_count is None for cell in code)


def test_sleepstudy_notebook_runs_end_to_end() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError on the first cell that fails
    cells = {tag: cell for cell in notebook.cells for tag in cell.metadata.get("tags", [])}
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    # the kernel is this interpreter (the venv's), not some other Python on the PATH
    assert Path(_text(cells["kernel"]).strip()).resolve() == Path(sys.executable).resolve()
    assert "hiermod.Model: Reaction ~ 1 + Days + (1 + Days | Subject)" in _text(cells["model"])
    assert "image/svg+xml" in _kinds(cells["graph"])
    assert "(1 + Days | Subject)" in _text(cells["graph"])
    assert "Days slope" in _text(cells["graph"])
    summary = _text(cells["summary"])
    assert "Days" in summary
    assert "Subject" in summary
    assert "image/png" in _kinds(cells["effects"])
    assert "image/png" in _kinds(cells["pp_check"])
    assert "elpd" in _text(cells["loo"]).lower()
    compare = _text(cells["compare"])
    assert "slopes" in compare
    assert "intercepts" in compare
    hypothesis = _text(cells["hypothesis"])
    assert "Days - 8 > 0" in hypothesis  # brms's form of "Days > 8"
    assert "post_prob" in hypothesis
    assert "def build_model" in _text(cells["source"])
