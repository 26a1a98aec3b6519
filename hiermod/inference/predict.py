"""Predictions derived from the PyMC model itself: the row-wise model of the rows to predict.

Nothing here restates a family, a link or a linear predictor. For the rows to predict:

1. **Encode** them with the training schema (:func:`hiermod.data.binder.apply_schema`: same dummy
   columns, centring constants, spline bases and level codes). A level of a grouping factor the fit
   never saw, and a cell of an ``observed`` grouping interaction it never saw, is an error
   (``new_levels="error"``, the default), or with ``new_levels="population"`` *appended* to its
   level table after the training levels, so every row gets a valid code
   (:mod:`hiermod.inference.levels`, which also says how levels are matched: ``"308"`` is 308).
2. **Plan** the row-wise model of those rows: the training IR with the same parameters and priors,
   ``obs`` = the new rows, the level dims extended, the new arrays as data, every predictor stored
   (``store=True``: a ``pm.Deterministic`` over ``obs`` on its natural scale, named by
   ``PredictorIR.name``) and no ``weights()`` (they scale a row's log-likelihood, not its predictive
   distribution). The PyMC model comes from the ``rows_model(ir, design)`` hook the caller passes
   (:mod:`hiermod.model` builds it); this module never builds one itself.
3. **Splice** the posterior: each group block's per-level free variable (``z_*``, or ``beta_*`` /
   ``r_*`` when centred; see :func:`level_parameter`) takes the posterior draws for the training
   levels and, for the new levels, the model's own prior given that draw's hyperparameters — the
   population distribution, one draw per new level and posterior draw, shared by all its rows.
   A grouping left out by ``groups=`` has its effects ``r`` replaced by zeros instead.
4. **Evaluate** (:func:`hiermod.inference.posterior_eval.evaluate`) in one compiled function vectorised over every chain and draw
   (:func:`pymc.sampling.forward.vectorize_over_posterior`): the variables conditioned on the
   posterior become constants, the new levels' part stays a random variable drawn with a batch
   shape. ``kind="mean"`` is PyMC's expected value of the response
   (:func:`pymc.distributions.moments.means.mean`: ``n·p`` for the binomial, ``exp(mu + sigma²/2)``
   for the lognormal, …); ``kind="response"`` is the response variable itself, PyMC's own draws;
   ``kind="linear"`` is the stored ``mu`` of the same plan with the identity link, i.e. the
   linear predictor itself (not ``link(mean)`` recomputed, which loses digits where ``p`` is near
   0 or 1); :func:`distributional_parameters` are the stored deterministics (``se()`` and
   ``trials()`` come from the data).

The function is compiled with ``mode="FAST_COMPILE"``: it runs once, on whole (chain, draw, obs)
arrays, so each op is one vectorised NumPy call and a Numba or C compilation (seconds) would cost
far more than it saves.

``new_levels="error"`` (the default) raises :class:`~hiermod.errors.UnseenLevelError` instead of
drawing new levels. An unseen level of a categorical *predictor* is always an error (there is no
population to draw a contrast from). In the ``dense`` layout a new combination of known levels is
not a new level: its parameter exists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from pymc.distributions.moments.means import mean as expected_value

from hiermod.arguments import check_choice
from hiermod.data.binder import apply_schema
from hiermod.data.design import BlockDesign, Design, Schema
from hiermod.data.families import get_family
from hiermod.errors import DataError, OptionError
from hiermod.formula.terms import Term
from hiermod.inference.belongs import check_fit
from hiermod.inference.calls import check_prediction
from hiermod.inference.fit_groups import read_group
from hiermod.inference.levels import (
    NewLevels,
    by_codes,
    by_filled,
    check_levels,
    extended_schema,
    level_coords,
)
from hiermod.inference.ordinal import categorical_output, category_dim, ordinal_output
from hiermod.inference.posterior_eval import broadcast_params, evaluate, level_parameter
from hiermod.inference.truncated_mean import truncated_mean
from hiermod.plan.gp import gp_values
from hiermod.plan.ir import BlockIR, ConstantIR, ModelIR, ParamSpec, PredictorIR
from hiermod.plan.truncation import new_row_bounds

__all__ = [
    "KINDS",
    "Groups",
    "RowsModel",
    "add_predictions",
    "distributional_parameters",
    "encode_rows",
    "groupings",
    "left_out_of",
    "level_parameter",
    "predict",
    "rows_ir",
]

Kind = Literal["mean", "response", "linear", "probs"]
KINDS: tuple[Kind, ...] = ("mean", "response", "linear", "probs")
Groups = bool | str | Sequence[str]
"""Which groupings' effects a prediction includes: all (``True``), none (``False``) or those named."""
RowsModel = Callable[[ModelIR, Design], pm.Model]
"""The hook that builds the row-wise PyMC model of an IR and the design of its rows."""

