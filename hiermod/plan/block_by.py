"""brms's ``gr(g, by = f)`` in the plan: the dim of the levels of ``f`` and each level's ``f``.

``(1 + x | gr(g, by = f))`` has ``sd_g`` over (``g_by``, ``g_term``), one row per level of ``f``,
and (correlated) ``chol_g`` with one Cholesky factor per level of ``f``. The data container
``g_by_idx`` (dims: the levels of ``g``) holds each level's code of ``f`` (from the cells of
``g:f``, :mod:`hiermod.data.grouping_by`), so level ``j``'s effects are
``sd_g[g_by_idx[j]] * (chol_g[g_by_idx[j]] @ z_g[j])``, brms's ``scale_r_cor_by``.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from hiermod.data.design import BlockDesign
from hiermod.data.runtime import level_labels

__all__ = ["by_parts"]


class _Run(Protocol):  # hiermod.plan.lower_blocks.PlanBuilder
    coords: dict[str, tuple[object, ...]]

    def add_dim(self, wanted: str, labels: tuple[object, ...]) -> str: ...

    def add_data(
        self, wanted: str, values: np.ndarray, dims: tuple[str, ...], role: str, description: str
    ) -> str: ...


def by_parts(
    run: _Run, bd: BlockDesign, prefix: str, block_stem: str, level_dims: tuple[str, ...]
) -> tuple[str | None, str]:
    """The by dim (the levels of ``f``) and the data container of each level's ``f``; ``(None,
    "")`` for a block without ``by``."""
    if bd.by is None:
        return None, ""
    by_dim = run.add_dim(f"{prefix}{block_stem}_by", level_labels(bd.by.levels))
    index = run.add_data(
        f"{prefix}{block_stem}_by_idx",
        bd.by.of_level,
        level_dims,
        "by",
        f"each level's level of {bd.by.factor} (gr({bd.grouping.factors[0]}, by = {bd.by.factor}))",
    )
    return by_dim, index
