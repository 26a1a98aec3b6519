"""The ``hiermod`` command line: ``parse``, ``compile``, ``graph``, ``fit`` and ``demo``.

Input: the command's arguments. Output: text on stdout and files (model source, graphs, fits).
``main`` (in :mod:`hiermod.cli.main`, re-exported here for the ``hiermod`` console script) builds
the parser; :mod:`hiermod.cli.commands` does each command's work; :mod:`hiermod.cli.demo` runs the
demo.

Imports: anything in hiermod — it sits above :mod:`hiermod.model` and ``hiermod`` itself.
"""

from hiermod.cli.main import main

__all__ = ["main"]
