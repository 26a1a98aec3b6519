"""Group blocks → :class:`~hiermod.plan.ir.BlockIR`: the block half of :func:`~hiermod.plan.lower.lower`.

For each ``(e | g)`` block of a formula, in this order: whether it is centred
(:func:`centered_for`) and on which population parameters (:func:`block_means`), its layout
(:func:`layout_for`), then its dims and index, effect columns, sd, correlation and effects
(:func:`lower_block`). The rules are in the docstring of :mod:`hiermod.plan.lower`.

:class:`PlanBuilder` holds what one lowering run has claimed so far — names, coords, data
containers and prior slots — shared by the population terms (:mod:`hiermod.plan.lower`) and the
blocks here; every name is claimed in the order the IR lists it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

import numpy as np

from hiermod.data.design import BlockDesign, DataMoments, Design, FormulaDesign
from hiermod.data.runtime import level_labels
from hiermod.plan.block_by import by_parts
from hiermod.plan.ir import BlockIR, DataSpec, Layout, ParamSpec, PopulationIR, PopulationTerm
from hiermod.plan.names import Namer, identifier, stem
from hiermod.plan.priors import Prior, PriorSlot
from hiermod.plan.scales import prior_scales, safe_sd

__all__ = [
    "DENSE_THRESHOLD",
    "LKJ_ETA",
    "MAX_DENSE_CELLS",
    "Centring",
    "PlanBuilder",
    "block_means",
    "centered_for",
    "layout_for",
    "lower_block",
]

DENSE_THRESHOLD = 0.5  # dense layout when at least this share of all combinations is observed
MAX_DENSE_CELLS = 1_000_000  # never lay out a product larger than this densely under "auto"
LKJ_ETA = 2.0


def _column_sds(matrix: np.ndarray) -> np.ndarray:
    return np.array([safe_sd(matrix[:, j]) for j in range(matrix.shape[1])])


class PlanBuilder:
    """What one lowering run has claimed so far: the namer, coords, data and prior slots."""

    def __init__(self, design: Design, moments: DataMoments | None) -> None:
        self.design = design
        self.namer = Namer()
        self.coords: dict[str, tuple[object, ...]] = {}
        self.data: list[DataSpec] = []
        self.values: dict[str, np.ndarray] = {}
        self.slots: list[PriorSlot] = []
        self.factor_dims: dict[str, str] = {}
        self.moments = moments
        self.index_names: dict[tuple[tuple[str, ...], str], str] = {}  # (grouping, layout) -> data
        self.shared_prefixes: frozenset[str] = frozenset()  # whose indices are unprefixed: mub_

    def column_sds(self, key: tuple[str, str, int], matrix: np.ndarray) -> np.ndarray:
        """Sds of design columns: from the moments when given, else from the rows."""
        if self.moments is not None:
            return np.asarray(self.moments.columns[key], dtype=np.float64)
        return _column_sds(matrix)

    def prior_scales(
        self,
        scale: float,
        key: tuple[str, str, int],
        matrix: np.ndarray,
        labels: tuple[str, ...],
        name: str,
    ) -> np.ndarray:
        """``scale / sd`` of each design column, the scale of its default prior: finite and
        positive, or a DataError naming the column (:func:`~hiermod.plan.scales.prior_scales`)."""
        return prior_scales(np.asarray(scale), self.column_sds(key, matrix), labels, name)

    def add_data(
        self, wanted: str, values: np.ndarray, dims: tuple[str, ...], role: str, description: str
    ) -> str:
        name = self.namer.claim(wanted)
        self.data.append(DataSpec(name, dims, role, description, str(values.dtype)))
        # Design matrices are read one column at a time (X[:, k] * b[k], r_j[idx] * Z[:, j]):
        # column-major storage makes each column contiguous (measured 3.2 -> 1.2 ms per
        # logp+gradient for a Poisson (1 + x | g) at 100k rows).
        self.values[name] = np.asfortranarray(values) if values.ndim == 2 else values
        return name

    def add_dim(self, wanted: str, labels: tuple[object, ...]) -> str:
        name = self.namer.claim(wanted)
        self.coords[name] = labels
        return name

    def factor_dim(self, factor: str) -> str:
        if factor not in self.factor_dims:
            levels = self.design.schema.factor_levels[factor]
            self.factor_dims[factor] = self.add_dim(identifier(factor), level_labels(levels))
        return self.factor_dims[factor]


# ---------------------------------------------------------------------------------------------------
# The choices made for a block before it is lowered.


def layout_for(
    bd: BlockDesign, choice: str | Mapping[str, str], used_keys: set[str]
) -> tuple[Layout, str]:
    """The block's layout and why; ``choice`` is the ``layout=`` option (a key it uses is added to
    ``used_keys``, so that keys naming no grouping of the model can be reported)."""
    grouping = bd.grouping
    key = ":".join(grouping.factors)
    if isinstance(choice, Mapping):
        wanted = choice.get(key, "auto")
        if key in choice:
            used_keys.add(key)
    else:
        wanted = choice
    if len(grouping.factors) == 1:
        return "single", "one grouping column"
    observed, total = grouping.n_cells, grouping.n_combinations
    share = observed / total
    if wanted == "dense":
        return "dense", f"dense layout requested; {observed} of {total} combinations observed"
    if wanted == "observed":
        return (
            "observed",
            f"observed layout requested; {observed} of {total} combinations observed",
        )
    if wanted != "auto":
        raise ValueError(f"layout must be 'auto', 'dense' or 'observed', not {wanted!r}")
    if share >= DENSE_THRESHOLD and total <= MAX_DENSE_CELLS:
        return "dense", (
            f"{observed} of {total} combinations observed ({share:.0%} ≥ {DENSE_THRESHOLD:.0%}): "
            "crossed design, one effect per combination"
        )
    return "observed", (
        f"only {observed} of {total} combinations observed ({share:.0%} < {DENSE_THRESHOLD:.0%}): "
        "nested labels, one effect per observed cell"
    )


Centring = bool | Literal["auto"]


def centered_for(
    bd: BlockDesign,
    choice: Centring | Mapping[str, Centring],
    used_keys: set[str],
    information: Callable[[], float | None],
) -> tuple[bool, str]:
    """Whether the block's effects are centred, and why (for the source comments).

    Non-centred (``r = z * sd``) avoids the funnel between sd and the effects when levels have
    little data. When every level has much data the posterior of each effect is narrow around its
    estimate and the non-centred form becomes the funnel instead (z scales with 1/sd): NUTS then
    needs deep trees, and the centred form samples faster. ``"auto"`` (the default) decides from
    ``information()``, the block's information ratio (:mod:`hiermod.plan.centring`; ``None`` when
    the rule does not apply, e.g. for a Poisson mean: non-centred). ``choice`` is the
    ``centered=`` option: ``True``/``False``/``"auto"``, or a dict by grouping
    (``{"group:color": True}``) whose missing groupings are ``"auto"``; a key it uses is added to
    ``used_keys``.
    """
    key = ":".join(bd.grouping.factors)
    if isinstance(choice, Mapping):
        wanted = choice.get(key, "auto")
        if key in choice:
            used_keys.add(key)
    else:
        wanted = choice
    if wanted != "auto" and not isinstance(wanted, bool | np.bool_):
        raise ValueError(
            f"centered must be True, False or 'auto' (or a dict of them), not {wanted!r}"
        )
    if wanted != "auto" and bool(wanted):
        return True, (
            "centred parameterisation requested (suits levels with much data: each level's "
            "coefficients are then the sampler's parameters)"
        )
    non_centred = (
        "the sampler works on standard-normal z, avoiding the funnel of a centred hierarchy "
        "when a level has little data"
    )
    if wanted != "auto":
        return False, non_centred
    ratio = information()
    if ratio is None:
        return False, non_centred
    if ratio > 1.0:
        return True, (
            f"each level's data pin its effects down (information ratio {ratio:.3g} > 1, "
            "hiermod.plan.centring), where a non-centred z would make the funnel"
        )
    return False, f"{non_centred} (information ratio {ratio:.3g} <= 1, hiermod.plan.centring)"


def block_means(
    bd: BlockDesign, fd: FormulaDesign, population: PopulationIR, absorbed: set[str]
) -> tuple[PopulationTerm | None, ...]:
    """What each term of a centred block is centred on: its population parameter, if any.

    ``(1 + x | g)`` in ``y ~ 1 + x + (1 + x | g)``: ``(Intercept, b[x])``, so ``beta_g[a]`` is
    group a's own intercept and slope. A column counts as the same term only when its label
    and values equal the population column's. Each population parameter centres one block only
    (the first the caller asks for, ``absorbed``; the planner asks the block with the fewest
    levels first): with ``(1 | g) + (1 | c)`` both centred and fewer levels of ``c``, ``c``'s
    effects centre on the Intercept and ``g``'s on 0.
    """
    means: list[PopulationTerm | None] = []
    for j, label in enumerate(bd.term_labels):
        found: PopulationTerm | None = None
        if bd.block.intercept and j == 0:
            if population.intercept is not None:
                found = PopulationTerm(population.intercept.name)
        elif population.coefficients is not None and label in fd.coef_labels:
            k = fd.coef_labels.index(label)
            if np.array_equal(bd.Z[:, j], fd.X[:, k]):
                found = PopulationTerm(population.coefficients.name, k)
        if found is not None and str(found) not in absorbed:
            absorbed.add(str(found))
            means.append(found)
        else:
            means.append(None)
    return tuple(means)


# ---------------------------------------------------------------------------------------------------
# The block's IR, part by part.


def lower_block(
    run: PlanBuilder,
    bd: BlockDesign,
    prefix: str,
    dpar: str,
    taken_stems: set[str],
    position: int,
    layout: tuple[Layout, str],
    centring: tuple[bool, str],
    means: tuple[PopulationTerm | None, ...],
    sd_scale: float,
) -> BlockIR:
    """The block's IR; ``layout`` is :func:`layout_for`'s answer, ``centring``
    :func:`centered_for`'s, ``means`` (centred blocks) :func:`block_means`', and ``sd_scale`` the
    scale of its sds' default priors (before the effect columns' sds)."""
    grouping = bd.grouping
    base = stem(grouping.factors)
    block_stem = base
    counter = 2
    while block_stem in taken_stems:  # (1 | g) + (0 + x | g): second block is g_2
        block_stem = f"{base}_{counter}"
        counter += 1
    taken_stems.add(block_stem)
    layout_name, reason = layout
    k = len(bd.term_labels)

    level_dims, index_name = _levels_and_index(run, bd, layout_name, prefix, base)
    level_shape = tuple(len(run.coords[d]) for d in level_dims)
    term_dim, z_name = _effect_columns(run, bd, prefix, block_stem)
    source = str(bd.block)
    effect_dims = (*level_dims, term_dim) if term_dim else level_dims
    effect_shape = (*level_shape, k) if term_dim else level_shape
    correlated = bd.block.correlated and k > 1
    by_dim, by_index = by_parts(run, bd, prefix, block_stem, level_dims)  # gr(g, by = f)

    # (1 + x | g): two correlated terms are written out, no LKJ factor (see BlockIR.corr_unit)
    two_terms = correlated and k == 2 and by_dim is None
    in_lkj = correlated and not two_terms  # the sds are pm.LKJCholeskyCov's own
    sd = _group_sd(
        run, bd, prefix, dpar, block_stem, position, (by_dim, term_dim), in_lkj, sd_scale
    )
    chol = corr = corr_unit = None
    if correlated:
        assert term_dim is not None
        dims = (by_dim, term_dim)
        chol, corr = _correlation(run, bd, prefix, dpar, block_stem, dims, two_terms)
        chol, corr_unit = (None, chol) if two_terms else (chol, None)
    centered, centered_reason = centring
    centred_on_population = centered and any(m is not None for m in means)
    z, beta, r = _effects(
        run, prefix, dpar, block_stem, source, effect_dims, effect_shape, centered, means
    )
    return BlockIR(
        block=bd.block,
        stem=block_stem,
        layout=layout_name,
        layout_reason=reason,
        level_dims=level_dims,
        term_dim=term_dim,
        term_labels=bd.term_labels,
        intercept=bd.block.intercept,
        correlated=correlated,
        sd=sd,
        chol=chol,
        corr=corr,
        z=z,
        r=r,
        index=index_name,
        Z=z_name,
        lkj_eta=LKJ_ETA,
        n_cells_observed=grouping.n_cells,
        centered=centered,
        centered_reason=centered_reason,
        beta=beta,
        means=means if centred_on_population else (),
        by_dim=by_dim,
        by_index=by_index,
        corr_unit=corr_unit,
    )


def _levels_and_index(
    run: PlanBuilder, bd: BlockDesign, layout: Layout, prefix: str, base: str
) -> tuple[tuple[str, ...], str]:
    """The dims of the block's levels, and the data container of each row's flat level index."""
    grouping = bd.grouping
    if layout == "single":
        level_dims: tuple[str, ...] = (run.factor_dim(grouping.factors[0]),)
        flat_index = bd.codes[0]
    elif layout == "dense":
        level_dims = tuple(run.factor_dim(f) for f in grouping.factors)
        sizes = tuple(len(run.coords[d]) for d in level_dims)
        flat_index = np.ravel_multi_index(tuple(bd.codes), sizes).astype(np.int64)
    else:
        dim_name = f"{base}"
        if dim_name not in run.coords:
            run.add_dim(dim_name, grouping.cell_labels())
        level_dims = (dim_name,)
        flat_index = bd.cell
    # Blocks over one grouping with one layout share the index: (1 | g) + (0 + x | g), or mu's
    # and sigma's blocks. Keyed by the grouping, not the values: two groupings whose codes
    # happen to coincide in the training data are still indexed separately.
    index_key = (grouping.factors, layout)
    if index_key not in run.index_names:
        run.index_names[index_key] = run.add_data(
            f"{'' if prefix in run.shared_prefixes else prefix}{base}_idx",
            np.asarray(flat_index, dtype=np.int64),
            ("obs",),
            "index",
            f"each row's {'cell' if len(grouping.factors) > 1 else 'level'} of {':'.join(grouping.factors)}",
        )
    return level_dims, run.index_names[index_key]


def _effect_columns(
    run: PlanBuilder, bd: BlockDesign, prefix: str, block_stem: str
) -> tuple[str | None, str | None]:
    """The dim of the block's effects (``None`` for one effect) and its ``Z`` data container
    (``None`` without slopes: an intercept needs no column)."""
    k = len(bd.term_labels)
    term_dim = None
    if k > 1:
        term_dim = run.add_dim(f"{prefix}{block_stem}_term", bd.term_labels)
    z_name = None
    has_slopes = k > int(bd.block.intercept)
    if has_slopes:
        z_name = run.add_data(
            f"{prefix}Z_{block_stem}",
            bd.Z,
            ("obs", term_dim) if term_dim else ("obs",),
            "Z",
            f"effect columns of {bd.block}",
        )
        if term_dim is None:  # a single slope: keep Z as a vector
            run.values[z_name] = bd.Z[:, 0]
    return term_dim, z_name


def _group_sd(
    run: PlanBuilder,
    bd: BlockDesign,
    prefix: str,
    dpar: str,
    block_stem: str,
    position: int,
    dims: tuple[str | None, str | None],
    in_lkj: bool,
    scale: float,
) -> ParamSpec:
    """``sd_<stem>``, with its prior slot: ``half_normal(scale / sd(column))`` per effect; over
    (by, term) with ``gr(g, by = f)`` (``dims`` is (by dim, term dim), either ``None``).
    ``in_lkj``: a deterministic of ``pm.LKJCholeskyCov``'s factor (not with by)."""
    k = len(bd.term_labels)
    sd_name = run.namer.claim(f"{prefix}sd_{block_stem}")
    sd_scale = run.prior_scales(scale, ("Z", dpar, position), bd.Z, bd.term_labels, sd_name)
    sd_default = Prior(
        "half_normal", tuple(float(v) for v in sd_scale) if k > 1 else float(sd_scale[0])
    )
    sd = ParamSpec(
        sd_name,
        tuple(d for d in dims if d is not None),
        tuple(len(run.coords[d]) for d in dims if d is not None),
        "group_sd",
        dpar,
        str(bd.block),
        free=not in_lkj or dims[0] is not None,
    )
    run.slots.append(
        PriorSlot(
            sd_name,
            (sd_name, f"{prefix}sd"),
            sd_default,
            "positive",
            bd.term_labels if k > 1 else (),
        )
    )
    return sd


