"""hiermod: R-style mixed-model formulas compiled to PyMC models with explicit dims.

>>> import hiermod as hm
>>> f = hm.parse("y ~ x1 + (1 + x1 | group:color); sigma ~ (1 | group:color)")
>>> print(f)
y ~ 1 + x1 + (1 + x1 | group:color); sigma ~ 1 + (1 | group:color)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hiermod._version import __version__
from hiermod.errors import (
    ArgumentError,
    DataError,
    FamilyError,
    FitMismatchError,
    FormulaError,
    FormulaSyntaxError,
    HiermodError,
    OptionError,
    PriorError,
    StorageError,
)
from hiermod.formula.expand import expand
from hiermod.formula.multivariate import MultivariateFormula, is_multivariate, split_responses
from hiermod.formula.parser import parse_syntax
from hiermod.formula.terms import Block, Formula, ModelFormula, Term
from hiermod.plan.priors import Prior

if TYPE_CHECKING:  # imported lazily below: `import hiermod` and `hm.parse` stay free of PyMC
    from hiermod import datasets
    from hiermod.data.families import families
    from hiermod.interpret.checks import compare
    from hiermod.model import Model, stream_model


__all__ = [
    "ArgumentError",
    "Block",
    "DataError",
    "FamilyError",
    "FitMismatchError",
    "Formula",
    "FormulaError",
    "FormulaSyntaxError",
    "HiermodError",
    "Model",
    "ModelFormula",
    "OptionError",
    "Prior",
    "PriorError",
    "StorageError",
    "Term",
    "__version__",
    "compare",
    "datasets",
    "families",
    "parse",
    "parse_syntax",
    "stream_model",
]


def parse(text: str | ModelFormula) -> ModelFormula | MultivariateFormula:
    """Parse formula text into the canonical, fully expanded :class:`ModelFormula`.

    Several formulas may be given in one text, separated by ``;`` or line breaks; the first is the
    response's, the others are for distributional parameters (``sigma ~ …``). ``mvbind(y1, y2) ~ …``
    gives a :class:`~hiermod.formula.multivariate.MultivariateFormula`: one formula per response.

    Raises:
        FormulaSyntaxError: the text is not in the formula language (caret under the problem).
        FormulaError: it parses but means nothing valid (unknown function, empty grouping, …).

    Example:
        >>> print(parse("y ~ a*b + (x || g1/g2)"))
        y ~ 1 + a + b + a:b + (1 + x || g1) + (1 + x || g1:g2)
    """
    if isinstance(text, ModelFormula):
        return text
    tree = parse_syntax(text)
    return split_responses(tree) if is_multivariate(tree) else expand(tree)


def __getattr__(name: str) -> Any:
    """Import the PyMC-dependent parts on first use (``hm.Model``, ``hm.stream_model``, ``hm.compare``,
    ``hm.datasets``, ``hm.families``)."""
    if name == "Model":
        from hiermod.model import Model

        return Model
    if name == "stream_model":
        from hiermod.model import stream_model

        return stream_model
    if name == "compare":
        from hiermod.interpret.checks import compare

        return compare
    if name == "families":
        from hiermod.data.families import families

        return families
    if name == "datasets":
        import hiermod.datasets

        return hiermod.datasets
    raise AttributeError(f"module 'hiermod' has no attribute {name!r}")
