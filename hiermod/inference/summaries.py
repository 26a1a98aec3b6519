"""lme4-style summaries of a fit, from the posterior draws: ``fixef``, ``ranef``, ``varcorr``, ``corr``.

Every table is a pandas DataFrame with the columns of :func:`stat_names`: posterior ``mean`` and
``sd``, the equal-tailed interval holding ``prob`` of the draws (default 0.95: ``lower_95``,
``upper_95``; the rule is :mod:`hiermod.inference.intervals`', the interpretation tables' too), and
``r_hat`` / ``ess_bulk`` where they are defined (at least four draws). The IR says which posterior
variable holds what, so nothing here guesses from names.

* :func:`fixef` — population-level effects, indexed by coefficient label (``Intercept``, ``Days``,
  ``x1:x2``, ``f[b]``); ``dpar="sigma"`` gives those of a distributional parameter (log scale).
* :func:`varcorr` — group-level standard deviations indexed by (group, term), e.g.
  (``Subject``, ``Intercept``), plus (``Residual``, ``sigma``) for a constant sigma; terms of a
  distributional parameter's blocks are prefixed (``sigma_Intercept``). The posterior-mean
  correlations sit alongside in ``corr[<term>]`` columns (lower triangle, as lme4 prints them);
  :func:`correlations` has their full summaries.
* :func:`ranef` — per grouping, a DataFrame of level × term posterior summaries (columns are
  ``(stat, term)``: ``m.ranef(idata)["Subject"]["mean"]`` is the level × term table of means).
* :func:`family_parameters` — the family's constant parameters other than sigma (``nu``, ``alpha``).

``Model.summary`` puts them together (:mod:`hiermod.inference.report`).
"""

from __future__ import annotations

import warnings
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from hiermod.data.design import Schema
from hiermod.data.families import get_family
from hiermod.errors import OptionError
from hiermod.inference.belongs import check_fit
from hiermod.inference.fit_groups import read_group
from hiermod.inference.intervals import DEFAULT_PROB, check_prob, interval_names, quantiles
from hiermod.plan.ir import BlockIR, ConstantIR, ModelIR, PredictorIR

__all__ = [
    "correlations",
    "draw_stats",
    "family_parameters",
    "fixef",
    "gp_parameters",
    "level_index",
    "ranef",
    "stat_names",
    "varcorr",
]


def stat_names(prob: float = DEFAULT_PROB) -> tuple[str, ...]:
    """The columns of every summary table: ``prob=0.95`` gives mean, sd, lower_95, upper_95,
    r_hat, ess_bulk."""
    return ("mean", "sd", *interval_names(prob), "r_hat", "ess_bulk")


def _draws(idata: xr.DataTree, name: str) -> np.ndarray:
    return np.asarray(read_group(idata)[name].values, dtype=float)


def _stats(
    values: np.ndarray, labels: list[Any], prob: float, convergence: bool = True
) -> pd.DataFrame:
    """Summaries of ``values`` (chain, draw, m) per element; one row per label."""
    chains, draws, m = values.shape
    flat = values.reshape(chains * draws, m)
    lower, upper = interval_names(prob)
    low, high = quantiles(flat, prob)
    table: dict[str, Any] = {
        "mean": flat.mean(axis=0),
        "sd": flat.std(axis=0, ddof=1) if flat.shape[0] > 1 else np.full(m, np.nan),
        lower: low,
        upper: high,
    }
    if convergence:
        rhat = ess = np.full(m, np.nan)
        if draws >= 4:
            ds = xr.Dataset({"v": (("chain", "draw", "element"), values)})
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                rhat = np.asarray(az.rhat(ds)["v"].values, dtype=float)
                ess = np.asarray(az.ess(ds, method="bulk")["v"].values, dtype=float)
        table["r_hat"], table["ess_bulk"] = rhat, ess
    index = (
        pd.MultiIndex.from_tuples(labels, names=["group", "term"])
        if labels and isinstance(labels[0], tuple)
        else pd.Index(labels)
    )
    return pd.DataFrame(table, index=index)


