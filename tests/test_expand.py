"""The formula algebra, pass by pass: formula text -> canonical expanded text.

Every expected value below is what R (``stats::terms``), lme4 (``findbars``/``expandDoubleVerts``) or
brms mean by the formula, written with hiermod's canonical printing rules (DESIGN.md §5):

* response, ``~``, then ``1`` or ``0``, then population terms by interaction degree, then first
  appearance; offsets; then group blocks in order of appearance after expansion;
* blocks print as ``(1 + x | g)``, ``(0 + x | g)`` or ``(1 + x || g)``;
* single spaces around ``~ + | ||``, none around ``:``; distributional formulas joined by ``; ``;
* inside a term, variables keep the order in which they were written or generated (left operand
  first); of two spellings of one term the first wins. This gives R's labels in the cases below
  and makes the text a fixed point of parse-and-print (see ``hiermod.formula.expand.canonical_order``).

The values were worked out by hand from R's rules (R's model.c: ``InteractTerms`` loops over the left
terms outside, ``CrossTerms`` is left + right + interactions, ``NestTerms`` nests the right side in
*all* left variables, ``PowerTerms`` repeats the interaction, ``DeleteTerms`` strips terms and flips
the meaning of 0/1), not copied from hiermod's output.
"""

from __future__ import annotations

import warnings

import pytest

import hiermod as hm
from hiermod.errors import FormulaError
from hiermod.formula.algebra import MAX_TERMS
from hiermod.formula.expand import expand
from hiermod.formula.parser import parse_syntax
from hiermod.formula.terms import Term
from hiermod.warnings import FormulaWarning


def canonical(text: str) -> str:
    return str(hm.parse(text))


def check(text: str, expected: str) -> None:
    result = hm.parse(text)
    assert str(result) == expected
    # The expected text is itself canonical: it means the same and prints the same.
    assert hm.parse(expected) == result
    assert str(hm.parse(expected)) == expected


# ---------------------------------------------------------------------------------------------------
# Intercept rules (R): implicit intercept; 1 adds it, 0 and -1 remove it, -0 adds it back; the last
# word wins.

INTERCEPT_CASES = {
    "y ~ x": "y ~ 1 + x",
    "y ~ 1 + x": "y ~ 1 + x",
    "y ~ 0 + x": "y ~ 0 + x",
    "y ~ x + 0": "y ~ 0 + x",
    "y ~ x - 1": "y ~ 0 + x",
    "y ~ -1 + x": "y ~ 0 + x",
    # 0 then 1: the later 1 puts the intercept back (R: `y ~ 0 + 1 + x` has an intercept).
    "y ~ 0 + 1 + x": "y ~ 1 + x",
    "y ~ 1 + 0 + x": "y ~ 0 + x",
    # Removing 0 is adding 1 (R's DeleteTerms flips the parity of 0/1).
    "y ~ x - 0": "y ~ 1 + x",
    "y ~ 0 + x - 0": "y ~ 1 + x",
    # Removing the intercept twice is not an error.
    "y ~ 0 + x - 1": "y ~ 0 + x",
    "y ~ 1": "y ~ 1",
    "y ~ 0": "y ~ 0",
    "y ~ -1": "y ~ 0",
    # A -1 inside added parentheses still removes the formula's intercept (R flattens the sum).
    "y ~ a + (b + c - 1)": "y ~ 0 + a + b + c",
    "~ x": "~ 1 + x",
}


@pytest.mark.parametrize(("text", "expected"), INTERCEPT_CASES.items())
def test_intercept_rules(text: str, expected: str) -> None:
    check(text, expected)


# ---------------------------------------------------------------------------------------------------
# Interaction ':' and crossing '*'.

