"""The ``prepare`` code of a tensor-product smooth ``t2(x, z)`` (:mod:`hiermod.data.tensor`): each
margin's stored basis evaluated by :func:`~hiermod.data.runtime.cubic_basis` (``cr``, ``cc``) or
:func:`~hiermod.data.runtime.tprs_basis` (``tp``), their products by
:func:`~hiermod.data.runtime.tensor_basis`; the tables are module-level constants."""

from __future__ import annotations

from typing import Any

from hiermod.formula.syntax import Call
from hiermod.formula.tensor import MARGINS
from hiermod.output.codegen import Code, call, literal, tuple_of
from hiermod.output.source_smooth_data import _table
from hiermod.plan.names import identifier

__all__ = ["tensor_code", "tensor_note"]


def tensor_code(out: Any, node: Call, columns: list[str]) -> tuple[Code, int]:
    """The call evaluating ``t2(…)``'s stored basis at ``columns`` (one code per margin), and its
    number of unpenalised columns (``out`` is :mod:`hiermod.output.source_data`'s
    ``_PrepareCode``)."""
    state, stem = out.schema.transforms[str(node)], identifier(str(node))
    kinds, parts = state.get("margins"), state.get("parts")
    margins = []
    for j, (column, kind, part) in enumerate(zip(columns, kinds, parts, strict=True)):
        what = f"{node}, margin {j + 1} ({node.args[j]}): the {MARGINS[kind]} fitted on the data"
        name = f"{stem}_{j + 1}"
        if kind == "tp":
            shift = _table(out, f"{name}_SHIFT", part[0], f"{what}: the column's mean")
            sites = _table(out, f"{name}_SITES", part[1], f"{what}: the centred sites")
            radial = _table(out, f"{name}_RADIAL", part[2], f"{what}: a row per site")
            poly = _table(out, f"{name}_POLY", part[3], f"{what}: rows 1, x")
            margins.append(call(out.helper("tprs_basis"), column, shift, sites, radial, poly))
            continue
        knot = _table(out, f"{stem}_KNOTS_{j + 1}", part[0], f"{what}: its knots")
        coef = _table(out, f"{stem}_COEFS_{j + 1}", part[1], f"{what}: the cubic of each interval")
        margins.append(call(out.helper("cubic_basis"), column, knot, coef, literal(kind == "cc")))
    null = _table(
        out, f"{stem}_NULL", state.get("null"), f"{node}: the unpenalised columns, from null-null"
    )
    ranks = literal(tuple(int(r) for r in state.get("ranks")))
    value = call(out.helper("tensor_basis"), tuple_of(margins), ranks, null)
    return value, int(state.get("fixed"))


def tensor_note(term: str, state: Any, penalty: int, level: str = "") -> str:
    """What penalised block ``penalty`` (1, 2, …) of ``t2(…)`` is, for the source's comment:
    ``t2(x, z)``'s second is the product of x's null space and z's penalised part; with a by,
    which (``level``: the by's name and the level, ``fa``)."""
    kinds, columns = tuple(state.get("margins")), tuple(state.get("columns"))
    parts: list[list[str]] = [[]]
    for column, kind in zip(columns, kinds, strict=True):
        null = "constant" if kind == "cc" else "linear"
        parts = [[*p, f"{column}'s {part}"] for part in ("penalised", null) for p in parts]
    margins = ", ".join(f"{c}: {MARGINS[k]}" for c, k in zip(columns, kinds, strict=True))
    fixed, values = int(state.get("fixed")), dict(state.values)
    free = f"; {fixed} unpenalised columns in X" if penalty == 1 and fixed else ""
    by = str(values.get("by", ""))
    if values.get("by_numeric"):
        free += f"; times {by}"
    elif by:
        free += f"; one smooth per level of {by}, this one of level {level[len(by) :]}"
    return (
        f"{term}: brms's tensor-product smooth (mgcv's t2, in brms's mixed-model form; "
        f"{margins}{free}), penalty {penalty} of {len(parts) - 1}, the product of "
        f"{' and '.join(parts[penalty - 1])} parts"
    )
