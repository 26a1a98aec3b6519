"""Rewrite the generated parts of docs/source-export.md from the current code.

The page shows the forum model's generated source (``tests/fixtures/golden/forum_nested_sigma.py``,
which ``HIERMOD_UPDATE_GOLDEN=1 pytest tests/test_emit_golden.py`` rewrites first), its graph as
Mermaid text, and ``docs/img/forum-graph.svg`` (needs graphviz's ``dot``).
``tests/test_emit_golden.py::test_docs_page_shows_the_real_source_and_graph`` checks that they agree.

Run: ``.venv/bin/python tools/update_docs_source.py``
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_emit_golden import GOLDEN, golden_models  # noqa: E402

import hiermod as hm  # noqa: E402

PAGE = ROOT / "docs" / "source-export.md"


def _replace_block(text: str, fence: str, new: str, last: bool) -> str:
    """Replace the body of the first (or last) ```fence block with ``new``."""
    opening = f"```{fence}\n"
    if last:
        head, _, rest = text.rpartition(opening)
    else:
        head, _, rest = text.partition(opening)
    _, closing, tail = rest.partition("```\n")
    return head + opening + new + closing + tail


def main() -> None:
    formula, data, options = golden_models()["forum_nested_sigma"]
    model = hm.Model(formula, data(), **options)
    page = PAGE.read_text(encoding="utf-8")
    page = _replace_block(page, "python", (GOLDEN / "forum_nested_sigma.py").read_text(), True)
    page = _replace_block(page, "mermaid", model.graph("mermaid"), False)
    PAGE.write_text(page, encoding="utf-8")
    (ROOT / "docs" / "img" / "forum-graph.svg").write_text(model.graph("svg"), encoding="utf-8")
    print(f"rewrote {PAGE.relative_to(ROOT)} and docs/img/forum-graph.svg")


if __name__ == "__main__":
    main()
