"""What each variable of the graph is, in words, and which group block it belongs to (from the IR).

PyMC's names are short and technical (``sd_Subject``, ``Z_Subject``, ``chol_Subject`` drawn as
``_LKJCholeskyCov``); the graph shows what each one *is*, read from the plan
(:class:`~hiermod.plan.ir.ModelIR`), with the PyMC name and prior beneath. For
``Reaction ~ Days + (Days | Subject)``::

    Intercept      Intercept                                   Intercept ~ student_t(3, 298.5, 140.8)
    b              Days slope                                  b ~ normal(0, 48.89)
    sd_Subject     sd of the intercept and Days slope by Subject
    chol_Subject   Cholesky factor of the covariance by Subject   chol_Subject ~ lkj(2)
    beta_Subject   intercept and Days slope per Subject
    Z_Subject      Days column of (1 + Days | Subject)

and every part of a block (its sd, Cholesky factor, correlations, offsets, level coefficients and
effects, and the data it reads: its index and effect columns) carries the block's cluster, labelled
with the block's term (``(1 + Days | Subject)``; ``sigma ~ (1 | Subject)`` for a block of sigma).
"""

from __future__ import annotations

from dataclasses import dataclass

from hiermod.data.families import get_family
from hiermod.errors import HiermodError
from hiermod.plan.ir import BlockIR, DataSpec, ModelIR, ParamSpec, PredictorIR
from hiermod.plan.overview import parameters_table

__all__ = ["BlockCluster", "Label", "graph_labels", "inner_dims"]

_MANY = 3  # list up to this many effects or slopes by name; more are counted


@dataclass(frozen=True, slots=True)
class Label:
    """A variable's words: ``title`` (what it is), ``detail`` (its PyMC name and prior) and the
    key of its block's cluster (None outside every block)."""

    title: str
    detail: str
    cluster: str | None = None


@dataclass(frozen=True, slots=True)
class BlockCluster:
    """One group block's cluster: its key (``block0``) and label (its formula term)."""

    key: str
    label: str


def _effect(label: str) -> str:
    """``Intercept`` → ``intercept``, ``Days`` → ``Days slope``, ``f[b]`` → ``f[b] effect``."""
    if label == "Intercept":
        return "intercept"
    return f"{label} effect" if "[" in label else f"{label} slope"


