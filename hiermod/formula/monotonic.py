"""brms's monotonic effect ``mo(x)`` in the formula: where it may stand, and which terms are one.

``mo(x)`` of an ordered predictor with categories 0..D adds ``bsp * D * sum(simo[:x])`` to the
linear predictor (brms; the data rule is :mod:`hiermod.data.monotonic`, the model
:mod:`hiermod.plan.monotonic`). In the formula it is one population term of its own::

    y ~ mo(x) + z                     fine: one monotonic effect, one slope
    y ~ mo(x) * z                     fine: mo(x) + z + mo(x):z, the last brms's mo(x) times z
    y ~ mo(log(x))                    error: mo() takes a column (an ordered factor or integers)
    y ~ mo(x):mo(w)                   error: one mo() per term
    y ~ x + (mo(x) | g)               error: mo() cannot vary by group (not supported yet)

Nothing here looks at data: whether ``x`` is ordered, and that ``z`` of ``mo(x):z`` is numeric
(brms multiplies the monotonic effect by it; a categorical z is refused), is checked when binding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from hiermod.errors import FormulaError, Span
from hiermod.formula.syntax import Call, Name
from hiermod.formula.terms import Block, Term

__all__ = ["check_monotonic", "check_monotonic_call", "is_monotonic", "split_monotonic"]


class _Context(Protocol):  # hiermod.formula.checks.Context
    def error(self, message: str, span: Span | None, hint: str | None = None) -> FormulaError: ...


def is_monotonic(term: Term) -> bool:
    """Whether ``term`` is ``mo(x)`` or an interaction with it (``mo(x):z``)."""
    return any(isinstance(f, Call) and f.func == "mo" for f in term.factors)


def split_monotonic(terms: Sequence[Term]) -> tuple[tuple[Term, ...], tuple[Term, ...]]:
    """The population terms that are columns of ``X``, and the ``mo(x)`` terms, each in order."""
    return (
        tuple(t for t in terms if not is_monotonic(t)),
        tuple(t for t in terms if is_monotonic(t)),
    )


def check_monotonic_call(call: Call, ctx: _Context) -> None:
    """``mo()`` reads one column by its name: ``mo(x)``, not ``mo(log(x))`` or ``mo(1)``."""
    data = call.args[0] if call.args else next((k.value for k in call.kwargs), None)
    if not isinstance(data, Name):
        raise ctx.error(
            "mo() takes a column: an ordered categorical or integers",
            getattr(data, "span", None) or call.span,
            "make the ordered column first, e.g. df['x'] = pd.Categorical(..., ordered=True), "
            "then write mo(x)",
        )


def check_monotonic(items: Sequence[Term | Block], ctx: _Context) -> None:
    """``mo(x)`` is a population term, at most one per interaction: not in a block."""
    for item in items:
        if isinstance(item, Block):
            for term in item.terms:
                if is_monotonic(term):
                    raise ctx.error(
                        f"{term} cannot vary by group: group-level monotonic effects are not "
                        "supported yet",
                        term.span or item.span,
                        f"keep {term} among the population terms: y ~ {term} + (1 | g)",
                    )
        elif sum(isinstance(f, Call) and f.func == "mo" for f in item.factors) > 1:
            raise ctx.error(
                f"an interaction of two monotonic effects is not supported yet: {item}",
                item.span,
                "write each monotonic effect alone: "
                + " + ".join(
                    str(f) for f in item.factors if isinstance(f, Call) and f.func == "mo"
                ),
            )
