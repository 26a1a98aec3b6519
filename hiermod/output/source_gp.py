"""The PyMC code of a gp() term (:class:`~hiermod.plan.ir.GPIR`), and its data in ``prepare``.

In the model, brms's approximate GP (its ``gpa`` in Stan) written out::

    sdgp_gptimes = pm.HalfStudentT("sdgp_gptimes", nu=3.0, sigma=120.8)
    lscale_gptimes = pm.InverseGamma("lscale_gptimes", alpha=1.494, beta=0.05661)
    zgp_gptimes = pm.Normal("zgp_gptimes", mu=0.0, sigma=1.0, dims="gptimes_basis")
    spd_gptimes = sdgp_gptimes * pm.math.sqrt(np.sqrt(2.0 * np.pi) * lscale_gptimes) * …
    gp_gptimes = gptimes_phi @ (spd_gptimes * zgp_gptimes)

(``spd_…`` is the square root of the kernel's spectral density at each basis frequency). In
``prepare``, the basis at the rows' covariates, :func:`~hiermod.data.runtime.gp_basis`, with the
training data's constants written as module constants.
"""

from __future__ import annotations

from collections.abc import Callable

from hiermod.output.codegen import Chain, call, comment, render
from hiermod.output.emitter import Emitter, Piece
from hiermod.plan.ir import GPIR, ParamSpec

__all__ = ["gp_piece", "gp_term"]

RandomVariable = Callable[[Emitter, ParamSpec], list[str]]


def gp_term(e: Emitter, gp: GPIR) -> str:
    """The local holding the GP's values per row (a term of the linear predictor)."""
    return e.local(gp.zgp.name.replace("zgp_", "gp_", 1))


def _note(gp: GPIR) -> str:
    bases = f"{gp.k} basis functions" + (
        f" per covariate ({gp.k}^{gp.n_covariates})" if gp.n_covariates > 1 else ""
    )
    per = f", one GP per level of {gp.by}" if gp.by else ""
    return (
        f"{gp.term}: a Gaussian process (exponentiated-quadratic kernel) in brms's Hilbert-space "
        f"approximation, {bases}{per}: marginal sd {gp.sdgp.name}, length-scale "
        f"{gp.lscale.name} (on the covariates scaled to a largest distance of 1), "
        f"standard-normal weights {gp.zgp.name}."
    )


def gp_piece(e: Emitter, gp: GPIR, random_variable: RandomVariable) -> Piece:
    """The GP's parameters and its values per row."""
    lines = comment(_note(gp), 2)
    for spec in (gp.sdgp, gp.lscale, gp.zgp):
        lines += random_variable(e, spec)
    sd, ell, z = (e.local(p.name) for p in (gp.sdgp, gp.lscale, gp.zgp))
    phi, lam = e.local(gp.basis), e.local(gp.eigenvalues)
    if gp.by is not None:  # one GP per level: each level's parameters against its frequencies
        lines += comment("each level's sdgp and lscale against its row of frequencies", 2)
        sd_col, ell_col = e.names.claim(f"{sd}_col"), e.names.claim(f"{ell}_col")
        lines += [f"        {sd_col} = {sd}[:, None]", f"        {ell_col} = {ell}[:, None]"]
        sd, ell = sd_col, ell_col
    power = {1: f"pm.math.sqrt(np.sqrt(2.0 * np.pi) * {ell})", 2: f"(np.sqrt(2.0 * np.pi) * {ell})"}
    scale = power.get(gp.n_covariates, f"(np.sqrt(2.0 * np.pi) * {ell}) ** {gp.n_covariates / 2}")
    spd = e.names.claim(gp.zgp.name.replace("zgp_", "spd_", 1))
    lines += comment(
        "the square root of the kernel's spectral density at each basis function's frequency",
        2,
    )
    decay = call("pm.math.exp", Chain("-0.25", (("*", f"{ell}**2"), ("*", lam))))
    lines += render(Chain(sd, (("*", scale), ("*", render(decay, 0)[0]))), 2, f"{spd} = ")
    weights = Chain(spd, (("*", z),))
    value = gp_term(e, gp)
    if gp.by is None:
        lines += render(f"{phi} @ ({flat_chain(weights)})", 2, f"{value} = ")
    else:  # (obs, level, basis) times (level, basis), summed: 0 for the other levels' GPs
        lines += render(
            call(f"({phi} * ({flat_chain(weights)})).sum", "axis=(1, 2)"), 2, f"{value} = "
        )
    return Piece(lines, (value,))


def flat_chain(chain: Chain) -> str:
    return chain.flat()
