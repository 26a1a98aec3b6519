"""Parsing: text -> syntax nodes (precedence, spans, quoting, separators) and the public ``hm.parse``."""

from __future__ import annotations

import builtins
from pathlib import Path

import pytest

import hiermod as hm
from hiermod.errors import Span
from hiermod.formula.syntax import (
    Arith,
    BinaryOp,
    Call,
    GroupTerm,
    Keyword,
    Name,
    Negate,
    Number,
    Paren,
    Response,
    String,
    UnaryMinus,
)

ROOT = Path(__file__).resolve().parent.parent


def rhs(text: str) -> object:
    (formula,) = hm.parse_syntax(text).formulas
    return formula.rhs


a, b, c, d, x, g = (Name(n) for n in "abcdxg")


# ---------------------------------------------------------------------------------------------------
# Syntax: R's operator precedence, from loosest to tightest: ~, + -, * /, :, ^.

SYNTAX_CASES = {
    "y ~ a + b:c": BinaryOp("+", a, BinaryOp(":", b, c)),
    "y ~ a*b:c": BinaryOp("*", a, BinaryOp(":", b, c)),
    "y ~ a/b*c": BinaryOp("*", BinaryOp("/", a, b), c),
    "y ~ a:b^2": BinaryOp(":", a, BinaryOp("^", b, Number(2))),
    "y ~ a**2": BinaryOp("^", a, Number(2)),
    "y ~ a - b + c": BinaryOp("+", BinaryOp("-", a, b), c),
    "y ~ -1 + x": BinaryOp("+", Negate(Number(1)), x),
    "y ~ (a + b)*c": BinaryOp("*", Paren(BinaryOp("+", a, b)), c),
    "y ~ (x | g)": GroupTerm(x, g, correlated=True),
    "y ~ (x || g)": GroupTerm(x, g, correlated=False),
    "y ~ (1 + x | g:d)": GroupTerm(BinaryOp("+", Number(1), x), BinaryOp(":", g, d)),
    'y ~ C(a, ref="b")': Call("C", (a,), (Keyword("ref", String("b")),)),
    "y ~ bs(x, df=4)": Call("bs", (x,), (Keyword("df", Number(4)),)),
    # Arithmetic inside calls: + - below * / below unary minus below ** (right-associative).
    "y ~ I(a + b * c**2)": Call("I", (Arith("+", a, Arith("*", b, Arith("**", c, Number(2)))),)),
    "y ~ I(a^2)": Call("I", (Arith("**", a, Number(2)),)),
    "y ~ I(a**b**c)": Call("I", (Arith("**", a, Arith("**", b, c)),)),
    "y ~ I(-a**2)": Call("I", (UnaryMinus(Arith("**", a, Number(2))),)),
    "y ~ I((a + b) / 2)": Call("I", (Arith("/", Arith("+", a, b), Number(2)),)),
    "y ~ log(log(x))": Call("log", (Call("log", (x,)),)),
    "y ~ `a b`": Name("a b"),
    'y ~ "a.b"': Name("a.b"),
}


@pytest.mark.parametrize(("text", "expected"), SYNTAX_CASES.items())
def test_syntax_tree(text: str, expected: object) -> None:
    assert rhs(text) == expected


def test_response_with_additions() -> None:
    (formula,) = hm.parse_syntax("succ | trials(n) + weights(w) ~ x").formulas
    assert formula.lhs == Response(
        Name("succ"), (Call("trials", (Name("n"),)), Call("weights", (Name("w"),)))
    )
    assert str(formula.lhs) == "succ | trials(n) + weights(w)"


def test_one_sided_formula_has_no_response() -> None:
    (formula,) = hm.parse_syntax("~ x").formulas
    assert formula.lhs is None
    assert hm.parse("~ x").response is None