PRODUCT_CASES = {
    "y ~ a:b": "y ~ 1 + a:b",
    "y ~ a*b": "y ~ 1 + a + b + a:b",
    "y ~ a*b*c": "y ~ 1 + a + b + c + a:b + a:c + b:c + a:b:c",
    "y ~ (a + b):c": "y ~ 1 + a:c + b:c",
    "y ~ a:(b + c)": "y ~ 1 + a:b + a:c",
    "y ~ (a + b)*c": "y ~ 1 + a + b + c + a:c + b:c",
    # CrossTerms: left terms, right terms, then left-outer interactions a:c, a:d, b:c, b:d.
    "y ~ (a + b)*(c + d)": "y ~ 1 + a + b + c + d + a:c + a:d + b:c + b:d",
    # InteractTerms loops over the left terms outside: a:c, a:d, b:c, b:d.
    "y ~ (a + b):(c + d)": "y ~ 1 + a:c + a:d + b:c + b:d",
    # ':' binds tighter than '*': a*(b:c).
    "y ~ a*b:c": "y ~ 1 + a + b:c + a:b:c",
    # Main effects first (degree order), then first appearance.
    "y ~ a*b + c": "y ~ 1 + a + b + c + a:b",
    "y ~ a:b + c + a": "y ~ 1 + c + a + a:b",
    # Degree order moves a first; the interaction keeps its spelling (R: variables b, a -> b:a).
    "y ~ b:a + a": "y ~ 1 + a + b:a",
    # A repeated factor merges: a:a is a, a*a is a.
    "y ~ a:a": "y ~ 1 + a",
    "y ~ a*a": "y ~ 1 + a",
    "y ~ x + log(z):f": "y ~ 1 + x + log(z):f",
}


@pytest.mark.parametrize(("text", "expected"), PRODUCT_CASES.items())
def test_products(text: str, expected: str) -> None:
    check(text, expected)


# ---------------------------------------------------------------------------------------------------
# Nesting '/': a/b is a + a:b; the right side is nested in all left variables together.

NESTING_CASES = {
    "y ~ a/b": "y ~ 1 + a + a:b",
    # R's documented rule: (a+b)/c is a + b + a:b:c, not a + b + a:c + b:c.
    "y ~ (a + b)/c": "y ~ 1 + a + b + a:b:c",
    # Left-associative: (a/b)/c; c is nested in (a, b).
    "y ~ a/b/c": "y ~ 1 + a + a:b + a:b:c",
    "y ~ a/(b + c)": "y ~ 1 + a + a:b + a:c",
    # ':' binds tighter than '/': a/(b:c).
    "y ~ a/b:c": "y ~ 1 + a + a:b:c",
    "y ~ (a*b)/c": "y ~ 1 + a + b + a:b + a:b:c",
    # '*' and '/' have equal precedence, left to right: (a*b)/c and (a/b)*c.
    "y ~ a*b/c": "y ~ 1 + a + b + a:b + a:b:c",
    "y ~ a/b*c": "y ~ 1 + a + c + a:b + a:c + a:b:c",
    "y ~ a/b - a": "y ~ 1 + a:b",
    # R's %in%: the left terms within all variables of the right (InTerms); it binds more loosely
    # than ':' and more tightly than '*' (checked with R 4.4's terms()).
    "y ~ a %in% b": "y ~ 1 + a:b",
    "y ~ (a + b) %in% c": "y ~ 1 + a:c + b:c",
    "y ~ (a + b) %in% (c + d)": "y ~ 1 + a:c:d + b:c:d",
    "y ~ a*b %in% c": "y ~ 1 + a + b:c + a:b:c",
    "y ~ a:b %in% c": "y ~ 1 + a:b:c",
    "y ~ a + b %in% a": "y ~ 1 + a + b:a",
}


@pytest.mark.parametrize(("text", "expected"), NESTING_CASES.items())
def test_nesting(text: str, expected: str) -> None:
    check(text, expected)


# ---------------------------------------------------------------------------------------------------
# Powers '^' and '**': every interaction up to the given degree.

POWER_CASES = {
    "y ~ (a + b + c)^2": "y ~ 1 + a + b + c + a:b + a:c + b:c",
    "y ~ (a + b + c)**2": "y ~ 1 + a + b + c + a:b + a:c + b:c",
    "y ~ (a + b + c)^3": "y ~ 1 + a + b + c + a:b + a:c + b:c + a:b:c",
    # A power above the number of variables adds nothing more.
    "y ~ (a + b + c)^4": "y ~ 1 + a + b + c + a:b + a:c + b:c + a:b:c",
    "y ~ (a + b + c + d)^2": "y ~ 1 + a + b + c + d + a:b + a:c + a:d + b:c + b:d + c:d",
    "y ~ (a + b)^1": "y ~ 1 + a + b",
    "y ~ a^2": "y ~ 1 + a",
    "y ~ (a*b)^2": "y ~ 1 + a + b + a:b",
    # R's ?formula example: (a+b+c)^2 - a:b is a + b + c + b:c + a:c.
    "y ~ (a + b + c)^2 - a:b": "y ~ 1 + a + b + c + a:c + b:c",
    # '^' binds tighter than ':' and '+'.
    "y ~ x + (a + b)^2": "y ~ 1 + x + a + b + a:b",
}