def draw_stats(values: np.ndarray, labels: list[Any], prob: float) -> pd.DataFrame:
    """The summary columns (mean, sd, interval, r_hat, ess_bulk) of draws (chain, draw, …),
    one row per label of the flattened trailing dims."""
    return _stats(_as_matrix(values), labels, check_prob(prob))


def _as_matrix(values: np.ndarray) -> np.ndarray:
    """(chain, draw, …) → (chain, draw, m)."""
    return values.reshape(*values.shape[:2], -1)


def _predictor(ir: ModelIR, dpar: str) -> PredictorIR:
    found = ir.predictor(dpar)
    if found is None:
        have = ", ".join(p.dpar for p in ir.predictors)
        raise OptionError(f"the model has no formula for {dpar!r}; it has: {have}")
    return found


def fixef(
    ir: ModelIR, idata: xr.DataTree, dpar: str = "mu", *, prob: float = DEFAULT_PROB
) -> pd.DataFrame:
    """Population-level effects of ``dpar`` (``"mu"``: the mean), indexed by coefficient label.

    A categorical (multinomial, Dirichlet) model's ``"mu"`` is every category's, labelled as
    brms's: ``mub_Intercept``, ``mub_x``, ``muc_Intercept``, …"""
    prob = check_prob(prob)
    if dpar == "mu" and get_family(ir.likelihood.family).per_category:
        names = [p.dpar for p in ir.predictors if p.dpar.startswith("mu")]
        tables = [fixef(ir, idata, name, prob=prob) for name in names]
        for table, name in zip(tables, names, strict=True):
            table.index = pd.Index([f"{name}_{c}" for c in table.index], name="coef")
        return pd.concat(tables)
    pop = _predictor(ir, dpar).population
    check_fit(ir, idata)
    parts: list[np.ndarray] = []
    labels: list[str] = []
    if pop.intercept is not None:
        parts.append(_as_matrix(_draws(idata, pop.intercept.name)))
        labels.append("Intercept")
    thresholds = ir.likelihood.thresholds
    if dpar == "mu" and thresholds is not None:  # an ordinal model's, as brms: Intercept[1|2], …
        parts.append(_as_matrix(_draws(idata, thresholds.name)))
        labels += [f"Intercept[{label}]" for label in ir.coords[thresholds.dims[0]]]
    if pop.coefficients is not None:
        parts.append(_as_matrix(_draws(idata, pop.coefficients.name)))
        labels += list(pop.coef_labels)
    for term in _predictor(ir, dpar).monotonic:  # brms's bsp_mox, its row "mox": here "mo(x)"
        parts.append(_as_matrix(_draws(idata, term.bsp.name)))
        labels.append(term.term)
    if not parts:
        return pd.DataFrame(columns=list(stat_names(prob)))
    table = _stats(np.concatenate(parts, axis=2), labels, prob)
    table.index.name = "coef"
    return table


def _blocks(ir: ModelIR) -> list[tuple[PredictorIR, BlockIR]]:
    return [(p, b) for p in ir.predictors for b in p.blocks]


def _term_label(predictor: PredictorIR, term: str) -> str:
    return term if predictor.dpar == "mu" else f"{predictor.dpar}_{term}"


def _pair_terms(predictor: PredictorIR, block: BlockIR) -> list[str]:
    """The terms ``block.corr`` pairs: its own, or the union of a block ID's (``sigma_Intercept``)."""
    if block.joint is not None:
        return list(block.joint.term_labels)
    return [_term_label(predictor, t) for t in block.term_labels]


def _grouping(block: BlockIR) -> str:
    return str(block.block.grouping)


