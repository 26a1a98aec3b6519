"""Group terms: the cases of lme4's and reformulas' own tests and examples (findbars, nobars,
expandDoubleVerts, splitForm, expandAllGrpVar), plus formulae's group-specific cases.

Each row names its source beside it, at these commits:

* bbolker/reformulas 9efbbc7 (inst/tinytest/*.R, man/*.Rd): where lme4's formula utilities live now;
* lme4/lme4 32b5bfd (tests/testthat/*.R) and 3930274 (man/findbars.Rd, man/expandDoubleVerts.Rd,
  the last version before they moved to reformulas);
* bambinos/formulae a4eb15d (tests/test_resolver.py, tests/test_design_matrices.py,
  tests/test_eval_new_data.py, tests/test_parser.py).

A row gives the population part (what ``nobars`` leaves, in the notation of test_peer_formulas.py:
``"1 + x"``) and the group blocks, each ``"effects | grouping"``: ``"1 + x | g"``, ``"0 + x | g1:g2"``.
Blocks compare as a multiset (their order is not part of the meaning), groupings as sets of factors
(``g1:g2`` is ``g2:g1``).

``||`` is brms's: **one** block with independent effects, ``"1 + x || g"``. lme4's
``expandDoubleVerts`` splits the same block into ``(1 | g) + (0 + x | g)``; both are the same model,
so lme4's expectations are translated to one uncorrelated block, and the note gives lme4's literal
answer. ``test_lme4_equivalent_pairs`` checks lme4's own "these two are the same" assertions
through that translation. A block with one effect has no correlation to speak of, so ``(0 + x || id)``
and ``(0 + x | id)`` compare equal (lme4: "leaves superfluous '||' alone").

glmmTMB's ``us(e | g)`` is ``(e | g)`` and ``diag(e | g)`` is ``(e || g)`` (reformulas' splitForm
and noSpecials tests read them so); mgcv's ``s(x)`` is a smooth beside the bars (``SMOOTHS``); its
other covariance structures, ``s()`` of an expression and lme4's ``dummy()`` are refused with a
located error (``REFUSED``).
"""

from __future__ import annotations

import string
from collections import Counter
from typing import NamedTuple

import pytest
from test_peer_formulas import (
    TermKey,
    assert_located_error,
    atom_label,
    expected_population,
    population,
    read_formula,
    split_top,
)

import hiermod as hm
from hiermod.errors import FormulaError, FormulaSyntaxError
from hiermod.formula.syntax import Call
from hiermod.formula.terms import Block

RF = "bbolker/reformulas"
DOUBLEVERT = f"{RF} inst/tinytest/test_doubleVertNotation.R"
NOBAR = f"{RF} inst/tinytest/test_nobar.R"
NOSPECIAL = f"{RF} inst/tinytest/test_noSpecial.R"
RF_UTILS = f"{RF} inst/tinytest/test_utils.R"
RANDINT = f"{RF} inst/tinytest/test_randint.R"
MKRETRMS = f"{RF} inst/tinytest/test_mkReTrms.R"
FORMFUNS = f"{RF} man/formfuns.Rd examples"
SPLITFORM = f"{RF} man/splitForm.Rd examples"
GRPVARS_MAN = f"{RF} man/get_grpvars.Rd examples"
NOBARS_MAN = f"{RF} man/nobars.Rd examples"
EXPANDGRPVAR_MAN = f"{RF} man/expandGrpVar.Rd examples"
REONLY = f"{RF} inst/tinytest/test_reOnly.R"
SUB_SPECIALS = f"{RF} man/sub_specials.Rd examples"
MKRETRMS_MAN = f"{RF} man/mkReTrms.Rd examples"
LME4_FINDBARS = "lme4/lme4 man/findbars.Rd examples"
LME4_EXPAND = "lme4/lme4 man/expandDoubleVerts.Rd examples"
LME4_DOUBLEVERT = "lme4/lme4 tests/testthat/test-doubleVertNotation.R"
LME4_LMER = "lme4/lme4 tests/testthat/test-lmer.R"
LME4_METHODS = "lme4/lme4 tests/testthat/test-methods.R"
LME4_NAHANDLING = "lme4/lme4 tests/testthat/test-NAhandling.R"
LME4_FACTORS = "lme4/lme4 tests/testthat/test-factors.R"
LME4_CATCH = "lme4/lme4 tests/testthat/test-catch.R"
LME4_PREDICT = "lme4/lme4 tests/testthat/test-predict.R"
LME4_SINGULAR = "lme4/lme4 tests/testthat/test-isSingular.R"
FORMULAE_RESOLVER = "bambinos/formulae tests/test_resolver.py"
FORMULAE_DM = "bambinos/formulae tests/test_design_matrices.py"
FORMULAE_NEW = "bambinos/formulae tests/test_eval_new_data.py"
FORMULAE_PARSER = "bambinos/formulae tests/test_parser.py"
FORMULAIC_PARSER = "matthewwardrop/formulaic tests/parser/test_parser.py TestFormulaParser"