def _correlation(
    run: PlanBuilder,
    bd: BlockDesign,
    prefix: str,
    dpar: str,
    block_stem: str,
    dims: tuple[str | None, str],
    two_terms: bool = False,
) -> tuple[ParamSpec, ParamSpec]:
    """``chol_<stem>`` (the packed Cholesky factor; with ``gr(g, by = f)`` each level of f's
    Cholesky factor of its correlation matrix, (by, k, k)) and ``corr_<stem>``, with its LKJ prior
    slot; ``dims`` is (by dim or ``None``, term dim). ``two_terms``: ``corr_unit_<stem>`` in
    place of ``chol`` (BlockIR.corr_unit)."""
    by_dim, term_dim = dims
    k = len(bd.term_labels)
    source = str(bd.block)
    chol_name = run.namer.claim(f"{prefix}{'corr_unit' if two_terms else 'chol'}_{block_stem}")
    corr_name = run.namer.claim(f"{prefix}corr_{block_stem}")
    # One correlation per pair of terms, not the matrix: its diagonal is the constant 1,
    # which convergence checks and summaries cannot score. (1 + x + z | g): pairs
    # "Intercept, x", "Intercept, z", "x, z" (BlockIR.corr_pairs gives the order).
    labels = bd.term_labels
    rows, cols = np.triu_indices(k, 1)
    pairs = tuple(f"{labels[i]}, {labels[j]}" for i, j in zip(rows, cols, strict=True))
    pair_dim = run.add_dim(f"{term_dim}_pair", pairs)
    if two_terms:
        chol = ParamSpec(chol_name, (pair_dim,), (1,), "group_corr_unit", dpar, source)
        corr_dims: tuple[str, ...] = (pair_dim,)
    elif by_dim is None:
        chol = ParamSpec(chol_name, (), (k * (k + 1) // 2,), "group_cholesky", dpar, source)
        corr_dims = (pair_dim,)
    else:
        n_by = len(run.coords[by_dim])
        chol = ParamSpec(chol_name, (), (n_by, k, k), "group_cholesky", dpar, source)
        corr_dims = (by_dim, pair_dim)
    corr_shape = tuple(len(run.coords[d]) for d in corr_dims)
    corr = ParamSpec(corr_name, corr_dims, corr_shape, "group_corr", dpar, source, free=False)
    run.slots.append(
        PriorSlot(corr_name, (corr_name, f"{prefix}corr"), Prior("lkj", LKJ_ETA), "correlation")
    )
    return chol, corr


def _effects(
    run: PlanBuilder,
    prefix: str,
    dpar: str,
    block_stem: str,
    source: str,
    effect_dims: tuple[str, ...],
    effect_shape: tuple[int, ...],
    centered: bool,
    means: tuple[PopulationTerm | None, ...],
) -> tuple[ParamSpec | None, ParamSpec | None, ParamSpec]:
    """``z`` (non-centred) or ``beta`` (centred on population parameters), and ``r``."""
    z = beta = None
    centred_on_population = centered and any(m is not None for m in means)
    if not centered:
        z = ParamSpec(
            run.namer.claim(f"{prefix}z_{block_stem}"),
            effect_dims,
            effect_shape,
            "group_offsets",
            dpar,
            source,
            prior=Prior("normal", 0.0, 1.0),
        )
    elif centred_on_population:
        beta = ParamSpec(
            run.namer.claim(f"{prefix}beta_{block_stem}"),
            effect_dims,
            effect_shape,
            "group_coefficients",
            dpar,
            source,
        )
    r = ParamSpec(
        run.namer.claim(f"{prefix}r_{block_stem}"),
        effect_dims,
        effect_shape,
        "group_effects",
        dpar,
        source,
        free=centered and not centred_on_population,
    )
    return z, beta, r
