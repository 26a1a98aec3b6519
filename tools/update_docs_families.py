"""Rewrite the family table of docs/families.md from ``hm.families()`` (the family entries).

``tests/test_families.py::test_docs_table_lists_every_family`` checks that the page agrees.

Run: ``.venv/bin/python tools/update_docs_families.py``
"""

from __future__ import annotations

from pathlib import Path

import hiermod as hm

PAGE = Path(__file__).resolve().parents[1] / "docs" / "families.md"
BEGIN, END = "<!-- families:begin -->", "<!-- families:end -->"


def family_table() -> str:
    """The markdown table of every family, one row each."""
    table = hm.families()
    lines = [
        "| family | parameters (link if not log) | links of `mu` | response | PyMC | brms |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in table.iterrows():
        cells = [
            f"`{name}`",
            row["parameters"],
            row["links"],
            row["response"],
            row["pymc"],
            row["brms"],
        ]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def updated(page: str) -> str:
    head, _, rest = page.partition(BEGIN + "\n")
    _, _, tail = rest.partition(END)
    return head + BEGIN + "\n" + family_table() + END + tail


def main() -> None:
    PAGE.write_text(updated(PAGE.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
