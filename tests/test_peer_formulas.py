"""Population-term algebra: the formula cases of the peers' own test suites, with R's answers.

Each row names its source beside it: the repository, the file and test, and the line of the case in
that file, at these commits:

* bambinos/formulae a4eb15d (tests/test_resolver.py, tests/test_design_matrices.py,
  tests/test_eval_new_data.py, tests/test_parser.py, tests/test_scanner.py);
* pydata/patsy de6e17e (patsy/desc.py: ``_eval_tests``, ``_eval_error_tests``);
* matthewwardrop/formulaic 81e675b (tests/parser/test_parser.py: ``FORMULA_TO_TERMS`` and
  ``TestFormulaParser``; tests/test_formula.py: ``TestFormula``).

A peer text without ``~`` is a right-hand side (patsy, formulae and formulaic take those); it is read
as ``~ <text>``. The expected value is R's answer (R 4.2: ``attr(terms(~ <text>), "intercept")`` and
``"term.labels"``), written ``"1 + a + b + a:b"``: the intercept flag (``1`` or ``0``), then the
terms, compared as sets of factors (``a:b`` is ``b:a``). Offsets count as terms here. Where the peer's
own answer differs from R's, the row's note says what the peer gives and why.

Rows that differ from R on purpose or that use features hiermod does not have are in their own tables:

* ``STRICT_REMOVALS``: removing, at the top level, a term the formula does not have. R silently
  ignores it (``y ~ x - z`` is ``y ~ x``); hiermod refuses it as a likely typo (docs/grammar.md). The
  row keeps R's answer for the record.
* ``REFUSED``: not a formula in R either, or a peer-only feature (Python code, ``np.`` calls,
  formulaic's multi-part ``|`` and ``[ ]`` stages, ``.``, patsy contrast objects, response subsets).
  hiermod must raise a located ``FormulaError``/``FormulaSyntaxError``, never a raw lark or Python
  exception. Where a verbatim case is refused only because of a foreign spelling (``f(x)``,
  ``np.log``), an adapted row in ``CASES`` keeps its algebra (the note says "adapted").
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

import hiermod as hm
from hiermod.errors import FormulaError, FormulaSyntaxError, HiermodError
from hiermod.formula.syntax import Name
from hiermod.formula.terms import Atom, Formula
from hiermod.warnings import FormulaWarning

PATSY = "pydata/patsy patsy/desc.py _eval_tests"
PATSY_ERR = "pydata/patsy patsy/desc.py _eval_error_tests"
FORMULAIC = "matthewwardrop/formulaic tests/parser/test_parser.py FORMULA_TO_TERMS"
FORMULAIC_PARSER = "matthewwardrop/formulaic tests/parser/test_parser.py TestFormulaParser"
FORMULAIC_FORMULA = "matthewwardrop/formulaic tests/test_formula.py TestFormula"
FORMULAE_RESOLVER = "bambinos/formulae tests/test_resolver.py"
FORMULAE_DM = "bambinos/formulae tests/test_design_matrices.py"
FORMULAE_NEW = "bambinos/formulae tests/test_eval_new_data.py"
FORMULAE_PARSER = "bambinos/formulae tests/test_parser.py"
FORMULAE_SCANNER = "bambinos/formulae tests/test_scanner.py"


class Case(NamedTuple):
    formula: str  # the peer's text
    expected: str  # R's answer: "1 + a + a:b"
    source: str  # repository, file, test
    line: int  # line of the case in that file
    note: str = ""
    warns: bool = False  # a FormulaWarning: a removal that removes nothing, or R's empty 1*d


WARNS = "removes a term written nowhere else: R's meaning, with a FormulaWarning"

# Local removal: a parenthesised sum is expanded on its own, as in R's terms(), so `a + (b - a)`
# keeps a (the `- a` removes nothing inside `(b - a)`), while `(a + b) - a` removes it. The
# intercept is the one exception: `0`/`-1` anywhere remove the formula's intercept, `1`/`-0` anywhere
# put it back, and the last word wins (`~ 1 + (a + 0)` has none).
PATSY_CASES = [
    Case("a", "1 + a", PATSY, 465),
    Case("1", "1", PATSY, 466),
    Case("0", "0", PATSY, 467),
    Case("- 1", "0", PATSY, 468),
    Case("- 0", "1", PATSY, 469),
    Case("+ 1", "1", PATSY, 470),
    Case("+ 0", "0", PATSY, 471),
    Case("0 + 1", "1", PATSY, 472),
    Case("1 + 0", "0", PATSY, 473),
    Case("1 - 0", "1", PATSY, 474),
    Case("0 - 1", "0", PATSY, 475),
    Case("1 + a", "1 + a", PATSY, 476),
    Case("0 + a", "0 + a", PATSY, 477),
    Case("a - 1", "0 + a", PATSY, 478),
    Case("a - 0", "1 + a", PATSY, 479),
    Case("a + b", "1 + a + b", PATSY, 481),
    Case("(a + b)", "1 + a + b", PATSY, 482),
    Case("a + ((((b))))", "1 + a + b", PATSY, 483),
    Case("a + ((((+b))))", "1 + a + b", PATSY, 484),
    Case("a + ((((b - a))))", "1 + a + b", PATSY, 485, "local removal: a is not in (b)"),
    Case("a + a + a", "1 + a", PATSY, 486),
    Case("a + (b - a)", "1 + a + b", PATSY, 487, "local removal"),
    Case("a + log(a) - log( a )", "1 + a", PATSY, 490, "adapted: np.log(a, base=10) -> log(a)"),
    Case("a + (I(b) + c)", "1 + a + I(b) + c", PATSY, 491),
    Case("a + I(b + c)", "1 + a + I(b + c)", PATSY, 492),
    Case("a:b", "1 + a:b", PATSY, 493),
    Case("a:b:a", "1 + a:b", PATSY, 494),
    Case("a:(b + c)", "1 + a:b + a:c", PATSY, 495),
    Case("(a + b):c", "1 + a:c + b:c", PATSY, 496),
    Case("a:(b - c)", "1 + a:b", PATSY, 497, WARNS, warns=True),
    Case("c + a:c + a:(b - c)", "1 + c + a:c + a:b", PATSY, 498),
    Case("(a - b):c", "1 + a:c", PATSY, 499, WARNS, warns=True),
    Case("b + b:c + (a - b):c", "1 + b + b:c + a:c", PATSY, 500, "local: b:c stays"),
    Case("a:b - a:b", "1", PATSY, 501),
    Case("a:b - b:a", "1", PATSY, 502),
    Case("a + b - (a + b)", "1", PATSY, 504),
    Case("a * b", "1 + a + b + a:b", PATSY, 505),
    Case("a * b * a", "1 + a + b + a:b", PATSY, 506),
    Case("a * (b + c)", "1 + a + b + c + a:b + a:c", PATSY, 507),
    Case("(a + b) * c", "1 + a + b + c + a:c + b:c", PATSY, 508),
    Case("a * (b - c)", "1 + a + b + a:b", PATSY, 509, WARNS, warns=True),
    Case("c + a:c + a * (b - c)", "1 + c + a + b + a:c + a:b", PATSY, 510),
    Case("(a - b) * c", "1 + a + c + a:c", PATSY, 511, WARNS, warns=True),
    Case("b + b:c + (a - b) * c", "1 + b + a + c + b:c + a:c", PATSY, 512),
    Case("a/b", "1 + a + a:b", PATSY, 513),
    # Nesting in all left variables together: (a + b)/c is a + b + a:b:c (R's ?formula).
    Case("(a + b)/c", "1 + a + b + a:b:c", PATSY, 514),
    Case("b + b:c + (a - b)/c", "1 + b + a + b:c + a:c", PATSY, 515, "local removal"),
    Case("a/(b + c)", "1 + a + a:b + a:c", PATSY, 516),
    Case("a ** 2", "1 + a", PATSY, 517),
    Case(
        "(a + b + c + d) ** 2",
        "1 + a + b + c + d + a:b + a:c + a:d + b:c + b:d + c:d",
        PATSY,
        518,
    ),
    Case(
        "(a + b + c + d) ** 3",
        "1 + a + b + c + d + a:b + a:c + a:d + b:c + b:d + c:d + a:b:c + a:b:d + a:c:d + b:c:d",
        PATSY,
        533,
    ),
    Case("a + +a", "1 + a", PATSY, 552, "unary plus"),
    Case("~ a + b", "1 + a + b", PATSY, 553),
    Case("~ a*b", "1 + a + b + a:b", PATSY, 554),
    Case("~ a*b + 0", "0 + a + b + a:b", PATSY, 555),
    Case("~ -1", "0", PATSY, 556),
    Case("y ~ a + b", "1 + a + b", PATSY, 559),
    # Precedence: ':' binds tighter than '*' and '/', which bind tighter than '+'.
    Case("a + b * c", "1 + a + b + c + b:c", PATSY, 565),
    Case("a * b + c", "1 + a + b + c + a:b", PATSY, 566),
    Case("a * b - a", "1 + b + a:b", PATSY, 567),
    Case("a + b / c", "1 + a + b + b:c", PATSY, 568),
    Case("a / b + c", "1 + a + c + a:b", PATSY, 569),
    Case("a*b:c", "1 + a + b:c + a:b:c", PATSY, 570),
    Case("a:b*c", "1 + c + a:b + a:b:c", PATSY, 571),
    Case("~ 1 + 1 + 0 + 1", "1", PATSY, 573),
    Case("~ 0 + 1 + 0", "0", PATSY, 574),
    Case("~ 0 - 1 - 1 + 0 + 1", "1", PATSY, 575),
    Case("~ 1 - 1", "0", PATSY, 576),
    Case("~ 0 + a + 1", "1 + a", PATSY, 577),
    Case(
        "~ 1 + (a + 0)",
        "0 + a",
        PATSY,
        578,
        "patsy: 1 + a (its 0 in parentheses is local); in R a 0 anywhere removes the intercept",
    ),
    Case("~ 0 + (a + 1)", "1 + a", PATSY, 579),
    # patsy's _eval_error_tests that R accepts: R's answer.
    Case("b + (-a)", "1 + b", PATSY_ERR, 587, "patsy: error; " + WARNS, warns=True),
    # R: 1 + (-(a + b)); the unary minus removes from its own, empty level.
    Case("1 + -(a + b)", "1", PATSY_ERR, 620, "patsy: error; " + WARNS, warns=True),
    Case(
        "a:1", "1", PATSY_ERR, 588, "patsy: error; R: the 1 keeps the intercept, a:1 adds no term"
    ),
    Case("(a + 1)*b", "1 + a + b + a:b", PATSY_ERR, 589, "patsy: error"),
    Case("a + 1.0", "1 + a", PATSY_ERR, 591, "patsy: error; R reads 1.0 as 1"),
    Case("a + -a**2", "1 + a", PATSY_ERR, 622, "patsy: error; R: -(a^2) removes from itself only"),
]

FORMULAIC_CASES = [
    Case("a", "1 + a", FORMULAIC, 32),
    Case("a + b", "1 + a + b", FORMULAIC, 33),
    Case("b + a", "1 + b + a", FORMULAIC, 34),
    Case("a - 1", "0 + a", FORMULAIC, 36),
    Case("a + 0", "0 + a", FORMULAIC, 37),
    Case("a + b - a", "1 + b", FORMULAIC, 38),
    Case("(a + b) - a", "1 + b", FORMULAIC, 40),
    Case("(a - a) + b", "1 + b", FORMULAIC, 41),
    Case("a + (b - a)", "1 + a + b", FORMULAIC, 42, "local removal"),
    Case("(b - a) + a", "1 + b + a", FORMULAIC, 44, "local removal"),
    Case("+0", "0", FORMULAIC, 46, "unary plus"),
    Case("(+0)", "0", FORMULAIC, 47, "formulaic: 1 (its 0 in parentheses is local); R: 0"),
    Case("0 + 0", "0", FORMULAIC, 48),
    Case("0 + 0 + 1", "1", FORMULAIC, 49),
    Case("0 + 0 + 1 + 0", "0", FORMULAIC, 50),
    Case("0 - 0", "1", FORMULAIC, 51),
    Case("a ~ +0", "0", FORMULAIC, 54),
    Case("a ~ -0", "1", FORMULAIC, 55),
    Case("~ a + b", "1 + a + b", FORMULAIC, 57),
    Case("a ~ b + c", "1 + b + c", FORMULAIC, 58),
    Case("a ~ (b + c)", "1 + b + c", FORMULAIC, 59),
    Case("a:b", "1 + a:b", FORMULAIC, 111),
    Case("b:a + a:b", "1 + b:a", FORMULAIC, 112),
    Case("a * b", "1 + a + b + a:b", FORMULAIC, 113),
    Case("(a+b):(c+d)", "1 + a:c + a:d + b:c + b:d", FORMULAIC, 114),
    Case("(c+d):(a+b)", "1 + c:a + c:b + d:a + d:b", FORMULAIC, 115),
    Case("(a+b)**2", "1 + a + b + a:b", FORMULAIC, 116),
    Case("(a+b)^2", "1 + a + b + a:b", FORMULAIC, 117),
    Case("(a+b)**3", "1 + a + b + a:b", FORMULAIC, 118),
    Case("a/b", "1 + a + a:b", FORMULAIC, 121),
    Case("(b+a)/c", "1 + b + a + b:a:c", FORMULAIC, 122),
    Case("a/(b+c)", "1 + a + a:b + a:c", FORMULAIC, 123),
    Case("a/(b+c-b)", "1 + a + a:c", FORMULAIC, 124),
    # R's %in% is an interaction (terms(~ b %in% a) labels it b:a); formulaic reads it as a/b.
    Case("b %in% a", "1 + b:a", FORMULAIC, 125, "formulaic: 1 + a + a:b"),
    Case("c %in% (a+b)", "1 + c:a:b", FORMULAIC, 126, "formulaic: 1 + a + b + a:b:c"),
    Case("(b+c) %in% a", "1 + b:a + c:a", FORMULAIC, 127, "formulaic: 1 + a + a:b + a:c"),
    Case("(b+c-b) %in% a", "1 + c:a", FORMULAIC, 128, "formulaic: 1 + a + a:c"),
    Case("+1", "1", FORMULAIC, 130),
    Case("-0", "1", FORMULAIC, 131),
    Case("+x", "1 + x", FORMULAIC, 132, "unary plus"),
    Case("`a|b~c*d`", "1 + `a|b~c*d`", FORMULAIC, 135),
    # TestFormulaParser's errors that R accepts. R's 0 or 1 inside a product sets the intercept and
    # adds no factor: a * 0 is 0 + a; a : 0 is 0 alone. R quirk: 1 * a keeps only the intercept.
    Case("a * 0", "0 + a", FORMULAIC_PARSER, 187, "formulaic: error"),
    Case("a : 0", "0", FORMULAIC_PARSER, 194, "formulaic: error"),
    Case("1 * a", "1", FORMULAIC_PARSER, 239, "formulaic: error; R drops d in 1*d", warns=True),
    Case("a * b * c", "1 + a + b + c + a:b + a:c + b:c + a:b:c", FORMULAIC_FORMULA, 25),
    Case("a ~ b", "1 + b", FORMULAIC_FORMULA, 29),
    Case("a + b", "1 + a + b", FORMULAIC_FORMULA, 41),
    Case("a+e:d+b:c+f", "1 + a + f + e:d + b:c", FORMULAIC_FORMULA, 106),
    Case("y~a+e:d+b:c+f", "1 + a + f + e:d + b:c", FORMULAIC_FORMULA, 137),
    Case("a + b + log(c) - 1", "0 + a + b + log(c)", FORMULAIC_FORMULA, 196),
    Case("a:b + b:c + c:d - 1", "0 + a:b + b:c + c:d", FORMULAIC_FORMULA, 200),
    Case("y ~ log(x)", "1 + log(x)", FORMULAIC_FORMULA, 208),
]

FORMULAE_CASES = [
    Case("-1", "0", FORMULAE_RESOLVER, 15),
    Case("x", "1 + x", FORMULAE_RESOLVER, 19),
    Case("term_name_abc", "1 + term_name_abc", FORMULAE_RESOLVER, 23),
    Case("`$%!N4m3##!! NNN`", "1 + `$%!N4m3##!! NNN`", FORMULAE_RESOLVER, 27),
    Case("x + y", "1 + x + y", FORMULAE_RESOLVER, 33),
    Case("x + log(x)", "1 + x + log(x)", FORMULAE_RESOLVER, 41, "adapted: f(x) -> log(x)"),
    Case("x + y:z", "1 + x + y:z", FORMULAE_RESOLVER, 49),
    Case("x + (z + y)", "1 + x + z + y", FORMULAE_RESOLVER, 59),
    Case("x:y", "1 + x:y", FORMULAE_RESOLVER, 91),
    Case("x:log(x)", "1 + x:log(x)", FORMULAE_RESOLVER, 98, "adapted: f(x) -> log(x)"),
    Case("x:y:z", "1 + x:y:z", FORMULAE_RESOLVER, 105),
    Case("x:y*z", "1 + z + x:y + x:y:z", FORMULAE_RESOLVER, 109),
    Case("x:(y*z)", "1 + x:y + x:z + x:y:z", FORMULAE_RESOLVER, 119),
    Case("x:(z + y)", "1 + x:z + x:y", FORMULAE_RESOLVER, 131),
    Case("x*y", "1 + x + y + x:y", FORMULAE_RESOLVER, 141),
    Case("x*log(x)", "1 + x + log(x) + x:log(x)", FORMULAE_RESOLVER, 153, "adapted: f -> log"),
    Case("x*y:z", "1 + x + y:z + x:y:z", FORMULAE_RESOLVER, 162),
    Case("x*y*z", "1 + x + y + z + x:y + x:z + y:z + x:y:z", FORMULAE_RESOLVER, 171),
    Case("x*(y*z)", "1 + x + y + z + y:z + x:y + x:z + x:y:z", FORMULAE_RESOLVER, 185),
    Case("x*(z + y)", "1 + x + z + y + x:z + x:y", FORMULAE_RESOLVER, 201),
    Case("x / y", "1 + x + x:y", FORMULAE_RESOLVER, 214),
    Case("x / log(x)", "1 + x + x:log(x)", FORMULAE_RESOLVER, 221, "adapted: f(x) -> log(x)"),
    Case("x / y:z", "1 + x + x:y:z", FORMULAE_RESOLVER, 229),
    Case("x / (z + y)", "1 + x + x:z + x:y", FORMULAE_RESOLVER, 240),
    Case("y ~ 0", "0", FORMULAE_DM, 101),
    Case("y ~ 1", "1", FORMULAE_DM, 107),
    Case("y ~ x1", "1 + x1", FORMULAE_DM, 127),
    Case("y ~ f", "1 + f", FORMULAE_DM, 134),
    Case("y ~ 0 + f", "0 + f", FORMULAE_DM, 144),
    Case("y ~ 1 + f", "1 + f", FORMULAE_DM, 153),
    Case("y ~ 0 + f + g", "0 + f + g", FORMULAE_DM, 163),
    Case("y ~ 1 + f + g", "1 + f + g", FORMULAE_DM, 176),
    Case("y ~ 0 + f + g + f:g", "0 + f + g + f:g", FORMULAE_DM, 189),
    Case("y ~ 1 + f + g + f:g", "1 + f + g + f:g", FORMULAE_DM, 208),
    Case("y ~ 0 + f:g", "0 + f:g", FORMULAE_DM, 225),
    # formulae lists extra terms here: its full-rank coding of f:g (patsy's algorithm) adds g. That
    # is how the columns are coded, not a term of the formula; R's terms() has f:g only.
    Case("y ~ 1 + f:g", "1 + f:g", FORMULAE_DM, 236, "formulae: Intercept, g, f:g"),
    Case("y ~ 1 + g + f:g", "1 + g + f:g", FORMULAE_DM, 247),
    Case(
        "y ~ x1 + x2 + f:g + h:j:x2",
        "1 + x1 + x2 + f:g + h:j:x2",
        FORMULAE_DM,
        259,
        "formulae also lists g and j:x2 (its coding of f:g and h:j:x2)",
    ),
    Case("y ~ f * g", "1 + f + g + f:g", FORMULAE_DM, 274),
    Case("y ~ f + g + f:g", "1 + f + g + f:g", FORMULAE_DM, 275),
    Case("y ~ 0 + f * g", "0 + f + g + f:g", FORMULAE_DM, 279),
    Case("y ~ 0 + f + g + f:g", "0 + f + g + f:g", FORMULAE_DM, 280),
    Case("y ~ x1 + g + x1:g", "1 + x1 + g + x1:g", FORMULAE_DM, 286),
    Case("y ~ g + x1:g", "1 + g + x1:g", FORMULAE_DM, 294),
    Case("y ~ x1 + g + x1:g + x1:x2:g", "1 + x1 + g + x1:g + x1:x2:g", FORMULAE_DM, 301),
    Case(
        "y ~ x1 + g + x1:x2 + x1:g + x1:x2:g",
        "1 + x1 + g + x1:x2 + x1:g + x1:x2:g",
        FORMULAE_DM,
        309,
    ),
    Case("y ~ 0 + g + x1:g + x1:x2:g", "0 + g + x1:g + x1:x2:g", FORMULAE_DM, 317),
    Case("y ~ x1:x2", "1 + x1:x2", FORMULAE_DM, 325),
    Case("y ~ I(x1 + x2)", "1 + I(x1 + x2)", FORMULAE_DM, 337),
    Case("y ~ center(x1)", "1 + center(x1)", FORMULAE_DM, 341),
    Case("y ~ scale(x1)", "1 + scale(x1)", FORMULAE_DM, 347),
    Case("y ~ standardize(x1)", "1 + standardize(x1)", FORMULAE_DM, 354),
    Case("y ~ C(x3)", "1 + C(x3)", FORMULAE_DM, 362),
    Case("y ~ 0 + C(x3)", "0 + C(x3)", FORMULAE_DM, 370),
    Case("y ~ C(f)", "1 + C(f)", FORMULAE_DM, 388),
    Case("y ~ exp(x1)", "1 + exp(x1)", FORMULAE_DM, 401, "adapted: np.exp(x1) -> exp(x1)"),
    Case(
        "`My response` ~ `$$#1@@`*`-- ! Hi there!`",
        "1 + `$$#1@@` + `-- ! Hi there!` + `$$#1@@`:`-- ! Hi there!`",
        FORMULAE_DM,
        420,
    ),
    Case("y1 ~ x", "1 + x", FORMULAE_DM, 557),
    Case("C(x)", "1 + C(x)", FORMULAE_DM, 690),
    Case("y ~ offset(x)", "1 + offset(x)", FORMULAE_DM, 823),
    Case("y ~ offset(log(x))", "1 + offset(log(x))", FORMULAE_DM, 838, "adapted: np.log -> log"),
    Case("y ~ x + offset(x)", "1 + x + offset(x)", FORMULAE_DM, 863),
    Case("+x1", "1 + x1", FORMULAE_DM, 890, "unary plus"),
    Case("x", "1 + x", FORMULAE_DM, 1172),
    Case(
        "0 + bs(time, degree=2, df=3) : state",
        "0 + bs(time, degree=2, df=3):state",
        FORMULAE_DM,
        1192,
    ),
    Case(
        "1 + x + I(x**2) + I(x**3)",
        "1 + x + I(x**2) + I(x**3)",
        FORMULAE_DM,
        1220,
        "adapted: np.power(x, 2) -> I(x**2)",
    ),
    Case("0 + g + 1", "1 + g", FORMULAE_DM, 1246),
    Case("-1 + g + 1", "1 + g", FORMULAE_DM, 1252),
    Case("0 + g + 0 + 1", "1 + g", FORMULAE_DM, 1258),
    Case("y ~ center(x) + scale(z)", "1 + center(x) + scale(z)", FORMULAE_NEW, 149),
    Case("y ~ g1", "1 + g1", FORMULAE_NEW, 174),
    Case("y ~ 0 + C(u)", "0 + C(u)", FORMULAE_NEW, 182),
    Case("scale(exp(x) + 1)", "1 + scale(exp(x) + 1)", FORMULAE_NEW, 263, "adapted: np.exp -> exp"),
    Case("y ~ 0 + x*g", "0 + x + g + x:g", FORMULAE_NEW, 284),
    Case("x ~ 0 + g", "0 + g", FORMULAE_NEW, 317),
    Case("`$$##!!`", "1 + `$$##!!`", FORMULAE_PARSER, 29),
    Case("x + y", "1 + x + y", FORMULAE_PARSER, 69),
    Case("x * y", "1 + x + y + x:y", FORMULAE_PARSER, 83),
    Case("x / y", "1 + x + x:y", FORMULAE_PARSER, 94),
    Case("x : y", "1 + x:y", FORMULAE_PARSER, 105),
    Case("x ** 2", "1 + x", FORMULAE_PARSER, 116),
    Case("x ~ y", "1 + y", FORMULAE_PARSER, 130),
    Case("(x + z)", "1 + x + z", FORMULAE_PARSER, 139),
    Case("x*y + u:v", "1 + x + y + x:y + u:v", FORMULAE_PARSER, 172),
    Case(
        "log(y) ~ (`var 1` + `var 2` + `var 3`) ** 3 - `var 2`:`var 3`",
        "1 + `var 1` + `var 2` + `var 3` + `var 1`:`var 2` + `var 1`:`var 3`"
        " + `var 1`:`var 2`:`var 3`",
        FORMULAE_PARSER,
        219,
        "adapted: np.log(y) -> log(y)",
    ),
]

# String literals as terms: R's terms() rejects them (invalid model formula), formulaic and formulae
# too; hiermod's grammar reads a quoted text as a column name (docs/grammar.md, "Column names"), so
# 'asd' is the column asd. Expected values worked out from that rule, not from R.
QUOTED_NAMES = [
    Case("'asd'", "1 + asd", FORMULAIC_PARSER, 234, "formulaic: string literals are not valid"),
    Case("'asd':a", "1 + asd:a", FORMULAIC_PARSER, 251, "formulaic: string literals are not valid"),
    Case("'A'", "1 + A", FORMULAE_PARSER, 18, "formulae: a literal"),
]

CASES = PATSY_CASES + FORMULAIC_CASES + FORMULAE_CASES + QUOTED_NAMES


class StrictRemoval(NamedTuple):
    formula: str
    r_answer: str  # what R gives; hiermod refuses instead (the removal is likely a typo)
    source: str
    line: int


STRICT_REMOVALS = [
    StrictRemoval("1 - a", "1", PATSY, 480),
    StrictRemoval("1 - (a + b)", "1", PATSY, 503),
    StrictRemoval("~ 1 - (a + 1)", "0", PATSY, 580),
    StrictRemoval("- a", "1", PATSY_ERR, 621),
    StrictRemoval("-x", "1", FORMULAIC, 133),
    StrictRemoval("x - y", "1 + x", FORMULAE_RESOLVER, 65),
    StrictRemoval("x - log(x)", "1 + x", FORMULAE_RESOLVER, 73),  # adapted: f(x) -> log(x)
    StrictRemoval("x - y:z", "1 + x", FORMULAE_RESOLVER, 77),
    StrictRemoval("x - (z + y)", "1 + x", FORMULAE_RESOLVER, 85),
    StrictRemoval("-x1", "1", FORMULAE_DM, 893),  # formulae: error "Unary negation … '0' or '1'"
    StrictRemoval("x - y", "1 + x", FORMULAE_PARSER, 76),
]


class Refused(NamedTuple):
    formula: str
    reason: str
    source: str
    line: int


EMPTY = "an empty formula (patsy and formulaic read it as ~ 1; R has none): write ~ 1"
NOT_R = "not a formula in R either"
ONE_TILDE = "one '~' per formula (R's terms() keeps only the last side; patsy rejects it too)"
NUMBER_TERM = "a number other than 0 or 1 as a term (R: invalid model formula)"
POWER = "a power must be a whole number (R: invalid power in formula)"
LHS_ALGEBRA = "patsy's term algebra on the left side: the response is one column or call"
CONSTANT_RESPONSE = "a constant response (patsy: no left-hand intercept)"
NUMPY = "np.… calls: hiermod calls only its own allow-listed functions, by bare name (log, exp)"
USER_FUNCTION = "an arbitrary Python function: only allow-listed calls (formula text is not run)"
PYTHON_CODE = "{…} holds Python code (formulaic, formulae): write I(…) for arithmetic"
MULTIPART = "formulaic's multi-part formulas a | b: '|' belongs inside a group term (x | g)"
STAGES = "formulaic's [ … ] stages and groupings: not formula syntax; group with ( )"
DOT = "'.' (all other columns) needs the data; hiermod's formulas are read without it"
CONTRAST = "a patsy/formulae contrast object: write C(f, ref=…) or C(f, sum)"
SUBSET = "formulae's level subset y['b'] of the response: make the indicator a column"
PROPORTION = "formulae's prop()/p() response: brms writes succ | trials(n) ~ …"

REFUSED = [
    Refused("", EMPTY, PATSY, 462),
    Refused(" ", EMPTY, PATSY, 463),
    Refused(" \n ", EMPTY, PATSY, 464),
    Refused("a + np.log(a, base=10)", NUMPY, PATSY, 488),
    Refused("a + np.log(a, base=10) - np . log(a , base = 10)", NUMPY, PATSY, 490),
    Refused("0 ~ a + b", CONSTANT_RESPONSE, PATSY, 557),
    Refused("1 ~ a + b", CONSTANT_RESPONSE, PATSY, 558),
    Refused("0 + y ~ a + b", LHS_ALGEBRA, PATSY, 560),
    Refused("0 + y * z ~ a + b", LHS_ALGEBRA, PATSY, 561),
    Refused("-1 ~ 1", CONSTANT_RESPONSE, PATSY, 562),
    Refused("1 + y ~ a + b", LHS_ALGEBRA, PATSY, 563),
    Refused("a +", NOT_R, PATSY_ERR, 585),
    Refused("a + (", NOT_R, PATSY_ERR, 586),
    Refused("a + 2", NUMBER_TERM, PATSY_ERR, 590),
    Refused("a ** b", POWER, PATSY_ERR, 595),
    Refused("a ** (1 + 1)", POWER, PATSY_ERR, 596),
    Refused("a ** 1.5", POWER, PATSY_ERR, 597),
    # R's parser drops '# asdf' as a comment (R: 1 + a + b); a formula string has no comments here.
    Refused("a + b # asdf", "'#' is not part of a formula", PATSY_ERR, 598),
    Refused(")", NOT_R, PATSY_ERR, 599),
    Refused("a + )", NOT_R, PATSY_ERR, 600),
    Refused("* a", NOT_R, PATSY_ERR, 601),
    Refused("a + *", NOT_R, PATSY_ERR, 602),
    Refused("a + foo[bar", NOT_R, PATSY_ERR, 603),
    Refused("a + foo{bar", NOT_R, PATSY_ERR, 604),
    Refused("a + foo(bar", NOT_R, PATSY_ERR, 605),
    Refused("a + [bar", NOT_R, PATSY_ERR, 606),
    Refused("a + {bar", NOT_R, PATSY_ERR, 607),
    Refused("a + {bar[]", NOT_R, PATSY_ERR, 608),
    Refused("a + foo]bar", NOT_R, PATSY_ERR, 609),
    Refused("a + foo[]]bar", NOT_R, PATSY_ERR, 610),
    Refused("a + foo{}}bar", NOT_R, PATSY_ERR, 611),
    Refused("a + foo)bar", NOT_R, PATSY_ERR, 612),
    Refused("a + b)", NOT_R, PATSY_ERR, 613),
    Refused("(a) .", NOT_R, PATSY_ERR, 614),
    Refused("(a + b", NOT_R, PATSY_ERR, 615),
    Refused("y ~ a ~ b", ONE_TILDE, PATSY_ERR, 616),
    Refused("y ~ (a ~ b)", ONE_TILDE, PATSY_ERR, 617),
    Refused("~ a ~ b", ONE_TILDE, PATSY_ERR, 618),
    Refused("~ (a ~ b)", ONE_TILDE, PATSY_ERR, 619),
    Refused("", EMPTY, FORMULAIC, 31),
    Refused("[a + b] - a", STAGES, FORMULAIC, 43),
    Refused("0 ~ 0", CONSTANT_RESPONSE, FORMULAIC, 52),
    Refused("+0 ~ +0", CONSTANT_RESPONSE, FORMULAIC, 53),
    Refused("a | b", MULTIPART, FORMULAIC, 61),
    Refused("a | b | c", MULTIPART, FORMULAIC, 62),
    Refused("a | b ~ c | d", MULTIPART, FORMULAIC, 63),
    Refused("[ a ~ b ]", STAGES, FORMULAIC, 68),
    Refused("y ~ [ a ~ b ]", STAGES, FORMULAIC, 69),
    Refused("[ a ~ [ b ~ c ] ]", STAGES, FORMULAIC, 73),
    Refused("y ~ [ a ~ [ b ~ c ] + [d ~ e] ]", STAGES, FORMULAIC, 85),
    Refused("y ~ [ a:b ~ c + d ]", STAGES, FORMULAIC, 103),
    Refused("50:a", NUMBER_TERM + "; formulaic scales a by 50", FORMULAIC, 119),
    Refused("{a | b | c}", PYTHON_CODE, FORMULAIC, 136),
    Refused(".", DOT, FORMULAIC, 138),
    Refused(".^2", DOT, FORMULAIC, 139),
    Refused(".^2 - a:b", DOT, FORMULAIC, 140),
    Refused("a ~ .", DOT, FORMULAIC, 141),
    Refused("a ~ b ~ c", ONE_TILDE, FORMULAIC_PARSER, 174),
    Refused("a**b", POWER, FORMULAIC_PARSER, 201),
    Refused("a**(b+c)", POWER, FORMULAIC_PARSER, 207),
    Refused("50", NUMBER_TERM, FORMULAIC_PARSER, 229),
    Refused("50*a", NUMBER_TERM, FORMULAIC_PARSER, 246),
    Refused("50:a + 100:a", NUMBER_TERM, FORMULAIC_PARSER, 256),
    Refused("[[a ~ b] ~ c]", STAGES, FORMULAIC_PARSER, 293),
    Refused("a + {a**2} + b - 1", PYTHON_CODE, FORMULAIC_FORMULA, 214),
    Refused("x + 5", NUMBER_TERM + "; formulae keeps 5 as a term", FORMULAE_RESOLVER, 37),
    Refused("x + f(x)", USER_FUNCTION, FORMULAE_RESOLVER, 41),
    Refused("x - 5", NUMBER_TERM, FORMULAE_RESOLVER, 69),
    Refused("x - f(x)", USER_FUNCTION, FORMULAE_RESOLVER, 73),
    Refused("x:5", NUMBER_TERM, FORMULAE_RESOLVER, 96),
    Refused("x:f(x)", USER_FUNCTION, FORMULAE_RESOLVER, 98),
    Refused("x*f(x)", USER_FUNCTION, FORMULAE_RESOLVER, 153),
    Refused("x / 5", NUMBER_TERM, FORMULAE_RESOLVER, 219),
    Refused("x / f(x)", USER_FUNCTION, FORMULAE_RESOLVER, 221),
    Refused("threecats['b'] ~ continuous + dummy", SUBSET, FORMULAE_RESOLVER, 279),
    Refused("", EMPTY, FORMULAE_DM, 97),
    Refused("y ~ {x1 + x2}", PYTHON_CODE, FORMULAE_DM, 332),
    Refused(
        "y ~ C(x3, levels=lvls)", "levels= must be a literal list, not a name", FORMULAE_DM, 379
    ),
    Refused("y ~ np.exp(x1)", NUMPY, FORMULAE_DM, 401),
    Refused("y ~ add_ten(x1)", USER_FUNCTION, FORMULAE_DM, 407),
    Refused("prop(y, n) ~ x", PROPORTION, FORMULAE_DM, 501),
    Refused("prop(y, 62) ~ x", PROPORTION, FORMULAE_DM, 507),
    Refused("proportion(y, n) ~ x", PROPORTION, FORMULAE_DM, 513),
    Refused("p(y, n) ~ x", PROPORTION, FORMULAE_DM, 519),
    Refused("y1['A'] ~ x", SUBSET, FORMULAE_DM, 562),
    Refused("y2['B'] ~ x", SUBSET, FORMULAE_DM, 573),
    Refused("y2[B] ~ x", SUBSET, FORMULAE_DM, 578),
    Refused("y3['Bye bye'] ~ x", SUBSET, FORMULAE_DM, 583),
    Refused("y3[A[B]] ~ x", SUBSET, FORMULAE_DM, 589),
    Refused("y3[1] ~ x", SUBSET, FORMULAE_DM, 595),
    Refused(
        "y ~ binary(g, 'c')", "formulae's binary(): make the indicator a column", FORMULAE_DM, 609
    ),
    Refused("y ~ B(g, 'c')", "formulae's B(): make the indicator a column", FORMULAE_DM, 650),
    Refused("C(x, levels=levels)", "levels= must be a literal list, not a name", FORMULAE_DM, 696),
    Refused("C(x, Treatment)", CONTRAST, FORMULAE_DM, 708),
    Refused("C(x, Treatment())", CONTRAST, FORMULAE_DM, 709),
    Refused("C(x, Treatment(5))", CONTRAST, FORMULAE_DM, 710),
    Refused("C(g, Treatment('a'))", CONTRAST, FORMULAE_DM, 719),
    Refused("C(x, Sum)", CONTRAST, FORMULAE_DM, 727),
    Refused("C(x, Sum())", CONTRAST, FORMULAE_DM, 728),
    Refused("C(x, Sum(9))", CONTRAST, FORMULAE_DM, 729),
    Refused("C(g, Sum('c'))", CONTRAST, FORMULAE_DM, 736),
    Refused("S(x)", CONTRAST + " (formulae's S() is sum coding)", FORMULAE_DM, 752),
    Refused("T(x)", CONTRAST + " (formulae's T() is treatment coding)", FORMULAE_DM, 757),
    Refused(
        "offset(y) ~ x", "offset() on the response (formulae refuses it too)", FORMULAE_DM, 835
    ),
    Refused("y ~ offset(np.log(x))", NUMPY, FORMULAE_DM, 838),
    # R accepts a constant offset; hiermod asks every term to read a column.
    Refused("y ~ x + offset(10)", "offset() must read a column", FORMULAE_DM, 868),
    Refused("f(x1, False)", USER_FUNCTION, FORMULAE_DM, 881),
    Refused("f(`x1`)", USER_FUNCTION, FORMULAE_DM, 901),
    Refused("f((x1 + x2))", USER_FUNCTION, FORMULAE_DM, 904),
    Refused("f(x3 > 1)", USER_FUNCTION + "; no comparisons", FORMULAE_DM, 907),
    Refused("proportion(x3, 10)", PROPORTION, FORMULAE_DM, 911),
    Refused("y ~ f(x3) + f_ordered(g)", USER_FUNCTION, FORMULAE_DM, 1147),
    Refused("1 + x + np.power(x, 2) + np.power(x, 3) ", NUMPY, FORMULAE_DM, 1220),
    Refused("f(x, y='abcd')", USER_FUNCTION, FORMULAE_DM, 1237),
    Refused("y ~ np.exp(x) + z", NUMPY, FORMULAE_NEW, 144),
    # center() is remembered from the training data, so it must be the outermost call of a term.
    Refused("I(center(x) ** 2)", "a stateful transform inside I()", FORMULAE_NEW, 254),
    Refused("scale(np.exp(x) + 1)", NUMPY, FORMULAE_NEW, 263),
    Refused("1.132", NUMBER_TERM, FORMULAE_PARSER, 24),
    Refused("f(x)", USER_FUNCTION, FORMULAE_PARSER, 39),
    Refused("module.f(x)", USER_FUNCTION, FORMULAE_PARSER, 45),
    Refused("{x + y}", PYTHON_CODE, FORMULAE_PARSER, 51),
    Refused("x | y", MULTIPART, FORMULAE_PARSER, 123),
    Refused("x = z", NOT_R, FORMULAE_PARSER, 155),
    Refused(
        "np.log(y) ~ (`var 1` + `var 2` + `var 3`) ** 3 - `var 2`:`var 3`",
        NUMPY,
        FORMULAE_PARSER,
        219,
    ),
    Refused("y ~ f(1=x)", NOT_R, FORMULAE_PARSER, 259),
    Refused("y ~ f(x", NOT_R, FORMULAE_PARSER, 266),
    Refused("x ~ y ~ z", ONE_TILDE, FORMULAE_SCANNER, 312),
]


class Reads(NamedTuple):
    formula: str
    columns: frozenset[str]  # the columns the formula's right side reads
    source: str
    line: int


# formulaic's TestFormula.test_required_variables: a call reads the columns of its arguments.
READS = [
    Reads("a + b", frozenset({"a", "b"}), FORMULAIC_FORMULA, 254),
    Reads("a + b + a:b", frozenset({"a", "b"}), FORMULAIC_FORMULA, 255),
    Reads("a + C(b)", frozenset({"a", "b"}), FORMULAIC_FORMULA, 256),
    Reads("a + C(b, levels=['b1', 'b2'])", frozenset({"a", "b"}), FORMULAIC_FORMULA, 257),
    # The same with R's c() for the list (adapted), and formulae's levels=lvls with the list inlined.
    Reads('a + C(b, levels=c("b1", "b2"))', frozenset({"a", "b"}), FORMULAIC_FORMULA, 257),
    Reads("y ~ C(x3, levels=c(3, 2, 4, 1))", frozenset({"x3"}), FORMULAE_DM, 379),
]

# Pairs the peers assert mean the same terms (formulae: test_interactions; formulaic: test_equality).
SAME = [
    ("y ~ f * g", "y ~ f + g + f:g", FORMULAE_DM, 274),
    ("y ~ 0 + f * g", "y ~ 0 + f + g + f:g", FORMULAE_DM, 279),
    ("a + b", "a+b", FORMULAIC_FORMULA, 227),
]


# ---------------------------------------------------------------------------------------------------
# Reading the expected notation and hiermod's result in the same shape.

TermKey = frozenset[str]


def read_formula(text: str) -> hm.ModelFormula:
    """A peer's text: a right-hand side alone (no '~' outside backticks) is read as ``~ text``."""
    return hm.parse(text if len(split_top(text, "~")) > 1 else f"~ {text}")


