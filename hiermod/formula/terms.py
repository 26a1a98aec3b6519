"""The canonical, fully expanded formula: what every later stage consumes.

``hm.parse(text)`` returns a :class:`ModelFormula`; its ``str`` is the canonical formula text, which
parses back to an equal value (``parse(str(f)) == f``)::

    >>> import hiermod as hm
    >>> print(hm.parse("y ~ a*b + (x || g1/g2); sigma ~ (1 | g1)"))
    y ~ 1 + a + b + a:b + (1 + x || g1) + (1 + x || g1:g2); sigma ~ 1 + (1 | g1)

Printing rules (DESIGN.md §5): response, ``~``, ``1`` or ``0``, population terms ordered by degree then
first appearance, offsets, then group blocks in order of appearance; single spaces around
``~ + | ||``, none around ``:``; distributional formulas follow, joined by ``; ``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from hiermod.errors import Span
from hiermod.formula.syntax import Call, Name, Response, SyntaxTree

__all__ = ["Atom", "Block", "Formula", "ModelFormula", "Term"]

Atom = Name | Call
"""A factor of a term: a column (``x``) or a call (``log(x)``, ``C(f)``, ``poly(x, 2)``)."""


@dataclass(frozen=True, slots=True, eq=False)
class Term:
    """An interaction of atoms; ``a:b`` equals ``b:a``. The empty term is the intercept.

    ``factors`` keeps the order of first appearance (for printing and column labels) but equality and
    hashing use the set of factors.
    """

    factors: tuple[Atom, ...]
    span: Span | None = field(default=None, repr=False)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Term) and frozenset(self.factors) == frozenset(other.factors)

    def __hash__(self) -> int:
        return hash(frozenset(self.factors))

    def __str__(self) -> str:
        return ":".join(str(f) for f in self.factors) if self.factors else "1"

    @property
    def degree(self) -> int:
        return len(self.factors)

    @property
    def is_intercept(self) -> bool:
        return not self.factors

    def names(self) -> tuple[str, ...]:
        """The column names this term reads (``log(x):f`` reads ``x`` and ``f``)."""
        out: list[str] = []
        for factor in self.factors:
            out.extend(n for n in _names_in(factor) if n not in out)
        return tuple(out)


def _names_in(node: object) -> Iterator[str]:
    if isinstance(node, Name):
        yield node.name
    elif isinstance(node, Call) and node.func == "C":
        # Only C()'s first argument reads data: C(f, sum) and C(f, levels=c("b", "a")) read f.
        yield from _names_in(node.args[0]) if node.args else iter(())
    elif isinstance(node, Call):
        for arg in node.args:
            yield from _names_in(arg)
        for kw in node.kwargs:
            yield from _names_in(kw.value)
    else:  # Arith / UnaryMinus
        for child in ("left", "right", "operand"):
            if hasattr(node, child):
                yield from _names_in(getattr(node, child))


def _sum_text(intercept: bool, terms: tuple[Term, ...]) -> str:
    return " + ".join(["1" if intercept else "0", *(str(t) for t in terms)])


@dataclass(frozen=True, slots=True)
class Block:
    """Group-specific effects: ``(1 + x | g)``; ``correlated=False`` for ``(1 + x || g)``.

    ``grouping`` is one term of grouping factors: ``g`` or the interaction ``g1:g2`` whose levels are the
    observed (g1, g2) cells. ``(e | g1/g2)`` has already been split into two blocks by expansion.
    """

    intercept: bool
    terms: tuple[Term, ...]
    grouping: Term
    correlated: bool = True
    span: Span | None = field(default=None, compare=False, repr=False)
    block_id: str | None = None  # brms's ID, (1 + x | p | g): one correlation across formulas
    # brms's gr(g, by = f): a separate sd (and correlation) per level of f, g nested in f
    by: Name | None = None

    def __str__(self) -> str:
        bar = "|" if self.correlated else "||"
        block_id = f" {self.block_id} |" if self.block_id is not None else ""
        grouping = f"gr({self.grouping}, by = {self.by})" if self.by is not None else self.grouping
        return f"({_sum_text(self.intercept, self.terms)} {bar}{block_id} {grouping})"

    @property
    def factors(self) -> tuple[str, ...]:
        """The grouping columns, in order: ``("g1", "g2")`` for ``g1:g2``."""
        return tuple(f.name for f in self.grouping.factors if isinstance(f, Name))

    @property
    def size(self) -> int:
        """How many effects each group level gets (intercept included)."""
        return int(self.intercept) + len(self.terms)

    def same_effects(self, other: Block) -> bool:
        """Equal up to the order of terms (used by ``- (…|g)`` removal)."""
        return (
            self.intercept == other.intercept
            and set(self.terms) == set(other.terms)
            and self.grouping == other.grouping
            and self.correlated == other.correlated
            and self.block_id == other.block_id
            and self.by == other.by
        )


@dataclass(frozen=True, slots=True)
class Formula:
    """One expanded formula: the response's or a distributional parameter's (``sigma ~ …``)."""

    response: Response | None
    intercept: bool
    terms: tuple[Term, ...] = ()
    offsets: tuple[Call, ...] = ()
    blocks: tuple[Block, ...] = ()
    span: Span | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        rhs = " + ".join(
            [
                _sum_text(self.intercept, self.terms),
                *(str(o) for o in self.offsets),
                *(str(b) for b in self.blocks),
            ]
        )
        return f"{self.response} ~ {rhs}" if self.response is not None else f"~ {rhs}"

    @property
    def lhs_name(self) -> str | None:
        """The response column, or the distributional parameter this formula is for."""
        if self.response is None:
            return None
        value = self.response.value
        if isinstance(value, Call) and value.func == "ordered" and isinstance(value.args[0], Name):
            return value.args[0].name  # ordered(rating, levels = c(…)) is the column rating
        return value.name if isinstance(value, Name) else str(value)

    def names(self) -> tuple[str, ...]:
        """Every column the right-hand side reads, in order of first use."""
        out: list[str] = []
        pieces: list[Term] = [*self.terms, *(Term((o,)) for o in self.offsets)]
        for block in self.blocks:
            pieces.extend(block.terms)
            pieces.append(block.grouping)
        for term in pieces:
            out.extend(n for n in term.names() if n not in out)
        return tuple(out)

    def tree_lines(self) -> list[str]:
        lines = [f"formula  {self.response if self.response is not None else '(no response)'}"]
        if self.response is not None and self.response.additions:
            lines += [f"  addition  {a}" for a in self.response.additions]
        lines.append(f"  intercept  {'yes' if self.intercept else 'no'}")
        lines += [f"  term  {t}  (degree {t.degree})" for t in self.terms]
        lines += [f"  offset  {o}" for o in self.offsets]
        for block in self.blocks:
            kind = "correlated" if block.correlated else "uncorrelated"
            lines.append(f"  block  | {block.grouping}  ({kind}, {block.size} effects per level)")
            if block.intercept:
                lines.append("    intercept")
            lines += [f"    term  {t}" for t in block.terms]
        return lines


@dataclass(frozen=True, slots=True)
class ModelFormula:
    """All formulas of one model: the response's first, then distributional parameters'.

    Equality compares the expanded formulas only; ``text`` (what the user typed) and ``syntax`` (the
    parse tree) are kept for error messages and inspection.
    """

    formulas: tuple[Formula, ...]
    text: str = field(default="", compare=False, repr=False)
    syntax: SyntaxTree | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        return "; ".join(str(f) for f in self.formulas)

    @property
    def main(self) -> Formula:
        """The formula of the response (the mean, ``mu``)."""
        return self.formulas[0]

    @property
    def dpars(self) -> dict[str, Formula]:
        """Distributional-parameter formulas by parameter name: ``{"sigma": …}``."""
        return {f.lhs_name: f for f in self.formulas[1:] if f.lhs_name is not None}

    @property
    def response(self) -> Response | None:
        return self.main.response

    def tree(self) -> str:
        """The term tree, for humans::

        formula  y
          intercept  yes
          term  x
          block  | g  (correlated, 2 effects per level)
            intercept
            term  x
        """
        return "\n".join(line for f in self.formulas for line in f.tree_lines())
