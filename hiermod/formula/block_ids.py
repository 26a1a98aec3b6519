"""brms's block IDs: ``(1 + x | p | g)`` (or ``gr(g, id = p)``).

Blocks of one grouping that carry the same ID share one correlation matrix over all their effects,
also across formulas: ``y ~ x + (1 + x | p | g); sigma ~ (1 | p | g)`` has one LKJ correlation
over (Intercept, x, sigma_Intercept) of g, as brms's ``cor_1`` (the plan:
:mod:`hiermod.plan.block_ids`). Within one formula, same-ID blocks are one block
(:func:`merge_same_id`): ``(1 | p | g) + (0 + x | p | g)`` is ``(1 + x | p | g)``. One ID names one
grouping (:func:`check_ids`, brms's "Can only combine group-level terms of the same grouping
factors"); an ID correlates, so ``(x || p | g)`` is an error (:func:`block_id`).
"""

from __future__ import annotations

from dataclasses import replace

from hiermod.formula.checks import Context
from hiermod.formula.syntax import FormulaNode, GroupTerm, Name, Number
from hiermod.formula.terms import Block, Formula

__all__ = ["block_id", "check_ids", "merge_same_id"]


def block_id(group: GroupTerm, ctx: Context) -> str | None:
    """The ID of ``(e | ID | g)`` as text (a name or a whole number), or ``None``."""
    node: FormulaNode | None = group.block_id
    if node is None:
        return None
    if isinstance(node, Name):
        text = node.name
    elif isinstance(node, Number) and float(node.value).is_integer() and node.value >= 0:
        text = str(int(node.value))
    else:
        raise ctx.error(
            "the ID of a group term is a name or a whole number",
            getattr(node, "span", None) or group.span,
            "e.g. (1 + x | p | g), with the same p in each formula whose effects correlate",
        )
    if not group.correlated:
        raise ctx.error(
            f"the ID {text} correlates effects, but this block's are independent (||)",
            group.span,
            f"write (… | {text} | g) for correlated effects, or drop the ID: (… || g)",
        )
    return text


def merge_same_id(blocks: list[Block]) -> list[Block]:
    """Blocks with one ID and one grouping as one block (brms): ``(1 | p | g) + (0 + x | p | g)``
    is ``(1 + x | p | g)``, at the place of the first."""
    out: list[Block] = []
    first: dict[tuple[str, object], int] = {}
    for block in blocks:
        if block.block_id is None:
            out.append(block)
            continue
        key = (block.block_id, block.grouping)
        if key not in first:
            first[key] = len(out)
            out.append(block)
            continue
        kept = out[first[key]]
        out[first[key]] = replace(
            kept,
            intercept=kept.intercept or block.intercept,
            terms=(*kept.terms, *(t for t in block.terms if t not in kept.terms)),
        )
    return out


def check_ids(formulas: list[Formula], ctx: Context) -> None:
    """One ID names blocks of one grouping, in every formula."""
    seen: dict[str, Block] = {}
    for formula in formulas:
        for block in formula.blocks:
            if block.block_id is None:
                continue
            other = seen.setdefault(block.block_id, block)
            if other.grouping != block.grouping:
                raise ctx.error(
                    f"the ID {block.block_id} joins blocks of different groupings "
                    f"({other.grouping} and {block.grouping})",
                    block.span,
                    "brms: 'Can only combine group-level terms of the same grouping factors'; "
                    "give each grouping its own ID",
                )
