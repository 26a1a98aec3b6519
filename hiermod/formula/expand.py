"""Syntax tree → canonical term set: the formula algebra as small named passes over nodes.

Every rule follows R (Wilkinson & Rogers 1973; Chambers & Hastie 1992, "Statistical Models in S", §2.3)
for population terms, lme4 for ``|`` blocks and brms for ``||`` and distributional formulas. Each rule
has a worked example next to its code. Nothing here looks at data.

Passes, in order (see :func:`expand`):

1. :func:`~hiermod.formula.checks.check_literals` and :func:`~hiermod.formula.checks.check_calls` —
   names and numbers print back to themselves; every call is on the allow-list with a valid
   signature (no ``eval`` ever);
2. :func:`~hiermod.formula.checks.check_response` — the left-hand side and its brms addition terms
   (passes 1 and 2 live in :mod:`hiermod.formula.checks`);
3. :func:`expand_sum` — ``+``/``-``/``0``/``1``, with :func:`expand_product` for ``: * / ^``;
4. :func:`expand_block` — ``(e | g)``, ``(e || g)`` and grouping expressions ``g1/g2``, ``g1+g2``, ``g1*g2``;
5. :func:`canonical_order` — population terms by degree then first appearance, factors within a term in
   the order they were written, so that ``str`` is canonical and parses back to itself;
6. :func:`check_blocks` — one effect never appears in two blocks of the same grouping.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from hiermod.errors import FormulaError, Span
from hiermod.formula.checks import (
    Context,
    check_calls,
    check_literals,
    check_response,
    is_positive_int,
)
from hiermod.formula.functions import FUNCTIONS, Role
from hiermod.formula.syntax import (
    BinaryOp,
    Call,
    FormulaNode,
    FormulaSyntax,
    GroupTerm,
    Name,
    Negate,
    Number,
    Paren,
    SyntaxTree,
)
from hiermod.formula.terms import Block, Formula, ModelFormula, Term

__all__ = ["expand", "expand_block", "expand_product", "expand_sum"]

INTERCEPT = Term(())
MAX_TERMS = 100_000  # a guard against (a+b+...+z)^26-style explosions


# ---------------------------------------------------------------------------------------------------
# Pass 3: sums and products (population terms).


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
        return (item.intercept, frozenset(item.terms), item.grouping, item.correlated)
    return item


@dataclass(slots=True)
class _Collector:
    """An ordered set of terms and blocks, built left to right like R's ``terms()``.

    Backed by a dict (insertion-ordered), so adding and removing cost O(1): a formula with a few
    hundred terms must not take quadratic time.
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

    def remove(self, item: Term | Block, span: Span | None) -> None:
        # Removing the intercept is idempotent (`0 + x - 1` is common); removing anything else that
        # is not there is an error rather than silently doing nothing (R ignores it: `y ~ a - b` is
        # `y ~ a` in R, but the `- b` is almost always a typo, so hiermod says so).
        if self.index.pop(_key(item), None) is None and item != INTERCEPT:
            raise self.ctx.error(
                f"'- {item}' removes nothing: {item} is not a term of the formula", span
            )


def _signed_operands(node: FormulaNode, sign: int = 1) -> Iterator[tuple[int, FormulaNode]]:
    """Flatten a sum into (sign, operand) pairs, left to right.

    Parentheses that hold a sum are flattened when added, as in R: ``y ~ a + (b + c - 1)`` is
    ``y ~ 0 + a + b + c``. A subtracted parenthesis is removed as a whole: ``a*b - (a + b)`` is ``a:b``.
    Iterative (an explicit stack), because ``x1 + x2 + … + x500`` is a left-nested chain 500 deep.
    """
    stack: list[tuple[int, FormulaNode]] = [(sign, node)]
    while stack:
        s, current = stack.pop()
        if isinstance(current, BinaryOp) and current.op in "+-":
            stack.append((s if current.op == "+" else -s, current.right))
            stack.append((s, current.left))  # popped first: left to right
        elif isinstance(current, Negate):
            stack.append((-s, current.operand))
        elif isinstance(current, Paren) and (s > 0 or not _is_sum(current.inner)):
            stack.append((s, current.inner))
        else:
            yield s, current


def _is_sum(node: FormulaNode) -> bool:
    return (isinstance(node, BinaryOp) and node.op in "+-") or isinstance(node, Negate)


