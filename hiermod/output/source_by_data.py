"""``prepare``'s code of a ``gr(g, by = f)`` block's ``g_by_idx`` (:mod:`hiermod.plan.block_by`):
each level of ``g``'s code of ``f``, a module-level constant of the training data's levels."""

from __future__ import annotations

from typing import Protocol

from hiermod.data.design import Schema
from hiermod.data.grouping_by import of_levels
from hiermod.output.codegen import Code, call, tuple_of
from hiermod.plan.ir import BlockIR, PredictorIR
from hiermod.plan.names import identifier

__all__ = ["by_containers"]


class _Constants(Protocol):  # hiermod.output.source_data._PrepareCode
    def constant(self, wanted: str, value: Code, note: str = "") -> str: ...


def by_codes(out: _Constants, schema: Schema, block: BlockIR) -> Code:
    """``prepare``'s code of ``g_by_idx``: a module constant, each level of g's code of f (the
    levels are the training data's: new levels of g are an error in the exported module)."""
    g, f = block.block.factors[0], block.block.by
    assert f is not None
    codes = of_levels(schema.groupings[(g, f.name)])
    table = out.constant(
        f"{identifier(g)}_in_{identifier(f.name)}",
        tuple_of(str(int(c)) for c in codes),
        f"Each level of {g!r} in code order: the code of its level of {f.name!r} "
        f"(gr({g}, by = {f.name}))",
    )
    return call("np.array", table, dtype="np.int64")


def by_containers(out: _Constants, schema: Schema, predictor: PredictorIR) -> dict[str, Code]:
    """The ``g_by_idx`` container of each ``gr(g, by = f)`` block of ``predictor``."""
    return {b.by_index: by_codes(out, schema, b) for b in predictor.blocks if b.by_index}
