"""Design → :class:`~hiermod.plan.ir.ModelIR`: names, dims, layouts, parameterisation and priors.

Decisions made here, each visible in the IR (and so in the source and the graph):

* **Layout of a grouping interaction** ``(e | g1:g2)``: ``dense`` gives the effects dims
  ``(g1, g2, term)`` — the layout a PyMC user writes by hand (the forum thread in ``shared/context``) —
  and ``observed`` gives one dim over the observed (g1, g2) cells, as lme4 does. Rule for
  ``layout="auto"``: dense when at least half of all combinations are observed (crossed designs such
  as 50 groups × 4 colours, where nearly every cell has data), observed otherwise (nested labels such as
  county:house, where the product is mostly empty and would add thousands of parameters that only
  the prior informs). Example: 50 × 4 = 200 combinations, 200 observed → dense; 85 counties × 900
  houses = 76,500 combinations, 919 observed → observed. ``layout="dense"``/``"observed"`` or a dict
  ``{"group:color": "observed"}`` overrides.
* **Parameterisation**: non-centred by default, ``r = z @ chol.T`` with an LKJ prior on the
  correlation for ``(e | g)`` blocks of two or more effects, ``r = z * sd`` for ``(e || g)`` and
  single-effect blocks. ``centered=True`` (or ``{"group:color": True}``) makes each level's
  coefficients the parameters, ``beta ~ MvNormal([Intercept, b…], chol)`` with ``r = beta - […]``:
  better when every level has much data (see :meth:`_Lowering.centered_for` and
  :meth:`_Lowering.block_means`).
* **Default priors**: see :mod:`hiermod.plan.priors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from hiermod.data.design import BlockDesign, DataMoments, Design, FormulaDesign
from hiermod.data.families import Family
from hiermod.errors import FamilyError, FormulaError
from hiermod.plan.ir import (
    BlockIR,
    ConstantIR,
    DataSpec,
    Layout,
    LikelihoodIR,
    ModelIR,
    ParamSpec,
    PopulationIR,
    PopulationTerm,
    PredictorIR,
)
from hiermod.plan.names import Namer, identifier, stem
from hiermod.plan.priors import Prior, PriorSlot, ResolvedPrior, resolve_priors, safe_sd

__all__ = ["DENSE_THRESHOLD", "LowerOptions", "lower"]

DENSE_THRESHOLD = 0.5  # dense layout when at least this share of all combinations is observed
MAX_DENSE_CELLS = 1_000_000  # never lay out a product larger than this densely under "auto"
LKJ_ETA = 2.0


@dataclass(frozen=True, slots=True)
class LowerOptions:
    """User choices that shape the IR (everything else comes from the design)."""

    link: str
    priors: Mapping[str, Prior | str] | None = None
    layout: str | Mapping[str, str] = "auto"
    centered: bool | Mapping[str, bool] = False


@dataclass(frozen=True, slots=True)
class _Scale:
    """Location and scale of the response on the link scale, for default priors."""

    center: float
    scale: float
    data_scaled: bool  # whether the scale came from the data (gaussian-like) or is 1


def _response_scale(
    design: Design, family: Family, link: str, moments: DataMoments | None
) -> _Scale:
    data_scaled = (family.name in ("gaussian", "student_t") and link == "identity") or (
        family.name == "lognormal"
    )
    if not data_scaled:
        return _Scale(0.0, 1.0, False)
    if moments is not None:
        return _Scale(moments.response[0], moments.response[1], True)
    y = design.y
    if y is None or y.size == 0:
        return _Scale(0.0, 1.0, False)
    y = np.log(y) if family.name == "lognormal" else y
    return _Scale(float(np.mean(y)), safe_sd(y), True)


def _noise_scale(design: Design, family: Family, moments: DataMoments | None) -> float | None:
    """The sd of the response on sigma's scale (log y for lognormal), whatever the link of mu.

    sigma is on the response scale even when mu has a log link (``gaussian``, ``link="log"``), so its
    default priors use sd(y) there too. ``None`` without a response, or for families without sigma.
    """
    if "sigma" not in family.auxiliary:
        return None
    if moments is not None:
        return moments.response[1]
    y = design.y
    if y is None or y.size == 0:
        return None
    return safe_sd(np.log(y) if family.name == "lognormal" else y)


def _compact(values: np.ndarray) -> float | tuple[float, ...]:
    """One number when every element is the same (``normal(0, 2.5)``), else the vector."""
    return float(values[0]) if np.all(values == values[0]) else tuple(values.tolist())


def _intercept_columns(fd: FormulaDesign) -> list[int]:
    """The columns of the first term whose indicators sum to one in every row, if any.

    Without an intercept, R's coding gives the first categorical term one indicator per level
    (``0 + f``: f[a], f[b], f[c]); those columns together are the intercept, level by level.
    """
    terms = list(dict.fromkeys(fd.coef_terms))
    for term in terms:
        columns = [j for j, t in enumerate(fd.coef_terms) if t == term]
        block = fd.X[:, columns]
        if np.isin(block, (0.0, 1.0)).all() and (block.sum(axis=1) == 1).all():
            return columns
    return []


def _column_sds(matrix: np.ndarray) -> np.ndarray:
    return np.array([safe_sd(matrix[:, j]) for j in range(matrix.shape[1])])


class _Lowering:
    """One lowering run: keeps the namer, coords, data and prior slots together."""

    def __init__(
        self, design: Design, family: Family, options: LowerOptions, moments: DataMoments | None
    ) -> None:
        self.design = design
        self.family = family
        self.options = options
        self.link = family.check_link(options.link if options.link else None)
        self.namer = Namer()
        self.coords: dict[str, tuple[object, ...]] = {}
        self.data: list[DataSpec] = []
        self.values: dict[str, np.ndarray] = {}
        self.slots: list[PriorSlot] = []
        self.factor_dims: dict[str, str] = {}
        self.moments = moments
        self.scale = _response_scale(design, family, self.link, moments)
        self.noise = _noise_scale(design, family, moments)
        self.used_layout_keys: set[str] = set()
        self.used_centered_keys: set[str] = set()
        self.index_names: dict[tuple[tuple[str, ...], str], str] = {}  # (grouping, layout) -> data

    # -- helpers -------------------------------------------------------------------------------

    def column_sds(self, key: tuple[str, str, int], matrix: np.ndarray) -> np.ndarray:
        """Sds of design columns: from the moments when given, else from the rows."""
        if self.moments is not None:
            return np.asarray(self.moments.columns[key], dtype=np.float64)
        return _column_sds(matrix)

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
            self.factor_dims[factor] = self.add_dim(
                identifier(factor), tuple(str(v) for v in levels)
            )
        return self.factor_dims[factor]

    # -- the pieces ----------------------------------------------------------------------------

    def population(self, fd: FormulaDesign, prefix: str) -> PopulationIR:
        intercept = None
        if fd.intercept:
            name = self.namer.claim(f"{prefix}Intercept")
            intercept = ParamSpec(name, (), (), "intercept", fd.dpar, "1")
            self.slots.append(PriorSlot(name, (name,), self._intercept_prior(fd.dpar), "real"))
        coefficients = None
        x_name = None
        if fd.X.shape[1]:
            coef_dim = self.add_dim(f"{prefix}coef", fd.coef_labels)
            x_name = self.add_data(
                f"{prefix}X", fd.X, ("obs", coef_dim), "X", "population-level design matrix"
            )
            name = self.namer.claim(f"{prefix}b")
            source = " + ".join(dict.fromkeys(fd.coef_terms))
            coefficients = ParamSpec(
                name, (coef_dim,), (fd.X.shape[1],), "coefficients", fd.dpar, source
            )
            scale = self._slope_scale(fd.dpar)
            sds = self.column_sds(("X", fd.dpar, -1), fd.X)
            location = np.zeros(fd.X.shape[1])
            spread = 2.5 * scale / sds
            if not fd.intercept:
                # Indicator columns that replace the intercept (y ~ 0 + f, sigma ~ 0 + g:c) are
                # intercepts, one per level: they get the intercept's location and scale.
                columns = _intercept_columns(fd)
                center, width = self._intercept_location(fd.dpar)
                location[columns], spread[columns] = center, width
            self.slots.append(
                PriorSlot(
                    name,
                    (name,),
                    Prior("normal", _compact(location), _compact(spread)),
                    "real",
                    fd.coef_labels,
                )
            )
        return PopulationIR(intercept, coefficients, x_name, fd.coef_labels)

    def _intercept_location(self, dpar: str) -> tuple[float, float]:
        """Location and scale of an intercept of ``dpar`` on its link scale."""
        prior = dict(self._intercept_prior(dpar).params)
        return float(prior["mu"]), float(prior["sigma"])  # type: ignore[arg-type]

    def _intercept_prior(self, dpar: str) -> Prior:
        if dpar == "mu":
            if self.scale.data_scaled:
                return Prior("student_t", 3.0, self.scale.center, 2.5 * self.scale.scale)
            return Prior("student_t", 3.0, 0.0, 2.5)
        if dpar == "sigma" and self.noise is not None:
            return Prior("normal", float(np.log(self.noise)), 1.5)
        return Prior("normal", 0.0, 2.5)

    def _slope_scale(self, dpar: str) -> float:
        if dpar == "mu" and self.scale.data_scaled:
            return self.scale.scale
        return 1.0 if dpar == "mu" else 0.4  # 2.5 * 0.4 = 1: normal(0, 1/sd(x)) on the log scale

    def layout_for(self, bd: BlockDesign) -> tuple[Layout, str]:
        grouping = bd.grouping
        key = ":".join(grouping.factors)
        choice = self.options.layout
        if isinstance(choice, Mapping):
            wanted = choice.get(key, "auto")
            if key in choice:
                self.used_layout_keys.add(key)
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

    def centered_for(self, bd: BlockDesign) -> tuple[bool, str]:
        """Whether the block's effects are centred, and why (for the source comments).

        Non-centred (``r = z * sd``) is the default: it avoids the funnel between sd and the effects
        when levels have little data. When every level has much data the posterior of each effect is
        narrow around its estimate and the non-centred form becomes the funnel instead (z scales
        with 1/sd): NUTS then needs deep trees, and ``centered=True`` (or per grouping,
        ``{"group:color": True}``) samples faster. Example: 1M rows over 4,000 cells, 250 rows each.
        """
        key = ":".join(bd.grouping.factors)
        choice = self.options.centered
        if isinstance(choice, Mapping):
            wanted = choice.get(key, False)
            if key in choice:
                self.used_centered_keys.add(key)
        else:
            wanted = choice
        if not isinstance(wanted, bool | np.bool_):
            raise ValueError(f"centered must be True or False (or a dict of them), not {wanted!r}")
        if wanted:
            return True, (
                "centred parameterisation requested (suits levels with much data: each level's "
                "coefficients are then the sampler's parameters)"
            )
        return False, (
            "the sampler works on standard-normal z, avoiding the funnel of a centred hierarchy "
            "when a level has little data"
        )

    def block_means(
        self, bd: BlockDesign, fd: FormulaDesign, population: PopulationIR, absorbed: set[str]
    ) -> tuple[PopulationTerm | None, ...]:
        """What each term of a centred block is centred on: its population parameter, if any.

        ``(1 + x | g)`` in ``y ~ 1 + x + (1 + x | g)``: ``(Intercept, b[x])``, so ``beta_g[a]`` is
        group a's own intercept and slope. A column counts as the same term only when its label
        and values equal the population column's. Each population parameter centres one block only
        (the first in formula order, ``absorbed``): with ``(1 | g) + (1 | c)`` both centred, ``g``'s
        effects centre on the Intercept and ``c``'s on 0.
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

    def block(
        self,
        bd: BlockDesign,
        prefix: str,
        dpar: str,
        taken_stems: set[str],
        position: int,
        centring: tuple[bool, str],
        means: tuple[PopulationTerm | None, ...],
    ) -> BlockIR:
        """The block's IR; ``centring`` is :meth:`centered_for`'s answer, ``means`` (centred blocks)
        :meth:`block_means`'."""
        grouping = bd.grouping
        base = stem(grouping.factors)
        block_stem = base
        counter = 2
        while block_stem in taken_stems:  # (1 | g) + (0 + x | g): second block is g_2
            block_stem = f"{base}_{counter}"
            counter += 1
        taken_stems.add(block_stem)
        layout, reason = self.layout_for(bd)
        k = len(bd.term_labels)

        if layout == "single":
            level_dims: tuple[str, ...] = (self.factor_dim(grouping.factors[0]),)
            flat_index = bd.codes[0]
        elif layout == "dense":
            level_dims = tuple(self.factor_dim(f) for f in grouping.factors)
            sizes = tuple(len(self.coords[d]) for d in level_dims)
            flat_index = np.ravel_multi_index(tuple(bd.codes), sizes).astype(np.int64)
        else:
            dim_name = f"{base}"
            if dim_name not in self.coords:
                self.add_dim(dim_name, grouping.cell_labels())
            level_dims = (dim_name,)
            flat_index = bd.cell
        level_shape = tuple(len(self.coords[d]) for d in level_dims)
        # Blocks over one grouping with one layout share the index: (1 | g) + (0 + x | g), or mu's
        # and sigma's blocks. Keyed by the grouping, not the values: two groupings whose codes
        # happen to coincide in the training data are still indexed separately.
        index_key = (grouping.factors, layout)
        if index_key not in self.index_names:
            self.index_names[index_key] = self.add_data(
                f"{prefix}{base}_idx",
                np.asarray(flat_index, dtype=np.int64),
                ("obs",),
                "index",
                f"each row's {'cell' if len(grouping.factors) > 1 else 'level'} of {':'.join(grouping.factors)}",
            )
        index_name = self.index_names[index_key]

        term_dim = None
        if k > 1:
            term_dim = self.add_dim(f"{prefix}{block_stem}_term", bd.term_labels)
        z_name = None
        has_slopes = k > int(bd.block.intercept)
        if has_slopes:
            z_name = self.add_data(
                f"{prefix}Z_{block_stem}",
                bd.Z,
                ("obs", term_dim) if term_dim else ("obs",),
                "Z",
                f"effect columns of {bd.block}",
            )
            if term_dim is None:  # a single slope: keep Z as a vector
                self.values[z_name] = bd.Z[:, 0]
        source = str(bd.block)
        effect_dims = (*level_dims, term_dim) if term_dim else level_dims
        effect_shape = (*level_shape, k) if term_dim else level_shape
        correlated = bd.block.correlated and k > 1

        sd_name = self.namer.claim(f"{prefix}sd_{block_stem}")
        sd_scale = self._group_sd_scale(dpar) / np.concatenate(
            [
                [1.0] if bd.block.intercept else [],
                self.column_sds(("Z", dpar, position), bd.Z)[int(bd.block.intercept) :],
            ]
        )
        sd_default = Prior(
            "half_normal", tuple(float(v) for v in sd_scale) if k > 1 else float(sd_scale[0])
        )
        sd = ParamSpec(
            sd_name,
            (term_dim,) if term_dim else (),
            (k,) if term_dim else (),
            "group_sd",
            dpar,
            source,
            free=not correlated,
        )
        self.slots.append(
            PriorSlot(
                sd_name,
                (sd_name, f"{prefix}sd"),
                sd_default,
                "positive",
                bd.term_labels if k > 1 else (),
            )
        )
        chol = corr = None
        if correlated:
            assert term_dim is not None
            chol_name = self.namer.claim(f"{prefix}chol_{block_stem}")
            corr_name = self.namer.claim(f"{prefix}corr_{block_stem}")
            # One correlation per pair of terms, not the matrix: its diagonal is the constant 1,
            # which convergence checks and summaries cannot score. (1 + x + z | g): pairs
            # "Intercept, x", "Intercept, z", "x, z" (BlockIR.corr_pairs gives the order).
            labels = bd.term_labels
            rows, cols = np.triu_indices(k, 1)
            pairs = tuple(f"{labels[i]}, {labels[j]}" for i, j in zip(rows, cols, strict=True))
            pair_dim = self.add_dim(f"{term_dim}_pair", pairs)
            chol = ParamSpec(chol_name, (), (k * (k + 1) // 2,), "group_cholesky", dpar, source)
            corr = ParamSpec(
                corr_name, (pair_dim,), (len(pairs),), "group_corr", dpar, source, free=False
            )
            self.slots.append(
                PriorSlot(
                    corr_name, (corr_name, f"{prefix}corr"), Prior("lkj", LKJ_ETA), "correlation"
                )
            )
        centered, centered_reason = centring
        z = beta = None
        centred_on_population = centered and any(m is not None for m in means)
        if not centered:
            z = ParamSpec(
                self.namer.claim(f"{prefix}z_{block_stem}"),
                effect_dims,
                effect_shape,
                "group_offsets",
                dpar,
                source,
                prior=Prior("normal", 0.0, 1.0),
            )
        elif centred_on_population:
            beta = ParamSpec(
                self.namer.claim(f"{prefix}beta_{block_stem}"),
                effect_dims,
                effect_shape,
                "group_coefficients",
                dpar,
                source,
            )
        r = ParamSpec(
            self.namer.claim(f"{prefix}r_{block_stem}"),
            effect_dims,
            effect_shape,
            "group_effects",
            dpar,
            source,
            free=centered and not centred_on_population,
        )
        return BlockIR(
            block=bd.block,
            stem=block_stem,
            layout=layout,
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
        )

    def _group_sd_scale(self, dpar: str) -> float:
        return self.scale.scale if dpar == "mu" and self.scale.data_scaled else 1.0

    def predictor(self, fd: FormulaDesign) -> PredictorIR:
        prefix = "" if fd.dpar == "mu" else f"{identifier(fd.dpar)}_"
        population = self.population(fd, prefix)
        taken: set[str] = set()
        absorbed: set[str] = set()  # population parameters a centred block is centred on
        blocks = []
        for position, bd in enumerate(fd.blocks):
            centring = self.centered_for(bd)
            means = self.block_means(bd, fd, population, absorbed) if centring[0] else ()
            blocks.append(self.block(bd, prefix, fd.dpar, taken, position, centring, means))
        offset = None
        if fd.offset is not None:
            offset = self.add_data(
                f"{prefix}offset", fd.offset, ("obs",), "offset", "sum of offset() terms"
            )
        link = self.link if fd.dpar == "mu" else "log"
        return PredictorIR(fd.dpar, link, population, tuple(blocks), offset, fd.dpar, store=False)

    def constant(self, dpar: str) -> ConstantIR:
        name = self.namer.claim(dpar)
        if dpar in ("sigma",):
            default = Prior("exponential", 1.0 / (self.noise or 1.0))
        else:
            default = Prior("gamma", 2.0, 0.1)
        self.slots.append(PriorSlot(name, (name,), default, "positive"))
        return ConstantIR(dpar, ParamSpec(name, (), (), "auxiliary", dpar, dpar))


def lower(
    design: Design, family: Family, options: LowerOptions, moments: DataMoments | None = None
) -> ModelIR:
    """Plan the model for ``design``; see the module docstring for the rules.

    ``moments`` replaces the data summaries behind default priors when ``design`` holds only part of
    the rows (streaming, :mod:`hiermod.data.stream`).
    """
    run = _Lowering(design, family, options, moments)
    schema = design.schema
    formula = schema.formula
    for name, dformula in formula.dpars.items():
        if name not in family.auxiliary:
            span = dformula.response.span if dformula.response is not None else None
            allowed = ", ".join(family.auxiliary) or "none"
            raise FamilyError(
                f"the {family.name} family has no parameter {name!r}",
                formula.text,
                span,
                hint=f"its distributional parameters are: {allowed}",
            )
    if design.se is not None and ("sigma" not in family.auxiliary or "sigma" in formula.dpars):
        raise FamilyError(
            "se() gives a known standard error: it needs a family with sigma and no sigma formula",
            formula.text,
            formula.main.response.span if formula.main.response is not None else None,
        )

    response = formula.main.lhs_name or "y"
    run.add_dim("obs", tuple(int(i) for i in design.rows))
    y_name = identifier(response)
    run.namer.taken.add(y_name)
    observed = run.add_data(
        f"{y_name}_data", _response_values(design), ("obs",), "response", f"the response {response}"
    )

    predictors = [run.predictor(fd) for fd in design.formulas]
    dpars: list[tuple[str, PredictorIR | ConstantIR | str]] = [("mu", predictors[0])]
    constants: list[ConstantIR] = []
    for dpar in family.auxiliary:
        found = next((p for p in predictors if p.dpar == dpar), None)
        if found is not None:
            dpars.append((dpar, found))
        elif dpar == "sigma" and design.se is not None:
            se_name = run.add_data("se", design.se, ("obs",), "se", "known standard errors, se()")
            dpars.append((dpar, se_name))
        else:
            constant = run.constant(dpar)
            constants.append(constant)
            dpars.append((dpar, constant))
    trials = weights = None
    if design.trials is not None:
        trials = run.add_data("trials", design.trials, ("obs",), "trials", "binomial trials()")
    if design.weights is not None:
        weights = run.add_data(
            "weights", design.weights, ("obs",), "weights", "likelihood weights()"
        )
    if isinstance(options.layout, Mapping):
        unknown = set(options.layout) - run.used_layout_keys
        if unknown:
            raise ValueError(f"layout names groupings that are not in the model: {sorted(unknown)}")
    if isinstance(options.centered, Mapping):
        unknown = set(options.centered) - run.used_centered_keys
        if unknown:
            raise ValueError(
                f"centered names groupings that are not in the model: {sorted(unknown)}"
            )

    # Defaults to 4 significant digits: the same prior for any purpose, and readable in the
    # priors table and the generated source.
    slots = [replace(slot, default=slot.default.rounded(4)) for slot in run.slots]
    resolved = resolve_priors(slots, options.priors)
    predictors = [_with_priors(p, resolved) for p in predictors]
    constants = [ConstantIR(c.dpar, _attach(c.param, resolved)) for c in constants]
    by_dpar = {p.dpar: p for p in predictors} | {c.dpar: c for c in constants}
    dpars = [(name, by_dpar.get(name, value)) for name, value in dpars]
    likelihood = LikelihoodIR(
        family=family.name,
        link=run.link,
        name=y_name,
        observed=observed,
        dpars=tuple(dpars),
        trials=trials,
        weights=weights,
    )
    return ModelIR(
        coords=run.coords,
        data=tuple(run.data),
        predictors=tuple(predictors),
        constants=tuple(constants),
        likelihood=likelihood,
        formula=str(formula),
        data_values=run.values,
        priors=tuple(resolved.values()),
    )


def _response_values(design: Design) -> np.ndarray:
    if design.y is None:
        raise FormulaError(
            "the model formula needs a response",
            design.schema.formula.text,
            design.schema.formula.main.span,
            hint="write it before '~', e.g. y ~ x",
        )
    return design.y


def _attach(spec: ParamSpec, resolved: Mapping[str, ResolvedPrior]) -> ParamSpec:
    found = resolved.get(spec.name)
    return replace(spec, prior=found.prior) if found is not None else spec


def _with_priors(predictor: PredictorIR, resolved: Mapping[str, ResolvedPrior]) -> PredictorIR:
    """Put each resolved prior on its parameter (the LKJ prior of a block goes on its Cholesky factor)."""
    pop = predictor.population
    population = replace(
        pop,
        intercept=_attach(pop.intercept, resolved) if pop.intercept else None,
        coefficients=_attach(pop.coefficients, resolved) if pop.coefficients else None,
    )
    blocks = []
    for b in predictor.blocks:
        chol, eta = b.chol, b.lkj_eta
        if chol is not None and b.corr is not None:
            lkj = resolved[b.corr.name].prior
            chol, eta = replace(chol, prior=lkj), float(dict(lkj.params)["eta"])  # type: ignore[arg-type]
        blocks.append(replace(b, sd=_attach(b.sd, resolved), chol=chol, lkj_eta=eta))
    return replace(predictor, population=population, blocks=tuple(blocks))
