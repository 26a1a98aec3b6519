"""brms's ``gr(g, by = f)``: which level of ``f`` each level of ``g`` belongs to.

A block ``(1 + x | gr(g, by = f))`` has one sd per effect (and one correlation matrix) for each
level of ``f``; a level of ``g`` takes the sd of its level of ``f``, so every level of ``g`` must
lie within one level of ``f`` (``g`` nested in ``f``; brms: "Some levels of 'g' correspond to
multiple levels of 'f'"). The pairs are the observed cells of the grouping ``g:f``, kept in the
schema as any grouping's cells (so new data are checked against them and a new level of ``g`` is
appended with its level of ``f``). Example: subjects s1, s2 in arm a and s3 in arm b give
``of_level = [0, 0, 1]`` (codes of a, b); a row (s3, a) in new data is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from hiermod.data.design import ByDesign, GroupingSchema
from hiermod.data.levels import listing
from hiermod.errors import DataError, Span
from hiermod.formula.syntax import Name
from hiermod.formula.terms import Block, Term

__all__ = ["by_design", "by_grouping_block", "of_levels"]

Grouped = tuple[GroupingSchema, tuple[np.ndarray, ...], np.ndarray]


def by_grouping_block(block: Block) -> Block:
    """The pseudo-block whose grouping is ``g:f``: its cells pair each level of g with its f."""
    assert block.by is not None
    return replace(block, grouping=Term((*block.grouping.factors, block.by)), by=None)


def by_design(
    block: Block,
    grouped: Grouped,
    error: Callable[[str, Span | None, str | None], DataError],
    fit: bool,
) -> ByDesign:
    """Each level of the block's grouping with its level of the by factor, checked to be one
    (``fit``: in the training data; else new rows checked against the fit's pairs)."""
    assert block.by is not None
    grouping, codes, cell = grouped
    g_codes = grouping.cells[:, 0]
    n_levels = len(grouping.levels[0])
    counts = np.bincount(g_codes, minlength=n_levels)
    if (counts > 1).any():
        raise _not_nested(block, grouping, counts, error, fit)
    return ByDesign(block.by.name, grouping, codes, cell, of_levels(grouping))


def of_levels(grouping: GroupingSchema) -> np.ndarray:
    """Each level of g's code of f from the cells of ``g:f`` (-1 for a level in no cell)."""
    of_level = np.full(len(grouping.levels[0]), -1, dtype=np.int64)
    of_level[grouping.cells[:, 0]] = grouping.cells[:, 1]
    return of_level


def _not_nested(
    block: Block,
    grouping: GroupingSchema,
    counts: np.ndarray,
    error: Callable[[str, Span | None, str | None], DataError],
    fit: bool,
) -> DataError:
    """``g`` not within ``f``: name the first level of g in two levels of f (new data: the fit's
    level first, as the extended cells list the fit's pairs before the new ones)."""
    g, f = grouping.factors
    first = int(np.flatnonzero(counts > 1)[0])
    g_levels, f_levels = grouping.levels
    theirs = [f_levels[c] for c in grouping.cells[grouping.cells[:, 0] == first, 1]]
    many = int((counts > 1).sum())
    rule = f"gr({g}, by = {f}) gives each level of {f!r} its own sd"
    assert isinstance(block.by, Name)
    if not fit:
        return error(
            f"{g_levels[first]!r} is in {theirs[0]!r} of {f!r} in the fit, and in "
            f"{listing(theirs[1:])} in these rows: {rule}, and a level of {g!r} keeps its level "
            f"of {f!r}",
            block.by.span,
            f"correct the {f!r} column of the new rows",
        )
    return error(
        f"{many} level{'s' * (many != 1)} of {g!r} {'belong' if many != 1 else 'belongs'} to "
        f"more than one level of {f!r} (e.g. {g_levels[first]!r} is in {listing(theirs)}): "
        f"{rule}, so each level of {g!r} must lie within one level of {f!r}",
        block.by.span,
        f"group by the cells instead, (… | {f}:{g}), or check the {f!r} column",
    )