@pytest.mark.parametrize(("text", "expected"), POWER_CASES.items())
def test_powers(text: str, expected: str) -> None:
    check(text, expected)


# ---------------------------------------------------------------------------------------------------
# Removal '-' and deduplication.

REMOVAL_CASES = {
    "y ~ a*b - a:b": "y ~ 1 + a + b",
    # b:a is the same term as a:b.
    "y ~ a*b - b:a": "y ~ 1 + a + b",
    "y ~ a*b*c - a:b:c": "y ~ 1 + a + b + c + a:b + a:c + b:c",
    # A subtracted parenthesis removes each of its terms.
    "y ~ a*b - (a + b)": "y ~ 1 + a:b",
    "y ~ a*b - a": "y ~ 1 + b + a:b",
    "y ~ x + z - x": "y ~ 1 + z",
    "y ~ x - x": "y ~ 1",
    # Removing a whole block; the order of terms inside it does not matter.
    "y ~ x + z + (1 | g) - (1 | g)": "y ~ 1 + x + z",
    "y ~ (1 + x | g) - (x + 1 | g)": "y ~ 1",
    "y ~ (1 | g) + (0 + x | g) - (1 | g)": "y ~ 1 + (0 + x | g)",
}


# Parentheses are a level of their own (R's EncodeVars expands them before the outer operator):
# '-' inside removes only inside; 0, 1 and -1 anywhere set the formula's intercept, with the parity
# of 0/1 flipped on the right side of every '-'. The first five rows are issue 12's table, checked
# with R 4.2's terms(); the rest were worked out from model.c's rules and checked with R 4.4.
LOCAL_REMOVAL_CASES = {
    "y ~ a + (b - a)": "y ~ 1 + a + b",
    "y ~ x + (z - x) + (1 | g)": "y ~ 1 + x + z + (1 | g)",
    "y ~ a*b + (c - a:b)": "y ~ 1 + a + b + c + a:b",
    "y ~ (b - a) + a": "y ~ 1 + b + a",
    # A subtracted parenthesis is expanded first, then removed: (b - a) is b, and a stays.
    "y ~ a + b - (b - a)": "y ~ 1 + a",
    # The intercept flag is global: the last 0/1 walked wins, and '-' flips their meaning.
    "y ~ a:(b - 1)": "y ~ 0 + a:b",
    "y ~ a + b - (b - 1)": "y ~ 1 + a",
    "y ~ a + b - (b + 1)": "y ~ 0 + a",
    "y ~ (a - 1) + 1": "y ~ 1 + a",
    "y ~ 0 + (1 + a):b": "y ~ 1 + a:b",
    # A number is never a term, also inside an interaction (patsy and formulaic read (1 + a):b as
    # b + a:b; R as a:b).
    "y ~ (1 + a):b": "y ~ 1 + a:b",
    "y ~ a:1": "y ~ 1",
    "y ~ a*1": "y ~ 1 + a",
    "y ~ (0 + a)*b": "y ~ 0 + a + b + a:b",
}


@pytest.mark.parametrize(("text", "expected"), LOCAL_REMOVAL_CASES.items())
def test_removal_is_local_to_its_parentheses(text: str, expected: str) -> None:
    check(text, expected)


# Inside parentheses, a removal of a term written nowhere else keeps R's meaning and warns.
WARNED_REMOVAL_CASES = {
    "y ~ (a - b):c": ("y ~ 1 + a:c", "'- b' removes nothing"),
    "y ~ a*(b - c)": ("y ~ 1 + a + b + a:b", "'- c' removes nothing"),
    "y ~ x + (z - w)": ("y ~ 1 + x + z", "'- w' removes nothing"),
    # Unary minus binds tighter than ':' (R): -b:c is (-b):c, and --b is -(-b); both are empty.
    "y ~ a + -b:c": ("y ~ 1 + a", "'- b' removes nothing"),
    "y ~ a + --b": ("y ~ 1 + a", "'- b' removes nothing"),
}


@pytest.mark.parametrize(("text", "expected"), WARNED_REMOVAL_CASES.items())
def test_removal_of_an_unwritten_term_inside_parentheses_warns(
    text: str, expected: tuple[str, str]
) -> None:
    canonical_text, message = expected
    with pytest.warns(FormulaWarning, match=message):
        assert str(hm.parse(text)) == canonical_text


