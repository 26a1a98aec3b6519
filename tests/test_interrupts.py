"""hiermod.inference.interrupts: Ctrl-C during PyMC's NUTS stops between draws and keeps them.

The SIGINT handler is called as the signal would call it (no real signal in-process:
tests/test_cli_interrupt.py sends real ones to the real command).
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import pytest

import hiermod as hm
from hiermod.inference.interrupts import (
    PARTIAL_ATTR,
    DrawStop,
    StoppedBeforeDraws,
    stop_between_draws,
)

SIM = hm.datasets.correlated_slopes(n_groups=4, per_group=6, seed=5)


@pytest.fixture(scope="module")
def model() -> hm.Model:
    return hm.Model("y ~ x + (1 | g)", SIM.data)


def _ctrl_c_at(kept: int | None = None, tuning: int | None = None) -> Any:
    """A per-draw callback that presses Ctrl-C at the ``kept``-th kept draw or the ``tuning``-th
    tuning step."""
    seen = {"kept": 0, "tuning": 0}

    def callback(trace: Any, draw: Any) -> None:
        key = "tuning" if draw.tuning else "kept"
        seen[key] += 1
        if seen[key] == (tuning if draw.tuning else kept):
            signal.getsignal(signal.SIGINT)(signal.SIGINT, None)  # type: ignore[operator]

    return callback


@pytest.mark.parametrize("cores", [1, 2])
@pytest.mark.filterwarnings("ignore::hiermod.warnings.SamplingWarning")  # a few draws
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_ctrl_c_during_the_draws_keeps_them_and_marks_the_fit_partial(model, cores) -> None:
    before = signal.getsignal(signal.SIGINT)
    fit = model.fit(
        draws=500, tune=20, chains=1, cores=cores, random_seed=1, progressbar=False,
        callback=_ctrl_c_at(kept=7),
    )  # fmt: skip
    posterior = fit["posterior"]
    assert posterior.attrs[PARTIAL_ATTR] == 1
    assert posterior.sizes["chain"] == 1
    assert 1 <= posterior.sizes["draw"] <= 7  # parallel chains: the main process may lag a draw
    assert signal.getsignal(signal.SIGINT) is before


@pytest.mark.filterwarnings("ignore::hiermod.warnings.SamplingWarning")  # 30 draws
def test_a_fit_without_ctrl_c_is_not_partial(model) -> None:
    fit = model.fit(draws=30, tune=30, chains=1, cores=1, random_seed=1, progressbar=False)
    assert PARTIAL_ATTR not in fit["posterior"].attrs


def test_ctrl_c_while_tuning_says_no_draw_was_kept(model) -> None:
    with pytest.raises(StoppedBeforeDraws):
        model.fit(
            draws=50, tune=50, chains=1, cores=1, random_seed=1, progressbar=False,
            callback=_ctrl_c_at(tuning=5),
        )  # fmt: skip


def test_a_second_ctrl_c_stops_at_once() -> None:
    """The second Ctrl-C raises where the program is, as Python's own handler does."""
    with stop_between_draws():
        handler = signal.getsignal(signal.SIGINT)
        handler(signal.SIGINT, None)  # type: ignore[operator]
        with pytest.raises(KeyboardInterrupt):
            handler(signal.SIGINT, None)  # type: ignore[operator]


def test_the_users_callback_still_runs_first() -> None:
    calls: list[str] = []
    stop = DrawStop()
    after = stop.callback(lambda trace, draw: calls.append("user"))
    after(trace=None, draw=None)
    stop.requested = True
    with pytest.raises(KeyboardInterrupt):
        after(trace=None, draw=None)
    assert calls == ["user", "user"]


def test_handler_is_installed_and_put_back(capsys) -> None:
    before = signal.getsignal(signal.SIGINT)
    with stop_between_draws() as stop:
        handler = signal.getsignal(signal.SIGINT)
        assert handler is not before
        handler(signal.SIGINT, None)  # type: ignore[operator]
        assert stop.requested
        assert "stopping after the current draw" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is before


def test_outside_the_main_thread_nothing_changes() -> None:
    seen: list[object] = []

    def run() -> None:
        with stop_between_draws() as stop:
            seen.append(signal.getsignal(signal.SIGINT))
            seen.append(stop.requested)

    before = signal.getsignal(signal.SIGINT)
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert seen == [before, False]


# -- nutpie: it catches Ctrl-C itself and returns the draws so far (nutpie.sample's abort) ---------

nutpie = pytest.importorskip("nutpie")


def _nutpie_stopping(monkeypatch: pytest.MonkeyPatch, after: int | None) -> None:
    """``nutpie.sample`` as it behaves on Ctrl-C: the draws so far (``after`` of them), or a
    KeyboardInterrupt when Ctrl-C came before the first draw (``after=None``)."""
    original = nutpie.sample

    def stopped(compiled: Any, *args: Any, **kwargs: Any) -> Any:
        if after is None:
            raise KeyboardInterrupt
        return original(compiled, *args, **(kwargs | {"draws": after}))

    monkeypatch.setattr(nutpie, "sample", stopped)


@pytest.mark.filterwarnings("ignore::hiermod.warnings.SamplingWarning")  # a few draws
def test_nutpie_stopped_by_ctrl_c_gives_a_partial_fit_and_says_so(model, monkeypatch, capsys):
    _nutpie_stopping(monkeypatch, after=7)
    fit = model.fit(
        sampler="nutpie", draws=500, tune=20, chains=2, random_seed=1, progressbar=False
    )
    assert fit["posterior"].attrs[PARTIAL_ATTR] == 1
    assert fit["posterior"].sizes["draw"] == 7
    assert "nutpie stopped the chains after 7 of 500 draws" in capsys.readouterr().err


def test_nutpie_stopped_while_tuning_says_no_draw_was_kept(model, monkeypatch) -> None:
    _nutpie_stopping(monkeypatch, after=None)
    with pytest.raises(StoppedBeforeDraws):
        model.fit(sampler="nutpie", draws=50, tune=50, chains=1, random_seed=1, progressbar=False)


@pytest.mark.filterwarnings("ignore::hiermod.warnings.SamplingWarning")  # 30 draws
def test_a_nutpie_fit_without_ctrl_c_is_not_partial(model) -> None:
    fit = model.fit(sampler="nutpie", draws=30, tune=30, chains=1, random_seed=1, progressbar=False)
    assert PARTIAL_ATTR not in fit["posterior"].attrs


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::hiermod.warnings.SamplingWarning")
def test_a_real_sigint_during_nutpies_draws_keeps_them(model, monkeypatch, capsys) -> None:
    """A real SIGINT to this process once nutpie samples (tuning is 1 step): nutpie's Rust loop
    sees it, ends the chains, and the fit is partial."""
    original = nutpie.sample

    def sample_then_press(*args: Any, **kwargs: Any) -> Any:
        threading.Timer(1.0, signal.raise_signal, args=(signal.SIGINT,)).start()
        return original(*args, **kwargs)

    monkeypatch.setattr(nutpie, "sample", sample_then_press)
    fit = model.fit(
        sampler="nutpie", draws=10**6, tune=1, chains=1, random_seed=1, progressbar=False
    )
    assert fit["posterior"].attrs[PARTIAL_ATTR] == 1
    assert 0 < fit["posterior"].sizes["draw"] < 10**6
    assert "nutpie stopped the chains" in capsys.readouterr().err
