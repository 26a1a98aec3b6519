"""The data containers of ``cens()`` and ``trunc()`` in the generated ``prepare``
(:mod:`hiermod.plan.censoring`, :mod:`hiermod.plan.truncation`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hiermod.data.columns import argument
from hiermod.data.design import Schema
from hiermod.formula.syntax import ArithNode, Call
from hiermod.output.codegen import Code, Subscript, call, literal, render
from hiermod.plan.ir import LikelihoodIR

__all__ = ["additions", "censoring_containers", "response_bounds"]


def additions(schema: Schema, func: str) -> list[Call]:
    """The response's addition terms called ``func`` (``trunc``, ``cens``, ``rate``)."""
    response = schema.formula.response
    return [a for a in (response.additions if response else ()) if a.func == func]


def censoring_containers(
    lik: LikelihoodIR,
    cens: Call,
    codes: Code,
    observed: Code,
    numeric: Callable[[ArithNode], tuple[Code, object]],
) -> dict[str, Code]:
    """The code of each ``cens()`` container from the rows' ``codes`` (brms's -1/0/1/2, read by
    ``censoring_codes``), the response ``observed`` and ``numeric`` (an argument's code).

    ``pm.Censored``'s bounds: a right-censored row's upper bound is its response, a left-censored
    row's lower bound; -inf/inf elsewhere. The coded likelihood's: the codes, and the upper bound
    ``y2`` of each interval (the response where the row is not an interval: it is not read there).
    """
    text = render(codes, 0)[0]
    if lik.censored is not None:
        lower, upper = lik.censored
        return {
            lower: call("np.where", f"{text} == -1", observed, "-np.inf"),
            upper: call("np.where", f"{text} == 1", observed, "np.inf"),
        }
    assert lik.censoring is not None
    name, bounds = lik.censoring
    if len(cens.args) < 2:
        return {name: codes, bounds: observed}
    y2 = numeric(cens.args[1])[0]
    return {name: codes, bounds: call("np.where", f"{text} == 2", y2, observed)}


def response_bounds(emitter: Any, lik: LikelihoodIR, observed: Code) -> dict[str, Code]:
    """The containers of ``trunc()``'s column bounds and of ``cens()`` (:func:`censoring_containers`);
    ``emitter`` is :class:`hiermod.output.source_data.DataEmitter` (which imports this module)."""
    values: dict[str, Code] = {}
    if lik.truncated is not None:
        (trunc,) = additions(emitter.schema, "trunc")
        for i, (side, bound) in enumerate(zip(("lb", "ub"), lik.truncated, strict=True)):
            node = argument(trunc, i, side)
            if isinstance(bound, str) and node is not None:  # a column: one bound per row
                values[bound] = emitter.numeric.expr(node)[0]
    if lik.censored is None and lik.censoring is None:
        return values
    if lik.censoring is not None and not additions(emitter.schema, "cens"):
        # trunc() with weights(): the coded likelihood with every row observed (code 0)
        name, bounds = lik.censoring
        zeros = call("np.zeros", call("len", "df"), dtype="np.int64")
        return values | {name: zeros, bounds: observed}
    (cens,) = additions(emitter.schema, "cens")
    codes = call(emitter.helper("censoring_codes"), Subscript("df", literal(str(cens.args[0]))))
    return values | censoring_containers(lik, cens, codes, observed, emitter.numeric.expr)
