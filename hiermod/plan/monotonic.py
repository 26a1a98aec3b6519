"""Lowering brms's monotonic effect ``mo(x)``: its parameters, data and default priors.

``mo(x)`` of an ordered predictor with categories 0..D adds to the linear predictor

    bsp * D * sum(simo[1..code])        (0 for the lowest category, bsp * D for the highest)

with ``simo`` a simplex over the D steps (``simo ~ dirichlet(1, …, 1)``, brms's default) and
``bsp`` the mean change per step. Names (:mod:`hiermod.plan.names` style, ``p`` the distributional
prefix, ``x`` the column as an identifier), with brms's for the same thing:

=====================  ================  ==============================  ===================
hiermod                dims              what                            brms
=====================  ================  ==============================  ===================
``{p}bsp_x``           ()                change per step                 ``bsp_mox``
``{p}simo_x``          ``x_step``        each step's share               ``simo_mox1``
data ``x_code``        ``obs``           each row's category 0..D        ``Xmo_1``
=====================  ================  ==============================  ===================

The coords of ``x_step`` are the categories each step reaches (the second to the last): for
categories lo < mid < hi the steps are ``mid`` and ``hi``.

Default priors. brms's prior on ``bsp`` is flat; hiermod uses its data-scaled rule for population
coefficients (:mod:`hiermod.plan.priors`) with the codes as the column:
``normal(0, 2.5 s / sd(code))``, ``s = sd(y)`` for a gaussian mean, else 1 (0.4 for a positive
distributional parameter's log scale): with the steps equal, ``mo(x)`` is the slope of the codes.
``simo``: ``dirichlet(1, …, 1)`` (uniform over the simplex), as brms. Keys for ``priors=``:
``"bsp_x"``, the class ``"bsp"`` (every mo() coefficient) then ``"b"`` (brms's class b covers
``bsp``); ``"simo_x"`` or the class ``"simo"``; each prefixed for a distributional parameter
(``"sigma_bsp"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from hiermod.data.design import FormulaDesign
from hiermod.data.runtime import level_labels
from hiermod.errors import DataError
from hiermod.plan.ir import MonotonicIR, ParamSpec
from hiermod.plan.lower_blocks import PlanBuilder
from hiermod.plan.names import identifier
from hiermod.plan.priors import Prior, PriorSlot, ResolvedPrior

__all__ = ["attach_monotonic", "lower_monotonic"]


def lower_monotonic(
    run: PlanBuilder, fd: FormulaDesign, prefix: str, scale: float
) -> tuple[MonotonicIR, ...]:
    """The ``mo(x)`` terms of one formula; ``scale`` is its slopes' data scale ``s``."""
    if fd.monotonic and run.moments is not None:
        raise DataError(
            "mo() terms are not supported in a streamed model yet",
            hint="fit it in memory with hm.Model(formula, data=df)",
        )
    out = []
    for position, md in enumerate(fd.monotonic):
        column = identifier(md.column)
        # mo(x) is "x"; mo(x):z is "x__z", as a grouping interaction's stem
        others = [f for f in md.term.split(":") if not f.startswith("mo(")]
        stem = "__".join([column, *(identifier(o) for o in others)])
        labels = level_labels(md.levels[1:])
        dim = f"{column}_step"
        if run.coords.get(dim) != labels:  # mu ~ mo(x) and sigma ~ mo(x) share the dim
            dim = run.add_dim(dim, labels)
        codes = f"{prefix}{column}_code"
        if codes not in run.values or not np.array_equal(run.values[codes], md.codes):
            description = f"categories 0..D of mo({md.column})"
            codes = run.add_data(codes, md.codes, ("obs",), "monotonic", description)
        covariate, values = None, md.codes.astype(np.float64)
        if md.covariate is not None:
            covariate = run.add_data(
                f"{prefix}{stem}_covariate", md.covariate, ("obs",), "monotonic",
                f"what {md.term} multiplies the monotonic effect by",
            )  # fmt: skip
            values = values * md.covariate
        bsp = run.namer.claim(f"{prefix}bsp_{stem}")
        simo = run.namer.claim(f"{prefix}simo_{stem}")
        key = ("mo", fd.dpar, position)
        spread = run.prior_scales(2.5 * scale, key, values[:, None], (md.term,), bsp)
        run.slots.append(
            PriorSlot(
                bsp,
                (bsp, f"{prefix}bsp", f"{prefix}b"),
                Prior("normal", 0.0, float(spread[0])),
                "real",
            )
        )
        ones = Prior("dirichlet", (1.0,) * md.steps)
        run.slots.append(
            PriorSlot(simo, (simo, f"{prefix}simo"), ones, "simplex", tuple(map(str, labels)))
        )
        out.append(
            MonotonicIR(
                term=md.term,
                bsp=ParamSpec(bsp, (), (), "monotonic_coefficient", fd.dpar, md.term),
                simo=ParamSpec(simo, (dim,), (md.steps,), "monotonic_simplex", fd.dpar, md.term),
                codes=codes,
                steps=md.steps,
                covariate=covariate,
            )
        )
    return tuple(out)


def attach_monotonic(
    terms: tuple[MonotonicIR, ...], resolved: Mapping[str, ResolvedPrior]
) -> tuple[MonotonicIR, ...]:
    """Each term with the resolved priors on ``bsp`` and ``simo``."""
    return tuple(
        replace(
            m,
            bsp=replace(m.bsp, prior=resolved[m.bsp.name].prior),
            simo=replace(m.simo, prior=resolved[m.simo.name].prior),
        )
        for m in terms
    )
