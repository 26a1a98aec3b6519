"""ModelIR: the backend-neutral plan of a model, between the design and PyMC (or source text).

The IR says *what* the model is — coords, data containers, parameters with dims and priors, how each
linear predictor is assembled, the likelihood — in semantic pieces (a population part, a group block, a
constant parameter) rather than in PyMC calls. :mod:`hiermod.output.source` writes it as Python source, one
small function per piece, and :mod:`hiermod.output.module` runs that source to build the ``pm.Model``; the tests
check that it honours :meth:`ModelIR.parameters`, the contract every output must match.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from hiermod.formula.terms import Block
from hiermod.plan.priors import Prior, ResolvedPrior

__all__ = [
    "GPIR",
    "BlockIR",
    "CollapsedIR",
    "ConstantIR",
    "Contribution",
    "DataSpec",
    "JointIR",
    "LikelihoodIR",
    "MergedIR",
    "ModelIR",
    "MonotonicIR",
    "ParamSpec",
    "PopulationIR",
    "PopulationTerm",
    "PredictorIR",
    "SmoothIR",
    "SuffStatsIR",
]

Role = Literal[
    "intercept",  # Intercept of a linear predictor
    "coefficients",  # b: population-level slopes
    "group_sd",  # sd of group-level effects
    "group_cholesky",  # packed Cholesky factor (LKJCholeskyCov)
    "group_corr",  # correlation matrix (deterministic)
    "group_corr_unit",  # (1 + corr) / 2 of a two-term block, Beta(eta, eta): LKJ(eta) for two terms
    "group_offsets",  # z: standard-normal offsets (non-centred)
    "group_effects",  # r: the group-level effects (deterministic, or free when centred)
    "group_coefficients",  # beta = population value + r: free when centred on the population
    "auxiliary",  # a constant distributional parameter: sigma, nu, alpha, phi
    "predictor",  # a distributional parameter computed from its formula (deterministic)
    "thresholds",  # an ordinal model's increasing cutpoints, in place of mu's intercept
    "gp_sd",  # sdgp: a Gaussian process's marginal sd
    "gp_lscale",  # lscale: its length-scale
    "gp_weights",  # zgp: standard-normal weights of its basis functions
    "monotonic_coefficient",  # bsp of mo(x): the mean change per step (plan.monotonic)
    "monotonic_simplex",  # simo of mo(x): each step's share of the whole change
    "smooth_sd",  # sds: the sd of a smooth's penalised coefficients
    "smooth_offsets",  # zs: a smooth's standard-normal penalised coefficients
]

Layout = Literal["single", "dense", "observed"]


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One named model variable: the contract unit.

    ``free`` is False for deterministics (``r_g``, ``corr_g``, ``sigma`` computed per row, …).
    ``source`` is the formula term it implements (``"(1 + x | g)"``, ``"x1"``, ``"sigma"``).
    """

    name: str
    dims: tuple[str, ...]
    shape: tuple[int, ...]
    role: Role
    dpar: str
    source: str
    prior: Prior | None = None
    free: bool = True


@dataclass(frozen=True, slots=True)
class DataSpec:
    """A ``pm.Data`` container: its name, dims and what it holds."""

    name: str
    dims: tuple[str, ...]
    role: str  # "response", "X", "Z", "index", "by", "offset", "trials", "weights", "se"
    description: str
    dtype: str = "float64"


@dataclass(frozen=True, slots=True)
class PopulationIR:
    """``Intercept + X @ b`` of one linear predictor (either part may be absent)."""

    intercept: ParamSpec | None
    coefficients: ParamSpec | None
    X: str | None  # data container name
    coef_labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PopulationTerm:
    """A population parameter, or one element of it: ``Intercept`` or ``b[2]``."""

    param: str
    element: int | None = None

    def __str__(self) -> str:
        return self.param if self.element is None else f"{self.param}[{self.element}]"


@dataclass(frozen=True, slots=True)
class JointIR:
    """brms's block ID ``(1 + x | p | g)`` across formulas: one LKJ correlation over the union of
    the member blocks' effects (``term_labels``: ``Intercept``, ``x``, ``sigma_Intercept``), with
    one standard-normal ``z`` over (levels, union) and ``r = z @ chol.T``; each member block's ``sd``
    and ``r`` are its columns of the union (:mod:`hiermod.plan.block_ids`). The first member holds
    ``chol``, ``corr`` and ``z`` in its own fields."""

    block_id: str
    stem: str  # g_id_p
    term_dim: str
    term_labels: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.term_labels)


