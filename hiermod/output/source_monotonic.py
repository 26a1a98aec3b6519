"""The PyMC code of brms's monotonic effect ``mo(x)`` (:class:`~hiermod.plan.ir.MonotonicIR`).

For ``mo(x)`` with categories 0..3 the generated model reads::

    # mo(x): a monotonic effect of the ordered x (categories 0..3, brms's mo()) ...
    bsp_x = pm.Normal("bsp_x", mu=0.0, sigma=2.1)
    simo_x = pm.Dirichlet("simo_x", a=np.ones(3), dims="x_step")
    mo_x = bsp_x * 3 * pt.concatenate([[0.0], pt.cumsum(simo_x)])

and the linear predictor gets ``mo_x[x_code]``: category k's effect, the first k steps' shares of
the whole change ``3 * bsp_x`` (a 1-D gather of a 1-D vector, DESIGN.md §3).
"""

from __future__ import annotations

from hiermod.output.codegen import (
    Chain,
    Code,
    EmitError,
    Subscript,
    Term,
    call,
    comment,
    flat,
    list_of,
    literal,
    render,
)
from hiermod.output.emitter import Emitter, Piece, dims_code
from hiermod.plan.ir import MonotonicIR
from hiermod.plan.priors import Prior

__all__ = ["monotonic_piece", "monotonic_terms"]


def _effects(e: Emitter, term: MonotonicIR) -> str:
    """The Python name of the term's effect per category (``mo_x``, ``sigma_mo_x``)."""
    return e.local(term.simo.name.replace("simo_", "mo_", 1) + " effects")


def _prior(term: MonotonicIR, which: str) -> Prior:
    prior = (term.bsp if which == "bsp" else term.simo).prior
    if prior is None:  # pragma: no cover - lower attaches every prior
        raise EmitError(f"{term.term} has no prior on its {which}")
    return prior


def _coefficient(e: Emitter, term: MonotonicIR) -> list[str]:
    """``bsp_x = pm.Normal("bsp_x", mu=0.0, sigma=…)``: a scalar, so every prior value is one."""
    prior = _prior(term, "bsp")
    values = {k: literal(float(v[0] if isinstance(v, tuple) else v)) for k, v in prior.params}
    value = call(f"pm.{prior.pymc_class}", literal(term.bsp.name), **values)
    return render(value, 2, f"{e.local(term.bsp.name)} = ")


def _concentration(term: MonotonicIR) -> Code:
    """``a=`` of the simplex's Dirichlet: ``np.ones(D)``, ``np.full(D, a)`` or the D values."""
    values = dict(_prior(term, "simo").params)["a"]
    values = values if isinstance(values, tuple) else (values,)
    if len(set(values)) == 1:
        a = float(values[0])
        return (
            f"np.ones({term.steps})" if a == 1.0 else call("np.full", str(term.steps), literal(a))
        )
    return call("np.array", list_of(literal(float(v)) for v in values))


def monotonic_piece(e: Emitter, term: MonotonicIR) -> Piece:
    """``bsp``, ``simo`` and the effect of each category; the term ``mo_x[x_code]``."""
    d, bsp, simo = term.steps, e.local(term.bsp.name), e.local(term.simo.name)
    lines = comment(
        f"{term.term}: a monotonic effect over the {d + 1} ordered categories 0..{d} (brms's "
        f"mo()). {bsp} is the mean change per step, {d} * {bsp} from the lowest category to the "
        f"highest; the simplex {simo} splits that change over the {d} steps, so a row of code c adds "
        f"{d} * {bsp} * sum({simo}[:c])"
        + (f", times {_times(term)}." if term.covariate is not None else "."),
        2,
    )
    lines += _coefficient(e, term)
    a, dims = _concentration(term), dims_code(term.simo.dims)
    lines += render(call("pm.Dirichlet", literal(term.simo.name), a=a, dims=dims), 2, f"{simo} = ")
    steps = call("pt.concatenate", list_of(["[0.0]", call("pt.cumsum", simo)]))
    effects = Chain(bsp, (("*", str(d)), ("*", flat(steps))))
    lines += render(effects, 2, f"{_effects(e, term)} = ")
    return Piece(lines, monotonic_terms(e, term))


def _times(term: MonotonicIR) -> str:
    """What ``mo(x):z`` multiplies its monotonic effect by: ``z``."""
    return ":".join(f for f in term.term.split(":") if not f.startswith("mo("))


def monotonic_terms(e: Emitter, term: MonotonicIR) -> tuple[Term, ...]:
    """The term's share of the linear predictor: each row's category effect (times z)."""
    gathered = Subscript(_effects(e, term), e.local(term.codes))
    if term.covariate is None:
        return (gathered,)
    return (Chain(gathered, (("*", e.local(term.covariate)),)),)
