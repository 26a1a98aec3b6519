"""The coefficients of a fit, draw by draw: population ones by ``fixef`` label, and each level's.

:func:`population_draws` gives every population coefficient's draws under the label ``Model.fixef``
prints (``Intercept``, ``Days``, ``f[b]``, ``x1:x2``; a distributional parameter's with its prefix,
``sigma_x``) and the family's scalar parameters (``sigma``): the names hypotheses use
(:mod:`hiermod.interpret.hypothesis`). :func:`level_draws` adds each level's group effects, lme4's
``coef()``: ``Days`` of subject 308 is ``b[Days] + r_Subject[308, Days]`` in every draw;
:func:`coef_tables` summarises them as ``ranef`` lays its tables out.

The draws may be a posterior or a prior group (dims (chain, draw, …)): the IR says which variable
holds what, so nothing here guesses from names.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from hiermod.data.design import Schema
from hiermod.errors import OptionError
from hiermod.inference.intervals import DEFAULT_PROB, check_prob, summarise
from hiermod.inference.summaries import level_index
from hiermod.plan.ir import BlockIR, ModelIR, PredictorIR

__all__ = [
    "blocks_over",
    "coef_tables",
    "coefficient_variables",
    "groupings",
    "level_draws",
    "population_draws",
]


def _flat(draws: xr.Dataset, name: str) -> np.ndarray:
    """A variable's draws with (chain, draw) merged into one leading axis."""
    values = np.asarray(draws[name].values, dtype=float)
    return values.reshape(-1, *values.shape[2:])


def _prefix(predictor: PredictorIR) -> str:
    return "" if predictor.dpar == "mu" else f"{predictor.dpar}_"


def population_draws(ir: ModelIR, draws: xr.Dataset) -> dict[str, np.ndarray]:
    """Draws (n,) of every population coefficient by label, as ``fixef`` names them (other
    distributional parameters' with their prefix, ``sigma_x``), and of the scalar family parameters
    (``sigma``). ``draws`` is a posterior or a prior group, dims (chain, draw, …); variables it
    lacks are left out."""
    out: dict[str, np.ndarray] = {}
    for predictor in ir.predictors:
        pop, prefix = predictor.population, _prefix(predictor)
        if pop.intercept is not None and pop.intercept.name in draws:
            out[f"{prefix}Intercept"] = _flat(draws, pop.intercept.name).reshape(-1)
        if pop.coefficients is not None and pop.coefficients.name in draws:
            matrix = _flat(draws, pop.coefficients.name)
            matrix = matrix.reshape(matrix.shape[0], -1)
            for j, label in enumerate(pop.coef_labels):
                out[f"{prefix}{label}"] = matrix[:, j]
    for constant in ir.constants:
        if constant.param.shape == () and constant.param.name in draws:
            out.setdefault(constant.param.name, _flat(draws, constant.param.name))
    return out


def coefficient_variables(ir: ModelIR) -> dict[str, str]:
    """The model variable behind each coefficient label of :func:`population_draws`:
    ``{"Intercept": "Intercept", "Days": "b", "sigma_x": "sigma_b", "sigma": "sigma"}``."""
    out: dict[str, str] = {}
    for predictor in ir.predictors:
        pop, prefix = predictor.population, _prefix(predictor)
        if pop.intercept is not None:
            out[f"{prefix}Intercept"] = pop.intercept.name
        if pop.coefficients is not None:
            out.update({f"{prefix}{label}": pop.coefficients.name for label in pop.coef_labels})
    for constant in ir.constants:
        if constant.param.shape == ():
            out.setdefault(constant.param.name, constant.param.name)
    return out


def blocks_over(ir: ModelIR, grouping: str) -> list[tuple[PredictorIR, BlockIR]]:
    return [(p, b) for p in ir.predictors for b in p.blocks if str(b.block.grouping) == grouping]


