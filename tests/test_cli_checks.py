"""What the ``hiermod`` command refuses before doing any work, and that no path shows a traceback.

In-process runs of ``main()``: every case here fails before a model is sampled (most before the data
are read), so none of them compiles a sampler.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import hiermod.cli.commands as commands
from hiermod.cli import main
from hiermod.cli.checks import partial_path, whole_number
from hiermod.datasets import correlated_slopes

FORMULA = "y ~ x + (1 | g)"


@pytest.fixture(scope="module")
def csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-checks") / "data.csv"
    correlated_slopes(n_groups=4, per_group=5, seed=3).data.to_csv(path, index=False)
    return path


@pytest.fixture
def never_reads_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command must stop before the data are read (so before any sampling)."""

    def fail(*args: object) -> None:
        raise AssertionError("the data were read before the arguments were checked")

    monkeypatch.setattr(commands, "read_data", fail)


# -- numbers: refused by the parser, with the flag and the allowed range --------------------------

NUMBERS = [
    ("fit", "--draws", "-5", "must be a whole number >= 1, not '-5'"),
    ("fit", "--draws", "0", "must be a whole number >= 1, not '0'"),
    ("fit", "--draws", "1.5", "must be a whole number >= 1, not '1.5'"),
    ("fit", "--draws", "many", "must be a whole number >= 1, not 'many'"),
    ("fit", "--chains", "0", "must be a whole number >= 1, not '0'"),
    ("fit", "--tune", "-1", "must be a whole number >= 0, not '-1'"),
    ("fit", "--seed", "-3", "must be a whole number >= 0, not '-3'"),
    ("fit", "--target-accept", "7", "must be a probability between 0 and 1 (exclusive)"),
    ("fit", "--target-accept", "0", "must be a probability between 0 and 1 (exclusive)"),
    ("fit", "--target-accept", "1", "must be a probability between 0 and 1 (exclusive)"),
    ("fit", "--target-accept", "nan", "must be a probability between 0 and 1 (exclusive)"),
    ("fit", "--target-accept", "high", "must be a probability between 0 and 1 (exclusive)"),
    ("demo", "--draws", "-5", "must be a whole number >= 1, not '-5'"),
    ("demo", "--chains", "0", "must be a whole number >= 1, not '0'"),
    ("demo", "--tune", "-2", "must be a whole number >= 0, not '-2'"),
]


