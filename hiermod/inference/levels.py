"""The levels of the rows to predict: the ``new_levels`` policy, the level tables extended by unseen
levels, and the labels of the level dims of the rows' model.

A level of new data is matched to the training levels exactly, then by its text when only one level
has that text (:func:`hiermod.data.runtime.level_codes`): ``Subject="308"`` is the subject 308 of an
integer column; ``"hennepin"`` is not ``"HENNEPIN"`` (case is never folded). A level that matches
none is *unseen*, and ``new_levels`` says what happens:

- ``"error"`` (the default, as brms's ``allow_new_levels = FALSE`` and Bambi's
  ``sample_new_groups=False``): an :class:`~hiermod.errors.UnseenLevelError` naming the grouping,
  the first unseen levels and their count, and the closest existing level (``did you mean
  'HENNEPIN'?``);
- ``"population"``: each unseen level (or unseen cell of an ``observed`` grouping interaction) is
  appended to its level table, and its effects are drawn from the population distribution, one draw
  per level and posterior draw (brms's ``sample_new_levels = "gaussian"``). Unseen values take the
  type of their table first (:func:`hiermod.data.levels.as_table_type`): ``7`` and ``"7"`` are one
  new level of an integer column, two of a column that holds both 1 and "1".

In the ``dense`` layout a new combination of known levels is not unseen: its parameter exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Literal

import numpy as np
import pandas as pd

from hiermod.data.design import BlockDesign, Design, GroupingSchema, Level, Schema
from hiermod.data.grouping_by import of_levels
from hiermod.data.levels import as_table_type, listing, suggestion
from hiermod.data.runtime import level_codes
from hiermod.errors import DataError, UnseenLevelError
from hiermod.plan.ir import BlockIR, ModelIR

__all__ = [
    "NEW_LEVELS",
    "NewLevels",
    "by_codes",
    "by_filled",
    "check_levels",
    "extended_schema",
    "level_coords",
]

NewLevels = Literal["error", "population"]
NEW_LEVELS: tuple[NewLevels, ...] = ("error", "population")


def _unseen_rows(block: BlockIR, bd: BlockDesign) -> np.ndarray:
    """The rows whose level (cell) has no parameter in the fit: a mask."""
    if block.layout == "single":
        return bd.codes[0] < 0
    if block.layout == "observed":
        return bd.cell < 0
    unseen: np.ndarray = (np.stack(bd.codes) < 0).any(axis=0)  # dense: a new level of a factor
    return unseen


def _unseen_error(
    block: BlockIR, bd: BlockDesign, rows: np.ndarray, frame: pd.DataFrame
) -> UnseenLevelError:
    """The error for the ``rows`` of ``block`` that have no parameter: per grouping factor its
    unseen values, or (known levels only) the unseen combinations of an ``observed`` interaction."""
    grouping = bd.grouping
    parts, hints = [], []
    for factor, code, levels in zip(grouping.factors, bd.codes, grouping.levels, strict=True):
        new = code < 0
        if new.any():
            values = frame[factor].to_numpy(dtype=object)[new].tolist()
            count = len(dict.fromkeys(values))
            plural = "s" * (count != 1)
            parts.append(
                f"{count} level{plural} of {factor!r} the fit never saw: {listing(values)} "
                f"({int(new.sum())} row{'s' * (int(new.sum()) != 1)})"
            )
            hint = suggestion(values, levels)
            hints += [hint] if hint else []
    if not parts:  # an observed interaction: every level known, the combination new
        columns = [frame[f].to_numpy(dtype=object)[rows] for f in grouping.factors]
        values = [":".join(str(v) for v in row) for row in zip(*columns, strict=True)]
        count = len(dict.fromkeys(values))
        parts.append(
            f"{count} combination{'s' * (count != 1)} of {':'.join(grouping.factors)} the fit never "
            f"saw: {listing(values)} ({int(rows.sum())} row{'s' * (int(rows.sum()) != 1)})"
        )
    hints.append(
        'levels match exactly, case included (the text "308" also finds the number 308); pass '
        "new_levels='population' to draw the effects of new levels from the population distribution"
    )
    return UnseenLevelError(f"{block.block} has {'; '.join(parts)}", hint="; ".join(hints))


def check_levels(
    ir: ModelIR, design: Design, frame: pd.DataFrame, left_out: frozenset[str]
) -> None:
    """``new_levels="error"``: raise for the first block (not ``left_out``) with an unseen level;
    ``frame`` holds the design's rows."""
    for predictor in ir.predictors:
        fd = design.dpar(predictor.dpar)
        assert fd is not None
        for block, bd in zip(predictor.blocks, fd.blocks, strict=True):
            if str(block.block.grouping) in left_out:
                continue
            unseen = _unseen_rows(block, bd)
            if unseen.any():
                raise _unseen_error(block, bd, unseen, frame)