def groupings(ir: ModelIR, dpar: str | None = None) -> list[str]:
    """The groupings with group effects (``"Subject"``, ``"group:color"``), of ``dpar`` if given."""
    found = [
        str(b.block.grouping)
        for p in ir.predictors
        if dpar is None or p.dpar == dpar
        for b in p.blocks
    ]
    return list(dict.fromkeys(found))


def level_draws(
    ir: ModelIR, schema: Schema, draws: xr.Dataset, grouping: str
) -> tuple[pd.Index, dict[str, np.ndarray]]:
    """Each level's coefficients, lme4's ``coef()``: draws × levels of population + group effect.

    Example: ``(Days | Subject)`` gives ``Days`` = ``b[Days] + r_Subject[:, Days]`` per subject; a
    population term without a group effect (``f[b]``) is the same for every level, and a group term
    without a population one is the group effect alone. The index is ``ranef``'s.
    """
    blocks = blocks_over(ir, grouping)
    if not blocks:
        have = ", ".join(map(repr, groupings(ir))) or "none"
        raise OptionError(f"the model has no group effects over {grouping!r}; it has: {have}")
    index = level_index(schema, blocks[0][1])
    out = {
        label: np.repeat(values[:, None], len(index), axis=1)
        for label, values in population_draws(ir, draws).items()
    }
    for predictor, block in blocks:
        effects = _flat(draws, block.r.name)
        effects = effects.reshape(effects.shape[0], block.n_levels, block.size)
        for j, term in enumerate(block.term_labels):
            label = f"{_prefix(predictor)}{term}"
            out[label] = out[label] + effects[..., j] if label in out else effects[..., j]
    return index, out


def coef_tables(
    ir: ModelIR, schema: Schema, draws: xr.Dataset, *, prob: float = DEFAULT_PROB, dpar: str = "mu"
) -> dict[str, pd.DataFrame]:
    """Per grouping, each level's coefficients of ``dpar`` (lme4's ``coef()``) summarised.

    Laid out as ``ranef``: index the levels, columns ``(stat, term)`` with stats ``estimate``
    (posterior mean), ``sd`` and the equal-tailed ``prob`` interval (``lower_95``, ``upper_95``;
    :mod:`hiermod.inference.intervals`); terms are the population terms in ``fixef`` order, then
    group terms without a population term.
    """
    predictor = ir.predictor(dpar)
    if predictor is None:
        have = ", ".join(p.dpar for p in ir.predictors)
        raise OptionError(f"the model has no formula for {dpar!r}; it has: {have}")
    prob = check_prob(prob)
    prefix = _prefix(predictor)
    pop = predictor.population
    own = (["Intercept"] if pop.intercept is not None else []) + (
        list(pop.coef_labels) if pop.coefficients is not None else []
    )
    out: dict[str, pd.DataFrame] = {}
    for grouping in groupings(ir, dpar):
        index, values = level_draws(ir, schema, draws, grouping)
        terms = list(own)
        for other, block in blocks_over(ir, grouping):
            if other is predictor:
                terms += [t for t in block.term_labels if t not in terms]
        stats = {term: _summary(values[f"{prefix}{term}"], prob) for term in terms}
        names = list(stats[terms[0]].columns)
        columns = pd.MultiIndex.from_tuples(
            [(stat, term) for stat in names for term in terms], names=["stat", "term"]
        )
        data = np.column_stack([stats[term][stat] for stat in names for term in terms])
        out[grouping] = pd.DataFrame(data, index=index, columns=columns)
    return out


def _summary(values: np.ndarray, prob: float) -> pd.DataFrame:
    """``estimate``, ``sd`` and the ``prob`` interval of each column of ``values`` (draws × k)."""
    table = summarise(values, prob)
    sd = values.std(axis=0, ddof=1) if values.shape[0] > 1 else np.full(values.shape[1], np.nan)
    table.insert(1, "sd", sd)
    return table
