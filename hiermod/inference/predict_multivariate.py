"""Predictions of a multivariate model at new rows: a ``response`` dim beside ``obs``.

As for a univariate model (:mod:`hiermod.inference.predict`), nothing here restates a family, a
link or a linear predictor:

1. **Encode** the rows per response with the response's training schema
   (:func:`~hiermod.inference.predict.encode_rows`): an unseen level of a grouping is an
   UnseenLevelError, or with ``new_levels="population"`` appended to its level table. The
   responses read the same rows (those with a value in every column of every response's formula),
   so their extended tables agree.
2. **Plan** each response's row-wise model of those rows (:func:`~hiermod.inference.predict.rows_ir`)
   and compose the multivariate module of them exactly as the model's own module is composed
   (the ``compose`` hook: :func:`~hiermod.output.source_multivariate.compose_source` with the
   model's settings), then build it on the responses' arrays, tagged as the module names them.
3. **Splice** the posterior: a free variable whose level dims grew (``y1_z_g``, a shared ID's union
   ``z_g_id_p``) takes the posterior draws for the training levels and the population
   distribution given each draw for the new ones (:func:`~hiermod.inference.posterior_eval.spliced_levels`);
   which variables grew is read from the model's dims, so a union across responses is found as
   any response's own block is.
4. **Evaluate** every draw at once (:func:`~hiermod.inference.posterior_eval.vectorized`):
   ``kind="mean"`` each response's expected value, PyMC's ``mean()`` of its likelihood (with
   residual correlation the MvNormal's ``mu``: the correlation does not move the mean);
   ``kind="response"`` draws of the responses, so with residual correlation the draws of a row are
   correlated as ``diag(sigma) Rescor diag(sigma)``.

New rows need no response columns: the likelihood's observed values are not read by either kind,
so a missing response column is filled with a value the training data had.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from pymc.distributions.moments.means import mean as expected_value

from hiermod.errors import OptionError
from hiermod.inference.fit_groups import read_group
from hiermod.inference.levels import NewLevels
from hiermod.inference.posterior_eval import posterior_draws, spliced_levels, vectorized
from hiermod.inference.predict import Groups, encode_rows, groupings, left_out_of, rows_ir
from hiermod.output.module import build_rows, load_module, module_data
from hiermod.output.source import emit_source
from hiermod.output.source_multivariate import ResponsePart, model_names

__all__ = ["Compose", "filled_responses", "predict_multivariate"]

_KINDS = ("mean", "response")

Compose = Callable[[list[ResponsePart], int], str]
"""The model's composition of its responses' parts into one module source, for ``n`` rows."""


def filled_responses(
    new: pd.DataFrame, training: pd.DataFrame, responses: tuple[str, ...]
) -> pd.DataFrame:
    """``new`` with each response column set (its values are not read by a prediction)."""
    out = new.copy()
    for response in responses:
        out[response] = training[response].iloc[0]
    return out


def _rows_model(
    models: Mapping[str, Any],
    rows: pd.DataFrame,
    compose: Compose,
    new_levels: NewLevels,
    rescor: bool,
    left_out: frozenset[str],
) -> tuple[pm.Model, np.ndarray, dict[Any, Any]]:
    """The multivariate row-wise PyMC model of ``rows`` (complete rows), their ``obs`` labels, and
    the effects ``r`` of each left-out grouping (every response's) as zeros to put in their place."""
    parts: list[ResponsePart] = []
    zeros: dict[str, tuple[int, ...]] = {}
    data: dict[str, np.ndarray] = {}
    observed: list[str] = []
    obs = np.asarray(rows.index)
    for response, model in models.items():
        design, obs = encode_rows(model.ir, model.design, rows, new_levels, False, left_out)
        ir = rows_ir(model.ir, design)
        parts.append(ResponsePart.of(response, model, ir, emit_source(ir, design)))
        names = model_names(ir, response)
        data |= {names.get(k, k): v for k, v in module_data(ir).items()}
        observed.append(names.get(ir.likelihood.observed, ir.likelihood.observed))
        for block in (b for p in ir.predictors for b in p.blocks):
            if str(block.block.grouping) in left_out:
                zeros[names.get(block.r.name, block.r.name)] = block.r.shape
    if rescor:
        data["Y"] = np.column_stack([data[name] for name in observed])
    module = load_module(compose(parts, len(obs)), "hiermod_multivariate_rows")
    built = build_rows(module, data)
    spliced = {built[n]: pt.zeros(shape, dtype=built[n].dtype) for n, shape in zeros.items()}
    return built, obs, spliced


def _level_sizes(model: pm.Model, name: str) -> tuple[int, ...] | None:
    """The shape ``name``'s dims give it in ``model`` (``None`` when a dim has no name)."""
    dims = model.named_vars_to_dims.get(name, ())
    if any(d is None for d in dims):
        return None
    return tuple(len(model.coords[d]) for d in dims)


def predict_multivariate(
    models: Mapping[str, Any],
    posterior: Any,
    rows: pd.DataFrame,
    *,
    compose: Compose,
    rescor: bool,
    kind: str = "mean",
    new_levels: NewLevels = "error",
    random_seed: int | None = None,
    groups: Groups = True,
) -> xr.DataArray:
    """The predictions at ``rows``, dims (chain, draw, obs, response).

    ``models`` are the responses' univariate models (``hm.Model``: plan, design, family), in the
    order of the response dim; ``rows`` have a value in every column every response reads (the
    responses' too: :func:`filled_responses`); ``compose`` is the model's composition of its module
    (see :data:`Compose`); ``groups`` says whose group-level effects count, as for a univariate
    model (a grouping of any response: ``groups="g"`` keeps every response's blocks of g only).
    """
    if kind not in _KINDS:
        raise OptionError(f"kind={kind!r}: a multivariate model predicts kind='mean' or 'response'")
    responses = tuple(models)
    every = tuple(dict.fromkeys(g for m in models.values() for g in groupings(m.ir)))
    left_out = left_out_of(every, groups)
    model, obs, spliced = _rows_model(models, rows, compose, new_levels, rescor, left_out)
    draws = read_group(posterior)
    holes = []
    for rv in (v for v in model.free_RVs if v not in spliced):
        trained = tuple(posterior_draws(draws, rv.name).shape[2:])
        if _level_sizes(model, rv.name) not in (None, (), trained):  # a level dim grew
            spliced[rv], hole = spliced_levels(rv, trained)
            holes.append(hole)
    likelihoods = [model["Y"]] if rescor else [model[r] for r in responses]
    outputs = [expected_value(v) for v in likelihoods] if kind == "mean" else likelihoods
    shape = (draws.sizes["chain"], draws.sizes["draw"], len(obs))
    values = vectorized(model, outputs, draws, spliced, holes, shape, random_seed)
    value = values[0] if rescor else np.stack(values, axis=-1)
    coords = {
        "chain": draws["chain"].values,
        "draw": draws["draw"].values,
        "obs": obs,
        "response": list(responses),
    }
    return xr.DataArray(value, dims=("chain", "draw", "obs", "response"), coords=coords, name=kind)
