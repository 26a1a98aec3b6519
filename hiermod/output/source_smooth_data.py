"""The ``prepare`` code of a smooth ``s(x)``: its stored basis as module-level tables, evaluated by
:func:`~hiermod.data.runtime.tprs_basis` or :func:`~hiermod.data.runtime.cubic_basis`.

The tables (a thin-plate basis's sites and radial map: a row per site, at most mgcv's 2000) are
written between ``# fmt: off`` and ``# fmt: on``, one row per line, so a basis of 94 sites is 94
lines rather than one line per number as ruff would lay them out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hiermod.data.smooth import is_smooth
from hiermod.data.smooth import smooth_label as label_of
from hiermod.formula.smooths import BASES
from hiermod.formula.syntax import Call, Name
from hiermod.formula.terms import Formula
from hiermod.output.codegen import Code, call, comment, literal
from hiermod.plan.ir import PredictorIR
from hiermod.plan.names import identifier

__all__ = ["basis_code", "by_code", "containers", "labels", "smooth_call"]


def _rows(value: Any, depth: int) -> list[str]:
    """A nested tuple of floats, one innermost tuple per line (a flat one four to a line)."""
    pad = "    " * depth
    if all(isinstance(v, float) for v in value):
        if depth > 1:
            return [f"{pad}{literal(tuple(value))},"]
        chunks = [value[i : i + 4] for i in range(0, len(value), 4)]
        return [f"{pad}{', '.join(literal(v) for v in chunk)}," for chunk in chunks]
    inner = [line for v in value for line in _rows(v, depth + 1)]
    return inner if depth == 1 else [f"{pad}(", *inner, f"{pad}),"]


def _table(out: Any, wanted: str, value: Any, note: str) -> str:
    """A module-level constant written compactly between ``# fmt: off`` and ``# fmt: on``
    (``out`` is :mod:`hiermod.output.source_data`'s ``_PrepareCode``)."""
    key = (wanted, note)
    if key not in out._constants:
        name = out.names.claim(wanted.upper())
        out._constants[key] = name
        rows = _rows(value, 1)
        out.constants += [
            "",
            *comment(note, 0),
            "# fmt: off",
            f"{name} = (",
            *rows,
            ")",
            "# fmt: on",
        ]
    return str(out._constants[key])


def basis_code(out: Any, node: Call, x: str) -> tuple[Code, int]:
    """The call of the runtime function that evaluates ``s(x)``'s stored basis at ``x``, and its
    number of unpenalised columns; the constants are module-level tables (its ``by``:
    :func:`by_code`)."""
    assert is_smooth(node)
    state, stem = out.schema.transforms[str(node)], identifier(str(node))
    fixed, bs = int(state.get("fixed")), state.get("bs")
    what = f"{node}: the {BASES[bs]} fitted on the training data"
    if bs == "tp":
        shift = _table(out, f"{stem}_SHIFT", state.get("shift"), f"{what}: the covariates' means")
        sites = _table(out, f"{stem}_SITES", state.get("sites"), f"{node}: the centred sites")
        radial = _table(out, f"{stem}_RADIAL", state.get("radial"), f"{node}: a row per site")
        poly = _table(out, f"{stem}_POLY", state.get("poly"), f"{node}: rows 1, x, ..")
        basis = call(out.helper("tprs_basis"), x, shift, sites, radial, poly)
    else:
        knots = _table(out, f"{stem}_KNOTS", state.get("knots"), f"{what}: its knots")
        coefs = _table(
            out, f"{stem}_COEFS", state.get("coefs"), f"{node}: the cubic of each interval"
        )
        basis = call(out.helper("cubic_basis"), x, knots, coefs, literal(bs == "cc"))
    return basis, fixed


def by_code(
    out: Any, node: Call, basis: Code, fixed: int, operand: Callable[[Name], str]
) -> tuple[Code, int]:
    """``basis`` (of ``s()`` or ``t2()``, ``fixed`` unpenalised columns) with its ``by``: through
    ``smooth_by`` with f's codes (its level table a constant too) for a categorical f, times the
    column (``operand`` its code) for a numeric one."""
    by = node.keyword("by")
    if by is None:
        return basis, fixed
    assert isinstance(by.value, Name)
    values = dict(out.schema.transforms[str(node)].values)
    if values.get("by_numeric"):
        return call("np.multiply", basis, f"{operand(by.value)}[:, None]"), fixed
    levels = tuple(values.get("by_levels", ()))
    codes = out.codes(by.value.name, levels)
    value = call(out.helper("smooth_by"), basis, codes, str(len(levels)), str(fixed))
    return value, fixed * len(levels)


def labels(node: Call, k: int, schema: Any) -> list[str]:
    """The labels of a basis's ``k`` columns: ``poly(x, 2)[1]``; a smooth's as binding gives them
    (``s(x, by=f)[1]:f[a]``)."""
    if node.func not in ("s", "t2"):
        return [f"{node}[{j + 1}]" for j in range(k)]
    state = schema.transforms[str(node)]
    levels = tuple(dict(state.values).get("by_levels", ()))
    return [label_of(node, j, levels, int(state.get("fixed"))) for j in range(k)]


def smooth_call(formula: Formula, term: str) -> Call:
    """The ``s()`` call of ``formula`` whose text is ``term``."""
    found = (a for t in formula.terms for a in t.factors if is_smooth(a) and str(a) == term)
    return next(found)  # type: ignore[return-value]


def containers(numeric: Any, formula: Formula, predictor: PredictorIR) -> dict[str, str]:
    """The code of each smooth's penalised columns: a slice of its basis local (``numeric`` is
    :mod:`hiermod.output.source_data`'s ``_NumericCode``)."""
    out = {}
    for smooth in predictor.smooths:
        local, fixed = numeric.basis(smooth_call(formula, smooth.term))
        start, stop = smooth.columns
        block = smooth.level or smooth.term.startswith("t2(")  # a level's or a penalty's columns
        out[smooth.Z] = f"{local}[:, {start}:{stop}]" if block else f"{local}[:, {fixed}:]"
    return out