def split_top(text: str, sep: str) -> list[str]:
    """Split at ``sep`` outside parentheses, brackets and backticks: ``"I(b + c) + a"`` at
    ``" + "`` is ``["I(b + c)", "a"]``; ``"`a:b`:c"`` at ``":"`` is ``["`a:b`", "c"]``."""
    parts, depth, quoted, start, i = [], 0, False, 0, 0
    while i < len(text):
        char = text[i]
        if char == "`":
            quoted = not quoted
        elif not quoted and char in "([":
            depth += 1
        elif not quoted and char in ")]":
            depth -= 1
        elif not quoted and depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            start = i = i + len(sep)
            continue
        i += 1
    parts.append(text[start:])
    return parts


def expected_population(expected: str) -> tuple[bool, list[TermKey]]:
    """``"1 + a + a:b"`` -> ``(True, [{a}, {a, b}])``; backticks quote a name."""
    flag, *terms = split_top(expected, " + ")
    assert flag in ("0", "1"), f"expected text must start with 1 or 0: {expected!r}"
    return flag == "1", [frozenset(f.strip("`") for f in split_top(t, ":")) for t in terms]


def atom_label(atom: Atom) -> str:
    """A column by its name, a call by its canonical text (``log(x)``, ``I(x1 + x2)``)."""
    return atom.name if isinstance(atom, Name) else str(atom)