class Bars(NamedTuple):
    formula: str  # the peer's text; a right-hand side alone is read as '~ text'
    population: str  # what nobars() leaves: "1 + x"
    blocks: tuple[str, ...]  # "1 + x | g", "0 + x | g1:g2", "1 + x || g"
    source: str
    line: int
    note: str = ""


SPLIT = "lme4: (1 | g) + (0 + x | g) as separate terms; one '||' block here"

LME4_CASES = [
    Bars("Reaction ~ Days + (Days||Subject)", "1 + Days", ("1 + Days || Subject",), DOUBLEVERT, 5),
    Bars(
        "Reaction ~ Days + (1|Subject) + (0 + Days|Subject)",
        "1 + Days",
        ("1 | Subject", "0 + Days | Subject"),
        DOUBLEVERT,
        6,
        "lme4's own spelling of independent effects: two blocks, kept as written",
    ),
    # (e || g1/g2) is (e || g1) + (e || g1:g2): '/' splits by grouping, '||' stays one block each.
    Bars("y ~ (x || id / id2)", "1", ("1 + x || id", "1 + x || id:id2"), DOUBLEVERT, 11, SPLIT),
    Bars(
        "y ~ (1 | id  / id2) + (0 + x | id / id2)",
        "1",
        ("1 | id", "1 | id:id2", "0 + x | id", "0 + x | id:id2"),
        DOUBLEVERT,
        12,
    ),
    Bars(
        "y ~ (x1 + x2  || id / id2) + (x3 | id3) + (x4 || id4)",
        "1",
        ("1 + x1 + x2 || id", "1 + x1 + x2 || id:id2", "1 + x3 | id3", "1 + x4 || id4"),
        DOUBLEVERT,
        15,
        SPLIT,
    ),
    Bars(
        "y ~ (1 | id / id2) + (0 + x1 | id / id2) + (0 + x2 | id / id2) + (x3 | id3) + (1 | id4)"
        " + (0 + x4| id4)",
        "1",
        (
            *("1 | id", "1 | id:id2", "0 + x1 | id", "0 + x1 | id:id2"),
            *("0 + x2 | id", "0 + x2 | id:id2", "1 + x3 | id3", "1 | id4", "0 + x4 | id4"),
        ),
        DOUBLEVERT,
        16,
    ),
    Bars("y ~ (x1*x2 || id)", "1", ("1 + x1 + x2 + x1:x2 || id",), DOUBLEVERT, 20, SPLIT),
    Bars(
        "y ~ (1 | id) + (0+x1 | id) + (0 + x2 | id) + (0 + x1:x2 | id)",
        "1",
        ("1 | id", "0 + x1 | id", "0 + x2 | id", "0 + x1:x2 | id"),
        DOUBLEVERT,
        21,
    ),
    Bars(
        "crab_speciesS + crab_sizeS + crab_speciesS:crab_sizeS + (snail_size | plot)",
        "1 + crab_speciesS + crab_sizeS + crab_speciesS:crab_sizeS",
        ("1 + snail_size | plot",),
        DOUBLEVERT,
        26,
        "adapted: dots in names -> underscores (a dotted name needs backticks here)",
    ),
    Bars("y ~ z + (0 + x || id)", "1 + z", ("0 + x || id",), DOUBLEVERT, 31, "one effect"),
    Bars("y ~ z + (0 + x  | id)", "1 + z", ("0 + x | id",), DOUBLEVERT, 32),
    Bars("y ~ (z + x)^2 + (x || id)", "1 + z + x + z:x", ("1 + x || id",), DOUBLEVERT, 36, SPLIT),
    Bars(
        "y ~ (z + x)^2 + (1 | id) + (0 + x | id)",
        "1 + z + x + z:x",
        ("1 | id", "0 + x | id"),
        DOUBLEVERT,
        37,
    ),
    # nobars(): the population part. `y ~ 1|g` (a bar without parentheses) is in REFUSED.
    Bars("y~1+(1|g)", "1", ("1 | g",), NOBAR, 4),
    Bars("y~1+(1||g)", "1", ("1 || g",), NOBAR, 6),
    Bars("y~1+(x:z|g)", "1", ("1 + x:z | g",), NOBAR, 8),
    Bars("y~1+(x*z|g/h)", "1", ("1 + x + z + x:z | g", "1 + x + z + x:z | g:h"), NOBAR, 9),
    Bars("y~(1|g)+x+(x|h)", "1 + x", ("1 | g", "1 + x | h"), NOBAR, 10),
    Bars("y~(1|g)+x+(x+z|h)", "1 + x", ("1 | g", "1 + x + z | h"), NOBAR, 11),
    Bars("~1+(1|g)", "1", ("1 | g",), NOBAR, 12),
    Bars("~(1|g)", "1", ("1 | g",), NOBAR, 13),
    Bars("1+(1|g)", "1", ("1 | g",), NOBAR, 14, "nobars(RHSForm(y~1+(1|g)))"),
    Bars("(1|g)", "1", ("1 | g",), NOBAR, 15, "nobars(RHSForm(y~(1|g)))"),
    # splitForm(): the fixed part, the bars, and glmmTMB's covariance specials.
    Bars("y~(x+q)", "1 + x + q", (), NOBAR, 22),
    Bars("y~(x+q)+(1|f)", "1 + x + q", ("1 | f",), NOBAR, 23),
    Bars("y~(x+q)+us(1|f)", "1 + x + q", ("1 | f",), NOBAR, 24, "glmmTMB's us() is (|)"),
    Bars("y~(x+q)+diag(1|f)", "1 + x + q", ("1 || f",), NOBAR, 25, "glmmTMB's diag() is (||)"),
    Bars("~x+y+(1|f/g)", "1 + x + y", ("1 | f", "1 | f:g"), NOBAR, 35),
    Bars("~x+y+(1|f/g/h)", "1 + x + y", ("1 | f", "1 | f:g", "1 | f:g:h"), NOBAR, 36),
    Bars("~x+y+(1|(f/g)/h)", "1 + x + y", ("1 | f", "1 | f:g", "1 | f:g:h"), NOBAR, 37),
    # Grouping sums and products (reformulas' expandAllGrpVar): (e | f*g) is (e|f) + (e|g) + (e|f:g).
    Bars("~x+y+(1|f*g)", "1 + x + y", ("1 | f", "1 | g", "1 | f:g"), NOBAR, 43),
    Bars("~x+y+(1|f+g+h)", "1 + x + y", ("1 | f", "1 | g", "1 | h"), NOBAR, 44),
    Bars("y~1+(((us(1|f))))", "1", ("1 | f",), NOBAR, 54, "noSpecials(delete=FALSE): y~1+(1|f)"),
    Bars("y ~ us", "1 + us", (), NOBAR, 58, "a 'naked' special is a column"),
    Bars("y~1+us(1|f)", "1", ("1 | f",), NOSPECIAL, 3),
    Bars("y~us(1|f)", "1", ("1 | f",), NOSPECIAL, 5),
    Bars("y~us+1", "1 + us", (), NOSPECIAL, 7),
    Bars("~us(1|f)+1", "1", ("1 | f",), NOSPECIAL, 8),
    Bars(
        "~ 1 + (f|g) + diag(x|y)",
        "1",
        ("1 + f | g", "1 + x || y"),
        NOSPECIAL,
        12,
        "adapted: without the s(x) term",
    ),
    Bars("~ 1 + x + y + (1|f) + (1|g)", "1 + x + y", ("1 | f", "1 | g"), RF_UTILS, 1),
    Bars("y~1+(x|f/g)", "1", ("1 + x | f", "1 + x | f:g"), RF_UTILS, 6, "us(x | g:f), us(x | f)"),
    # expandAllGrpVar() of a bare bar: written here as a group term in a formula.
    Bars("(1|(f/g)/h)", "1", ("1 | f", "1 | f:g", "1 | f:g:h"), RF_UTILS, 11),
    Bars("(1|f/g/h)", "1", ("1 | f", "1 | f:g", "1 | f:g:h"), RF_UTILS, 12),
    Bars("(1|f*g)", "1", ("1 | f", "1 | g", "1 | f:g"), RF_UTILS, 13),
    Bars("(1|f+g)", "1", ("1 | f", "1 | g"), RF_UTILS, 14),
    Bars(
        "(a+b|f+g+h*i)",
        "1",
        ("1 + a + b | f", "1 + a + b | g", "1 + a + b | h", "1 + a + b | i", "1 + a + b | h:i"),
        RF_UTILS,
        15,
    ),
    # a/(b*c) is a + a:b + a:c + a:b:c, so the grouping gives four blocks.
    Bars("(1 | a / (b*c))", "1", ("1 | a", "1 | a:b", "1 | a:c", "1 | a:b:c"), RF_UTILS, 21),
    Bars("(1 | a / (b+c))", "1", ("1 | a", "1 | a:b", "1 | a:c"), RF_UTILS, 22),
    Bars("~ 1 + (x + y || g)", "1", ("1 + x + y || g",), RF_UTILS, 26, "diag(x + y | g)"),
    Bars("~ 1 + (1 | f) + (1 | g)", "1", ("1 | f", "1 | g"), RF_UTILS, 29),
    Bars("~ 1 + (1|h) + (x + y || g)", "1", ("1 | h", "1 + x + y || g"), RF_UTILS, 30, SPLIT),
    Bars("~ 1 + (1|Subject)", "1", ("1 | Subject",), RF_UTILS, 34),
    Bars("~ (1||Subject)", "1", ("1 || Subject",), RF_UTILS, 35, "diag(1 | Subject)"),
    Bars("~ (1|Subject)", "1", ("1 | Subject",), RF_UTILS, 36),
    Bars("~ 1 + x", "1 + x", (), RF_UTILS, 38, "findbars_x: NULL"),
    Bars(
        "~ 1 + a  + b + (a | f) + (1 + a | g) + (a + b | h ) + (1 + a + b | i)",
        "1 + a + b",
        ("1 + a | f", "1 + a | g", "1 + a + b | h", "1 + a + b | i"),
        RANDINT,
        2,
        "randint()'s input: (a | f) has the implicit intercept",
    ),
    Bars(
        "response ~ condition_bystanders + (condition_bystanders|ID)",
        "1 + condition_bystanders",
        ("1 + condition_bystanders | ID",),
        MKRETRMS,
        20,
    ),
    Bars("y ~ (times+0|group)", "1", ("0 + times | group",), MKRETRMS, 41),
    Bars(
        "y ~ 1 + (1|a) + (1|b) + (1|c) + (1|d)",
        "1",
        ("1 | a", "1 | b", "1 | c", "1 | d"),
        MKRETRMS,
        50,
    ),
    Bars("~  1 + (1||Subject)", "1", ("1 || Subject",), FORMFUNS, 157),
    Bars("~ (1||Subject)", "1", ("1 || Subject",), FORMFUNS, 158),
    Bars("~x+y", "1 + x + y", (), SPLITFORM, 47),
    Bars("~x+y+(f|g)", "1 + x + y", ("1 + f | g",), SPLITFORM, 48),
    Bars("~x+y+diag(f|g)", "1 + x + y", ("1 + f || g",), SPLITFORM, 49),
    Bars("~x+y+(diag(f|g))", "1 + x + y", ("1 + f || g",), SPLITFORM, 50, "a 'hidden' special"),
    Bars("~(((x+y)))", "1 + x + y", (), SPLITFORM, 56),
    Bars(
        "Reaction ~ Days + (Days | group / Subject)",
        "1 + Days",
        ("1 + Days | group", "1 + Days | group:Subject"),
        GRPVARS_MAN,
        18,
    ),
    Bars("Reaction ~ Days + (Days|Subject)", "1 + Days", ("1 + Days | Subject",), NOBARS_MAN, 29),
    Bars("(1 | x*y)", "1", ("1 | x", "1 | y", "1 | x:y"), EXPANDGRPVAR_MAN, 16, "x*y"),
    Bars("(1 | x/y)", "1", ("1 | x", "1 | x:y"), EXPANDGRPVAR_MAN, 17, "x/y"),
    Bars(
        "Reaction ~ Days + (Days | Subject)", "1 + Days", ("1 + Days | Subject",), LME4_FINDBARS, 36
    ),
    Bars(
        "y ~ Days + (1 | Subject) + (0 + Days | Subject)",
        "1 + Days",
        ("1 | Subject", "0 + Days | Subject"),
        LME4_FINDBARS,
        39,
    ),
    Bars("y ~ Days + (Days || Subject)", "1 + Days", ("1 + Days || Subject",), LME4_FINDBARS, 40),
    Bars("~ 1 + (1 | batch / cask)", "1", ("1 | batch", "1 | batch:cask"), LME4_FINDBARS, 42),
    Bars("~ x + (x || g)", "1 + x", ("1 + x || g",), LME4_EXPAND, 30, SPLIT),
    Bars("y~f+(f|g)", "1 + f", ("1 + f | g",), LME4_EXPAND, 40),
    Bars(
        "Reaction ~ Days + (Days || Subject)",
        "1 + Days",
        ("1 + Days || Subject",),
        LME4_DOUBLEVERT,
        3,
        SPLIT,
    ),
    Bars(
        "Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)",
        "1 + Days",
        ("1 | Subject", "0 + Days | Subject"),
        LME4_DOUBLEVERT,
        4,
    ),
    Bars(
        "Reaction ~ Days + ((1 | Subject) + (0 + Days | Subject))",
        "1 + Days",
        ("1 | Subject", "0 + Days | Subject"),
        LME4_LMER,
        493,
        "lme4's stored formula after expanding (Days || Subject)",
    ),
    Bars("Y~X+Z+X:Z+(X||group)", "1 + X + Z + X:Z", ("1 + X || group",), LME4_METHODS, 366),
    # R's terms() drops a repeated term, and so does hiermod; lme4 keeps both copies.
    Bars(
        "diameter ~ (1|plate) + (1|plate) + (1|sample)",
        "1",
        ("1 | plate", "1 | sample"),
        LME4_METHODS,
        570,
        "lme4: two (1 | plate) terms",
    ),
    Bars(
        "distance ~ age + (age|Subject) + (0 + nsex|Subject)",
        "1 + age",
        ("1 + age | Subject", "0 + nsex | Subject"),
        LME4_METHODS,
        491,
    ),
    Bars(
        "pixel ~ day + I(day^2) + (day | Dog) + (1 | Side/Dog)",
        "1 + day + I(day**2)",
        ("1 + day | Dog", "1 | Side", "1 | Side:Dog"),
        LME4_METHODS,
        48,
    ),
    Bars(
        "Reaction ~ Days + offset(Days) + (1|Subject)",
        "1 + Days + offset(Days)",
        ("1 | Subject",),
        LME4_METHODS,
        664,
    ),
    Bars(
        "Reaction ~ log(1+Days) + (1 | Subject)",
        "1 + log(1 + Days)",
        ("1 | Subject",),
        LME4_METHODS,
        850,
    ),
    Bars("y~fac+(fac|grp)", "1 + fac", ("1 + fac | grp",), LME4_METHODS, 525),
    Bars(
        "angle ~ recipe * temperature + (1|recipe:replicate)",
        "1 + recipe + temperature + recipe:temperature",
        ("1 | recipe:replicate",),
        LME4_NAHANDLING,
        74,
    ),
    Bars("y~x+(1|f1/f2)", "1 + x", ("1 | f1", "1 | f1:f2"), LME4_FACTORS, 6),
    Bars(
        "cbind(incidence, size - incidence) ~ period + (1 | herd)",
        "1 + period",
        ("1 | herd",),
        LME4_CATCH,
        6,
        "lme4's binomial response",
    ),
    Bars(
        "yield ~ 1 + ( 1 | g1) + (lc |g3)",
        "1",
        ("1 | g1", "1 + lc | g3"),
        LME4_PREDICT,
        499,
    ),
    Bars(
        "y ~ 1 + (1 + x1 | group1) + (1 + x2 | group2)",
        "1",
        ("1 + x1 | group1", "1 + x2 | group2"),
        LME4_SINGULAR,
        83,
    ),
]

