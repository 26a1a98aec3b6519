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

from dataclasses import replace
from typing import Literal

import numpy as np
import pandas as pd

from hiermod.data.design import BlockDesign, Design, GroupingSchema, Level, Schema
from hiermod.data.levels import as_table_type, listing, suggestion
from hiermod.errors import UnseenLevelError
from hiermod.plan.ir import BlockIR, ModelIR

__all__ = ["NEW_LEVELS", "NewLevels", "check_levels", "extended_schema", "level_coords"]

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
    for bd in (bd for fd in design.formulas for bd in fd.blocks):
        cells.setdefault(bd.grouping.factors, bd.cell)
        for factor, code in zip(bd.grouping.factors, bd.codes, strict=True):
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


def level_coords(block: BlockIR, bd: BlockDesign) -> dict[str, tuple[object, ...]]:
    """The labels of the block's level dims from the design's (possibly extended) level tables:
    the training model's labels (:meth:`~hiermod.data.design.GroupingSchema.level_labels`)."""
    grouping = bd.grouping
    if block.layout == "observed":
        return {block.level_dims[0]: grouping.cell_labels()}
    return dict(zip(block.level_dims, grouping.level_labels(), strict=True))
