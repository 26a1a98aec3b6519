"""The PyMC code of blocks joined by brms's ID, ``(1 + x | p | g)`` in two formulas
(:class:`~hiermod.plan.ir.JointIR`, :mod:`hiermod.plan.block_ids`).

The first member writes the joint: one ``pm.LKJCholeskyCov`` over the union of the members' effects
(its ``sd_dist`` the members' sd priors side by side), the stored correlations, the standard-normal
``z`` over (levels, union) and the union's effects ``r = z @ chol.T``. Every member then takes its
columns: its ``sd`` and ``r`` as deterministics, read by its linear predictor as any block's::

    chol_g_id_p, corr_g_id_p, sd_g_id_p = pm.LKJCholeskyCov("chol_g_id_p", n=3, ...)
    r_g_id_p = z_g_id_p @ chol_g_id_p.T
    pm.Deterministic("sd_g", sd_g_id_p[[0, 1]], dims="g_term")
    r_g = pm.Deterministic("r_g", r_g_id_p[..., [0, 1]], dims=("g", "g_term"))
    ...
    sigma_r_g = pm.Deterministic("sigma_r_g", r_g_id_p[..., 2], dims="g")
"""

from __future__ import annotations

from collections.abc import Callable

from hiermod.output.codegen import Chain, Code, EmitError, assign, call, list_of, literal, render
from hiermod.output.emitter import Emitter, dims_code
from hiermod.plan.ir import BlockIR, ParamSpec
from hiermod.plan.priors import Prior

__all__ = ["joint_lines", "sd_dist"]


def _members(e: Emitter, block: BlockIR) -> list[BlockIR]:
    assert block.joint is not None
    stem = block.joint.stem
    return [
        b for p in e.ir.predictors for b in p.blocks if b.joint is not None and b.joint.stem == stem
    ]


def sd_dist(members: list[BlockIR], k: int) -> Code:
    """The members' sd priors as one distribution over the union: their parameters side by side."""
    priors: list[Prior] = []
    for member in members:
        if member.sd.prior is None:  # pragma: no cover - lower attaches every prior
            raise EmitError(f"{member.sd.name} has no prior")
        priors.append(member.sd.prior)
    first = priors[0]
    keys = [key for key, _ in first.params]
    if any(p.pymc_class != first.pymc_class or [k for k, _ in p.params] != keys for p in priors):
        raise EmitError(
            "the blocks of one ID share one covariance: their sds need priors of one kind "
            f"({', '.join(f'{m.sd.name} ~ {m.sd.prior}' for m in members)})"
        )
    values: dict[str, Code] = {}
    for key in keys:
        column: list[str] = []
        for prior, member in zip(priors, members, strict=True):
            value = dict(prior.params)[key]
            items = value if isinstance(value, tuple) else (value,) * member.size
            column += [literal(float(v)) for v in items]
        values[key] = call("np.array", list_of(column))
    return call(f"pm.{first.pymc_class}.dist", **values, shape=str(k))


def _columns(block: BlockIR) -> str:
    cols = block.joint_columns
    return str(cols[0]) if len(cols) == 1 else "[" + ", ".join(map(str, cols)) + "]"


def _deterministic(e: Emitter, spec: ParamSpec, value: str, *, named: bool = True) -> list[str]:
    extra = {"dims": dims_code(spec.dims)} if spec.dims else {}
    det = call("pm.Deterministic", literal(spec.name), value, **extra)
    return render(det, 2, f"{e.local(spec.name)} = " if named else "")


def joint_lines(
    e: Emitter, block: BlockIR, random_variable: Callable[[Emitter, ParamSpec], list[str]]
) -> list[str]:
    """The joint (written by its first member) and this member's columns of it."""
    joint = block.joint
    assert joint is not None
    k = joint.size
    sd = e.local(f"sd_{joint.stem}")
    r = e.local(f"r_{joint.stem}")
    lines: list[str] = []
    if block.joint_owner:
        assert block.chol is not None
        assert block.corr is not None
        assert block.z is not None
        chol, corr = e.local(block.chol.name), e.local(block.corr.name)
        lkj = call(
            "pm.LKJCholeskyCov",
            literal(block.chol.name),
            n=str(k),
            eta=literal(float(block.lkj_eta)),
            sd_dist=sd_dist(_members(e, block), k),
            compute_corr="True",
            store_in_trace="False",
        )
        lines += assign([chol, corr, sd], lkj, 2)
        pairs = f"{corr}[np.triu_indices({k}, 1)]"  # each pair of the union once
        det = call(
            "pm.Deterministic", literal(block.corr.name), pairs, dims=dims_code(block.corr.dims)
        )
        lines += render(det, 2)
        lines += random_variable(e, block.z)
        lines += render(Chain(e.local(block.z.name), (("@", f"{chol}.T"),)), 2, f"{r} = ")
    columns = _columns(block)
    lines += _deterministic(e, block.sd, f"{sd}[{columns}]", named=False)  # stored, not read
    lines += _deterministic(e, block.r, f"{r}[..., {columns}]")
    return lines
