"""``prepare``'s codes of brms's monotonic effect ``mo(x)``: each row's category 0..D.

The categories are the schema's (``Schema.columns["mo(x)"]``, :mod:`hiermod.data.monotonic`),
written as a module-level constant; the codes come from
:func:`~hiermod.data.runtime.monotonic_codes`, copied into the module::

    # Categories 0..D of mo(x), in order (code k is the k-th)
    X_MO_LEVELS = (2, 3, 4, 5)
    ...
        "x_code": monotonic_codes(df["x"], X_MO_LEVELS),
"""

from __future__ import annotations

from typing import Protocol

from hiermod.data.design import Schema
from hiermod.formula.syntax import Call, Name
from hiermod.formula.terms import Formula
from hiermod.output.codegen import Code, EmitError, Subscript, call, literal, tuple_of
from hiermod.plan.ir import PredictorIR
from hiermod.plan.names import identifier

__all__ = ["monotonic_containers"]


class _Prepare(Protocol):  # hiermod.output.source_data.DataEmitter
    schema: Schema

    def constant(self, wanted: str, value: Code, note: str = "") -> str: ...

    def helper(self, name: str) -> str: ...


def _column(formula: Formula, term: str) -> str:
    """The column ``mo(x)`` reads (``x``)."""
    for t in formula.terms:
        (factor, *rest) = t.factors
        if not rest and isinstance(factor, Call) and str(factor) == term:
            node = factor.args[0] if factor.args else factor.kwargs[0].value
            if isinstance(node, Name):
                return node.name
    raise EmitError(f"{term} is not a term of {formula}")  # pragma: no cover - design changed


def monotonic_containers(
    out: _Prepare, predictor: PredictorIR, formula: Formula
) -> dict[str, Code]:
    """The code of each ``mo(x)`` codes container of ``predictor``."""
    values: dict[str, Code] = {}
    for term in predictor.monotonic:
        column = _column(formula, term.term)
        levels = out.schema.columns[term.term].levels
        table = out.constant(
            f"{identifier(column)}_MO_LEVELS",
            tuple_of(literal(v) for v in levels),
            f"Categories 0..D of {term.term}, in order (code k is the k-th)",
        )
        values[term.codes] = call(
            out.helper("monotonic_codes"), Subscript("df", literal(column)), table
        )
    return values
