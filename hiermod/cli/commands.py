"""The work of each ``hiermod`` subcommand: a ``run_<name>(args)`` function returning the exit status.

::

    hiermod fit "Reaction ~ Days + (Days | Subject)" --data sleepstudy.csv --draws 500 -o fit.nc
    hiermod demo [--out DIR]

``parse``, ``compile`` and ``graph`` are described in :mod:`hiermod.cli.main`, which builds the
parsers and dispatches to these functions. ``fit`` shows the sampler's progress bar, then prints the
summary table (``Model.summary``); with ``-o`` it saves the ``InferenceData`` as netCDF, which
``hm.Model.from_idata`` reads back. ``demo`` runs :mod:`hiermod.cli.demo`. This module imports PyMC
only when a command runs, so ``hiermod parse`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import hiermod as hm
from hiermod.errors import HiermodError

if TYPE_CHECKING:
    from hiermod.model import Model

__all__ = [
    "CommandError",
    "load_model",
    "run_compile",
    "run_demo",
    "run_fit",
    "run_graph",
    "run_parse",
]


class CommandError(HiermodError):
    """A problem with the command's inputs (a data file that cannot be read)."""


def load_model(args: argparse.Namespace) -> Model:
    """The model of ``FORMULA --data FILE.csv [--family F] [--link L]``."""
    import pandas as pd

    try:
        data = pd.read_csv(args.data)
    except (OSError, ValueError) as error:
        raise CommandError(f"cannot read the data file {args.data}: {error}") from None
    return hm.Model(args.formula, data, family=args.family, link=args.link)


def _write(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        Path(output).write_text(text, encoding="utf-8")


def run_parse(args: argparse.Namespace) -> int:
    formula = hm.parse(args.formula)
    print(formula)
    print()
    print(formula.tree())
    return 0


def run_compile(args: argparse.Namespace) -> int:
    _write(load_model(args).source(), args.output)
    return 0


def run_graph(args: argparse.Namespace) -> int:
    from hiermod.output.graph import to_dot, write_graph

    model = load_model(args)
    if args.output is None:
        _write(to_dot(model.pymc_rows), None)
    else:
        try:
            write_graph(model.pymc_rows, args.output)
        except ValueError as error:  # an unknown suffix
            raise CommandError(str(error)) from None
    return 0


def run_fit(args: argparse.Namespace) -> int:
    model = load_model(args)
    kwargs = {"target_accept": args.target_accept} if args.target_accept is not None else {}
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
    print(model.summary(idata, show=False))
    if args.output is not None:
        idata.to_netcdf(args.output)
        print(
            f"\nwrote {args.output} (load it with hm.Model.from_idata(az.from_netcdf(...), data))"
        )
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from hiermod.cli.demo import demo_command

    return demo_command(args)
