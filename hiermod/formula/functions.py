"""The allow-list: every function a formula may call, with its signature and role.

Formula text is untrusted input. It is never evaluated as Python; instead each call is looked up here,
its arguments are checked against the signature, and the binding stage (``hiermod/data/design.py``)
evaluates it with its own NumPy implementation. A name that is not in this table is an error that
suggests the closest allowed name::

    y ~ lgo(x)   ->  FormulaError: unknown function 'lgo'; hint: did you mean 'log'?
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import Enum

__all__ = ["FUNCTIONS", "RESPONSE_ADDITIONS", "FunctionSpec", "Role", "closest"]


class Role(Enum):
    """What a function does, which decides where it may appear."""

    ELEMENTWISE = "elementwise"  # log(x): a pure function of each value; nests anywhere
    ARITHMETIC = "arithmetic"  # I(x**2): protects arithmetic from the formula algebra
    STATEFUL = "stateful"  # center(x): remembers data-dependent constants for new data
    CATEGORICAL = "categorical"  # C(f, ref="b"): treat as categorical, choose the reference
    BASIS = "basis"  # poly(x, 2), bs(x, df=4): one column becomes several
    OFFSET = "offset"  # offset(log(n)): added to the linear predictor with coefficient 1
    ADDITION = "addition"  # trials(n), weights(w), se(s): response-side information (brms)


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """The signature of an allowed function.

    ``positional`` names the positional parameters in order (the first is always the data argument);
    ``required`` is how many of them must be given; ``keywords`` are the names allowed as ``name=value``
    (positional parameters may also be passed by keyword).
    """

    name: str
    role: Role
    positional: tuple[str, ...]
    required: int
    keywords: tuple[str, ...] = ()
    summary: str = ""

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
        "C", Role.CATEGORICAL, ("x",), 1, ("ref",), summary="categorical, reference level"
    ),
    FunctionSpec("poly", Role.BASIS, ("x", "degree"), 1, ("raw",), summary="orthogonal polynomial"),
    FunctionSpec("bs", Role.BASIS, ("x",), 1, ("df", "degree"), summary="B-spline basis"),
    FunctionSpec("offset", Role.OFFSET, ("x",), 1, summary="term with coefficient fixed at 1"),
    FunctionSpec("trials", Role.ADDITION, ("x",), 1, summary="binomial number of trials"),
    FunctionSpec("weights", Role.ADDITION, ("x",), 1, summary="likelihood weights"),
    FunctionSpec("se", Role.ADDITION, ("x",), 1, summary="known standard error of the response"),
)

FUNCTIONS: dict[str, FunctionSpec] = {spec.name: spec for spec in _SPECS}
RESPONSE_ADDITIONS = frozenset(s.name for s in _SPECS if s.role is Role.ADDITION)


def closest(name: str, choices: object) -> str | None:
    """The choice most like ``name`` (for "did you mean" hints), or ``None`` if nothing is close."""
    options = [str(c) for c in choices]  # type: ignore[attr-defined]
    lowered = {o.lower(): o for o in options}
    if name.lower() in lowered:
        return lowered[name.lower()]
    match = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return match[0] if match else None
