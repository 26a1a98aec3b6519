"""What the ``hiermod`` command checks before it does any work: numbers, the data file, the outputs.

A command that samples for minutes must not fail at the end, so everything it can know at the start
is checked at the start, with the flag named:

* numbers (``--draws -5``, ``--chains 0``, ``--target-accept 7``) are refused by the parser itself
  (:func:`whole_number`, :func:`probability`): usage, ``argument --draws: must be a whole number
  >= 1, not '-5'`` and exit status 2, before the data are read;
* the data (:func:`hiermod.cli.inputs.read_data`): a missing file, a directory, an empty file, a
  file that is not CSV or Parquet each get a sentence naming the file, never pandas' traceback;
* an output (:func:`check_output`): its directory must exist and take a new file (probed by
  creating and removing one, which also works for root, for whom permission bits say nothing),
  it must not be a directory, and with ``overwrite=False`` it must not exist: every ``-o`` of
  ``compile``/``source``, ``fit`` and ``predict`` (and ``predict --draws-output``) refuses to
  replace a file unless ``--force`` is given.

:func:`write_atomically` then writes through a temporary file in the same directory and renames
it, so an existing output is replaced only by a complete one.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from hiermod.errors import HiermodError

__all__ = [
    "CommandError",
    "check_output",
    "check_output_dir",
    "partial_path",
    "probability",
    "whole_number",
    "write_atomically",
]


class CommandError(HiermodError):
    """A problem with the command's inputs or outputs (a data file that cannot be read, an output
    that cannot be written): the message names the file and the flag."""


def whole_number(least: int) -> Callable[[str], int]:
    """An argparse ``type``: a whole number ``>= least``. ``whole_number(1)("-5")`` is refused with
    ``must be a whole number >= 1, not '-5'``; argparse prefixes the flag and exits with 2."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = least - 1
        if value < least:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {least}, not {text!r}")
        return value

    parse.__name__ = f"whole number >= {least}"
    return parse


def probability(text: str) -> float:
    """An argparse ``type``: a number strictly between 0 and 1 (``--target-accept 0.95``)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1:  # also refuses nan
        raise argparse.ArgumentTypeError(
            f"must be a probability between 0 and 1 (exclusive), e.g. 0.95, not {text!r}"
        )
    return value


def _probe_directory(directory: Path, describe: str) -> None:
    """A new file can be created in ``directory`` (created and removed at once)."""
    if not directory.exists():
        raise CommandError(f"{describe}: the directory {directory} does not exist")
    if not directory.is_dir():
        raise CommandError(f"{describe}: {directory} is not a directory")
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".hiermod-probe-"):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise CommandError(f"{describe}: cannot create a file in {directory} ({reason})") from None


def check_output(path: str, flag: str = "-o", *, overwrite: bool = True) -> Path:
    """Check before any work that ``path`` can be written; the path.

    ``overwrite=False`` refuses an existing file (``hiermod fit`` without ``--force``).
    """
    out = Path(path)
    describe = f"cannot write {flag} {path}"
    if out.is_dir():
        raise CommandError(f"{describe}: it is a directory; give the name of a file in it")
    if out.exists() and not overwrite:
        raise CommandError(
            f"{describe}: the file exists; pass --force to replace it, or choose another name"
        )
    _probe_directory(out.parent if str(out.parent) else Path("."), describe)
    return out


def check_output_dir(path: str, flag: str = "--out") -> Path:
    """Check before any work that the directory ``path`` exists and takes files, or can be created
    (its nearest existing ancestor takes new entries); the path."""
    out = Path(path)
    describe = f"cannot write into {flag} {path}"
    if out.exists() and not out.is_dir():
        raise CommandError(f"{describe}: it is a file, not a directory")
    ancestor = out
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    _probe_directory(ancestor if ancestor.exists() else Path("."), describe)
    return out


def partial_path(path: Path) -> Path:
    """Where an interrupted fit goes: ``out.nc`` -> ``out.partial.nc`` (``out`` -> ``out.partial``)."""
    return path.with_name(f"{path.stem}.partial{path.suffix}")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """``write(temporary)``, then rename the temporary file to ``path`` (same directory, so the
    rename replaces an existing ``path`` at once); the temporary file is removed on failure."""
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(handle)
    temporary = Path(name)
    try:
        write(temporary)
        temporary.chmod(0o666 & ~_umask())  # mkstemp's file is private; a new file's usual mode
        temporary.replace(path)
    except OSError as error:
        raise CommandError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
