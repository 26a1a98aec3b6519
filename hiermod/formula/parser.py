"""Text → :class:`~hiermod.formula.syntax.SyntaxTree` (parse) and text → :class:`~hiermod.formula.terms.ModelFormula`.

The grammar lives in ``grammar/formula.lark`` (shipped inside the package as
``hiermod/formula/grammar/formula.lark``). The lark Transformer (:mod:`hiermod.formula.transformer`)
only converts parse trees to our node dataclasses and attaches spans; every rule about meaning lives
in :mod:`hiermod.formula.expand`.

lark's exceptions are translated once, at :func:`parse_syntax`, into :class:`FormulaSyntaxError` with a
caret under the offending text and a hint for the usual mistakes. None of them reaches a user.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import (
    LarkError,
    UnexpectedInput,
    VisitError,
)

from hiermod.errors import ArgumentError, FormulaSyntaxError, Span
from hiermod.formula.syntax import SyntaxTree
from hiermod.formula.syntax_errors import translate
from hiermod.formula.transformer import BadEscapeError, ToNodes

__all__ = ["parse_syntax"]

MAX_FORMULA_LENGTH = 100_000
# Nesting deeper than this (parentheses, calls, chains of ':' or of arithmetic) is refused with a caret:
# later stages walk nested nodes recursively. A long sum of terms is not nesting (see _check_depth).
MAX_DEPTH = 64

# Tokens after which a line break cannot end a formula: the expression is obviously unfinished.
_CONTINUES_AFTER = frozenset(
    {
        "TILDE",
        "BAR",
        "DBAR",
        "PLUS",
        "MINUS",
        "STAR",
        "SLASH",
        "COLON",
        "POW",
        "IN",
        "LPAR",
        "COVSTRUCT",
        "COMMA",
        "EQUALS",
    }
)
# Tokens before which a line break cannot end a formula: no formula starts with them. A formula starts
# with its response (a name or a call) or with '~', so a line that begins with an operator continues
# the formula above:  y ~ a*b
#                       - a:b
_CONTINUES_BEFORE = frozenset(
    {
        "TILDE",
        "BAR",
        "DBAR",
        "PLUS",
        "MINUS",
        "STAR",
        "SLASH",
        "COLON",
        "POW",
        "IN",
        "RPAR",
        "COMMA",
        "EQUALS",
    }
)


class _Separators:
    """Post-lexer: turn ``;`` and line breaks that end a formula into ``_SEP`` tokens.

    A line break ends a formula unless the formula is visibly unfinished: inside parentheses, after an
    operator, or before a token no formula can start with. So::

        y ~ x1 +          is one formula,       y ~ x1        are two.
            x2                                  sigma ~ g

    A ``;`` always separates (inside parentheses it is then a syntax error, not silently dropped).
    Leading, trailing and repeated separators are dropped.
    """

    always_accept = ("_NL",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        depth = 0
        previous: Token | None = None
        pending: Token | None = None
        for token in stream:
            if token.type == "_NL":
                if pending is None or ";" in token.value:
                    pending = token
                continue
            if pending is not None:
                explicit = ";" in pending.value
                if previous is not None and (
                    explicit
                    or (
                        depth == 0
                        and previous.type not in _CONTINUES_AFTER
                        and token.type not in _CONTINUES_BEFORE
                    )
                ):
                    yield Token.new_borrow_pos("_SEP", pending.value, pending)
                pending = None
            if token.type == "LPAR":
                depth += 1
            elif token.type == "RPAR":
                depth = max(0, depth - 1)
            previous = token
            yield token


@functools.cache
def _grammar_text() -> str:
    packaged = resources.files("hiermod.formula").joinpath("grammar/formula.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    # Running from a source checkout: the grammar sits in the top-level grammar/ folder.
    return (Path(__file__).resolve().parents[2] / "grammar" / "formula.lark").read_text("utf-8")


def _grammar_cache() -> str | bool:
    """The file where lark keeps the analysed grammar between processes, or False (no cache).

    Building the LALR tables and checking the terminals for collisions takes about 0.5 s, in every
    new process: most of a small model's build. lark stores the result with a hash of the grammar,
    its options and lark's version, and rebuilds it when they differ or the file is unreadable. The
    file is in the user's own cache folder (``$XDG_CACHE_HOME/hiermod``, else ``~/.cache/hiermod``),
    never a shared temporary folder: lark reads it with ``pickle``.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(base) / "hiermod"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return str(folder / "formula-grammar-py{}.{}.lark".format(*sys.version_info[:2]))