@dataclass(frozen=True, slots=True)
class BlockIR:
    """One group block: non-centred, ``r = z @ chol.T`` (correlated) or ``r = z * sd``; or centred.

    Centred, the sampler works on each level's coefficients ``beta ~ MvNormal(m, chol)`` (or
    ``Normal(m, sd)``, or a bivariate normal for two terms: ``corr_unit``), where ``m`` holds the population parameters of the block's terms (``means``:
    ``Intercept``, ``b[k]``, or 0 for a term without one), and ``r = beta - m``; when no term has a
    population parameter, ``r ~ MvNormal(0, chol)`` itself is free and ``beta`` is None.

    With ``by_dim`` (brms's ``gr(g, by = f)``) the sds and correlations are per level of ``f``:
    ``r[j] = sd[f[j]] * (chol[f[j]] @ z[j])``, ``f[j]`` being level ``j``'s level of ``f``.

    Layouts: ``single`` — one grouping column, r has dims (g[, term]); ``observed`` — a grouping
    interaction over its observed cells, one dim ``g1__g2``; ``dense`` — the full product, dims
    ``(g1, g2[, term])``. Rows gather their effects with one flat cell index per block (``index``),
    1-D gathers on 1-D vectors, one per effect (DESIGN.md §3).
    """

    block: Block
    stem: str
    layout: Layout
    layout_reason: str
    level_dims: tuple[str, ...]
    term_dim: str | None  # None when the block has a single effect
    term_labels: tuple[str, ...]
    intercept: bool
    correlated: bool
    sd: ParamSpec
    chol: ParamSpec | None
    corr: ParamSpec | None
    z: ParamSpec | None  # None when centred
    r: ParamSpec
    index: str  # data container: each row's flat cell index
    Z: str | None  # data container for the non-intercept effect columns, (obs, n_slopes)
    lkj_eta: float = 2.0
    n_cells_observed: int = 0
    centered: bool = False
    centered_reason: str = ""
    beta: ParamSpec | None = None  # centred on the population: the free level coefficients
    means: tuple[PopulationTerm | None, ...] = ()  # per term, what beta is centred on
    joint: JointIR | None = None  # a block ID shared across formulas (brms's (1 | p | g))
    joint_columns: tuple[int, ...] = ()  # this block's terms among the joint's
    # gr(g, by = f): sd is (by, term) and chol each level of f's Cholesky factor of its
    # correlation matrix, (by, k, k); ``by_index`` holds each level of g's level of f
    by_dim: str | None = None
    by_index: str = ""
    # two correlated terms written out (chol None): (1 + corr) / 2 ~ Beta(eta, eta), source_pair
    corr_unit: ParamSpec | None = None

    @property
    def size(self) -> int:
        return len(self.term_labels)

    @property
    def two_terms(self) -> bool:  # a correlated pair written out (corr_unit), not an LKJ
        return self.corr_unit is not None

    @property
    def joint_owner(self) -> bool:
        """Whether this member of a joint holds its correlation and ``z`` (the first member)."""
        return self.joint is not None and self.z is not None

    @property
    def corr_pairs(self) -> tuple[tuple[int, int], ...]:
        """The (i, j), i < j, term pairs whose correlations ``corr`` stores, in its order: the upper
        triangle row by row (``np.triu_indices(k, 1)``), e.g. for terms (Intercept, x, z) the pairs
        (Intercept, x), (Intercept, z), (x, z). The diagonal is not stored: it is 1."""
        size = self.joint.size if self.joint is not None else self.size  # over the union
        rows, cols = np.triu_indices(size, 1)
        return tuple(zip(rows.tolist(), cols.tolist(), strict=True))

    @property
    def n_levels(self) -> int:
        return int(np.prod(self.r.shape[: len(self.level_dims)]))