def test_strict_false_drops_the_removes_nothing_check() -> None:
    # R's answer for each (R ignores a removal that finds nothing).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert str(expand(parse_syntax("y ~ x - z"), strict=False)) == "y ~ 1 + x"
        assert str(expand(parse_syntax("y ~ (a - b):c"), strict=False)) == "y ~ 1 + a:c"
        assert (
            str(expand(parse_syntax("y ~ (1 + x - z | g)"), strict=False)) == "y ~ 1 + (1 + x | g)"
        )


@pytest.mark.parametrize(("text", "expected"), REMOVAL_CASES.items())
def test_removal(text: str, expected: str) -> None:
    check(text, expected)


DEDUP_CASES = {
    "y ~ a + a": "y ~ 1 + a",
    "y ~ a + b + a": "y ~ 1 + a + b",
    "y ~ a:b + b:a": "y ~ 1 + a:b",
    "y ~ a*b + b*a": "y ~ 1 + a + b + a:b",
    "y ~ a + 1 + 1": "y ~ 1 + a",
    "y ~ (1 | g) + (1 | g)": "y ~ 1 + (1 | g)",
    "y ~ (x | g) + (1 + x | g)": "y ~ 1 + (1 + x | g)",
    "y ~ (1 | a:b) + (1 | b:a)": "y ~ 1 + (1 | a:b)",
}


@pytest.mark.parametrize(("text", "expected"), DEDUP_CASES.items())
def test_deduplication(text: str, expected: str) -> None:
    check(text, expected)


# ---------------------------------------------------------------------------------------------------
# Group terms: lme4 for '|', brms for '||'.

GROUP_CASES = {
    "y ~ (1 | g)": "y ~ 1 + (1 | g)",
    # Implicit intercept inside the block, as in R: (x | g) is (1 + x | g).
    "y ~ (x | g)": "y ~ 1 + (1 + x | g)",
    "y ~ x + (x | g)": "y ~ 1 + x + (1 + x | g)",
    "y ~ (0 + x | g)": "y ~ 1 + (0 + x | g)",
    "y ~ (x - 1 | g)": "y ~ 1 + (0 + x | g)",
    "y ~ (-1 + x | g)": "y ~ 1 + (0 + x | g)",
    "y ~ (a*b | g)": "y ~ 1 + (1 + a + b + a:b | g)",
    # One block over the (g, h) cells; the grouping keeps the order it was written in.
    "y ~ (1 + x | g:h)": "y ~ 1 + (1 + x | g:h)",
    "y ~ (1 | h:g)": "y ~ 1 + (1 | h:g)",
    # (e | g1/g2) is (e | g1) + (e | g1:g2).
    "y ~ (x | g1/g2)": "y ~ 1 + (1 + x | g1) + (1 + x | g1:g2)",
    # (e | g1 + g2) is (e | g1) + (e | g2); (e | g1*g2) adds (e | g1:g2).
    "y ~ (x | g1 + g2)": "y ~ 1 + (1 + x | g1) + (1 + x | g2)",
    "y ~ (x | g1*g2)": "y ~ 1 + (1 + x | g1) + (1 + x | g2) + (1 + x | g1:g2)",
    "y ~ (1 | g1/(g2 + g3))": "y ~ 1 + (1 | g1) + (1 | g1:g2) + (1 | g1:g3)",
    # '||' stays one block with independent effects (brms), and splits by grouping like '|'.
    "y ~ (x || g)": "y ~ 1 + (1 + x || g)",
    "y ~ (x || g1/g2)": "y ~ 1 + (1 + x || g1) + (1 + x || g1:g2)",
    # lme4's way to write an independent intercept and slope: two blocks, kept as written.
    "y ~ (1 | g) + (0 + x | g)": "y ~ 1 + (1 | g) + (0 + x | g)",
    # Crossed (additive) pooling.
    "y ~ (1 | g) + (1 | h)": "y ~ 1 + (1 | g) + (1 | h)",
    # Blocks print after every population term.
    "y ~ x + (1 | g) + z": "y ~ 1 + x + z + (1 | g)",
    "y ~ 0 + x + (1 | g)": "y ~ 0 + x + (1 | g)",
    "y ~ ((1 | g))": "y ~ 1 + (1 | g)",
    # glmmTMB's covariance spellings: us() is '|', diag() is '||' (glmmTMB's covstruct vignette).
    "y ~ us(1 + x | g)": "y ~ 1 + (1 + x | g)",
    "y ~ diag(x | g)": "y ~ 1 + (1 + x || g)",
    "y ~ x + diag(0 + x | g1/g2)": "y ~ 1 + x + (0 + x || g1) + (0 + x || g1:g2)",
    "y ~ us (1 | g)": "y ~ 1 + (1 | g)",
}


