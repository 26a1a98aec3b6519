"""The ``hiermod fit`` and ``hiermod demo`` subcommands, registered in :data:`hiermod.cli.SUBCOMMANDS`.

::

    hiermod fit "Reaction ~ Days + (Days | Subject)" --data sleepstudy.csv --draws 500 -o fit.nc
    hiermod demo [--out DIR]

``fit`` shows the sampler's progress bar, then prints the summary table (``Model.summary``); with
``-o`` it saves the ``InferenceData`` as netCDF, which ``hm.Model.from_idata`` reads back. ``demo``
runs :mod:`hiermod.cli.demo`. This module imports PyMC only when a command runs, so ``hiermod parse``
stays fast.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register_demo", "register_fit"]

Subparsers = Any  # argparse's _SubParsersAction


def _run_fit(args: argparse.Namespace) -> int:
    from hiermod.cli.main import _load_model

    model = _load_model(args)
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


def register_fit(subparsers: Subparsers) -> None:
    """``hiermod fit FORMULA --data FILE.csv [...]``."""
    from hiermod.cli.main import _model_arguments

    parser = subparsers.add_parser("fit", help="fit a model to CSV data and print its summary")
    _model_arguments(parser)
    parser.add_argument("--draws", type=int, default=1000, help="draws per chain (default 1000)")
    parser.add_argument("--tune", type=int, default=1000, help="tuning steps (default 1000)")
    parser.add_argument("--chains", type=int, default=4, help="chains (default 4)")
    parser.add_argument(
        "--sampler", default="pymc", choices=("pymc", "nutpie", "numpyro"), help="NUTS backend"
    )
    parser.add_argument(
        "--method", default="nuts", choices=("nuts", "advi", "pathfinder", "map"), help="method"
    )
    parser.add_argument("--target-accept", type=float, default=None, help="e.g. 0.95")
    parser.add_argument("--seed", type=int, default=None, help="random seed")
    parser.add_argument("-o", "--output", metavar="fit.nc", help="save the fit as netCDF")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(run=_run_fit)


def _run_demo(args: argparse.Namespace) -> int:
    from hiermod.cli.demo import demo_command

    return demo_command(args)


def register_demo(subparsers: Subparsers) -> None:
    """``hiermod demo [--out DIR]``: the forum scenario end to end (see :mod:`hiermod.cli.demo`)."""
    parser = subparsers.add_parser(
        "demo", help="simulate the forum scenario, fit it, compare with the true values"
    )
    parser.add_argument("--out", default=".", help="directory for model.py and graph.* (default .)")
    parser.add_argument("--draws", type=int, default=500, help="draws per chain (default 500)")
    parser.add_argument("--tune", type=int, default=500, help="tuning steps (default 500)")
    parser.add_argument("--chains", type=int, default=4, help="chains (default 4)")
    parser.add_argument("--seed", type=int, default=None, help="simulation and sampler seed")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(run=_run_demo)