@dataclass(frozen=True, slots=True)
class GPIR:
    """A gp() term, brms's approximate GP: ``basis @ (sqrt(spd(eigenvalues)) * zgp)``, with
    ``spd`` the exponentiated-quadratic kernel's spectral density of ``sdgp`` and ``lscale``
    (one of each per level of ``by``; hiermod.plan.gp); or brms's exact GP (``k`` None):
    ``chol(sdgp^2 exp(-sqdist / (2 lscale^2))) @ zgp`` over the distinct training points, read
    by ``index`` (hiermod.plan.gp_exact)."""

    term: str
    label: str
    n_covariates: int
    k: int | None  # None: brms's exact GP (the fields below ``by``)
    sdgp: ParamSpec
    lscale: ParamSpec
    zgp: ParamSpec  # the exact GP's: one weight per training point, every level's in turn
    basis: str  # data container: (obs, basis) or (obs, level, basis); "" for the exact GP
    eigenvalues: str  # data container: (basis,) or (level, basis); "" for the exact GP
    by: str | None = None
    index: str = ""  # exact: each row's position among the GP's training then new points
    sqdist: tuple[str, ...] = ()  # exact, per level: squared distances between training points
    cross: tuple[str, ...] = ()  # exact, per level: from the new points to the training points
    newsq: tuple[str, ...] = ()  # exact, per level: between the new points
    sizes: tuple[int, ...] = ()  # exact, per level: the number of training points
    conditional: tuple[str, ...] = ()  # exact, per level: the new points' variable (predictions)

    @property
    def containers(self) -> tuple[str, ...]:
        if self.k is None:
            return (self.index, *self.sqdist, *self.cross, *self.newsq)
        return (self.basis, self.eigenvalues)


@dataclass(frozen=True, slots=True)
class MonotonicIR:
    """brms's ``mo(x)`` of categories 0..D: ``bsp * D * sum(simo[:code])`` (:mod:`hiermod.plan.monotonic`)."""

    term: str  # "mo(x)"
    bsp: ParamSpec  # scalar: the mean change per step, D * bsp from the lowest to the highest
    simo: ParamSpec  # simplex over the D steps, dim ``<x>_step``
    codes: str  # data container: each row's category 0..D
    steps: int  # D
    covariate: str | None = None  # data container of z in mo(x):z (the effect times z)


@dataclass(frozen=True, slots=True)
class SmoothIR:
    """The penalised part of a smooth ``s(x)``: ``Zs @ (sds * zs)``, ``zs ~ normal(0, 1)``
    (brms's; its unpenalised columns are in the population part). :mod:`hiermod.plan.smooth`."""

    term: str  # "s(times)"
    bs: str  # "tp", "cr" or "cc"
    Z: str  # data container, (obs, basis_dim)
    basis_dim: str
    sd: ParamSpec
    z: ParamSpec
    columns: tuple[int, int] = (0, 0)  # Z's columns among the call's columns (one level of a by)
    level: str = ""  # s(x, by = f): "f" and the level ("fa")
    penalty: int = 1  # t2(x, z): which of its penalised blocks (its own sd)


@dataclass(frozen=True, slots=True)
class PredictorIR:
    """A distributional parameter computed row-wise from its formula: ``link⁻¹(eta)``."""

    dpar: str
    link: str
    population: PopulationIR
    blocks: tuple[BlockIR, ...]
    offset: str | None  # data container name
    name: str  # the PyMC name when stored (``mu`` is not stored; ``sigma`` per row is)
    store: bool  # whether to keep it as a Deterministic with dims obs
    gps: tuple[GPIR, ...] = ()
    monotonic: tuple[MonotonicIR, ...] = ()  # mo(x) terms
    smooths: tuple[SmoothIR, ...] = ()

    def data_names(self) -> list[str]:
        """The data containers this predictor reads (design matrices, indices, offset)."""
        names = [self.population.X, self.offset, *(s.Z for s in self.smooths)]
        for block in self.blocks:
            names += [block.index, block.Z]
        names += [name for gp in self.gps for name in gp.containers]
        names += [n for m in self.monotonic for n in (m.codes, m.covariate) if n is not None]
        return [n for n in names if n is not None]

    def with_data(self, renamed: Mapping[str, str]) -> PredictorIR:
        """The same predictor (same parameters) reading other containers, e.g. cell-level copies."""

        def new(name: str | None) -> str | None:
            return renamed.get(name, name) if name is not None else None

        population = replace(self.population, X=new(self.population.X))
        blocks = tuple(
            replace(b, index=renamed.get(b.index, b.index), Z=new(b.Z)) for b in self.blocks
        )
        monotonic = tuple(
            replace(m, codes=renamed.get(m.codes, m.codes), covariate=new(m.covariate))
            for m in self.monotonic
        )
        return replace(
            self, population=population, blocks=blocks, offset=new(self.offset), monotonic=monotonic
        )


