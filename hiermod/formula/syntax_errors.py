"""lark's parse errors → :class:`~hiermod.errors.FormulaSyntaxError` with a caret and a hint.

:func:`translate` is the one place that turns lark's exceptions into messages for people: a caret
under the offending text and a hint for the usual mistakes (a missing ``~``, ``np.log(x)``, a pasted
Cyrillic ``х``, brms's ``(1 | ID | g)``, ``incidence / size ~ …``). The parser passes in its lexer,
so that the hints read the text with the grammar's own tokens.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable

from lark import Token
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from hiermod.errors import FormulaSyntaxError, Span
from hiermod.formula.transformer import token_span

__all__ = ["translate"]

type Lexer = Callable[[str], Iterable[Token]]

# ---------------------------------------------------------------------------------------------------
# Error translation: one place that turns lark's exceptions into caret messages with hints.

_DESCRIBE = {
    "TILDE": "'~'",
    "BAR": "'|'",
    "DBAR": "'||'",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "STAR": "'*'",
    "SLASH": "'/'",
    "COLON": "':'",
    "POW": "a power operator",
    "IN": "'%in%'",
    "COVSTRUCT": "a covariance structure",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "EQUALS": "'='",
    "IDENT": "name",
    "QNAME": "quoted name",
    "STRING": "string",
    "NUMBER": "number",
    "_SEP": "the end of a formula",
    "$END": "the end of the formula",
}
_OPERATORS = frozenset(
    {"PLUS", "MINUS", "STAR", "SLASH", "COLON", "POW", "IN", "TILDE", "BAR", "DBAR"}
)


def _scan(text: str, stop: int, lex: Lexer) -> tuple[list[int], Token | None]:
    """Open-parenthesis positions and the last significant token before ``stop``.

    Uses the grammar's own lexer so quoted names and strings are skipped correctly.
    """
    stack: list[int] = []
    last: Token | None = None
    try:
        for token in lex(text[:stop]):
            if token.type == "LPAR":
                stack.append(token.start_pos or 0)
            elif token.type == "COVSTRUCT":  # `us (`: the parenthesis ends the token
                stack.append((token.end_pos or 1) - 1)
            elif token.type == "RPAR" and stack:
                stack.pop()
            elif token.type == "_NL" and ";" in token.value:
                stack.clear()
            if token.type not in ("_NL", "_SEP"):
                last = token
    except LarkError:
        pass
    return stack, last


def _open_structure(text: str, open_parens: list[int]) -> str | None:
    """The glmmTMB structure name (``us``, ``cs``, …) whose parenthesis is the innermost open one."""
    if not open_parens:
        return None
    words = text[: open_parens[-1]].rstrip().split()
    name = words[-1].lstrip("+-*/:(~") if words else ""
    return name if name in _STRUCTURES else None


def _inside_bar(text: str, open_parens: list[int], pos: int) -> bool:
    """Whether the innermost open parenthesis before ``pos`` already holds a ``|`` at its level."""
    if not open_parens:
        return False
    depth = 0
    for char in text[open_parens[-1] + 1 : pos]:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
    return False


def translate(text: str, error: UnexpectedInput, lex: Lexer) -> FormulaSyntaxError:
    """The error to show for lark's ``error`` on ``text``."""
    if isinstance(error, UnexpectedCharacters):
        return _unexpected_character(text, error.pos_in_stream or 0)
    if isinstance(error, UnexpectedToken):
        return _unexpected_token(text, error.token, lex)
    # UnexpectedEOF (not produced by LALR in practice) is an unexpected end.
    return _unexpected_token(text, Token("$END", "", len(text)), lex)


def _unexpected_character(text: str, pos: int) -> FormulaSyntaxError:
    char = text[pos]
    span = Span(pos, pos + 1)
    hint: str | None = None
    if not char.isascii():
        return _look_alike(text, pos)
    if char == "." and pos > 0 and (text[pos - 1].isalnum() or text[pos - 1] == "_"):
        start = pos
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "._"):
            start -= 1
        end = pos
        while end < len(text) and (text[end].isalnum() or text[end] in "._"):
            end += 1
        word = text[start:end]
        span = Span(start, end)
        module, _, function = word.partition(".")
        if module in _MODULES and text[end : end + 1] == "(" and "." not in function:
            # y ~ np.log(x): formulas call hiermod's own functions, written without a module.
            hint = f"write {function}(…): formula functions are hiermod's own, not {module}'s"
        elif "__" in word:
            hint = "attribute access is not part of formulas"
        else:
            hint = f"names with dots need backticks: `{word}`; attribute access is not part of formulas"
        return FormulaSyntaxError(f"unexpected '.' in {word!r}", text, span, hint=hint)
    if char == "." and text[pos + 1 : pos + 2] in ("", " ", ")", "+", "-", "\n", ";"):
        # y ~ . : R's "all other columns"
        hint = "'.' (all other columns) is not supported: list the columns, e.g. y ~ x1 + x2"
    elif char == ".":
        hint = "attribute access is not part of formulas"
    elif char in "<>!":
        hint = "comparisons are not formula operators; compute the indicator as a column first"
    elif char == "%":
        hint = "the only %-operator of formulas is R's %in% (a %in% b is a:b); nesting is also a/b"
    elif char == "`":
        hint = "a backticked name needs a closing backtick on the same line"
    elif char in "\"'":
        hint = "a string needs a closing quote on the same line"
    elif char in "[]{}":
        hint = "brackets and braces are not part of formulas; group with ( )"
    elif char == "&":
        hint = "'&' is not a formula operator; use ':' for interactions"
    return FormulaSyntaxError(f"unexpected character {char!r}", text, span, hint=hint)


