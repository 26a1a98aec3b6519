"""hiermod: R-style mixed-model formulas compiled to PyMC models with explicit dims.

>>> import hiermod as hm
>>> f = hm.parse("y ~ x1 + (1 + x1 | group:color); sigma ~ (1 | group:color)")
>>> print(f)
y ~ 1 + x1 + (1 + x1 | group:color); sigma ~ 1 + (1 | group:color)
"""

from __future__ import annotations

from hiermod.errors import (
    DataError,
    FamilyError,
    FormulaError,
    FormulaSyntaxError,
    HiermodError,
    PriorError,
)
from hiermod.expand import expand
from hiermod.parser import parse_syntax
from hiermod.terms import Block, Formula, ModelFormula, Term

__version__ = "0.1.0"

__all__ = [
    "Block",
    "DataError",
    "FamilyError",
    "Formula",
    "FormulaError",
    "FormulaSyntaxError",
    "HiermodError",
    "ModelFormula",
    "PriorError",
    "Term",
    "__version__",
    "parse",
    "parse_syntax",
]


def parse(text: str | ModelFormula) -> ModelFormula:
    """Parse formula text into the canonical, fully expanded :class:`ModelFormula`.

    Several formulas may be given in one text, separated by ``;`` or line breaks; the first is the
    response's, the others are for distributional parameters (``sigma ~ …``).

    Raises:
        FormulaSyntaxError: the text is not in the formula language (caret under the problem).
        FormulaError: it parses but means nothing valid (unknown function, empty grouping, …).

    Example:
        >>> print(parse("y ~ a*b + (x || g1/g2)"))
        y ~ 1 + a + b + a:b + (1 + x || g1) + (1 + x || g1:g2)
    """
    if isinstance(text, ModelFormula):
        return text
    return expand(parse_syntax(text))