@pytest.mark.parametrize(("command", "flag", "value", "words"), NUMBERS)
def test_numbers_out_of_range_are_refused_at_once(
    command: str,
    flag: str,
    value: str,
    words: str,
    csv: Path,
    never_reads_data: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [command, FORMULA, "--data", str(csv)] if command == "fit" else [command]
    with pytest.raises(SystemExit) as stopped:
        main([*args, f"{flag}={value}"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: {words}" in err
    assert "Traceback" not in err


def test_whole_number_accepts_its_range() -> None:
    assert whole_number(0)("0") == 0
    assert whole_number(1)("12") == 12


# -- outputs: checked before the data are read ----------------------------------------------------


def _fit(csv: Path, *extra: str) -> list[str]:
    return ["fit", FORMULA, "--data", str(csv), "--no-progress", *extra]


def test_fit_output_that_is_a_directory(
    csv: Path, tmp_path: Path, never_reads_data: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_fit(csv, "-o", str(tmp_path))) == 2
    assert f"cannot write -o {tmp_path}: it is a directory" in capsys.readouterr().err


def test_fit_output_in_a_missing_directory(
    csv: Path, tmp_path: Path, never_reads_data: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "nowhere" / "fit.nc"
    assert main(_fit(csv, "-o", str(out))) == 2
    assert f"the directory {out.parent} does not exist" in capsys.readouterr().err


def test_fit_output_under_a_file(
    csv: Path, never_reads_data: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out = csv / "fit.nc"
    assert main(_fit(csv, "-o", str(out))) == 2
    assert f"{csv} is not a directory" in capsys.readouterr().err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc takes no new files")
def test_fit_output_where_no_file_can_be_created(
    csv: Path, never_reads_data: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # (permission bits do not stop root, which CI containers often are; /proc stops everyone)
    assert main(_fit(csv, "-o", "/proc/fit.nc")) == 2
    assert "cannot write -o /proc/fit.nc: cannot create a file in /proc" in capsys.readouterr().err


def test_fit_does_not_overwrite_without_force(
    csv: Path, tmp_path: Path, never_reads_data: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fit.nc"
    out.write_bytes(b"an earlier fit")
    assert main(_fit(csv, "-o", str(out))) == 2
    assert "the file exists; pass --force to replace it" in capsys.readouterr().err
    assert out.read_bytes() == b"an earlier fit"


def test_fit_does_not_overwrite_an_earlier_partial_fit_without_force(
    csv: Path, tmp_path: Path, never_reads_data: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fit.nc"
    partial_path(out).write_bytes(b"an interrupted fit")
    assert main(_fit(csv, "-o", str(out))) == 2
    err = capsys.readouterr().err
    assert f"cannot write -o {tmp_path / 'fit.partial.nc'}: the file exists" in err
    assert "--force" in err


def test_partial_path_says_partial() -> None:
    assert partial_path(Path("runs/out.nc")) == Path("runs/out.partial.nc")
    assert partial_path(Path("out")) == Path("out.partial")


@pytest.mark.parametrize("command", ["compile", "graph"])
def test_compile_and_graph_outputs_are_checked_first(
    command: str,
    csv: Path,
    tmp_path: Path,
    never_reads_data: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = [command, FORMULA, "--data", str(csv), "-o"]
    assert main([*base, str(tmp_path)]) == 2
    assert "it is a directory" in capsys.readouterr().err
    assert main([*base, str(tmp_path / "no" / "model.dot")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_demo_out_that_is_a_file(
    csv: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import hiermod.cli.demo as demo

    monkeypatch.setattr(demo, "demo_command", lambda args: pytest.fail("the demo ran"))
    assert main(["demo", "--out", str(csv)]) == 2
    assert f"cannot write into --out {csv}: it is a file, not a directory" in (
        capsys.readouterr().err
    )


# -- the data file: every way it can be unreadable, for every command that reads one --------------


def _bad_files(folder: Path) -> dict[str, tuple[Path, str]]:
    folder.mkdir(exist_ok=True)
    empty = folder / "empty.csv"
    empty.write_bytes(b"")
    binary = folder / "binary.csv"
    binary.write_bytes(bytes(range(128, 256)) * 4)
    broken = folder / "broken.csv"
    broken.write_text('y,x\n1,2\n"3,4\n', encoding="utf-8")
    header = folder / "header.csv"
    header.write_text("y,x,g\n", encoding="utf-8")
    return {
        "missing": (folder / "missing.csv", "it does not exist"),
        "directory": (folder, "it is a directory, not a CSV file"),
        "empty": (empty, "it is empty"),
        "binary": (binary, "it is not UTF-8 text"),
        "broken": (broken, "it is not valid CSV"),
        "header only": (header, "the data has no rows"),
    }


@pytest.mark.parametrize("command", ["compile", "graph", "fit"])
@pytest.mark.parametrize(
    "case", ["missing", "directory", "empty", "binary", "broken", "header only"]
)
def test_unreadable_data_is_one_sentence_and_status_2(
    command: str, case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, words = _bad_files(tmp_path / "bad")[case]
    assert main([command, FORMULA, "--data", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"hiermod {command}: error:")
    assert words in err
    if case != "header only":
        assert f"cannot read the data file {path} (--data)" in err
    assert "Traceback" not in err


def test_an_unexpected_error_is_one_line_not_a_traceback(
    csv: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def bug(args: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(commands, "load_model", bug)
    monkeypatch.delenv("HIERMOD_TRACEBACK", raising=False)
    assert main(["compile", FORMULA, "--data", str(csv)]) == 1
    err = capsys.readouterr().err
    assert "unexpected error (a bug in hiermod; please report it): ZeroDivisionError" in err
    assert "HIERMOD_TRACEBACK=1" in err
    monkeypatch.setenv("HIERMOD_TRACEBACK", "1")
    with pytest.raises(ZeroDivisionError):
        main(["compile", FORMULA, "--data", str(csv)])


def test_a_keyboard_interrupt_outside_the_draws_is_status_130(
    csv: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(commands, "load_model", interrupted)
    assert main(["compile", FORMULA, "--data", str(csv)]) == 130
    assert capsys.readouterr().err == "hiermod compile: interrupted (Ctrl-C)\n"


def test_compile_replaces_its_output_only_with_force(
    csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "model.py"
    out.write_text("old", encoding="utf-8")
    assert main(["compile", FORMULA, "--data", str(csv), "-o", str(out)]) == 2
    assert "the file exists; pass --force" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "old"
    assert main(["compile", FORMULA, "--data", str(csv), "-o", str(out), "--force"]) == 0
    assert "def build_model(" in out.read_text(encoding="utf-8")
