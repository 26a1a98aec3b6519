"""A generated table between two HTML-comment markers of a docs page, and the line under it."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path


def measured_on(extra: str) -> str:
    """``Measured <date> on <machine>, <n> CPUs, Python …, PyMC …, PyTensor …; <extra>``."""
    import pymc
    import pytensor

    return (
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, PyMC {pymc.__version__}, "
        f"PyTensor {pytensor.__version__}; {extra}"
    )


def replace_between(page: Path, begin: str, end: str, text: str) -> None:
    """Put ``text`` between the markers ``begin`` and ``end`` of ``page``, which must have both."""
    content = page.read_text(encoding="utf-8")
    if begin not in content or end not in content:
        raise SystemExit(f"{page} lacks the markers {begin!r} … {end!r}")
    head, rest = content.split(begin, 1)
    _, tail = rest.split(end, 1)
    page.write_text(f"{head}{begin}\n{text}\n{end}{tail}", encoding="utf-8")
    print(f"wrote {page}")
