"""Reading the ``hiermod`` command's data files: CSV or Parquet, chosen by the file's suffix.

::

    hiermod fit "y ~ x + (1 | g)" --data data.csv          # pandas.read_csv
    hiermod fit "y ~ x + (1 | g)" --data data.parquet      # pandas.read_parquet (pyarrow)
    hiermod predict fit.nc --data new.pq

:func:`read_data` is the one function every command reads a table with (``--data``, ``--train``).
The suffix decides, case-insensitively: ``.csv``; ``.parquet`` or ``.pq``. Any other suffix
(``data.xlsx``, ``data``) is refused before the file is opened, with the suffixes it takes. A
missing file, a directory, an empty file, a file that is not text or not CSV, a file that is not
Parquet each get a sentence naming the file and the flag, never pandas' or pyarrow's traceback.
Parquet needs pyarrow (``pip install hiermod[parquet]``); without it the error says so.

Parquet keeps the column types (an ordered categorical stays one); CSV gives numbers and strings,
as ``pandas.read_csv`` reads them.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from hiermod.cli.checks import CommandError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CSV_SUFFIXES", "PARQUET_SUFFIXES", "read_csv", "read_data", "read_parquet"]

CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")


def read_data(path: str, flag: str = "--data") -> pd.DataFrame:
    """The data frame of the CSV or Parquet file ``path`` (by its suffix); a
    :class:`~hiermod.cli.checks.CommandError` naming the file, the flag and what is wrong."""
    suffix = Path(path).suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return read_parquet(path, flag)
    _data_file(path, flag, "CSV")  # a missing file or a directory says so first
    if suffix in CSV_SUFFIXES:
        return read_csv(path, flag)
    takes = ", ".join((*CSV_SUFFIXES, *PARQUET_SUFFIXES))
    what = f"the suffix {suffix!r}" if suffix else "no suffix"
    raise CommandError(
        f"cannot read the data file {path} ({flag}): it has {what}; the data must be a CSV "
        f"or Parquet file named with one of {takes}"
    )


def existing_file(path: str, where: str, kind: str) -> Path:
    """``path`` as a Path; a :class:`CommandError` starting ``where`` when it is missing or a
    directory (not a ``kind`` file)."""
    file = Path(path)
    if not file.exists():
        raise CommandError(f"{where}: it does not exist")
    if file.is_dir():
        raise CommandError(f"{where}: it is a directory, not a {kind} file")
    return file


def _data_file(path: str, flag: str, kind: str) -> tuple[Path, str]:
    where = f"cannot read the data file {path} ({flag})"
    return existing_file(path, where, kind), where


def read_csv(path: str, flag: str = "--data") -> pd.DataFrame:
    """The data frame of a CSV file; a :class:`CommandError` naming the file and what is wrong."""
    import pandas as pd

    file, where = _data_file(path, flag, "CSV")
    try:
        return pd.read_csv(file)
    except pd.errors.EmptyDataError:
        raise CommandError(f"{where}: it is empty (a CSV file needs a header row)") from None
    except UnicodeDecodeError:
        raise CommandError(f"{where}: it is not UTF-8 text (a binary file?)") from None
    except (pd.errors.ParserError, csv.Error) as error:
        raise CommandError(f"{where}: it is not valid CSV ({error})") from None
    except (OSError, ValueError) as error:
        raise CommandError(f"{where}: {error}") from None


def read_parquet(path: str, flag: str = "--data") -> pd.DataFrame:
    """The data frame of a Parquet file (pyarrow's reader); a :class:`CommandError` naming the
    file and what is wrong, or that pyarrow is missing."""
    import pandas as pd

    file, where = _data_file(path, flag, "Parquet")
    try:
        import pyarrow  # noqa: F401  (pandas' own message would name no package to install)
    except ImportError:
        raise CommandError(
            f"{where}: reading Parquet needs pyarrow (pip install pyarrow, or "
            "pip install hiermod[parquet]); or give the data as CSV"
        ) from None
    try:
        return pd.read_parquet(file, engine="pyarrow")
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CommandError(f"{where}: it is not a Parquet file ({reason})") from None
