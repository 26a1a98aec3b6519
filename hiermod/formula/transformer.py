"""lark parse tree → :class:`~hiermod.formula.syntax.SyntaxTree` nodes, with their spans.

:class:`ToNodes` is the lark Transformer that :func:`hiermod.formula.parser.parse_syntax` runs on
every parse tree: one method per grammar rule, each building the node dataclass of
:mod:`hiermod.formula.syntax` and attaching its span. It decides nothing; the one thing it refuses is
an escape it cannot decode in a quoted name (:class:`BadEscapeError`, a caret error in the parser).
Meaning is :mod:`hiermod.formula.expand`'s.
"""

from __future__ import annotations

from typing import Any

from lark import Token, v_args
from lark.visitors import Transformer_NonRecursive

from hiermod.errors import Span
from hiermod.formula.syntax import (
    Arith,
    BinaryOp,
    Call,
    FormulaSyntax,
    GroupTerm,
    Keyword,
    Name,
    Negate,
    Number,
    Paren,
    Response,
    String,
    SyntaxTree,
    UnaryMinus,
)

__all__ = ["BadEscapeError", "ToNodes", "token_span"]


def _span(meta: Any) -> Span:
    return Span(meta.start_pos, meta.end_pos)


def token_span(token: Token) -> Span:
    """The span of a token of the formula text (also used for carets under a syntax error)."""
    start = token.start_pos or 0
    end = token.end_pos if token.end_pos is not None else start + len(token.value)
    return Span(start, end)


class BadEscapeError(Exception):
    """A backslash escape in a quoted name or string that hiermod does not decode (``"a\\qb"``)."""

    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.span = span


# The escapes R decodes in a string, minus the numeric ones (\x41, \u00e9), which would let a
# name hide what it is: "a\nb" is the column whose name holds a line break, as in R.
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "`": "`"}


def _unquote(token: Token) -> str:
    """The text of a quoted string or backticked name, escapes decoded (``\\"`` → ``"``).

    Backticked names are verbatim, as in R. An escape outside :data:`_ESCAPES` raises
    :class:`BadEscapeError` with its position, so that ``"a\\qb"`` is a caret error, not column ``aqb``.
    """
    raw = str(token.value)
    body = raw[1:-1]
    if raw[0] == "`":
        return body
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        escaped = body[index + 1]  # the token's pattern guarantees a character after '\\'
        if escaped not in _ESCAPES:
            start = (token.start_pos or 0) + 1 + index
            raise BadEscapeError(f"unknown escape '\\{escaped}' in {raw}", Span(start, start + 2))
        out.append(_ESCAPES[escaped])
        index += 2
    return "".join(out)


