"""Formula errors: the right class, a caret under the right span, a useful hint, no lark leaks.

Cases mark the expected span inside the formula, patsy-style: ``"y ~ x + <3>"`` means the error's
span must cover exactly ``3``. The markers are removed to get the input. ``x<>`` is an empty span
(the end of the text).
"""

from __future__ import annotations

import pickle
from typing import NamedTuple

import lark.exceptions
import pytest

import hiermod as hm
from hiermod.errors import (
    FormulaError,
    FormulaSyntaxError,
    HiermodError,
    Span,
    render_caret,
)


class Case(NamedTuple):
    marked: str
    error: type[HiermodError]
    message: str  # a fragment of the message
    hint: str | None = None  # a fragment of the hint


def unmark(marked: str) -> tuple[str, Span]:
    start = marked.index("<")
    end = marked.index(">", start) - 1
    text = marked[:start] + marked[start + 1 : end + 1] + marked[end + 2 :]
    return text, Span(start, end)


def expected_caret(text: str, span: Span) -> str:
    """The caret line as the error format promises it: the span's line, carets under the span."""
    line_start = text.rfind("\n", 0, span.start) + 1
    line_end = text.find("\n", span.start)
    line_end = len(text) if line_end == -1 else line_end
    column = span.start - line_start
    width = max(1, min(span.end, line_end) - span.start)
    return f"  {text[line_start:line_end]}\n  {' ' * column}{'^' * width}"


SYNTAX = FormulaSyntaxError
MEANING = FormulaError

