"""Ctrl-C during PyMC's NUTS: stop at the end of the current draw, so the draws so far are kept.

PyMC returns the draws it has when a ``KeyboardInterrupt`` reaches its sampling loop. Python raises
it from its SIGINT handler at whatever the main thread is doing, and that is usually a compiled
logp-and-gradient call: a Numba-compiled function interrupted that way returns "a result with an
exception set", which surfaces as a ``SystemError`` that PyMC does not catch — the whole run is
lost (measured: 2 of 12 real SIGINTs at random times on a loaded 2-core machine).

So while :func:`stop_between_draws` is active, the first Ctrl-C only *asks* to stop: the handler
records it and says so on stderr, and the per-draw callback PyMC calls between draws (in the main
process, also for parallel chains) raises the ``KeyboardInterrupt`` there, where PyMC catches it.
A second Ctrl-C stops at once, as Python's own handler does (for a draw that takes too long).

Example: 4 chains in parallel, Ctrl-C at draw 300 of 1000 → the fit returns 4 chains of ~300 draws
(:func:`hiermod.inference.fit.fit` marks it partial). Sequential chains (``cores=1``): PyMC starts
the next chain after an interrupted one, so the callback stops every later chain at its first step.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any

# On the posterior of a fit cut short by Ctrl-C (``1``): fewer draws than asked for, maybe fewer
# chains (hiermod.inference.storage checks it as the fit attribute ``partial``).
PARTIAL_ATTR = "hiermod_partial"

# What PyMC calls after every step, tuning or not: callback(trace=..., draw=...).
DrawCallback = Callable[..., None]


class StoppedBeforeDraws(KeyboardInterrupt):
    """Ctrl-C stopped PyMC's NUTS while it was tuning: no draw was kept (PyMC cannot build a trace
    without one)."""


@dataclass
class DrawStop:
    """Whether Ctrl-C asked the sampler to stop (set by the SIGINT handler, read between draws)."""

    requested: bool = False

    def callback(self, given: DrawCallback | None) -> DrawCallback:
        """PyMC's per-draw callback: the user's ``given`` one, then stop if Ctrl-C was pressed."""

        def after_each_draw(*args: Any, **kwargs: Any) -> None:
            if given is not None:
                given(*args, **kwargs)
            if self.requested:
                raise KeyboardInterrupt

        return after_each_draw


SigintHandler = Callable[[int, FrameType | None], None]


@contextlib.contextmanager
def handling_sigint(handler: SigintHandler) -> Iterator[None]:
    """``handler`` for SIGINT while the block runs, the previous one put back on exit.

    Outside the main thread (where handlers cannot be set) or when SIGINT is ignored, nothing is
    changed: ``handler`` never runs.
    """
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous == signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def stop_between_draws() -> Iterator[DrawStop]:
    """The SIGINT handler of the module docstring (:func:`handling_sigint`: outside the main thread
    ``requested`` stays False)."""
    stop = DrawStop()

    def ask(signum: int, frame: FrameType | None) -> None:
        if stop.requested:  # the second Ctrl-C: at once
            signal.default_int_handler(signum, frame)
        stop.requested = True
        print(
            "\nhiermod: Ctrl-C — stopping after the current draw (Ctrl-C again to stop at once)",
            file=sys.stderr,
            flush=True,
        )

    with handling_sigint(ask):
        yield stop
