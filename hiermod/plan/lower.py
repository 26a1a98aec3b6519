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
  better when every level has much data (see :func:`~hiermod.plan.lower_blocks.centered_for` and
  :func:`~hiermod.plan.lower_blocks.block_means`).
* **Default priors**: see :mod:`hiermod.plan.priors`.

Group blocks are lowered by :mod:`hiermod.plan.lower_blocks`; this module lowers the population
terms, the constant parameters and the likelihood, and attaches the priors.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from hiermod.data.categories import category_dpars
from hiermod.data.design import BlockDesign, DataMoments, Design, FormulaDesign
from hiermod.data.families import Family
from hiermod.errors import FamilyError, FormulaError, OptionError
from hiermod.formula.functions import closest
from hiermod.plan.block_ids import join_blocks
from hiermod.plan.censoring import censoring
from hiermod.plan.centring import information_ratio, sigma_information_ratio
from hiermod.plan.gp import attach_gp
from hiermod.plan.ir import (
    ConstantIR,
    LikelihoodIR,
    ModelIR,
    ParamSpec,
    PopulationIR,
    PopulationTerm,
    PredictorIR,
)
from hiermod.plan.lower_blocks import (
    DENSE_THRESHOLD,
    Centring,
    PlanBuilder,
    block_means,
    centered_for,
    layout_for,
    lower_block,
)
from hiermod.plan.monotonic import attach_monotonic
from hiermod.plan.names import identifier
from hiermod.plan.priors import (
    Prior,
    PriorSlot,
    ResolvedPrior,
    check_fixed_priors,
    parse_prior,
    resolve_priors,
)
from hiermod.plan.scales import (
    compact,
    data_bounds,
    intercept_columns,
    noise_scale,
    response_scale,
)
from hiermod.plan.special_terms import lower_special_terms
from hiermod.plan.truncation import truncation

__all__ = ["DENSE_THRESHOLD", "LowerOptions", "lower"]


@dataclass(frozen=True, slots=True)
class LowerOptions:
    """User choices that shape the IR (everything else comes from the design)."""

    link: str
    priors: Mapping[str, Prior | str] | None = None
    layout: str | Mapping[str, str] = "auto"
    centered: Centring | Mapping[str, Centring] = "auto"
    # Defaults chosen on other data, kept by ``Model.update(data=...)`` (hiermod.updating)
    kept_priors: Mapping[str, Prior] | None = None
    # IDs whose blocks are a joint even alone: shared with another response of an mvbind
    joint_ids: frozenset[str] = frozenset()