@pytest.mark.parametrize(("text", "expected"), GROUP_CASES.items())
def test_group_terms(text: str, expected: str) -> None:
    check(text, expected)


# The cases from lme4's documentation and tests (findbars, expandDoubleVerts), with lme4's meaning
# and hiermod's brms reading of '||' (one uncorrelated block instead of lme4's separate terms).
LME4_CASES = {
    # lme4: (1 | g) + (0 + x | g); hiermod/brms: one block with a diagonal covariance.
    "y ~ (x || g)": "y ~ 1 + (1 + x || g)",
    # lme4: (1 | g1:g2) + (1 | g1).
    "y ~ (1 | g1/g2)": "y ~ 1 + (1 | g1) + (1 | g1:g2)",
    # lme4: intercept, x1, x2 and x1:x2 as four uncorrelated terms; here one '||' block.
    "y ~ (x1*x2 || id)": "y ~ 1 + (1 + x1 + x2 + x1:x2 || id)",
    # lme4: (1 | h:(g:f)) + (1 | g:f) + (1 | f).
    "y ~ (1 | f/g/h)": "y ~ 1 + (1 | f) + (1 | f:g) + (1 | f:g:h)",
    "y ~ (1 | f*g)": "y ~ 1 + (1 | f) + (1 | g) + (1 | f:g)",
    "y ~ (a + b | f + g + h*i)": (
        "y ~ 1 + (1 + a + b | f) + (1 + a + b | g) + (1 + a + b | h) + (1 + a + b | i)"
        " + (1 + a + b | h:i)"
    ),
}


@pytest.mark.parametrize(("text", "expected"), LME4_CASES.items())
def test_lme4_documented_cases(text: str, expected: str) -> None:
    check(text, expected)


# Spellings other tools accept: unary plus (R, formulae, patsy, formulaic).
UNARY_PLUS_CASES = {
    "y ~ +x": "y ~ 1 + x",
    "y ~ +0 + x": "y ~ 0 + x",
    "y ~ (+0) + x": "y ~ 0 + x",
    "y ~ x + (+z)": "y ~ 1 + x + z",
    "y ~ (+x | g)": "y ~ 1 + (1 + x | g)",
    "~ +1": "~ 1",
}


@pytest.mark.parametrize(("text", "expected"), UNARY_PLUS_CASES.items())
def test_unary_plus_changes_nothing(text: str, expected: str) -> None:
    check(text, expected)


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ('y ~ "a\\nb"', "a\nb"),
        ('y ~ "tab\\there"', "tab\there"),
        ('y ~ "say \\"hi\\""', 'say "hi"'),
        ("y ~ 'it\\'s'", "it's"),
        ('y ~ "back\\\\slash"', "back\\slash"),
        # Inside backticks a name is verbatim, as in R.
        ("y ~ `a\\nb`", "a\\nb"),
    ],
)
def test_quoted_names_decode_escapes_and_print_back(text: str, column: str) -> None:
    formula = hm.parse(text)
    assert formula.main.terms[0].names() == (column,)
    assert hm.parse(str(formula)) == formula  # the printed text reads back to the same column


@pytest.mark.parametrize(
    "text", ["y ~ x + y", "y ~ x:y", "y ~ x + (1 + y | g)", "y ~ (1 | y)", "log(y) ~ log(y)"]
)
def test_the_response_cannot_be_a_predictor(text: str) -> None:
    with pytest.raises(FormulaError, match="is also a predictor"):
        hm.parse(text)


def test_a_transformed_response_may_use_its_column() -> None:
    # R treats log(y) and y as different variables; so does hiermod.
    assert str(hm.parse("log(y) ~ y")) == "log(y) ~ 1 + y"


