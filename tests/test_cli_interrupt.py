"""``hiermod fit`` stopped by Ctrl-C: it says so, exits with 130 and never writes ``-o`` itself.

During PyMC's draws Ctrl-C stops the sampler after the current draw (hiermod.inference.interrupts),
and PyMC returns the draws it has. The in-process tests imitate that without a signal: ``pm.sample``
is replaced by one that samples fewer draws than asked, or that calls the SIGINT handler hiermod
installed (as the signal would) from PyMC's per-draw callback. Two slow tests send a real SIGINT to
the real command.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import arviz as az
import pandas as pd
import pymc as pm
import pytest

import hiermod as hm
from hiermod.cli import main
from hiermod.datasets import correlated_slopes

FORMULA = "y ~ x + (1 | g)"
REAL_SAMPLE = pm.sample


@pytest.fixture(scope="module")
def csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-interrupt") / "data.csv"
    correlated_slopes(n_groups=4, per_group=6, seed=5).data.to_csv(path, index=False)
    return path


def _fit(csv: Path, out: Path, *extra: str) -> list[str]:
    """The command line of the in-process tests: PyMC's sampler, whose per-draw callback they use
    (the default, nutpie, is stopped by a real signal in the slow test below)."""
    return [
        "fit", FORMULA, "--data", str(csv), "--draws", "40", "--tune", "20", "--chains", "1",
        "--seed", "2", "--no-progress", "--sampler", "pymc", "-o", str(out), *extra,
    ]  # fmt: skip


def _stopped_after(draws: int) -> Any:
    """``pm.sample`` as PyMC returns it after Ctrl-C: only ``draws`` of the draws asked for."""

    def sample(**kwargs: Any) -> Any:
        kwargs.update(draws=draws, cores=1)
        return REAL_SAMPLE(**kwargs)

    return sample


def _ctrl_c_when(pressed: Any) -> Any:
    """``pm.sample`` during which SIGINT arrives after the step where ``pressed(draw, kept)`` is
    true (``kept``: the draws kept so far): the handler hiermod installed runs, as the signal would
    run it, from PyMC's per-draw callback."""

    def sample(**kwargs: Any) -> Any:
        given, kept = kwargs["callback"], []

        def callback(trace: Any, draw: Any) -> None:
            kept.extend([] if draw.tuning else [draw])
            if pressed(draw, len(kept)):
                signal.getsignal(signal.SIGINT)(signal.SIGINT, None)  # type: ignore[operator]
            given(trace=trace, draw=draw)

        kwargs.update(cores=1, callback=callback)
        return REAL_SAMPLE(**kwargs)

    return sample


# SIGINT at the last of the 40 draws _fit asks for: the sampler stops after it, with every draw
_signalled = _ctrl_c_when(lambda draw, kept: kept == 40)


def _assert_partial(csv: Path, out: Path, draws: int, err: str) -> None:
    partial = out.with_name("fit.partial.nc")
    assert not out.exists()
    assert "the partial fit" in err
    assert f"is in {partial}" in err
    assert f"{out} was not written" in err
    fit = az.from_netcdf(partial)
    assert fit["posterior"].attrs["hiermod_partial"] == 1
    assert fit["posterior"].sizes["draw"] == draws
    model = hm.Model.from_idata(fit, pd.read_csv(csv))  # a partial fit is still a fit
    assert model.predict(fit).shape == (1, draws, 24)