@dataclass(frozen=True, slots=True)
class ConstantIR:
    """A distributional parameter without a formula: one scalar with a prior (``sigma``)."""

    dpar: str
    param: ParamSpec


@dataclass(frozen=True, slots=True)
class LikelihoodIR:
    """The observed variable and where each distributional parameter comes from."""

    family: str
    link: str
    name: str  # the observed variable's name (the response column, as an identifier)
    observed: str  # data container of the response
    dpars: tuple[tuple[str, PredictorIR | ConstantIR | str], ...]  # str: a data container (se)
    trials: str | None = None
    weights: str | None = None
    thresholds: ParamSpec | None = None  # an ordinal model's cutpoints (hiermod.plan.lower)
    # cens(): data containers of each row's bounds (lower, upper), -inf/inf where not censored
    censored: tuple[str, str] | None = None
    # cens(c, y2), or cens() with weights(): containers of each row's code and the upper bound of
    # its interval, for a likelihood that picks each row's term by its code (plan.censoring)
    censoring: tuple[str, str] | None = None
    # trunc(): the (lower, upper) bounds: a number, a data container (one bound per row) or None
    truncated: tuple[float | str | None, float | str | None] | None = None


@dataclass(frozen=True, slots=True)
class Contribution:
    """One parameter's share of a feature's coefficient in every cell (see :class:`SuffStatsIR`).

    ``kind``: ``intercept`` (the scalar ``Intercept``), ``coefficient`` (``b[element]``), ``effect``
    (effect ``element`` of block ``param``, gathered per cell through ``cell_map``) or ``offset``
    (the fixed coefficient 1 of an offset column).
    """

    feature: int
    kind: Literal["intercept", "coefficient", "effect", "offset"]
    param: str | None = None
    element: int | None = None
    cell_map: str | None = None


@dataclass(frozen=True, slots=True, eq=False)
class SuffStatsIR:
    """A Gaussian likelihood through per-cell sufficient statistics (DESIGN.md §3).

    Rows are grouped into cells within which every coefficient and sigma are constant. With the
    features ``w`` of a row (the distinct columns of X and of the blocks' Z) and the cell's coefficient
    vector ``theta_c``::

        sum_i log N(y_i | w_i . theta_c, sigma_c)
          = -n_c log sigma_c - n_c/2 log(2 pi) - (S_yy - 2 theta_c . S_wy + theta_c' S_ww theta_c) / (2 sigma_c^2)

    so each evaluation costs O(cells × features²) instead of O(rows × features). Same posterior.
    """

    cell_dim: str
    feature_dim: str
    features: tuple[str, ...]
    n: str  # data: rows per cell
    yy: str  # data: sum of y^2 per cell
    wy: str  # data: sum of w y per cell, (cell, feature)
    ww: str  # data: sum of w w' per cell, (cell, feature, feature)
    contributions: tuple[Contribution, ...]
    sigma: PredictorIR | ConstantIR  # sigma per cell (a cell-level predictor) or one constant
    data: tuple[DataSpec, ...]
    reason: str
    n_rows: int
    coords: dict[str, tuple[object, ...]] = field(default_factory=dict)
    values: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    row_cell: str = "row_cell"  # data: each row's cell
    row_features: str = "row_features"  # data: each row's features w, (row, feature)
    rows: bool = True  # the rows are kept (False for a streamed model: only the cell sums exist)

    @property
    def n_features(self) -> int:
        return len(self.features)