# glmmTMB's covariance structures, as the grammar's COVSTRUCT token lists them.
_STRUCTURES = frozenset(
    [
        "us",
        "diag",
        "cs",
        "ar1",
        "ou",
        "gau",
        "mat",
        "toep",
        "rr",
        "homdiag",
        "homcs",
        "hetar1",
        "propto",
        "equalto",
    ]
)
# Module prefixes people carry over from patsy/formulaic, where formulas run Python: np.log(x).
_MODULES = frozenset({"np", "numpy", "math", "scipy", "pd", "pandas"})
# Characters that look like a formula's ASCII ones; NFKC covers the fullwidth forms (＋ → +).
_LOOK_ALIKES = {
    "\u223c": "~",  # TILDE OPERATOR
    "\u02dc": "~",  # SMALL TILDE
    "\u2212": "-",  # MINUS SIGN
    "\u2010": "-",
    "\u2011": "-",
    "\u2013": "-",  # EN DASH
    "\u2014": "-",  # EM DASH
    "\u00d7": "*",  # MULTIPLICATION SIGN
    "\u2217": "*",
    "\u2215": "/",
    "\u2223": "|",  # DIVIDES
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u00a0": " ",  # NO-BREAK SPACE
}
# Letters of other scripts that look like Latin ones (Cyrillic х, Greek ο, ρ, ...).
_LETTERS = dict(
    zip(
        "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0456\u0458\u0455"
        "\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0425"
        "\u03bf\u03c1\u03b1\u03bd\u03b9\u039f\u0391\u0392\u0395\u0397\u039a\u039c\u039d\u03a1\u03a4\u03a7",
        "aeopcyxijsABEKMHOPCTXoparvOABEHKMNPTX",
        strict=True,
    )
)


def _look_alike(text: str, pos: int) -> FormulaSyntaxError:
    """A non-ASCII character: name its code point and the ASCII character it looks like."""
    char = text[pos]
    code = f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed character')}"
    meant = _LOOK_ALIKES.get(char) or _LETTERS.get(char)
    normal = unicodedata.normalize("NFKC", char)
    if meant is None and normal != char and normal.isascii():
        meant = normal
    if meant is not None:
        hint = f"it looks like the ASCII {meant!r}; retype it (it was likely pasted)"
    else:
        hint = "names are ASCII identifiers; other names go in backticks: `größe`"
    return FormulaSyntaxError(
        f"unexpected character {char!r} ({code})", text, Span(pos, pos + 1), hint=hint
    )


