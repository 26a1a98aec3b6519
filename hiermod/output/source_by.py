"""The PyMC code of a ``gr(g, by = f)`` block (:mod:`hiermod.plan.block_by`): an sd per effect and
level of ``f`` and, correlated, one LKJ correlation matrix per level of ``f``.

For ``(1 + x | gr(g, by = f))`` non-centred, as brms's ``scale_r_cor_by``::

    sd_g = pm.HalfNormal("sd_g", sigma=..., dims=("g_by", "g_term"))
    chol_g = pm.LKJCorr("chol_g", n=2, eta=2.0, shape=(2, 2, 2))
    corr_g = pm.Deterministic("corr_g", (chol_g @ chol_g.mT)[:, 0, 1], ...)
    z_g = pm.Normal("z_g", 0, 1, dims=("g", "g_term"))
    r_g = sd_g[g_by_idx] * (chol_g[g_by_idx] @ z_g[:, :, None])[:, :, 0]

(``g_by_idx[j]``: level ``j``'s level of ``f``). Uncorrelated, ``r_g = z_g * sd_g[g_by_idx]``.
Centred, each level's ``beta`` (or ``r``) is normal around its mean with its level of ``f``'s sd,
or multivariate normal with the Cholesky factor ``sd * chol`` of its level of ``f``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hiermod.output.codegen import Chain, Code, call, comment, literal, render
from hiermod.output.emitter import Emitter, dims_code
from hiermod.plan.ir import BlockIR, ParamSpec

__all__ = ["by_block_lines"]

RandomVariable = Callable[..., list[str]]
Centred = Callable[..., list[str]]


def by_block_lines(
    e: Emitter, block: BlockIR, random_variable: RandomVariable, centred: Centred
) -> list[str]:
    """The sds, correlations and effects of a ``gr(g, by = f)`` block."""
    assert block.by_dim is not None
    factor = block.block.by
    assert factor is not None
    by = e.local(block.by_index)
    level_dims = dims_code(block.level_dims)
    container = call(
        "pm.Data", literal(block.by_index), f"data[{literal(block.by_index)}]", dims=level_dims
    )
    lines = comment(
        f"gr({block.block.grouping}, by = {factor}): a separate sd"
        f"{' and correlation matrix' if block.correlated else ''} per level of {factor} "
        f"(dim {block.by_dim}); {block.by_index} holds each level's level of {factor}.",
        2,
    )
    lines += render(container, 2, f"{by} = ")
    lines += random_variable(e, block.sd)
    sd = e.local(block.sd.name)
    scale = f"{sd}[{by}]"  # each level's sds: those of its level of f
    if not block.correlated:
        if block.centered:
            return lines + centred(e, block, "pm.Normal", sigma=scale)
        scaled = Chain(e.local(_z(block).name), (("*", scale),))
        return lines + _effects(e, block, scaled, random_variable)
    assert block.chol is not None
    assert block.corr is not None
    k = block.size
    chol = e.local(block.chol.name)
    lkj = call(
        "pm.LKJCorr",
        literal(block.chol.name),
        n=str(k),
        eta=literal(float(block.lkj_eta)),
        shape=literal(tuple(block.chol.shape)),
    )
    lines += comment(f"each level of {factor}'s Cholesky factor of its correlation matrix", 2)
    lines += render(lkj, 2, f"{chol} = ")
    rows, cols = (", ".join(str(int(i)) for i in part) for part in np.triu_indices(k, 1))
    pairs = f"({chol} @ {chol}.mT)[:, [{rows}], [{cols}]]"  # each pair of terms once
    det = call("pm.Deterministic", literal(block.corr.name), pairs, dims=dims_code(block.corr.dims))
    lines += render(det, 2)
    if block.centered:
        return lines + centred(e, block, "pm.MvNormal", chol=f"{scale}[:, :, None] * {chol}[{by}]")
    z = e.local(_z(block).name)
    effects = f"{scale} * ({chol}[{by}] @ {z}[:, :, None])[:, :, 0]"
    lines += comment("level j's effects: its sds times its Cholesky factor times z[j]", 2)
    return lines + _effects(e, block, effects, random_variable)


def _z(block: BlockIR) -> ParamSpec:
    assert block.z is not None
    return block.z


def _effects(e: Emitter, block: BlockIR, value: Code, random_variable: RandomVariable) -> list[str]:
    """``z ~ normal(0, 1)`` and ``r = value``."""
    det = call("pm.Deterministic", literal(block.r.name), value, dims=dims_code(block.r.dims))
    return random_variable(e, _z(block)) + render(det, 2, f"{e.local(block.r.name)} = ")
