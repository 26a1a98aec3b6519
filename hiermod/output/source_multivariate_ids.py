"""brms's ``mvbind(y1, y2) ~ x + (1 | p | g)``: one correlation over the responses' effects of g.

Each response is compiled alone (:mod:`hiermod.output.source_multivariate`), its blocks of an ID
shared with another response planned as a joint of their own (``_joint_ids``, so that every block
reads its columns of ``r_g_id_p``). Composing the module, :func:`join_responses` replaces each
response's joint by its columns of **one** joint over the union, written once before the
responses' parts, in brms's order (response by response, each response's own order)::

    chol_g_id_p, corr_g_id_p, sd_g_id_p = pm.LKJCholeskyCov("chol_g_id_p", n=2, ...)
    z_g_id_p = pm.Normal("z_g_id_p", mu=0.0, sigma=1.0, dims=("g", "g_id_p_term"))
    r_g_id_p = z_g_id_p @ chol_g_id_p.T
    ...
    # ---- response y1
    y1_sd_g_id_p = sd_g_id_p[0:1]
    y1_r_g_id_p = r_g_id_p[..., 0:1]

The union's labels are brms's (``y1_Intercept``, ``sigma_y1_Intercept``, ``y2_Intercept``: its
``sd_g__y1_Intercept`` and ``cor_g__y1_Intercept__y2_Intercept``); its sd priors are the members'
side by side (so of one kind), its LKJ shape the responses' (which must agree).
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from hiermod.errors import PriorError
from hiermod.output.codegen import assign, call, literal, render
from hiermod.output.emitter import dims_code
from hiermod.output.source_joint import sd_dist
from hiermod.plan.ir import BlockIR, ModelIR

__all__ = ["SharedJoint", "join_responses"]

Tag = Callable[[str], str]


@dataclass(frozen=True)
class SharedJoint:
    """The union of one ID's joints: its dims' labels and the lines that define it."""

    stem: str
    coords: dict[str, tuple[str, ...]]
    lines: list[str]


def _members(ir: ModelIR, block_id: str) -> list[BlockIR]:
    return [
        b
        for p in ir.predictors
        for b in p.blocks
        if b.joint is not None and b.joint.block_id == block_id
    ]


def _edited(lines: list[str], owner: BlockIR, tagged: Tag, start: int) -> list[str]:
    """One response's part with its joint's own definitions replaced by its columns of the
    union (``start``: its first column)."""
    assert owner.joint is not None
    assert owner.chol is not None
    assert owner.corr is not None
    assert owner.z is not None
    joint = owner.joint
    chol, corr, z = (tagged(s.name) for s in (owner.chol, owner.corr, owner.z))
    r, sd = tagged(f"r_{joint.stem}"), tagged(f"sd_{joint.stem}")
    text = "\n".join(lines)
    tree = ast.parse(textwrap.dedent(text))
    dropped: list[tuple[int, int]] = []
    r_line = 0
    for node in tree.body:
        value = node.value if isinstance(node, ast.Assign | ast.Expr) else None
        first = value.args[0] if isinstance(value, ast.Call) and value.args else None
        label = first.value if isinstance(first, ast.Constant) else None
        target = node.targets[0] if isinstance(node, ast.Assign) else None
        assigned = target.id if isinstance(target, ast.Name) else None
        if label in (chol, corr) or assigned == z:
            dropped.append((node.lineno, node.end_lineno or node.lineno))
        elif assigned == r:
            dropped.append((node.lineno, node.end_lineno or node.lineno))
            r_line = node.lineno
    assert r_line, f"no {r} in the response's part"
    end = start + joint.size
    out: list[str] = []
    for number, line in enumerate(lines, start=1):
        if number == r_line:
            out += [
                f"        {sd} = sd_{joint.stem}[{start}:{end}]",
                f"        {r} = r_{joint.stem}[..., {start}:{end}]",
            ]
        if not any(a <= number <= b for a, b in dropped):
            out.append(line)
    return out


def join_responses(
    irs: Sequence[ModelIR],
    bodies: Sequence[list[str]],
    tags: Sequence[Tag],
    block_ids: Sequence[str],
) -> tuple[list[list[str]], list[SharedJoint]]:
    """Each response's part with its joints of ``block_ids`` read from the shared ones, and the
    shared joints. ``tags[i]`` tags a name of response i (``r_g_id_p`` → ``y1_r_g_id_p``, and a
    term label as brms: ``Intercept`` → ``y1_Intercept``, ``sigma_Intercept`` →
    ``sigma_y1_Intercept``)."""
    edited = [list(b) for b in bodies]
    shared: list[SharedJoint] = []
    for block_id in block_ids:
        members: list[BlockIR] = []
        union: list[str] = []
        etas: dict[str, float] = {}  # each response's LKJ shape, by its prior key (y1_corr)
        stem = ""
        for i, ir in enumerate(irs):
            own = _members(ir, block_id)
            if not own:
                continue
            owner = next(b for b in own if b.joint_owner)
            assert owner.joint is not None
            stem = owner.joint.stem
            edited[i] = _edited(edited[i], owner, tags[i], len(union))
            union += [tags[i](t) for t in owner.joint.term_labels]
            members += own
            etas[tags[i]("corr")] = float(owner.lkj_eta)
        shared.append(_union(stem, block_id, members, union, etas))
    return edited, shared


def _union(
    stem: str, block_id: str, members: list[BlockIR], union: list[str], etas: dict[str, float]
) -> SharedJoint:
    if len(set(etas.values())) > 1:
        given = ", ".join(f"{key} ~ lkj({eta:g})" for key, eta in etas.items())
        raise PriorError(
            f"the responses' blocks of the ID {block_id} share one correlation: their LKJ "
            f"priors must agree ({given})",
            hint="give each the same prior, e.g. "
            + ", ".join(f"{key!r}: 'lkj({min(etas.values()):g})'" for key in etas),
        )
    owner = next(b for b in members if b.joint_owner)
    assert owner.z is not None
    k = len(union)
    term_dim, pair_dim = f"{stem}_term", f"{stem}_term_pair"
    rows, cols = np.triu_indices(k, 1)
    pairs = tuple(f"{union[i]}, {union[j]}" for i, j in zip(rows, cols, strict=True))
    chol, corr, sd = f"chol_{stem}", f"corr_{stem}", f"sd_{stem}"
    lkj = call(
        "pm.LKJCholeskyCov",
        literal(chol),
        n=str(k),
        eta=literal(next(iter(etas.values()))),
        sd_dist=sd_dist(members, k),
        compute_corr="True",
        store_in_trace="False",
    )
    lines = [
        f"        # ---- the effects of {', '.join(owner.block.factors)} of every response with the "
        f"ID {block_id} (brms's",
        f"        # (1 | {block_id} | g) across responses): one LKJ({owner.lkj_eta:g}) correlation "
        "over their union",
        *assign([chol, corr, sd], lkj, 2),
        *render(
            call(
                "pm.Deterministic",
                literal(corr),
                f"{corr}[np.triu_indices({k}, 1)]",
                dims=literal(pair_dim),
            ),
            2,
        ),
        *render(
            call(
                "pm.Normal",
                literal(f"z_{stem}"),
                mu="0.0",
                sigma="1.0",
                dims=dims_code((*owner.z.dims[:-1], term_dim)),
            ),
            2,
            f"z_{stem} = ",
        ),
        f"        r_{stem} = z_{stem} @ {chol}.T",
        "",
    ]
    return SharedJoint(stem, {term_dim: tuple(union), pair_dim: pairs}, lines)