class _Lowering(PlanBuilder):
    """One lowering run: the plan so far (:class:`PlanBuilder`) and the rules for population terms,
    default priors and constant parameters."""

    def __init__(
        self, design: Design, family: Family, options: LowerOptions, moments: DataMoments | None
    ) -> None:
        self.family = family
        self.options = options
        self.link = family.check_link(options.link if options.link else None)
        super().__init__(design, moments)
        self.scale = response_scale(design, family, self.link, moments)
        self.noise = noise_scale(design, family, moments)
        response = design.schema.response
        # a categorical model's predictors, one per category after the reference (mub, muc)
        self.categories = (
            category_dpars(response.levels) if family.per_category and response else ()
        )
        self.shared_x: tuple[str, str] | None = None  # their shared X and its coef dim
        self.shared_prefixes = frozenset(f"{identifier(c)}_" for c in self.categories)
        self.used_layout_keys: set[str] = set()
        self.used_centered_keys: set[str] = set()

    # -- the pieces ----------------------------------------------------------------------------

    def population(self, fd: FormulaDesign, prefix: str) -> PopulationIR:
        intercept = None
        # An ordinal model's thresholds take the place of mu's intercept (self.thresholds); X keeps
        # the coding of a model with an intercept (f's reference level is left out).
        if fd.intercept and not (fd.dpar == "mu" and self.family.ordinal):
            name = self.namer.claim(f"{prefix}Intercept")
            intercept = ParamSpec(name, (), (), "intercept", fd.dpar, "1")
            self.slots.append(PriorSlot(name, (name,), self._intercept_prior(fd.dpar), "real"))
        coefficients = None
        x_name = None
        if fd.X.shape[1]:
            # The categories of a categorical model that copy mu's formula share its columns: one
            # X (dim coef) for mub ~ x and muc ~ x, each with its own coefficients.
            shared = fd.dpar in self.categories and fd.X is self.design.main.X
            if shared and self.shared_x is not None:
                coef_dim, x_name = self.shared_x
            else:
                data_prefix = "" if shared else prefix
                coef_dim = self.add_dim(f"{data_prefix}coef", fd.coef_labels)
                x_name = self.add_data(
                    f"{data_prefix}X",
                    fd.X,
                    ("obs", coef_dim),
                    "X",
                    "population-level design matrix",
                )
                self.shared_x = (coef_dim, x_name) if shared else None
            name = self.namer.claim(f"{prefix}b")
            source = " + ".join(dict.fromkeys(fd.coef_terms))
            coefficients = ParamSpec(
                name, (coef_dim,), (fd.X.shape[1],), "coefficients", fd.dpar, source
            )
            scale = self._slope_scale(fd.dpar)
            key = ("X", fd.dpar, -1)
            location = np.zeros(fd.X.shape[1])
            spread = self.prior_scales(2.5 * scale, key, fd.X, fd.coef_labels, name)
            if not fd.intercept:
                # Indicator columns that replace the intercept (y ~ 0 + f, sigma ~ 0 + g:c) are
                # intercepts, one per level: they get the intercept's location and scale.
                columns = intercept_columns(fd)
                center, width = self._intercept_location(fd.dpar)
                location[columns], spread[columns] = center, width
            self.slots.append(
                PriorSlot(
                    name,
                    (name,),
                    Prior("normal", compact(location), compact(spread)),
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
        if dpar == "mu" or dpar in self.categories:
            if self.scale.data_scaled:
                return Prior("student_t", 3.0, self.scale.center, 2.5 * self.scale.scale)
            return Prior("student_t", 3.0, 0.0, 2.5)
        if dpar == "sigma" and self.noise is not None:
            return Prior("normal", float(np.log(self.noise)), 1.5)
        if self.family.dpar(dpar).intercept_prior is not None:  # disc: brms's normal(0, 1)
            return parse_prior(str(self.family.dpar(dpar).intercept_prior))
        if self.family.dpar(dpar).link == "logit":  # a probability such as zi: brms's default
            return Prior("logistic", 0.0, 1.0)
        return Prior("normal", 0.0, 2.5)

    def _slope_scale(self, dpar: str) -> float:
        if dpar == "mu" and self.scale.data_scaled:
            return self.scale.scale
        # 2.5 * 0.4 = 1: normal(0, 1/sd(x)) on the log scale of a positive parameter
        return 1.0 if dpar == "mu" or dpar in self.categories else 0.4

    def _group_sd_scale(self, dpar: str) -> float:
        return self.scale.scale if dpar == "mu" and self.scale.data_scaled else 1.0

    def _information(self, fd: FormulaDesign, bd: BlockDesign) -> float | None:
        """The block's information ratio when ``centered="auto"`` can judge it: a block of the mean
        or of sigma of a family whose mean is linear on the data's scale, with the rows at hand."""
        y = self.design.y
        if not self.scale.data_scaled or y is None or self.moments is not None:
            return None
        y = self.family.on_data_scale(y)
        if fd.dpar == "mu":
            return information_ratio(y, fd, bd)
        if fd.dpar == "sigma":
            return sigma_information_ratio(y, self.design.formulas[0], bd)
        return None  # nu: no rule

    def predictor(self, fd: FormulaDesign) -> PredictorIR:
        prefix = "" if fd.dpar == "mu" else f"{identifier(fd.dpar)}_"
        population = self.population(fd, prefix)
        taken: set[str] = set()
        absorbed: set[str] = set()  # population parameters a centred block is centred on
        centrings = [
            centered_for(
                bd,
                self.options.centered,
                self.used_centered_keys,
                functools.partial(self._information, fd, bd),
            )
            for bd in fd.blocks
        ]
        # A population parameter centres one block: the centred block with the fewest levels
        # first (formula order among equals). The mean of a block centred on 0 trades off
        # against the intercept with posterior sd ~ sd / sqrt(levels), a ridge NUTS crosses
        # slowly; centring the block with the fewest levels on it removes the widest ridge.
        # InstEval, (1 | s) + (1 | d) + (1 | dept) all centred: 14 departments take the
        # Intercept, and its bulk ESS goes from 118 (R-hat 1.04, s centred on it) to 1251.
        means_of: dict[int, tuple[PopulationTerm | None, ...]] = {}
        centred = [position for position, (c, _) in enumerate(centrings) if c]
        for position in sorted(centred, key=lambda p: fd.blocks[p].grouping.n_cells):
            means_of[position] = block_means(fd.blocks[position], fd, population, absorbed)
        blocks = []
        scale = self._group_sd_scale(fd.dpar)
        for position, (bd, centring) in enumerate(zip(fd.blocks, centrings, strict=True)):
            means = means_of.get(position, ())
            layout = layout_for(bd, self.options.layout, self.used_layout_keys)
            blocks.append(
                lower_block(
                    self, bd, prefix, fd.dpar, taken, position, layout, centring, means, scale
                )
            )
        offset = None
        if fd.offset is not None:
            offset = self.add_data(
                f"{prefix}offset", fd.offset, ("obs",), "offset", "sum of offset() terms"
            )
        # a category's predictor is its log-odds against the reference category: no link
        link = self.link if fd.dpar == "mu" else "identity"
        link = link if fd.dpar in ("mu", *self.categories) else self.family.dpar(fd.dpar).link
        special = lower_special_terms(self, fd, prefix, self._slope_scale(fd.dpar), scale)
        return PredictorIR(
            fd.dpar, link, population, tuple(blocks), offset, fd.dpar, False, *special
        )

    def constant(self, dpar: str) -> ConstantIR:
        name = self.namer.claim(dpar)
        spec = self.family.dpar(dpar)
        if spec.prior is None:  # a noise sd: scaled by the data
            default = Prior("exponential", 1.0 / (self.noise or 1.0))
        else:
            default = parse_prior(spec.prior.format(**data_bounds(self.design)))
        self.slots.append(PriorSlot(name, (name,), default, spec.support))
        return ConstantIR(dpar, ParamSpec(name, (), (), "auxiliary", dpar, dpar))

    def thresholds(self, y_name: str, fd: FormulaDesign) -> ParamSpec:
        """The K - 1 increasing cutpoints of an ordinal response with K categories, named
        ``Intercept`` as brms's (dim ``<y>_threshold``, labels "1|2", "2|3", … as R's polr);
        each with brms's default prior student_t(3, 0, 2.5)."""
        response = self.design.schema.response
        levels = response.levels if response is not None else ()
        if not fd.intercept:
            raise FormulaError(
                "an ordinal model has thresholds in place of the intercept: its formula cannot "
                "remove the intercept",
                self.design.schema.formula.text,
                self.design.schema.formula.main.span,
                hint="drop the 0 + / - 1 from the formula",
            )
        labels = tuple(f"{a}|{b}" for a, b in itertools.pairwise(levels))
        dim = self.add_dim(f"{y_name}_threshold", labels)
        name = self.namer.claim("Intercept")
        self.slots.append(
            PriorSlot(name, (name,), Prior("student_t", 3.0, 0.0, 2.5), "real", labels)
        )
        return ParamSpec(name, (dim,), (len(labels),), "thresholds", "mu", "thresholds")


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
        if name not in (*family.auxiliary, *run.categories):
            span = dformula.response.span if dformula.response is not None else None
            allowed = ", ".join((*family.auxiliary, *run.categories)) or "none"
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
    y_name = "y" if family.columns_response else identifier(response)  # not cbind_a_b_c
    run.namer.taken.add(y_name)
    y_dims: tuple[str, ...] = ("obs",)
    if family.columns_response:  # a column per category: cbind(a, b, c)
        levels = schema.response.levels if schema.response is not None else ()
        y_dims += (run.add_dim(f"{y_name}_category", levels),)
    observed = run.add_data(
        f"{y_name}_data", _response_values(design), y_dims, "response", f"the response {response}"
    )

    # A categorical model has no mu: its categories' copies of mu's formula take its place.
    predictors = [run.predictor(fd) for fd in design.formulas[int(family.per_category) :]]
    predictors = join_blocks(run, predictors, run.options.joint_ids)  # (1 | p | g) in two formulas
    thresholds = run.thresholds(y_name, design.formulas[0]) if family.ordinal else None
    dpars: list[tuple[str, PredictorIR | ConstantIR | str]] = [
        (p.dpar, p) for p in predictors if p.dpar in ("mu", *run.categories)
    ]
    constants: list[ConstantIR] = []
    for dpar in family.auxiliary:
        found = next((p for p in predictors if p.dpar == dpar), None)
        if found is not None:
            dpars.append((dpar, found))
        elif family.dpar(dpar).fixed is not None:  # brms's disc: 1 unless modelled, no prior
            continue
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
    censored = censoring(run, design, family, y_name, _response_values(design))
    truncated = truncation(run, design, family, y_name, _response_values(design))
    if design.rate is not None and run.link != "log":
        raise FamilyError(
            "rate() multiplies the mean, an offset log(rate) on the log scale: it needs the log "
            f"link, not {run.link}",
            formula.text,
            formula.main.span,
            hint="drop link=, or write the exposure as a predictor",
        )
    _check_grouping_keys("layout", options.layout, run.used_layout_keys, design)
    _check_grouping_keys("centered", options.centered, run.used_centered_keys, design)

    # Defaults to 4 significant digits: the same prior for any purpose, and readable in the
    # priors table and the generated source.
    slots = [_default_for(slot, options.kept_priors or {}) for slot in run.slots]
    check_fixed_priors(family, formula.dpars, options.priors or {})
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
        thresholds=_attach(thresholds, resolved) if thresholds is not None else None,
        censored=censored.bounds,
        censoring=censored.coded,
        truncated=truncated,
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


def _check_grouping_keys(option: str, choice: object, used: set[str], design: Design) -> None:
    """A ``layout=`` / ``centered=`` dict names only groupings of the model; an unknown key is an
    :class:`~hiermod.errors.OptionError` with the closest grouping: ``{"Subjet": True}`` on
    ``(Days | Subject)`` says "did you mean 'Subject'?"."""
    if not isinstance(choice, Mapping):
        return
    unknown = sorted(set(choice) - used)
    if not unknown:
        return
    groupings = sorted(
        {":".join(bd.grouping.factors) for fd in design.formulas for bd in fd.blocks}
    )
    suggestion = closest(unknown[0], groupings)
    raise OptionError(
        f"{option} names groupings that are not in the model: {', '.join(map(repr, unknown))}"
        + (f"; did you mean {suggestion!r}?" if suggestion else "")
        + f" (the model's groupings: {', '.join(groupings) or 'none'})"
    )


def _default_for(slot: PriorSlot, kept: Mapping[str, Prior]) -> PriorSlot:
    """The slot with its default prior: the one kept from the model's first data when it still
    fits the slot (``b`` of 2 coefficients keeps ``normal(0, [48.9, 2.1])`` only while ``b`` has 2),
    else the default rule's, rounded."""
    prior = kept.get(slot.name)
    size = len(slot.labels) or 1
    if prior is not None and all(
        not isinstance(v, tuple) or len(v) in (1, size) for _, v in prior.params
    ):
        return replace(slot, default=prior, detail="kept by update() from the earlier data")
    return replace(slot, default=slot.default.rounded(4))


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
        chol, corr_unit, eta = b.chol, b.corr_unit, b.lkj_eta
        if b.corr is not None and (chol is not None or corr_unit is not None):
            lkj = resolved[b.corr.name].prior
            eta = float(dict(lkj.params)["eta"])  # type: ignore[arg-type]
            if chol is not None:
                chol = replace(chol, prior=lkj)
            else:  # LKJ(eta) of two terms: (1 + corr) / 2 ~ Beta(eta, eta)
                assert corr_unit is not None
                corr_unit = replace(corr_unit, prior=Prior("beta", eta, eta))
        blocks.append(
            replace(b, sd=_attach(b.sd, resolved), chol=chol, corr_unit=corr_unit, lkj_eta=eta)
        )
    monotonic = attach_monotonic(predictor.monotonic, resolved)
    gps = tuple(attach_gp(gp, resolved) for gp in predictor.gps)
    smooths = tuple(replace(s, sd=_attach(s.sd, resolved)) for s in predictor.smooths)
    return replace(
        predictor,
        population=population,
        blocks=tuple(blocks),
        monotonic=monotonic,
        gps=gps,
        smooths=smooths,
    )
