"""The formula's checks, passes 1 and 2 of :func:`hiermod.formula.expand.expand`: calls, literals
and the response, before any algebra.

1. :func:`check_literals` and :func:`check_calls` — names and numbers print back to themselves; every
   call is on the allow-list with a valid signature (no ``eval`` ever);
2. :func:`hiermod.formula.response_checks.check_response` — the left-hand side (its own module).

``C()``'s options (contrast, ``ref=``, ``levels=``) are checked here as far as the text allows
(:func:`_check_categorical`); whether the levels are those of the data is the data stage's.

:class:`Context` carries what every pass needs to report an error (here and in
:mod:`hiermod.formula.expand`): the formula text.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from hiermod.errors import FormulaError, Span
from hiermod.formula.functions import (
    CONTRASTS,
    FOREIGN_FUNCTIONS,
    FUNCTIONS,
    UNSUPPORTED_CONTRASTS,
    Role,
    closest,
    contrast_name,
)
from hiermod.formula.gp import gp_options
from hiermod.formula.monotonic import check_monotonic_call
from hiermod.formula.smooths import check_smooth
from hiermod.formula.syntax import (
    Arith,
    ArithNode,
    BinaryOp,
    Call,
    GroupTerm,
    Name,
    Negate,
    Number,
    Paren,
    String,
    UnaryMinus,
    arith_nodes,
)
from hiermod.formula.tensor import check_t2

__all__ = [
    "Context",
    "call_name_span",
    "check_calls",
    "check_levels",
    "check_literals",
    "is_positive_int",
    "number_value",
    "reads_a_column",
    "span_of",
    "walk_calls",
]


@dataclass(frozen=True, slots=True)
class Context:
    """What every pass needs to report an error: the formula text."""

    text: str

    def error(self, message: str, span: Span | None, hint: str | None = None) -> FormulaError:
        return FormulaError(message, self.text, span, hint=hint)


# ---------------------------------------------------------------------------------------------------
# Pass 1: function calls against the allow-list.


def call_name_span(call: Call) -> Span | None:
    if call.span is None:
        return None
    return Span(call.span.start, call.span.start + len(call.func))


def _children(node: object) -> tuple[object, ...]:
    """The child nodes of a syntax node, left to right (arguments of a call included)."""
    if isinstance(node, (BinaryOp, Arith)):
        return (node.left, node.right)
    if isinstance(node, (Negate, UnaryMinus)):
        return (node.operand,)
    if isinstance(node, Paren):
        return (node.inner,)
    if isinstance(node, GroupTerm):
        return (node.terms, node.grouping)
    if isinstance(node, Call):
        return (*node.args, *(k.value for k in node.kwargs))
    return ()


def _walk(node: object) -> Iterator[tuple[object, bool]]:
    """Every node inside ``node``, in source order, with whether it sits inside a call's arguments.

    Iterative rather than recursive: a formula with thousands of terms is a left-nested chain of
    ``+`` nodes thousands deep, which would exhaust Python's recursion limit.
    """
    stack: list[tuple[object, bool]] = [(node, False)]
    while stack:
        current, nested = stack.pop()
        yield current, nested
        inside = nested or isinstance(current, Call)
        stack.extend((child, inside) for child in reversed(_children(current)))


def walk_calls(node: object) -> Iterator[tuple[Call, bool]]:
    """Every call inside ``node`` with whether it is nested inside another call's arguments.

    The level list of ``C(f, levels=c("c", "a", "b"))`` is not a call to check: ``c()`` is only a
    list there (and :func:`_check_categorical` checks it).
    """
    lists: set[int] = set()
    for current, nested in _walk(node):
        if isinstance(current, Call) and id(current) not in lists:
            lists.update(_lists(current))
            yield current, nested


def _lists(call: Call) -> Iterator[int]:
    """The ``c(…)`` lists that are option values: ``C(f, levels = c(…))``, ``t2(x, z, k = c(…))``."""
    names = {"C": ("levels",), "t2": ("k", "bs")}.get(call.func, ())
    for kw in call.kwargs:
        if kw.name in names and isinstance(kw.value, Call) and kw.value.func == "c":
            yield id(kw.value)


def reads_a_column(node: object) -> bool:
    if isinstance(node, Name):
        return True
    if isinstance(node, Call):
        spec = FUNCTIONS.get(node.func)
        data = node.args[: spec.data_arguments if spec is not None else len(node.args)]
        return any(reads_a_column(a) for a in data)
    if isinstance(node, Arith):
        return reads_a_column(node.left) or reads_a_column(node.right)
    if isinstance(node, UnaryMinus):
        return reads_a_column(node.operand)
    return False


def is_positive_int(value: object) -> bool:
    return isinstance(value, Number) and value.value >= 1 and float(value.value).is_integer()


def check_calls(node: object, ctx: Context, *, response_side: bool = False) -> None:
    """Check every call in ``node`` against :data:`~hiermod.formula.functions.FUNCTIONS`.

    Examples of what fails, each with a caret under the call::

        y ~ lgo(x)            unknown function 'lgo' (hint: did you mean 'log'?)
        y ~ log(center(x))    center() must be the outermost function of a term
        y ~ poly(x, 0)        poly() degree must be a positive whole number
        y ~ x + trials(n)     trials() belongs on the response side: y | trials(n) ~ …
    """
    for call, nested in walk_calls(node):
        spec = FUNCTIONS.get(call.func)
        where = call_name_span(call)
        if spec is None and call.func in FOREIGN_FUNCTIONS:
            # s(x) is a smooth in brms and mgcv: say so rather than suggest se().
            what, instead = FOREIGN_FUNCTIONS[call.func]
            raise ctx.error(f"{call.func}() is {what}", where, instead)
        if spec is None:
            suggestion = closest(call.func, FUNCTIONS)
            hint = f"did you mean {suggestion!r}?" if suggestion else None
            callable_ = [n for n, s in FUNCTIONS.items() if s.role is not Role.RESPONSE]
            allowed = ", ".join(sorted(callable_, key=str.lower))
            raise ctx.error(
                f"unknown function {call.func!r}",
                where,
                hint or f"formulas may call only: {allowed}",
            )
        if spec.role is Role.RESPONSE and call.func == "ordered":
            raise ctx.error(
                "ordered() gives an ordinal response its categories' order; it stands alone "
                "left of '~'",
                call.span,
                'write ordered(y, levels=c("low", "mid", "high")) ~ …; for a predictor, '
                "C(f, levels=c(…))",
            )
        if spec.role is Role.RESPONSE:
            # cbind(s, f) is a whole left side, checked by check_response; anywhere else it is a
            # mistake: y ~ cbind(a, b), y | trials(cbind(a, b)) ~ x, log(cbind(a, b)) ~ x.
            raise ctx.error(
                f"{call.func}() is lme4's binomial response; it stands alone left of '~'",
                call.span,
                "write cbind(successes, failures) ~ …, or as brms: successes | trials(n) ~ …",
            )
        if spec.role is Role.ADDITION and not response_side:
            raise ctx.error(
                f"{call.func}() belongs on the response side",
                call.span,
                f"write it after the response: y | {call} ~ …",
            )
        if nested and spec.role not in (Role.ELEMENTWISE, Role.ARITHMETIC):
            raise ctx.error(
                f"{call.func}() must be the outermost function of a term",
                call.span,
                f"apply {call.func}() last, e.g. {call.func}(log(x)) rather than log({call.func}(x))",
            )
        if call.func == "s":  # its options: hiermod.formula.smooths
            check_smooth(call, ctx.text)
        if call.func == "t2":  # its options: hiermod.formula.tensor
            check_t2(call, ctx.text)
        _check_signature(call, spec.parameters, spec.positional, spec.required, ctx)
        _check_arguments(call, ctx)


def check_literals(node: object, ctx: Context) -> None:
    """Names and numbers must print back to the same text (``parse(str(f)) == f``).

    * a number that overflows to infinity (``I(x * 1e400)``) would print as ``inf``, a column name;
    * an empty name (``y ~ ""``) or one holding a backtick (``y ~ "a`b"``) has no backticked form.
    """
    for current, _nested in _walk(node):
        if isinstance(current, Number) and not math.isfinite(current.value):
            raise ctx.error(
                "this number is too large", current.span, "numbers must be below about 1.8e308"
            )
        if isinstance(current, Name) and (not current.name.strip() or "`" in current.name):
            raise ctx.error(
                "a column name cannot be empty or contain a backtick",
                current.span,
                "rename the column, e.g. `my column`",
            )


def _check_signature(
    call: Call,
    parameters: tuple[str, ...],
    positional: tuple[str, ...],
    required: int,
    ctx: Context,
) -> None:
    if len(call.args) > len(positional):
        extra = call.args[len(positional)]
        raise ctx.error(
            f"{call.func}() takes at most {len(positional)} positional argument(s)",
            extra.span or call.span,
            f"its parameters are: {', '.join(parameters)}",
        )
    given = set(positional[: len(call.args)])
    for kw in call.kwargs:
        if kw.name not in parameters:
            suggestion = closest(kw.name, parameters)
            raise ctx.error(
                f"{call.func}() has no parameter {kw.name!r}",
                kw.span,
                f"did you mean {suggestion!r}?"
                if suggestion
                else f"its parameters are: {', '.join(parameters)}",
            )
        if kw.name in given:
            raise ctx.error(f"{call.func}() got {kw.name!r} twice", kw.span)
        given.add(kw.name)
    missing = [p for p in positional[:required] if p not in given]
    if missing:
        raise ctx.error(f"{call.func}() needs the argument {missing[0]!r}", call.span)


def _argument(call: Call, position: int, name: str) -> object | None:
    if len(call.args) > position:
        return call.args[position]
    kw = call.keyword(name)
    return kw.value if kw is not None else None


def _check_arguments(call: Call, ctx: Context) -> None:
    data = _argument(call, 0, "x")
    spec = FUNCTIONS[call.func]
    for string in _strings_outside_keywords(call):
        position = call.args.index(string) if string in call.args else -1
        if 0 < position < len(spec.positional):
            # poly(x, "two"): the parameter wants a number, the string is not a column name.
            raise ctx.error(
                f"{call.func}() {spec.positional[position]} must be a number, not the string {string}",
                string.span,
                f"e.g. {call.func}({call.args[0]}, 2)",
            )
        raise ctx.error(
            'a string can only be an argument value such as ref="b"',
            string.span,
            "a column with an unusual name is written in backticks: `my column`",
        )
    # trials(10) and trunc(lb = 0) may be numbers: the same for every row
    constant = call.func in ("trials", "trunc") and number_value(data) is not None
    if data is not None and not reads_a_column(data) and not constant:
        raise ctx.error(
            f"{call.func}() reads no column", call.span, "a term must depend on the data"
        )
    if call.func == "C":
        _check_categorical(call, data, ctx)
    if call.func == "gp":
        gp_options(call, ctx.error)  # k, c, scale, by (hiermod.formula.gp)
    if call.func == "mo":
        check_monotonic_call(call, ctx)
    if call.func == "poly":
        degree = _argument(call, 1, "degree")
        if degree is not None and not is_positive_int(degree):
            raise ctx.error("poly() degree must be a positive whole number", span_of(degree, call))
    if call.func == "bs":
        for param in ("df", "degree"):
            kw = call.keyword(param)
            if kw is not None and not is_positive_int(kw.value):
                raise ctx.error(f"bs() {param} must be a positive whole number", kw.span)
    for kw in call.kwargs:
        if call.func not in ("C", "s", "t2") and isinstance(kw.value, String):
            raise ctx.error(f"{call.func}() {kw.name} takes a number, not a string", kw.span)


def span_of(node: object, fallback: Call) -> Span | None:
    return getattr(node, "span", None) or fallback.span


def number_value(node: object) -> float | None:
    """The value of a number literal, negative ones included (``-1`` is ``UnaryMinus(1)``)."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, UnaryMinus) and isinstance(node.operand, Number):
        return -node.operand.value
    return None


