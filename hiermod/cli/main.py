"""The ``hiermod`` command: read a formula, export its model as PyMC source, draw its graph.

::

    hiermod parse "y ~ x + (1 + x | g)"
    hiermod compile "y ~ x + (1 | g)" --data data.csv [--family F] [--link L] [-o model.py]
    hiermod graph "y ~ x + (1 | g)" --data data.csv [--family F] [--link L] [-o graph.svg]

``parse`` prints the canonical formula and its term tree; ``compile`` writes the model's source
(:meth:`hiermod.Model.source`) to ``-o`` or stdout; ``graph`` writes the graph in the format of the
output's suffix (``.dot`` and ``.mmd`` need no graphviz; ``.svg``/``.png`` need its ``dot`` program),
or DOT text to stdout. A formula or data error prints its message, with the caret under the problem,
to stderr and exits with status 2, without a traceback. ``fit`` and ``demo``: see
:mod:`hiermod.cli.commands` and :mod:`hiermod.cli.fitting`.

Exit status: 0 done; 2 a formula, data, option or file error (numbers out of range are refused by
the parser before anything is read: ``--draws -5``, ``--chains 0``, ``--target-accept 7``; outputs
are checked before the data are read: :mod:`hiermod.cli.checks`); 130 interrupted (Ctrl-C; a
partial fit goes to ``out.partial.nc``, see :mod:`hiermod.cli.fitting`); 1 an error hiermod did not
expect (a bug: one line, the traceback with ``HIERMOD_TRACEBACK=1``).

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
from hiermod.cli.commands import run_compile, run_demo, run_fit, run_graph, run_parse
from hiermod.cli.fitting import INTERRUPTED
from hiermod.errors import HiermodError

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

Subparsers = Any  # argparse's _SubParsersAction, which has no public name


def _model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("formula", help='model formula, e.g. "y ~ x + (1 + x | g)"')
    parser.add_argument("--data", required=True, metavar="FILE.csv", help="the data, as CSV")
    parser.add_argument("--family", default="gaussian", help="response family (default gaussian)")
    parser.add_argument("--link", default=None, help="link of the mean (the family's default)")


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


def _register_compile(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("compile", help="write the model as readable PyMC source")
    _model_arguments(parser)
    parser.add_argument("-o", "--output", metavar="model.py", help="output file (default stdout)")
    parser.set_defaults(run=run_compile)


def _register_graph(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("graph", help="draw the model's graph (plates from its dims)")
    _model_arguments(parser)
    parser.add_argument(
        "-o",
        "--output",
        metavar="out.svg",
        help="output file: .dot or .mmd (text, no graphviz needed), .svg, .png or .pdf "
        "(graphviz's dot program); default: DOT text on stdout",
    )
    parser.set_defaults(run=run_graph)


def _register_fit(subparsers: Subparsers) -> None:
    """``hiermod fit FORMULA --data FILE.csv [...]``."""
    parser = subparsers.add_parser("fit", help="fit a model to CSV data and print its summary")
    _model_arguments(parser)
    _sampling_arguments(parser, draws=1000)
    parser.add_argument(
        "--sampler", default="pymc", choices=("pymc", "nutpie", "numpyro"), help="NUTS backend"
    )
    parser.add_argument(
        "--method", default="nuts", choices=("nuts", "advi", "pathfinder", "map"), help="method"
    )
    parser.add_argument(
        "--target-accept", type=probability, default=None, help="in (0, 1), e.g. 0.95"
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="fit.nc",
        help="save the fit as netCDF (checked before sampling; an interrupted run writes "
        "fit.partial.nc instead)",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing -o file")
    parser.set_defaults(run=run_fit)


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
    _register_compile,
    _register_graph,
    _register_fit,
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
