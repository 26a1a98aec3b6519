"""The exact GP of a gp() term (``k=NA``): its weights and data containers (:mod:`hiermod.plan.gp`
makes its ``sdgp``, ``lscale`` and their priors, as for the approximation).

``zgp_<label>`` has one standard-normal weight per distinct training point (dim ``<label>_point``;
with ``by``, every level's points in turn, labelled ``level[i]``: brms's ``zgp_1_1``, ``zgp_1_2``,
… in one vector). Data: ``<label>_index`` (obs), each row's position among the GP's values, and per
level ``<label>_sqdist`` (squared distances between its training points), ``<label>_cross`` and
``<label>_newsq`` (from the new points of a prediction to the training points, and between them:
empty when fitting). In a prediction's plan the new points' values are random variables named
``gpnew_<label>`` (``conditional``), drawn given the weights (:mod:`hiermod.output.source_gp_exact`).
"""

from __future__ import annotations

import numpy as np

from hiermod.data.gp import GPDesign
from hiermod.data.gp_exact import ExactArrays
from hiermod.plan.ir import GPIR, ParamSpec
from hiermod.plan.lower_blocks import PlanBuilder
from hiermod.plan.priors import Prior

__all__ = ["exact_values", "lower_exact"]


def lower_exact(
    run: PlanBuilder,
    gp: GPDesign,
    stem: str,
    sdgp: ParamSpec,
    lscale: ParamSpec,
    zname: str,
    labels: tuple[str, ...],
) -> GPIR:
    exact = gp.exact
    assert exact is not None
    sizes = exact.sizes
    points: tuple[object, ...]
    if labels:
        points = tuple(
            f"{label}[{i}]" for label, m in zip(labels, sizes, strict=True) for i in range(1, m + 1)
        )
    else:
        points = tuple(range(1, sizes[0] + 1))
    point_dim = run.add_dim(f"{stem}_point", points)
    term = str(gp.call)
    zgp = ParamSpec(
        zname,
        (point_dim,),
        (len(points),),
        "gp_weights",
        sdgp.dpar,
        term,
        prior=Prior("normal", 0.0, 1.0),
    )
    suffixes = [f"_{label}" for label in labels] or [""]
    index = run.add_data(
        f"{stem}_index",
        exact.index,
        ("obs",),
        "gp_index",
        f"each row's point of {term} (its training points, then new points)",
    )

    def containers(kind: str, arrays: tuple[np.ndarray, ...], what: str) -> tuple[str, ...]:
        return tuple(
            run.add_data(f"{stem}_{kind}{suffix}", a, (), "gp_distances", f"{what} of {term}")
            for suffix, a in zip(suffixes, arrays, strict=True)
        )

    sqdist = containers("sqdist", exact.sqdist, "squared distances between the training points")
    cross = containers("cross", exact.cross, "squared distances from new points to training points")
    newsq = containers("newsq", exact.newsq, "squared distances between new points")
    prefix = stem.removesuffix(gp.label)  # "sigma_" for a GP of sigma
    conditional = tuple(run.namer.claim(f"{prefix}gpnew_{gp.label}{s}") for s in suffixes)
    return GPIR(
        term,
        gp.label,
        len(gp.covariates),
        None,
        sdgp,
        lscale,
        zgp,
        "",
        "",
        gp.by,
        index=index,
        sqdist=sqdist,
        cross=cross,
        newsq=newsq,
        sizes=sizes,
        conditional=conditional,
    )


def exact_values(gp: GPIR, arrays: ExactArrays) -> dict[str, np.ndarray]:
    """The exact GP's data containers of some rows (new rows for predictions)."""
    out: dict[str, np.ndarray] = {gp.index: arrays.index}
    for names, values in (
        (gp.sqdist, arrays.sqdist),
        (gp.cross, arrays.cross),
        (gp.newsq, arrays.newsq),
    ):
        out |= dict(zip(names, values, strict=True))
    return out