# formulae splits a block into one group term per effect and per grouping factor; its expected
# terms are regrouped here into lme4 blocks ((a*b | h+g) is one block for h and one for g).
FORMULAE_CASES = [
    Bars("x + (1|g)", "1 + x", ("1 | g",), FORMULAE_RESOLVER, 53),
    Bars(
        "0 + (a*b|h+g)",
        "0",
        ("1 + a + b + a:b | h", "1 + a + b + a:b | g"),
        FORMULAE_RESOLVER,
        252,
    ),
    Bars(
        "0 + (0 + a*b|h+g)",
        "0",
        ("0 + a + b + a:b | h", "0 + a + b + a:b | g"),
        FORMULAE_RESOLVER,
        265,
    ),
    Bars("y ~ 0 + (1|g)", "0", ("1 | g",), FORMULAE_DM, 116),
    Bars("BP ~ 0 + (C(age_grp)|BMI)", "0", ("1 + C(age_grp) | BMI",), FORMULAE_DM, 443),
    Bars("BP ~ 0 + (0 + C(age_grp)|BMI)", "0", ("0 + C(age_grp) | BMI",), FORMULAE_DM, 447),
    Bars(
        "pixel ~ day +  (0 + day | Dog) + (1 | Side/Dog)",
        "1 + day",
        ("0 + day | Dog", "1 | Side", "1 | Side:Dog"),
        FORMULAE_DM,
        465,
    ),
    Bars("(0 + Dog:Side | day)", "1", ("0 + Dog:Side | day",), FORMULAE_DM, 486),
    Bars("y ~ x1 + (x1|x3)", "1 + x1", ("1 + x1 | x3",), FORMULAE_DM, 915),
    Bars("y ~ 1 + (x1|g)", "1", ("1 + x1 | g",), FORMULAE_DM, 1050),
    Bars("y ~ (x|g1)", "1", ("1 + x | g1",), FORMULAE_NEW, 210),
    Bars("y ~ (0 + g1|g2)", "1", ("0 + g1 | g2",), FORMULAE_NEW, 223),
    Bars("y ~ x + (g1|g2)", "1 + x", ("1 + g1 | g2",), FORMULAE_NEW, 301),
    Bars("1 + (1 + x | g1)", "1", ("1 + x | g1",), FORMULAE_NEW, 351),
    Bars("1 + (1 + x | g1) + (1 + x | g2)", "1", ("1 + x | g1", "1 + x | g2"), FORMULAE_NEW, 357),
    Bars("1 + (0 + g1 | g2)", "1", ("0 + g1 | g2",), FORMULAE_NEW, 374),
    Bars("1 + (1 + x | g1:g2)", "1", ("1 + x | g1:g2",), FORMULAE_NEW, 384),
    Bars("y ~ x*z + (x|g)", "1 + x + z + x:z", ("1 + x | g",), FORMULAE_PARSER, 192),
    # formulaic refuses "(a | b)" ("invalid part separation"): in lme4 it is a group term.
    Bars("(a | b)", "1", ("1 + a | b",), FORMULAIC_PARSER, 178, "formulaic: an error"),
]