def _check_categorical(call: Call, data: object, ctx: Context) -> None:
    """``C(f)``, ``C(f, sum)``, ``C(f, contr.sum)``, ``C(f, ref="b")``, ``C(f, levels=c("c", "a", "b"))``.

    The contrast is a name or a string from :data:`~hiermod.formula.functions.CONTRASTS`;
    ``ref=`` a level (treatment coding only: sum coding leaves out the last level, so its reference
    is set by the order, ``C(f, sum, levels=c("b", "c", "a"))`` leaves out ``a``); ``levels=`` a
    ``c(...)`` of distinct strings or numbers.
    """
    if not isinstance(data, Name):
        raise ctx.error("C() takes a column name", call.span, 'C(f) or C(f, ref="b")')
    contrast = _argument(call, 1, "contrast")
    kind = "treatment" if contrast is None else _contrast(contrast, call, ctx)
    ref = call.keyword("ref")
    if ref is not None and not isinstance(ref.value, (String, Number)):
        raise ctx.error("C() ref must be a level: a string or a number", ref.span)
    if ref is not None and kind == "sum":
        raise ctx.error(
            "ref= is the reference level of treatment coding; sum coding has none",
            ref.span,
            'sum coding leaves out the last level: order them with levels=c("b", "c", "a")',
        )
    levels = call.keyword("levels")
    if levels is not None:
        check_levels(levels.value, levels.span, ctx)