def _unexpected_token(text: str, token: Token, lex: Lexer) -> FormulaSyntaxError:
    at_end = token.type == "$END"
    pos = len(text.rstrip()) if at_end else (token.start_pos or 0)
    span = Span(pos, pos) if at_end else token_span(token)
    open_parens, last = _scan(text, pos, lex)
    last_type = last.type if last is not None else None
    what = _DESCRIBE.get(token.type, repr(token.value))
    if token.type in ("IDENT", "QNAME", "STRING", "NUMBER"):
        what = f"{what} {token.value!r}" if token.type != "IDENT" else f"name {token.value!r}"
    message = f"unexpected {what}"
    hint: str | None = None

    # The formula around pos: from the last ';' or line break before it to the next one after it.
    start = max(text.rfind(";", 0, pos), text.rfind("\n", 0, pos)) + 1
    ends = [i for i in (text.find(";", pos), text.find("\n", pos)) if i >= 0]
    on_response_side = (
        "~" not in text[start:pos] and "~" in text[pos : min(ends, default=len(text))]
    )
    structure = _open_structure(text, open_parens)
    if structure is not None and token.type in ("RPAR", "COMMA"):
        hint = (
            f"{structure}(…) is read as glmmTMB's covariance structure, which holds one group term: "
            f"{structure}(x | g)"
            + (", without further arguments" if token.type == "COMMA" else "")
            + (
                "; brms's category-specific effects cs(x) are not supported"
                if structure == "cs"
                else ""
            )
        )
    elif token.type in ("BAR", "DBAR") and not open_parens:
        hint = f"group terms need parentheses: write (x | g), not x {token.value} g"
    elif (
        token.type in ("BAR", "DBAR")
        and last_type not in ("BAR", "DBAR")
        and _inside_bar(text, open_parens, pos)
    ):
        # brms's (1 + x | p | g) has one ID between the bars, no more
        hint = (
            "a group term is (e | g), or (e | ID | g) for effects correlated across formulas "
            "(brms's ID names the set); it has one ID at most"
        )
    elif on_response_side and token.type in ("SLASH", "STAR", "PLUS", "MINUS", "COLON", "POW"):
        hint = (
            "the response is one column or a call: for successes out of trials write "
            "y | trials(n) ~ … (binomial), for a ratio I(y / n) ~ …"
        )
    elif token.type in ("LSQB", "RSQB"):
        hint = 'brackets only list levels in a call, as in C(f, levels=["b", "a"]); group with ( )'
    elif token.type == "CONTRAST":
        hint = f"{token.value} names a contrast of a categorical: C(f, {token.value})"
    elif token.type == "TILDE":
        hint = "a formula has one '~'; separate formulas with ';' or a new line"
    elif token.type == "RPAR" and last_type in ("BAR", "DBAR"):
        hint = "empty grouping: name the grouping factor after '|', e.g. (1 | group)"
    elif token.type == "RPAR" and last_type == "LPAR":
        hint = "empty parentheses: write a term inside, e.g. (1 | group)"
    elif token.type == "RPAR" and not open_parens:
        hint = "this ')' has no matching '('"
    elif token.type == "SLASH" and last_type == "SLASH":
        span = Span(last.start_pos or pos, span.end) if last is not None else span
        message = "unexpected '//'"
        hint = "'//' is not an operator; nesting is a/b, division belongs inside I(…)"
    elif token.type == "EQUALS" and text[pos : pos + 2] == "==":
        message = "unexpected '=='"
        span = Span(pos, pos + 2)
        hint = "comparisons are not formula operators; compute the indicator as a column first"
    elif token.type == "_SEP" and ";" in token.value and open_parens:
        message = "unexpected ';'"
        span = Span(pos, pos + 1)
        hint = "';' separates whole formulas; it cannot stand inside parentheses"
    elif token.type == "EQUALS":
        hint = "'=' only names a function argument, as in bs(x, df=4)"
    elif at_end or token.type == "_SEP":
        if last_type in _OPERATORS or last_type == "COMMA":
            assert last is not None
            message = f"the formula ends with {_DESCRIBE.get(last_type, last.value)}"
            span = token_span(last)
            hint = "a term is missing after it"
            if last_type == "TILDE":
                hint = "write the predictors after '~', or 1 for an intercept-only model"
        elif open_parens:
            message = "missing ')'"
            span = Span(open_parens[-1], open_parens[-1] + 1)
            hint = "this '(' is never closed"
        elif last_type is not None and "~" not in text[:pos]:
            hint = "a formula needs '~' between the response and the predictors: y ~ x"
        if (
            message == "unexpected the end of the formula"
            or message == "unexpected the end of a formula"
        ):
            message = "unexpected end of formula"
    elif last_type == "POW" and token.type != "NUMBER":
        hint = (
            "a power in a formula is a whole number, (a + b)^2 meaning all interactions up to "
            "degree 2; for arithmetic write I(x**b)"
        )
    elif token.type == "NUMBER" and last_type is None:
        hint = "a formula starts with its response, a column: y ~ …"
    elif token.type in ("IDENT", "QNAME", "STRING", "NUMBER", "LPAR") and last_type in (
        "IDENT",
        "QNAME",
        "STRING",
        "NUMBER",
        "RPAR",
    ):
        if "~" not in text[:pos]:
            hint = "a formula needs '~' between the response and the predictors: y ~ x"
        elif token.type == "LPAR" and last_type in ("IDENT",):
            hint = "only a name can be called: log(x)"
        else:
            hint = f"two terms need an operator between them, e.g. '+': ... + {token.value}"
    elif token.type in _OPERATORS and last_type in _OPERATORS:
        hint = "two operators in a row: a term is missing between them"
    elif token.type in _OPERATORS and last_type is None:
        hint = "a formula starts with its response (y ~ …) or with '~'"
    elif token.type in ("PLUS", "STAR", "SLASH", "COLON", "POW") and "~" not in text[:pos]:
        hint = "a formula needs '~' between the response and the predictors: y ~ x"
    return FormulaSyntaxError(message, text, span, hint=hint)