def _by_labels(ir: ModelIR, block: BlockIR, labels: list[Any]) -> list[Any]:
    """The labels of a block's sds (or pairs) in the order of its draws: with ``gr(g, by = f)``
    one set per level of f, brms's ``Intercept:fa`` (the term, ``:``, f and the level)."""
    if block.by_dim is None:
        return labels
    by = block.block.by
    out: list[Any] = []
    for level in ir.coords[block.by_dim]:
        tag = f":{by}{level}"
        out += [
            tuple(t + tag for t in label) if isinstance(label, tuple) else label + tag
            for label in labels
        ]
    return out


def varcorr(ir: ModelIR, idata: xr.DataTree, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
    """Group-level sds indexed by (group, term), the residual sigma, and mean correlations alongside."""
    prob = check_prob(prob)
    check_fit(ir, idata)
    parts: list[pd.DataFrame] = []
    corr_columns: dict[str, dict[tuple[str, str], float]] = {}
    for predictor, block in _blocks(ir):
        group = _grouping(block)
        terms = [_term_label(predictor, t) for t in block.term_labels]
        labels = [(group, t) for t in _by_labels(ir, block, terms)]
        parts.append(_stats(_as_matrix(_draws(idata, block.sd.name)), labels, prob))
        if block.corr is not None and block.corr.name in read_group(idata):
            # lme4's layout: the lower triangle, row (group, later term), column corr[earlier]
            means = _as_matrix(_draws(idata, block.corr.name)).mean(axis=(0, 1))
            paired = _pair_terms(predictor, block)
            pairs = _by_labels(ir, block, [(paired[i], paired[j]) for i, j in block.corr_pairs])
            for (first, second), mean in zip(pairs, means, strict=True):
                corr_columns.setdefault(f"corr[{first}]", {})[(group, second)] = float(mean)
    for constant in ir.constants:
        if constant.dpar == "sigma":
            values = _as_matrix(_draws(idata, constant.param.name))
            parts.append(_stats(values, [("Residual", constant.param.name)], prob))
    if not parts:
        return pd.DataFrame(columns=list(stat_names(prob)))
    table = pd.concat(parts)
    for column, by_row in corr_columns.items():
        table[column] = [by_row.get(key, np.nan) for key in table.index]
    return table


def correlations(ir: ModelIR, idata: xr.DataTree, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
    """Group-level correlations indexed by (group, term, term), each pair once."""
    prob = check_prob(prob)
    check_fit(ir, idata)
    parts: list[pd.DataFrame] = []
    for predictor, block in _blocks(ir):
        if block.corr is None or block.corr.name not in read_group(idata):
            continue
        group = _grouping(block)
        terms = _pair_terms(predictor, block)
        pairs = _by_labels(ir, block, [(terms[i], terms[j]) for i, j in block.corr_pairs])
        values = _as_matrix(_draws(idata, block.corr.name))
        table = _stats(values, [str(k) for k in range(len(pairs))], prob)
        table.index = pd.MultiIndex.from_tuples(
            [(group, *pair) for pair in pairs], names=["group", "term1", "term2"]
        )
        parts.append(table)
    if not parts:
        return pd.DataFrame(
            columns=list(stat_names(prob)),
            index=pd.MultiIndex.from_tuples([], names=["group", "term1", "term2"]),
        )
    return pd.concat(parts)


def level_index(schema: Schema, block: BlockIR) -> pd.Index:
    """The block's levels in the order of its effects: level values, or (g1, g2) tuples."""
    grouping = schema.groupings[block.block.factors]
    factors = list(grouping.factors)
    index: pd.Index
    if block.layout == "single":
        index = pd.Index(list(grouping.levels[0]), name=factors[0])
    elif block.layout == "dense":
        index = pd.MultiIndex.from_product([list(lv) for lv in grouping.levels], names=factors)
    else:
        arrays = [
            [grouping.levels[j][code] for code in grouping.cells[:, j].tolist()]
            for j in range(len(factors))
        ]
        index = pd.MultiIndex.from_arrays(arrays, names=factors)
    return index


def ranef(
    ir: ModelIR, schema: Schema, idata: xr.DataTree, *, prob: float = DEFAULT_PROB
) -> dict[str, pd.DataFrame]:
    """Per grouping (``"Subject"``, ``"group:color"``), level × term summaries of the group effects.

    Columns are ``(stat, term)`` with stats mean, sd, lower_95, upper_95 (``prob=0.95``), so
    ``ranef(...)["Subject"]["mean"]`` is the level × term table of posterior means. Blocks of a
    distributional parameter over the same grouping add columns ``sigma_<term>``. ``schema`` gives
    the level labels of each grouping.
    """
    prob = check_prob(prob)
    names = stat_names(prob)
    check_fit(ir, idata)
    columns: dict[str, dict[tuple[str, str], np.ndarray]] = {}
    indexes: dict[str, pd.Index] = {}
    for predictor, block in _blocks(ir):
        values = _draws(idata, block.r.name)
        chains, draws = values.shape[:2]
        effects = values.reshape(chains, draws, block.n_levels, block.size)
        key = _grouping(block)
        indexes.setdefault(key, level_index(schema, block))
        table = columns.setdefault(key, {})
        for j, term in enumerate(block.term_labels):
            stats = _stats(effects[..., j], list(range(block.n_levels)), prob, convergence=False)
            for stat in stats.columns:
                table[(str(stat), _term_label(predictor, term))] = stats[stat].to_numpy()
    out: dict[str, pd.DataFrame] = {}
    for key, table in columns.items():
        order = sorted(table, key=lambda c: names.index(c[0]))  # stable: terms keep their order
        frame = pd.DataFrame({c: table[c] for c in order}, index=indexes[key])
        frame.columns = pd.MultiIndex.from_tuples(order, names=["stat", "term"])
        out[key] = frame
    return out


def family_parameters(
    ir: ModelIR, idata: xr.DataTree, *, prob: float = DEFAULT_PROB
) -> pd.DataFrame:
    """The family's constant parameters other than sigma (student_t's ``nu``), one row each."""
    prob = check_prob(prob)
    check_fit(ir, idata)
    others = [c for c in ir.constants if isinstance(c, ConstantIR) and c.dpar != "sigma"]
    if not others:
        return pd.DataFrame(columns=list(stat_names(prob)))
    values = np.concatenate([_as_matrix(_draws(idata, c.param.name)) for c in others], axis=2)
    return _stats(values, [c.param.name for c in others], prob)


def gp_parameters(ir: ModelIR, idata: xr.DataTree, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
    """Each gp() term's sdgp and lscale (one row per level of ``by``), indexed by (term, parameter):
    ``("gp(times)", "sdgp_gptimes")`` (brms's "Gaussian Process Hyperparameters")."""
    prob = check_prob(prob)
    check_fit(ir, idata)
    parts = []
    for predictor in ir.predictors:
        for gp in predictor.gps:
            term = gp.term if predictor.dpar == "mu" else f"{predictor.dpar}: {gp.term}"
            for spec in (gp.sdgp, gp.lscale):
                levels = ir.coords[spec.dims[0]] if spec.dims else ()
                names = [f"{spec.name}[{level}]" for level in levels] or [spec.name]
                values = _as_matrix(_draws(idata, spec.name))
                parts.append(_stats(values, [(term, name) for name in names], prob))
    if not parts:
        return pd.DataFrame(columns=list(stat_names(prob)))
    table = pd.concat(parts)
    table.index = table.index.set_names(["term", "parameter"])
    return table


def smooth_sds(ir: ModelIR, idata: xr.DataTree, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
    """The sd of each smooth's penalised coefficients (brms's ``sds_…``), one row each."""
    prob = check_prob(prob)
    check_fit(ir, idata)
    names = [smooth.sd.name for predictor in ir.predictors for smooth in predictor.smooths]
    if not names:
        return pd.DataFrame(columns=list(stat_names(prob)))
    values = np.concatenate([_as_matrix(_draws(idata, name)) for name in names], axis=2)
    return _stats(values, names, prob)
