"""The PyMC code of a smooth's penalised part (:class:`~hiermod.plan.ir.SmoothIR`).

``s(times)`` of the mean writes (brms's ``s_1_1 = sds_1_1 * zs_1_1; mu += Zs_1_1 * s_1_1``)::

    sds_stimes_1 = pm.HalfStudentT("sds_stimes_1", nu=3.0, sigma=120.7)
    zs_stimes_1 = pm.Normal("zs_stimes_1", mu=0.0, sigma=1.0, dims="stimes_1_basis")

and the term ``Zs_stimes_1 @ (sds_stimes_1 * zs_stimes_1)`` of the linear predictor; the smooth's
unpenalised column is a population column (``b``'s ``s(times)[1]``). The basis itself is computed in
``prepare`` (:mod:`hiermod.output.source_smooth_data`).
"""

from __future__ import annotations

from hiermod.formula.smooths import BASES
from hiermod.output.codegen import Code, call, comment, literal, render
from hiermod.output.emitter import Emitter, Piece, dims_code
from hiermod.output.source_tensor import tensor_note
from hiermod.plan.ir import ParamSpec, SmoothIR

__all__ = ["smooth_piece", "smooth_term"]


def _variable(e: Emitter, spec: ParamSpec) -> list[str]:
    assert spec.prior is not None  # lower attaches every prior
    kwargs: dict[str, Code] = {k: literal(float(v)) for k, v in spec.prior.params}  # type: ignore[arg-type]
    if spec.dims:
        kwargs["dims"] = dims_code(spec.dims)
    value = call(f"pm.{spec.prior.pymc_class}", literal(spec.name), **kwargs)
    return render(value, 2, f"{e.local(spec.name)} = ")


def smooth_piece(e: Emitter, smooth: SmoothIR) -> Piece:
    """The smooth's sd and standard-normal coefficients, and its term."""
    state = e.data.schema.transforms[smooth.term]
    fixed = int(state.get("fixed"))
    free = f"{fixed} unpenalised column in X, " if fixed else ""
    times = f", times {state.get('by')}" if dict(state.values).get("by_numeric") else ""
    what = (
        f"{smooth.term}: a {BASES.get(smooth.bs)} in brms's mixed-model form (mgcv's "
        f"smooth2random{times})"
    )
    if smooth.bs == "t2":  # one of its penalised blocks (hiermod.output.source_tensor)
        what, free = tensor_note(smooth.term, state, smooth.penalty, smooth.level), ""
    note = (
        f"{what}: {free}{smooth.z.shape[0]} penalised columns {smooth.Z} with standard-normal "
        f"coefficients {smooth.z.name} times one sd, {smooth.sd.name} (identity penalty, on "
        "mgcv's scale)"
    )
    lines = comment(note, 2) + _variable(e, smooth.sd) + _variable(e, smooth.z)
    return Piece(lines, (smooth_term(e, smooth),))


def smooth_term(e: Emitter, smooth: SmoothIR) -> str:
    """``Zs @ (sds * zs)``."""
    return f"{e.local(smooth.Z)} @ ({e.local(smooth.sd.name)} * {e.local(smooth.z.name)})"
