"""The data of a gp() term in ``prepare`` (:mod:`hiermod.output.source_gp` writes its model code):
the basis at the rows' covariates, :func:`~hiermod.data.runtime.gp_basis`, and its squared
frequencies, with the training data's constants written as module constants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from hiermod.data.design import Schema
from hiermod.errors import DataError, Span
from hiermod.formula.gp import gp_calls, gp_options
from hiermod.formula.syntax import ArithNode
from hiermod.formula.terms import Formula
from hiermod.output.codegen import Chain, Code, call, list_of, literal, tuple_of
from hiermod.plan.ir import GPIR, PredictorIR
from hiermod.plan.names import identifier

__all__ = ["gp_containers"]


class _Prepare(Protocol):
    """What the data emitter offers (:class:`~hiermod.output.source_data.DataEmitter`)."""

    def constant(self, wanted: str, value: Code, note: str = "") -> str: ...

    def helper(self, name: str) -> str: ...

    def codes(self, name: str, levels: tuple[object, ...] | None = None) -> str: ...

    def local(self, key: str, wanted: str, value: Code) -> str: ...


def _error(schema: Schema) -> Callable[[str, Span | None, str | None], DataError]:
    def error(message: str, span: Span | None, hint: str | None) -> DataError:  # pragma: no cover
        return DataError(message, schema.formula.text, span, hint=hint)

    return error


def _table(values: tuple[Any, ...]) -> Code:
    """One value per GP (per level of by): a float, or a tuple of floats per covariate."""
    return tuple_of(
        tuple_of(literal(float(v)) for v in item)
        if isinstance(item, tuple)
        else literal(float(item))
        for item in values
    )


def _exact(out: _Prepare, gp: GPIR, x: Code, stem: str, state: Any) -> dict[str, Code]:
    """An exact GP's index and squared distances (:func:`~hiermod.data.runtime.gp_points`)."""
    points = out.constant(
        f"{stem}_POINTS",
        tuple_of(
            tuple_of(tuple_of(literal(float(v)) for v in p) for p in level)
            for level in state.get("points")
        ),
        f"{gp.term}: the distinct training points, scaled by their largest distance (per GP)",
    )
    dmax = out.constant(
        f"{stem}_DMAX", _table(state.get("dmax")), "the training points' largest distance"
    )
    codes = out.codes(gp.by) if gp.by is not None else "np.zeros(len(df), dtype=np.int64)"
    found = out.local(
        f"{gp.index} points",
        f"{gp.label}_points",
        call(out.helper("gp_points"), x, codes, points, dmax),
    )
    distances = out.helper("gp_sq_distances")
    values: dict[str, Code] = {gp.index: f"{found}[0]"}
    for j in range(len(gp.sizes)):
        train, new = f"{points}[{j}]", f"{found}[1][{j}]"
        values[gp.sqdist[j]] = call(distances, train, train)
        values[gp.cross[j]] = call(distances, new, train)
        values[gp.newsq[j]] = call(distances, new, new)
    return values


def gp_containers(
    out: _Prepare,
    numeric: Callable[[ArithNode], str],
    schema: Schema,
    predictor: PredictorIR,
    formula: Formula,
) -> dict[str, Code]:
    """The code of each GP's basis and frequencies in ``prepare``: ``gp_basis`` and
    ``gp_eigenvalues`` with the stored constants, one entry per GP (per level of ``by``)::

        gp_basis(times, GPTIMES_CENTER[0], GPTIMES_DMAX[0], GPTIMES_BOUND[0], 20)
    """
    values: dict[str, Code] = {}
    error = _error(schema)
    for gp, gp_call in zip(predictor.gps, gp_calls(formula.terms, error), strict=True):
        options = gp_options(gp_call, error)
        state = schema.transforms[str(gp_call)]
        stem = identifier(gp.label).upper()
        args = [numeric(c) for c in options.covariates]
        x: Code = args[0] if len(args) == 1 else call("np.column_stack", list_of(args))
        if gp.k is None:
            values |= _exact(out, gp, x, stem, state)
            continue
        notes = {
            "dmax": f"{gp.term}: the training data's largest distance between points (one per GP)",
            "center": "the mean of the scaled distinct points, per covariate",
            "bound": "the half-width L of the basis functions' interval [-L, L], per covariate",
        }
        tables = {
            key: out.constant(f"{stem}_{key}", _table(state.get(key)), note)
            for key, note in notes.items()
        }
        basis, eigen, k = out.helper("gp_basis"), out.helper("gp_eigenvalues"), str(gp.k)
        at = [
            [f"{tables[key]}[{j}]" for key in ("center", "dmax", "bound")]
            for j in range(len(state.get("dmax")))
        ]
        bases = [call(basis, x, *where, k) for where in at]
        frequencies = [call(eigen, where[2], k) for where in at]
        if gp.by is None:
            values[gp.basis], values[gp.eigenvalues] = bases[0], frequencies[0]
            continue
        # one GP per level of by: a row's basis is 0 in the other levels' GPs
        codes = out.codes(gp.by)
        names = [out.local(f"{gp.basis} {j}", f"{gp.label}_{j}", b) for j, b in enumerate(bases)]
        rows = [Chain(name, (("*", f"({codes} == {j})[:, None]"),)) for j, name in enumerate(names)]
        values[gp.basis] = call("np.stack", list_of(rows), axis="1")
        values[gp.eigenvalues] = call("np.stack", list_of(frequencies))
    return values
