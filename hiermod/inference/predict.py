"""Predictions derived from the PyMC model itself: the row-wise model of the rows to predict.

Nothing here restates a family, a link or a linear predictor. For the rows to predict:

1. **Encode** them with the training schema (:func:`hiermod.data.binder.apply_schema`: same dummy
   columns, centring constants, spline bases and level codes). A level of a grouping factor the fit
   never saw, and a cell of an ``observed`` grouping interaction it never saw, is *appended* to its
   level table after the training levels, so every row gets a valid code.
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
4. **Evaluate** in one compiled function vectorised over every chain and draw
   (:func:`pymc.sampling.forward.vectorize_over_posterior`): the variables conditioned on the
   posterior become constants, the new levels' part stays a random variable drawn with a batch
   shape. ``kind="mean"`` is PyMC's expected value of the response
   (:func:`pymc.distributions.moments.means.mean`: ``n·p`` for the binomial, ``exp(mu + sigma²/2)``
   for the lognormal, …); ``kind="response"`` is the response variable itself, PyMC's own draws;
   :func:`distributional_parameters` are the stored deterministics (``se()`` and ``trials()`` come
   from the data).

The function is compiled with ``mode="FAST_COMPILE"``: it runs once, on whole (chain, draw, obs)
arrays, so each op is one vectorised NumPy call and a Numba or C compilation (seconds) would cost
far more than it saves.

``new_levels="error"`` raises :class:`~hiermod.errors.DataError` instead of drawing new levels. An
unseen level of a categorical *predictor* is always an error (there is no population to draw a
contrast from). In the ``dense`` layout a new combination of known levels is not a new level: its
parameter exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from pymc.distributions.distribution import SymbolicRandomVariable
from pymc.distributions.moments.means import mean as expected_value
from pymc.pytensorf import compile as compile_pymc
from pymc.sampling.forward import vectorize_over_posterior
from pytensor.compile.sharedvalue import shared
from pytensor.graph.replace import graph_replace
from pytensor.tensor import get_vector_length
from pytensor.tensor.random.op import RandomVariable
from pytensor.tensor.type_other import NoneTypeT

from hiermod.data.binder import apply_schema
from hiermod.data.design import BlockDesign, Design, GroupingSchema, Level, Schema
from hiermod.errors import DataError
from hiermod.inference.fit_groups import read_group
from hiermod.plan.ir import BlockIR, ConstantIR, ModelIR, ParamSpec, PredictorIR

__all__ = ["RowsModel", "distributional_parameters", "level_parameter", "predict", "rows_ir"]

Kind = Literal["mean", "response"]
NewLevels = Literal["population", "error"]
Tensor = Any  # a PyTensor variable
RowsModel = Callable[[ModelIR, Design], pm.Model]
"""The hook that builds the row-wise PyMC model of an IR and the design of its rows."""

# -- encoding the rows, and the policy for new levels -----------------------------------------------


def _unseen_rows(block: BlockIR, bd: BlockDesign) -> np.ndarray:
    """The rows whose level (cell) has no parameter in the fit: a mask."""
    if block.layout == "single":
        return bd.codes[0] < 0
    if block.layout == "observed":
        return bd.cell < 0
    unseen: np.ndarray = (np.stack(bd.codes) < 0).any(axis=0)  # dense: a new level of a factor
    return unseen


def _unseen_labels(bd: BlockDesign, unseen: np.ndarray, frame: pd.DataFrame) -> list[str]:
    """The raw level text of each ``unseen`` row: ``"g07"`` or ``"g07:red"`` for an interaction."""
    parts = [frame[f].to_numpy()[unseen].astype(str) for f in bd.grouping.factors]
    return [":".join(values) for values in zip(*parts, strict=True)]


def _unseen_error(block: BlockIR, labels: list[str]) -> DataError:
    values = list(dict.fromkeys(labels))
    shown = ", ".join(repr(v) for v in values[:5]) + (
        f" and {len(values) - 5} more" if len(values) > 5 else ""
    )
    return DataError(
        f"the grouping of {block.block} has levels the fit never saw: {shown} ({len(labels)} rows)",
        hint="pass new_levels='population' to draw their effects from the population distribution",
    )


def _check_levels(ir: ModelIR, design: Design, frame: pd.DataFrame) -> None:
    """``new_levels="error"``: raise for the first block with a row whose level is unseen."""
    for predictor in ir.predictors:
        fd = design.dpar(predictor.dpar)
        assert fd is not None
        for block, bd in zip(predictor.blocks, fd.blocks, strict=True):
            unseen = _unseen_rows(block, bd)
            if unseen.any():
                raise _unseen_error(block, _unseen_labels(bd, unseen, frame))


def _extended_schema(schema: Schema, design: Design, frame: pd.DataFrame) -> Schema:
    """The schema with every unseen level of a grouping factor, and every unseen cell of a grouping,
    appended after the training ones (in order of first appearance in the rows)."""
    levels: dict[str, tuple[Level, ...]] = dict(schema.factor_levels)
    codes: dict[str, np.ndarray] = {}  # each grouping factor's codes in the extended table
    cells: dict[tuple[str, ...], np.ndarray] = {}  # each grouping's rows' cells (-1: unseen)
    for bd in (bd for fd in design.formulas for bd in fd.blocks):
        cells.setdefault(bd.grouping.factors, bd.cell)
        for factor, code in zip(bd.grouping.factors, bd.codes, strict=True):
            if factor in codes:
                continue
            unseen = code < 0
            if unseen.any():
                ids, new = pd.factorize(frame[factor].to_numpy()[unseen])
                code = code.copy()
                code[unseen] = len(levels[factor]) + ids
                levels[factor] = (*levels[factor], *np.asarray(new, dtype=object).tolist())
            codes[factor] = code
    groupings = dict(schema.groupings)
    for factors, cell in cells.items():
        grouping = schema.groupings[factors]
        table = grouping.cells
        unseen = cell < 0
        if unseen.any():
            rows = pd.MultiIndex.from_arrays([codes[f][unseen] for f in factors])
            added = np.asarray(rows.unique().tolist(), dtype=np.int64).reshape(-1, len(factors))
            table = np.vstack([table, added])
        groupings[factors] = GroupingSchema(factors, tuple(levels[f] for f in factors), table)
    return replace(schema, factor_levels=levels, groupings=groupings)


def _encode(
    ir: ModelIR,
    training: Design,
    data: pd.DataFrame | None,
    new_levels: NewLevels,
    streamed: bool,
) -> tuple[Design, np.ndarray]:
    """The design of the rows to predict, with valid level codes, and their ``obs`` coordinate."""
    if new_levels not in ("population", "error"):
        raise ValueError(f"new_levels must be 'population' or 'error', not {new_levels!r}")
    if data is None:
        if streamed:
            raise DataError(
                "a streamed model keeps no training rows to predict",
                hint="pass the rows to predict: m.predict(idata, data=df)",
            )
        return training, np.asarray(ir.coords["obs"])
    design = apply_schema(training.schema, data, new_levels="allow")
    obs = np.asarray(data.index[design.rows])
    frame = data.iloc[design.rows] if design.rows.shape[0] != len(data) else data
    frame = frame.reset_index(drop=True)
    if new_levels == "error":
        _check_levels(ir, design, frame)
    schema = _extended_schema(training.schema, design, frame)
    return apply_schema(schema, data), obs


# -- the plan of the rows' model --------------------------------------------------------------------


def level_parameter(block: BlockIR) -> ParamSpec:
    """The block's free variable with one entry per level: ``z`` (non-centred), ``beta`` (centred on
    population parameters) or ``r`` itself (centred, no population parameter)."""
    return next(p for p in (block.z, block.beta, block.r) if p is not None and p.free)


def _level_coords(block: BlockIR, bd: BlockDesign) -> dict[str, tuple[object, ...]]:
    """The labels of the block's level dims from the design's (possibly extended) level tables."""
    grouping = bd.grouping
    if block.layout == "observed":
        return {block.level_dims[0]: grouping.cell_labels()}
    return {
        dim: tuple(str(v) for v in levels)
        for dim, levels in zip(block.level_dims, grouping.levels, strict=True)
    }


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


def rows_ir(ir: ModelIR, design: Design, *, need_trials: bool = True) -> ModelIR:
    """The row-wise plan of ``design``'s rows: ``ir``'s parameters and priors, the new rows as
    ``obs``, level dims extended to the design's level tables, every predictor stored, no weights.

    ``need_trials=False`` lets rows without the ``trials()`` column through (the distributional
    parameters do not depend on it; a placeholder of one trial stands in).
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
            coords.update(_level_coords(block, bd))
            values[block.index] = _flat_index(block, bd, coords)
            if block.Z is not None:
                values[block.Z] = np.asfortranarray(bd.Z) if block.term_dim else bd.Z[:, 0]
        if predictor.offset is not None:
            assert fd.offset is not None
            values[predictor.offset] = fd.offset
        blocks = tuple(_resized_block(b, coords) for b in predictor.blocks)
        predictors[predictor.dpar] = replace(predictor, blocks=blocks, store=True)
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
    values[lik.observed] = np.full(n, ir.data_values[lik.observed][0])
    dpars = tuple((name, predictors.get(name, source)) for name, source in lik.dpars)
    return replace(
        ir,
        coords=coords,
        data=tuple(spec for spec in ir.data if spec.name != lik.weights),
        predictors=tuple(predictors.values()),
        likelihood=replace(lik, dpars=dpars, weights=None),
        data_values=values,
        suffstats=None,
        collapsed=None,
    )


