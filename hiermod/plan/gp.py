"""gp() terms → :class:`~hiermod.plan.ir.GPIR`: brms's parameters, dims and default priors.

Per GP (one per level of ``by``), as brms names them: ``sdgp_<label>`` the GP's marginal sd,
``lscale_<label>`` its length-scale (on the scaled covariates) and ``zgp_<label>`` the
standard-normal weights of the basis functions (dim ``<label>_basis``), or of the exact GP's
training points (dim ``<label>_point``, :mod:`hiermod.plan.gp_exact`). A distributional
parameter's GP is prefixed like its other parameters: ``sigma_sdgp_gptimes``.

Default priors, brms's rules:

* ``sdgp``: ``student_t(3, 0, 2.5 s)`` on the positive half, ``s`` the data scale hiermod gives
  group sds (sd of the response for a gaussian mean; 1 on a link scale);
* ``lscale``: the inverse-gamma that puts 1% of its mass below the smallest distance between
  distinct (scaled) training points and 1% above the largest (brms's ``def_lscale_prior``); the
  smallest is raised to 1% of the largest, "to prevent extreme priors". mcycle's times: distances
  0.0036 (raised to 0.01) and 1 give ``inv_gamma(1.494197, 0.056607)``, brms's value. Where the
  two equations have no solution brms falls back to ``normal(0, 0.5)`` on the positive half, and
  so does hiermod.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
from scipy import optimize, stats

from hiermod.data.design import FormulaDesign
from hiermod.data.gp import GPDesign
from hiermod.data.runtime import level_labels
from hiermod.plan.gp_exact import exact_values, lower_exact
from hiermod.plan.ir import GPIR, ParamSpec
from hiermod.plan.lower_blocks import PlanBuilder
from hiermod.plan.priors import Prior, PriorSlot, ResolvedPrior
from hiermod.plan.scales import compact

__all__ = ["attach_gp", "gp_values", "lower_gps", "lscale_prior"]

_TAIL = 0.01  # brms's plb = pub = 0.01


def lscale_prior(lower: float, upper: float) -> Prior:
    """brms's default prior of a GP's length-scale given the smallest and largest distance.

    Solves P(lscale < lower) = P(lscale > upper) = 0.01 for an inverse-gamma(a, b) on log(a),
    log(b) from 0 (brms's start); 1/lscale is then gamma(a, rate b), so P(lscale < lower) is the
    gamma's survival at 1/lower. Rounded to 6 digits as brms's.
    """
    lower = max(lower, 0.01 * upper)

    def equations(log_ab: np.ndarray) -> list[float]:
        a, b = np.exp(log_ab)
        below = stats.gamma.logsf(1.0 / lower, a, scale=1.0 / b)
        above = stats.gamma.logcdf(1.0 / upper, a, scale=1.0 / b)
        return [float(below - np.log(_TAIL)), float(above - np.log(_TAIL))]

    with np.errstate(all="ignore"):
        found = optimize.root(equations, np.zeros(2), method="lm")
    if found.success and np.all(np.abs(equations(found.x)) < 1e-6):
        a, b = np.exp(found.x)
        return Prior("inverse_gamma", round(float(a), 6), round(float(b), 6))
    return Prior("half_normal", 0.5)


def _lower_one(run: PlanBuilder, gp: GPDesign, prefix: str, dpar: str, sd_scale: float) -> GPIR:
    stem = f"{prefix}{gp.label}"
    term = str(gp.call)
    level_dim: tuple[str, ...] = ()
    level_labels_: tuple[object, ...] = ()
    if gp.by is not None:
        level_labels_ = level_labels(gp.levels)
        level_dim = (run.add_dim(f"{stem}_level", level_labels_),)
    shape = (len(gp.levels),) if gp.levels else ()
    names = {kind: run.namer.claim(f"{prefix}{kind}_{gp.label}") for kind in ("sdgp", "lscale")}
    zname = run.namer.claim(f"{prefix}zgp_{gp.label}")
    sdgp = ParamSpec(names["sdgp"], level_dim, shape, "gp_sd", dpar, term)
    lscale = ParamSpec(names["lscale"], level_dim, shape, "gp_lscale", dpar, term)
    labels = tuple(str(label) for label in level_labels_)
    run.slots.append(
        PriorSlot(
            sdgp.name,
            (sdgp.name, f"{prefix}sdgp"),
            Prior("half_student_t", 3.0, 2.5 * sd_scale),
            "positive",
            labels,
        )
    )
    priors = [lscale_prior(*d) for d in gp.distances]
    if len({p.dist for p in priors}) == 1:
        params = [dict(p.params) for p in priors]
        merged = {k: compact(np.array([v[k] for v in params], dtype=float)) for k in params[0]}
        default = Prior(priors[0].dist, **merged)
    else:  # pragma: no cover - some levels without a solution: brms's fallback for all
        default = Prior("half_normal", 0.5)
    run.slots.append(
        PriorSlot(lscale.name, (lscale.name, f"{prefix}lscale"), default, "positive", labels)
    )
    if gp.exact is not None:
        return lower_exact(run, gp, stem, sdgp, lscale, zname, labels)
    basis_dim = run.add_dim(f"{stem}_basis", tuple(range(1, gp.basis.shape[-1] + 1)))
    zgp = ParamSpec(
        zname,
        (*level_dim, basis_dim),
        (*shape, gp.basis.shape[-1]),
        "gp_weights",
        dpar,
        term,
        prior=Prior("normal", 0.0, 1.0),
    )
    dims = ("obs", *level_dim, basis_dim)
    basis = run.add_data(f"{stem}_phi", gp.basis, dims, "gp_basis", f"basis functions of {term}")
    eigen = run.add_data(
        f"{stem}_lambda",
        gp.eigenvalues,
        (*level_dim, basis_dim),
        "gp_eigenvalues",
        f"squared frequencies of {term}'s basis functions",
    )
    return GPIR(term, gp.label, len(gp.covariates), gp.k, sdgp, lscale, zgp, basis, eigen, gp.by)


def lower_gps(
    run: PlanBuilder, fd: FormulaDesign, prefix: str, sd_scale: float
) -> tuple[GPIR, ...]:
    """The GPs of one formula."""
    return tuple(_lower_one(run, gp, prefix, fd.dpar, sd_scale) for gp in fd.gps)


def attach_gp(gp: GPIR, resolved: Mapping[str, ResolvedPrior]) -> GPIR:
    """The GP with its resolved priors on ``sdgp`` and ``lscale``."""
    sdgp, lscale = (replace(p, prior=resolved[p.name].prior) for p in (gp.sdgp, gp.lscale))
    return replace(gp, sdgp=sdgp, lscale=lscale)


def gp_values(gps: tuple[GPIR, ...], fd: FormulaDesign) -> dict[str, np.ndarray]:
    """The data containers of a formula's GPs from its design (new rows for predictions)."""
    out: dict[str, np.ndarray] = {}
    for gp, design in zip(gps, fd.gps, strict=True):
        if design.exact is not None:
            out |= exact_values(gp, design.exact)
        else:
            out[gp.basis], out[gp.eigenvalues] = design.basis, design.eigenvalues
    return out