# -- encoding the rows (the policy for new levels: hiermod.inference.levels) ------------------------


def groupings(ir: ModelIR) -> tuple[str, ...]:
    """The groupings of the model's blocks as written, in order: ``("Subject",)``, ``("g", "g:h")``."""
    return tuple(dict.fromkeys(str(b.block.grouping) for p in ir.predictors for b in p.blocks))


def _left_out(ir: ModelIR, groups: Groups) -> frozenset[str]:
    return left_out_of(groupings(ir), groups)


def left_out_of(every: tuple[str, ...], groups: Groups) -> frozenset[str]:
    """Of the groupings ``every``, those whose effects a prediction leaves out: none for
    ``groups=True``, every one for ``False``; for names, the others (``groups="Subject"`` keeps
    Subject's blocks only)."""
    if isinstance(groups, bool):
        return frozenset() if groups else frozenset(every)
    named = [groups] if isinstance(groups, str) else list(groups)
    unknown = [g for g in named if g not in every]
    if unknown:
        raise OptionError(
            f"groups names {', '.join(map(repr, unknown))}, not a grouping of the model "
            f"(its groupings: {', '.join(every) or 'none'})"
        )
    return frozenset(every) - set(named)


def _filled(data: pd.DataFrame, schema: Schema, left_out: frozenset[str]) -> pd.DataFrame:
    """``data`` with each absent column that only left-out groupings read set to its first training
    level: the encoding needs a valid code, and those effects are zeros (see ``evaluate``).
    E.g. ``(Days | Subject)`` with ``groups=False``: rows without ``Subject`` get level 308."""
    read: set[str] = set()  # columns read by anything but a left-out grouping
    left: set[str] = set()  # the factors of left-out groupings
    for formula in schema.formula.formulas:
        pieces = [*formula.terms, *(Term((o,)) for o in formula.offsets)]
        pieces += [t for block in formula.blocks for t in block.terms]
        read.update(name for term in pieces for name in term.names())
        for block in formula.blocks:
            (left if str(block.grouping) in left_out else read).update(block.factors)
    fill = {f: schema.factor_levels[f][0] for f in sorted(left - read) if f not in data.columns}
    data = data.assign(**fill) if fill else data
    return by_filled(data, schema, left_out)


def encode_rows(
    ir: ModelIR,
    training: Design,
    data: pd.DataFrame | None,
    new_levels: NewLevels,
    streamed: bool,
    left_out: frozenset[str] = frozenset(),
) -> tuple[Design, np.ndarray]:
    """The design of the rows to predict, with valid level codes, and their ``obs`` coordinate."""
    check_choice("new_levels", new_levels, get_args(NewLevels))
    if data is None:
        if streamed:
            raise DataError(
                "a streamed model keeps no training rows to predict",
                hint="pass the rows to predict: m.predict(idata, data=df)",
            )
        return training, np.asarray(ir.coords["obs"])
    data = _filled(data, training.schema, left_out)
    design = apply_schema(training.schema, data, new_levels="allow")
    obs = np.asarray(data.index[design.rows])
    frame = data.iloc[design.rows] if design.rows.shape[0] != len(data) else data
    frame = frame.reset_index(drop=True)
    if new_levels == "error":
        check_levels(ir, design, frame, left_out)
    schema = extended_schema(training.schema, design, frame)
    return apply_schema(schema, data), obs


# -- the plan of the rows' model --------------------------------------------------------------------


def _flat_index(
    block: BlockIR, bd: BlockDesign, coords: dict[str, tuple[object, ...]]
) -> np.ndarray:
    """Each row's position among the block's levels, as the training index was made."""
    if block.layout == "single":
        return bd.codes[0]
    if block.layout == "observed":
        return bd.cell
    sizes = tuple(len(coords[d]) for d in block.level_dims)
    return np.ravel_multi_index(tuple(bd.codes), sizes).astype(np.int64)