def population(formula: Formula) -> tuple[bool, list[TermKey]]:
    keys = [frozenset(atom_label(a) for a in term.factors) for term in formula.terms]
    keys += [frozenset({str(offset)}) for offset in formula.offsets]
    return formula.intercept, keys


def assert_located_error(error: HiermodError) -> None:
    """A formula error names a place in the text and reads as hiermod's, not as lark's or Python's."""
    assert isinstance(error, FormulaError | FormulaSyntaxError), type(error)
    assert error.text is not None
    assert error.span is not None
    raw = ("Token(", "Unexpected token", "Expected one of", "lark", "Traceback", "object has no")
    assert not any(fragment in str(error) for fragment in raw), str(error)


def _id(row: tuple[object, ...]) -> str:
    return f"{row[0]!r}@{str(row[2]).split()[0]}:{row[3]}"


# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_population_terms_match_r(case: Case) -> None:
    if case.warns:
        with pytest.warns(FormulaWarning, match="removes nothing|has no terms"):
            formula = read_formula(case.formula).main
    else:  # any warning fails the test (filterwarnings = error)
        formula = read_formula(case.formula).main
    intercept, terms = population(formula)
    want_intercept, want_terms = expected_population(case.expected)
    assert (intercept, sorted(terms, key=sorted)) == (
        want_intercept,
        sorted(want_terms, key=sorted),
    )
    assert not formula.blocks


