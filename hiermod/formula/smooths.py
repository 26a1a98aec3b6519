"""The options of a smooth ``s(x, k=10, bs="tp")`` (brms and mgcv's spelling), checked once.

``s(x)`` is a penalised spline of one numeric column: ``bs`` names the basis (``"tp"``, mgcv's
default thin-plate regression spline; ``"cr"``, the cubic regression spline; ``"cc"``, the cyclic
cubic spline) and ``k`` its dimension before the sum-to-zero constraint, as mgcv counts it (default
10, at least 3): ``s(x, k=10)`` gives 9 columns, one unpenalised (linear) and 8 penalised for
``tp`` and ``cr``, and 8 penalised for ``cc``. What brms has and hiermod does not yet is refused
here with a message: ``s(x, z)`` (a smooth of two columns), a numeric ``by``, other bases.
``s(x, by = f)`` of a categorical ``f`` is one smooth per level of f, as mgcv's factor ``by``.
"""

from __future__ import annotations

from typing import Literal

from hiermod.errors import FormulaError
from hiermod.formula.syntax import Call, Name, Number, String

__all__ = ["BASES", "DEFAULT_K", "SmoothKind", "check_smooth", "smooth_options"]

SmoothKind = Literal["tp", "cr", "cc"]
BASES: dict[str, str] = {
    "tp": "thin-plate regression spline (mgcv's default)",
    "cr": "cubic regression spline",
    "cc": "cyclic cubic regression spline",
}
DEFAULT_K = 10


def smooth_options(call: Call) -> tuple[SmoothKind, int]:
    """The basis and ``k`` of a checked ``s()`` call: ``s(x)`` is ("tp", 10)."""
    bs, k = call.keyword("bs"), call.keyword("k")
    kind = bs.value.value if bs is not None and isinstance(bs.value, String) else "tp"
    size = int(k.value.value) if k is not None and isinstance(k.value, Number) else DEFAULT_K
    return kind, size  # type: ignore[return-value]


def check_smooth(call: Call, text: str) -> None:
    """``s(x)``, ``s(x, k=5)``, ``s(x, bs="cr")``; anything else is a :class:`FormulaError`.

    ``s(x, z)`` is brms's and not hiermod's yet; ``by`` is a column; ``k`` is a whole number >= 3
    (mgcv's smallest basis with a penalised part); ``bs`` one of :data:`BASES`.
    """
    if len(call.args) > 1:
        raise FormulaError(
            "s() of more than one column (a multivariate thin-plate smooth, brms's s(x, z)) is "
            "not supported yet",
            text,
            call.args[1].span or call.span,
            hint="use one smooth per column, s(x) + s(z), or t2(x, z) in brms",
        )
    if call.args and not isinstance(call.args[0], Name):
        raise FormulaError(
            "s() takes a column name", text, call.args[0].span or call.span, hint="e.g. s(x)"
        )
    by = call.keyword("by")
    if by is not None and not isinstance(by.value, Name):
        raise FormulaError(
            "s() by takes a categorical column: one smooth per level",
            text,
            by.span,
            hint="e.g. s(x, by = f), with f in the formula too: y ~ f + s(x, by = f)",
        )
    k = call.keyword("k")
    if k is not None and not (
        isinstance(k.value, Number) and float(k.value.value).is_integer() and k.value.value >= 3
    ):
        raise FormulaError(
            "s() k must be a whole number of at least 3", text, k.span, hint="e.g. k=10"
        )
    bs = call.keyword("bs")
    if bs is not None and not (isinstance(bs.value, String) and bs.value.value in BASES):
        bases = ", ".join(f'"{name}" ({what})' for name, what in BASES.items())
        raise FormulaError(f"s() bs must be one of {bases}", text, bs.span)