# -- evaluation over the posterior ------------------------------------------------------------------


def _posterior_draws(posterior: xr.Dataset, name: str) -> xr.DataArray:
    if name not in posterior:
        raise DataError(
            f"the posterior has no variable {name!r}: this DataTree is not a fit of this model",
            hint="use the model the fit was made with (hm.Model.from_idata rebuilds it)",
        )
    return posterior[name]


def _evaluate(
    ir: ModelIR,
    new: ModelIR,
    model: pm.Model,
    outputs: list[Tensor],
    idata: xr.DataTree,
    random_seed: int | None,
) -> list[np.ndarray]:
    """``outputs`` of ``model`` for every posterior draw, in one vectorised, compiled call.

    A level variable whose dims were extended is spliced: its training levels are a placeholder
    that takes the posterior draws, its new levels stay the model's random variable (drawn from
    the prior given the posterior hyperparameters, with the (chain, draw) batch shape).
    """
    posterior = read_group(idata)
    old = {p.name: p for p in ir.parameters()}
    spliced: dict[Tensor, Tensor] = {}
    holes: list[Tensor] = []
    for block in (b for p in new.predictors for b in p.blocks):
        spec = level_parameter(block)
        trained = old[spec.name].shape
        if spec.shape == trained:
            continue
        draws = _posterior_draws(posterior, spec.name)
        if draws.shape[2:] != trained:
            raise DataError(f"the posterior draws of {spec.name!r} do not fit this model's levels")
        rv = model[spec.name]
        hole = pt.tensor(name=spec.name, shape=trained, dtype=rv.dtype)
        new_levels = _rebuilt(rv, _broadcast_params(rv))  # see _broadcast_params
        spliced[rv] = pt.set_subtensor(new_levels[tuple(slice(0, k) for k in trained)], hole)
        holes.append(hole)
    free = [rv for rv in model.free_RVs if rv not in spliced]
    for rv in free:
        _posterior_draws(posterior, rv.name)
    if spliced:
        outputs = list(graph_replace(outputs, spliced, strict=False))
    # A response to draw is vectorised through its parameters and rebuilt on them afterwards:
    # PyTensor cannot vectorise every random variable itself (PyMC's Weibull is a symbolic one).
    # (A free variable among the outputs, e.g. a constant sigma, takes its posterior draws.)
    parts = [
        _broadcast_params(out) if _is_random(out) and out not in free else None for out in outputs
    ]
    flat = [t for out, params in zip(outputs, parts, strict=True) for t in (params or [out])]
    vectorized = iter(vectorize_over_posterior(flat, posterior, [*free, *holes]))
    rebuilt = [
        next(vectorized) if params is None else _rebuilt(out, [next(vectorized) for _ in params])
        for out, params in zip(outputs, parts, strict=True)
    ]
    function = compile_pymc([], rebuilt, random_seed=random_seed, mode="FAST_COMPILE")
    shape = (posterior.sizes["chain"], posterior.sizes["draw"], len(new.coords["obs"]))
    values = [np.asarray(v, dtype=float) for v in function()]
    return [v if v.shape == shape else np.broadcast_to(v.reshape(_batch(v)), shape) for v in values]


