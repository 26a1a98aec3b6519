"""The ``hiermod`` command: read a formula, export its model as PyMC source, draw its graph.

::

    hiermod parse "y ~ x + (1 + x | g)"
    hiermod compile "y ~ x + (1 | g)" --data data.csv [--family F] [--link L] [-o model.py]
    hiermod graph "y ~ x + (1 | g)" --data data.csv [--family F] [--link L] [-o graph.svg]

``parse`` prints the canonical formula and its term tree; ``compile`` writes the model's source
(:meth:`hiermod.Model.source`) to ``-o`` or stdout; ``graph`` writes the graph in the format of the
output's suffix (``.dot`` and ``.mmd`` need no graphviz; ``.svg``/``.png`` need its ``dot`` program),
or DOT text to stdout. A formula or data error prints its message, with the caret under the problem,
to stderr and exits with status 2, without a traceback.

Each subcommand is a ``_register_<name>(subparsers)`` function listed in :data:`SUBCOMMANDS`: it adds
its parser and sets ``run`` to the function that does the work (``args -> exit status``). Adding a
subcommand (``fit``, ``demo``) is one such function and one entry in the list.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hiermod as hm
from hiermod.cli.commands import register_demo, register_fit
from hiermod.errors import HiermodError

if TYPE_CHECKING:
    from hiermod.model import Model

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

Subparsers = Any  # argparse's _SubParsersAction, which has no public name


class CommandError(HiermodError):
    """A problem with the command's inputs (a data file that cannot be read)."""


def _model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("formula", help='model formula, e.g. "y ~ x + (1 + x | g)"')
    parser.add_argument("--data", required=True, metavar="FILE.csv", help="the data, as CSV")
    parser.add_argument("--family", default="gaussian", help="response family (default gaussian)")
    parser.add_argument("--link", default=None, help="link of the mean (the family's default)")


def _load_model(args: argparse.Namespace) -> Model:
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


# -- parse ---------------------------------------------------------------------------------------


def _run_parse(args: argparse.Namespace) -> int:
    formula = hm.parse(args.formula)
    print(formula)
    print()
    print(formula.tree())
    return 0


def _register_parse(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("parse", help="print the canonical formula and its term tree")
    parser.add_argument("formula", help='formula text, e.g. "y ~ a*b + (1 | g)"')
    parser.set_defaults(run=_run_parse)


# -- compile -------------------------------------------------------------------------------------


def _run_compile(args: argparse.Namespace) -> int:
    _write(_load_model(args).source(), args.output)
    return 0


def _register_compile(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("compile", help="write the model as readable PyMC source")
    _model_arguments(parser)
    parser.add_argument("-o", "--output", metavar="model.py", help="output file (default stdout)")
    parser.set_defaults(run=_run_compile)


# -- graph ---------------------------------------------------------------------------------------


def _run_graph(args: argparse.Namespace) -> int:
    from hiermod.output.graph import to_dot, write_graph

    model = _load_model(args)
    if args.output is None:
        _write(to_dot(model.pymc_rows), None)
    else:
        try:
            write_graph(model.pymc_rows, args.output)
        except ValueError as error:  # an unknown suffix
            raise CommandError(str(error)) from None
    return 0


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
    parser.set_defaults(run=_run_graph)


SUBCOMMANDS: list[Callable[[Subparsers], None]] = [
    _register_parse,
    _register_compile,
    _register_graph,
    register_fit,
    register_demo,
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
    """Run the command; returns the exit status (2 for a formula, data or input error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.run(args)
    except HiermodError as error:
        print(f"hiermod {args.command}: error: {error}", file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":
    sys.exit(main())
