"""brms's ``gr()`` grouping: ``(1 + x | gr(g))`` is ``(1 + x | g)``; ``gr(g, cor = FALSE)`` is
``(1 + x || g)`` (one block, independent effects); ``gr(g, id = p)`` is brms's ``(1 + x | p | g)``
(:mod:`hiermod.formula.block_ids`). ``gr()`` takes one column (a call's arguments
cannot hold ``:``): the cells of two columns are ``(1 | g1:g2)``.

``gr(g, by = f)`` is brms's separate sd (and correlation) per level of the factor ``f``: each level
of ``g`` belongs to one level of ``f`` (checked on the data, :mod:`hiermod.data.grouping_by`), and
its effects have that level's sd and correlation. Example: ``(1 + x | gr(subject, by = arm))``
gives ``sd_subject`` over (arm, term): the subjects of arm a share one sd per effect, those of arm
b another. brms's other options are refused, each with a message: ``cov`` (a known
covariance between levels) and ``dist = "student"``. ``gr()`` stands alone after ``|``;
anywhere else it is an error (``checks.check_calls`` keeps the word for that case).

Example: ``y ~ x + (1 + x | gr(subject, cor = FALSE))`` expands exactly as
``y ~ x + (1 + x || subject)``, and prints that way.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace
from typing import Any

from hiermod.formula.checks import Context
from hiermod.formula.syntax import Call, GroupTerm, Keyword, Name, Number

__all__ = ["unwrap_gr"]

_NOT_YET = {
    "cov": "a known covariance between the levels is not supported",
    "dist": "group effects other than normal are not supported",
}


def unwrap_gr(node: Any, ctx: Context) -> Any:
    """``node`` (a syntax tree) with every ``(e | gr(g, …))`` written as the block it means."""
    if isinstance(node, GroupTerm):
        return _group(node, ctx)
    if isinstance(node, tuple):
        items = tuple(unwrap_gr(item, ctx) for item in node)
        return items if any(a is not b for a, b in zip(items, node, strict=True)) else node
    if not is_dataclass(node) or isinstance(node, type):
        return node
    changes = {}
    for field in fields(node):
        value = getattr(node, field.name)
        new = unwrap_gr(value, ctx)
        if new is not value:
            changes[field.name] = new
    return replace(node, **changes) if changes else node


def _group(group: GroupTerm, ctx: Context) -> GroupTerm:
    call = group.grouping
    if not (isinstance(call, Call) and call.func == "gr"):
        return group
    if len(call.args) != 1:
        raise ctx.error(
            f"gr() takes one grouping column, not {len(call.args)}",
            call.span,
            "for the cells of two columns write (1 | g1:g2)",
        )
    grouping = call.args[0]
    if not isinstance(grouping, Name):
        raise ctx.error("gr() takes a grouping column", grouping.span, "gr(g)")
    correlated = group.correlated
    block_id = group.block_id
    by: Name | None = None
    for keyword in call.kwargs:
        if keyword.name == "by":  # brms's gr(g, by = f)
            if not isinstance(keyword.value, Name):
                raise ctx.error(
                    "by of gr() is a categorical column", keyword.value.span or keyword.span
                )
            by = keyword.value
            continue
        if keyword.name == "id":  # brms's gr(g, id = p) is (… | p | g)
            if block_id is not None:
                raise ctx.error("the block has two IDs", keyword.span, "write (e | gr(g, id = p))")
            if not isinstance(keyword.value, Name | Number):
                raise ctx.error(
                    "the ID of a group term is a name or a whole number",
                    keyword.value.span or keyword.span,
                    "gr(g, id = p)",
                )
            block_id = keyword.value
            continue
        if keyword.name in _NOT_YET:
            raise ctx.error(f"gr(…, {keyword.name} = …): {_NOT_YET[keyword.name]}", keyword.span)
        if keyword.name != "cor":
            raise ctx.error(
                f"gr() has no argument {keyword.name!r}",
                keyword.span,
                "gr(g), gr(g, cor = FALSE), gr(g, id = p) or gr(g, by = f)",
            )
        correlated = correlated and _logical(keyword, ctx)
    if by is not None and block_id is not None:
        raise ctx.error(
            "a block with a by factor cannot share a block ID",
            by.span,
            "write the block without its ID, or without by",
        )
    if by is not None and by.name == grouping.name:
        raise ctx.error("by must be another column than the grouping", by.span)
    return replace(group, grouping=grouping, correlated=correlated, block_id=block_id, by=by)


def _logical(keyword: Keyword, ctx: Context) -> bool:
    """R's ``TRUE``/``FALSE`` (or ``T``/``F``, Python's ``True``/``False``)."""
    value = keyword.value
    if isinstance(value, Name) and value.name in ("TRUE", "T", "True", "FALSE", "F", "False"):
        return value.name in ("TRUE", "T", "True")
    raise ctx.error("cor must be TRUE or FALSE", keyword.value.span or keyword.span)