def _is_random(variable: Tensor) -> bool:
    op = variable.owner.op if variable.owner is not None else None
    return isinstance(op, RandomVariable | SymbolicRandomVariable)


def _broadcast_params(rv: Tensor) -> list[Tensor]:
    """The parameters of the random variable ``rv``, each broadcast to ``rv``'s batch shape.

    Vectorised over the draws, each then has the (chain, draw) dims in front of the rows', so a
    variable rebuilt on them without a size (:func:`_rebuilt`) draws one value per chain, draw and
    row. E.g. a Weibull over 5 rows with a constant shape: ``shape`` () becomes (5,), then
    (chain, draw, 5), as ``beta`` (5,) does. With the size kept instead, PyTensor would extend it
    by the batch dims of the *first* parameter only: a Binomial whose ``n`` comes from the data, or
    a centred ``Normal(0, sd)``, would lose the (chain, draw) dims.
    """
    node = rv.owner
    op = node.op
    size = op.size_param(node)
    if size is None or isinstance(size.type, NoneTypeT):  # the parameters' own batch shape
        batch = list(pt.broadcast_shape(*op.dist_params(node)))
    else:  # not rv.shape: that graph holds rv itself, which is what cannot be vectorised
        batch = [size[i] for i in range(get_vector_length(size))]
    return [
        pt.broadcast_to(p, (*batch, *(p.shape[i] for i in range(p.ndim - core, p.ndim))))
        for p, core in zip(op.dist_params(node), op.ndims_params, strict=True)
    ]