def _contrast(node: object, call: Call, ctx: Context) -> str:
    """The coding a contrast argument names: ``"treatment"`` or ``"sum"``."""
    span = span_of(node, call)
    supported = "treatment (the default), sum (also contr.sum)"
    if isinstance(node, Call):  # patsy's Treatment("b") / Sum(), or R's contr.sum(3)
        reference = _argument(node, 0, "reference")
        hint = (
            f"the reference level is ref=: C({_argument(call, 0, 'x')}, ref={reference})"
            if node.func.lower() == "treatment" and reference is not None
            else f"name the contrast without calling it: C(f, sum); supported: {supported}"
        )
        raise ctx.error("a contrast is a name, not a call", span, hint)
    name = contrast_name(node)
    if name is None:
        raise ctx.error("a contrast is a name such as sum", span, f"supported: {supported}")
    if name in CONTRASTS:
        return CONTRASTS[name]
    if name in UNSUPPORTED_CONTRASTS:
        raise ctx.error(
            f"{UNSUPPORTED_CONTRASTS[name]} ({name}) are not supported",
            span,
            f"supported: {supported}",
        )
    suggestion = closest(name, CONTRASTS)
    raise ctx.error(
        f"unknown contrast {name!r}",
        span,
        f"did you mean {suggestion!r}? supported: {supported}"
        if suggestion
        else f"supported: {supported}",
    )


