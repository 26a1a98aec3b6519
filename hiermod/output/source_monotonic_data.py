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
from hiermod.formula.syntax import ArithNode, Call, Name
from hiermod.formula.terms import Atom, Formula
from hiermod.output.codegen import Code, EmitError, Subscript, literal, tuple_of
from hiermod.output.codegen import call as code
from hiermod.plan.ir import PredictorIR
from hiermod.plan.names import identifier

__all__ = ["monotonic_containers"]


class _Numeric(Protocol):  # hiermod.output.source_data._NumericCode
    def operand(self, atom: ArithNode) -> str: ...


class _Prepare(Protocol):  # hiermod.output.source_data.DataEmitter
    schema: Schema

    @property
    def numeric(self) -> _Numeric: ...

    def constant(self, wanted: str, value: Code, note: str = "") -> str: ...

    def helper(self, name: str) -> str: ...


def _factors(formula: Formula, text: str) -> tuple[Call, str, list[Atom]]:
    """The ``mo(x)`` call of the term ``text``, its column and the term's other factors."""
    for term in formula.terms:
        if str(term) == text:
            call = next(f for f in term.factors if isinstance(f, Call) and f.func == "mo")
            node = call.args[0] if call.args else call.kwargs[0].value
            if isinstance(node, Name):
                return call, node.name, [f for f in term.factors if f is not call]
    raise EmitError(f"{text} is not a term of {formula}")  # pragma: no cover - design changed


def monotonic_containers(
    out: _Prepare, predictor: PredictorIR, formula: Formula
) -> dict[str, Code]:
    """The code of each ``mo(x)`` codes container of ``predictor``."""
    values: dict[str, Code] = {}
    for term in predictor.monotonic:
        call, column, others = _factors(formula, term.term)
        levels = out.schema.columns[str(call)].levels
        table = out.constant(
            f"{identifier(column)}_MO_LEVELS",
            tuple_of(literal(v) for v in levels),
            f"Categories 0..D of {call}, in order (code k is the k-th)",
        )
        reader = out.helper("monotonic_codes")
        values[term.codes] = code(reader, Subscript("df", literal(column)), table)
        if term.covariate is not None:  # mo(x):z: z, the product of the other factors
            values[term.covariate] = " * ".join(out.numeric.operand(f) for f in others)
    return values
