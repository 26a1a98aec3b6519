"""The formula algebra of one sum, as R's ``terms()`` computes it: ``+ - : * / %in% ^``, 0 and 1.

:class:`Expansion` walks a sum the way R's ``EncodeVars`` (R's ``src/library/stats/src/model.c``)
does: left to right, every parenthesised sum a level of its own, with R's two flags (the intercept
and the parity of ``-``). Terms are :class:`~hiermod.formula.terms.Term` values; group terms
``(e | g)`` are handed to a callback (``expand.py`` expands them), so this module knows nothing of
blocks beyond adding and removing them. Each rule has a worked example next to its code.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from hiermod.errors import FormulaError, Span
from hiermod.formula.checks import Context, is_positive_int
from hiermod.formula.functions import FUNCTIONS, Role
from hiermod.formula.syntax import (
    BinaryOp,
    Call,
    FormulaNode,
    GroupTerm,
    Name,
    Negate,
    Number,
    Paren,
)
from hiermod.formula.terms import Block, Term
from hiermod.warnings import FormulaWarning, user_stacklevel

__all__ = ["INTERCEPT", "MAX_TERMS", "Expansion"]

INTERCEPT = Term(())
MAX_TERMS = 100_000  # a guard against (a+b+...+z)^26-style explosions


def _too_many_terms(ctx: Context, span: Span | None) -> FormulaError:
    return ctx.error(
        f"the formula expands to more than {MAX_TERMS:,} terms",
        span,
        "a power or a product of long sums creates every interaction; "
        "list the interactions you need instead",
    )


def _key(item: Term | Block) -> object:
    """Identity of a term or block in an ordered set: ``a:b`` is ``b:a``; block terms are a set."""
    if isinstance(item, Block):
        return (item.intercept, frozenset(item.terms), item.grouping, item.correlated, item.by)
    return item


@dataclass(slots=True)
class _Collector:
    """An ordered set of terms and blocks, built left to right like R's ``terms()``.

    Backed by a dict (insertion-ordered), so adding and removing cost O(1): a formula with a few
    thousand terms must not take quadratic time.
    """

    ctx: Context
    index: dict[object, Term | Block] = field(default_factory=dict)

    @property
    def items(self) -> list[Term | Block]:
        return list(self.index.values())

    def add(self, item: Term | Block) -> None:
        self.index.setdefault(_key(item), item)  # the first spelling (a:b vs b:a) is kept
        if len(self.index) > MAX_TERMS:
            raise _too_many_terms(self.ctx, item.span)

    def remove(self, item: Term | Block) -> bool:
        """Remove ``item``; false when it was not there."""
        return self.index.pop(_key(item), None) is not None


def _signed_operands(node: FormulaNode) -> Iterator[tuple[int, FormulaNode]]:
    """Flatten one level of a sum into (sign, operand) pairs, left to right.

    Only the ``+``/``-`` chain itself is flattened, not parentheses: a parenthesised sum is a level
    of its own (R's ``EncodeVars`` expands it before the outer operator sees it). A unary minus is
    flattened only at the start of the chain, where it removes from the empty level either way:
    ``-b + c`` is ``c``, while ``a - -b`` is ``a - (-b)``, which is ``a`` (``-b`` alone is empty), and
    ``--b`` is ``-(-b)``, also empty.
    Iterative (an explicit stack), because ``x1 + x2 + … + x500`` is a left-nested chain 500 deep.
    """
    stack: list[tuple[int, FormulaNode, bool]] = [(1, node, True)]
    while stack:
        sign, current, leftmost = stack.pop()
        if isinstance(current, BinaryOp) and current.op in "+-":
            stack.append((sign if current.op == "+" else -sign, current.right, False))
            stack.append((sign, current.left, leftmost))  # popped first: left to right
        elif isinstance(current, Negate) and leftmost:
            # Not leftmost any more: --b is -(-b), which removes the empty -b from nothing.
            stack.append((-sign, current.operand, False))
        else:
            yield sign, current


@dataclass(frozen=True, slots=True)
class _Removal:
    """A ``- term`` that found nothing to remove at its level (checked once the sum is done)."""

    item: Term | Block
    span: Span | None
    level: FormulaNode | None  # the parenthesised (or negated) sum it was in; None at the top


@dataclass(slots=True)
class Expansion:
    """One expansion of a sum as R's ``terms()`` does it (``EncodeVars`` in R's model.c).

    R keeps two flags while it walks the formula: ``intercept``, set by every ``1`` and ``0``
    anywhere in it, the last one walked winning, and ``parity``, flipped while the right side of a
    ``-`` is walked, so that there ``1`` clears the intercept and ``0`` sets it::

        y ~ a - 1         ->  0 + a         y ~ a - (b - 1)  ->  1 + a   (parity flipped twice)
        y ~ a:(b - 1)     ->  0 + a:b       y ~ 0 + (1 + a):b  ->  1 + a:b

    A number is not a term: inside an interaction it contributes nothing but the flag, so
    ``(1 + a):b`` is ``a:b``, not ``b + a:b`` (patsy's reading).

    Every parenthesised sum is a level of its own: ``-`` removes only from the terms of its level,
    ``y ~ a + (b - a)`` is ``a + b``. ``strict`` adds one rule R does not have: a removal that finds
    nothing, of a term the formula adds nowhere (terms inside a removed sum do not count: ``y ~ x -
    (z + w)`` removes nothing), is an error at the top level (``y ~ x - z`` is
    almost always a typo) and a :class:`~hiermod.warnings.FormulaWarning` inside parentheses, where
    R's answer is kept (``y ~ (a - b):c`` is ``a:c``).
    """

    ctx: Context
    intercept: bool
    strict: bool = True
    # Expands a group term into blocks; None where group terms are not allowed (inside a block).
    expand_group: Callable[[GroupTerm], list[Block]] | None = None
    parity: bool = True
    added: set[object] = field(default_factory=set)
    removals: list[_Removal] = field(default_factory=list)

    def top(self, node: FormulaNode) -> list[Term | Block]:
        """Expand the whole sum ``node`` and check its removals."""
        items = self.sum(node, allow_blocks=self.expand_group is not None, level=None)
        self._check_removals()
        return items

    def sum(
        self, node: FormulaNode, *, allow_blocks: bool, level: FormulaNode | None
    ) -> list[Term | Block]:
        out = _Collector(self.ctx)
        for sign, operand in _signed_operands(node):
            if sign < 0:
                self.parity = not self.parity
            items = self.operand(operand, allow_blocks=allow_blocks)
            if sign < 0:
                self.parity = not self.parity
            for item in items:
                if sign > 0:
                    out.add(item)
                    if self.parity:  # added to the model, not only to a sum that is removed
                        self.added.add(_key(item))
                elif not out.remove(item):
                    self.removals.append(_Removal(item, operand.span, level))
        return out.items

    def operand(self, node: FormulaNode, *, allow_blocks: bool) -> list[Term | Block]:
        if isinstance(node, GroupTerm):
            if not allow_blocks or self.expand_group is None:
                raise self.ctx.error(
                    "a group term cannot stand inside another group term or an interaction",
                    node.span,
                )
            return list(self.expand_group(node))
        if isinstance(node, Paren):
            return self.sum(node.inner, allow_blocks=allow_blocks, level=node)
        if isinstance(node, Number):
            self.number(node, in_product=False)
            return []
        return list(self.product(node))

    def number(self, node: Number, *, in_product: bool) -> list[Term]:
        if node.value not in (0, 1):
            raise self.ctx.error(
                f"the number {node} cannot be "
                + ("part of an interaction" if in_product else "a term"),
                node.span,
                "only 1 (intercept) and 0 (no intercept) stand alone; scale inside I(…), "
                "e.g. I(2 * x)",
            )
        # `+1` and `-0` set the intercept; `+0` and `-1` clear it.
        self.intercept = (node.value == 1) == self.parity
        return []

    def product(self, node: FormulaNode) -> list[Term]:
        """Expand ``: * / %in% ^`` (see :func:`expand_product`)."""
        if isinstance(node, (Name, Call)):
            if isinstance(node, Call) and FUNCTIONS[node.func].role is Role.ADDITION:
                raise self.ctx.error(f"{node.func}() belongs on the response side", node.span)
            return [Term((node,), span=node.span)]
        if isinstance(node, Number):
            return self.number(node, in_product=True)
        if isinstance(node, GroupTerm):
            raise self.ctx.error(
                "a group term cannot be part of an interaction, a nesting or a power",
                node.span,
                "add it as its own term: y ~ x + (1 | g); nested groupings go after the bar: "
                "(1 | g1/g2)",
            )
        if isinstance(node, Paren) or _is_sum(node):
            inner = node.inner if isinstance(node, Paren) else node
            items = self.sum(inner, allow_blocks=False, level=node)
            return [t for t in items if isinstance(t, Term)]
        assert isinstance(node, BinaryOp), node
        if node.op == "^":
            return _power(node, self.product(node.left), self.ctx)
        left = self.product(node.left)
        right = self.product(node.right)
        return _combine(node, left, right, self.ctx)

    def _check_removals(self) -> None:
        if not self.strict:
            return
        for removal in self.removals:
            if _key(removal.item) in self.added:
                continue  # `y ~ a + (b - a)`: a is in the formula, R's local removal is the meaning
            if removal.level is None:
                raise self.ctx.error(
                    f"'- {removal.item}' removes nothing: {removal.item} is not a term of the formula",
                    removal.span,
                )
            warnings.warn(
                f"'- {removal.item}' removes nothing: {removal.item} is not a term of "
                f"{removal.level}, nor of the rest of the formula",
                FormulaWarning,
                stacklevel=user_stacklevel(),
            )


def _is_sum(node: FormulaNode) -> bool:
    return (isinstance(node, BinaryOp) and node.op in "+-") or isinstance(node, Negate)


def _interact(left: list[Term], right: list[Term], span: Span | None, ctx: Context) -> list[Term]:
    """``L:R``: every term of L with every term of R; repeated factors merge (``a:a`` is ``a``).

    R's order (``InteractTerms`` in R's ``src/library/stats/src/model.c``): the left term is the
    outer loop, so ``(a+b):(c+d)`` is ``a:c + a:d + b:c + b:d``. Numbers never reach here: as in R,
    ``(1+a):b`` is ``1 + a:b`` (the ``1`` only sets the intercept; see :class:`_Expansion`).
    """
    out: dict[Term, None] = {}
    for l_term in left:
        for r_term in right:
            factors = l_term.factors + tuple(f for f in r_term.factors if f not in l_term.factors)
            out.setdefault(Term(factors, span=span), None)
            if len(out) > MAX_TERMS:
                raise _too_many_terms(ctx, span)
    return list(out)


def _union(*groups: Iterable[Term]) -> list[Term]:
    """Concatenate term lists, dropping later duplicates (``a:b`` and ``b:a`` are one term)."""
    out: dict[Term, None] = {}
    for group in groups:
        for term in group:
            out.setdefault(term, None)
    return list(out)


def _combine(node: BinaryOp, left: list[Term], right: list[Term], ctx: Context) -> list[Term]:
    """The product operators on the expanded operands ``left`` and ``right``. Rules (R):

    * ``a:b`` — interaction; ``(a+b):c`` is ``a:c + b:c``;
    * ``a*b`` — ``a + b + a:b``; ``(a+b)*c`` is ``a + b + c + a:c + b:c``;
    * ``a/b`` — nesting, ``a + a:b``: b within each level of a. With a sum on the left the right side
      is nested in *all* of its variables together: ``(a+b)/c`` is ``a + b + a:b:c``, not
      ``a + b + a:c + b:c``;
    * ``a %in% b`` — the left terms within all variables of the right (R's ``InTerms``):
      ``a %in% b`` is ``a:b``, ``(a+b) %in% (c+d)`` is ``a:c:d + b:c:d``;
    * ``(a+b+c)^2`` — all interactions up to degree 2 (:func:`_power`).
    """
    if node.op == ":":
        # a:b -- the interaction alone: (a+b):c is a:c + b:c.
        return _interact(left, right, node.span, ctx)
    if node.op in "*/" and not left:
        # R's CrossTerms and NestTerms return nothing when the left side has no terms, whatever
        # the right side holds: in R, y ~ 1*d and y ~ 0/b have no terms (the 1 and 0 still set the
        # intercept). hiermod means what R means, and says so.
        if right:
            warnings.warn(
                f"{node} has no terms: R's terms() drops a product or nesting whose left side "
                f"has none, and hiermod reads it as R does; write {_sum_text(right)} if that was "
                "meant",
                FormulaWarning,
                stacklevel=user_stacklevel(),
            )
        return []
    if node.op == "*":
        # a*b -- main effects then interactions (R's CrossTerms): (a+b)*c is a + b + c + a:c + b:c.
        return _union(left, right, _interact(left, right, node.span, ctx))
    if node.op == "/":
        # a/b -- b nested in a (R's NestTerms): the left terms, then every right term interacted with
        # all variables of the left together. a/b is a + a:b; (a+b)/c is a + b + a:b:c (c is nested
        # in the (a, b) cells), not a + b + a:c + b:c; a/b/c = (a/b)/c is a + a:b + a:b:c.
        return _union(left, _interact([_all_variables(left, node)], right, node.span, ctx))
    if node.op == "%in%":
        # a %in% b -- only the left terms, each within all variables of the right (R's InTerms).
        return _interact(left, [_all_variables(right, node)], node.span, ctx)
    raise AssertionError(f"unhandled operator {node.op!r}")  # pragma: no cover


def _sum_text(terms: list[Term]) -> str:
    return " + ".join(str(t) for t in terms)


def _all_variables(terms: list[Term], node: BinaryOp) -> Term:
    """One term of every variable in ``terms``: ``a + b:c`` gives ``a:b:c`` (the empty term for none)."""
    return Term(tuple(dict.fromkeys(f for t in terms for f in t.factors)), span=node.span)


def _power(node: BinaryOp, base: list[Term], ctx: Context) -> list[Term]:
    exponent = node.right
    if not isinstance(exponent, Number) or not is_positive_int(exponent):
        raise ctx.error(
            "a power in a formula must be a positive whole number",
            exponent.span,
            "(a + b)^2 means all interactions up to degree 2; for x squared write I(x^2)",
        )
    # R's PowerTerms: e^k is e:e:...:e (k times) with repeated factors merged, so it holds every
    # interaction of the terms of e up to degree k: (a+b+c)^2 is a + b + c + a:b + a:c + b:c, and
    # (a+b+c)^3 adds a:b:c. Each round interacts the base (outer loop) with the result so far.
    # As in R, terms are bit sets of the base's atoms while expanding: (x1+...+x13)^13 makes 8191
    # terms in 13 rounds, which must take milliseconds, not seconds.
    atoms = list(dict.fromkeys(f for t in base for f in t.factors))
    bit = {atom: 1 << i for i, atom in enumerate(atoms)}
    base_bits = list(dict.fromkeys(sum(bit[f] for f in t.factors) for t in base))
    result = base_bits
    for _ in range(int(exponent.value) - 1):
        expanded: dict[int, None] = {}
        for left in base_bits:
            for right in result:
                expanded.setdefault(left | right, None)
            if len(expanded) > MAX_TERMS:
                raise _too_many_terms(ctx, node.span)
        if list(expanded) == result:  # a higher power adds nothing once all interactions are in
            break
        result = list(expanded)
    return [
        Term(tuple(a for a in atoms if bits & bit[a]), span=node.span if bits else None)
        for bits in result
    ]