def _rebuilt(rv: Tensor, params: list[Tensor]) -> Tensor:
    """``rv``'s distribution on new ``params``, without a size: its shape follows them."""
    op = rv.owner.op
    rng = shared(np.random.default_rng())  # seeded by compile_pymc(random_seed=...)
    if isinstance(op, SymbolicRandomVariable):
        out: Tensor = op.rebuild_rv(*params, rng=rng)
    else:
        out = op.make_node(rng, None, *params).default_output()
    out.name = rv.name
    return out


def _batch(value: np.ndarray) -> tuple[int, ...]:
    """``value``'s shape with length-1 axes where a draw-constant or row-constant value lacks one."""
    if value.ndim == 2:  # (chain, draw): a constant parameter
        return (*value.shape, 1)
    return (1, 1, *value.shape)  # (obs,) from the data, or a scalar


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
    new_levels: NewLevels = "population",
    random_seed: int | None = None,
) -> dict[str, xr.DataArray]:
    """Every distributional parameter per draw and row, on its natural scale: ``mu``, ``sigma``, …

    ``mu`` is the inverse link of the mean's linear predictor (a probability, a rate; for the
    lognormal the mean of ``log y``). Constants (``sigma`` without a formula) are broadcast to rows;
    a known ``se()`` comes from the data. ``ir`` and ``training`` are the model's plan and design
    (``streamed``: the design keeps no training rows, so ``data`` is needed); ``rows_model`` builds
    the PyMC model of a plan (see the module docstring). Example: per-row noise sd of a
    ``sigma ~ (1 | g)`` model, through :func:`hiermod.model.distributional_parameters`::

        hiermod.model.distributional_parameters(m, idata)["sigma"].mean(("chain", "draw"))
    """
    design, obs = _encode(ir, training, data, new_levels, streamed)
    new = rows_ir(ir, design, need_trials=False)
    model = rows_model(new, design)
    names = []
    for _, source in new.likelihood.dpars:
        if isinstance(source, PredictorIR):
            names.append(source.name)
        elif isinstance(source, ConstantIR):
            names.append(source.param.name)
        else:
            names.append(source)
    values = _evaluate(ir, new, model, [model[n] for n in names], idata, random_seed)
    coords = _coords(idata, obs)
    return {
        name: xr.DataArray(value, dims=("chain", "draw", "obs"), coords=coords, name=name)
        for (name, _), value in zip(new.likelihood.dpars, values, strict=True)
    }


def predict(
    ir: ModelIR,
    training: Design,
    idata: xr.DataTree,
    data: pd.DataFrame | None = None,
    *,
    rows_model: RowsModel,
    streamed: bool = False,
    kind: Kind = "mean",
    new_levels: NewLevels = "population",
    random_seed: int | None = None,
) -> xr.DataArray:
    """Expected responses (``kind="mean"``) or new responses (``"response"``): dims (chain, draw, obs).

    ``ir`` and ``training`` are the model's plan and design; ``data=None`` predicts the rows the
    model was fitted to (a ``streamed`` model keeps none); ``rows_model`` builds the PyMC model of a
    plan. See the module docstring for how, and for new levels.

    Example:
        >>> p = m.predict(idata, data=new_df)              # doctest: +SKIP
        >>> p.mean(("chain", "draw"))                      # doctest: +SKIP
    """
    if kind not in ("mean", "response"):
        raise ValueError(f"kind must be 'mean' or 'response', not {kind!r}")
    design, obs = _encode(ir, training, data, new_levels, streamed)
    new = rows_ir(ir, design)
    model = rows_model(new, design)
    response = model[new.likelihood.name]
    output = expected_value(response) if kind == "mean" else response
    (value,) = _evaluate(ir, new, model, [output], idata, random_seed)
    family = ir.likelihood.family
    return xr.DataArray(
        value,
        dims=("chain", "draw", "obs"),
        coords=_coords(idata, obs),
        name=ir.likelihood.name,
        attrs={"kind": kind, "family": family},
    )
