"""The response's checks (pass 2 of :func:`hiermod.formula.expand.expand`): the left-hand side is a
column, ``log(y)``, lme4's ``cbind(s, f)`` (or ``cbind(a, b, c)``, a column per category), and brms's
addition terms (``trials(n)``, ``trials(10)``, ``weights(w)``, ``se(s)``, ``cens(c, y2)``,
``trunc(lb, ub)``, ``rate(e)``), as far as the text allows; the data stage checks the values.
"""

from __future__ import annotations

from hiermod.formula.checks import (
    Context,
    call_name_span,
    check_calls,
    check_levels,
    number_value,
    reads_a_column,
    span_of,
    walk_calls,
)
from hiermod.formula.functions import FOREIGN_RESPONSES, FUNCTIONS, Role
from hiermod.formula.syntax import Call, Name, Number, Response, String

__all__ = ["check_response"]


def check_response(response: Response, ctx: Context, *, distributional: bool) -> None:
    """The left-hand side: ``y``, ``log(y)``, ``succ | trials(n)``, ``y | weights(w) + se(s)``,
    lme4's ``cbind(succ, fail)`` (see :func:`_check_cbind`) and constant trials ``trials(10)``.

    A distributional formula's left side is a bare parameter name (``sigma ~ …``), nothing else.
    """
    if distributional:
        if not isinstance(response.value, Name) or response.additions:
            raise ctx.error(
                "a distributional formula names a parameter on its left side",
                response.span,
                "e.g. 'sigma ~ x'; only the first formula has the response",
            )
        return
    value = response.value
    if isinstance(value, Call) and value.func in FOREIGN_RESPONSES:
        args = [str(a) for a in value.args] + ["y", "n"][len(value.args) :]
        raise ctx.error(
            f"unknown function {value.func!r}",
            call_name_span(value),
            FOREIGN_RESPONSES[value.func].format(*args),
        )
    if isinstance(value, Call) and value.func == "cbind":
        _check_cbind(value, ctx)
    elif isinstance(value, Call) and value.func == "ordered":
        _check_ordered(value, ctx)
    elif isinstance(value, Call):
        check_calls(value, ctx)
        if FUNCTIONS[value.func].role not in (Role.ELEMENTWISE, Role.ARITHMETIC):
            raise ctx.error(
                f"{value.func}() cannot transform the response",
                value.span,
                "the response may use elementwise functions such as log(y) or I(y / 100)",
            )
    seen: dict[str, Call] = {}
    for addition in response.additions:
        spec = FUNCTIONS.get(addition.func)
        if spec is None or spec.role is not Role.ADDITION:
            names = ", ".join(f"{n}()" for n, s in FUNCTIONS.items() if s.role is Role.ADDITION)
            raise ctx.error(
                f"{addition.func}() is not a response addition term",
                call_name_span(addition),
                f"after 'y |' come {names}",
            )
        if addition.func in seen:
            raise ctx.error(f"{addition.func}() given twice", addition.span)
        seen[addition.func] = addition
        check_calls(addition, ctx, response_side=True)
        upper = addition.args[1] if addition.func == "cens" and len(addition.args) > 1 else None
        if upper is not None and not isinstance(upper, Name):  # brms's cens(c, y2): a column
            raise ctx.error("cens()'s upper bound y2 takes a column name", addition.span)
        if addition.func == "trunc":
            _check_trunc(addition, ctx)
            continue
        arg = addition.args[0] if addition.args else None
        if addition.func == "trials" and number_value(arg) is not None:
            _check_constant_trials(arg, addition, ctx)
        elif not isinstance(arg, (Name, Number)):
            raise ctx.error(f"{addition.func}() takes a column name or a number", addition.span)


