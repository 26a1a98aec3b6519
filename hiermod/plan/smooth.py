"""Lowering a smooth's penalised part (:class:`~hiermod.data.design.SmoothDesign`) to a
:class:`~hiermod.plan.ir.SmoothIR`: names, dims and the default prior of its sd.

Names are brms's with hiermod's distributional prefix: ``s(times)`` of the mean gives ``sds_stimes_1``
(brms: ``sds_stimes_1``), ``zs_stimes_1`` with dim ``stimes_1_basis`` and the data ``Zs_stimes_1``;
of sigma, ``sigma_sds_stimes_1`` (brms: ``sds_sigma_stimes_1``); ``s(times, by = f)`` has one
smooth per level of f: ``sds_stimesfa_1``, ``sds_stimesfb_1`` (brms: the same). The ``_1`` is brms's number of the
smooth's by-level (one without ``by``). Two smooths of one column (``s(x) + s(x, bs="cr")``) get
``_`` suffixes from the namer.

Default prior of ``sds`` (brms: ``student_t(3, 0, scale)``, half): a half Student-t with 3 degrees
of freedom and the scale of a group-level sd, 2.5 times the response's data scale for the mean of
a Gaussian-like family (:mod:`hiermod.plan.scales`), 2.5 on a link scale otherwise. The columns'
penalty is the identity on mgcv's scale (:mod:`hiermod.data.smooth`), so ``sds`` means brms's.
"""

from __future__ import annotations

from hiermod.data.design import SmoothDesign
from hiermod.plan.ir import ParamSpec, SmoothIR
from hiermod.plan.lower_blocks import PlanBuilder
from hiermod.plan.names import identifier
from hiermod.plan.priors import Prior, PriorSlot

__all__ = ["lower_smooth"]


def lower_smooth(
    run: PlanBuilder, sd: SmoothDesign, prefix: str, dpar: str, scale: float
) -> SmoothIR:
    """The smooth's data, dim and parameters, with the prior slot of its sd."""
    bs = str(run.design.schema.transforms[sd.term].get("bs"))
    # s(times, by = f), level a: stimesfa_1; t2(x, z)'s second penalty: t2xz_2
    kind = "t2" if sd.term.startswith("t2(") else "s"
    stem = f"{kind}{identifier(sd.variable + sd.level)}_{sd.penalty}"
    q = sd.Z.shape[1]
    basis_dim = run.add_dim(f"{prefix}{stem}_basis", tuple(str(j) for j in range(1, q + 1)))
    z_data = run.add_data(
        f"{prefix}Zs_{stem}",
        sd.Z,
        ("obs", basis_dim),
        "Zs",
        f"penalised columns of {sd.term} (identity penalty)",
    )
    sd_name = run.namer.claim(f"{prefix}sds_{stem}")
    sds = ParamSpec(sd_name, (), (), "smooth_sd", dpar, sd.term)
    run.slots.append(
        PriorSlot(
            sd_name,
            (sd_name, f"{prefix}sds"),
            Prior("half_student_t", 3.0, 2.5 * scale),
            "positive",
        )
    )
    z_name = run.namer.claim(f"{prefix}zs_{stem}")
    zs = ParamSpec(
        z_name, (basis_dim,), (q,), "smooth_offsets", dpar, sd.term, Prior("normal", 0.0, 1.0)
    )
    return SmoothIR(sd.term, bs, z_data, basis_dim, sds, zs, sd.columns, sd.level, sd.penalty)