@pytest.mark.filterwarnings("ignore::hiermod.warnings.SamplingWarning")  # 7 draws
def test_draws_cut_short_go_to_a_partial_file_and_status_130(
    csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(pm, "sample", _stopped_after(7))
    out = tmp_path / "fit.nc"
    assert main(_fit(csv, out)) == 130
    captured = capsys.readouterr()
    assert "before the draws were complete" in captured.err
    assert "(1 of 1 chains, 7 of 40 draws each)" in captured.err
    assert "Population-level effects" not in captured.out  # no summary of a partial fit
    _assert_partial(csv, out, 7, captured.err)


@pytest.mark.filterwarnings("ignore::hiermod.warnings.SamplingWarning")
def test_sigint_during_the_draws_is_reported_even_with_every_draw(
    csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(pm, "sample", _signalled)
    out = tmp_path / "fit.nc"
    assert main(_fit(csv, out)) == 130
    err = capsys.readouterr().err
    assert "hiermod fit: interrupted (Ctrl-C) before the draws were complete" in err
    _assert_partial(csv, out, 40, err)
    assert signal.getsignal(signal.SIGINT) is before  # the handler is put back


def test_interrupt_that_escapes_the_sampler_keeps_nothing(
    csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(**kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(pm, "sample", interrupted)
    out = tmp_path / "fit.nc"
    assert main(_fit(csv, out)) == 130
    assert "interrupted (Ctrl-C) before the fit returned; nothing was kept" in (
        capsys.readouterr().err
    )
    assert list(tmp_path.iterdir()) == []


def test_interrupt_during_tuning_keeps_nothing(
    csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # SIGINT at the 5th tuning step: PyMC keeps no draw
    monkeypatch.setattr(
        pm, "sample", _ctrl_c_when(lambda draw, kept: draw.tuning and draw.draw_idx == 5)
    )
    out = tmp_path / "fit.nc"
    assert main(_fit(csv, out)) == 130
    assert "interrupted (Ctrl-C) before any draw was kept; nothing was written" in (
        capsys.readouterr().err
    )
    assert list(tmp_path.iterdir()) == []


def test_interrupt_outside_the_draws_that_breaks_a_compiled_call_keeps_nothing(
    csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C outside PyMC's draws raises where the program is; inside a Numba-compiled function
    that comes out as a SystemError, which is still reported as the interrupt it was."""
    import hiermod.inference.fit as fit_module

    def compiled_call(*args: Any, **kwargs: Any) -> Any:
        try:
            signal.getsignal(signal.SIGINT)(signal.SIGINT, None)  # type: ignore[operator]
        except KeyboardInterrupt:
            raise SystemError("returned a result with an exception set") from None

    monkeypatch.setattr(fit_module, "_nuts", compiled_call)
    out = tmp_path / "fit.nc"
    assert main(_fit(csv, out)) == 130
    assert "interrupted (Ctrl-C) before the fit returned; nothing was kept" in (
        capsys.readouterr().err
    )
    assert list(tmp_path.iterdir()) == []


def test_an_error_without_an_interrupt_is_not_called_one(
    csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(**kwargs: Any) -> Any:
        raise ValueError("Not enough samples to build a trace.")

    monkeypatch.setattr(pm, "sample", broken)
    assert main(_fit(csv, tmp_path / "fit.nc")) == 1
    err = capsys.readouterr().err
    assert "interrupted" not in err
    assert "ValueError: Not enough samples" in err


@pytest.mark.filterwarnings("ignore::hiermod.warnings.SamplingWarning")
def test_force_replaces_a_fit_only_with_a_complete_one(
    csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fit.nc"
    out.write_bytes(b"an earlier fit")
    monkeypatch.setattr(pm, "sample", _stopped_after(5))
    assert main(_fit(csv, out, "--force")) == 130
    assert out.read_bytes() == b"an earlier fit"  # an interrupted run leaves it alone
    monkeypatch.setattr(pm, "sample", _stopped_after(40))
    assert main(_fit(csv, out, "--force")) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    fit = az.from_netcdf(out)
    assert "hiermod_partial" not in fit["posterior"].attrs
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.nc", "fit.partial.nc"]


# The real command, run as ``python -m hiermod`` runs it, with one addition: PyMC's per-draw
# callback prints a line once the first draw after tuning is kept, so the test signals when there is
# something to keep (a fixed sleep after PyMC's "Sequential sampling" line raced on a loaded machine:
# the signal came before the first draw and the run correctly said nothing was kept).
_INSTRUMENTED = """
import sys
import pymc
from hiermod.cli import main

_sample = pymc.sample
_told = []

def _sample_telling(*args, **kwargs):
    given = kwargs.get("callback")  # hiermod's: stops the sampler after a Ctrl-C

    def _tell(trace, draw):
        if not draw.tuning and not _told:
            _told.append(True)
            print("hiermod-test: a draw was kept", file=sys.stderr, flush=True)
        given(trace=trace, draw=draw)

    kwargs["callback"] = _tell
    return _sample(*args, **kwargs)

pymc.sample = _sample_telling
sys.exit(main(sys.argv[1:]))
"""


def _interrupted(command: list[str], ready: str, after: float) -> tuple[subprocess.Popen[str], str]:
    """Run ``command``, send it SIGINT ``after`` seconds past the stderr line ``ready``; the
    process and its stderr."""
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if ready in line:
            break
    else:
        pytest.fail(f"the command ended before {ready!r}:\n" + "".join(seen))
    time.sleep(after)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=600)
    return process, err


@pytest.mark.slow
def test_a_real_sigint_to_the_real_command(csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "fit.nc"
    command = [
        sys.executable, "-c", _INSTRUMENTED, "fit", FORMULA, "--data", str(csv), "--draws", "1000000",
        "--tune", "0", "--chains", "1", "--no-progress", "--sampler", "pymc", "-o", str(out),
    ]  # fmt: skip
    process, err = _interrupted(command, "hiermod-test: a draw was kept", after=0.5)
    assert process.returncode == 130, err
    assert "hiermod fit: interrupted (Ctrl-C) before the draws were complete" in err
    assert not out.exists()
    fit = az.from_netcdf(tmp_path / "fit.partial.nc")
    assert fit["posterior"].attrs["hiermod_partial"] == 1
    assert 0 < fit["posterior"].sizes["draw"] < 1_000_000


# The same with nutpie (--sampler nutpie): nutpie's sample() is told to
# print a line when it starts drawing (after the compile, so the signal does not stop the compile).
_INSTRUMENTED_NUTPIE = """
import sys
import nutpie
from hiermod.cli import main

_sample = nutpie.sample

def _sample_telling(*args, **kwargs):
    print("hiermod-test: nutpie draws", file=sys.stderr, flush=True)
    return _sample(*args, **kwargs)

nutpie.sample = _sample_telling
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_a_real_sigint_stops_nutpie_with_the_draws_so_far(csv: Path, tmp_path: Path) -> None:
    pytest.importorskip("nutpie")
    out = tmp_path / "fit.nc"
    command = [
        sys.executable, "-c", _INSTRUMENTED_NUTPIE, "fit", FORMULA, "--data", str(csv),
        "--draws", "100000000", "--tune", "50", "--chains", "1", "--no-progress", "--sampler",
        "nutpie", "-o", str(out),
    ]  # fmt: skip
    # nutpie draws this model at ~10^5 draws a second: a short wait keeps the partial fit small
    process, err = _interrupted(command, "hiermod-test: nutpie draws", after=1.0)
    assert process.returncode == 130, err
    assert "hiermod fit: interrupted (Ctrl-C) before the draws were complete" in err
    assert not out.exists()
    fit = az.from_netcdf(tmp_path / "fit.partial.nc")
    assert fit["posterior"].attrs["hiermod_partial"] == 1
    assert fit["posterior"].attrs["hiermod_sampler"] == "nutpie"
    assert 0 < fit["posterior"].sizes["draw"] < 100_000_000
