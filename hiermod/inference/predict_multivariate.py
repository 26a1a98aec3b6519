"""Predictions of a multivariate model at new rows: a ``response`` dim beside ``obs``.

The model of the new rows is the generated module's ``build_model`` of their encoding (as for a
univariate model), its graph evaluated at each posterior draw by ``pm.sample_posterior_predictive``:

- ``kind="mean"``: each response's expected value, PyMC's ``mean()`` of its likelihood (with
  residual correlation the MvNormal's ``mu``: the correlation does not move the mean);
- ``kind="response"``: draws of the responses from the likelihood, so with residual correlation
  the draws of a row are correlated as ``diag(sigma) Rescor diag(sigma)``.

New rows need no response columns: the likelihood's observed values are not read by either kind,
so a missing response column is filled with a value the training data had.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from pymc.distributions.moments.means import mean as expected_value

from hiermod.data.binder import apply_schema
from hiermod.data.design import Design
from hiermod.errors import OptionError, UnseenLevelError
from hiermod.inference.levels import check_levels
from hiermod.output.module import build_rows
from hiermod.plan.ir import ModelIR

__all__ = ["predict_multivariate"]

_KINDS = ("mean", "response")


def _filled(new: pd.DataFrame, training: pd.DataFrame, responses: tuple[str, ...]) -> pd.DataFrame:
    """``new`` with each response column set (its values are not read by a prediction)."""
    out = new.copy()
    for response in responses:
        out[response] = training[response].iloc[0]
    return out


def _known_levels(ir: ModelIR, design: Design, rows: pd.DataFrame) -> None:
    """An unseen level of a grouping is hiermod's UnseenLevelError (the level, its count, the
    closest known one), not the generated module's bare ValueError."""
    encoded = apply_schema(design.schema, rows, new_levels="allow")
    frame = rows.iloc[encoded.rows].reset_index(drop=True)
    try:
        check_levels(ir, encoded, frame, frozenset())
    except UnseenLevelError as error:
        raise UnseenLevelError(
            error.message,
            hint=f"{error.hint.split('; pass new_levels=')[0] if error.hint else ''}; a "
            "multivariate model predicts the training levels only (new_levels='population' is "
            "not available for it yet)",
        ) from None


def predict_multivariate(
    module: types.ModuleType,
    posterior: Any,
    new: pd.DataFrame,
    training: pd.DataFrame,
    responses: tuple[str, ...],
    *,
    rescor: bool,
    kind: str = "mean",
    random_seed: int | None = None,
    plans: Sequence[tuple[ModelIR, Design]] = (),
) -> xr.DataArray:
    """The predictions at ``new`` rows, dims (chain, draw, obs, response); ``plans`` are the
    responses' (plan, design), whose level tables the rows' levels are checked against."""
    if kind not in _KINDS:
        raise OptionError(f"kind={kind!r}: a multivariate model predicts kind='mean' or 'response'")
    rows = _filled(new, training, responses)
    for ir, design in plans:
        _known_levels(ir, design, rows)
    model = build_rows(module, rows)
    observed = [model["Y"]] if rescor else [model[r] for r in responses]
    with model:
        if kind == "mean":
            means = [expected_value(v) for v in observed]
            value = means[0] if rescor else pt.stack(means, axis=1)
        else:
            value = observed[0] if rescor else pt.stack(observed, axis=1)
        pm.Deterministic("__prediction", value, dims=("obs", "response"))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, message=".*observed.*")
            drawn = pm.sample_posterior_predictive(
                posterior,
                var_names=["__prediction"],
                random_seed=random_seed,
                progressbar=False,
                predictions=True,
            )
    values = drawn["predictions"]["__prediction"]
    coords = {"obs": np.asarray(model.coords["obs"]), "response": list(responses)}
    return xr.DataArray(
        np.asarray(values), dims=("chain", "draw", "obs", "response"), coords=coords, name=kind
    )