@pytest.mark.parametrize("case", STRICT_REMOVALS, ids=_id)
def test_removing_an_absent_term_is_refused(case: StrictRemoval) -> None:
    with pytest.raises(FormulaError) as info:
        read_formula(case.formula)
    assert "removes nothing" in info.value.message
    assert_located_error(info.value)


@pytest.mark.parametrize("case", REFUSED, ids=_id)
def test_peer_only_features_are_located_errors(case: Refused) -> None:
    with pytest.raises((FormulaError, FormulaSyntaxError)) as info:
        read_formula(case.formula)
    assert_located_error(info.value)


@pytest.mark.parametrize("case", READS, ids=_id)
def test_columns_read(case: Reads) -> None:
    assert set(read_formula(case.formula).main.names()) == case.columns


@pytest.mark.parametrize(("left", "right", "source", "line"), SAME, ids=[_id(row) for row in SAME])
def test_peer_equivalences(left: str, right: str, source: str, line: int) -> None:
    ours, theirs = (population(read_formula(text).main) for text in (left, right))
    assert ours == theirs


def test_a_thousand_term_sum() -> None:
    # formulaic TestFormulaParser.test_long_formula (tests/parser/test_parser.py:212): x0 + … + x999.
    names = [f"x{i}" for i in range(1000)]
    formula = read_formula("+".join(names)).main
    assert population(formula) == (True, [frozenset({n}) for n in names])


def test_tables_are_well_formed() -> None:
    rows = [*CASES, *STRICT_REMOVALS, *REFUSED]
    sources = {PATSY, PATSY_ERR, FORMULAIC, FORMULAIC_PARSER, FORMULAIC_FORMULA}
    sources |= {FORMULAE_RESOLVER, FORMULAE_DM, FORMULAE_NEW, FORMULAE_PARSER, FORMULAE_SCANNER}
    assert all(row.source in sources and row.line > 0 for row in rows)
    for case in CASES:
        expected_population(case.expected)  # parses
    for strict in STRICT_REMOVALS:
        expected_population(strict.r_answer)
    assert len(CASES) > 150