def test_uncorrelated_block_is_one_block_not_split() -> None:
    (block,) = hm.parse("y ~ (x1*x2 || id)").main.blocks
    assert block.correlated is False
    assert block.intercept is True
    assert [str(t) for t in block.terms] == ["x1", "x2", "x1:x2"]
    assert block.size == 4


def test_nested_grouping_gives_blocks_per_level() -> None:
    blocks = hm.parse("y ~ (1 + x | g1/g2)").main.blocks
    assert [b.factors for b in blocks] == [("g1",), ("g1", "g2")]
    assert all(b.correlated and b.intercept for b in blocks)


# ---------------------------------------------------------------------------------------------------
# Distributional formulas and the response side.

DISTRIBUTIONAL_CASES = {
    "y ~ x; sigma ~ z": "y ~ 1 + x; sigma ~ 1 + z",
    "y ~ x\nsigma ~ z": "y ~ 1 + x; sigma ~ 1 + z",
    "y ~ x; sigma ~ (1 | g:c)": "y ~ 1 + x; sigma ~ 1 + (1 | g:c)",
    "y ~ x; sigma ~ 0 + g:c": "y ~ 1 + x; sigma ~ 0 + g:c",
    "y ~ x; sigma ~ z; nu ~ 1": "y ~ 1 + x; sigma ~ 1 + z; nu ~ 1",
    # Each formula orders its own variables.
    "y ~ a:b; sigma ~ b:a": "y ~ 1 + a:b; sigma ~ 1 + b:a",
    "y ~ x1 + (1 + x1 | group:color); sigma ~ (1 | group:color)": (
        "y ~ 1 + x1 + (1 + x1 | group:color); sigma ~ 1 + (1 | group:color)"
    ),
}


@pytest.mark.parametrize(("text", "expected"), DISTRIBUTIONAL_CASES.items())
def test_distributional_formulas(text: str, expected: str) -> None:
    check(text, expected)


def test_distributional_parameters_are_named() -> None:
    f = hm.parse("y ~ x; sigma ~ z; nu ~ 1")
    assert list(f.dpars) == ["sigma", "nu"]
    assert str(f.dpars["sigma"]) == "sigma ~ 1 + z"
    assert f.main.lhs_name == "y"


RESPONSE_CASES = {
    "succ | trials(n) ~ x": "succ | trials(n) ~ 1 + x",
    "y | weights(w) ~ x": "y | weights(w) ~ 1 + x",
    "y | se(s) + weights(w) ~ x": "y | se(s) + weights(w) ~ 1 + x",
    "log(y) ~ x": "log(y) ~ 1 + x",
    "I(y / 100) ~ x": "I(y / 100) ~ 1 + x",
    "`log.radon` ~ x": "`log.radon` ~ 1 + x",
}


@pytest.mark.parametrize(("text", "expected"), RESPONSE_CASES.items())
def test_response_side(text: str, expected: str) -> None:
    check(text, expected)


def test_trials_is_an_addition_of_the_response() -> None:
    response = hm.parse("succ | trials(n) ~ x").response
    assert response is not None
    assert [a.func for a in response.additions] == ["trials"]
    assert str(response.value) == "succ"


# ---------------------------------------------------------------------------------------------------
# Transforms (allow-listed calls) are atoms of the algebra.

TRANSFORM_CASES = {
    "y ~ log(x)": "y ~ 1 + log(x)",
    "y ~ center(x) + scale(z)": "y ~ 1 + center(x) + scale(z)",
    'y ~ C(f, ref="b")': 'y ~ 1 + C(f, ref="b")',
    "y ~ C(f, ref='b')": 'y ~ 1 + C(f, ref="b")',
    "y ~ I(x**2)": "y ~ 1 + I(x**2)",
    # Inside I() '^' is arithmetic, the same as '**'.
    "y ~ I(x^2)": "y ~ 1 + I(x**2)",
    "y ~ I((x - 1)**2) + x": "y ~ 1 + I((x - 1)**2) + x",
    "y ~ poly(x, 2)": "y ~ 1 + poly(x, 2)",
    "y ~ poly(x, degree=3)": "y ~ 1 + poly(x, degree=3)",
    "y ~ bs(x, df=4)": "y ~ 1 + bs(x, df=4)",
    # Offsets print after the population terms, before the blocks.
    "y ~ offset(log(n)) + x": "y ~ 1 + x + offset(log(n))",
    "y ~ x + offset(log(n)) + (1 | g)": "y ~ 1 + x + offset(log(n)) + (1 | g)",
    "y ~ log(x)*C(f)": "y ~ 1 + log(x) + C(f) + log(x):C(f)",
    "y ~ 0 + center(x) + (center(x) | g)": "y ~ 0 + center(x) + (1 + center(x) | g)",
    # Numbers print the way they are usually typed; arithmetic keeps the needed parentheses only.
    "y ~ I(x * 2.0)": "y ~ 1 + I(x * 2)",
    "y ~ I(x / 1e3)": "y ~ 1 + I(x / 1000)",
    "y ~ I(a - (b - c))": "y ~ 1 + I(a - (b - c))",
    "y ~ I(a * (b / c))": "y ~ 1 + I(a * (b / c))",
    "y ~ I(((a + b)))": "y ~ 1 + I(a + b)",
    "y ~ I(--x)": "y ~ 1 + I(--x)",
    "y ~ I(-x**2)": "y ~ 1 + I(-x**2)",
    "y ~ I((-x)**2)": "y ~ 1 + I((-x)**2)",
    "y ~ I(2**-x)": "y ~ 1 + I(2**-x)",
}