CASES = LME4_CASES + FORMULAE_CASES


class Refused(NamedTuple):
    formula: str
    reason: str
    source: str
    line: int


BARE_BAR = "a bar outside parentheses: write (1 | g) (lme4's nobars tolerates it)"
SMOOTH = 's() of an expression, or an mgcv basis hiermod lacks (bs = "gp")'
COVARIANCE = "a glmmTMB covariance structure hiermod does not have (only us() and diag())"
SPECIAL_ARGS = "extra arguments of a covariance special"
TWO_INTERCEPTS = "two blocks with an intercept for one grouping (lme4 fits it, unidentified)"
DOTTED = "a dotted name needs backticks: `crab.speciesS`"

REFUSED = [
    Refused("y~1|g", BARE_BAR, NOBAR, 5),
    Refused("y~1||g", BARE_BAR, NOBAR, 7),
    Refused("~x+y+(f|g)+cs(1|g)", COVARIANCE, NOBAR, 26),
    Refused("~us(f|g, extra_arg)", SPECIAL_ARGS, NOSPECIAL, 14),
    Refused("s(log(d), k = 4)", SMOOTH, RF_UTILS, 16),
    Refused("s(log(d+1))", SMOOTH, RF_UTILS, 17),
    Refused("us(x|f, n=2)", SPECIAL_ARGS, RF_UTILS, 18),
    Refused('y ~ a + log(b) + s(x, bs = "tp") + s(y, bs = "gp")', SMOOTH, RF_UTILS, 40),
    Refused(
        "Reaction ~ cs(Days) + (1|Subject)", "cs() is not an allow-listed function", RF_UTILS, 68
    ),
    Refused("Reaction ~ cs(1|Days) + (1|Subject)", COVARIANCE, RF_UTILS, 73),
    Refused("Reaction ~ cs(1+x|Days) + (1|Subject)", COVARIANCE, RF_UTILS, 78),
    Refused("Reaction ~ cs(1+x||Days) + (1|Subject)", COVARIANCE, RF_UTILS, 83),
    Refused("y ~ ((x || id)) + (x2|id)", TWO_INTERCEPTS, DOUBLEVERT, 39),
    Refused("y ~ (1 | id) + (0 + x | id) + (x2|id)", TWO_INTERCEPTS, DOUBLEVERT, 40),
    Refused(
        "crab.speciesS + crab.sizeS + crab.speciesS:crab.sizeS + (snail.size | plot)",
        DOTTED,
        DOUBLEVERT,
        26,
    ),
    Refused("~x+y+(f|g)+cs(1|g)", COVARIANCE, SPLITFORM, 51),
    Refused("~x+y+(f|g)+cs(1|g)+cs(a|b,stuff)", COVARIANCE, SPLITFORM, 55),
    Refused("~1+rr(f|g,n=2)", COVARIANCE, SPLITFORM, 57),
    Refused(
        "mpg ~ 1 + (1|gear) + (factor(cyl)|gear) + (1 + hp | carb)",
        "factor() is not allow-listed (write C(cyl)); and two intercepts for gear",
        MKRETRMS_MAN,
        69,
    ),
    Refused(
        'y ~ f + (1|g) + (0+dummy(f,"b")|g) + (0+dummy(f,"c")|g)',
        "lme4's dummy() is not allow-listed",
        LME4_EXPAND,
        42,
    ),
    # update(m, . ~ . - (0 + Days | Subject)): with '||' as one block there is no such block to
    # remove; write (1 | Subject) instead.
    Refused(
        "Reaction ~ Days + (Days || Subject) - (0 + Days | Subject)",
        "removes a block that is not there ('||' is one block)",
        LME4_LMER,
        397,
    ),
    Refused("Reaction ~ Days + ar1(0+factor(Days)|Subject)", COVARIANCE, LME4_PREDICT, 690),
    Refused("incidence ~ cs(0 + herd | period)", COVARIANCE, LME4_LMER, 497),
    Refused("x - (1|g)", "removes a block that is not there", FORMULAE_RESOLVER, 81),
    Refused("x:(1|g)", "a group term inside an interaction", FORMULAE_RESOLVER, 129),
    Refused("x*(1|g)", "a group term inside an interaction", FORMULAE_RESOLVER, 199),
    Refused("x / (1|g)", "a group term inside a nesting", FORMULAE_RESOLVER, 238),
    Refused("y ~ 1 + (x1|g) + (h|g)", TWO_INTERCEPTS + "; formulae keeps one", FORMULAE_DM, 1078),
    Refused(
        "y ~ 1 + (x1|g) + (x1:x2|g) + (h|g)",
        TWO_INTERCEPTS + "; formulae keeps one",
        FORMULAE_DM,
        1062,
    ),
]

