"""The ``hiermod`` command line: ``parse``, ``source`` (alias ``compile``), ``graph``, ``fit``,
``predict`` and ``demo``.

Input: the command's arguments and data files (CSV or Parquet). Output: text on stdout and files
(model source, graphs, fits, prediction tables). ``main`` (in :mod:`hiermod.cli.main`, re-exported
here for the ``hiermod`` console script) builds the parser, with the model options of
:mod:`hiermod.cli.options`; :mod:`hiermod.cli.commands` does each command's work, reading data with
:mod:`hiermod.cli.inputs` and checking outputs with :mod:`hiermod.cli.checks`;
:mod:`hiermod.cli.fitting` fits (storing the training data, :mod:`hiermod.cli.training`),
:mod:`hiermod.cli.predicting` predicts, :mod:`hiermod.cli.demo` runs the demo.

Imports: anything in hiermod — it sits above :mod:`hiermod.model` and ``hiermod`` itself.
"""

from hiermod.cli.main import main

__all__ = ["main"]