def _resized_block(block: BlockIR, coords: dict[str, tuple[object, ...]]) -> BlockIR:
    """The block with its per-level variables' shapes read from (extended) ``coords``."""

    def resized(spec: ParamSpec) -> ParamSpec:
        return replace(spec, shape=tuple(len(coords[d]) for d in spec.dims))

    return replace(
        block,
        z=resized(block.z) if block.z is not None else None,
        beta=resized(block.beta) if block.beta is not None else None,
        r=resized(block.r),
    )


def _trials(design: Design) -> np.ndarray:
    if design.trials is None:
        raise DataError(
            "binomial predictions need the number of trials: the new data lack the trials() column",
            hint=f"add the column used in {design.schema.formula.main.response}",
        )
    return design.trials


def rows_ir(
    ir: ModelIR, design: Design, *, need_trials: bool = True, linear: bool = False
) -> ModelIR:
    """The row-wise plan of ``design``'s rows: ``ir``'s parameters and priors, the new rows as
    ``obs``, level dims extended to the design's level tables, every predictor stored, no weights.

    ``need_trials=False`` lets rows without the ``trials()`` column through (the distributional
    parameters do not depend on it; a placeholder of one trial stands in). ``linear=True`` stores
    the mean's predictor without its inverse link: ``mu`` is then the linear predictor, e.g.
    ``log(rate)`` of a Poisson (its likelihood is never evaluated, only that deterministic).
    """
    n = design.n
    coords = {**ir.coords, "obs": tuple(range(n))}
    values: dict[str, np.ndarray] = {}
    predictors: dict[str, PredictorIR] = {}
    for predictor in ir.predictors:
        fd = design.dpar(predictor.dpar)
        assert fd is not None
        if predictor.population.X is not None:
            values[predictor.population.X] = np.asfortranarray(fd.X)
        for block, bd in zip(predictor.blocks, fd.blocks, strict=True):
            coords.update(level_coords(block, bd))
            values[block.index] = _flat_index(block, bd, coords)
            if block.by_dim is not None:  # gr(g, by = f): each level's level of f
                values[block.by_index] = by_codes(block, bd, len(coords[block.by_dim]))
            if block.Z is not None:
                values[block.Z] = np.asfortranarray(bd.Z) if block.term_dim else bd.Z[:, 0]
        for smooth, sd in zip(predictor.smooths, fd.smooths, strict=True):  # s(x)'s Zs
            values[smooth.Z] = np.asfortranarray(sd.Z)
        if predictor.offset is not None:
            assert fd.offset is not None
            values[predictor.offset] = fd.offset
        values |= gp_values(predictor.gps, fd)  # gp(): the basis at the new rows
        for term, md in zip(predictor.monotonic, fd.monotonic, strict=True):
            values[term.codes] = md.codes  # mo(x): the new rows' categories 0..D
            if term.covariate is not None and md.covariate is not None:  # z of mo(x):z
                values[term.covariate] = md.covariate
        blocks = tuple(_resized_block(b, coords) for b in predictor.blocks)
        link = "identity" if linear and predictor.dpar == "mu" else predictor.link
        predictors[predictor.dpar] = replace(predictor, link=link, blocks=blocks, store=True)
    lik = ir.likelihood
    if lik.trials is not None:
        if design.trials is None and not need_trials:
            values[lik.trials] = np.ones(n, dtype=np.int64)
        else:
            values[lik.trials] = _trials(design)
    for _, source in lik.dpars:
        if isinstance(source, str):  # se(): known standard errors
            if design.se is None:
                raise DataError("the new data need the se() column of the formula to predict")
            values[source] = design.se
    # Any value in the support will do: the observed values of the new rows are never read.
    values[lik.observed] = np.repeat(ir.data_values[lik.observed][:1], n, axis=0)  # (n,) or (n, K)
    dpars = tuple((name, predictors.get(name, source)) for name, source in lik.dpars)
    dropped = {lik.weights, *(lik.censored or ()), *(lik.censoring or ()), *(lik.truncated or ())}
    return replace(
        ir,
        coords=coords,
        # New rows are predicted uncensored (brms's posterior_predict ignores cens() too).
        data=tuple(spec for spec in ir.data if spec.name not in dropped),
        predictors=tuple(predictors.values()),
        # trunc(): the draws are truncated after the vectorisation (posterior_eval.evaluate)
        likelihood=replace(
            lik, dpars=dpars, weights=None, censored=None, censoring=None, truncated=None
        ),
        data_values=values,
        suffstats=None,
        collapsed=None,
        merged=None,
    )