# lme4/reformulas assert `findbars(A)` equals `findbars(B)`; here the two must be the same model
# once each '||' block is split as lme4 splits it.
LME4_EQUIVALENT = [
    ("Reaction ~ Days + (Days||Subject)", "Reaction ~ Days + (1|Subject) + (0 + Days|Subject)", 4),
    ("y ~ (x || id / id2)", "y ~ (1 | id  / id2) + (0 + x | id / id2)", 11),
    (
        "y ~ (x1 + x2  || id / id2) + (x3 | id3) + (x4 || id4)",
        "y ~ (1 | id / id2) + (0 + x1 | id / id2) + (0 + x2 | id / id2) + (x3 | id3) + (1 | id4)"
        " + (0 + x4| id4)",
        15,
    ),
    ("y ~ (x1*x2 || id)", "y ~ (1 | id) + (0+x1 | id) + (0 + x2 | id) + (0 + x1:x2 | id)", 20),
    ("y ~ z + (0 + x || id)", "y ~ z + (0 + x  | id)", 31),
    ("y ~ (z + x)^2 + (x || id)", "y ~ (z + x)^2 + (1 | id) + (0 + x | id)", 36),
]


# ---------------------------------------------------------------------------------------------------

BlockKey = tuple[bool, frozenset[TermKey], frozenset[str], bool | None]


