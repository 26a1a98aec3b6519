"""The ``prepare`` code of a smooth ``s(x)``: its stored basis as module-level tables, evaluated by
:func:`~hiermod.data.runtime.tprs_basis` or :func:`~hiermod.data.runtime.cubic_basis`.

The tables (a thin-plate basis's sites and radial map: a row per site, at most mgcv's 2000) are
written between ``# fmt: off`` and ``# fmt: on``, one row per line, so a basis of 94 sites is 94
lines rather than one line per number as ruff would lay them out.
"""

from __future__ import annotations

from typing import Any

from hiermod.data.smooth import is_smooth
from hiermod.formula.smooths import BASES
from hiermod.formula.syntax import Call
from hiermod.formula.terms import Formula
from hiermod.output.codegen import Code, call, comment, literal
from hiermod.plan.names import identifier

__all__ = ["smooth_basis_code", "smooth_call", "smooth_penalised"]


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


def smooth_basis_code(out: Any, node: Call, x: str) -> tuple[Code, int]:
    """The call of the runtime function that evaluates ``s(x)``'s stored basis at ``x``, and its
    number of unpenalised columns; the constants are module-level tables."""
    assert is_smooth(node)
    state, stem = out.schema.transforms[str(node)], identifier(str(node))
    fixed, bs = int(state.get("fixed")), state.get("bs")
    what = f"{node}: the {BASES[bs]} fitted on the training data"
    if bs == "tp":
        location = _table(
            out, f"{stem}_LOCATION", state.get("location"), f"{what}: x's shift and scale"
        )
        sites = _table(out, f"{stem}_SITES", state.get("sites"), f"{node}: the standardised sites")
        radial = _table(out, f"{stem}_RADIAL", state.get("radial"), f"{node}: a row per site")
        affine = _table(out, f"{stem}_AFFINE", state.get("affine"), f"{node}: 1 and u rows")
        out.helper("tprs_basis")
        return call("tprs_basis", x, location, sites, radial, affine), fixed
    knots = _table(out, f"{stem}_KNOTS", state.get("knots"), f"{what}: its knots")
    coefs = _table(out, f"{stem}_COEFS", state.get("coefs"), f"{node}: the cubic of each interval")
    out.helper("cubic_basis")
    return call("cubic_basis", x, knots, coefs, literal(bs == "cc")), fixed


def smooth_call(formula: Formula, term: str) -> Call:
    """The ``s()`` call of ``formula`` whose text is ``term``."""
    found = (a for t in formula.terms for a in t.factors if is_smooth(a) and str(a) == term)
    return next(found)  # type: ignore[return-value]


def smooth_penalised(numeric: Any, formula: Formula, term: str) -> str:
    """The code of a smooth's penalised columns: its basis local after the unpenalised columns
    (``numeric`` is :mod:`hiermod.output.source_data`'s ``_NumericCode``)."""
    local, fixed = numeric.basis(smooth_call(formula, term))
    return f"{local}[:, {fixed}:]"
