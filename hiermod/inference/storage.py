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

:func:`model_from_idata` rebuilds the model from these and the training data::

    idata.to_netcdf("fit.nc")
    m = hm.Model.from_idata(az.from_netcdf("fit.nc"), data=df)
    m.predict(idata, data=new_df)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from hiermod._version import __version__
from hiermod.errors import DataError, HiermodError
from hiermod.inference.fit_groups import read_group
from hiermod.plan.priors import Prior, parse_prior

if TYPE_CHECKING:
    from hiermod.model import Model

__all__ = ["fit_attrs", "model_from_idata", "model_spec", "read_attrs"]

PREFIX = "hiermod_"


def _prior_json(prior: Prior | str) -> dict[str, Any]:
    parsed = parse_prior(prior)
    params = {k: list(v) if isinstance(v, tuple) else v for k, v in parsed.params}
    return {"dist": parsed.dist, "params": params}


def _prior_from_json(value: Mapping[str, Any]) -> Prior:
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in value["params"].items()}
    return Prior(value["dist"], **params)


def model_spec(model: Model) -> dict[str, Any]:
    """The user's choices that define ``model`` (besides the data), as plain JSON values."""
    options = model.options
    layout = options.layout if isinstance(options.layout, str) else dict(options.layout)
    return {
        "formula": str(model.formula),
        "family": model.family.name,
        "link": model.link,
        "priors": {k: _prior_json(v) for k, v in (options.priors or {}).items()},
        "layout": layout,
        "centered": options.centered
        if isinstance(options.centered, bool)
        else {k: bool(v) for k, v in options.centered.items()},
    }


def _source_text(model: Model) -> str | None:
    """The generated PyMC source, when this version of hiermod can print it."""
    source = getattr(model, "source", None)
    if not callable(source):
        return None
    try:
        text = source()
    except (HiermodError, NotImplementedError):
        return None
    return text if isinstance(text, str) else None


def fit_attrs(
    model: Model, settings: Mapping[str, str | int | float]
) -> dict[str, str | int | float]:
    """The attributes ``Model.fit`` puts on the posterior group (netCDF-safe: strings and numbers)."""
    attrs: dict[str, str | int | float] = {
        f"{PREFIX}version": __version__,
        f"{PREFIX}formula": str(model.formula),
        f"{PREFIX}family": model.family.name,
        f"{PREFIX}link": model.link,
        f"{PREFIX}model": json.dumps(model_spec(model)),
    }
    attrs.update({f"{PREFIX}{k}": v for k, v in settings.items()})
    source = _source_text(model)
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


def model_from_idata(cls: type[Model], idata: xr.DataTree, data: pd.DataFrame) -> Model:
    """Rebuild the model a fit was made with from its stored attributes and the training data.

    Raises:
        DataError: ``data`` does not reproduce the fit's observed response (a different data set).
    """
    spec = json.loads(read_attrs(idata)["model"])
    priors = {k: _prior_from_json(v) for k, v in spec["priors"].items()}
    model = cls(
        spec["formula"],
        data,
        family=spec["family"],
        link=spec["link"],
        priors=priors or None,
        layout=spec["layout"],
        centered=spec.get("centered", False),
    )
    _check_same_data(model, idata)
    return model


def _check_same_data(model: Model, idata: xr.DataTree) -> None:
    if "observed_data" not in idata.children:
        return
    observed = read_group(idata, "observed_data")
    name = model.ir.likelihood.name
    if name not in observed:
        return
    stored = np.asarray(observed[name].values, dtype=float)
    y = model.design.y
    if y is None or stored.shape != y.shape or not np.allclose(stored, y, equal_nan=True):
        raise DataError(
            f"these data do not reproduce the fit's observed {name!r} "
            f"({stored.shape[0]} rows stored, {0 if y is None else y.shape[0]} given)",
            hint="pass the data frame the model was fitted to",
        )
