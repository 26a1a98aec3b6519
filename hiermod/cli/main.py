"""The ``hiermod`` command: read a formula, export its model as PyMC source, draw its graph, fit
it, predict from the fit.

::

    hiermod parse "y ~ x + (1 + x | g)"
    hiermod source "y ~ x + (1 | g)" --data data.csv [MODEL OPTIONS] [-o model.py [--force]]
    hiermod graph "y ~ x + (1 | g)" --data data.csv [MODEL OPTIONS] [-o graph.svg [--force]]
    hiermod fit "y ~ x + (1 | g)" --data data.parquet [MODEL OPTIONS] [-o fit.nc [--force]]
    hiermod predict fit.nc --data new.csv [--kind K] [-o out.csv [--force]]

MODEL OPTIONS: ``--family F`` (``--help`` lists the families), ``--link L``, ``--prior KEY=PRIOR``,
``--layout [GROUPING=]VALUE``, ``--centered [GROUPING=]VALUE`` (:mod:`hiermod.cli.options`).
``--data`` is CSV or Parquet, by its suffix (:mod:`hiermod.cli.inputs`).

``parse`` prints the canonical formula and its term tree; ``source`` (alias ``compile``) writes the
model's module (:meth:`hiermod.Model.source`) to ``-o`` or stdout; ``graph`` writes the graph in the
format of the output's suffix (``.dot`` and ``.mmd`` are text; ``.svg``/``.png`` need graphviz's
``dot`` program), or DOT text to stdout. A formula or data error prints its message, with the caret
under the problem, to stderr and exits with status 2, without a traceback. ``fit``, ``predict`` and
``demo``: see :mod:`hiermod.cli.commands`, :mod:`hiermod.cli.fitting` and
:mod:`hiermod.cli.predicting`.

Exit status: 0 done; 2 a formula, data, option or file error (numbers and option values out of
range are refused by the parser before anything is read: ``--draws -5``, ``--chains 0``,
``--target-accept 7``, ``--prior b``, ``--layout sparse``; outputs are checked before the data are
read, and every ``-o`` replaces an existing file only with ``--force``:
:mod:`hiermod.cli.checks`); 130 interrupted (Ctrl-C; a partial fit goes to ``out.partial.nc``, see
:mod:`hiermod.cli.fitting`); 1 an error hiermod did not expect (a bug: one line, the traceback with
``HIERMOD_TRACEBACK=1``).

Each subcommand is a ``_register_<name>(subparsers)`` function listed in :data:`SUBCOMMANDS`: it adds
its parser and sets ``run`` to the function of :mod:`hiermod.cli.commands` that does the work
(``args -> exit status``). Adding a subcommand is one such function, its ``run_<name>`` in
:mod:`hiermod.cli.commands`, and one entry in the list. This module builds parsers only; the commands
never import it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import hiermod as hm
from hiermod.cli.checks import probability, whole_number
from hiermod.cli.commands import (
    run_compile,
    run_demo,
    run_fit,
    run_graph,
    run_parse,
    run_predict,
)
from hiermod.cli.fitting import INTERRUPTED
from hiermod.cli.options import family_arguments, shape_arguments
from hiermod.errors import HiermodError
from hiermod.inference.intervals import DEFAULT_PROB

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

Subparsers = Any  # argparse's _SubParsersAction, which has no public name

# Model.predict's kinds (hiermod.inference.predict.KINDS, which imports PyMC: not at start-up)
PREDICT_KINDS = ("mean", "response", "linear", "probs")


def _model_arguments(parser: argparse.ArgumentParser) -> None:
    """``FORMULA --data FILE [--family F] [--link L]``."""
    parser.add_argument("formula", help='model formula, e.g. "y ~ x + (1 + x | g)"')
    parser.add_argument(
        "--data",
        required=True,
        metavar="FILE",
        help="the data: a .csv, .parquet or .pq file (Parquet needs pyarrow)",
    )
    family_arguments(parser)


def _output_arguments(parser: argparse.ArgumentParser, metavar: str, help: str) -> None:
    """``-o FILE`` and ``--force``: an existing FILE is replaced only with ``--force``."""
    parser.add_argument("-o", "--output", metavar=metavar, help=help)
    parser.add_argument("--force", action="store_true", help="replace an existing output file")


def _sampling_arguments(parser: argparse.ArgumentParser, draws: int) -> None:
    """``--draws``, ``--tune``, ``--chains``, ``--seed``, ``--no-progress``: numbers checked here."""
    parser.add_argument(
        "--draws", type=whole_number(1), default=draws, help=f"draws per chain (default {draws})"
    )
    parser.add_argument(
        "--tune", type=whole_number(0), default=draws, help=f"tuning steps (default {draws})"
    )
    parser.add_argument("--chains", type=whole_number(1), default=4, help="chains (default 4)")
    parser.add_argument("--seed", type=whole_number(0), default=None, help="random seed")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _register_parse(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("parse", help="print the canonical formula and its term tree")
    parser.add_argument("formula", help='formula text, e.g. "y ~ a*b + (1 | g)"')
    parser.set_defaults(run=run_parse)


def _register_source(subparsers: Subparsers) -> None:
    """``hiermod source`` (alias ``compile``): the model's PyMC module."""
    parser = subparsers.add_parser(
        "source",
        aliases=["compile"],
        help="write the model as a readable PyMC module",
        description="Write the model's PyMC source (Model.source()): a module with "
        "build_model(df) that is the model hiermod fits.",
    )
    _model_arguments(parser)
    shape_arguments(parser)
    _output_arguments(parser, "model.py", "output file (default stdout)")
    parser.set_defaults(run=run_compile)