def block_key(
    intercept: bool, terms: list[TermKey], grouping: frozenset[str], correlated: bool
) -> BlockKey:
    """One block's identity; a one-effect block has no correlation (``correlated`` is None)."""
    size = int(intercept) + len(terms)
    return (intercept, frozenset(terms), grouping, correlated if size > 1 else None)


def expected_block(text: str) -> BlockKey:
    """``"1 + x || g1:g2"`` -> (True, {{x}}, {g1, g2}, False)."""
    bar = " || " if len(split_top(text, " || ")) == 2 else " | "
    effects, grouping = split_top(text, bar)
    intercept, terms = expected_population(effects)
    return block_key(intercept, terms, frozenset(grouping.split(":")), bar == " | ")


def our_block(block: Block) -> BlockKey:
    terms = [frozenset(atom_label(a) for a in term.factors) for term in block.terms]
    return block_key(block.intercept, terms, frozenset(block.factors), block.correlated)


def lme4_split(block: Block) -> list[BlockKey]:
    """lme4's reading of a block: ``(1 + x || g)`` is ``(1 | g) + (0 + x | g)``."""
    if block.correlated:
        return [our_block(block)]
    grouping = frozenset(block.factors)
    pieces = [block_key(True, [], grouping, True)] if block.intercept else []
    for term in block.terms:
        key = frozenset(atom_label(a) for a in term.factors)
        pieces.append(block_key(False, [key], grouping, True))
    return pieces


