"""The data containers of ``cens()`` in the generated ``prepare`` (:mod:`hiermod.plan.censoring`)."""

from __future__ import annotations

from collections.abc import Callable

from hiermod.formula.syntax import ArithNode, Call
from hiermod.output.codegen import Code, call, render
from hiermod.plan.ir import LikelihoodIR

__all__ = ["censoring_containers"]


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
