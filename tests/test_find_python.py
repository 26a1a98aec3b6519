"""tools/find-python: the Makefile's choice of interpreter, on the layouts of both machine images.

Each case builds a fake machine in a temporary folder: commands on PATH, a pyenv root, a system
bin folder. A fake interpreter is a shell script that exits 0 ("runs, >= 3.12"), 1 ("runs, too
old") or 127 with pyenv's message (a shim for a version that is not selected). PATH holds only the
fake commands and the two utilities the script needs, so the real machine's Pythons never leak in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "find-python"

GOOD = "#!/bin/sh\nexit 0\n"
OLD = "#!/bin/sh\nexit 1\n"
SHIM = '#!/bin/sh\necho "pyenv: ${0##*/}: command not found" >&2\nexit 127\n'


def _put(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


class Machine:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.path_dir = root / "bin"
        self.pyenv = root / "pyenv"
        self.system = root / "usr-bin"
        for folder in (self.path_dir, self.system):
            folder.mkdir(parents=True)
        for tool in ("ls", "sort"):  # the only external commands the script runs
            found = shutil.which(tool)
            assert found is not None
            (self.path_dir / tool).symlink_to(found)

    def on_path(self, name: str, text: str) -> Path:
        return _put(self.path_dir / name, text)

    def in_pyenv(self, version: str, text: str = GOOD) -> Path:
        minor = ".".join(version.split(".")[:2])
        return _put(self.pyenv / "versions" / version / "bin" / f"python{minor}", text)

    def in_system(self, name: str, text: str = GOOD) -> Path:
        return _put(self.system / name, text)

    def find(self, python: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": str(self.path_dir),
            "HOME": str(self.root),
            "PYENV_ROOT": str(self.pyenv),
            "HIERMOD_SYSTEM_BIN": str(self.system),
        }
        if python is not None:
            env["PYTHON"] = python
        return subprocess.run(
            ["/bin/sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60
        )


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    return Machine(tmp_path)


def _found(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_debian12_layout_skips_failing_shims_and_takes_pyenv_newest(machine: Machine) -> None:
    """Debian 12 image: python3.12/3.13 on PATH are pyenv shims that fail; pyenv has both."""
    machine.on_path("python3.13", SHIM)
    machine.on_path("python3.12", SHIM)
    machine.in_pyenv("3.12.1")
    expected = machine.in_pyenv("3.13.0")
    machine.in_pyenv("3.11.7", OLD)
    assert _found(machine.find()) == str(expected)


def test_debian13_layout_takes_the_system_python(machine: Machine) -> None:
    """Debian 13 image: no pyenv; Debian's /usr/bin/python3.13."""
    expected = machine.in_system("python3.13")
    machine.in_system("python3.11", OLD)
    assert _found(machine.find()) == str(expected)


def test_a_working_command_on_path_comes_first(machine: Machine) -> None:
    expected = machine.on_path("python3.13", GOOD)
    machine.in_pyenv("3.13.0")
    machine.in_system("python3.13")
    assert _found(machine.find()) == str(expected)


def test_newest_minor_wins_over_location(machine: Machine) -> None:
    """3.13 in pyenv beats 3.12 on PATH: the newest version first, then the place."""
    machine.on_path("python3.12", GOOD)
    expected = machine.in_pyenv("3.13.0")
    assert _found(machine.find()) == str(expected)


def test_newest_patch_release_is_compared_as_a_number(machine: Machine) -> None:
    for version in ("3.13.0", "3.13.9", "3.13.2"):
        machine.in_pyenv(version)
    expected = machine.in_pyenv("3.13.10")
    assert _found(machine.find()) == str(expected)


def test_python_given_and_working_is_used_as_given(machine: Machine) -> None:
    machine.in_pyenv("3.13.0")
    given = machine.in_system("python3.12")
    assert _found(machine.find(str(given))) == str(given)


def test_python_given_by_version_falls_back_when_its_shim_fails(machine: Machine) -> None:
    """`make test PYTHON=python3.13` on the Debian 12 image: the shim fails, pyenv's 3.13 runs."""
    machine.on_path("python3.13", SHIM)
    machine.in_pyenv("3.12.1")
    expected = machine.in_pyenv("3.13.0")
    assert _found(machine.find("python3.13")) == str(expected)
    assert _found(machine.find("python3.12")) == str(machine.in_pyenv("3.12.1"))


@pytest.mark.parametrize("given", ["python3.11", "/nonexistent/python", "python3"])
def test_python_given_that_cannot_serve_is_an_error(machine: Machine, given: str) -> None:
    machine.in_pyenv("3.13.0")
    machine.on_path("python3.11", OLD)
    machine.on_path("python3", OLD)
    result = machine.find(given)
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"PYTHON={given}" in result.stderr
    assert "3.12" in result.stderr


def test_nothing_usable_fails_with_one_line_saying_what_to_install(machine: Machine) -> None:
    machine.on_path("python3.12", SHIM)
    machine.on_path("python3.13", SHIM)
    machine.in_pyenv("3.11.7", OLD)
    machine.in_system("python3.11", OLD)
    result = machine.find()
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "install" in lines[0]
    assert "python3.13" in lines[0]
    assert "PYTHON=" in lines[0]


@pytest.mark.skipif(sys.platform != "linux", reason="the images are Linux")
def test_on_this_machine_it_finds_an_interpreter_that_runs() -> None:
    """No fakes: whatever the finder picks here starts and is at least 3.12."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHON"}
    found = subprocess.run(
        ["/bin/sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120
    )
    python = _found(found)
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version_info >= (3, 12))"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert version.stdout.strip() == "True"