def _ids(rows: list[Bars] | list[Refused]) -> list[str]:
    return [f"{row.formula!r}@{row.source.split()[-1]}:{row.line}" for row in rows]


def _check(case: Bars) -> None:
    formula = read_formula(case.formula).main
    intercept, terms = population(formula)
    want_intercept, want_terms = expected_population(case.population)
    assert (intercept, sorted(terms, key=sorted)) == (
        want_intercept,
        sorted(want_terms, key=sorted),
    )
    assert Counter(our_block(b) for b in formula.blocks) == Counter(
        expected_block(b) for b in case.blocks
    )


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_group_terms_match_lme4(case: Bars) -> None:
    _check(case)


@pytest.mark.parametrize("case", REFUSED, ids=_ids(REFUSED))
def test_unsupported_group_terms_are_located_errors(case: Refused) -> None:
    with pytest.raises((FormulaError, FormulaSyntaxError)) as info:
        read_formula(case.formula)
    assert_located_error(info.value)


# mgcv/brms s() beside group terms: hiermod reads the smooth (issue 15) and the bars as lme4 does.
SMOOTHS = [
    ("~s(stuff) + a + b", (), NOSPECIAL, 9),
    ('cbind(b1, 20-b1) ~ s(x, bs = "tp")', (), NOSPECIAL, 10),
    ("~ 1 + s(x) + (f|g) + diag(x|y)", ("1 + f | g", "1 + x || y"), NOSPECIAL, 12),
    ('~ s(x, bs = "tp")', (), RF_UTILS, 39),
    ('~1+s(x, bs = "tp")', (), RF_UTILS, 88),
    ("~ (1|x) + (a + b || y) + s(a, k=4)", ("1 | x", "1 + a + b || y"), SUB_SPECIALS, 30),
    ("Reaction ~ s(Days) + (1 + Subject)", (), SUB_SPECIALS, 31),
]


