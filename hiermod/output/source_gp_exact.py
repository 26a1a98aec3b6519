"""The PyMC code of brms's exact GP (``gp(x, k=NA)``, a :class:`~hiermod.plan.ir.GPIR` with
``k`` None); its data in ``prepare`` are written by :mod:`hiermod.output.source_gp_data`.

brms's ``gp()`` in Stan, ``cholesky_decompose(sdgp^2 exp(-d^2 / (2 lscale^2)) + jitter) * zgp``
over the distinct training points, written out (``sdgp`` taken out of the factor)::

    chol_gptimes = pt.linalg.cholesky(pm.math.exp(-0.5 * gptimes_sqdist / lscale_gptimes**2) + 1e-10 * np.eye(94))
    values_gptimes = [sdgp_gptimes * pt.dot(chol_gptimes, zgp_gptimes)]
    gp_gptimes = pt.concatenate(values_gptimes)[gptimes_index]

The jitter is 1e-10 times sdgp^2 where brms adds 1e-12 (absolute): rounding in the covariance of
~100 close points is ~1e-14 sdgp^2, which brms's jitter does not cover when sdgp is large (mcycle's
is ~50), and a Cholesky factor that fails makes the log-density NaN.

At new points (a prediction: ``data[cross]`` has rows) the GP's values there are drawn from its
conditional distribution given its values at the training points, per draw: with ``B = L^-1
k(train, new)`` (correlations), the mean ``sdgp B^T zgp`` (= ``K*^T K^-1 f``) and the covariance
``sdgp^2 (k(new, new) - B^T B)`` (plus the same relative jitter), a ``pm.MvNormal`` named
``gpnew_<label>`` (:mod:`hiermod.inference.posterior_eval` draws it, or takes its mean).
"""

from __future__ import annotations

from collections.abc import Callable

from hiermod.output.codegen import Chain, Subscript, call, comment, list_of, literal, render
from hiermod.output.emitter import Emitter, Piece
from hiermod.plan.ir import GPIR, ParamSpec

__all__ = ["JITTER", "exact_piece"]

RandomVariable = Callable[[Emitter, ParamSpec], list[str]]
JITTER = "1e-10"  # times sdgp^2, on the diagonal of each covariance


def _note(gp: GPIR) -> str:
    per = f", one GP per level of {gp.by}" if gp.by else ""
    points = " + ".join(str(m) for m in gp.sizes)
    return (
        f"{gp.term}: a Gaussian process (exponentiated-quadratic kernel), brms's exact GP over "
        f"the {points} distinct training points{per}: marginal sd {gp.sdgp.name}, length-scale "
        f"{gp.lscale.name} (on the covariates scaled to a largest distance of 1), "
        f"standard-normal weights {gp.zgp.name}, one per point."
    )


def _squared(name: str) -> str:
    """``name**2``, spaced as ruff spaces a power of a subscript: ``sd[0] ** 2``."""
    return f"{name}**2" if name.isidentifier() else f"{name} ** 2"


def _correlations(e: Emitter, sqdist: str, ell: str, at: str, indent: int) -> list[str]:
    """``at = exp(-0.5 * sqdist / ell**2)``: the kernel's correlations."""
    scaled = Chain("-0.5", (("*", e.local(sqdist)), ("/", _squared(ell))))
    return render(call("pm.math.exp", scaled), indent, f"{at} = ")


def exact_piece(e: Emitter, gp: GPIR, random_variable: RandomVariable) -> Piece:
    """The exact GP's parameters, its values at the training points (and at new points), per row."""
    lines = comment(_note(gp), 2)
    for spec in (gp.sdgp, gp.lscale, gp.zgp):
        lines += random_variable(e, spec)
    sd, ell, z = (e.local(p.name) for p in (gp.sdgp, gp.lscale, gp.zgp))
    stem = gp.zgp.name.replace("zgp_", "", 1)
    values = e.names.claim(f"values_{stem}")
    lines += comment(
        "the Cholesky factor of the training points' correlations exp(-d^2 / (2 lscale^2)) "
        f"(plus {JITTER} on the diagonal) times sdgp and the weights: the GP at those points",
        2,
    )
    parts: list[Chain] = []
    start, per_level = 0, []
    for j, size in enumerate(gp.sizes):
        sd_j, ell_j = (f"{sd}[{j}]", f"{ell}[{j}]") if gp.by else (sd, ell)
        z_j = f"{z}[{start}:{start + size}]" if gp.by else z
        suffix = f"_{j + 1}" if gp.by else ""
        corr, chol = (e.names.claim(f"{kind}_{stem}{suffix}") for kind in ("corr", "chol"))
        lines += _correlations(e, gp.sqdist[j], ell_j, corr, 2)
        jittered = Chain(corr, (("+", f"{JITTER} * np.eye({size})"),))
        lines += render(call("pt.linalg.cholesky", jittered), 2, f"{chol} = ")
        parts.append(Chain(sd_j, (("*", call("pt.dot", chol, z_j).flat()),)))
        per_level.append((j, chol, sd_j, ell_j, z_j, suffix))
        start += size
    lines += render(list_of(parts), 2, f"{values} = ")
    for j, chol, sd_j, ell_j, z_j, suffix in per_level:
        cross, newsq, name = gp.cross[j], gp.newsq[j], gp.conditional[j]
        n_new = e.names.claim(f"n_new_{stem}{suffix}")
        lines += comment(
            "new points (a prediction): the GP there given its values at the training points, "
            "mean K*' K^-1 f and covariance K** - K*' K^-1 K* (brms's)",
            2,
        )
        lines += render(Subscript("data", literal(cross), ".shape[0]"), 2, f"{n_new} = ")
        lines.append(f"        if {n_new}:")
        across, among, solved = (
            e.names.claim(f"{kind}_{stem}{suffix}") for kind in ("across", "among", "solved")
        )
        lines += _correlations(e, cross, ell_j, across, 3)
        lines += _correlations(e, newsq, ell_j, among, 3)
        solve = call("pt.linalg.solve_triangular", chol, f"{across}.T", lower="True")
        lines += render(solve, 3, f"{solved} = ")
        mean = Chain(sd_j, (("*", call("pt.dot", f"{solved}.T", z_j).flat()),))
        given = e.names.claim(f"given_{stem}{suffix}")
        left = Chain(
            among,
            (
                ("-", call("pt.dot", f"{solved}.T", solved).flat()),
                ("+", f"{JITTER} * np.eye({n_new})"),
            ),
        )
        lines += render(left, 3, f"{given} = ")
        cov = Chain(_squared(sd_j), (("*", given),))
        lines += render(
            call("pm.MvNormal", literal(name), mu=mean, cov=cov), 3, f"{e.local(name)} = "
        )
        lines.append(f"            {values}.append({e.local(name)})")
    value = e.local(gp.zgp.name.replace("zgp_", "gp_", 1))
    gather = Subscript(f"pt.concatenate({values})", e.local(gp.index))
    lines += render(gather, 2, f"{value} = ")
    return Piece(lines, (value,))
