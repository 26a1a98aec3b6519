"""The prose of the generated source: what each section implements, how it pools, and why.

Kept apart from :mod:`hiermod.output.source` so the code emitters stay short. Every sentence is plain text; the
emitter escapes it (:func:`~hiermod.output.codegen.comment_text`) before it becomes a comment.
"""

from __future__ import annotations

from hiermod.data.families import get_family
from hiermod.formula.terms import ModelFormula
from hiermod.plan.ir import BlockIR, ConstantIR, ModelIR, PopulationIR, PopulationTerm, PredictorIR

__all__ = ["block_notes", "constant_note", "population_note", "predictor_note", "reduction_notes"]


def _cell(factors: tuple[str, ...]) -> str:
    return factors[0] if len(factors) == 1 else f"({', '.join(factors)}) cell"


def _effects(block: BlockIR) -> str:
    if block.size == 1:
        return "an intercept" if block.intercept else f"a slope of {block.term_labels[0]}"
    return f"{block.size} effects ({', '.join(block.term_labels)})"


def _pooling(block: BlockIR, siblings: tuple[BlockIR, ...]) -> str:
    """Nested, outer, additive (crossed) or on its own, from the other blocks of the predictor."""
    mine = block.block.factors
    others = [b.block.factors for b in siblings if b is not block]
    outer = [f for f in others if len(f) < len(mine) and mine[: len(f)] == f]
    inner = [f for f in others if len(f) > len(mine) and f[: len(mine)] == mine]
    crossed = [f for f in others if not set(f) & set(mine)]
    if outer:
        parent = ":".join(outer[-1])
        return (
            f"Nested pooling: each {':'.join(mine)} cell's effects are deviations from the "
            f"effects of its {parent} (lme4's (... | {'/'.join(mine)}))."
        )
    if inner:
        return f"Outer level of the nested grouping {'/'.join(inner[-1])}."
    if crossed:
        names = " and ".join(":".join(f) for f in crossed)
        return (
            f"Additive (crossed) pooling with {names}: a row's effect is the sum of its "
            f"{':'.join(mine)} effect and its {names} effect."
        )
    if len(mine) > 1:
        return (
            f"Each cell is pooled toward the population directly, not toward its "
            f"{' or '.join(mine)} (there is no block over {' or '.join(mine)} alone)."
        )
    return ""


def block_notes(block: BlockIR, predictor: PredictorIR) -> list[str]:
    """The comment paragraphs of a group block: term and pooling, layout, parameterisation."""
    factors = block.block.factors
    levels = f"{block.n_levels} levels" if len(factors) == 1 else f"{block.n_levels} cells"
    head = f"{block.block}: {_effects(block)} per {_cell(factors)}, partially pooled ({levels})."
    notes = [f"{head} {_pooling(block, predictor.blocks)}".strip()]
    dims = ", ".join(block.r.dims)
    if block.layout == "dense":
        notes.append(f"Dense layout, r has dims ({dims}): {block.layout_reason}.")
    elif block.layout == "observed":
        notes.append(f"Observed-cells layout, r has dims ({dims}): {block.layout_reason}.")
    if block.joint is not None:
        joint = block.joint
        notes.append(
            f"ID {joint.block_id}: one LKJ({block.lkj_eta:g}) correlation over the effects of "
            f"every block of ID {joint.block_id} ({', '.join(joint.term_labels)}), "
            f"non-centred, r_{joint.stem} = z @ chol.T; this block's effects are its columns."
        )
        return notes
    if block.two_terms:
        # LKJ(eta) for two terms is a density of their one correlation alone: written out, the
        # model needs no Cholesky factor (a third less to compile, half the gradient's work)
        eta = f"{block.lkj_eta:g}"
        kind = (
            f"Two correlated effects, LKJ({eta}) prior on their correlation, written out: "
            f"(1 + corr) / 2 ~ Beta({eta}, {eta})"
        )
        spread, product = "sd, corr", "correlated_pair(z, sd, corr)"
    elif block.correlated:
        kind = f"Correlated effects, LKJ({block.lkj_eta:g}) prior on their correlation"
        spread, product = "chol", "z @ chol.T"
    else:
        kind = "Independent effects (||)" if block.size > 1 else "One effect"
        spread, product = "sd", "z * sd"
    dist = "bivariate normal" if block.two_terms else "MvNormal" if block.correlated else "Normal"
    if block.beta is not None:
        labels = predictor.population.coef_labels

        def label(term: PopulationTerm | None) -> str:  # b[2] -> b[x2]
            if term is None or term.element is None:
                return str(term or 0)
            return f"{term.param}[{labels[term.element]}]"

        on = ", ".join(map(label, block.means))
        beta = block.beta.name
        form = (
            f"centred on the population, {beta} ~ {dist}(mean, {spread}) with mean ({on}), "
            f"r = {beta} - mean"
        )
    elif block.centered:
        form = f"centred, r ~ {dist}(0, {spread})"
    else:
        form = f"non-centred, r = {product}"
    notes.append(f"{kind}; {form}: {block.centered_reason}.")
    return notes


def population_note(population: PopulationIR) -> str:
    parts = []
    if population.intercept is not None:
        parts.append("Intercept")
    if population.coefficients is not None:
        parts.append(f"one coefficient per column of X ({', '.join(population.coef_labels)})")
    return f"Population-level terms: {' and '.join(parts)}."


def predictor_note(predictor: PredictorIR, formula: ModelFormula) -> str:
    if predictor.dpar == "mu":
        return f"mu: {formula.main}, {predictor.link} link."
    written = formula.dpars.get(predictor.dpar, formula.main)  # a category's: mu's, unless its own
    rhs = str(written).split("~", 1)[1].strip()
    if predictor.dpar.startswith("mu"):  # a categorical model's mub, muc, …
        return (
            f"{predictor.dpar} ~ {rhs}: the log-odds of its category against the reference "
            "category, per row."
        )
    scale = _DPAR_SCALES[predictor.link]
    return f"{predictor.dpar} ~ {rhs}: a {predictor.dpar} per row, {scale}."


_DPAR_SCALES = {
    "log": "on the log scale so that it stays positive",
    "logit": "on the logit scale so that it stays a probability",
    "identity": "linear on its own scale",
}


def constant_note(constant: ConstantIR, family: str) -> str:
    what = get_family(family).dpar(constant.dpar).meaning
    return f"{constant.dpar}: {what}, one for all rows (no {constant.dpar} formula)."


def reduction_notes(ir: ModelIR) -> list[str]:
    """How ``Model.pymc`` evaluates the same likelihood faster, when it does."""
    if ir.suffstats is not None:
        how, reason = "through per-cell sufficient statistics", ir.suffstats.reason
    elif ir.collapsed is not None:
        how, reason = "with rows of identical predictors merged", ir.collapsed.reason
    elif ir.merged is not None:
        how, reason = "with identical rows merged", ir.merged.reason
    else:
        return []
    return [f"(hiermod's own model evaluates this likelihood {how}, the same posterior: {reason}.)"]
