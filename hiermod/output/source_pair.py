"""The PyMC code of a correlated block of two terms, ``(1 + x | g)``, written out.

LKJ(eta) for two terms is a density of their one correlation alone, ``(1 - corr^2)^(eta - 1)``:
``(1 + corr) / 2`` is Beta(eta, eta). So the block needs no Cholesky factor of its covariance
(``pm.LKJCholeskyCov``, whose graph holds a packed-triangle transform and triangular solves), only
its two sds and that correlation. The same model in a smaller graph: on sleepstudy a third less
to compile and about half the work per gradient (docs/performance.md). Non-centred::

    sd_g = pm.HalfNormal("sd_g", sigma=np.array([...]), dims="g_term")
    corr_unit_g = pm.Beta("corr_unit_g", alpha=2.0, beta=2.0, dims="g_term_pair")
    corr_g = pm.Deterministic("corr_g", 2.0 * corr_unit_g - 1.0, dims="g_term_pair")
    z_g = pm.Normal("z_g", mu=0.0, sigma=1.0, dims=("g", "g_term"))
    r_g = pm.Deterministic("r_g", correlated_pair(z_g, sd_g, corr_g[0]), dims=("g", "g_term"))

Centred, each level's pair is ``pm.CustomDist(mean, sd_g, corr_g[0], logp=bivariate_normal_logp,
...)``; the functions are :mod:`hiermod.output.distributions`', written into the module.
"""

from __future__ import annotations

from collections.abc import Callable

from hiermod.output.codegen import Chain, call, literal, render
from hiermod.output.emitter import Emitter, dims_code
from hiermod.plan.ir import BlockIR

__all__ = ["pair_block_lines"]

RandomVariable = Callable[..., list[str]]
Centred = Callable[..., list[str]]

BIVARIATE_NORMAL = ("bivariate_normal_dist", "bivariate_normal_logp")


def pair_block_lines(
    e: Emitter, block: BlockIR, random_variable: RandomVariable, centred: Centred
) -> list[str]:
    """The sds, the correlation and the effects of a two-term correlated block."""
    assert block.corr_unit is not None
    assert block.corr is not None
    lines = random_variable(e, block.sd) + random_variable(e, block.corr_unit)
    sd, corr = e.local(block.sd.name), e.local(block.corr.name)
    unit = Chain("2.0", (("*", e.local(block.corr_unit.name)), ("-", "1.0")))
    det = call("pm.Deterministic", literal(block.corr.name), unit, dims=dims_code(block.corr.dims))
    lines += render(det, 2, f"{corr} = ")
    if block.centered:
        e.functions.update(dict.fromkeys(BIVARIATE_NORMAL))
        dist, logp = BIVARIATE_NORMAL
        return lines + centred(
            e,
            block,
            "pm.CustomDist",
            params=[sd, f"{corr}[0]"],
            dist=dist,
            logp=logp,
            signature=literal("(k),(k),()->(k)"),  # a pair per level, from a pair of means
        )
    assert block.z is not None
    e.functions["correlated_pair"] = None
    lines += random_variable(e, block.z)
    effects = call("correlated_pair", e.local(block.z.name), sd, f"{corr}[0]")
    det = call("pm.Deterministic", literal(block.r.name), effects, dims=dims_code(block.r.dims))
    return lines + render(det, 2, f"{e.local(block.r.name)} = ")