# -- evaluation and results ----------------------------------------------------------------------


def _coords(idata: xr.DataTree, obs: np.ndarray) -> dict[str, np.ndarray]:
    posterior = read_group(idata)
    return {"chain": posterior["chain"].values, "draw": posterior["draw"].values, "obs": obs}


def distributional_parameters(
    ir: ModelIR,
    training: Design,
    idata: xr.DataTree,
    data: pd.DataFrame | None = None,
    *,
    rows_model: RowsModel,
    streamed: bool = False,
    new_levels: NewLevels = "error",
    random_seed: int | None = None,
    groups: Groups = True,
) -> dict[str, xr.DataArray]:
    """Every distributional parameter per draw and row, on its natural scale: ``mu``, ``sigma``, …

    ``mu`` is the inverse link of the mean's linear predictor (a probability, a rate; for the
    lognormal the mean of ``log y``). Constants (``sigma`` without a formula) are broadcast to rows;
    a known ``se()`` comes from the data. ``ir`` and ``training`` are the model's plan and design
    (``streamed``: the design keeps no training rows, so ``data`` is needed); ``rows_model`` builds
    the PyMC model of a plan (see the module docstring); ``groups`` as for :func:`predict`.
    Example: per-row noise sd of a ``sigma ~ (1 | g)`` model, through
    :func:`hiermod.model.distributional_parameters`::

        hiermod.model.distributional_parameters(m, idata)["sigma"].mean(("chain", "draw"))
    """
    check_prediction(idata, "mean", ("mean",), random_seed, None, groups)
    check_fit(ir, idata)  # another model's fit says so before its rows' levels are checked
    left_out = _left_out(ir, groups)
    design, obs = encode_rows(ir, training, data, new_levels, streamed, left_out)
    new = rows_ir(ir, design, need_trials=False)
    model = rows_model(new, design)
    values = evaluate(ir, new, model, _dpar_variables(new, model), idata, random_seed, left_out)
    coords = _coords(idata, obs)
    return {
        name: xr.DataArray(value, dims=("chain", "draw", "obs"), coords=coords, name=name)
        for (name, _), value in zip(new.likelihood.dpars, values, strict=True)
    }


def _expectation(new: ModelIR, model: pm.Model, response: Any) -> Any:
    """E[y] per row: the family's own expectation where it has one (a hurdle, a distribution of
    :mod:`hiermod.output.distributions`), else PyMC's ``mean()`` of the response's distribution."""
    family = get_family(new.likelihood.family)
    if family.mean is None:
        return expected_value(response)
    values = dict(zip(family.dpars, _dpar_variables(new, model), strict=True))
    if new.likelihood.trials is not None:
        values["trials"] = model[new.likelihood.trials]
    return family.mean(values)


def _dpar_variables(new: ModelIR, model: pm.Model) -> list[Any]:
    """The model's variable of each distributional parameter, in the family's order: a stored
    predictor, a constant's free variable, or known standard errors (``se()``)."""
    names = []
    for _, source in new.likelihood.dpars:
        if isinstance(source, PredictorIR):
            names.append(source.name)
        elif isinstance(source, ConstantIR):
            names.append(source.param.name)
        else:
            names.append(source)
    return [model[n] for n in names]