@v_args(meta=True)
class ToNodes(Transformer_NonRecursive[Token, SyntaxTree]):
    """Convert the lark tree to syntax nodes (it decides nothing).

    Non-recursive: ``y ~ x1 + … + x500`` is a left-nested tree 500 deep, past Python's recursion limit
    for lark's recursive Transformer.
    """

    def start(self, meta: Any, children: list[FormulaSyntax]) -> SyntaxTree:
        return SyntaxTree(tuple(children))

    def formula(self, meta: Any, children: list[Any]) -> FormulaSyntax:
        lhs, _tilde, rhs = children
        return FormulaSyntax(lhs, rhs, span=_span(meta))

    def response(self, meta: Any, children: list[Any]) -> Response:
        value, *rest = children
        additions = tuple(c for c in rest if isinstance(c, Call))
        return Response(value, additions, span=_span(meta))

    def addition(self, meta: Any, children: list[Any]) -> Call:
        return children[0]  # type: ignore[no-any-return]

    def _binary(self, op: str, meta: Any, children: list[Any]) -> BinaryOp:
        return BinaryOp(op, children[0], children[2], span=_span(meta))

    def add(self, meta: Any, children: list[Any]) -> BinaryOp:
        return self._binary("+", meta, children)

    def sub(self, meta: Any, children: list[Any]) -> BinaryOp:
        return self._binary("-", meta, children)

    def mul(self, meta: Any, children: list[Any]) -> BinaryOp:
        return self._binary("*", meta, children)

    def nest(self, meta: Any, children: list[Any]) -> BinaryOp:
        return self._binary("/", meta, children)

    def interact(self, meta: Any, children: list[Any]) -> BinaryOp:
        return self._binary(":", meta, children)

    def pow(self, meta: Any, children: list[Any]) -> BinaryOp:
        base, _op, exponent = children
        power = Number(float(exponent), span=token_span(exponent))
        return BinaryOp("^", base, power, span=_span(meta))

    def within(self, meta: Any, children: list[Any]) -> BinaryOp:
        return self._binary("%in%", meta, children)

    def neg(self, meta: Any, children: list[Any]) -> Negate:
        return Negate(children[1], span=_span(meta))

    def pos(self, meta: Any, children: list[Any]) -> Any:
        # A leading '+' changes nothing (R, patsy): `~ +x` is `~ x`, `(+0)` is `(0)`.
        return children[1]

    def paren(self, meta: Any, children: list[Any]) -> Paren:
        return Paren(children[1], span=_span(meta))

    def group(self, meta: Any, children: list[Any]) -> GroupTerm:
        _lpar, terms, bar, grouping, _rpar = children
        return GroupTerm(terms, grouping, correlated=bar.type == "BAR", span=_span(meta))

    def group_id(self, meta: Any, children: list[Any]) -> GroupTerm:
        # brms's (1 + x | p | g): the blocks of g with ID p share one correlation matrix
        _lpar, terms, bar, block_id, _bar, grouping, _rpar = children
        correlated = bar.type == "BAR"
        return GroupTerm(terms, grouping, correlated, block_id=block_id, span=_span(meta))

    def covariance_group(self, meta: Any, children: list[Any]) -> GroupTerm:
        # glmmTMB's spellings: us(x | g) is (x | g), diag(x | g) is (x || g). The other structures
        # (ar1, cs, ...) are kept by name, and expand() says that they are not supported.
        opener, terms, _bar, grouping, _rpar = children
        structure = opener.value.rstrip(" \t(")
        return GroupTerm(
            terms,
            grouping,
            correlated=structure != "diag",
            structure=structure,
            span=_span(meta),
        )

    def number(self, meta: Any, children: list[Token]) -> Number:
        return Number(float(children[0]), span=token_span(children[0]))

    def name(self, meta: Any, children: list[Token]) -> Name:
        token = children[0]
        text = token.value if token.type in ("IDENT", "CONTRAST") else _unquote(token)
        return Name(text, span=token_span(token))

    def call(self, meta: Any, children: list[Any]) -> Call:
        func, _lpar, arguments, _rpar = children
        args = tuple(a for a in (arguments or ()) if not isinstance(a, Keyword))
        kwargs = tuple(a for a in (arguments or ()) if isinstance(a, Keyword))
        return Call(str(func), args, kwargs, span=_span(meta))

    def arguments(self, meta: Any, children: list[Any]) -> list[Any]:
        return [c for c in children if not (isinstance(c, Token) and c.type == "COMMA")]

    def keyword(self, meta: Any, children: list[Any]) -> Keyword:
        return Keyword(str(children[0]), children[2], span=_span(meta))

    def _arith(self, op: str, meta: Any, children: list[Any]) -> Arith:
        return Arith(op, children[0], children[2], span=_span(meta))

    def a_add(self, meta: Any, children: list[Any]) -> Arith:
        return self._arith("+", meta, children)

    def a_sub(self, meta: Any, children: list[Any]) -> Arith:
        return self._arith("-", meta, children)

    def a_mul(self, meta: Any, children: list[Any]) -> Arith:
        return self._arith("*", meta, children)

    def a_div(self, meta: Any, children: list[Any]) -> Arith:
        return self._arith("/", meta, children)

    def a_pow(self, meta: Any, children: list[Any]) -> Arith:
        return self._arith("**", meta, children)

    def a_neg(self, meta: Any, children: list[Any]) -> UnaryMinus:
        return UnaryMinus(children[1], span=_span(meta))

    def a_paren(self, meta: Any, children: list[Any]) -> Any:
        return children[1]  # arithmetic parentheses only group; printing re-adds what is needed

    def a_name(self, meta: Any, children: list[Token]) -> Name:
        return self.name(meta, children)

    def a_list(self, meta: Any, children: list[Any]) -> Call:
        """``[a, b]`` inside a call is R's ``c(a, b)`` and prints so: ``levels=["c", "a"]`` is
        ``levels=c("c", "a")``."""
        items = tuple(c for c in children if c is not None and not isinstance(c, Token))
        return Call("c", items, span=_span(meta))

    def a_number(self, meta: Any, children: list[Token]) -> Number:
        return self.number(meta, children)

    def a_string(self, meta: Any, children: list[Token]) -> String:
        return String(_unquote(children[0]), span=token_span(children[0]))