def check_levels(node: object, span: Span | None, ctx: Context) -> None:
    """``levels=c("c", "a", "b")``: a list of distinct strings or numbers, every level once."""
    example = 'levels=c("c", "a", "b")'
    if not isinstance(node, Call) or node.func != "c" or node.kwargs or not node.args:
        raise ctx.error("levels= is the list of levels in order", span, f"e.g. {example}")
    seen: set[str] = set()
    for item in node.args:
        value = number_value(item)
        if not isinstance(item, String) and value is None:
            raise ctx.error("a level is a string or a number", item.span or span, f"e.g. {example}")
        text = item.value if isinstance(item, String) else str(item)
        if text in seen:
            raise ctx.error(f"the level {item} is listed twice", item.span or span)
        seen.add(text)


def _strings_outside_keywords(call: Call) -> Iterator[String]:
    def visit(n: ArithNode) -> Iterator[String]:
        return (node for node in arith_nodes(n) if isinstance(node, String))

    # C(f, "contr.sum"), C(f, levels=c("c", "a", "b")) and t2(x, z, bs=c("cr", "cc")) hold
    # strings as R allows.
    options = {"C": ("contrast", "levels"), "t2": ("bs",)}.get(call.func, ())
    for position, arg in enumerate(call.args):
        if not (call.func == "C" and position == 1):
            yield from visit(arg)
    for kw in call.kwargs:
        if isinstance(kw.value, (Arith, UnaryMinus, Call)) and kw.name not in options:
            yield from visit(kw.value)


# ---------------------------------------------------------------------------------------------------
# Pass 2: the response and its addition terms.