def expand_sum(
    node: FormulaNode, ctx: Context, *, implicit_intercept: bool, allow_blocks: bool
) -> list[Term | Block]:
    """Expand a sum of terms left to right into an ordered set (the empty term is the intercept).

    Intercept rules (R): a formula starts with an implicit intercept; ``1`` adds it, ``0`` and ``-1``
    remove it, ``-0`` adds it back; the last word wins::

        y ~ x          ->  y ~ 1 + x        y ~ 0 + x   ->  y ~ 0 + x
        y ~ x - 1      ->  y ~ 0 + x        y ~ -1 + x  ->  y ~ 0 + x
        y ~ 0 + 1 + x  ->  y ~ 1 + x

    Removal: ``a*b - a`` is ``b + a:b``; ``x + (1|g) - (1|g)`` is ``x``. Duplicates are dropped:
    ``a + b + a`` is ``a + b`` and ``a:b + b:a`` is ``a:b``.
    """
    out = _Collector(ctx)
    if implicit_intercept:
        out.add(INTERCEPT)
    for sign, operand in _signed_operands(node):
        if isinstance(operand, Number):
            if operand.value not in (0, 1):
                raise ctx.error(
                    f"the number {operand} cannot be a term",
                    operand.span,
                    "only 1 (intercept) and 0 (no intercept) stand alone; scale inside I(…), "
                    "e.g. I(2 * x)",
                )
            # `+1` and `-0` add the intercept; `+0` and `-1` remove it.
            wants_intercept = (operand.value == 1) == (sign > 0)
            if wants_intercept:
                out.add(INTERCEPT)
            else:
                out.remove(INTERCEPT, operand.span)
            continue
        if isinstance(operand, GroupTerm):
            if not allow_blocks:
                raise ctx.error(
                    "a group term cannot stand inside another group term or an interaction",
                    operand.span,
                )
            items: list[Term | Block] = list(expand_block(operand, ctx))
        else:
            items = list(expand_product(operand, ctx))
        for item in items:
            if sign > 0:
                out.add(item)
            else:
                out.remove(item, operand.span)
    return out.items


