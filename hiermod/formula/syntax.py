"""Syntax nodes: the parsed formula before any algebra is applied.

Every node is a frozen, slotted dataclass compared by value; the ``span`` (where the node sits in the
formula text) is kept out of equality, hashing and ``repr`` so that ``parse("y ~ a+b")`` equals
``parse("y  ~  a + b")``. ``str(node)`` prints formula text.

Two families of nodes exist:

* formula algebra: :class:`Name`, :class:`Number`, :class:`Call`, :class:`BinaryOp` (``+ - * / : ^``),
  :class:`Negate` (leading ``-``), :class:`GroupTerm` (``(e | g)`` / ``(e || g)``), :class:`Paren`;
* arithmetic inside function calls: :class:`Arith` (``x + 1``, ``x**2``), :class:`UnaryMinus`,
  :class:`String`, plus :class:`Name`, :class:`Number` and nested :class:`Call`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from hiermod.errors import Span

__all__ = [
    "Arith",
    "ArithNode",
    "BinaryOp",
    "Call",
    "FormulaNode",
    "FormulaSyntax",
    "GroupTerm",
    "Keyword",
    "Name",
    "Negate",
    "Number",
    "Paren",
    "Response",
    "String",
    "SyntaxTree",
    "UnaryMinus",
    "arith_nodes",
    "format_name",
    "format_number",
    "quote",
]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def quote(text: str) -> str:
    """``text`` as a double-quoted formula string that reads back to itself: ``"a\\nb"``."""
    for char, escape in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\t", "\\t"), ("\r", "\\r")):
        text = text.replace(char, escape)
    return f'"{text}"'


def format_name(name: str) -> str:
    """Print a column name so that it reads back to itself.

    Bare when it is an identifier, else in backticks (`` `log.radon` ``); a name that a backtick
    cannot hold (a backtick or a line break in it) is a double-quoted string with escapes.
    """
    if _IDENTIFIER.match(name):
        return name
    if any(char in name for char in "`\n\r"):
        return quote(name)
    return f"`{name}`"


def format_number(value: float) -> str:
    """Print a number the way it would be typed: ``2`` not ``2.0``, ``0.5`` as is."""
    if float(value).is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(float(value))


def _span() -> Span | None:
    return field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Name:
    """A column reference: ``x``, `` `log.radon` `` or ``"log.radon"``."""

    name: str
    span: Span | None = _span()

    def __str__(self) -> str:
        return format_name(self.name)


@dataclass(frozen=True, slots=True)
class Number:
    """A numeric literal: ``1``, ``0``, ``2.5``."""

    value: float
    span: Span | None = _span()

    def __str__(self) -> str:
        return format_number(self.value)


@dataclass(frozen=True, slots=True)
class String:
    """A string literal, only meaningful as a function argument: ``C(f, ref="b")``."""

    value: str
    span: Span | None = _span()

    def __str__(self) -> str:
        return quote(self.value)


@dataclass(frozen=True, slots=True)
class Keyword:
    """A keyword argument ``name=value`` of a function call."""

    name: str
    value: ArithNode
    span: Span | None = _span()

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


# Binding strength of arithmetic operators, for printing with the fewest parentheses.
_ARITH_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "**": 4}


@dataclass(frozen=True, slots=True)
class Arith:
    """Binary arithmetic inside a call: ``x + 1``, ``x**2`` (``^`` is read as ``**``)."""

    op: str
    left: ArithNode
    right: ArithNode
    span: Span | None = _span()

    def __str__(self) -> str:
        mine = _ARITH_PRECEDENCE[self.op]
        # ** is right-associative: a**b**c == a**(b**c); the others are left-associative.
        left_needs = _arith_precedence(self.left) < mine or (
            self.op == "**" and _arith_precedence(self.left) == mine
        )
        # The left-associative operators need parentheses around a right operand of the same
        # precedence, or the text reads back as a different tree: a - (b - c), and also
        # a * (b / c), which would otherwise print as a * b / c and parse as (a * b) / c.
        # The exponent of ** may be a negation without parentheses: 2**-x.
        right_needs = (
            _arith_precedence(self.right) < 3
            if self.op == "**"
            else _arith_precedence(self.right) <= mine
        )
        left = f"({self.left})" if left_needs else str(self.left)
        right = f"({self.right})" if right_needs else str(self.right)
        return f"{left}**{right}" if self.op == "**" else f"{left} {self.op} {right}"


@dataclass(frozen=True, slots=True)
class UnaryMinus:
    """Arithmetic negation inside a call: ``-x``."""

    operand: ArithNode
    span: Span | None = _span()

    def __str__(self) -> str:
        # -x**2 is -(x**2) and --x is -(-x), so only + - * / operands need parentheses.
        inner = str(self.operand)
        return f"-({inner})" if _arith_precedence(self.operand) < 3 else f"-{inner}"


def arith_nodes(node: ArithNode) -> Iterator[ArithNode]:
    """``node`` and every node of its arithmetic below it, depth first: operands of ``+ - * / **``,
    of a negation and a call's positional arguments (``log(x + 1)`` gives the call, ``x + 1``,
    ``x``, ``1``)."""
    stack: list[ArithNode] = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, Arith):
            stack.extend((current.right, current.left))
        elif isinstance(current, UnaryMinus):
            stack.append(current.operand)
        elif isinstance(current, Call):
            stack.extend(reversed(current.args))


def _arith_precedence(node: ArithNode) -> int:
    if isinstance(node, Arith):
        return _ARITH_PRECEDENCE[node.op]
    if isinstance(node, UnaryMinus):
        return 3
    return 5


@dataclass(frozen=True, slots=True)
class Call:
    """A function call from the allow-list: ``log(y)``, ``C(f, ref="b")``, ``bs(x, df=4)``."""

    func: str
    args: tuple[ArithNode, ...] = ()
    kwargs: tuple[Keyword, ...] = ()
    span: Span | None = _span()

    def __str__(self) -> str:
        inner = ", ".join([*(str(a) for a in self.args), *(str(k) for k in self.kwargs)])
        return f"{self.func}({inner})"

    def keyword(self, name: str) -> Keyword | None:
        """The keyword argument called ``name``, if given."""
        return next((k for k in self.kwargs if k.name == name), None)


@dataclass(frozen=True, slots=True)
class BinaryOp:
    """Formula algebra: ``a + b``, ``a - b``, ``a * b``, ``a / b``, ``a : b``, ``a ^ 2``, ``a %in% b``."""

    op: str
    left: FormulaNode
    right: FormulaNode
    span: Span | None = _span()

    def __str__(self) -> str:
        if self.op == ":":
            return f"{self.left}:{self.right}"
        if self.op == "^":
            return f"{self.left}^{self.right}"
        if self.op not in ("+", "-"):
            return f"{self.left} {self.op} {self.right}"
        # A long sum is a left-nested chain (((a + b) + c) + ...): walk it iteratively so that a
        # formula with thousands of terms prints without hitting the recursion limit.
        tail: list[str] = []
        node: FormulaNode = self
        while isinstance(node, BinaryOp) and node.op in ("+", "-"):
            tail.append(f" {node.op} {node.right}")
            node = node.left
        return str(node) + "".join(reversed(tail))


@dataclass(frozen=True, slots=True)
class Negate:
    """A leading minus in a formula: ``-1 + x``."""

    operand: FormulaNode
    span: Span | None = _span()

    def __str__(self) -> str:
        return f"-{self.operand}"


@dataclass(frozen=True, slots=True)
class Paren:
    """Parentheses in a formula, kept so that ``str`` reproduces the grouping that was typed."""

    inner: FormulaNode
    span: Span | None = _span()

    def __str__(self) -> str:
        return f"({self.inner})"


@dataclass(frozen=True, slots=True)
class GroupTerm:
    """A group-specific block ``(terms | grouping)``, or ``(terms || grouping)`` when uncorrelated.

    ``structure`` is glmmTMB's covariance name when the block was written that way: ``us(x | g)``
    (correlated) or ``diag(x | g)`` (uncorrelated); ``None`` for the lme4/brms spellings.
    """

    terms: FormulaNode
    grouping: FormulaNode
    correlated: bool = True
    structure: str | None = None
    block_id: FormulaNode | None = None  # brms's ID: (1 + x | p | g)
    span: Span | None = _span()
    by: Name | None = None  # brms's gr(g, by = f): an sd (and correlation) per level of f

    def __str__(self) -> str:
        if self.structure is not None:
            return f"{self.structure}({self.terms} | {self.grouping})"
        bar = "|" if self.correlated else "||"
        block_id = f" {self.block_id} |" if self.block_id is not None else ""
        grouping = f"gr({self.grouping}, by = {self.by})" if self.by is not None else self.grouping
        return f"({self.terms} {bar}{block_id} {grouping})"


@dataclass(frozen=True, slots=True)
class Response:
    """The left-hand side: a column or transformed column plus brms-style addition terms."""

    value: Name | Call
    additions: tuple[Call, ...] = ()
    span: Span | None = _span()

    def __str__(self) -> str:
        if not self.additions:
            return str(self.value)
        return f"{self.value} | " + " + ".join(str(a) for a in self.additions)


@dataclass(frozen=True, slots=True)
class FormulaSyntax:
    """One formula ``lhs ~ rhs``; ``lhs`` is ``None`` for a one-sided formula ``~ x``."""

    lhs: Response | None
    rhs: FormulaNode
    span: Span | None = _span()

    def __str__(self) -> str:
        return f"{self.lhs} ~ {self.rhs}" if self.lhs is not None else f"~ {self.rhs}"


@dataclass(frozen=True, slots=True)
class SyntaxTree:
    """Every formula of one text, as typed (no algebra applied yet)."""

    formulas: tuple[FormulaSyntax, ...]
    text: str = field(default="", compare=False, repr=False)

    def __str__(self) -> str:
        return "; ".join(str(f) for f in self.formulas)


type ArithNode = Name | Number | String | Call | Arith | UnaryMinus
type FormulaNode = Name | Number | Call | BinaryOp | Negate | Paren | GroupTerm