@pytest.mark.parametrize(("formula", "blocks", "source", "line"), SMOOTHS)
def test_smooths_beside_group_terms(
    formula: str, blocks: tuple[str, ...], source: str, line: int
) -> None:
    main = read_formula(formula).main
    assert any(isinstance(f, Call) and f.func == "s" for t in main.terms for f in t.factors)
    assert Counter(our_block(b) for b in main.blocks) == Counter(expected_block(b) for b in blocks)


@pytest.mark.parametrize(
    ("split", "explicit", "line"), LME4_EQUIVALENT, ids=[p[0] for p in LME4_EQUIVALENT]
)
def test_lme4_equivalent_pairs(split: str, explicit: str, line: int) -> None:
    def lme4_terms(text: str) -> Counter[BlockKey]:
        return Counter(k for b in hm.parse(text).main.blocks for k in lme4_split(b))

    assert lme4_terms(split) == lme4_terms(explicit)
    assert population(hm.parse(split).main) == population(hm.parse(explicit).main)


def test_reonly_hundred_names() -> None:
    # reformulas inst/tinytest/test_reOnly.R:3-12: y ~ varname_aa + … (100 names) + (9 of them | f).
    # R's outer(letters, letters, paste0) runs down the columns: aa, ba, …, za, ab, …
    names = [f"varname_{a}{b}" for b in string.ascii_lowercase for a in string.ascii_lowercase]
    names = names[:100]
    text = f"y ~ {'+'.join(names)} + ({'+'.join(names[:9])}|f)"
    _check(
        Bars(text, " + ".join(["1", *names]), (" + ".join(["1", *names[:9]]) + " | f",), REONLY, 3)
    )


# reformulas inst/tinytest/test_doubleVertNotation.R:49-69 ("long formulas work"), adapted: dots in
# names -> underscores. lme4 splits the '||' block into 17 terms: (1 | monkeyid) and one
# (0 + e | monkeyid) per effect; nobars() leaves the 16 population terms below.
MONKEY = """log_corti ~ z_n_fert_females*z_n_males + is_alpha2*(z_infanticide_susceptibility
    + z_min_co_res + z_co_res + z_log_tenure) + z_xtime + z_age_at_sample + sin_season + cos_season
    + (1 + z_n_fert_females + z_n_males + is_alpha2_subordinate + z_infanticide_susceptibility
       + z_min_co_res + z_log_tenure + z_co_res + z_xtime + z_age_at_sample + sin_season
       + cos_season + I(z_n_fert_females*z_n_males) + I(is_alpha2_subordinate*z_min_co_res)
       + I(z_co_res*is_alpha2_subordinate) + I(is_alpha2_subordinate*z_co_res)
       + int_is_a_log_ten || monkeyid)"""
MONKEY_POPULATION = (
    "1 + z_n_fert_females + z_n_males + is_alpha2 + z_infanticide_susceptibility + z_min_co_res"
    " + z_co_res + z_log_tenure + z_xtime + z_age_at_sample + sin_season + cos_season"
    " + z_n_fert_females:z_n_males + is_alpha2:z_infanticide_susceptibility"
    " + is_alpha2:z_min_co_res + is_alpha2:z_co_res + is_alpha2:z_log_tenure"
)
MONKEY_BLOCK = (
    "1 + z_n_fert_females + z_n_males + is_alpha2_subordinate + z_infanticide_susceptibility"
    " + z_min_co_res + z_log_tenure + z_co_res + z_xtime + z_age_at_sample + sin_season"
    " + cos_season + I(z_n_fert_females * z_n_males) + I(is_alpha2_subordinate * z_min_co_res)"
    " + I(z_co_res * is_alpha2_subordinate) + I(is_alpha2_subordinate * z_co_res)"
    " + int_is_a_log_ten || monkeyid"
)


def test_long_double_vert_formula() -> None:
    _check(Bars(MONKEY, MONKEY_POPULATION, (MONKEY_BLOCK,), DOUBLEVERT, 49))
    (block,) = hm.parse(MONKEY).main.blocks
    assert len(lme4_split(block)) == 17  # lme4's findbars() gives 17 terms
