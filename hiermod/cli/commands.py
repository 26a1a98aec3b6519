"""The work of each ``hiermod`` subcommand: a ``run_<name>(args)`` function returning the exit status.

::

    hiermod fit "Reaction ~ Days + (Days | Subject)" --data sleepstudy.csv --draws 500 -o fit.nc
    hiermod predict fit.nc --data new.csv -o predictions.csv
    hiermod demo [--out DIR]

``parse``, ``source``/``compile`` and ``graph`` are described in :mod:`hiermod.cli.main`, which
builds the parsers and dispatches to these functions. :func:`load_model` reads the model options
(:mod:`hiermod.cli.options`, checked before the data are read) and the data
(:func:`hiermod.cli.inputs.read_data`: CSV or Parquet). ``fit`` (:mod:`hiermod.cli.fitting`) shows
the sampler's progress bar, then prints the summary table (``Model.summary``); with ``-o`` it saves
the ``InferenceData`` as netCDF, with the training data, which ``hm.Model.from_idata`` and
``hiermod predict`` (:mod:`hiermod.cli.predicting`) read back. ``demo`` runs
:mod:`hiermod.cli.demo`. Every output (``-o``, ``--out``) is checked before the data are read
(:mod:`hiermod.cli.checks`); ``source -o`` and ``graph -o`` replace a file only with ``--force``.
This module imports PyMC only when a command runs, so ``hiermod parse`` stays
fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import hiermod as hm
from hiermod.cli.checks import CommandError, check_output, check_output_dir, write_atomically
from hiermod.cli.inputs import read_data
from hiermod.cli.options import model_options

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
    "run_predict",
]


def load_model(args: argparse.Namespace) -> Model:
    """The model of ``FORMULA --data FILE [--family F] [--link L] [--prior K=P] [--layout L]
    [--centered C]``; the options are checked before the data are read."""
    options = model_options(args)
    data = read_data(args.data)
    return hm.Model(args.formula, data, family=args.family, link=args.link, **options)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise CommandError(f"cannot write -o {output}: {error.strerror or error}") from None


def run_parse(args: argparse.Namespace) -> int:
    formula = hm.parse(args.formula)
    print(formula)
    print()
    print(formula.tree())
    return 0


def run_compile(args: argparse.Namespace) -> int:
    """``hiermod source`` (``compile``): the module to ``-o`` (not replacing a file without
    ``--force``) or stdout."""
    output = None if args.output is None else check_output(args.output, overwrite=args.force)
    source = load_model(args).source()
    if output is None:
        _write(source, None)
    else:
        write_atomically(output, lambda temporary: _write(source, temporary))
    return 0


def run_graph(args: argparse.Namespace) -> int:
    """``hiermod graph``: the model's graph (:meth:`hiermod.Model.graph`: a cluster per group
    block, variables named from the plan) as DOT text on stdout, or to ``-o`` in the format of its
    suffix (checked before the data are read; an existing file replaced only with ``--force``)."""
    from hiermod.output.graph import format_of

    output = None
    if args.output is not None:
        output = check_output(args.output, overwrite=args.force)
        try:
            format_of(output)
        except ValueError as error:  # an unknown suffix
            raise CommandError(str(error)) from None
    graph = load_model(args).graph()
    if output is None:
        _write(graph.source, None)
    else:
        write_atomically(output, graph.save)
    return 0


def run_fit(args: argparse.Namespace) -> int:
    from hiermod.cli.fitting import fit_command

    return fit_command(args, load_model)


def run_predict(args: argparse.Namespace) -> int:
    from hiermod.cli.predicting import predict_command

    return predict_command(args)


def run_demo(args: argparse.Namespace) -> int:
    from hiermod.cli.demo import demo_command

    check_output_dir(args.out)
    return demo_command(args)
