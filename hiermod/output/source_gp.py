"""The PyMC code of a gp() term (:class:`~hiermod.plan.ir.GPIR`); its data in ``prepare`` are
written by :mod:`hiermod.output.source_gp_data`.

In the model, brms's approximate GP (its ``gpa`` in Stan) written out::

    sdgp_gptimes = pm.HalfStudentT("sdgp_gptimes", nu=3.0, sigma=120.8)
    lscale_gptimes = pm.InverseGamma("lscale_gptimes", alpha=1.494, beta=0.05661)
    zgp_gptimes = pm.Normal("zgp_gptimes", mu=0.0, sigma=1.0, dims="gptimes_basis")
    decay_gptimes = pm.math.exp(-0.25 * lscale_gptimes**2 * gptimes_lambda)
    sqrt_spd_gptimes = sdgp_gptimes * pm.math.sqrt(np.sqrt(2.0 * np.pi) * lscale_gptimes) * decay_gptimes
    rgp_gptimes = sqrt_spd_gptimes * zgp_gptimes
    gp_gptimes = gptimes_phi @ rgp_gptimes

(``sqrt_spd_…``: the square root of the kernel's spectral density at each basis frequency).
"""

from __future__ import annotations

from collections.abc import Callable

from hiermod.output.codegen import Chain, call, comment, render
from hiermod.output.emitter import Emitter, Piece
from hiermod.output.source_gp_exact import exact_piece
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
    if gp.k is None:
        return exact_piece(e, gp, random_variable)
    lines = comment(_note(gp), 2)
    for spec in (gp.sdgp, gp.lscale, gp.zgp):
        lines += random_variable(e, spec)
    sd, ell, z = (e.local(p.name) for p in (gp.sdgp, gp.lscale, gp.zgp))
    phi, lam = e.local(gp.basis), e.local(gp.eigenvalues)
    if gp.by is not None:  # one GP per level: each level's parameters against its frequencies
        lines += comment("each level's sdgp and lscale against its row of frequencies", 2)
        sd_col, ell_col = e.names.claim(f"{sd}_col"), e.names.claim(f"{ell}_col")
        lines += render(f"{sd}[:, None]", 2, f"{sd_col} = ")
        lines += render(f"{ell}[:, None]", 2, f"{ell_col} = ")
        sd, ell = sd_col, ell_col
    power = {1: f"pm.math.sqrt(np.sqrt(2.0 * np.pi) * {ell})", 2: f"(np.sqrt(2.0 * np.pi) * {ell})"}
    scale = power.get(gp.n_covariates, f"(np.sqrt(2.0 * np.pi) * {ell}) ** {gp.n_covariates / 2}")
    spd = e.names.claim(gp.zgp.name.replace("zgp_", "sqrt_spd_", 1))
    lines += comment(
        "the square root of the kernel's spectral density at each basis function's frequency, "
        f"sdgp (sqrt(2 pi) lscale)^({gp.n_covariates}/2) exp(-lscale^2 lambda / 4), times the "
        "standard-normal weights (brms's rgp)",
        2,
    )
    decay = e.names.claim(gp.zgp.name.replace("zgp_", "decay_", 1))
    exp = call("pm.math.exp", Chain("-0.25", (("*", f"{ell}**2"), ("*", lam))))
    lines += render(exp, 2, f"{decay} = ")
    lines += render(Chain(sd, (("*", scale), ("*", decay))), 2, f"{spd} = ")
    rgp = e.names.claim(gp.zgp.name.replace("zgp_", "rgp_", 1))
    lines += render(Chain(spd, (("*", z),)), 2, f"{rgp} = ")
    value = gp_term(e, gp)
    if gp.by is None:
        lines += render(Chain(phi, (("@", rgp),)), 2, f"{value} = ")
    else:  # (obs, level, basis) times (level, basis), summed: 0 for the other levels' GPs
        product = Chain(phi, (("*", rgp),))
        lines += render(call("pm.math.sum", product, axis="(1, 2)"), 2, f"{value} = ")
    return Piece(lines, (value,))
