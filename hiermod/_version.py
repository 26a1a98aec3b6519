"""hiermod's version: a shared leaf, so a stage (the fit's stored attributes) can read it without
importing the package's ``__init__``."""

__version__ = "0.1.0"
