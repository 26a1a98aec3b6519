"""``hiermod fit``: check the outputs, fit, print the summary, save — and say so when interrupted.

::

    hiermod fit "Reaction ~ Days + (Days | Subject)" --data sleepstudy.csv -o fit.nc [--force]

Before the data are read, ``-o`` is checked (:func:`hiermod.cli.checks.check_output`): not a
directory, its directory exists and takes files, and the file does not exist unless ``--force``.
The fit is written through a temporary file, so ``fit.nc`` is either the whole new fit or untouched.
It holds the data columns the model reads, in the group ``hiermod_training_data``
(:mod:`hiermod.cli.training`; not with ``--without-data``), so ``hiermod predict fit.nc`` needs no
other file.

**Ctrl-C.** During PyMC's draws, Ctrl-C stops the sampler after the current draw and the fit comes
back marked partial (:mod:`hiermod.inference.interrupts`); elsewhere in the fit,
:func:`watch_interrupts` records SIGINT before raising it as usual. A fit that was interrupted, or
that has fewer chains or draws than asked for (:func:`shortfall`), is *partial*: its posterior gets
the attribute
``hiermod_partial = 1``, it is written (with ``-o``) to ``fit.partial.nc``, never to ``fit.nc``,
stderr says what was kept, and the exit status is :data:`INTERRUPTED` (130, the shell's 128 +
SIGINT). Interrupted before any draw was kept (during tuning), nothing is written.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from hiermod.cli.checks import check_output, partial_path, write_atomically
from hiermod.inference.fit_groups import read_group
from hiermod.inference.interrupts import PARTIAL_ATTR, StoppedBeforeDraws, handling_sigint

if TYPE_CHECKING:
    import xarray as xr

    from hiermod.model import Model

__all__ = ["INTERRUPTED", "PARTIAL_ATTR", "fit_command", "shortfall", "watch_interrupts"]

INTERRUPTED = 130  # 128 + SIGINT, what shells report for a command stopped by Ctrl-C


@dataclass
class InterruptWatch:
    """Whether SIGINT arrived while :func:`watch_interrupts` was active (mutable on purpose)."""

    interrupted: bool = False


@contextlib.contextmanager
def watch_interrupts() -> Iterator[InterruptWatch]:
    """Record Ctrl-C, then raise ``KeyboardInterrupt`` as Python's own handler does.

    The previous handler is restored on exit. Outside the main thread (where signal handlers cannot
    be set) or when SIGINT is ignored, nothing is changed and nothing is recorded.
    """
    watch = InterruptWatch()

    def record(signum: int, frame: FrameType | None) -> None:
        watch.interrupted = True
        signal.default_int_handler(signum, frame)

    with handling_sigint(record):
        yield watch


def shortfall(idata: xr.DataTree, method: str, draws: int, chains: int) -> str | None:
    """What a NUTS fit lacks of what was asked (``"3 of 4 chains, 120 of 1000 draws"``), or None.

    (ADVI, Pathfinder and MAP return a fixed shape, so only NUTS can come back short.)
    """
    if method != "nuts":
        return None
    posterior = read_group(idata)
    got_chains, got_draws = posterior.sizes["chain"], posterior.sizes["draw"]
    if got_chains >= chains and got_draws >= draws:
        return None
    return f"{got_chains} of {chains} chains, {got_draws} of {draws} draws each"


def _say(text: str) -> None:
    print(f"hiermod fit: {text}", file=sys.stderr)


def _save(idata: xr.DataTree, path: Path) -> None:
    write_atomically(path, lambda temporary: idata.to_netcdf(temporary))


def fit_command(args: argparse.Namespace, load_model: Callable[[argparse.Namespace], Model]) -> int:
    """Run ``hiermod fit`` (see the module docstring) on the model ``load_model(args)``; the exit
    status."""
    out = partial = None
    if args.output is not None:
        out = check_output(args.output, overwrite=args.force)
        partial = check_output(str(partial_path(out)), overwrite=args.force)
    from hiermod.cli.training import GROUP, training_group  # xarray: not for hiermod parse

    model = load_model(args)
    # Built before sampling: a column netCDF cannot hold stops the command now, not after the fit.
    training = None
    if out is not None and not args.without_data and model.data is not None:
        training = training_group(model, model.data)
    kwargs = {"target_accept": args.target_accept} if args.target_accept is not None else {}
    with watch_interrupts() as watch:
        try:
            idata = model.fit(
                draws=args.draws,
                tune=args.tune,
                chains=args.chains,
                sampler=args.sampler,
                method=args.method,
                random_seed=args.seed,
                progressbar=not args.no_progress,
                **kwargs,
            )
        except StoppedBeforeDraws:
            _say("interrupted (Ctrl-C) before any draw was kept; nothing was written")
            return INTERRUPTED
        except KeyboardInterrupt:
            _say("interrupted (Ctrl-C) before the fit returned; nothing was kept")
            return INTERRUPTED
        except Exception:
            if not watch.interrupted:
                raise
            # Python raised the KeyboardInterrupt inside a compiled function, which then failed
            # with another error (e.g. Numba's SystemError), outside PyMC's draws.
            _say("interrupted (Ctrl-C) before the fit returned; nothing was kept")
            return INTERRUPTED
    if training is not None:
        idata[GROUP] = training
    missing = shortfall(idata, args.method, args.draws, args.chains)
    interrupted = watch.interrupted or bool(idata["posterior"].attrs.get(PARTIAL_ATTR, 0))
    if interrupted or missing is not None:
        idata["posterior"].attrs[PARTIAL_ATTR] = 1
        kept = f" ({missing})" if missing else ""
        where = "; nothing was written (no -o)"
        if partial is not None:
            _save(idata, partial)
            where = (
                f"; the partial fit{kept} is in {partial} (posterior attribute "
                f"{PARTIAL_ATTR} = 1); {out} was not written"
            )
            kept = ""
        why = "interrupted (Ctrl-C)" if interrupted else "the sampler stopped early"
        _say(f"{why} before the draws were complete{kept}{where}")
        return INTERRUPTED
    print(model.summary(idata))
    if out is not None:
        _save(idata, out)
        print(
            f"\nwrote {out} (hiermod predict {out} --data new.csv; in Python "
            "hm.Model.from_idata(az.from_netcdf(...), data))"
        )
    return 0
