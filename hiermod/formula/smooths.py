"""The options of a smooth ``s(x, k=10, bs="tp")`` (brms and mgcv's spelling), checked once.

``s(x)`` is a penalised spline of one numeric column: ``bs`` names the basis (``"tp"``, mgcv's
default thin-plate regression spline; ``"cr"``, the cubic regression spline; ``"cc"``, the cyclic
cubic spline) and ``k`` its dimension before the sum-to-zero constraint, as mgcv counts it (default
10, at least 3): ``s(x, k=10)`` gives 9 columns, one unpenalised (linear) and 8 penalised for
``tp`` and ``cr``, and 8 penalised for ``cc``. ``s(x, z)`` is mgcv's two-dimensional thin-plate
regression spline (``bs = "tp"`` only, as in mgcv; ``k`` default 30, at least 4): 29 columns, two
unpenalised (the linear terms in x and z) and 27 penalised. What brms has and hiermod does not
yet is refused here with a message: a smooth of three or more columns, a numeric ``by``, other
bases.
``s(x, by = f)`` of a categorical ``f`` is one smooth per level of f, as mgcv's factor ``by``.
"""

from __future__ import annotations

from typing import Literal

from hiermod.errors import FormulaError
from hiermod.formula.syntax import Call, Name, Number, String

__all__ = ["BASES", "DEFAULT_K", "SmoothKind", "check_smooth", "smooth_options", "smooth_variables"]

SmoothKind = Literal["tp", "cr", "cc"]
BASES: dict[str, str] = {
    "tp": "thin-plate regression spline (mgcv's default)",
    "cr": "cubic regression spline",
    "cc": "cyclic cubic regression spline",
}
DEFAULT_K = 10
DEFAULT_K_2D = 30  # mgcv's for a thin-plate smooth of two columns: M + 27


def smooth_variables(call: Call) -> tuple[Name, ...]:
    """The columns of a checked ``s()`` call: ``s(x, z)`` reads x and z."""
    return tuple(a for a in call.args if isinstance(a, Name))


def smooth_options(call: Call) -> tuple[SmoothKind, int]:
    """The basis and ``k`` of a checked ``s()`` call: ``s(x)`` is ("tp", 10), ``s(x, z)``
    ("tp", 30)."""
    bs, k = call.keyword("bs"), call.keyword("k")
    kind = bs.value.value if bs is not None and isinstance(bs.value, String) else "tp"
    default = DEFAULT_K_2D if len(call.args) > 1 else DEFAULT_K
    size = int(k.value.value) if k is not None and isinstance(k.value, Number) else default
    return kind, size  # type: ignore[return-value]


def check_smooth(call: Call, text: str) -> None:
    """``s(x)``, ``s(x, k=5)``, ``s(x, bs="cr")``, ``s(x, z)``; anything else is a
    :class:`FormulaError`.

    At most two columns, and two only with ``bs = "tp"``; ``by`` is a column; ``k`` is a whole
    number >= 3 (mgcv's smallest basis with a penalised part; >= 4 for two columns); ``bs`` one of
    :data:`BASES`.
    """
    if len(call.args) > 2:
        raise FormulaError(
            "s() of more than two columns (a thin-plate smooth of three or more) is not supported "
            "yet",
            text,
            call.args[2].span or call.span,
            hint="s(x, z) is the two-dimensional thin-plate spline; or s(x) + s(z) + s(w)",
        )
    for arg in call.args:
        if not isinstance(arg, Name):
            raise FormulaError(
                "s() takes column names", text, arg.span or call.span, hint="e.g. s(x) or s(x, z)"
            )
    bs = call.keyword("bs")
    if (
        len(call.args) == 2
        and bs is not None
        and not (isinstance(bs.value, String) and bs.value.value == "tp")
    ):
        raise FormulaError(
            f"s() of two columns is a thin-plate spline: bs = {bs.value} has one column (as mgcv)",
            text,
            bs.span,
            hint='drop bs (s(x, z) is bs = "tp"), or write s(x, bs="cr") + s(z, bs="cr")',
        )
    by = call.keyword("by")
    if by is not None and not isinstance(by.value, Name):
        raise FormulaError(
            "s() by takes a categorical column: one smooth per level",
            text,
            by.span,
            hint="e.g. s(x, by = f), with f in the formula too: y ~ f + s(x, by = f)",
        )
    k, least = call.keyword("k"), 3 if len(call.args) < 2 else 4
    if k is not None and not (
        isinstance(k.value, Number) and float(k.value.value).is_integer() and k.value.value >= least
    ):
        raise FormulaError(
            f"s() k must be a whole number of at least {least}"
            + (
                " for two columns (3 unpenalised functions and a penalised one)"
                if least == 4
                else ""
            ),
            text,
            k.span,
            hint="e.g. k=10" if least == 3 else "e.g. k=30",
        )
    bs = call.keyword("bs")
    if bs is not None and not (isinstance(bs.value, String) and bs.value.value in BASES):
        bases = ", ".join(f'"{name}" ({what})' for name, what in BASES.items())
        raise FormulaError(f"s() bs must be one of {bases}", text, bs.span)
