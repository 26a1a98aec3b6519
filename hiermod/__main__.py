"""``python -m hiermod``: the ``hiermod`` command (see :mod:`hiermod.cli.main`)."""

import sys

from hiermod.cli import main

sys.exit(main())
