"""What a multivariate fit remembers about its model (``mvbind(y1, y2) ~ …``), to be used again.

``MultivariateModel.fit`` stamps the posterior with the attributes of a univariate fit
(:mod:`hiermod.inference.storage`: ``hiermod_version``, ``hiermod_formula``, ``hiermod_method``,
draws, ``hiermod_source``, …), ``hiermod_family`` ``"multivariate"`` and ``hiermod_link``
``"per response"``, and ``hiermod_model`` holding its own choices as JSON::

    {"formula": "mvbind(y1, y2) ~ 1 + x + (1 | g)", "responses": ["y1", "y2"],
     "families": {"y1": "gaussian", "y2": "gaussian"}, "rescor": true,
     "priors": {"y1_b": {"dist": "normal", "params": {"mu": 0, "sigma": 2}}}}

:func:`stored_multivariate` reads them back, each checked (a formula that does not parse or is not
multivariate, a family hiermod has not got, responses that disagree with the formula, a malformed
prior — a :class:`~hiermod.errors.StorageError` naming it); nothing stored is run.
:func:`check_multivariate_fit` checks that the model rebuilt on the data is the one fitted: its
free variables with their shapes, and the observed responses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pymc as pm
import xarray as xr

from hiermod._version import __version__
from hiermod.data.families import get_family
from hiermod.errors import (
    DataError,
    FamilyError,
    FitMismatchError,
    FormulaError,
    FormulaSyntaxError,
    StorageError,
)
from hiermod.formula.multivariate import is_multivariate, split_responses
from hiermod.formula.parser import parse_syntax
from hiermod.inference.fit_groups import read_group
from hiermod.inference.storage import PREFIX, prior_json, read_attrs, spec_json, stored_priors
from hiermod.plan.priors import Prior

__all__ = [
    "StoredMultivariate",
    "check_multivariate_fit",
    "is_multivariate_fit",
    "multivariate_attrs",
    "stored_multivariate",
]

FAMILY = "multivariate"


@dataclass(frozen=True, slots=True)
class StoredMultivariate:
    """A multivariate model's arguments besides the data, as a fit stored them."""

    formula: str
    families: dict[str, str]
    rescor: bool
    priors: dict[str, Prior] | None


def multivariate_attrs(
    formula: str,
    families: Mapping[str, str],
    rescor: bool,
    priors: Mapping[str, Prior | str] | None,
    settings: Mapping[str, str | int | float],
    source: str,
) -> dict[str, str | int | float]:
    """The attributes ``MultivariateModel.fit`` puts on the posterior group."""
    spec = {
        "formula": formula,
        "responses": list(families),
        "families": dict(families),
        "rescor": bool(rescor),
        "priors": {k: prior_json(v) for k, v in (priors or {}).items()},
    }
    attrs: dict[str, str | int | float] = {
        f"{PREFIX}version": __version__,
        f"{PREFIX}formula": formula,
        f"{PREFIX}family": FAMILY,
        f"{PREFIX}link": "per response",
        f"{PREFIX}model": json.dumps(spec),
        f"{PREFIX}source": source,
    }
    return attrs | {f"{PREFIX}{k}": v for k, v in settings.items()}


def is_multivariate_fit(idata: object) -> bool:
    """Whether a fit's stored family says it is a multivariate model's (attributes unchecked)."""
    if not isinstance(idata, xr.DataTree) or "posterior" not in idata.children:
        return False
    return bool(read_group(idata).attrs.get(f"{PREFIX}family") == FAMILY)


def stored_multivariate(idata: xr.DataTree) -> StoredMultivariate:
    """The choices a multivariate fit's model was made with, each checked (module docstring)."""
    attrs = read_attrs(idata)
    spec = spec_json(attrs["model"])
    where = f"{PREFIX}model"
    formula = spec.get("formula")
    if not isinstance(formula, str) or formula != attrs["formula"]:
        raise StorageError(
            f"this fit's {PREFIX}formula {attrs['formula']!r} disagrees with the formula in "
            f"{where} ({formula!r}): the file was altered"
        )
    try:
        tree = parse_syntax(formula)
        responses = split_responses(tree).responses if is_multivariate(tree) else None
    except (FormulaSyntaxError, FormulaError) as error:
        raise StorageError(f"this fit's {where} has an invalid formula: {error}") from None
    if responses is None:
        raise StorageError(f"this fit's {where} formula {formula!r} is not multivariate")
    families = spec.get("families")
    if not isinstance(families, dict) or list(families) != list(responses):
        raise StorageError(
            f"this fit's {where} must have a family for each response {list(responses)}, "
            f"not {families!r}"
        )
    for response, name in families.items():
        try:
            get_family(str(name))
        except FamilyError as error:
            raise StorageError(f"this fit's {where} family of {response}: {error}") from None
    rescor = spec.get("rescor")
    if not isinstance(rescor, bool):
        raise StorageError(f"this fit's {where} 'rescor' must be true or false, not {rescor!r}")
    priors = stored_priors(spec.get("priors", {})) or None
    return StoredMultivariate(
        formula, {str(k): str(v) for k, v in families.items()}, rescor, priors
    )


def check_multivariate_fit(
    model: pm.Model, idata: xr.DataTree, observed: Mapping[str, Any]
) -> None:
    """Raise :class:`~hiermod.errors.FitMismatchError` unless the fit's posterior has every free
    variable of ``model`` with its shape, and :class:`~hiermod.errors.DataError` when the fit's
    observed responses are not ``observed`` (the model's data: a different data set)."""
    posterior = read_group(idata)
    differences = []
    for rv in model.free_RVs:
        name = rv.name
        if name not in posterior:
            differences.append(f"variables: the fit has no {name}")
            continue
        theirs = tuple(posterior[name].shape[2:])
        ours = tuple(int(v) for v in rv.shape.eval())
        if theirs != ours:
            differences.append(f"{name}: the fit's has shape {theirs}, this model's {ours}")
    if differences:
        raise FitMismatchError(
            "this fit does not belong to this model:\n" + "\n".join(f"  - {d}" for d in differences)
        )
    if "observed_data" not in idata.children:
        return
    stored = read_group(idata, "observed_data")
    for name, values in observed.items():
        if name not in stored:
            continue
        fitted = np.asarray(stored[name].values)
        if fitted.shape != np.shape(values) or not np.allclose(fitted, values):
            raise DataError(
                f"the data do not reproduce the fit's observed {name}: pass the data the model "
                "was fitted on"
            )
