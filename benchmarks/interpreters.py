"""Which Python runs each tool's benchmark workers.

Bambi 0.21 (the current release) requires ``formulae<0.7``, and hiermod requires ``formulae>=0.9``
(its smooths use formulae's spline bases), so the two cannot be installed in one environment.
``make venv-bench`` therefore creates a second virtual environment for Bambi,
``benchmarks/.venv-bambi`` (Bambi, nutpie, psutil: ``benchmarks/bambi-requirements.txt``), and
every benchmark runs its Bambi workers with that environment's Python; hiermod, the hand-written
PyMC models and the parent process use ``.venv``. The worker scripts import only NumPy, pandas and
the benchmark modules at their top, and each tool's package inside the worker, so one script
serves both environments. ``HIERMOD_BAMBI_PYTHON`` points at another interpreter with Bambi.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

__all__ = ["BAMBI_VENV", "has_tool", "python_for", "tool_versions"]

BAMBI_VENV = Path(__file__).resolve().parent / ".venv-bambi"


def python_for(tool: str) -> str:
    """The interpreter for ``tool``'s workers: Bambi's environment for ``"bambi"`` (the variable
    ``HIERMOD_BAMBI_PYTHON``, else ``benchmarks/.venv-bambi``, else this Python), this Python for
    every other tool."""
    if tool != "bambi":
        return sys.executable
    chosen = os.environ.get("HIERMOD_BAMBI_PYTHON")
    if chosen:
        return chosen
    venv_python = BAMBI_VENV / "bin" / "python"
    return str(venv_python) if venv_python.exists() else sys.executable


@cache
def tool_versions(tool: str, packages: tuple[str, ...]) -> dict[str, str]:
    """The installed version of each of ``packages`` in ``tool``'s interpreter ("not installed"
    where it is missing)."""
    code = (
        "import json, sys\n"
        "from importlib import metadata\n"
        "out = {}\n"
        "for p in sys.argv[1:]:\n"
        "    try:\n"
        "        out[p] = metadata.version(p)\n"
        "    except metadata.PackageNotFoundError:\n"
        "        out[p] = 'not installed'\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [python_for(tool), "-c", code, *packages], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return dict.fromkeys(packages, "not installed")
    return json.loads(done.stdout)


def has_tool(tool: str) -> bool:
    """Whether ``tool``'s interpreter has the tool's package installed."""
    return tool_versions(tool, (tool,))[tool] != "not installed"