CASES = [
    # Parentheses and group bars.
    Case("y ~ <(>x + z", SYNTAX, "missing ')'", "never closed"),
    Case("y ~ <(>x\n + z", SYNTAX, "missing ')'", "never closed"),
    Case("y ~ x<)>", SYNTAX, "unexpected ')'", "no matching '('"),
    Case("y ~ (1|<)>", SYNTAX, "unexpected ')'", "empty grouping"),
    Case("y ~ x1 <|> group", SYNTAX, "unexpected '|'", "group terms need parentheses"),
    Case("y ~ x1 <||> group", SYNTAX, "unexpected '||'", "group terms need parentheses"),
    Case("y ~ <(0 | g)>", MEANING, "no effects", "(0 + x | g)"),
    Case("y ~ (x | <log(g)>)", MEANING, "grouping factor must be a column name"),
    Case("y ~ (x || <1>)", MEANING, "grouping must name columns"),
    Case("y ~ x:<(1|g)>", MEANING, "group term cannot be part of an interaction"),
    Case("y ~ (1|g) + <(1 + x|g)>", MEANING, "intercept varies by g in two group terms", "merge"),
    # The formula's shape: '~', separators, operators.
    Case("y ~ x <~> z", SYNTAX, "unexpected '~'", "one '~'"),
    Case("<~>", SYNTAX, "ends with '~'", "predictors after '~'"),
    Case("x<>", SYNTAX, "unexpected end of formula", "needs '~'"),
    Case("y ~ x <+>", SYNTAX, "ends with '+'", "term is missing"),
    Case("y ~ x <*>", SYNTAX, "ends with '*'", "term is missing"),
    Case("y ~ x <+>; z", SYNTAX, "ends with '+'", "term is missing"),
    Case("y ~ x\nsigma ~ z <+>", SYNTAX, "ends with '+'", "term is missing"),
    Case("y ~ (x<;> sigma ~ z)", SYNTAX, "unexpected ';'", "separates whole formulas"),
    Case("y ~ x <z>", SYNTAX, "unexpected name 'z'", "need an operator"),
    Case("y ~ x<,> z", SYNTAX, "unexpected ','"),
    # Operators from other languages (formulae drops the rest of the formula silently on these).
    Case("y ~ x <//> z", SYNTAX, "unexpected '//'", "not an operator"),
    Case("y ~ x <==> 1", SYNTAX, "unexpected '=='", "comparisons are not formula operators"),
    Case("y ~ x <%>>% z", SYNTAX, "unexpected character '%'", "R's %in%"),
    # glmmTMB's covariance structures other than us() and diag(), and escapes a name cannot hold.
    Case(
        "y ~ <ar1(0 + t | g)>", MEANING, "ar1() covariance structure is not supported", "(x || g)"
    ),
    Case('y ~ "a<\\q>b"', SYNTAX, "unknown escape '\\q'", "\\n \\t"),
    # Spellings from other tools that point the right way (issue 12).
    Case("y ~ <np.log>(x)", SYNTAX, "unexpected '.' in 'np.log'", "write log(…)"),
    Case("y ~ <math.sqrt>(x)", SYNTAX, "unexpected '.'", "write sqrt(…)"),
    Case("incidence <*> size ~ period", SYNTAX, "unexpected '*'", "I(y / n) ~"),
    Case("incidence </> size ~ period + (1 | herd)", SYNTAX, "unexpected '/'", "y | trials(n)"),
    Case("y ~ x; a <+> b ~ c", SYNTAX, "unexpected '+'", "response is one column"),
    Case("y ~ x + (1 | ID | h <|> g)", SYNTAX, "unexpected '|'", "it has one ID at most"),
    Case("y ~ a ** <b>", SYNTAX, "unexpected name 'b'", "I(x**b)"),
    Case("<0> ~ a + b", SYNTAX, "unexpected number '0'", "starts with its response"),
    Case("y ~ <.>", SYNTAX, "unexpected character '.'", "all other columns"),
    Case("y ~ x / <(1|g)>", MEANING, "cannot be part of an interaction, a nesting", "(1 | g1/g2)"),
    Case("y ~ us(x<)>", SYNTAX, "unexpected ')'", "holds one group term: us(x | g)"),
    Case("y ~ us(x | g<,> n = 2)", SYNTAX, "unexpected ','", "without further arguments"),
    Case("y ~ cs(Days<)>", SYNTAX, "unexpected ')'", "category-specific effects cs(x) are not"),
    # Unicode look-alikes: the code point and the ASCII character meant.
    Case("y ~ <\u0445> + z", SYNTAX, "U+0445 CYRILLIC SMALL LETTER HA", "ASCII 'x'"),
    Case("y ~ <\u03c1>", SYNTAX, "U+03C1 GREEK SMALL LETTER RHO", "ASCII 'p'"),
    Case("y ~ a <\uff0b> b", SYNTAX, "U+FF0B FULLWIDTH PLUS SIGN", "ASCII '+'"),
    Case("y <\u223c> x", SYNTAX, "U+223C TILDE OPERATOR", "ASCII '~'"),
    Case("y ~ a <\u2212> b", SYNTAX, "U+2212 MINUS SIGN", "ASCII '-'"),
    Case("y ~ gr<\u00f6>sse", SYNTAX, "U+00F6", "backticks"),
    # The response on the right side, and numbers after '|'.
    Case("y ~ x + <y>", MEANING, "the response y is also a predictor"),
    Case("y ~ x + (1 | <3>)", MEANING, "grouping must name columns, not the number 3"),
    # Code injection attempts: refused by the grammar or the allow-list, never evaluated.
    Case('y ~ __import__("os")<.>system("x")', SYNTAX, "unexpected character '.'", "attribute"),
    Case('y ~ <__import__>("os")', MEANING, "unknown function '__import__'", "may call only"),
    Case('y ~ <eval>("1")', MEANING, "unknown function 'eval'"),
    Case("y ~ <x.__class__>", SYNTAX, "unexpected '.' in 'x.__class__'", "attribute access"),
    Case('y ~ <{>open("f")}', SYNTAX, "unexpected character '{'", "brackets and braces"),
    Case("y ~ <log.x>", SYNTAX, "unexpected '.' in 'log.x'", "`log.x`"),
    # Functions: unknown names, signatures, arguments, placement.
    Case("y ~ <lgo>(x)", MEANING, "unknown function 'lgo'", "did you mean 'log'?"),
    Case("y ~ <centre>(x)", MEANING, "unknown function 'centre'", "did you mean 'center'?"),
    # Terms of brms and mgcv say what they are instead of suggesting the nearest name (s -> se).
    Case("y ~ s(x, <k=2>)", MEANING, "s() k must be a whole number of at least 3", "k=10"),
    Case("y ~ x + t2(x, z, <full = TRUE>)", MEANING, "t2() full is not supported", "k = c(5, 6)"),
    Case("y ~ <te>(x, z)", MEANING, "te() is mgcv's tensor-product smooth", "t2(x, z) is brms's"),
    Case("y ~ <cse>(x)", MEANING, "cse() is brms's category-specific effect", "ordinary term"),
    Case("y ~ gp(x, <k=0>)", MEANING, "gp() k must be a whole number of basis functions"),
    Case("y ~ gp(x, <c=0>)", MEANING, "gp() c must be a positive number"),
    Case("y ~ mo(<log(x)>)", MEANING, "mo() takes a column", "ordered=True"),
    Case(
        "y ~ <mo(x):mo(z)>", MEANING, "two monotonic effects is not supported yet", "mo(x) + mo(z)"
    ),
    Case("y ~ (<mo(x)> | g)", MEANING, "mo(x) cannot vary by group", "mo(x) + (1 | g)"),
    Case("y ~ <factor>(g)", MEANING, "factor() is R's conversion to a categorical", "C(g)"),
    Case("y ~ <gr>(g)", MEANING, "it stands alone after '|'", "(1 + x || g)"),
    Case("y ~ (1 | g/<gr>(h))", MEANING, "gr() is brms's grouping", "(1 + x | gr(g)) is"),
    Case("y ~ (1 | gr(g, by = <2>))", MEANING, "by of gr() is a categorical column"),
    Case("y ~ (1 | gr(g, by = <log(f)>))", MEANING, "by of gr() is a categorical column"),
    Case("y ~ (1 | gr(g, by = <g>))", MEANING, "another column than the grouping"),
    Case("y ~ (1 | p | gr(g, by = <f>))", MEANING, "cannot share a block ID", "without by"),
    Case("y ~ (1 | gr(g, by = <f>, id = p))", MEANING, "cannot share a block ID", "without its ID"),
    Case("y ~ (1 | gr(g, <bye = f>))", MEANING, "gr() has no argument 'bye'", "gr(g, by = f)"),
    Case("y ~ <(x | gr(g, id = p, cor = FALSE))>", MEANING, "the ID p correlates", "drop the ID"),
    Case("y ~ <(x || p | g)>", MEANING, "the ID p correlates effects", "(… | p | g)"),
    Case("y ~ (1 | <1.5> | g)", MEANING, "a name or a whole number", "(1 + x | p | g)"),
    Case("y ~ (1 | p | g); sigma ~ <(1 | p | h)>", MEANING, "groupings (g and h)", "same grouping"),
    Case("y ~ (1 | gr(g, id = p, <id = q>))", MEANING, "two IDs", None),
    Case("y ~ (1 | gr(g, cor = <maybe>))", MEANING, "cor must be TRUE or FALSE"),
    Case("y ~ (1 | <gr(g, h)>)", MEANING, "gr() takes one grouping column, not 2", "g1:g2"),
    Case("y ~ (1 | gr(g, <foo = 1>))", MEANING, "gr() has no argument 'foo'", "cor = FALSE"),
    Case("y ~ (1 | gr(<log(g)>))", MEANING, "gr() takes a grouping column", "gr(g)"),
    Case("<prop>(y, n) ~ x", MEANING, "unknown function 'prop'", "y | trials(n)"),
    Case('y ~ poly(x, <"two">)', MEANING, 'poly() degree must be a number, not the string "two"'),
    Case("y ~ bs(x, <dg=3>)", MEANING, "bs() has no parameter 'dg'", "x, df, degree"),
    Case("y ~ poly(x, <deg=2>)", MEANING, "no parameter 'deg'", "did you mean 'degree'?"),
    Case("y ~ log(x, <2>)", MEANING, "at most 1 positional argument"),
    Case("y ~ <poly()>", MEANING, "needs the argument 'x'"),
    Case("y ~ poly(x, <0>)", MEANING, "degree must be a positive whole number"),
    Case("y ~ bs(x, <df=2.5>)", MEANING, "df must be a positive whole number"),
    Case("y ~ C(f, <ref=x>)", MEANING, "ref must be a level"),
    Case("y ~ <C(1)>", MEANING, "reads no column"),
    Case('y ~ log(<"x">)', MEANING, "a string can only be an argument value", "backticks"),
    Case("y ~ log(<center(x)>)", MEANING, "center() must be the outermost", "center(log(x))"),
    Case("y ~ I(<scale(x)> + 1)", MEANING, "scale() must be the outermost"),
    Case("y ~ <offset(x):z>", MEANING, "offset() cannot be part of an interaction"),
    # Numbers as terms and bad powers.
    Case("y ~ <2> + x", MEANING, "the number 2 cannot be a term", "I(2 * x)"),
    Case("y ~ x + <3>", MEANING, "the number 3 cannot be a term"),
    Case("y ~ <1e400>", MEANING, "too large"),
    Case("y ~ I(x * <1e400>)", MEANING, "too large"),
    Case(
        "y ~ (a + b)^<0>", MEANING, "power in a formula must be a positive whole number", "I(x^2)"
    ),
    Case("y ~ (a + b)^<2.5>", MEANING, "positive whole number"),
    Case("y ~ (a + b)^<x>", SYNTAX, "unexpected name 'x'"),
    # Names that could not be printed back.
    Case('y ~ <"a`b">', MEANING, "cannot be empty or contain a backtick"),
    Case('y ~ x + <"">', MEANING, "cannot be empty or contain a backtick"),
    # Removal of something that is not there (R ignores it; it is almost always a typo).
    Case("y ~ x - <z>", MEANING, "'- z' removes nothing"),
    # The response side and distributional formulas.
    Case("y ~ x + <trials(n)>", MEANING, "trials() belongs on the response side", "y | trials(n)"),
    Case("y | <log>(w) ~ x", MEANING, "not a response addition term", "trials()"),
    Case("y | trials(n) + <trials(m)> ~ x", MEANING, "trials() given twice"),
    Case("y ~ x; sigma ~ z; <sigma> ~ w", MEANING, "two formulas for 'sigma'"),
    Case("y ~ x; <~ z>", MEANING, "only the first formula may be one-sided"),
    Case("y ~ x; <sigma | trials(n)> ~ z", MEANING, "names a parameter on its left side"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.marked for c in CASES])