def test_spans_locate_nodes_in_the_text() -> None:
    text = "y ~ a + log(b) + (1 | g)"
    node = rhs(text)
    assert isinstance(node, BinaryOp)
    assert node.span == Span(4, len(text))
    assert isinstance(node.right, GroupTerm)
    assert node.right.span == Span(17, 24)
    log_call = node.left.right  # type: ignore[attr-defined]
    assert isinstance(log_call, Call)
    assert text[log_call.span.start : log_call.span.end] == "log(b)"
    assert node.left.left.span == Span(4, 5)  # type: ignore[attr-defined]


def test_spans_are_kept_out_of_equality() -> None:
    assert hm.parse_syntax("y~a+b") == hm.parse_syntax("y  ~  a  +  b")
    assert Name("a", span=Span(0, 1)) == Name("a", span=Span(5, 6))


def test_syntax_tree_keeps_the_text() -> None:
    text = "y ~ x\nsigma ~ z"
    tree = hm.parse_syntax(text)
    assert tree.text == text
    assert hm.parse(text).text == text
    assert str(tree) == "y ~ x; sigma ~ z"


@pytest.mark.parametrize(
    "text",
    [
        "y ~ a + b - c * d / x",
        "y ~ (1 + x | g) + (x || g:d)",
        'log(y) ~ I((a - 1)**2) + C(b, ref="z") + poly(x, 2)',
        "succ | trials(n) ~ a; sigma ~ b",
        "~ -1 + a:b^2",
    ],
)
def test_syntax_tree_prints_as_typed(text: str) -> None:
    tree = hm.parse_syntax(text)
    assert str(tree) == text
    assert hm.parse_syntax(str(tree)) == tree


# ---------------------------------------------------------------------------------------------------
# Layout: ';' and line breaks separate formulas; a formula may continue over lines.

LAYOUT_CASES = {
    "y~x": "y ~ 1 + x",
    "\n  y ~ x\n": "y ~ 1 + x",
    "y ~ x;": "y ~ 1 + x",
    # A line break after an operator, inside parentheses or before an operator continues the formula.
    "y ~ x1 +\n     x2": "y ~ 1 + x1 + x2",
    "y ~ x1\n   + x2": "y ~ 1 + x1 + x2",
    "y ~ a*b\n  - a:b": "y ~ 1 + a + b",
    "y ~ x\n  - 1": "y ~ 0 + x",
    "y ~\n  x": "y ~ 1 + x",
    "y\n  ~ x": "y ~ 1 + x",
    "y ~ (1 + x |\n  g)": "y ~ 1 + (1 + x | g)",
    "y ~ bs(x,\n  df=4)": "y ~ 1 + bs(x, df=4)",
    "y ~ x1 +\n\n  x2": "y ~ 1 + x1 + x2",
    # A line break after a complete formula, or a ';', starts the next formula.
    "y ~ x\nsigma ~ z": "y ~ 1 + x; sigma ~ 1 + z",
    "y ~ x;sigma ~ z": "y ~ 1 + x; sigma ~ 1 + z",
    "y ~ x;\n  sigma ~ z": "y ~ 1 + x; sigma ~ 1 + z",
    "y ~ x\r\nsigma ~ z": "y ~ 1 + x; sigma ~ 1 + z",
    "y ~ x\n\n\nsigma ~ z\n": "y ~ 1 + x; sigma ~ 1 + z",
    "y ~ x ;; sigma ~ z": "y ~ 1 + x; sigma ~ 1 + z",
    "y ~ x +\n  z\nsigma ~ 1": "y ~ 1 + x + z; sigma ~ 1",
}


@pytest.mark.parametrize(("text", "expected"), LAYOUT_CASES.items())
def test_layout(text: str, expected: str) -> None:
    result = hm.parse(text)
    assert str(result) == expected
    assert hm.parse(expected) == result


# ---------------------------------------------------------------------------------------------------
# Column names: backticks and quotes for names that are not identifiers.

