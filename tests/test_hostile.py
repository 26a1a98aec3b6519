"""The hostile corpus (issue 13): careless and hostile inputs to every public surface — formula text,
data, priors, options, Python types, fitting, prediction, summaries and interpretation — each a row
that names the error (or warning) class and the words that name the problem.

Every row also checks that what escapes is a HiermodError (no raw numpy/pandas/pytensor exception).
Nothing here samples: the samplers are replaced by a guard that fails the test if a bad argument
gets as far as them, and the fits read come from the prior (``fit_support.prior_fit``).

The canary tests put shell and Python payloads into column names, levels, formulas, priors and CSV
headers (the CLI too) and check that the file the payload would create never appears, while the
model's source is still produced, compiles and builds.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr
from fit_support import prior_fit

import hiermod as hm
from hiermod.errors import (
    ArgumentError,
    DataError,
    FamilyError,
    FormulaError,
    FormulaSyntaxError,
    HiermodError,
    OptionError,
    PriorError,
)
from hiermod.interpret.hypothesis import HypothesisError
from hiermod.model import distributional_parameters
from hiermod.warnings import DataWarning, FitWarning, HiermodWarning

BASE = pd.DataFrame(
    {
        "y": np.linspace(1.0, 4.0, 12),
        "x": np.tile([0.0, 1.0, 2.0], 4),
        "z": np.arange(12.0),
        "g": np.repeat(list("abcd"), 3),
        "f": np.tile(list("pq"), 6),
    }
)
FORMULA = "y ~ x + (1 + x | g)"


@dataclass(frozen=True)
class Case:
    """One hostile input: ``call`` must raise (or warn) ``expect`` with every one of ``words``."""

    id: str
    call: Callable[[], object]
    expect: type[BaseException] | type[Warning]
    words: tuple[str, ...]


CASES: list[Case] = []


def case(surface: str, label: str, call: Callable[[], object], expect: type, *words: str) -> None:
    id = f"{surface}:{label}"[:80]
    if any(c.id == id for c in CASES):  # long formulas that start alike
        id = f"{id}#{len(CASES)}"
    CASES.append(Case(id, call, expect, words))


def data(**columns: object) -> pd.DataFrame:
    """BASE with ``columns`` replaced or added."""
    return BASE.assign(**columns)


@functools.cache
def model() -> hm.Model:
    return hm.Model(FORMULA, BASE)


@functools.cache
def fit() -> xr.DataTree:
    return prior_fit(model(), chains=1, draws=4)


# -- formula text ----------------------------------------------------------------------------------

FORMULAS: list[tuple[str, type, tuple[str, ...]]] = [
    ("y ~ (x", FormulaSyntaxError, ("missing ')'",)),
    ("y ~ x)", FormulaSyntaxError, ("unexpected ')'",)),
    ("y ~ ((x)", FormulaSyntaxError, ("missing ')'",)),
    ("y ~ (x + (1 | g)", FormulaSyntaxError, ("missing ')'",)),
    ("y ~ x + (1 | g))", FormulaSyntaxError, ("unexpected ')'",)),
    ("y ~ ()", FormulaSyntaxError, ("unexpected ')'",)),
    ("y ~ foo(x)", FormulaError, ("unknown function 'foo'",)),
    ("y ~ x()", FormulaError, ("unknown function 'x'",)),
    ("y ~ x.__class__", FormulaSyntaxError, ("unexpected '.'", "x.__class__")),
    ("y ~ x.__class__.__mro__", FormulaSyntaxError, ("unexpected '.'",)),
    ("y ~ I(x.__class__)", FormulaSyntaxError, ("unexpected '.'",)),
    ("y ~ __import__('os')", FormulaError, ("unknown function '__import__'",)),
    ("y ~ __import__('os').system('touch CANARY')", FormulaSyntaxError, ("unexpected",)),
    ("y ~ I(__import__('os'))", FormulaError, ("string",)),
    ("y ~ exec('1')", FormulaError, ("unknown function 'exec'",)),
    ("y ~ eval('x')", FormulaError, ("unknown function 'eval'",)),
    ("y ~ open('f')", FormulaError, ("unknown function 'open'",)),
    ("y ~ getattr(x, 'a')", FormulaError, ("unknown function 'getattr'",)),
    ("y ~ globals()", FormulaError, ("unknown function 'globals'",)),
    ("y ~ os.system('ls')", FormulaSyntaxError, ("unexpected '.'",)),
    ("y ~ x if x else z", FormulaSyntaxError, ("unexpected name 'if'",)),
    ("y ~ [x]", FormulaSyntaxError, ("unexpected '['",)),
    ("y ~ x[0]", FormulaSyntaxError, ("unexpected '['",)),
    ("y ~ {x}", FormulaSyntaxError, ("unexpected character '{'",)),
    ("y ~ x, z", FormulaSyntaxError, ("unexpected ','",)),
    ("y ~ x @ z", FormulaSyntaxError, ("unexpected character '@'",)),
    ("y ~ x & z", FormulaSyntaxError, ("unexpected character '&'",)),
    ("y ~ x ~ z", FormulaSyntaxError, ("unexpected '~'",)),
    ("log(y ~ x)", FormulaSyntaxError, ("unexpected '~'",)),
    ("y ~ " + "(" * 100 + "x" + ")" * 100, FormulaSyntaxError, ("nests more than 64 levels",)),
    ("y ~ " + "(" * 5000 + "x" + ")" * 5000, FormulaSyntaxError, ("nests more than",)),
    ("y ~ " + "I(" * 80 + "x" + ")" * 80, FormulaSyntaxError, ("nests more than",)),
    ("y ~ " + " + ".join(["x"] * 10) + "x" * 200_000, FormulaSyntaxError, ("characters long",)),
    ("y ~ é", FormulaSyntaxError, ("unexpected character 'é'", "LATIN SMALL LETTER E")),
    ("y ~ x + 😀", FormulaSyntaxError, ("GRINNING FACE",)),
    ("y ~ \u200bx", FormulaSyntaxError, ("ZERO WIDTH SPACE",)),
    ("y ~ x\x00", FormulaSyntaxError, ("unexpected character",)),
    ("y ~ x\u00a0+ z", FormulaSyntaxError, ("NO-BREAK SPACE",)),
    ("y ～ x", FormulaSyntaxError, ("FULLWIDTH TILDE",)),
    ("", FormulaSyntaxError, ("the formula is empty",)),
    ("   ", FormulaSyntaxError, ("the formula is empty",)),
    ("\n\n", FormulaSyntaxError, ("the formula is empty",)),
    (";", FormulaSyntaxError, ("the formula is empty",)),
    ("~", FormulaSyntaxError, ("ends with '~'",)),
    ("y ~", FormulaSyntaxError, ("ends with '~'",)),
    ("~ x", FormulaError, ("needs a response",)),
    ("y ~ x +", FormulaSyntaxError, ("ends with '+'",)),
    ("y ~ x:", FormulaSyntaxError, ("ends with ':'",)),
    ("y ~ x*", FormulaSyntaxError, ("ends with '*'",)),
    ("y ~ x/", FormulaSyntaxError, ("ends with '/'",)),
    ("y ~ x^", FormulaSyntaxError, ("ends with a power operator",)),
    ("y ~ :x", FormulaSyntaxError, ("unexpected ':'",)),
    ("y ~ x | g", FormulaSyntaxError, ("unexpected '|'",)),
    ("y ~ (1 | )", FormulaSyntaxError, ("unexpected ')'",)),
    ("y ~ (|g)", FormulaSyntaxError, ("unexpected '|'",)),
    ("y ~ (1 | g | f | g)", FormulaSyntaxError, ("unexpected '|'", "one ID at most")),
    ("y ~ (x + z)^x", FormulaSyntaxError, ("unexpected name 'x'",)),
    ("y ~ (x + z)^-1", FormulaSyntaxError, ("unexpected '-'",)),
    ("y ~ x:2", FormulaError, ("the number 2 cannot be part of an interaction",)),
    ("y ~ 1e999", FormulaError, ("too large",)),
    ("y ~ log(x, x, x)", FormulaError, ("log() takes at most 1 positional",)),
    ("y ~ offset()", FormulaError, ("offset() needs the argument",)),
    ("y ~ offset(x, x)", FormulaError, ("offset() takes at most 1",)),
    ("y ~ poly(x, -1)", FormulaError, ("degree must be a positive whole number",)),
    ("y ~ poly(x, 1.5)", FormulaError, ("degree must be a positive whole number",)),
    ("y ~ poly(x, 1000)", DataError, ("needs more distinct values than its degree",)),
    ("y ~ bs(x, df='a')", FormulaError, ("df must be a positive whole number",)),
    ("y ~ C(g, foo)", FormulaError, ("unknown contrast 'foo'",)),
    ("y ~ scale(g)", DataError, ("column 'g' is not numeric",)),
    ("y ~ log(g)", DataError, ("column 'g' is not numeric",)),
    ("y ~ x + (1 | x.y)", FormulaSyntaxError, ("unexpected '.'",)),
    ("y.z ~ x", FormulaSyntaxError, ("unexpected '.'",)),
    ("y ~ .", FormulaSyntaxError, ("unexpected character '.'",)),
    ("y ~ x + ...", FormulaSyntaxError, ("unexpected character '.'",)),
    ("1 ~ x", FormulaSyntaxError, ("unexpected number '1'",)),
    ("y ~ x\nsigma ~ ", FormulaSyntaxError, ("ends with '~'",)),
    ("y ~ x\nfoo ~ x", FamilyError, ("no parameter 'foo'",)),
    ("y ~ x\nsigma ~ nope", DataError, ("unknown column 'nope'",)),
    ("y ~ nope", DataError, ("unknown column 'nope'",)),
    ("Y ~ x", DataError, ("unknown column 'Y'", "did you mean 'y'?")),
    ("y ~ X", DataError, ("unknown column 'X'", "did you mean 'x'?")),
    ("y ~ x + gg", DataError, ("unknown column 'gg'", "did you mean 'g'?")),
    # terms the algebra drops still name columns (R's model.frame reads them too)
    ("y ~ x + zzz:1", DataError, ("unknown column 'zzz'",)),
    ("y ~ x + zzz - zzz", DataError, ("unknown column 'zzz'",)),
    ("y ~ x + 0:zzz", DataError, ("unknown column 'zzz'",)),
    ("y ~ x + (x | gg) - (x | gg)", DataError, ("unknown column 'gg'", "did you mean 'g'?")),
    ("yy ~ x", DataError, ("unknown column 'yy'", "did you mean 'y'?")),
    ("y ~ x + (1 | G)", DataError, ("unknown column 'G'", "did you mean 'g'?")),
    ("y ~ x + (1 | nope)", DataError, ("unknown column 'nope'",)),
    ("y ~ `__import__('os')`", DataError, ("unknown column \"__import__('os')\"",)),
    ('y ~ "$(touch CANARY)"', DataError, ("unknown column '$(touch CANARY)'",)),
    ("y ~ `; touch CANARY`", DataError, ("unknown column '; touch CANARY'",)),
    ('y ~ "a\\qb"', FormulaSyntaxError, ("unknown escape",)),
    ("y ~ 'unterminated", FormulaSyntaxError, ("unexpected",)),
    ("y ~ `unterminated", FormulaSyntaxError, ("unexpected",)),
]
for text, error, words in FORMULAS:
    case("formula", repr(text), functools.partial(hm.Model, text, BASE), error, *words)

NOT_TEXT: list[object] = [None, 3, 2.5, b"y ~ x", ["y ~ x"], ("y ~ x",), {"y": "x"}, hm.Prior]
for value in NOT_TEXT:
    case("formula", f"type {type(value).__name__}", functools.partial(hm.Model, value, BASE),
         ArgumentError, "a formula is a str", type(value).__name__)  # fmt: skip
    case("parse", f"type {type(value).__name__}", functools.partial(hm.parse, value),
         ArgumentError, "a formula is a str")  # fmt: skip

# -- data ------------------------------------------------------------------------------------------

DATA: list[tuple[str, str, pd.DataFrame, type, tuple[str, ...]]] = [
    ("all y missing", FORMULA, data(y=[np.nan] * 12), DataError, ("no rows left", "'y'")),
    ("all x missing", FORMULA, data(x=[None] * 12), DataError, ("no rows left", "'x'")),
    ("one x NaN", FORMULA, data(x=[np.nan, *[1.0] * 11]), DataWarning, ("dropped 1 of 12", "'x'")),
    ("one x inf", FORMULA, data(x=[np.inf, *[1.0] * 11]), DataWarning, ("dropped 1 of 12",)),
    ("one y -inf", FORMULA, data(y=[-np.inf, *[1.0] * 11]), DataWarning, ("'y'",)),
    ("group NaN", FORMULA, data(g=[None, *["a"] * 11]), DataWarning, ("'g'",)),
    ("pd.NA", FORMULA, data(x=pd.array([pd.NA, *[1] * 11], dtype="Int64")), DataWarning, ("'x'",)),
    ("empty frame", FORMULA, BASE.iloc[:0], DataError, ("the data has no rows",)),
    ("no columns", FORMULA, pd.DataFrame(), DataError, ("unknown column 'y'",)),
    ("int column names", FORMULA, BASE.set_axis(range(5), axis=1), DataError, ("unknown column",)),
    (
        "duplicate column",
        FORMULA,
        pd.concat([BASE, BASE[["x"]]], axis=1),
        DataError,
        ("column 'x' appears more than once",),
    ),
    (
        "object floats",
        FORMULA,
        data(x=np.array([0.0, 1.0, 2.0] * 4, dtype=object)),
        DataWarning,
        ("has dtype object but holds only numbers",),
    ),
    (
        "floats and a string",
        FORMULA,
        data(x=[0.0, 1.0, 2.0] * 3 + [0.0, 1.0, "a"]),
        DataError,
        ("mixes numbers and other values", "'a' at row 11"),
    ),
    ("n/a string", FORMULA, data(x=["n/a", *[1.0] * 11]), DataError, ("'n/a' at row 0",)),
    (
        "bool response",
        FORMULA,
        data(y=[True, False] * 6),
        DataError,
        ("response 'y' is categorical",),
    ),
    ("string response", FORMULA, data(y=list("abcdefghijkl")), DataError, ("response 'y'",)),
    ("datetime x", FORMULA, data(x=pd.date_range("2020", periods=12)), DataError, ("holds dates",)),
    (
        "tz datetime x",
        FORMULA,
        data(x=pd.date_range("2020", periods=12, tz="UTC")),
        DataError,
        ("holds dates",),
    ),
    (
        "timedelta x",
        FORMULA,
        data(x=pd.to_timedelta(range(12), unit="D")),
        DataError,
        ("holds durations", "total_seconds"),
    ),
    (
        "period x",
        FORMULA,
        data(x=pd.period_range("2020", periods=12, freq="D")),
        DataError,
        ("holds periods",),
    ),
    ("complex x", FORMULA, data(x=np.arange(12) + 1j), DataError, ("complex numbers",)),
    ("list cells", FORMULA, data(x=[[1.0]] * 12), DataError, ("column 'x' holds list values",)),
    ("dict cells", FORMULA, data(x=[{"a": 1}] * 12), DataError, ("holds dict values",)),
    (
        "set cells in group",
        FORMULA,
        data(g=[{1}] * 12),
        DataError,
        ("column 'g' holds set values",),
    ),
    ("array cells", FORMULA, data(x=[np.zeros(2)] * 12), DataError, ("ndarray",)),
    (
        "bools and numbers in group",
        FORMULA,
        data(g=[True, 1, False, 0] * 3),
        DataError,
        ("mixes booleans and numbers",),
    ),
    ("string x in scale()", "y ~ scale(f)", BASE, DataError, ("column 'f' is not numeric",)),
    ("dates in a grouping", "y ~ x + (1 | nope)", BASE, DataError, ("unknown column 'nope'",)),
    ("one row", FORMULA, BASE.iloc[:1], DataWarning, ("single level",)),
    (
        "dict data",
        FORMULA,
        {"y": [1.0], "x": [1.0]},
        DataError,
        ("data must be a pandas DataFrame",),
    ),
    ("list data", FORMULA, [[1.0, 2.0]], DataError, ("not list",)),
    ("None data", FORMULA, None, DataError, ("not NoneType",)),
    ("array data", FORMULA, np.zeros((3, 3)), DataError, ("not ndarray",)),
    ("csv path as data", FORMULA, "data.csv", DataError, ("not str",)),
    ("series data", FORMULA, BASE["y"], DataError, ("not Series",)),
]
for label, formula, frame, error, words in DATA:
    case("data", label, functools.partial(hm.Model, formula, frame), error, *words)

# -- priors ----------------------------------------------------------------------------------------

PRIOR_FORMULA = "y ~ x + z + (1 + x | g) + (1 | f)"
PRIORS: list[tuple[object, type, tuple[str, ...]]] = [
    ({"b": "foo(0, 1)"}, PriorError, ("unknown prior distribution 'foo'",)),
    ({"b": "normall(0, 1)"}, PriorError, ("unknown prior distribution", "normal")),
    ({"b": "😀(0, 1)"}, PriorError, ("GRINNING FACE",)),
    ({"b": "normal(0, -1)"}, PriorError, ("'sigma' must be positive, got -1",)),
    ({"b": "normal(0, 0)"}, PriorError, ("'sigma' must be positive, got 0",)),
    ({"b": "normal(0)"}, PriorError, ("normal() needs sigma",)),
    ({"b": "normal()"}, PriorError, ("normal() needs",)),
    ({"b": "normal(0, 1, 2)"}, PriorError, ("takes 2 parameters (mu, sigma), got 3",)),
    ({"b": "normal(0, sd=1)"}, PriorError, ("normal() has no parameter 'sd'",)),
    ({"b": "normal(0, 'a')"}, PriorError, ("prior parameters must be numbers",)),
    ({"b": "normal(0, inf)"}, PriorError, ("must be numbers",)),
    ({"b": "normal(0, nan)"}, PriorError, ("must be numbers",)),
    ({"b": "normal(0, True)"}, PriorError, ("must be numbers",)),
    ({"b": "normal(0, 1e999)"}, PriorError, ("must be finite",)),
    ({"b": "normal(0, 1j)"}, PriorError, ("cannot read the prior",)),
    ({"b": "normal(0, 1"}, PriorError, ("cannot read the prior", "missing ')'")),
    ({"b": ""}, PriorError, ("the prior is an empty string",)),
    ({"b": "  "}, PriorError, ("the prior is an empty string",)),
    ({"b": "normal"}, PriorError, ("a prior is one distribution call",)),
    ({"b": "lambda: 1"}, PriorError, ("a prior is one distribution call",)),
    ({"b": "normal(0, 1) + 1"}, PriorError, ("a prior is one distribution call",)),
    ({"b": "normal(0,1); normal(0,1)"}, PriorError, ("cannot read the prior",)),
    ({"b": "__import__('os').system('touch CANARY')"}, PriorError, ("cannot read the prior",)),
    ({"b": "normal(0, __import__('os'))"}, PriorError, ("must be numbers",)),
    ({"b": "normal(0, x.__class__)"}, PriorError, ("unexpected '.'",)),
    ({"b": "normal(0, [[1, 2]])"}, PriorError, ("must be numbers",)),
    ({"sigma": "normal(0, 1)"}, PriorError, ("sigma is positive but normal(0, 1) is not",)),
    ({"sd": "student_t(3, 0, 1)"}, PriorError, ("is positive but",)),
    ({"sigma": "exponential(-1)"}, PriorError, ("'lam' must be positive, got -1",)),
    ({"sd": "half_normal(-2)"}, PriorError, ("'sigma' must be positive, got -2",)),
    ({"sd": "gamma(0, 1)"}, PriorError, ("'alpha' must be positive, got 0",)),
    ({"b": "beta(0, 1)"}, PriorError, ("'alpha' must be positive",)),
    ({"b": "uniform(1, 0)"}, PriorError, ("needs lower < upper",)),
    ({"b": "student_t(-1, 0, 1)"}, PriorError, ("'nu' must be positive",)),
    ({"Intercept": "flat(1)"}, PriorError, ("flat() takes 0 parameters",)),
    ({"cor": "lkj(0)"}, PriorError, ("'eta' must be positive, got 0",)),
    ({"corr": "lkj(-1)"}, PriorError, ("'eta' must be positive",)),
    ({"b": "lkj(2)"}, PriorError, ("lkj() is only for correlation matrices",)),
    ({"corr": "normal(0, 1)"}, PriorError, ("correlation matrix",)),
    ({"nope": "normal(0, 1)"}, PriorError, ("the prior key 'nope' matches no parameter",)),
    ({"bb": "normal(0, 1)"}, PriorError, ("'bb' matches no parameter",)),
    ({"B": "normal(0, 1)"}, PriorError, ("'B' matches no parameter",)),
    ({"b[nope]": "normal(0, 1)"}, PriorError, ("'b[nope]' matches no parameter",)),
    ({"sd_nope": "half_normal(1)"}, PriorError, ("'sd_nope' matches no parameter",)),
    ({"__import__('os')": "normal(0, 1)"}, PriorError, ("matches no parameter",)),
    # a vector of the wrong length names the parameter, the length and the coefficients
    (
        {"b": "normal([0, 0, 0], 1)"},
        PriorError,
        ("for b gives mu 3 values", "b has 2 coefficients (x, z)"),
    ),
    ({"b": "normal(0, [1, 2, 3])"}, PriorError, ("gives sigma 3 values", "(x, z)")),
    ({"b": "normal([], 1)"}, PriorError, ("gives mu 0 values", "2 coefficients")),
    ({"b": hm.Prior("normal", mu=[0, 0, 0], sigma=1)}, PriorError, ("gives mu 3 values",)),
    (
        {"sd_g": "half_normal([1, 2, 3])"},
        PriorError,
        ("sd_g gives sigma 3 values", "sd_g has 2 coefficients (Intercept, x)"),
    ),
    ({"sd_f": "half_normal([1, 2])"}, PriorError, ("sd_f has one value",)),
    ({"Intercept": "normal([0, 1], 1)"}, PriorError, ("Intercept has one value",)),
    ({"b[x]": "normal([0, 0], 1)"}, PriorError, ("the prior for b[x] must be scalar",)),
    ({"corr": "lkj([1, 2])"}, PriorError, ("corr_g has one value",)),
    # wrong Python types
    (["normal(0, 1)"], ArgumentError, ("priors must be a dict", "got list")),
    ("normal(0, 1)", ArgumentError, ("priors must be a dict", "got str")),
    (3, ArgumentError, ("priors must be a dict", "got int")),
    (("b", "normal(0, 1)"), ArgumentError, ("priors must be a dict", "got tuple")),
    (pd.Series({"b": "normal(0, 1)"}), ArgumentError, ("got Series",)),
    ({1: "normal(0, 1)"}, ArgumentError, ("priors keys are parameter names", "not 1")),
    ({None: "normal(0, 1)"}, ArgumentError, ("priors keys", "not None")),
    ({("b",): "normal(0, 1)"}, ArgumentError, ("priors keys",)),
    ({"b": 3}, ArgumentError, ("priors['b'] must be a Prior or a string", "got int")),
    ({"b": 1.5}, ArgumentError, ("got float",)),
    ({"b": None}, ArgumentError, ("got NoneType",)),
    ({"b": b"normal(0, 1)"}, ArgumentError, ("got bytes",)),
    ({"b": ["normal(0, 1)"]}, ArgumentError, ("got list",)),
    ({"b": ("normal", 0, 1)}, ArgumentError, ("got tuple",)),
    ({"b": {"dist": "normal"}}, ArgumentError, ("got dict",)),
    ({"b": pm.Normal}, ArgumentError, ("priors['b'] must be a Prior",)),
]
for priors, error, words in PRIORS:
    call = functools.partial(hm.Model, PRIOR_FORMULA, BASE, priors=priors)
    case("priors", repr(priors), call, error, *words)

PRIOR_OBJECTS: list[tuple[tuple[Any, ...], dict[str, Any], type, tuple[str, ...]]] = [
    ((3,), {}, ArgumentError, ("the distribution's name", "not int")),
    ((None,), {}, ArgumentError, ("not NoneType",)),
    ((hm.Prior,), {}, ArgumentError, ("not type",)),
    (("foo",), {}, PriorError, ("unknown prior distribution 'foo'",)),
    (("normal",), {}, PriorError, ("normal() needs mu, sigma",)),
    (("normal",), {"mu": 0, "sigma": -1}, PriorError, ("must be positive, got -1",)),
    (("normal",), {"mu": "a", "sigma": 1}, PriorError, ("'mu' must be a number",)),
    (("normal",), {"loc": 0}, PriorError, ("normal() has no parameter 'loc'",)),
    (("normal", 0, 1), {"mu": 0}, PriorError, ("got 'mu' twice",)),
    (("normal", 0, 1, 2), {}, PriorError, ("takes 2 parameters",)),
]
for args, kwargs, error, words in PRIOR_OBJECTS:
    case("Prior", f"{args} {kwargs}", functools.partial(hm.Prior, *args, **kwargs), error, *words)

# -- options and keywords of hm.Model --------------------------------------------------------------

MODEL_OPTIONS: list[tuple[dict[str, Any], type, tuple[str, ...]]] = [
    (
        {"layout": "sparse"},
        OptionError,
        ("layout must be 'auto', 'dense' or 'observed'", "'sparse'"),
    ),
    ({"layout": None}, OptionError, ("layout must be", "not None")),
    ({"layout": ["dense"]}, OptionError, ("layout must be",)),
    ({"layout": {"g": "x"}}, OptionError, ("layout['g'] must be",)),
    ({"layout": {1: "dense"}}, OptionError, ("keys are groupings",)),
    ({"suffstats": "maybe"}, OptionError, ("suffstats must be True, False or 'auto'", "'maybe'")),
    ({"suffstats": 1}, OptionError, ("suffstats must be", "not 1")),
    ({"suffstats": None}, OptionError, ("suffstats must be",)),
    ({"centered": 3}, OptionError, ("centered must be True, False or 'auto', not 3",)),
    ({"centered": "yes"}, OptionError, ("centered must be",)),
    ({"centered": {"g": "yes"}}, OptionError, ("centered['g'] must be",)),
    ({"centered": [True]}, OptionError, ("centered must be",)),
    ({"na_action": "omit"}, OptionError, ("na_action must be 'drop' or 'raise', not 'omit'",)),
    ({"na_action": None}, OptionError, ("na_action must be",)),
    ({"na_action": "DROP"}, OptionError, ("na_action must be",)),
    ({"family": "gausian"}, FamilyError, ("unknown family 'gausian'",)),
    ({"family": 3}, FamilyError, ("unknown family 3",)),
    ({"family": None}, FamilyError, ("unknown family",)),
    ({"link": "foo"}, FamilyError, ("does not take the link 'foo'",)),
    ({"link": 3}, FamilyError, ("does not take the link 3",)),
    ({"family": "bernoulli", "link": "identity_"}, FamilyError, ("link",)),
    ({"sigma": 3}, ArgumentError, ("sigma= is a formula for the parameter sigma", "priors=")),
    ({"sigma": None}, ArgumentError, ("sigma= is a formula",)),
    ({"sigma": ["~ x"]}, ArgumentError, ("got list",)),
    (
        {"prior": {"b": "normal(0, 1)"}},
        ArgumentError,
        ("unexpected keyword argument 'prior'", "did you mean 'priors'?"),
    ),
    ({"layuot": "dense"}, ArgumentError, ("did you mean 'layout'?",)),
    ({"centred": False}, ArgumentError, ("did you mean 'centered'?",)),
    ({"familly": "gaussian"}, ArgumentError, ("did you mean 'family'?",)),
    ({"na_actions": "drop"}, ArgumentError, ("did you mean 'na_action'?",)),
    ({"suffstat": True}, ArgumentError, ("did you mean 'suffstats'?",)),
    ({"nu": "~ x"}, ArgumentError, ("distributional parameters are: sigma",)),
]
for options, error, words in MODEL_OPTIONS:
    call = functools.partial(hm.Model, FORMULA, BASE, **options)
    case("Model", repr(options), call, error, *words)

STREAM_OPTIONS: list[tuple[dict[str, Any], type, tuple[str, ...]]] = [
    ({"chunksize": 0}, OptionError, ("chunksize must be a whole number >= 1, not 0",)),
    ({"chunksize": -5}, OptionError, ("chunksize must be",)),
    ({"chunksize": 2.5}, OptionError, ("chunksize must be",)),
    ({"chunksize": "big"}, OptionError, ("chunksize must be",)),
    ({"layout": "sparse"}, OptionError, ("layout must be",)),
    ({"centered": 3}, OptionError, ("centered must be",)),
    ({"na_action": "omit"}, OptionError, ("na_action must be 'drop' or 'raise', not 'omit'",)),
    ({"priors": ["normal(0, 1)"]}, ArgumentError, ("priors must be a dict",)),
    ({"prior": {"b": "normal(0, 1)"}}, ArgumentError, ("did you mean 'priors'?",)),
    ({"sigma": 3}, ArgumentError, ("sigma= is a formula",)),
]
for options, error, words in STREAM_OPTIONS:
    call = functools.partial(hm.stream_model, "y ~ x + (1 | g)", lambda: [BASE], **options)
    case("stream_model", repr(options), call, error, *words)

# na_action="omit" is about na_action alone (issue 13: it must not mention new_levels)
case("Model", "na_action omit is not about new_levels",
     functools.partial(hm.Model, FORMULA, BASE, na_action="omit"), OptionError, "na_action")  # fmt: skip


# -- fitting (never samples: see the guard fixture) ------------------------------------------------

FIT_OPTIONS: list[tuple[dict[str, Any], type, tuple[str, ...]]] = [
    ({"method": "gibbs"}, OptionError, ("method must be 'nuts', 'advi', 'pathfinder' or 'map'",)),
    ({"method": "NUTS"}, OptionError, ("method must be", "'NUTS'")),
    ({"method": None}, OptionError, ("method must be", "None")),
    ({"method": ["nuts"]}, OptionError, ("method must be",)),
    ({"sampler": "stan"}, OptionError, ("sampler must be 'auto', 'pymc', 'nutpie' or 'numpyro'",)),
    ({"sampler": None}, OptionError, ("sampler must be",)),
    (
        {"method": "advi", "sampler": "nutpie"},
        OptionError,
        ("sampler='nutpie' is for method='nuts'",),
    ),
    ({"method": "map", "sampler": "numpyro"}, OptionError, ("is for method='nuts'",)),
    ({"draws": -5}, OptionError, ("draws must be a whole number >= 1, not -5",)),
    ({"draws": 0}, OptionError, ("draws must be a whole number >= 1, not 0",)),
    ({"draws": 1.5}, OptionError, ("draws must be a whole number",)),
    ({"draws": "100"}, OptionError, ("draws must be", "'100'")),
    ({"draws": True}, OptionError, ("draws must be a whole number",)),
    ({"draws": None}, OptionError, ("draws must be",)),
    ({"tune": -1}, OptionError, ("tune must be a whole number >= 0, not -1",)),
    ({"tune": 1e3}, OptionError, ("tune must be a whole number",)),
    ({"chains": 0}, OptionError, ("chains must be a whole number >= 1, not 0",)),
    ({"chains": "4"}, OptionError, ("chains must be",)),
    ({"target_accept": 7}, OptionError, ("target_accept must be a probability between 0 and 1",)),
    ({"target_accept": 0}, OptionError, ("target_accept must be a probability",)),
    ({"target_accept": 1.0}, OptionError, ("target_accept must be a probability",)),
    ({"target_accept": "high"}, OptionError, ("target_accept must be a probability",)),
    ({"target_accept": np.nan}, OptionError, ("target_accept must be a probability",)),
    ({"random_seed": "a"}, OptionError, ("random_seed must be None, a whole number >= 0",)),
    ({"random_seed": 1.5}, OptionError, ("random_seed must be",)),
    ({"random_seed": -1}, OptionError, ("random_seed must be", "-1")),
    ({"random_seed": [1, "a"]}, OptionError, ("random_seed must be",)),
    ({"progressbar": "yes"}, OptionError, ("progressbar must be True, False", "'yes'")),
    ({"progressbar": 2}, OptionError, ("progressbar must be",)),
    ({"posterior_predictive": "yes"}, OptionError, ("posterior_predictive must be True or False",)),
    ({"log_likelihood": "no"}, OptionError, ("log_likelihood must be True or False",)),
    ({"max_treedepth": -1}, OptionError, ("max_treedepth must be a whole number >= 1",)),
    ({"cores": 0}, OptionError, ("cores must be a whole number >= 1, not 0",)),
    ({"method": "advi", "n": -1}, OptionError, ("n must be a whole number >= 1, not -1",)),
    ({"draw": 100}, ArgumentError, ("unexpected keyword argument 'draw'", "did you mean 'draws'?")),
    ({"chain": 2}, ArgumentError, ("did you mean 'chains'?",)),
    ({"tunes": 2}, ArgumentError, ("did you mean 'tune'?",)),
    ({"target_acept": 0.9}, ArgumentError, ("did you mean 'target_accept'?",)),
    ({"targetaccept": 0.9}, ArgumentError, ("did you mean 'target_accept'?",)),
    ({"random_sed": 1}, ArgumentError, ("did you mean 'random_seed'?",)),
    ({"loglikelihood": False}, ArgumentError, ("did you mean 'log_likelihood'?",)),
    ({"foo": 1}, ArgumentError, ("unexpected keyword argument 'foo'", "keywords of its backend")),
    (
        {"method": "map", "target_accept": 0.9},
        ArgumentError,
        ("unexpected keyword argument 'target_accept'", "method='map'"),
    ),
    ({"method": "advi", "max_treedepth": 5}, ArgumentError, ("'max_treedepth'", "method='advi'")),
    ({"model": None}, ArgumentError, ("'model'", "hiermod sets model itself")),
    ({"nuts_sampler": "nutpie"}, ArgumentError, ("hiermod sets nuts_sampler itself",)),
]
for options, error, words in FIT_OPTIONS:
    case("fit", repr(options), lambda options=options: model().fit(**options), error, *words)

case("prior_predictive", "draws=0", lambda: model().prior_predictive(draws=0), OptionError,
     "draws must be a whole number >= 1, not 0")  # fmt: skip
case("prior_predictive", "draws='x'", lambda: model().prior_predictive(draws="x"), OptionError,
     "draws must be")  # fmt: skip
case("prior_predictive", "seed", lambda: model().prior_predictive(5, random_seed="x"),
     OptionError, "random_seed must be")  # fmt: skip

# -- prediction ------------------------------------------------------------------------------------

PREDICT: list[tuple[str, dict[str, Any], type, tuple[str, ...]]] = [
    (
        "kind",
        {"kind": "foo"},
        OptionError,
        ("kind must be 'mean', 'response', 'linear' or 'probs', not 'foo'",),
    ),
    ("kind None", {"kind": None}, OptionError, ("kind must be",)),
    ("kind list", {"kind": ["mean"]}, OptionError, ("kind must be",)),
    ("kind probs", {"kind": "probs"}, OptionError, ("kind='probs' is for the ordinal",)),
    ("groups unknown", {"groups": "h"}, OptionError, ("groups names 'h'", "its groupings: g")),
    ("groups int", {"groups": 3}, OptionError, ("groups must be True, False", "not 3")),
    ("groups list", {"groups": ["g", "zz"]}, OptionError, ("groups names 'zz'",)),
    ("groups mixed list", {"groups": ["g", 1]}, OptionError, ("groups must be",)),
    ("seed", {"random_seed": "x"}, OptionError, ("random_seed must be",)),
    ("add_to", {"add_to": 3}, ArgumentError, ("add_to must be a fit", "not int")),
    ("data int", {"data": 3}, DataError, ("data must be a pandas DataFrame, not int",)),
    ("data dict", {"data": {"x": [1.0], "g": ["a"]}}, DataError, ("not dict",)),
    ("missing column", {"data": BASE[["x"]]}, DataError, ("unknown column 'g'",)),
    ("missing group column", {"data": BASE.drop(columns="g")}, DataError, ("unknown column 'g'",)),
    ("empty", {"data": BASE.iloc[:0]}, DataError, ("the data has no rows",)),
    ("strings for numbers", {"data": data(x="a")}, DataError, ("column 'x' is not numeric",)),
    ("all missing", {"data": data(x=np.nan)}, DataError, ("no rows left",)),
    ("list cells", {"data": data(x=[[1.0]] * 12)}, DataError, ("holds list values",)),
    ("dates", {"data": data(x=pd.date_range("2020", periods=12))}, DataError, ("holds dates",)),
    ("complex", {"data": data(x=np.arange(12) + 1j)}, DataError, ("complex numbers",)),
    ("mixed", {"data": data(x=[1.0, "b", *[0.0] * 10])}, DataError, ("mixes numbers",)),
]
for label, options, error, words in PREDICT:
    call = lambda options=options: model().predict(fit(), **options)  # noqa: E731
    case("predict", label, call, error, *words)

NOT_FITS: list[object] = [None, 3, "fit.nc", BASE, {}, xr.Dataset()]
for value in NOT_FITS:
    name = type(value).__name__
    for method in ("predict", "fixef", "ranef", "varcorr", "corr", "summary", "coef", "loo"):
        call = lambda method=method, value=value: getattr(model(), method)(value)  # noqa: E731
        case(method, f"fit is {name}", call, ArgumentError, "xarray.DataTree", name)

# -- summaries and interpretation ------------------------------------------------------------------

METHODS: list[tuple[str, str, tuple[Any, ...], dict[str, Any], type, tuple[str, ...]]] = [
    ("fixef", "dpar", (), {"dpar": "sigma"}, OptionError, ("no formula for 'sigma'", "it has: mu")),
    ("fixef", "dpar int", (), {"dpar": 3}, OptionError, ("no formula for 3",)),
    ("summary", "show", (), {"show": "no"}, OptionError, ("show must be True or False",)),
    ("summary", "prob", (), {"prob": 1}, OptionError, ("prob must be a probability between 0",)),
    ("fixef", "prob", (), {"prob": "0.9"}, OptionError, ("prob must be a probability",)),
    ("ranef", "prob", (), {"prob": -1}, OptionError, ("prob must be a probability",)),
    ("varcorr", "prob", (), {"prob": True}, OptionError, ("prob must be a probability",)),
    ("corr", "prob", (), {"prob": 90}, OptionError, ("prob must be a probability",)),
    ("coef", "dpar", (), {"dpar": "zz"}, OptionError, ("no formula for 'zz'",)),
    ("coef", "prob", (), {"prob": 9}, OptionError, ("prob must be a probability between 0 and 1",)),
    ("bayes_r2", "prob", (), {"prob": 0}, OptionError, ("prob must be a probability",)),
    ("bayes_r2", "summary", (), {"summary": "x"}, OptionError, ("summary must be True or False",)),
    ("loo", "pointwise", (), {"pointwise": "x"}, OptionError, ("pointwise must be True or False",)),
    ("loo", "no log-likelihood", (), {}, HiermodError, ("no pointwise log-likelihood",)),
    ("pp_check", "kind", (), {"kind": "violin"}, OptionError, ("kind must be 'auto', 'density'",)),
    ("pp_check", "num_samples 0", (), {"num_samples": 0}, OptionError, ("num_samples must be",)),
    ("pp_check", "num_samples str", (), {"num_samples": "a"}, OptionError, ("num_samples",)),
    ("pp_check", "prob", (), {"prob": 2}, OptionError, ("prob must be",)),
    (
        "conditional_effects",
        "kind",
        ("x",),
        {"kind": "foo"},
        OptionError,
        ("kind must be 'mean', 'response' or 'linear', not 'foo'",),
    ),
    ("conditional_effects", "prob 2", ("x",), {"prob": 2}, OptionError, ("prob must be",)),
    ("conditional_effects", "prob str", ("x",), {"prob": "a"}, OptionError, ("prob must be",)),
    (
        "conditional_effects",
        "resolution 0",
        ("x",),
        {"resolution": 0},
        OptionError,
        ("resolution must be a whole number >= 2, not 0",),
    ),
    (
        "conditional_effects",
        "resolution float",
        ("x",),
        {"resolution": 1.5},
        OptionError,
        ("resolution must be",),
    ),
    (
        "conditional_effects",
        "resolution -3",
        ("x",),
        {"resolution": -3},
        OptionError,
        ("resolution",),
    ),
    (
        "conditional_effects",
        "by unknown",
        ("x",),
        {"by": "zz"},
        DataError,
        ("'zz' is not a variable of the model",),
    ),
    ("conditional_effects", "by int", ("x",), {"by": 3}, ArgumentError, ("by names variables",)),
    (
        "conditional_effects",
        "at unknown",
        ("x",),
        {"at": {"zz": 1}},
        DataError,
        ("'zz' is not a variable",),
    ),
    ("conditional_effects", "at int", ("x",), {"at": 3}, ArgumentError, ("at must be a dict",)),
    ("conditional_effects", "at key int", ("x",), {"at": {1: 2}}, ArgumentError, ("at's keys",)),
    (
        "conditional_effects",
        "groups",
        ("x",),
        {"groups": "zz"},
        OptionError,
        ("groups names 'zz'",),
    ),
    ("conditional_effects", "effect unknown", ("zz",), {}, DataError, ("'zz' is not a variable",)),
    ("conditional_effects", "effect int", (3,), {}, ArgumentError, ("effect names variables",)),
    (
        "conditional_effects",
        "three effects",
        ("x:g:y",),
        {},
        OptionError,
        ("effect names one or two variables", "not 3"),
    ),
    ("marginal_means", "kind", ("g",), {"kind": "foo"}, OptionError, ("kind must be",)),
    ("marginal_means", "prob", ("g",), {"prob": 1}, OptionError, ("prob must be",)),
    ("marginal_means", "variable unknown", ("zz",), {}, DataError, ("'zz' is not a variable",)),
    ("marginal_means", "variable int", (3,), {}, ArgumentError, ("variable must be",)),
    ("marginal_means", "by int", ("g",), {"by": 3}, ArgumentError, ("by names variables",)),
    (
        "comparisons",
        "comparison",
        ("x",),
        {"comparison": "foo"},
        OptionError,
        ("comparison must be 'difference' or 'ratio', not 'foo'",),
    ),
    (
        "comparisons",
        "kind",
        ("x",),
        {"kind": "response"},
        OptionError,
        ("kind must be 'mean' or 'linear'",),
    ),
    ("comparisons", "contrast unknown", ("zz",), {}, DataError, ("'zz' is not a variable",)),
    (
        "comparisons",
        "two contrasts",
        ({"x": [0, 1], "g": ["a", "b"]},),
        {},
        OptionError,
        ("contrast names one variable",),
    ),
    ("comparisons", "contrast int", (3,), {}, ArgumentError, ("contrast is a variable's name",)),
    ("comparisons", "contrast key int", ({3: [0, 1]},), {}, ArgumentError, ("contrast must be",)),
    ("comparisons", "prob", ("x",), {"prob": 5}, OptionError, ("prob must be",)),
    (
        "comparisons",
        "data",
        ("x",),
        {"data": 3},
        ArgumentError,
        ("data must be a pandas DataFrame",),
    ),
    (
        "slopes",
        "slope",
        ("x",),
        {"slope": "foo"},
        OptionError,
        ("slope must be 'dydx', 'eyex', 'eydx' or 'dyex'",),
    ),
    ("slopes", "eps negative", ("x",), {"eps": -1}, OptionError, ("eps must be a positive",)),
    ("slopes", "eps 0", ("x",), {"eps": 0}, OptionError, ("eps must be a positive",)),
    ("slopes", "eps str", ("x",), {"eps": "a"}, OptionError, ("eps must be",)),
    ("slopes", "eps inf", ("x",), {"eps": np.inf}, OptionError, ("eps must be a positive finite",)),
    ("slopes", "categorical", ("g",), {}, DataError, ("'g' is categorical: it has no derivative",)),
    ("slopes", "unknown", ("zz",), {}, DataError, ("'zz' is not a variable",)),
    ("slopes", "kind probs", ("x",), {"kind": "probs"}, OptionError, ("kind must be",)),
    ("slopes", "variable int", (3,), {}, ArgumentError, ("variable must be",)),
    ("hypothesis", "empty side", ("x > ",), {}, HypothesisError, ("the right side",)),
    ("hypothesis", "unknown", ("zz > 0",), {}, HypothesisError, ("'zz' is not a coefficient",)),
    ("hypothesis", "int", (3,), {}, ArgumentError, ("hypotheses is a str",)),
    ("hypothesis", "list of int", ([3],), {}, ArgumentError, ("a hypothesis is a str",)),
    ("hypothesis", "none", ([],), {}, OptionError, ("no hypothesis given",)),
    (
        "hypothesis",
        "import",
        ("__import__('os') > 0",),
        {},
        HypothesisError,
        ("__import__() is not a function",),
    ),
    ("hypothesis", "attribute", ("x.__class__ > 0",), {}, HypothesisError, ("unexpected",)),
    ("hypothesis", "no operator", ("x",), {}, HypothesisError, ("it has none",)),
    ("hypothesis", "two operators", ("x > 0 > 1",), {}, HypothesisError, ("it has 2",)),
    ("hypothesis", "prob", ("x > 0",), {"prob": 3}, OptionError, ("prob must be",)),
    (
        "hypothesis",
        "group",
        ("x > 0",),
        {"group": "zz"},
        OptionError,
        ("no group effects over 'zz'", "it has: 'g'"),
    ),
    (
        "hypothesis",
        "prior_draws 0",
        ("x = 0",),
        {"prior_draws": 0},
        OptionError,
        ("prior_draws must be a whole number >= 1",),
    ),
    (
        "hypothesis",
        "prior_draws str",
        ("x = 0",),
        {"prior_draws": "a"},
        OptionError,
        ("prior_draws",),
    ),
    ("hypothesis", "seed", ("x = 0",), {"random_seed": "a"}, OptionError, ("random_seed",)),
]
for method, label, args, kwargs, error, words in METHODS:
    call = lambda m=method, a=args, k=kwargs: getattr(model(), m)(fit(), *a, **k)  # noqa: E731
    case(method, label, call, error, *words)

COMPARE: list[tuple[str, Callable[[], object], type, tuple[str, ...]]] = [
    ("one model", lambda: hm.compare({"a": (model(), fit())}), OptionError, ("at least two",)),
    (
        "a list",
        lambda: hm.compare([(model(), fit())] * 2),
        ArgumentError,
        ("models must be a dict",),
    ),
    (
        "not pairs",
        lambda: hm.compare({"a": model(), "b": model()}),
        ArgumentError,
        ("models['a'] must be a (model, fit) pair",),
    ),
    (
        "no log-likelihood",
        lambda: hm.compare({"a": (model(), fit()), "b": (model(), fit())}),
        HiermodError,
        ("no pointwise log-likelihood",),
    ),
    (
        "new_levels",
        lambda: distributional_parameters(model(), fit(), new_levels="x"),
        OptionError,
        ("new_levels must be",),
    ),
]
for label, call, error, words in COMPARE:
    case("compare", label, call, error, *words)


# -- the tests -------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _never_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """A case that gets as far as a sampler failed to refuse its input: fail, fast."""
    for name in ("sample", "fit", "find_MAP"):
        original = getattr(pm, name)

        @functools.wraps(original)  # the signature stays readable (backend keywords)
        def guard(*args: object, _name: str = name, **kwargs: object) -> None:
            raise AssertionError(f"pm.{_name} was reached: the input was not refused at the call")

        monkeypatch.setattr(pm, name, guard)


@pytest.mark.parametrize("hostile", CASES, ids=[c.id for c in CASES])
def test_hostile_input_is_refused_with_words_naming_the_problem(hostile: Case) -> None:
    if issubclass(hostile.expect, Warning):
        with pytest.warns(hostile.expect) as record:
            hostile.call()
        text = " ".join(str(w.message) for w in record if issubclass(w.category, hostile.expect))
    else:
        with pytest.raises(Exception) as caught:  # noqa: PT011 - the class is checked below
            hostile.call()
        error = caught.value
        # 0 raw exceptions: whatever escapes a public function is a HiermodError
        assert isinstance(error, HiermodError), f"raw {type(error).__name__}: {error}"
        assert isinstance(error, hostile.expect), f"{type(error).__name__}: {error}"
        text = str(error)
    for words in hostile.words:
        assert words in text, f"{words!r} not in: {text}"


def test_the_corpus_is_large_and_every_expectation_is_a_hiermod_class() -> None:
    assert len(CASES) >= 300
    assert len({c.id for c in CASES}) == len(CASES)
    for hostile in CASES:
        assert issubclass(hostile.expect, HiermodError | HiermodWarning), hostile.id
        assert hostile.words or hostile.expect is HiermodError, hostile.id


def test_option_errors_are_value_errors_and_type_errors_are_type_errors() -> None:
    assert issubclass(OptionError, ValueError)
    assert issubclass(OptionError, HiermodError)
    assert issubclass(ArgumentError, TypeError)
    assert issubclass(ArgumentError, HiermodError)
    with pytest.raises(OptionError) as caught:
        hm.Model(FORMULA, BASE, na_action="omit")
    assert "new_levels" not in str(caught.value)


def test_a_keyword_the_backend_reads_passes_the_checks() -> None:
    """The checks refuse only what the backend would not read (no test that cannot fail: the
    guard says the call got as far as the sampler)."""
    flat = hm.Model("y ~ x", BASE)
    for options in ({"target_accept": 0.9, "cores": 1}, {"method": "advi", "n": 10}):
        with pytest.raises(AssertionError, match="was reached"):
            flat.fit(draws=5, tune=5, chains=1, progressbar=False, **options)


def test_advi_on_a_model_with_group_effects_warns_and_without_does_not() -> None:
    with (
        pytest.warns(FitWarning, match="method='advi' on a model with group-level effects \\(g\\)"),
        pytest.raises(AssertionError, match=r"pm\.fit was reached"),
    ):
        model().fit(method="advi", draws=5)
    flat = hm.Model("y ~ x", BASE)
    with pytest.raises(
        AssertionError, match=r"pm\.fit was reached"
    ):  # no warning (they are errors)
        flat.fit(method="advi", draws=5)


# -- canaries: hostile names never execute ---------------------------------------------------------

PAYLOADS = [
    "__import__('os').system('touch CANARY')",
    "$(touch CANARY)",
    "; touch CANARY",
    "`touch CANARY`",
    "'); __import__('os').system('touch CANARY'); ('",
    '"""; __import__("os").system("touch CANARY"); """',
    "{__import__('os').system('touch CANARY')}",
    "\n__import__('os').system('touch CANARY')\n",
    "\\'; import os; os.system('touch CANARY') #",
]


def _quoted(name: str) -> str:
    """``name`` as a double-quoted name of the formula language (escapes as R's)."""
    escaped = name.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _hostile_frame(payload: str) -> tuple[pd.DataFrame, str]:
    """Columns named after ``payload`` (a backtick, which no column name may hold, becomes a
    quote: see below) and levels that are ``payload``."""
    name = payload.replace("`", "'")
    y, x, g = f"y{name}", f"x{name}", f"g{name}"
    frame = pd.DataFrame(
        {
            y: np.linspace(1.0, 4.0, 12),
            x: np.tile([0.0, 1.0, 2.0], 4),
            g: np.repeat([payload, f"{payload}2", "a", "b"], 3),
        }
    )
    formula = f"{_quoted(y)} ~ {_quoted(x)} + (1 + {_quoted(x)} | {_quoted(g)})"
    return frame, formula


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_names_and_levels_never_execute(
    payload: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    frame, formula = _hostile_frame(payload)
    names = hm.Model(formula, frame)
    coef = names.ir.coords["coef"][0]  # the label of x's coefficient, quoted as the model quotes it
    sd = next(p for p in names.priors.index if p.startswith("sd_"))
    priors = {f"b[{coef}]": "normal(0, 1)", sd: "half_normal([1, 2])"}
    m = hm.Model(formula, frame, priors=priors)
    assert set(m.priors.loc[["b", sd], "source"]) == {"user"}
    source = m.source()
    compile(source, "model.py", "exec")
    m.pymc  # noqa: B018 - runs the generated source on the data
    grouping = next(
        k for k in m.ir.coords if k.startswith("g") and not k.endswith(("term", "pair"))
    )
    assert set(m.ir.coords[grouping]) == {payload, f"{payload}2", "a", "b"}
    with pytest.raises(PriorError, match="matches no parameter"):
        hm.Model(formula, frame, priors={payload: "normal(0, 1)"})
    with pytest.raises(PriorError):
        hm.Model(formula, frame, priors={"b": payload})
    with pytest.raises(FormulaError, match="cannot be empty or contain a backtick"):
        hm.Model(
            f"y ~ {_quoted(f'x`{payload}`')}", frame.assign(**{f"x`{payload}`": 1.0, "y": 1.0})
        )
    assert not (tmp_path / "CANARY").exists()


@pytest.mark.parametrize("payload", PAYLOADS[:5])
def test_hostile_csv_headers_through_the_cli_never_execute(payload: str, tmp_path: Path) -> None:
    frame, formula = _hostile_frame(payload.replace("\n", " "))
    frame.to_csv(tmp_path / "f.csv", index=False)
    out = tmp_path / "model.py"
    env = dict(os.environ, PYTHONPATH=str(Path(hm.__file__).parent.parent))
    done = subprocess.run(
        [sys.executable, "-m", "hiermod", "compile", formula, "--data", "f.csv", "-o", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    compile(out.read_text(), str(out), "exec")
    assert not (tmp_path / "CANARY").exists()


def test_na_action_error_is_about_na_action_only() -> None:
    """Issue 13: na_action="omit" once answered with the allowed values of new_levels."""
    data = pd.DataFrame({"y": [1.0, 2.0, 3.0], "x": [1.0, 2.0, 4.0]})
    with pytest.raises(OptionError, match="na_action must be 'drop' or 'raise'") as raised:
        hm.Model("y ~ x", data, na_action="omit")
    assert "new_levels" not in str(raised.value)
