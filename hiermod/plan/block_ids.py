"""Blocks joined by brms's ID, ``(1 + x | p | g)`` in two formulas: one correlation over their union.

``y ~ x + (1 + x | p | g); sigma ~ (1 | p | g)`` is brms's one ``cor_1`` and ``sd_1`` over
(Intercept, x, sigma_Intercept) of g. The blocks are lowered one by one first
(:func:`~hiermod.plan.lower_blocks.lower_block`); :func:`join_blocks` then makes them members of
one :class:`~hiermod.plan.ir.JointIR`:

- the first member holds the joint's free parameters: ``chol_g_id_p`` (an LKJ Cholesky factor
  over the union, its sds the members' sds with their own priors) and ``z_g_id_p`` over
  (levels, ``g_id_p_term``), and the stored correlations ``corr_g_id_p`` (each pair of the
  union once, e.g. "Intercept, sigma_Intercept");
- every member keeps its own names for its columns of the union: ``sd_g`` and ``r_g`` (mu),
  ``sigma_sd_g`` and ``sigma_r_g`` (sigma), now deterministic; so ``ranef``, ``varcorr`` and
  prediction read them as any block's.

The members are non-centred (one ``z`` for all: a new level's effects are drawn jointly from the
shared covariance). An ID on one block only is an ordinary block.
"""

from __future__ import annotations

from dataclasses import replace

from hiermod.plan.ir import BlockIR, JointIR, ParamSpec, PredictorIR
from hiermod.plan.lower_blocks import LKJ_ETA, PlanBuilder
from hiermod.plan.names import identifier, stem
from hiermod.plan.priors import Prior, PriorSlot

__all__ = ["join_blocks"]


def _label(dpar: str, label: str) -> str:
    return label if dpar == "mu" else f"{dpar}_{label}"  # as the summaries label sigma's


def join_blocks(
    run: PlanBuilder, predictors: list[PredictorIR], forced: frozenset[str] = frozenset()
) -> list[PredictorIR]:
    """``predictors`` with the blocks of each shared ID made members of one joint correlation;
    an ID in ``forced`` is a joint even on one block (an mvbind's ID shared with another
    response, whose joint the composed module makes one: ``output/source_multivariate_ids``)."""
    members: dict[str, list[tuple[int, int]]] = {}  # ID -> (predictor, block) positions
    for i, predictor in enumerate(predictors):
        for j, block in enumerate(predictor.blocks):
            if block.block.block_id is not None:
                members.setdefault(block.block.block_id, []).append((i, j))
    blocks = [list(p.blocks) for p in predictors]
    for block_id, places in members.items():
        if len(places) < 2 and block_id not in forced:
            continue  # an ID on one block: nothing to join
        found = [(predictors[i].dpar, blocks[i][j]) for i, j in places]
        for (i, j), block in zip(places, _joined(run, block_id, found), strict=True):
            blocks[i][j] = block
    return [replace(p, blocks=tuple(b)) for p, b in zip(predictors, blocks, strict=True)]


def _joined(run: PlanBuilder, block_id: str, found: list[tuple[str, BlockIR]]) -> list[BlockIR]:
    first = found[0][1]
    suffix = block_id if block_id.isdigit() else identifier(block_id)
    joint_stem = f"{stem(first.block.factors)}_id_{suffix}"  # g_id_p, g_id_2
    labels = tuple(_label(dpar, t) for dpar, b in found for t in b.term_labels)
    term_dim = run.add_dim(f"{joint_stem}_term", labels)
    k = len(labels)
    chol_name = run.namer.claim(f"chol_{joint_stem}")
    corr_name = run.namer.claim(f"corr_{joint_stem}")
    pairs = tuple(f"{labels[a]}, {labels[b]}" for a in range(k) for b in range(a + 1, k))
    pair_dim = run.add_dim(f"{term_dim}_pair", pairs)
    source = " and ".join(str(b.block) for _, b in found)
    dpar = found[0][0]
    chol = ParamSpec(chol_name, (), (k * (k + 1) // 2,), "group_cholesky", dpar, source)
    corr = ParamSpec(corr_name, (pair_dim,), (len(pairs),), "group_corr", dpar, source, free=False)
    z = ParamSpec(
        run.namer.claim(f"z_{joint_stem}"),
        (*first.level_dims, term_dim),
        (*first.r.shape[: len(first.level_dims)], k),
        "group_offsets",
        dpar,
        source,
        prior=Prior("normal", 0.0, 1.0),
    )
    # the members' own LKJ priors give way to the joint's
    own = {b.corr.name for _, b in found if b.corr is not None}
    run.slots[:] = [s for s in run.slots if s.name not in own]
    for _, b in found:
        if b.corr is not None:  # and their pair dims
            run.coords.pop(b.corr.dims[0], None)
    run.slots.append(
        PriorSlot(corr_name, (corr_name, "corr"), Prior("lkj", LKJ_ETA), "correlation")
    )
    joint = JointIR(block_id, joint_stem, term_dim, labels)
    out: list[BlockIR] = []
    start = 0
    reason = (
        f"non-centred: its effects share one correlation with the other blocks of ID "
        f"{block_id} ({source})"
    )
    for position, (_, block) in enumerate(found):
        columns = tuple(range(start, start + block.size))
        start += block.size
        owner = position == 0
        out.append(
            replace(
                block,
                correlated=True,
                sd=replace(block.sd, free=False),
                chol=chol if owner else None,
                corr_unit=None,
                corr=corr if owner else None,
                z=z if owner else None,
                beta=None,
                means=(),
                r=replace(block.r, free=False),
                centered=False,
                centered_reason=reason,
                lkj_eta=LKJ_ETA,
                joint=joint,
                joint_columns=columns,
            )
        )
    return out
