"""Syntax tree → canonical term set: the formula algebra as small named passes over nodes.

Every rule follows R (Wilkinson & Rogers 1973; Chambers & Hastie 1992, "Statistical Models in S", §2.3)
for population terms, lme4 for ``|`` blocks and brms for ``||`` and distributional formulas. Each rule
has a worked example next to its code. Nothing here looks at data.

Passes, in order (see :func:`expand`):

1. :func:`~hiermod.formula.checks.check_literals` and :func:`~hiermod.formula.checks.check_calls` —
   names and numbers print back to themselves; every call is on the allow-list with a valid
   signature (no ``eval`` ever);
2. :func:`~hiermod.formula.response_checks.check_response` — the left-hand side and its brms addition terms
   (passes 1 and 2 live in :mod:`hiermod.formula.checks`);
3. :func:`expand_sum` — ``+ - 0 1 : * / %in% ^`` as R's ``terms()`` (the rules are in
   :mod:`hiermod.formula.algebra`);
4. :func:`expand_block` — ``(e | g)``, ``(e || g)`` and grouping expressions ``g1/g2``, ``g1+g2``, ``g1*g2``;
5. :func:`canonical_order` — population terms by degree then first appearance, factors within a term in
   the order they were written, so that ``str`` is canonical and parses back to itself;
6. :func:`check_blocks` — one effect never appears in two blocks of the same grouping; the response
   is not a predictor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from hiermod.formula.algebra import INTERCEPT, Expansion
from hiermod.formula.block_ids import block_id, check_ids, merge_same_id
from hiermod.formula.checks import Context, check_calls, check_literals
from hiermod.formula.functions import FUNCTIONS, Role
from hiermod.formula.gr import unwrap_gr
from hiermod.formula.monotonic import check_monotonic
from hiermod.formula.response_checks import check_response
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

__all__ = ["expand", "expand_block", "expand_sum"]

# ---------------------------------------------------------------------------------------------------
# Pass 3: sums and products (population terms), in hiermod.formula.algebra.


def expand_sum(
    node: FormulaNode, ctx: Context, *, implicit_intercept: bool, strict: bool = True
) -> tuple[bool, list[Term | Block]]:
    """Expand a formula's right side: (intercept, ordered terms and blocks).

    Intercept rules (R): a formula starts with an implicit intercept; ``1`` adds it, ``0`` and ``-1``
    remove it, ``-0`` adds it back; the last word wins::

        y ~ x          ->  y ~ 1 + x        y ~ 0 + x   ->  y ~ 0 + x
        y ~ x - 1      ->  y ~ 0 + x        y ~ -1 + x  ->  y ~ 0 + x
        y ~ 0 + 1 + x  ->  y ~ 1 + x

    Removal: ``a*b - a`` is ``b + a:b``; ``x + (1|g) - (1|g)`` is ``x``; inside parentheses only
    within them: ``a + (b - a)`` is ``a + b``. Duplicates are dropped: ``a + b + a`` is ``a + b`` and
    ``a:b + b:a`` is ``a:b``. See :class:`~hiermod.formula.algebra.Expansion` for the whole rule.
    """
    expansion = Expansion(
        ctx,
        intercept=implicit_intercept,
        strict=strict,
        expand_group=lambda group: expand_block(group, ctx, strict=strict),
    )
    items = expansion.top(node)
    return expansion.intercept, items


# ---------------------------------------------------------------------------------------------------
# Pass 4: group blocks.


_SUPPORTED_STRUCTURES = {"us": "(x | g)", "diag": "(x || g)"}


def expand_block(group: GroupTerm, ctx: Context, *, strict: bool = True) -> list[Block]:
    """``(e | grouping)`` → one block per grouping term (lme4), implicit intercept as in R.

    * ``(x | g)`` is ``(1 + x | g)``; ``(0 + x | g)`` keeps no intercept;
    * ``(e | g1:g2)`` is one block over the (g1, g2) cells;
    * ``(e | g1/g2)`` is ``(e | g1) + (e | g1:g2)``; ``(e | g1/g2/g3)`` adds ``(e | g1:g2:g3)``;
    * ``(e | g1 + g2)`` is ``(e | g1) + (e | g2)``; ``(e | g1*g2)`` adds ``(e | g1:g2)``;
    * ``(e || g)`` is *one* block with independent effects (brms), not lme4's split into
      ``(1 | g) + (0 + x | g)``; ``(x1*x2 || id)`` is ``(1 + x1 + x2 + x1:x2 || id)``;
    * glmmTMB's ``us(e | g)`` is ``(e | g)`` and ``diag(e | g)`` is ``(e || g)``.
    """
    if group.structure is not None and group.structure not in _SUPPORTED_STRUCTURES:
        raise ctx.error(
            f"glmmTMB's {group.structure}() covariance structure is not supported",
            group.span,
            "hiermod has us(x | g), written (x | g) (correlated effects), and diag(x | g), "
            "written (x || g) (independent effects)",
        )
    effects = Expansion(ctx, intercept=True, strict=strict)
    items = effects.top(group.terms)
    terms = tuple(t for t in items if isinstance(t, Term))
    if not effects.intercept and not terms:
        raise ctx.error("this group term has no effects", group.span, "e.g. (1 | g) or (0 + x | g)")
    for term in terms:
        for factor in term.factors:
            if isinstance(factor, Call) and FUNCTIONS[factor.func].role is Role.OFFSET:
                raise ctx.error("offset() cannot vary by group", factor.span)
    number = _first_number(group.grouping)
    if number is not None:
        raise ctx.error(
            f"a grouping must name columns, not the number {number}",
            number.span,
            "e.g. (1 | g) or (1 | g1:g2); to pool nothing, leave the group term out",
        )
    grouping_terms = Expansion(ctx, intercept=False, strict=strict)
    groupings = grouping_terms.top(group.grouping)
    if not groupings:
        raise ctx.error(
            "a grouping must name columns", group.grouping.span, "e.g. (1 | g) or (1 | g1:g2)"
        )
    blocks: list[Block] = []
    the_id = block_id(group, ctx)
    for grouping in groupings:
        assert isinstance(grouping, Term)
        for factor in grouping.factors:
            if not isinstance(factor, Name):
                raise ctx.error(
                    "a grouping factor must be a column name",
                    factor.span,
                    "make the grouping column first; functions are not allowed after '|'",
                )
        blocks.append(
            Block(
                effects.intercept,
                terms,
                grouping,
                group.correlated,
                span=group.span,
                block_id=the_id,
                by=group.by,
            )
        )
    return blocks


def _first_number(node: FormulaNode) -> Number | None:
    """The first number in a grouping expression, if any: ``(1 | 3)``, ``(1 | g + 0)``."""
    stack: list[FormulaNode] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Number):
            return current
        if isinstance(current, BinaryOp):
            stack.extend((current.right, current.left))
        elif isinstance(current, (Negate, Paren)):
            stack.append(current.operand if isinstance(current, Negate) else current.inner)
    return None


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
    fine: it is the lme4 way to write independent intercept and slope. Blocks are compared only with
    the earlier blocks of their own grouping, so 2,000 ``(1 | g_i)`` terms cost 2,000 lookups.
    """
    by_grouping: dict[Term, list[Block]] = {}
    for second in blocks:
        earlier = by_grouping.setdefault(second.grouping, [])
        for first in earlier:
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
        earlier.append(second)