def _and(words: list[str]) -> str:
    """``a``; ``a and b``; ``a, b and c``."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _effects(labels: tuple[str, ...]) -> str:
    """The effects of a block in words: ``intercept and Days slope``; ``5 effects`` past three."""
    if len(labels) > _MANY:
        return f"{len(labels)} effects"
    return _and([_effect(label) for label in labels])


def _slopes(labels: tuple[str, ...]) -> str:
    """Population slopes: ``Days slope``; ``slopes of Days and x``; ``12 slopes``."""
    if len(labels) == 1:
        return _effect(labels[0])
    if len(labels) > _MANY:
        return f"{len(labels)} slopes"
    return f"slopes of {_and(list(labels))}"


def _of(dpar: str) -> str:
    return "" if dpar == "mu" else f" of {dpar}"


def _block_title(spec: ParamSpec, block: BlockIR) -> str:
    effects = _effects(block.term_labels)
    grouping = ":".join(block.block.factors)
    plural = "s" if block.size > 1 else ""
    return {
        "group_sd": f"sd{plural} of the {effects} by {grouping}",
        "group_cholesky": f"Cholesky factor of the covariance by {grouping}",
        "group_corr": f"correlation{'s' if block.size > 2 else ''} of the {effects} by {grouping}",
        "group_corr_unit": f"(1 + correlation) / 2 of the {effects} by {grouping}",
        "group_offsets": f"standard-normal offsets per {grouping}",
        "group_coefficients": f"{effects} per {grouping}",
        "group_effects": f"{effects} deviation{plural} per {grouping}",
    }.get(spec.role, spec.name)


def _data_title(spec: DataSpec, ir: ModelIR) -> str:
    readers = [p for p in ir.predictors if spec.name == p.population.X]
    if readers:  # one X read by several predictors (a categorical's muv, muw) is no one's
        of = _of(readers[0].dpar) if len(readers) == 1 else ""
        return f"design matrix: {_list(readers[0].population.coef_labels)}{of}"
    for predictor in ir.predictors:
        for block in predictor.blocks:
            if spec.name == block.Z:
                return f"effect column{'s' if block.size > 1 else ''}: {_list(block.term_labels)}"
    return spec.description


def _list(labels: tuple[str, ...]) -> str:
    """Column names: ``Intercept, x1, x2``; past three ``Intercept, x1, x2, … (12)``."""
    if len(labels) <= _MANY:
        return ", ".join(labels)
    return f"{', '.join(labels[:_MANY])}, … ({len(labels)})"


def _cluster_label(dpar: str, block: BlockIR) -> str:
    return str(block.block) if dpar == "mu" else f"{dpar} ~ {block.block}"


def _constant_title(ir: ModelIR, dpar: str) -> str:
    """``sigma`` → ``residual sd`` (the family's word for it), else the dpar's own meaning."""
    try:
        family = get_family(ir.likelihood.family)
    except HiermodError:  # a family hiermod does not know: the name itself will do
        return dpar
    meaning = next((d.meaning for d in family.auxiliary_params if d.name == dpar), "")
    return meaning.removeprefix("the ") or dpar


def _detail(spec: ParamSpec, prior: str) -> str:
    """``b ~ normal(0, 48.89)``; ``beta_Subject ~ mvnormal(mean, chol)``; ``r_Subject`` alone."""
    prior = prior.removeprefix("centred: ")
    if not spec.free or not prior:
        return spec.name
    return f"{spec.name} ~ {prior}"


def _population(predictor: PredictorIR, priors: dict[str, str]) -> dict[str, Label]:
    out: dict[str, Label] = {}
    pop, of = predictor.population, _of(predictor.dpar)
    if pop.intercept is not None:
        out[pop.intercept.name] = Label(
            f"Intercept{of}", _detail(pop.intercept, priors.get(pop.intercept.name, ""))
        )
    if pop.coefficients is not None:
        spec = pop.coefficients
        out[spec.name] = Label(
            _slopes(pop.coef_labels) + of, _detail(spec, priors.get(spec.name, ""))
        )
    return out


_GP_WORDS = ("marginal sd of", "length-scale of", "basis weights of")


def graph_labels(ir: ModelIR) -> tuple[dict[str, Label], tuple[BlockCluster, ...]]:
    """Each named variable's :class:`Label` and the clusters of the group blocks, in model order.

    A data container read by two blocks (``Subject_idx`` for ``(1 | Subject)`` and
    ``sigma ~ (1 | Subject)``) belongs to neither cluster.
    """
    table = parameters_table(ir)
    priors = {str(name): str(prior) for name, prior in table["prior"].items()}
    labels: dict[str, Label] = {}
    clusters: list[BlockCluster] = []
    for predictor in ir.predictors:
        labels.update(_population(predictor, priors))
        for block in predictor.blocks:
            key = f"block{len(clusters)}"
            clusters.append(BlockCluster(key, _cluster_label(predictor.dpar, block)))
            parts = (block.sd, block.chol, block.corr_unit, block.corr, block.z, block.beta)
            for spec in (*parts, block.r):
                if spec is not None:
                    title = _block_title(spec, block)
                    labels[spec.name] = Label(title, _detail(spec, priors.get(spec.name, "")), key)
        for gp in predictor.gps:  # gp(): "marginal sd of gp(times)", "sdgp_gptimes ~ …"
            for spec, what in zip((gp.sdgp, gp.lscale, gp.zgp), _GP_WORDS, strict=True):
                labels[spec.name] = Label(
                    f"{what} {gp.term}", _detail(spec, priors.get(spec.name, ""))
                )
        if predictor.store:
            labels[predictor.name] = Label(f"{predictor.dpar} of each row", predictor.name)
    for constant in ir.constants:
        spec = constant.param
        title = _constant_title(ir, constant.dpar)
        labels[spec.name] = Label(title, _detail(spec, priors.get(spec.name, "")))
    if ir.likelihood.thresholds is not None:
        spec = ir.likelihood.thresholds
        labels[spec.name] = Label(
            "thresholds (cutpoints)", _detail(spec, priors.get(spec.name, ""))
        )
    reduced = next((r.data for r in (ir.suffstats, ir.collapsed, ir.merged) if r), ())
    for data in (*ir.data, *reduced):
        labels.setdefault(data.name, Label(_data_title(data, ir), data.name))
    lik = ir.likelihood
    labels[lik.name] = Label(f"{lik.name} (observed)", f"{lik.name} ~ {lik.family}")
    return labels, tuple(clusters)


def inner_dims(ir: ModelIR) -> frozenset[str]:
    """The dims that index *within* a variable rather than over rows or levels: the population
    coefficients (``coef``), a block's effects (``Subject_term``) and their pairs
    (``Subject_term_pair``). The graph says them in the variable's label (``b[3]``) instead of
    drawing a plate for each: plates are for rows and group levels."""
    dims: set[str] = set()
    for spec in ir.parameters():
        if spec.role in (
            "coefficients",
            "group_corr",
            "group_corr_unit",
            "group_cholesky",
            "thresholds",
        ):
            dims.update(spec.dims)
    for predictor in ir.predictors:
        dims.update(b.term_dim for b in predictor.blocks if b.term_dim is not None)
    if ir.suffstats is not None:
        dims.add(ir.suffstats.feature_dim)
    return frozenset(dims)