NAME_CASES = {
    "y ~ `a b` + x": "y ~ 1 + `a b` + x",
    'y ~ "log.radon"': "y ~ 1 + `log.radon`",
    "y ~ 'a b'": "y ~ 1 + `a b`",
    # Backticks are dropped when the name is an identifier.
    "y ~ `x`": "y ~ 1 + x",
    "y ~ `a b`:c": "y ~ 1 + `a b`:c",
    "y ~ (1 | `my group`)": "y ~ 1 + (1 | `my group`)",
    "y ~ log(`a b`)": "y ~ 1 + log(`a b`)",
    "y ~ `größe`": "y ~ 1 + `größe`",
    "y ~ `1st`": "y ~ 1 + `1st`",
    # Function names are ordinary column names when not called.
    "y ~ log + C": "y ~ 1 + log + C",
    'y ~ "say \\"hi\\""': 'y ~ 1 + `say "hi"`',
}


@pytest.mark.parametrize(("text", "expected"), NAME_CASES.items())
def test_names(text: str, expected: str) -> None:
    result = hm.parse(text)
    assert str(result) == expected
    assert hm.parse(expected) == result


def test_quoted_names_are_column_names() -> None:
    f = hm.parse("`log radon` ~ `a b` + log(`c d`) + (1 | `my group`)")
    assert f.main.lhs_name == "log radon"
    assert f.main.names() == ("a b", "c d", "my group")
    assert f.main.blocks[0].factors == ("my group",)


# ---------------------------------------------------------------------------------------------------
# The public API.


def test_parse_returns_the_canonical_model_formula() -> None:
    f = hm.parse("y ~ x1 + x2 + (1 + x1 | group:color); sigma ~ (1 | group:color)")
    assert isinstance(f, hm.ModelFormula)
    assert str(f) == "y ~ 1 + x1 + x2 + (1 + x1 | group:color); sigma ~ 1 + (1 | group:color)"
    assert isinstance(f.main, hm.Formula)
    assert f.main.intercept is True
    assert [str(t) for t in f.main.terms] == ["x1", "x2"]
    (block,) = f.main.blocks
    assert isinstance(block, hm.Block)
    assert block.factors == ("group", "color")
    assert block.size == 2
    assert block.correlated
    assert set(f.dpars) == {"sigma"}
    assert f.dpars["sigma"].blocks[0].factors == ("group", "color")


def test_parse_accepts_a_parsed_formula() -> None:
    f = hm.parse("y ~ x")
    assert hm.parse(f) is f


def test_tree_lists_terms_and_blocks() -> None:
    tree = hm.parse("y ~ x + (x || g)").tree()
    assert "term  x  (degree 1)" in tree
    assert "block  | g  (uncorrelated, 2 effects per level)" in tree


def test_grammar_is_shipped_inside_the_package() -> None:
    packaged = ROOT / "hiermod" / "formula" / "grammar" / "formula.lark"
    top_level = ROOT / "grammar" / "formula.lark"
    assert packaged.read_text(encoding="utf-8") == top_level.read_text(encoding="utf-8")


def test_formula_text_is_never_evaluated(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("formula text reached eval/exec")

    for name in ("eval", "exec", "compile", "__import__"):
        monkeypatch.setattr(builtins, name, refuse)
    f = hm.parse('y ~ log(x) + I(x**2) + C(f, ref="b") + poly(x, 2) + `os.system`')
    monkeypatch.undo()
    assert str(f) == 'y ~ 1 + log(x) + I(x**2) + C(f, ref="b") + poly(x, 2) + `os.system`'


@pytest.mark.parametrize("writable", [True, False])
def test_the_analysed_grammar_is_kept_between_processes(tmp_path, monkeypatch, writable) -> None:
    """lark's tables are stored in the user's cache folder and read back by the next process (a
    cleared parser here); an unusable folder (here a file in its place) means no cache, same parse."""
    from hiermod.formula import parser

    text = "y ~ x * f + (1 + x || g:h) + poly(z, 2)\nsigma ~ (1 | g)"
    cache = tmp_path / "cache"
    if not writable:
        cache.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    parser._parser.cache_clear()
    try:
        built = hm.parse_syntax(text)
        stored = list((cache / "hiermod").glob("formula-grammar-*.lark")) if writable else []
        assert len(stored) == (1 if writable else 0)
        parser._parser.cache_clear()
        assert hm.parse_syntax(text) == built
    finally:
        parser._parser.cache_clear()