def _register_graph(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "graph",
        help="draw the model's graph (a cluster per group block, plates of rows and levels)",
    )
    _model_arguments(parser)
    _output_arguments(
        parser,
        "out.svg",
        "output file: .dot or .mmd (text), .svg, .png or .pdf (graphviz's dot program); "
        "default: DOT text on stdout",
    )
    parser.set_defaults(run=run_graph)


def _register_fit(subparsers: Subparsers) -> None:
    """``hiermod fit FORMULA --data FILE.csv [...]``."""
    parser = subparsers.add_parser("fit", help="fit a model to the data and print its summary")
    _model_arguments(parser)
    shape_arguments(parser)
    _sampling_arguments(parser, draws=1000)
    parser.add_argument(
        "--sampler",
        default="pymc",
        choices=("pymc", "nutpie", "numpyro", "auto"),
        help="NUTS backend (default pymc; auto: nutpie when installed, else PyMC's)",
    )
    parser.add_argument(
        "--method", default="nuts", choices=("nuts", "advi", "pathfinder", "map"), help="method"
    )
    parser.add_argument(
        "--target-accept", type=probability, default=None, help="in (0, 1), e.g. 0.95"
    )
    _output_arguments(
        parser,
        "fit.nc",
        "save the fit as netCDF, with the data columns the model reads in its group "
        "hiermod_training_data (checked before sampling; an interrupted run writes "
        "fit.partial.nc instead)",
    )
    parser.add_argument(
        "--without-data",
        action="store_true",
        help="do not store the training data in -o (hiermod predict then needs --train)",
    )
    parser.set_defaults(run=run_fit)


def _register_predict(subparsers: Subparsers) -> None:
    """``hiermod predict FIT.nc --data new.csv [...]`` (see :mod:`hiermod.cli.predicting`)."""
    parser = subparsers.add_parser(
        "predict",
        help="predict new rows from a saved fit: per-row mean and interval as CSV",
        description="Rebuild the fitted model (hm.Model.from_idata) and write, for each row of "
        "--data, the posterior mean and interval of the prediction (Model.predict) as CSV.",
    )
    parser.add_argument("fit", metavar="FIT.nc", help="a fit saved by hiermod fit -o")
    parser.add_argument(
        "--data", required=True, metavar="new.csv", help="the rows to predict (.csv, .parquet, .pq)"
    )
    parser.add_argument(
        "--kind",
        default="mean",
        choices=PREDICT_KINDS,
        help="mean (expected response, default), response (simulated), linear (link scale), "
        "probs (category probabilities, ordinal and categorical families)",
    )
    parser.add_argument(
        "--new-levels",
        default="error",
        choices=("error", "population"),
        help="group levels the fit never saw: an error (default), or drawn from the population",
    )
    parser.add_argument(
        "--prob",
        type=probability,
        default=DEFAULT_PROB,
        help=f"interval probability (default {DEFAULT_PROB}: columns lower_95, upper_95)",
    )
    parser.add_argument("--seed", type=whole_number(0), default=None, help="random seed")
    parser.add_argument(
        "--train",
        metavar="train.csv",
        default=None,
        help="the training data (default: the copy fit -o stored in FIT.nc)",
    )
    _output_arguments(parser, "out.csv", "the per-row table (default stdout)")
    parser.add_argument(
        "--draws-output",
        metavar="draws.nc",
        default=None,
        help="also save every draw of the prediction (chain, draw, obs) as netCDF",
    )
    parser.set_defaults(run=run_predict)


def _register_demo(subparsers: Subparsers) -> None:
    """``hiermod demo [--out DIR]``: the forum scenario end to end (see :mod:`hiermod.cli.demo`)."""
    parser = subparsers.add_parser(
        "demo", help="simulate the forum scenario, fit it, compare with the true values"
    )
    parser.add_argument("--out", default=".", help="directory for model.py and graph.* (default .)")
    _sampling_arguments(parser, draws=500)
    parser.set_defaults(run=run_demo)


SUBCOMMANDS: list[Callable[[Subparsers], None]] = [
    _register_parse,
    _register_source,
    _register_graph,
    _register_fit,
    _register_predict,
    _register_demo,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hiermod",
        description="R-style mixed-model formulas compiled to readable PyMC models.",
    )
    parser.add_argument("--version", action="version", version=f"hiermod {hm.__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in SUBCOMMANDS:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (see the module docstring: 2 for a formula, data,
    option or file error, 130 when interrupted, 1 for an unexpected error)."""
    parser = build_parser()
    args = parser.parse_args(argv)  # a bad flag: usage and status 2 (argparse exits)
    name = f"hiermod {args.command}"
    try:
        status: int = args.run(args)
    except HiermodError as error:
        print(f"{name}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{name}: interrupted (Ctrl-C)", file=sys.stderr)
        return INTERRUPTED
    except Exception as error:
        if os.environ.get("HIERMOD_TRACEBACK"):
            raise
        print(
            f"{name}: unexpected error (a bug in hiermod; please report it): "
            f"{type(error).__name__}: {error}\n(run with HIERMOD_TRACEBACK=1 for the traceback)",
            file=sys.stderr,
        )
        return 1
    return status