def _interact(left: list[Term], right: list[Term], span: Span | None, ctx: Context) -> list[Term]:
    """``L:R``: every term of L with every term of R; repeated factors merge (``a:a`` is ``a``).

    R's order (``InteractTerms`` in R's ``src/library/stats/src/model.c``): the left term is the
    outer loop, so ``(a+b):(c+d)`` is ``a:c + a:d + b:c + b:d``. The intercept is the identity, so
    ``(1+a):b`` is ``b + a:b`` (Wilkinson–Rogers, as patsy; R's ``terms()`` differs here: it reads a
    ``1`` anywhere as "keep the intercept" and gives ``1 + a:b``).
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


def expand_product(node: FormulaNode, ctx: Context) -> list[Term]:
    """Expand one operand of a sum: ``:``, ``*``, ``/`` and ``^`` (no ``+``/``-`` at this level).

    Rules (R):

    * ``a:b`` — interaction; ``(a+b):c`` is ``a:c + b:c``;
    * ``a*b`` — ``a + b + a:b``; ``(a+b)*c`` is ``a + b + c + a:c + b:c``;
    * ``a/b`` — nesting, ``a + a:b``: b within each level of a. With a sum on the left the right side
      is nested in *all* of its variables together: ``(a+b)/c`` is ``a + b + a:b:c``, not
      ``a + b + a:c + b:c``;
    * ``(a+b+c)^2`` — all interactions up to degree 2: ``a + b + c + a:b + a:c + b:c``;
      ``**`` is the same operator.
    """
    if isinstance(node, (Name, Call)):
        if isinstance(node, Call) and FUNCTIONS[node.func].role is Role.ADDITION:
            raise ctx.error(f"{node.func}() belongs on the response side", node.span)
        return [Term((node,), span=node.span)]
    if isinstance(node, Number):
        if node.value == 1:
            return [INTERCEPT]
        raise ctx.error(
            f"the number {node} cannot be part of an interaction",
            node.span,
            "write 0 or -1 as a separate term to remove the intercept",
        )
    if isinstance(node, Paren):
        items = expand_sum(node.inner, ctx, implicit_intercept=False, allow_blocks=False)
        return [t for t in items if isinstance(t, Term)]
    if isinstance(node, GroupTerm):
        raise ctx.error(
            "a group term cannot be part of an interaction",
            node.span,
            "add it as its own term: y ~ x + (1 | g)",
        )
    if isinstance(node, Negate) or (isinstance(node, BinaryOp) and node.op in "+-"):
        items = expand_sum(node, ctx, implicit_intercept=False, allow_blocks=False)
        return [t for t in items if isinstance(t, Term)]
    assert isinstance(node, BinaryOp), node
    if node.op == "^":
        return _power(node, ctx)
    left = expand_product(node.left, ctx)
    right = expand_product(node.right, ctx)
    if node.op == ":":
        # a:b -- the interaction alone: (a+b):c is a:c + b:c.
        return _interact(left, right, node.span, ctx)
    if node.op == "*":
        # a*b -- main effects then interactions (R's CrossTerms): (a+b)*c is a + b + c + a:c + b:c.
        return _union(left, right, _interact(left, right, node.span, ctx))
    if node.op == "/":
        # a/b -- b nested in a (R's NestTerms): the left terms, then every right term interacted with
        # all variables of the left together. a/b is a + a:b; (a+b)/c is a + b + a:b:c (c is nested
        # in the (a, b) cells), not a + b + a:c + b:c; a/b/c = (a/b)/c is a + a:b + a:b:c.
        outer = Term(tuple(dict.fromkeys(f for t in left for f in t.factors)), span=node.span)
        return _union(left, _interact([outer], right, node.span, ctx))
    raise AssertionError(f"unhandled operator {node.op!r}")  # pragma: no cover


def _power(node: BinaryOp, ctx: Context) -> list[Term]:
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
    base = expand_product(node.left, ctx)
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


# ---------------------------------------------------------------------------------------------------
# Pass 4: group blocks.


def expand_block(group: GroupTerm, ctx: Context) -> list[Block]:
    """``(e | grouping)`` → one block per grouping term (lme4), implicit intercept as in R.

    * ``(x | g)`` is ``(1 + x | g)``; ``(0 + x | g)`` keeps no intercept;
    * ``(e | g1:g2)`` is one block over the (g1, g2) cells;
    * ``(e | g1/g2)`` is ``(e | g1) + (e | g1:g2)``; ``(e | g1/g2/g3)`` adds ``(e | g1:g2:g3)``;
    * ``(e | g1 + g2)`` is ``(e | g1) + (e | g2)``; ``(e | g1*g2)`` adds ``(e | g1:g2)``;
    * ``(e || g)`` is *one* block with independent effects (brms), not lme4's split into
      ``(1 | g) + (0 + x | g)``; ``(x1*x2 || id)`` is ``(1 + x1 + x2 + x1:x2 || id)``.
    """
    items = expand_sum(group.terms, ctx, implicit_intercept=True, allow_blocks=False)
    terms = tuple(t for t in items if isinstance(t, Term) and not t.is_intercept)
    intercept = INTERCEPT in items
    if not intercept and not terms:
        raise ctx.error("this group term has no effects", group.span, "e.g. (1 | g) or (0 + x | g)")
    for term in terms:
        for factor in term.factors:
            if isinstance(factor, Call) and FUNCTIONS[factor.func].role is Role.OFFSET:
                raise ctx.error("offset() cannot vary by group", factor.span)
    groupings = expand_sum(group.grouping, ctx, implicit_intercept=False, allow_blocks=False)
    blocks: list[Block] = []
    for grouping in groupings:
        assert isinstance(grouping, Term)
        if grouping.is_intercept:
            raise ctx.error(
                "a grouping must name columns", group.grouping.span, "e.g. (1 | g) or (1 | g1:g2)"
            )
        for factor in grouping.factors:
            if not isinstance(factor, Name):
                raise ctx.error(
                    "a grouping factor must be a column name",
                    factor.span,
                    "make the grouping column first; functions are not allowed after '|'",
                )
        blocks.append(Block(intercept, terms, grouping, group.correlated, span=group.span))
    return blocks


# ---------------------------------------------------------------------------------------------------
# Pass 5: canonical order, and pass 6: block overlap.


def canonical_order(terms: Iterable[Term]) -> tuple[Term, ...]:
    """Order terms by degree, then first appearance (a stable sort), as R's ``terms()`` does.

    ``y ~ a:b + c + a`` prints as ``y ~ 1 + c + a + a:b``.

    The factors inside a term keep the order in which they were written or generated (the left
    operand's factors first), and of two spellings of one term (``a:b``, ``b:a``) the first wins. So
    ``(a+b):(c+d)`` prints ``a:c + a:d + b:c + b:d`` and ``y ~ b:a + a`` prints ``y ~ 1 + a + b:a``,
    the labels R gives. Printing is a fixed point: each term is printed once, in its own order, and
    reads back in that order. R itself sorts a term's factors by their first appearance in the
    formula, which is not a fixed point: R's text for ``(a+b):(c+d)`` read back labels ``b:c`` as
    ``c:b``. (Where the orders differ: ``y ~ b + a:b`` prints ``a:b`` here, ``b:a`` in R.)
    """
    return tuple(sorted(terms, key=lambda t: t.degree))


def check_blocks(blocks: list[Block], ctx: Context) -> None:
    """The same effect in two blocks of one grouping is an error, not a silent duplicate.

    ``(1 | g) + (1 + x | g)`` has two intercepts for g (unidentified); ``(1 | g) + (0 + x | g)`` is
    fine: it is the lme4 way to write independent intercept and slope.
    """
    for i, first in enumerate(blocks):
        for second in blocks[i + 1 :]:
            if first.grouping != second.grouping:
                continue
            shared = [t for t in first.terms if t in second.terms]
            if first.intercept and second.intercept:
                shared.insert(0, INTERCEPT)
            if shared:
                what = "the intercept" if shared[0].is_intercept else f"the term {shared[0]}"
                raise ctx.error(
                    f"{what} varies by {first.grouping} in two group terms",
                    second.span,
                    f"merge them into one block, e.g. {first}, or use 0 + … in one of them",
                )


def _expand_formula(syntax: FormulaSyntax, ctx: Context, *, distributional: bool) -> Formula:
    if syntax.lhs is not None:
        for part in (syntax.lhs.value, *syntax.lhs.additions):
            check_literals(part, ctx)
        check_response(syntax.lhs, ctx, distributional=distributional)
    check_literals(syntax.rhs, ctx)
    check_calls(syntax.rhs, ctx)
    items = expand_sum(syntax.rhs, ctx, implicit_intercept=True, allow_blocks=True)

    population: list[Term] = []
    offsets: list[Call] = []
    for item in items:
        if not isinstance(item, Term) or item.is_intercept:
            continue
        offset = next((f for f in item.factors if isinstance(f, Call) and f.func == "offset"), None)
        if offset is None:
            population.append(item)
        elif item.degree > 1:
            raise ctx.error("offset() cannot be part of an interaction", item.span)
        else:
            offsets.append(offset)
    ordered_blocks = [
        replace(b, terms=canonical_order(b.terms)) for b in items if isinstance(b, Block)
    ]
    check_blocks(ordered_blocks, ctx)
    return Formula(
        response=syntax.lhs,
        intercept=INTERCEPT in items,
        terms=canonical_order(population),
        offsets=tuple(offsets),
        blocks=tuple(ordered_blocks),
        span=syntax.span,
    )


def expand(tree: SyntaxTree) -> ModelFormula:
    """Apply every pass to every formula of ``tree``.

    The first formula is the response's; later ones are distributional (``sigma ~ …``): their left side
    is a parameter name, each named once.
    """
    ctx = Context(tree.text)
    formulas: list[Formula] = []
    seen: set[str] = set()
    for index, syntax in enumerate(tree.formulas):
        distributional = index > 0
        if distributional and syntax.lhs is None:
            raise ctx.error(
                "only the first formula may be one-sided",
                syntax.span,
                "name the distributional parameter: sigma ~ …",
            )
        formula = _expand_formula(syntax, ctx, distributional=distributional)
        if distributional:
            name = formula.lhs_name or ""
            if name in seen:
                raise ctx.error(
                    f"two formulas for {name!r}", syntax.lhs.span if syntax.lhs else None
                )
            seen.add(name)
        formulas.append(formula)
    return ModelFormula(tuple(formulas), text=tree.text, syntax=tree)
