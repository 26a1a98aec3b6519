"""What a fit remembers about its model, so a saved ``DataTree`` can be used again.

``Model.fit`` stamps the posterior group's attributes with everything needed to rebuild the model
(netCDF stores only strings and numbers, so structured values are JSON strings):

===========================  ===================================================================
attribute                    value
===========================  ===================================================================
``hiermod_version``          the hiermod version that made the fit
``hiermod_formula``          the canonical formula (``y ~ 1 + x + (1 + x | g); sigma ~ 1``)
``hiermod_family``           family name; ``hiermod_link`` the link of the mean
``hiermod_model``            JSON: formula, family, link, user priors, layout and centring choices
``hiermod_method``           ``nuts``, ``advi``, ``pathfinder`` or ``map``; ``hiermod_sampler``
``hiermod_draws`` …          draws, tune, chains (numbers)
``hiermod_source``           the generated PyMC source, when the model can print it
===========================  ===================================================================

:meth:`hiermod.Model.from_idata` rebuilds the model from these (:func:`stored_model`) and the
training data (:func:`check_same_data`)::

    idata.to_netcdf("fit.nc")
    m = hm.Model.from_idata(az.from_netcdf("fit.nc"), data=df)
    m.predict(idata, data=new_df)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from hiermod._version import __version__
from hiermod.data.design import Design
from hiermod.errors import DataError, HiermodError
from hiermod.inference.fit_groups import read_group
from hiermod.plan.ir import ModelIR
from hiermod.plan.lower import LowerOptions
from hiermod.plan.lower_blocks import Centring
from hiermod.plan.priors import Prior, parse_prior

__all__ = [
    "StoredModel",
    "check_same_data",
    "fit_attrs",
    "model_spec",
    "read_attrs",
    "stored_model",
]

PREFIX = "hiermod_"


def _prior_json(prior: Prior | str) -> dict[str, Any]:
    parsed = parse_prior(prior)
    params = {k: list(v) if isinstance(v, tuple) else v for k, v in parsed.params}
    return {"dist": parsed.dist, "params": params}


def _prior_from_json(value: Mapping[str, Any]) -> Prior:
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in value["params"].items()}
    return Prior(value["dist"], **params)


def model_spec(ir: ModelIR, options: LowerOptions) -> dict[str, Any]:
    """The user's choices that define a model (besides the data), as plain JSON values.

    ``ir`` is the model's plan (formula, family, link), ``options`` what it was lowered with.
    """
    layout = options.layout if isinstance(options.layout, str) else dict(options.layout)
    return {
        "formula": ir.formula,
        "family": ir.likelihood.family,
        "link": ir.likelihood.link,
        "priors": {k: _prior_json(v) for k, v in (options.priors or {}).items()},
        "layout": layout,
        "centered": options.centered
        if isinstance(options.centered, bool | str)
        else {k: v if v == "auto" else bool(v) for k, v in options.centered.items()},
    }


def fit_attrs(
    ir: ModelIR,
    options: LowerOptions,
    settings: Mapping[str, str | int | float],
    source: str | None = None,
) -> dict[str, str | int | float]:
    """The attributes ``Model.fit`` puts on the posterior group (netCDF-safe: strings and numbers).

    ``settings`` are the fit's (method, sampler, draws, …); ``source`` the generated PyMC source,
    when the model can print it.
    """
    attrs: dict[str, str | int | float] = {
        f"{PREFIX}version": __version__,
        f"{PREFIX}formula": ir.formula,
        f"{PREFIX}family": ir.likelihood.family,
        f"{PREFIX}link": ir.likelihood.link,
        f"{PREFIX}model": json.dumps(model_spec(ir, options)),
    }
    attrs.update({f"{PREFIX}{k}": v for k, v in settings.items()})
    if source is not None:
        attrs[f"{PREFIX}source"] = source
    return attrs


def read_attrs(idata: xr.DataTree) -> dict[str, Any]:
    """The ``hiermod_*`` attributes of a fit (prefix removed); an error if it is not hiermod's."""
    attrs = dict(read_group(idata).attrs) if "posterior" in idata.children else {}
    found = {k[len(PREFIX) :]: v for k, v in attrs.items() if k.startswith(PREFIX)}
    if "model" not in found:
        raise HiermodError(
            "this DataTree was not made by hiermod's Model.fit (no hiermod_model attribute "
            "on its posterior group)"
        )
    return found


@dataclass(frozen=True, slots=True)
class StoredModel:
    """The user's choices a fit stored (``hiermod_model``): a model's arguments besides the data."""

    formula: str
    family: str
    link: str
    priors: dict[str, Prior] | None
    layout: str | dict[str, str]
    centered: Centring | dict[str, Centring]  # "auto": hiermod.plan.centring


def stored_model(idata: xr.DataTree) -> StoredModel:
    """The choices the model of a fit was made with, from its stored attributes."""
    spec = json.loads(read_attrs(idata)["model"])
    priors = {k: _prior_from_json(v) for k, v in spec["priors"].items()}
    return StoredModel(
        formula=spec["formula"],
        family=spec["family"],
        link=spec["link"],
        priors=priors or None,
        layout=spec["layout"],
        centered=_centring(spec.get("centered", False)),  # fits before "auto" were non-centred
    )


def _centring(value: Any) -> Centring | dict[str, Centring]:
    """A stored ``centered=`` option, checked: a bool, ``"auto"``, or a dict of them."""
    if isinstance(value, dict):
        return {str(k): _one_centring(v) for k, v in value.items()}
    return _one_centring(value)


def _one_centring(value: Any) -> Centring:
    if isinstance(value, bool):
        return value
    if value == "auto":
        return "auto"
    raise HiermodError(f"this fit's stored centered option {value!r} is not one hiermod writes")


def check_same_data(ir: ModelIR, design: Design, idata: xr.DataTree) -> None:
    """Check that ``design`` (of a model planned by ``ir``) holds the data a fit was made on.

    Raises:
        DataError: ``design`` does not reproduce the fit's observed response (a different data set).
    """
    if "observed_data" not in idata.children:
        return
    observed = read_group(idata, "observed_data")
    name = ir.likelihood.name
    if name not in observed:
        return
    stored = np.asarray(observed[name].values, dtype=float)
    y = design.y
    if y is None or stored.shape != y.shape or not np.allclose(stored, y, equal_nan=True):
        raise DataError(
            f"these data do not reproduce the fit's observed {name!r} "
            f"({stored.shape[0]} rows stored, {0 if y is None else y.shape[0]} given)",
            hint="pass the data frame the model was fitted to",
        )