def _check_response_not_predictor(
    response: Name | Call, items: list[Term | Block], ctx: Context
) -> None:
    """``y ~ x + y`` is an error: R drops the response from the right side with a warning.

    lme4's ``cbind(s, f) ~ s`` is one too: its columns are the response.
    """
    responses: tuple[object, ...] = (response,)
    if isinstance(response, Call) and response.func == "cbind":
        responses = (response, *response.args)
    for item in items:
        factors = item.grouping.factors if isinstance(item, Block) else item.factors
        inner = [f for t in item.terms for f in t.factors] if isinstance(item, Block) else []
        for factor in (*factors, *inner):
            if factor in responses:
                raise ctx.error(
                    f"the response {factor} is also a predictor",
                    factor.span,
                    "a model cannot predict a column from itself; remove it from the right side",
                )


def _expand_formula(
    syntax: FormulaSyntax, ctx: Context, *, distributional: bool, strict: bool
) -> Formula:
    if syntax.lhs is not None:
        for part in (syntax.lhs.value, *syntax.lhs.additions):
            check_literals(part, ctx)
        check_response(syntax.lhs, ctx, distributional=distributional)
    rhs = unwrap_gr(syntax.rhs, ctx)  # brms's (e | gr(g, cor = FALSE)) is (e || g)
    check_literals(rhs, ctx)
    check_calls(rhs, ctx)
    intercept, items = expand_sum(rhs, ctx, implicit_intercept=True, strict=strict)
    if syntax.lhs is not None and not distributional:
        _check_response_not_predictor(syntax.lhs.value, items, ctx)
    check_monotonic(items, ctx)  # mo(x) alone: no interaction, no group block (yet)

    population: list[Term] = []
    offsets: list[Call] = []
    for item in items:
        if not isinstance(item, Term):
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
    ordered_blocks = merge_same_id(ordered_blocks)  # (1 | p | g) + (0 + x | p | g): one block
    return Formula(
        response=syntax.lhs,
        intercept=intercept,
        terms=canonical_order(population),
        offsets=tuple(offsets),
        blocks=tuple(ordered_blocks),
        span=syntax.span,
    )


def expand(tree: SyntaxTree, *, strict: bool = True) -> ModelFormula:
    """Apply every pass to every formula of ``tree``.

    The first formula is the response's; later ones are distributional (``sigma ~ …``): their left side
    is a parameter name, each named once. ``strict=False`` drops the one check R does not make, that
    a removal removes something (see :class:`~hiermod.formula.algebra.Expansion`): the differential test against R uses it.
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
        formula = _expand_formula(syntax, ctx, distributional=distributional, strict=strict)
        if distributional:
            name = formula.lhs_name or ""
            if name in seen:
                raise ctx.error(
                    f"two formulas for {name!r}", syntax.lhs.span if syntax.lhs else None
                )
            seen.add(name)
        formulas.append(formula)
    check_ids(formulas, ctx)
    return ModelFormula(tuple(formulas), text=tree.text, syntax=tree)
