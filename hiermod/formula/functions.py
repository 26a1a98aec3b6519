"""The allow-list: every function a formula may call, with its signature and role.

Formula text is untrusted input. It is never evaluated as Python; instead each call is looked up here,
its arguments are checked against the signature, and the binding stage (``hiermod/data/design.py``)
evaluates it with its own NumPy implementation. A name that is not in this table is an error that
suggests the closest allowed name::

    y ~ lgo(x)   ->  FormulaError: unknown function 'lgo'; hint: did you mean 'log'?

Besides the functions, this module names the contrasts ``C()`` accepts (:data:`CONTRASTS`) and the
response spellings of other tools that get a pointed hint (:data:`FOREIGN_RESPONSES`).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import Enum

from hiermod.formula.syntax import Name, String

__all__ = [
    "CONTRASTS",
    "FOREIGN_FUNCTIONS",
    "FOREIGN_RESPONSES",
    "FUNCTIONS",
    "RESPONSE_ADDITIONS",
    "UNSUPPORTED_CONTRASTS",
    "FunctionSpec",
    "Role",
    "closest",
    "contrast_name",
]


class Role(Enum):
    """What a function does, which decides where it may appear."""

    ELEMENTWISE = "elementwise"  # log(x): a pure function of each value; nests anywhere
    ARITHMETIC = "arithmetic"  # I(x**2): protects arithmetic from the formula algebra
    STATEFUL = "stateful"  # center(x): remembers data-dependent constants for new data
    CATEGORICAL = "categorical"  # C(f, ref="b"): treat as categorical, choose the reference
    BASIS = "basis"  # poly(x, 2), bs(x, df=4): one column becomes several
    OFFSET = "offset"  # offset(log(n)): added to the linear predictor with coefficient 1
    MONOTONIC = "monotonic"  # mo(x): brms's monotonic effect of an ordered predictor
    ADDITION = "addition"  # trials(n), weights(w), se(s): response-side information (brms)
    RESPONSE = "response"  # cbind(s, f): lme4's binomial response, the whole left side only
    GP = "gp"  # gp(x, k=20): brms's Gaussian process, a term with parameters of its own


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """The signature of an allowed function.

    ``positional`` names the positional parameters in order (the first is always the data argument);
    ``required`` is how many of them must be given; ``keywords`` are the names allowed as ``name=value``
    (positional parameters may also be passed by keyword). ``data_arguments`` is how many leading
    positional parameters read the data: one for all but ``cbind(successes, failures)`` (every argument); the rest
    are options (``poly(x, 2)``'s degree, ``C(f, sum)``'s contrast).
    """

    name: str
    role: Role
    positional: tuple[str, ...]
    required: int
    keywords: tuple[str, ...] = ()
    summary: str = ""
    data_arguments: int = 1
    data_keywords: tuple[str, ...] = ()  # keywords that name a column: gp(x, by=f)

    @property
    def parameters(self) -> tuple[str, ...]:
        return self.positional + self.keywords


_SPECS = (
    FunctionSpec("log", Role.ELEMENTWISE, ("x",), 1, summary="natural logarithm"),
    FunctionSpec("log1p", Role.ELEMENTWISE, ("x",), 1, summary="log(1 + x)"),
    FunctionSpec("log2", Role.ELEMENTWISE, ("x",), 1, summary="base-2 logarithm"),
    FunctionSpec("log10", Role.ELEMENTWISE, ("x",), 1, summary="base-10 logarithm"),
    FunctionSpec("exp", Role.ELEMENTWISE, ("x",), 1, summary="exponential"),
    FunctionSpec("sqrt", Role.ELEMENTWISE, ("x",), 1, summary="square root"),
    FunctionSpec("abs", Role.ELEMENTWISE, ("x",), 1, summary="absolute value"),
    FunctionSpec("I", Role.ARITHMETIC, ("x",), 1, summary="arithmetic on columns and numbers"),
    FunctionSpec("center", Role.STATEFUL, ("x",), 1, summary="x minus its mean in the data"),
    FunctionSpec("scale", Role.STATEFUL, ("x",), 1, summary="(x - mean) / sd in the data"),
    FunctionSpec("standardize", Role.STATEFUL, ("x",), 1, summary="same as scale(x)"),
    FunctionSpec(
        "C",
        Role.CATEGORICAL,
        ("x", "contrast"),
        1,
        ("ref", "levels"),
        summary="categorical: contrast (treatment or sum), reference level, level order",
    ),
    FunctionSpec("poly", Role.BASIS, ("x", "degree"), 1, ("raw",), summary="orthogonal polynomial"),
    FunctionSpec("bs", Role.BASIS, ("x",), 1, ("df", "degree"), summary="B-spline basis"),
    FunctionSpec(
        "gp",
        Role.GP,
        ("x", "x2", "x3"),
        1,
        ("by", "k", "c", "scale"),
        summary="brms's Gaussian process (exact or Hilbert-space approximation), hiermod.data.gp",
        data_arguments=3,
        data_keywords=("by",),
    ),
    FunctionSpec(
        "s",
        Role.BASIS,
        ("x", "z"),
        1,
        ("by", "k", "bs"),
        summary='penalised smooth (brms, mgcv): k=10, bs="tp", "cr" or "cc", by=f (one per level); '
        "s(x, z): the two-dimensional thin-plate spline, k=30",
        data_arguments=2,  # s(x, z) reads both columns, s(x, by = f) f
        data_keywords=("by",),
    ),
    FunctionSpec(
        "t2",
        Role.BASIS,
        ("x", "z", "w"),
        2,
        ("by", "k", "bs"),
        summary='tensor-product smooth (brms, mgcv\'s t2): k=5 per column, bs="cr", "cc" or "tp", '
        "one per column or c(…), by=f (one per level) or a number; hiermod.formula.tensor",
        data_arguments=3,
        data_keywords=("by",),
    ),
    FunctionSpec("mo", Role.MONOTONIC, ("x",), 1, summary="monotonic effect (brms)"),
    FunctionSpec("offset", Role.OFFSET, ("x",), 1, summary="term with coefficient fixed at 1"),
    FunctionSpec("trials", Role.ADDITION, ("x",), 1, summary="binomial number of trials"),
    FunctionSpec("weights", Role.ADDITION, ("x",), 1, summary="likelihood weights"),
    FunctionSpec("se", Role.ADDITION, ("x",), 1, summary="known standard error of the response"),
    FunctionSpec(
        "cens",
        Role.ADDITION,
        ("x", "y2"),
        1,
        summary="censoring: left, none, right or interval (-1, 0, 1, 2), brms's; y2 is the "
        "upper bound of an interval-censored row",
        data_arguments=2,
    ),
    FunctionSpec(
        "trunc",
        Role.ADDITION,
        ("lb", "ub"),
        0,
        summary="truncation: the response lies in [lb, ub] (numbers or columns), brms's",
        data_arguments=2,
    ),
    FunctionSpec("rate", Role.ADDITION, ("x",), 1, summary="exposure: the mean is rate times mu"),
    FunctionSpec(
        "ordered",
        Role.RESPONSE,
        ("x",),
        1,
        ("levels",),
        summary="R's ordered(): an ordinal response's categories in the order of levels=c(…)",
    ),
    FunctionSpec(
        "cbind",
        Role.RESPONSE,
        ("successes", "failures"),
        2,
        summary="lme4's binomial response: successes | trials(successes + failures); with more "
        "columns, a column per category (multinomial, dirichlet)",
        data_arguments=1_000_000,  # every argument is a column: cbind(a, b, c, …)
    ),
)

FUNCTIONS: dict[str, FunctionSpec] = {spec.name: spec for spec in _SPECS}
RESPONSE_ADDITIONS = frozenset(s.name for s in _SPECS if s.role is Role.ADDITION)

# The contrasts of C(f, <contrast>), as R's C() spells them (R maps the bare names to the contr.*
# functions): C(f, sum) is C(f, contr.sum); a string works as in R: C(f, "contr.sum").
#   treatment: R's default; the reference level (the first, or ref=) is left out;
#   sum: R's contr.sum; the last level is left out and gets -1 in every column, so for levels
#        a, b, c the columns are a: (1, 0), b: (0, 1), c: (-1, -1).
CONTRASTS: dict[str, str] = {
    "treatment": "treatment",
    "contr.treatment": "treatment",
    "sum": "sum",
    "contr.sum": "sum",
}
# Contrasts R has and hiermod does not, with what they are (for the error's message).
UNSUPPORTED_CONTRASTS: dict[str, str] = {
    "helmert": "Helmert contrasts",
    "contr.helmert": "Helmert contrasts",
    "poly": "orthogonal polynomial contrasts",
    "contr.poly": "orthogonal polynomial contrasts",
    "SAS": "SAS contrasts (treatment with the last level as reference)",
    "contr.SAS": "SAS contrasts (treatment with the last level as reference)",
}

# Binomial responses of other tools, with how hiermod writes them ({0} and {1} are their arguments):
# Bambi's p(y, n) ~ x is y | trials(n) ~ x. lme4's cbind(s, f) is supported as written.
FOREIGN_RESPONSES: dict[str, str] = {
    "p": "p({0}, {1}) is Bambi's proportion response; hiermod writes it as brms does: "
    "{0} | trials({1}) ~ …, or as lme4: cbind({0}, {1} - {0}) ~ …",
    "prop": "prop({0}, {1}) is formulae's proportion response; hiermod writes it as brms does: "
    "{0} | trials({1}) ~ …, or as lme4: cbind({0}, {1} - {0}) ~ …",
}

# Terms of brms, mgcv and R that hiermod does not have (yet): (what it is, what to write instead).
# Without this table the closest allowed name would be suggested: s(x) -> "did you mean 'se'?".
# brms 2.18 itself refuses te() and ti() ("not yet implemented in brms. Consider using 't2'"):
# mgcv's te/ti penalties do not split into brms's mixed-model form
_TE = (
    "mgcv's tensor-product smooth, which brms cannot fit either (brms has t2(), not te()/ti())",
    "t2(x, z) is brms's tensor-product smooth; or s(x, z), the two-dimensional thin-plate one",
)
FOREIGN_FUNCTIONS: dict[str, tuple[str, str]] = {
    "te": _TE,
    "ti": _TE,
    "ns": ("R's natural spline basis (splines::ns); hiermod does not have it", "use bs(x, df=4)"),
    "cse": (
        "brms's category-specific effect (ordinal families); hiermod does not support it",
        "write x as an ordinary term",
    ),
    "me": ("brms's measurement-error term; hiermod does not support it", "use the measured column"),
    "mi": (
        "brms's missing-value imputation term; hiermod does not support it",
        "rows with missing values are dropped with a warning (na_action='drop')",
    ),
    "mm": (
        "brms's multi-membership grouping; hiermod does not support it",
        "use one grouping per group term: (1 | g)",
    ),
    "mmc": (
        "brms's multi-membership grouping; hiermod does not support it",
        "use one grouping per group term: (1 | g)",
    ),
    "gr": (
        "brms's grouping with options; it stands alone after '|'",
        "(1 + x | gr(g)) is (1 + x | g), and (1 + x | gr(g, cor = FALSE)) is (1 + x || g)",
    ),
    "factor": (
        "R's conversion to a categorical",
        "write C(g), or make the column a pandas Categorical",
    ),
    "as.factor": (
        "R's conversion to a categorical",
        "write C(g), or make the column a pandas Categorical",
    ),
}


def contrast_name(value: object) -> str | None:
    """The text of a contrast argument: ``sum`` (a name) or ``"contr.sum"`` (a string), else None."""
    if isinstance(value, Name):
        return value.name
    return value.value if isinstance(value, String) else None


def closest(name: str, choices: object) -> str | None:
    """The choice most like ``name`` (for "did you mean" hints), or ``None`` if nothing is close."""
    options = [str(c) for c in choices]  # type: ignore[attr-defined]
    lowered = {o.lower(): o for o in options}
    if name.lower() in lowered:
        return lowered[name.lower()]
    match = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return match[0] if match else None