def _check_trunc(addition: Call, ctx: Context) -> None:
    """brms's ``trunc(lb = 0)``, ``trunc(ub = 10)``, ``trunc(0, 10)``: at least one bound, each a
    number or a column; two numbers must be in order (``trunc(5, 1)`` is an error)."""
    bounds = [addition.args[i] if len(addition.args) > i else None for i in range(2)]
    for i, name in enumerate(("lb", "ub")):
        keyword = addition.keyword(name)
        if keyword is not None:
            bounds[i] = keyword.value
    if bounds == [None, None]:
        raise ctx.error(
            "trunc() needs a bound: lb=, ub= or both", addition.span, "e.g. trunc(lb = 0)"
        )
    for bound in bounds:
        if bound is not None and not isinstance(bound, Name) and number_value(bound) is None:
            raise ctx.error("trunc()'s bounds are numbers or column names", addition.span)
    low, high = (number_value(b) for b in bounds)
    if low is not None and high is not None and not low < high:
        raise ctx.error(f"trunc(): lb ({low:g}) must be below ub ({high:g})", addition.span)


def _check_constant_trials(arg: object, addition: Call, ctx: Context) -> None:
    """``trials(10)``: every row has 10 trials. The number must be a positive whole number:
    ``trials(0)``, ``trials(2.5)`` and ``trials(-1)`` are errors with a caret under the number."""
    value = number_value(arg)
    if value is None or value < 1 or not float(value).is_integer():
        raise ctx.error(
            f"trials({arg}): the number of trials must be a positive whole number",
            span_of(arg, addition),
            "e.g. trials(10) for 10 trials in every row, or trials(n) for a column n",
        )


def _check_ordered(value: Call, ctx: Context) -> None:
    """R's ``ordered(rating, levels = c("low", "mid", "high"))``: a column and its categories in
    order (an ordinal family's response; the data stage checks that every value is listed)."""
    example = 'ordered(rating, levels=c("low", "mid", "high"))'
    levels = value.keyword("levels")
    if len(value.args) != 1 or not isinstance(value.args[0], Name) or levels is None:
        raise ctx.error("ordered() takes a column and levels=c(…)", value.span, f"e.g. {example}")
    if len(value.kwargs) != 1:
        raise ctx.error("ordered() takes only levels=", value.span, f"e.g. {example}")
    check_levels(levels.value, value.span, ctx)


def _check_cbind(value: Call, ctx: Context) -> None:
    """lme4's ``cbind(successes, failures) ~ …``: ``successes | trials(successes + failures)``.

    Two positional arguments, each a number the data give: a column or arithmetic on columns with
    elementwise calls (``cbind(incidence, size - incidence)``, lme4's cbpp example). What fails::

        cbind(s) ~ x          cbind() takes two arguments: cbind(successes, failures)
        cbind(s, f=f) ~ x     (caret under f=f)
        cbind(s, 3) ~ x       the failures must read a column

    Three or more columns are the categories of a multinomial or Dirichlet response,
    ``cbind(a, b, c)``; the binder refuses them for any other family.
    """
    hint = (
        "cbind(successes, failures) ~ … as in lme4, or as brms: successes | trials(n) ~ … "
        "with n the number of trials"
    )
    if len(value.args) < 2 or value.kwargs:
        extra = (value.kwargs or (value,))[0]
        raise ctx.error(
            f"cbind() takes two arguments, successes and failures (or, for the multinomial and "
            f"Dirichlet families, a column per category); got "
            f"{len(value.args) + len(value.kwargs)}",
            extra.span or value.span,
            hint,
        )
    # more than two: the columns of the categories (the binder checks the family wants them)
    roles = ("successes", "failures") if len(value.args) == 2 else ("columns",) * len(value.args)
    for arg, role in zip(value.args, roles, strict=True):
        if isinstance(arg, String) or not reads_a_column(arg):
            raise ctx.error(f"cbind()'s {role} must read a column", arg.span or value.span, hint)
        check_calls(arg, ctx)
        for call, _nested in walk_calls(arg):
            if FUNCTIONS[call.func].role not in (Role.ELEMENTWISE, Role.ARITHMETIC):
                raise ctx.error(
                    f"{call.func}() cannot be part of cbind()'s {role}",
                    call.span,
                    "the counts are columns or arithmetic on columns: cbind(s, n - s)",
                )