@functools.cache
def _parser() -> Lark:
    return Lark(
        _grammar_text(),
        parser="lalr",
        lexer="basic",  # contextual would reject a name the post-lexer has not yet released
        postlex=_Separators(),
        propagate_positions=True,
        strict=True,
        maybe_placeholders=True,
        cache=_grammar_cache(),
    )


_TO_NODES = ToNodes()


def _lex(text: str) -> Iterator[Token]:
    """The grammar's tokens of ``text`` (for error hints; stops at the first bad character)."""
    return _parser().lex(text, dont_ignore=False)


def parse_syntax(text: str) -> SyntaxTree:
    """Parse formula text into a :class:`SyntaxTree` (no algebra applied).

    Raises:
        FormulaSyntaxError: with a caret under the problem and a hint for common mistakes.
    """
    if not isinstance(text, str):
        raise ArgumentError(
            f"a formula is a str such as 'y ~ x + (1 | g)', not {type(text).__name__}"
        )
    if len(text) > MAX_FORMULA_LENGTH:
        raise FormulaSyntaxError(
            f"formula is {len(text):,} characters long; the limit is {MAX_FORMULA_LENGTH:,}",
            text[:200],
            Span(0, 1),
        )
    if not text.strip(" \t\r\n;"):
        raise FormulaSyntaxError(
            "the formula is empty", text, Span(0, len(text)), hint="write e.g. 'y ~ x + (1 | g)'"
        )
    parser = _parser()  # outside the try: a broken grammar is our bug, not the user's syntax error
    try:
        tree = parser.parse(text)
    except UnexpectedInput as error:
        raise translate(text, error, _lex) from None
    except LarkError as error:  # pragma: no cover - lark raising something we have not mapped
        raise FormulaSyntaxError(
            f"cannot parse formula: {error}", text, Span(0, len(text))
        ) from None
    _check_depth(tree, text)
    try:
        result = _TO_NODES.transform(tree)
    except VisitError as error:
        if isinstance(error.orig_exc, BadEscapeError):
            raise FormulaSyntaxError(
                str(error.orig_exc),
                text,
                error.orig_exc.span,
                hint=r"the escapes are \n \t \r \\ \" \' and \`; inside `backticks` a name is verbatim",
            ) from None
        raise
    return SyntaxTree(result.formulas, text=text)


# Rules whose left child continues the same chain without nesting: a + b + c is one flat sum.
_CHAINS = frozenset({"add", "sub", "neg", "pos"})


def _check_depth(tree: Tree[Token], text: str) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH`, with a caret under the first too-deep part.

    The depth of a node is the number of rule nodes around it inside its formula, except that the
    left operand of a ``+``/``-`` chain is not counted: ``x1 + x2 + … + x5000`` is flat (the
    expansion walks sums iteratively), while ``((((x))))`` or ``log(log(log(x)))`` nest.
    """
    stack: list[tuple[Tree[Token], int]] = [(tree, -1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise FormulaSyntaxError(
                f"the formula nests more than {MAX_DEPTH} levels deep",
                text,
                Span(node.meta.start_pos, node.meta.end_pos),
                hint="simplify the expression, or compute the column before modelling",
            )
        for index, child in enumerate(node.children):
            if isinstance(child, Tree):
                flat = (
                    node.data in ("start", "arguments")  # one formula, one argument list: no depth
                    or (index == 0 and node.data in _CHAINS and child.data in _CHAINS)
                )
                stack.append((child, depth if flat else depth + 1))