def test_error_points_at_the_problem(case: Case) -> None:
    text, span = unmark(case.marked)
    with pytest.raises(HiermodError) as info:
        hm.parse(text)
    error = info.value
    assert type(error) is case.error, f"{type(error).__name__}: {error}"
    assert error.span == span, f"span {error.span} != {span}\n{error}"
    assert error.text == text
    rendered = str(error)
    assert expected_caret(text, span) in rendered, rendered
    assert case.message in error.message
    assert rendered.startswith(error.message)
    if case.hint is not None:
        assert error.hint is not None
        assert case.hint in error.hint
        assert f"hint: {error.hint}" in rendered


def test_there_are_enough_caret_cases() -> None:
    assert len(CASES) >= 20
    assert {c.error for c in CASES} == {FormulaSyntaxError, FormulaError}


# ---------------------------------------------------------------------------------------------------
# The hierarchy, and nothing from lark ever reaches the user.


@pytest.mark.parametrize("cls", [FormulaSyntaxError, FormulaError])
def test_formula_errors_are_value_errors_and_hiermod_errors(cls: type[Exception]) -> None:
    assert issubclass(cls, ValueError)
    assert issubclass(cls, HiermodError)
    assert not issubclass(cls, lark.exceptions.LarkError)


def _chain(error: BaseException) -> list[BaseException]:
    """The exceptions a traceback would show: causes, and contexts unless suppressed."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        if current.__cause__ is not None:
            current = current.__cause__
        elif not current.__suppress_context__:
            current = current.__context__
        else:
            current = None
    return seen


@pytest.mark.parametrize("case", CASES, ids=[c.marked for c in CASES])
def test_no_lark_exception_escapes(case: Case) -> None:
    text, _ = unmark(case.marked)
    # Any other exception type propagates out of pytest.raises and fails the test.
    with pytest.raises(HiermodError) as info:
        hm.parse(text)
    for link in _chain(info.value):
        assert not isinstance(link, lark.exceptions.LarkError), type(link)
        assert not isinstance(link, lark.exceptions.VisitError), type(link)


def test_parse_syntax_translates_errors_too() -> None:
    with pytest.raises(FormulaSyntaxError) as info:
        hm.parse_syntax("y ~ x +")
    assert info.value.span == Span(6, 7)


def test_errors_pickle_with_their_caret() -> None:
    with pytest.raises(FormulaError) as info:
        hm.parse("y ~ lgo(x)")
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is FormulaError
    assert str(copy) == str(info.value)
    assert copy.span == info.value.span


def test_non_string_input_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="a formula is a str"):
        hm.parse(42)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "   ", "\n\n", ";", " ; \n"])
def test_empty_formula(text: str) -> None:
    with pytest.raises(FormulaSyntaxError, match="the formula is empty"):
        hm.parse(text)


def test_too_long_formula_is_refused() -> None:
    text = "y ~ " + " + ".join(f"x{i}" for i in range(30_000))
    with pytest.raises(FormulaSyntaxError, match="characters long"):
        hm.parse(text)


def test_caret_rendering_keeps_tabs_aligned() -> None:
    assert render_caret("y ~\tx +", Span(6, 7)) == "  y ~\tx +\n     \t  ^"
