"""The options of brms's tensor-product smooth ``t2(x, z, k = 5, bs = "cr")``, checked once.

``t2(x, z)`` (mgcv's ``t2``, Wood, Scheipl & Faraway 2013) is a smooth of two or three numeric
columns built from one marginal smooth per column: ``bs`` names the marginal bases (one for all,
or ``c("cr", "cc")`` one per column; ``"cr"``, the cubic regression spline, mgcv's default for a
tensor product, ``"cc"``, the cyclic one, or ``"tp"``, the thin-plate regression spline of one
column) and ``k`` their dimensions (one for all or ``c(5, 6)``; default 5, at least 3 for ``cr``
and ``tp`` and 4 for ``cc``, as mgcv counts them: below, mgcv resets k with a warning). ``by = f``
is one smooth per level of a categorical f, ``by = v`` of a numeric v the smooth times v (checked
when the data are bound, :mod:`hiermod.data.smooth`). What mgcv has and hiermod does not is
refused here: ``d`` (a margin of several columns), ``full``, ``ord`` and the other options, more
than three columns.
"""

from __future__ import annotations

from hiermod.errors import FormulaError
from hiermod.formula.syntax import Call, Keyword, Name, Number, String

__all__ = ["MARGINS", "check_t2", "t2_options", "t2_variables"]

MARGINS: dict[str, str] = {
    "cr": "cubic regression spline",
    "cc": "cyclic cubic regression spline",
    "tp": "thin-plate regression spline",
}
DEFAULT_K = 5  # mgcv's per margin of a tensor product
_MGCV = ("d", "m", "xt", "id", "sp", "full", "ord", "pc")  # mgcv's t2 options not in hiermod
_LEAST = {"cr": 3, "cc": 4, "tp": 3}  # mgcv's smallest (t2 resets k < 3, cc raises k < 4 to 4)


def t2_variables(call: Call) -> tuple[Name, ...]:
    """The columns of a checked ``t2()`` call, one margin each."""
    return tuple(a for a in call.args if isinstance(a, Name))


def _values(kw: Keyword | None) -> tuple[object, ...] | None:
    """A keyword's value, or the items of its ``c(…)`` list."""
    if kw is None:
        return None
    if isinstance(kw.value, Call) and kw.value.func == "c" and not kw.value.kwargs:
        return tuple(kw.value.args)
    return (kw.value,)


def t2_options(call: Call) -> tuple[tuple[str, int], ...]:
    """Each margin's basis and dimension of a checked ``t2()`` call: ``t2(x, z)`` is
    (("cr", 5), ("cr", 5)); ``t2(x, z, k = c(4, 6), bs = "cc")`` (("cc", 4), ("cc", 6))."""
    d = len(t2_variables(call))
    bs = _values(call.keyword("bs")) or (String("cr"),)
    k = _values(call.keyword("k")) or (Number(DEFAULT_K),)
    kinds = [b.value for b in bs if isinstance(b, String)] * (d if len(bs) == 1 else 1)
    sizes = [int(v.value) for v in k if isinstance(v, Number)] * (d if len(k) == 1 else 1)
    return tuple(zip(kinds, sizes, strict=True))


def check_t2(call: Call, text: str) -> None:
    """``t2(x, z)``, ``t2(x, z, k = 6)``, ``t2(x, z, k = c(4, 6), bs = c("cr", "cc"))``,
    ``t2(x, z, by = f)``, of two or three columns; anything else is a :class:`FormulaError` with a
    caret under it."""
    if len(call.args) < 2 or len(call.args) > 3:
        raise FormulaError(
            "t2() takes two or three columns (a tensor product of their marginal smooths)",
            text,
            call.args[3].span if len(call.args) > 3 else call.span,
            hint='for one column, write s(x) (or s(x, bs = "cr"))'
            if len(call.args) < 2
            else "t2(x, z, w) is the largest",
        )
    for arg in call.args:
        if not isinstance(arg, Name):
            raise FormulaError(
                "t2() takes column names", text, arg.span or call.span, hint="e.g. t2(x, z)"
            )
    for kw in call.kwargs:
        if kw.name in _MGCV:
            raise FormulaError(
                f"t2() {kw.name} is not supported (hiermod has t2's k, bs and by)",
                text,
                kw.span,
                hint='e.g. t2(x, z, k = c(5, 6), bs = "cr")',
            )
    by = call.keyword("by")
    if by is not None and not isinstance(by.value, Name):
        raise FormulaError(
            "t2() by takes a column: categorical (one smooth per level) or numeric (the smooth "
            "times it)",
            text,
            by.span,
            hint="e.g. t2(x, z, by = f), with f in the formula too: y ~ f + t2(x, z, by = f)",
        )
    d = len(call.args)
    bs, k = call.keyword("bs"), call.keyword("k")
    kinds = _values(bs) or (String("cr"),)
    if len(kinds) not in (1, d) or not all(isinstance(b, String) for b in kinds):
        assert bs is not None
        raise FormulaError(
            f"t2() bs is one basis name or c(…) of {d}, one per column",
            text,
            bs.span,
            hint='e.g. bs = "cr" or bs = c("cr", "cc")',
        )
    for b in kinds:
        assert isinstance(b, String)
        if b.value not in MARGINS:
            assert bs is not None
            known = ", ".join(f'"{name}" ({what})' for name, what in MARGINS.items())
            raise FormulaError(
                f"t2() bs must be one of {known}, not {b}",
                text,
                bs.span,
                hint='e.g. bs = "cr"',
            )
    sizes = _values(k) or (Number(DEFAULT_K),)
    whole = all(isinstance(v, Number) and float(v.value).is_integer() for v in sizes)
    if len(sizes) not in (1, d) or not whole:
        assert k is not None
        raise FormulaError(
            f"t2() k is one whole number or c(…) of {d}, one per column",
            text,
            k.span,
            hint="e.g. k = 5 or k = c(5, 6)",
        )
    for (kind, size), column in zip(t2_options(call), call.args, strict=True):
        if size < _LEAST[kind]:
            assert k is not None  # the default 5 is enough
            raise FormulaError(
                f"t2() k of {column} ({kind}) must be at least {_LEAST[kind]} (mgcv resets a "
                "smaller k with a warning)",
                text,
                k.span,
                hint="e.g. k = 5",
            )