@pytest.mark.parametrize(("text", "expected"), TRANSFORM_CASES.items())
def test_transforms(text: str, expected: str) -> None:
    check(text, expected)


def test_offset_is_kept_apart_from_terms() -> None:
    f = hm.parse("y ~ x + offset(log(n))").main
    assert [str(t) for t in f.terms] == ["x"]
    assert [str(o) for o in f.offsets] == ["offset(log(n))"]
    assert f.names() == ("x", "n")


def test_arithmetic_grouping_is_kept() -> None:
    # a * (b / c) must not print as a * b / c, which reads back as (a * b) / c.
    assert hm.parse("y ~ I(a * (b / c))") != hm.parse("y ~ I(a * b / c)")
    assert hm.parse("y ~ I(a + (b + c))") != hm.parse("y ~ I(a + b + c)")


# ---------------------------------------------------------------------------------------------------
# Terms compare as sets of factors, spans stay out of equality.


def test_terms_compare_as_sets() -> None:
    ab = hm.parse("y ~ a:b").main.terms[0]
    ba = hm.parse("y ~ b:a").main.terms[0]
    assert ab == ba
    assert hash(ab) == hash(ba)
    assert str(ab) == "a:b"
    assert str(ba) == "b:a"
    assert Term(()).is_intercept
    assert ab.degree == 2


def test_whitespace_and_spans_do_not_matter() -> None:
    assert hm.parse("y~a*b+(x|g)") == hm.parse("y  ~  a * b  +  ( x | g )")


def test_formula_equality_sees_differences() -> None:
    assert hm.parse("y ~ x") != hm.parse("y ~ 0 + x")
    assert hm.parse("y ~ (x | g)") != hm.parse("y ~ (x || g)")
    assert hm.parse("y ~ (1 | g/h)") != hm.parse("y ~ (1 | g) + (1 | h)")


# ---------------------------------------------------------------------------------------------------
# Size guards: wide formulas work, explosions are refused quickly with a located error.


def test_a_long_sum_is_not_nesting() -> None:
    # 2000 terms: a left-nested chain 2000 deep; must not hit Python's recursion limit.
    names = [f"x{i}" for i in range(2000)]
    f = hm.parse("y ~ " + " + ".join(names))
    assert [str(t) for t in f.main.terms] == names
    assert hm.parse(str(f)) == f


@pytest.mark.parametrize(
    "text",
    [
        "y ~ (" + " + ".join(f"x{i}" for i in range(20)) + ")^20",
        "y ~ " + "*".join(f"x{i}" for i in range(20)),
        "y ~ ("
        + " + ".join(f"a{i}" for i in range(400))
        + "):("
        + " + ".join(f"b{i}" for i in range(400))
        + ")",
    ],
    ids=["power", "product", "interaction"],
)
def test_term_explosion_is_refused(text: str) -> None:
    with pytest.raises(FormulaError, match=f"more than {MAX_TERMS:,} terms"):
        hm.parse(text)


def test_large_power_is_fast_enough() -> None:
    # 2**12 - 1 terms; the expansion works on bit sets as R does.
    f = hm.parse("y ~ (" + " + ".join(f"x{i}" for i in range(12)) + ")^12")
    assert len(f.main.terms) == 2**12 - 1
    assert max(t.degree for t in f.main.terms) == 12