def predict(
    ir: ModelIR,
    training: Design,
    idata: xr.DataTree,
    data: pd.DataFrame | None = None,
    *,
    rows_model: RowsModel,
    streamed: bool = False,
    kind: Kind = "mean",
    new_levels: NewLevels = "error",
    random_seed: int | None = None,
    groups: Groups = True,
    add_to: xr.DataTree | None = None,
) -> xr.DataArray:
    """Expected responses (``kind="mean"``), new responses (``"response"``) or the mean's linear
    predictor on the link scale (``"linear"``: ``log(rate)``, ``logit(p)``): dims (chain, draw, obs).

    ``ir`` and ``training`` are the model's plan and design; ``data=None`` predicts the rows the
    model was fitted to (a ``streamed`` model keeps none); ``rows_model`` builds the PyMC model of a
    plan. ``groups`` says whose group-level effects count: ``True`` every grouping's, ``False``
    none (the population-level terms alone, brms's ``re_formula = NA``), or the groupings named
    (``"Subject"``, ``["g", "g:h"]``); a column only left-out groupings read may be absent from
    ``data``. ``add_to`` (a fit) gets the result in its ``predictions`` group
    (:func:`add_predictions`). See the module docstring for how, and for new levels.

    Example:
        >>> p = m.predict(idata, data=new_df)              # doctest: +SKIP
        >>> p.mean(("chain", "draw"))                      # doctest: +SKIP
    """
    check_prediction(idata, kind, KINDS, random_seed, add_to, groups)
    check_fit(ir, idata)  # another model's fit says so before its rows' levels are checked
    left_out = _left_out(ir, groups)
    design, obs = encode_rows(ir, training, data, new_levels, streamed, left_out)
    linear = kind == "linear"
    new = rows_ir(ir, design, need_trials=not linear, linear=linear)
    model = rows_model(new, design)
    response = model[new.likelihood.name]
    family = get_family(ir.likelihood.family)
    categories = training.schema.response.levels if training.schema.response else ()
    if kind == "probs" and not (family.has_categories or family.per_category):
        raise OptionError(
            f"kind='probs' is for the ordinal and categorical families, not {family.name}"
        )
    if family.per_category:
        log_odds = [model[p.name] for p in new.predictors if p.dpar.startswith("mu")]
        output = categorical_output(response, log_odds, kind, family.categorical)
    elif linear:
        output = model[next(p.name for p in new.predictors if p.dpar == "mu")]
    elif family.ordinal:
        output = ordinal_output(response, categories, kind)
    elif kind == "mean":
        output = _expectation(new, model, response)
    else:
        output = response
    bounds = new_row_bounds(ir.likelihood.truncated, design)  # trunc(): draws within bounds
    if kind == "mean" and bounds is not None:  # E[y | lb <= y <= ub] from the parameters' draws
        params = [*broadcast_params(response), output]
        *values, centre = evaluate(ir, new, model, params, idata, random_seed, left_out)
        value = truncated_mean(response, values, centre, *bounds)
    else:
        draws = kind == "response"  # an exact GP at new x: drawn, else its conditional mean
        (value,) = evaluate(ir, new, model, [output], idata, random_seed, left_out, bounds, draws)
    coords = _coords(idata, obs)
    dims: tuple[str, ...] = ("chain", "draw", "obs")
    if category_dim(family, kind):  # named and labelled after the categories
        dims += (f"{ir.likelihood.name}_category",)
        coords[dims[-1]] = np.asarray([str(c) for c in categories])
    elif family.categorical:  # drawn codes -> the categories
        value = np.asarray(categories)[value.astype(np.int64)]
    result = xr.DataArray(
        value,
        dims=dims,
        coords=coords,
        name=ir.likelihood.name,
        attrs={"kind": kind, "family": ir.likelihood.family},
    )
    if add_to is not None:
        add_predictions(add_to, result)
    return result


def add_predictions(fit: xr.DataTree, values: xr.DataArray) -> None:
    """Put ``values`` (from :func:`predict`) in the ``predictions`` group of ``fit``, as Bambi does.

    The variable is named by its kind: the response's name for ``kind="response"`` (ArviZ's
    meaning of the group: predictive draws for new rows), ``<response>_mean`` and
    ``<response>_linear`` for the others. Predictions of the same rows (the same ``obs``) join the
    group; of other rows, they replace it. E.g. ``Reaction`` and ``Reaction_mean`` side by side.
    """
    kind = values.attrs.get("kind", "mean")
    name = str(values.name) if kind == "response" else f"{values.name}_{kind}"
    added = xr.Dataset({name: values.rename(name)})
    if "predictions" in fit.children:
        group = read_group(fit, "predictions")
        if "obs" in group.coords and np.array_equal(group["obs"].values, values["obs"].values):
            added = group.drop_vars(name, errors="ignore").merge(added)
    fit["predictions"] = added