@dataclass(frozen=True, slots=True, eq=False)
class CollapsedIR:
    """Rows with identical predictors merged into counts (bernoulli, binomial, poisson).

    Within a cell every row has the same mean, so with ``n`` rows (or summed trials) and ``k`` summed
    successes (or counts) per cell::

        bernoulli / binomial:  sum_i log p(y_i) = k log p + (n - k) log(1 - p) + constant
        poisson:               sum_i log p(y_i) = k log mu - n mu + constant

    ``constant`` (the binomial coefficients, ``-sum log y_i!``) does not depend on the parameters; it
    is added back so the log-likelihood equals the row-wise one exactly. Same posterior, fewer rows.
    """

    cell_dim: str
    mu: PredictorIR  # the mean's predictor reading cell-level copies of its data (same parameters)
    n: str  # data: rows per cell (bernoulli, poisson) or summed trials (binomial)
    k: str  # data: summed response per cell
    constant: float
    data: tuple[DataSpec, ...]
    reason: str
    n_rows: int
    coords: dict[str, tuple[object, ...]] = field(default_factory=dict)
    values: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    row_cell: str = "row_cell"  # data: each row's cell


@dataclass(frozen=True, slots=True, eq=False)
class MergedIR:
    """Rows with identical predictors (of every distributional parameter), response and trials
    merged into one cell counted ``n`` times: their log-likelihood terms are equal, so
    ``sum_i log p(y_i) = sum_c n_c log p(y_c | the cell's parameters)`` exactly (any family)."""

    cell_dim: str
    predictors: tuple[PredictorIR, ...]  # reading cell-level copies of their data
    n: str  # data: rows per cell (their summed weights with weights(), part of the key)
    first: str  # data: each cell's first row
    data: tuple[DataSpec, ...]
    reason: str
    n_rows: int
    coords: dict[str, tuple[object, ...]] = field(default_factory=dict)
    values: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    row_cell: str = "row_cell"  # data: each row's cell


@dataclass(frozen=True, slots=True, eq=False)
class ModelIR:
    """The whole plan. ``data_values`` holds the arrays (kept out of the plan's identity)."""

    coords: dict[str, tuple[object, ...]]
    data: tuple[DataSpec, ...]
    predictors: tuple[PredictorIR, ...]
    constants: tuple[ConstantIR, ...]
    likelihood: LikelihoodIR
    formula: str
    data_values: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    priors: tuple[ResolvedPrior, ...] = ()
    suffstats: SuffStatsIR | None = None
    collapsed: CollapsedIR | None = None
    merged: MergedIR | None = None

    @property
    def reducible(self) -> bool:
        """Whether the likelihood is evaluated through cells (sufficient statistics or counts)."""
        return any(r is not None for r in (self.suffstats, self.collapsed, self.merged))

    @property
    def streamed(self) -> bool:
        """Whether only the cells' sums are kept (a model streamed in chunks: no rows)."""
        return self.suffstats is not None and not self.suffstats.rows

    def parameters(self) -> tuple[ParamSpec, ...]:
        """Every named model variable in build order: the contract of every output."""
        out: list[ParamSpec] = []
        for predictor in self.predictors:
            pop = predictor.population
            out.extend(p for p in (pop.intercept, pop.coefficients) if p is not None)
            for block in predictor.blocks:
                parts = (block.sd, block.chol, block.corr_unit, block.corr, block.z, block.beta)
                out.extend(p for p in (*parts, block.r) if p)
            out.extend(p for gp in predictor.gps for p in (gp.sdgp, gp.lscale, gp.zgp))
            out.extend(p for m in predictor.monotonic for p in (m.bsp, m.simo))
            out.extend(p for smooth in predictor.smooths for p in (smooth.sd, smooth.z))
        out.extend(c.param for c in self.constants)
        if self.likelihood.thresholds is not None:
            out.append(self.likelihood.thresholds)
        for predictor in self.predictors:
            if predictor.store:
                out.append(
                    ParamSpec(
                        predictor.name,
                        ("obs",),
                        (len(self.coords["obs"]),),
                        "predictor",
                        predictor.dpar,
                        f"{predictor.dpar} ~ …",
                        free=False,
                    )
                )
        return tuple(out)

    def free_parameters(self) -> tuple[ParamSpec, ...]:
        return tuple(p for p in self.parameters() if p.free)

    def predictor(self, dpar: str) -> PredictorIR | None:
        return next((p for p in self.predictors if p.dpar == dpar), None)
