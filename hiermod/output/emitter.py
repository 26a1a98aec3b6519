"""The state of one source emission (:class:`Emitter`), what each IR emitter returns
(:class:`Piece`), and the small code rules every emitter shares."""

from __future__ import annotations

from dataclasses import dataclass, field

from hiermod.output.codegen import Code, Names, Term, literal, tuple_of
from hiermod.output.source_data import DataEmitter
from hiermod.plan.ir import ModelIR, PredictorIR

__all__ = ["INVERSE_LINK", "Emitter", "Piece", "dims_code"]

INVERSE_LINK = {
    "identity": "{}",
    "log": "pm.math.exp({})",
    "logit": "pm.math.invlogit({})",
    "probit": "pm.math.invprobit({})",
    "cloglog": "1.0 - pm.math.exp(-pm.math.exp({}))",
    "tan_half": "2.0 * pm.math.arctan({})",  # brms's link of an angle: every eta maps into (-pi, pi)
}


@dataclass
class Emitter:
    """State of one emission: names, the data emitter, the current predictor, the lines written."""

    ir: ModelIR
    names: Names
    data: DataEmitter
    locals: dict[str, str] = field(default_factory=dict)  # PyMC name -> Python name
    predictor: PredictorIR | None = None
    values: dict[str, str] = field(default_factory=dict)  # dpar (or "eta mu") -> its code
    weighted: tuple[str, tuple[str, ...], bool] | None = None  # weights(): dist, params, custom
    # coded cens(): dist, params, weights, which trunc() bounds (lower, upper)
    censored: tuple[str, tuple[str, ...], bool, tuple[bool, bool]] | None = None
    custom: str | None = None  # a family's distribution from hiermod.output.distributions
    # other functions of hiermod.output.distributions the module calls (a two-term block's)
    functions: dict[str, None] = field(default_factory=dict)
    indent: int = 2  # of the likelihood's statements: 3 inside ``if reduce:`` / ``else:``
    cells: dict[str, str] = field(default_factory=dict)  # r name -> its one-row-per-cell local

    def local(self, pymc_name: str) -> str:
        if pymc_name not in self.locals:
            self.locals[pymc_name] = self.names.claim(pymc_name)
        return self.locals[pymc_name]


@dataclass(frozen=True, slots=True)
class Piece:
    """What one emitter writes: lines, and the terms it adds to a linear predictor."""

    lines: list[str]
    terms: tuple[Term, ...] = ()


def dims_code(dims: tuple[str, ...]) -> Code:
    """A ``dims=`` value: the one dim's name, or a tuple of the names."""
    return literal(dims[0]) if len(dims) == 1 else tuple_of(literal(d) for d in dims)