def extended_schema(schema: Schema, design: Design, frame: pd.DataFrame) -> Schema:
    """The schema with every unseen level of a grouping factor, and every unseen cell of a grouping,
    appended after the training ones (in order of first appearance in the rows); ``frame`` holds
    the design's rows. E.g. levels (308, 309) and rows 310, "310", 311 give (308, 309, 310, 311)."""
    levels: dict[str, tuple[Level, ...]] = dict(schema.factor_levels)
    codes: dict[str, np.ndarray] = {}  # each grouping factor's codes in the extended table
    cells: dict[tuple[str, ...], np.ndarray] = {}  # each grouping's rows' cells (-1: unseen)
    for grouping, grouping_codes, cell in _groupings(design):
        cells.setdefault(grouping.factors, cell)
        for factor, code in zip(grouping.factors, grouping_codes, strict=True):
            if factor in codes:
                continue
            unseen = code < 0
            if unseen.any():
                raw, first = pd.factorize(frame[factor].to_numpy(dtype=object)[unseen])
                typed = as_table_type(np.asarray(first, dtype=object), levels[factor])
                ids, new = pd.factorize(typed)
                code = code.copy()
                code[unseen] = len(levels[factor]) + ids[raw]
                levels[factor] = (*levels[factor], *np.asarray(new, dtype=object).tolist())
            codes[factor] = code
    groupings = dict(schema.groupings)
    for factors, cell in cells.items():
        grouping = schema.groupings[factors]
        table = grouping.cells
        unseen = cell < 0
        if unseen.any():
            rows = pd.MultiIndex.from_arrays([codes[f][unseen] for f in factors])
            added = np.asarray(rows.unique().tolist(), dtype=np.int64).reshape(-1, len(factors))
            table = np.vstack([table, added])
        groupings[factors] = GroupingSchema(factors, tuple(levels[f] for f in factors), table)
    return replace(schema, factor_levels=levels, groupings=groupings)


def _groupings(
    design: Design,
) -> Iterator[tuple[GroupingSchema, tuple[np.ndarray, ...], np.ndarray]]:
    """Every block's grouping with the rows' codes and cells, and a ``gr(g, by = f)`` block's
    grouping ``g:f`` too (a new level of g is appended with its level of f)."""
    for bd in (bd for fd in design.formulas for bd in fd.blocks):
        yield bd.grouping, bd.codes, bd.cell
        if bd.by is not None:
            yield bd.by.grouping, bd.by.codes, bd.by.cell


def by_codes(block: BlockIR, bd: BlockDesign, n_by: int) -> np.ndarray:
    """``gr(g, by = f)``: each (possibly new) level's code of f, which the fit must know (its sd
    is the sd of that level of f; the fit's levels of f are the first ``n_by``)."""
    assert bd.by is not None
    codes = bd.by.of_level
    if (codes >= n_by).any():
        f = bd.by.factor
        values = [bd.by.levels[c] for c in np.unique(codes[codes >= n_by])]
        raise UnseenLevelError(
            f"{block.block} has rows whose level of {f!r} the fit never saw: {listing(values)}; "
            f"a new level of {bd.grouping.factors[0]!r} takes the sd of its level of {f!r}, and "
            "these have none",
            hint=f"levels of {f!r} in the fit: {listing(list(bd.by.levels[:n_by]))}",
        )
    return codes


def by_filled(data: pd.DataFrame, schema: Schema, left_out: frozenset[str]) -> pd.DataFrame:
    """``data`` with an absent by column of ``gr(g, by = f)`` read off the fit: each row's level
    of f is its level of g's (the fit's pairs). A new level of g has no level of f to read: an
    error for a block that is predicted, f's first level for a left-out one (its effects are 0).
    E.g. ``(1 | gr(subject, by = arm))`` and rows with only ``subject``: ``arm`` as in the fit."""
    fill: dict[str, pd.Series] = {}
    for block in (b for f in schema.formula.formulas for b in f.blocks if b.by is not None):
        assert block.by is not None
        g, f = block.factors[0], block.by.name
        if f in data.columns or f in fill or g not in data.columns:
            continue
        pairs = schema.groupings[(g, f)]
        of_level = of_levels(pairs)
        codes = level_codes(data[g], pairs.levels[0])
        known = codes >= 0
        if not known.all() and str(block.grouping) not in left_out:
            new = data[g][~known].tolist()
            raise DataError(
                f"{block} needs the column {f!r} for the levels of {g!r} the fit never saw "
                f"({listing(new)}): a new level takes the sd of its level of {f!r}",
                hint=f"add the column {f!r} to the new data",
            )
        levels = pairs.levels[1]
        fill[f] = pd.Series(
            [levels[of_level[c]] if c >= 0 else levels[0] for c in codes], index=data.index
        )
    return data.assign(**fill) if fill else data


def level_coords(block: BlockIR, bd: BlockDesign) -> dict[str, tuple[object, ...]]:
    """The labels of the block's level dims from the design's (possibly extended) level tables:
    the training model's labels (:meth:`~hiermod.data.design.GroupingSchema.level_labels`)."""
    grouping = bd.grouping
    if block.layout == "observed":
        return {block.level_dims[0]: grouping.cell_labels()}
    return dict(zip(block.level_dims, grouping.level_labels(), strict=True))
