"""Which columns a formula node reads: the data arguments of a call (not its options), and every
column a formula's right-hand sides name."""

from __future__ import annotations

from hiermod.formula.functions import FUNCTIONS
from hiermod.formula.syntax import (
    Arith,
    ArithNode,
    BinaryOp,
    Call,
    GroupTerm,
    Name,
    Negate,
    Paren,
    UnaryMinus,
)
from hiermod.formula.terms import ModelFormula

__all__ = ["argument", "data_names", "named_columns"]


def argument(call: Call, position: int, name: str) -> ArithNode | None:
    """The argument at ``position`` or given as ``name=``."""
    if len(call.args) > position:
        return call.args[position]
    kw = call.keyword(name)
    return kw.value if kw is not None else None


def data_names(node: object) -> list[Name]:
    """The column references a node reads, in order (options such as ``raw=TRUE``, ``ref="b"`` or
    the contrast of ``C(f, sum)`` are not columns; the data argument given as ``x=`` is, and both
    arguments of ``cbind(s, f)``)."""
    out: list[Name] = []
    if isinstance(node, Name):
        out.append(node)
    elif isinstance(node, Call):
        spec = FUNCTIONS.get(node.func)
        count, reading = (spec.data_arguments, spec.positional) if spec else (1, ("x",))
        for arg in node.args[:count]:
            out.extend(data_names(arg))
        for keyword in node.kwargs:  # the data arguments given by name: poly(x=z), trunc(lb=e)
            if keyword.name in (*reading[:count], *(spec.data_keywords if spec else ())):
                out.extend(data_names(keyword.value))
    elif isinstance(node, Arith):
        out.extend(data_names(node.left) + data_names(node.right))
    elif isinstance(node, UnaryMinus):
        out.extend(data_names(node.operand))
    return out


def named_columns(formula: ModelFormula) -> dict[str, Name]:
    """The columns the right-hand sides name, terms the algebra removes included: ``y ~ x + z - z``
    and ``y ~ x + z:1`` name z, which must exist (R's model.frame fails on it too; without this
    check a mistyped column would vanish without a word). Walked with a stack: sums are deep."""
    found: dict[str, Name] = {}
    stack: list[object] = [f.rhs for f in formula.syntax.formulas] if formula.syntax else []
    while stack:
        node = stack.pop()
        if isinstance(node, BinaryOp):
            stack += [node.right, node.left]
        elif isinstance(node, (Negate, Paren)):
            stack.append(node.operand if isinstance(node, Negate) else node.inner)
        elif isinstance(node, GroupTerm):
            stack += [node.grouping, node.terms]
        else:
            for name in data_names(node):
                found.setdefault(name.name, name)
    return found
