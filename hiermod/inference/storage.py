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
``hiermod_fingerprint``      16 hex digits naming the model's schema (:func:`fingerprint`), which
                             :mod:`hiermod.inference.belongs` checks wherever a fit is taken
``hiermod_partial``          ``1`` on a fit cut short by Ctrl-C (``hiermod fit``: ``out.partial.nc``)
===========================  ===================================================================

Reading them back (:func:`read_attrs`, :func:`stored_model`) checks each (:data:`ATTRIBUTES`): a
missing or malformed one, JSON that does not parse or has the wrong shape, an unknown family or
link, a formula that does not parse, a prior hiermod has not got, a fit of a newer hiermod — each
is a :class:`~hiermod.errors.StorageError` naming the attribute. Nothing stored is ever run: JSON is
parsed as data, formulas and priors by hiermod's grammar.

:meth:`hiermod.Model.from_idata` rebuilds the model from these (:func:`stored_model`) and the
training data (:func:`check_same_data`)::

    idata.to_netcdf("fit.nc")
    m = hm.Model.from_idata(az.from_netcdf("fit.nc"), data=df)
    m.predict(idata, data=new_df)

(:func:`hiermod.inference.belongs.rebuild` does it; a multivariate fit's own choices are
:mod:`hiermod.inference.storage_multivariate`'s.)
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from hiermod._version import __version__
from hiermod.data.design import Design
from hiermod.data.families import get_family
from hiermod.errors import (
    DataError,
    FamilyError,
    FormulaError,
    FormulaSyntaxError,
    PriorError,
    StorageError,
)
from hiermod.inference.fit_groups import read_group
from hiermod.plan.ir import ModelIR, ParamSpec
from hiermod.plan.lower import LowerOptions
from hiermod.plan.lower_blocks import Centring
from hiermod.plan.priors import Prior, parse_prior

__all__ = [
    "ATTRIBUTES",
    "StoredModel",
    "check_same_data",
    "fingerprint",
    "fit_attrs",
    "fit_schema",
    "fitted_parameters",
    "model_spec",
    "prior_json",
    "read_attrs",
    "spec_json",
    "stored_model",
    "stored_priors",
]

PREFIX = "hiermod_"


def prior_json(prior: Prior | str) -> dict[str, Any]:
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
        "priors": {k: prior_json(v) for k, v in (options.priors or {}).items()},
        "layout": layout,
        "centered": options.centered
        if isinstance(options.centered, bool | str)
        else {k: v if v == "auto" else bool(v) for k, v in options.centered.items()},
    }


def fit_schema(ir: ModelIR) -> dict[str, Any]:
    """What a fit must agree with to belong to the model of ``ir``, as plain JSON values: the
    canonical formula, family and link, every label of every dim (coefficient names, group levels,
    term names, categories; not the rows, ``obs``) and each parameter's dims and shape (not the
    per-row ones). Labels are compared as text (a level ``308`` and ``"308"`` are one level).

    The formula names the columns; how each column was encoded shows in the coefficient names.
    """
    return {
        "formula": ir.formula,
        "family": ir.likelihood.family,
        "link": ir.likelihood.link,
        "coords": {
            dim: [str(v) for v in labels] for dim, labels in ir.coords.items() if dim != "obs"
        },
        "parameters": {p.name: [list(p.dims), list(p.shape)] for p in fitted_parameters(ir)},
    }


def fitted_parameters(ir: ModelIR) -> list[ParamSpec]:
    """The parameters of ``ir`` every fit has, with the same shape whatever rows it was fitted to
    (a per-row ``sigma`` has dims ``obs``, so it is left out)."""
    return [p for p in ir.parameters() if "obs" not in p.dims]


def fingerprint(ir: ModelIR) -> str:
    """16 hex digits of the SHA-256 of :func:`fit_schema` as canonical JSON, stamped on a fit as
    ``hiermod_fingerprint``: equal for a model rebuilt on the same data (``Model.from_idata``) or on
    other rows with the same levels, different for another formula, family, link, coefficient or
    level set (``y ~ x + (1 | g)`` on levels a, b, c against the same on a, b: different).
    """
    text = json.dumps(fit_schema(ir), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:16]


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
        f"{PREFIX}fingerprint": fingerprint(ir),
    }
    attrs.update({f"{PREFIX}{k}": v for k, v in settings.items()})
    if source is not None:
        attrs[f"{PREFIX}source"] = source
    return attrs


def read_attrs(idata: xr.DataTree | object) -> dict[str, Any]:
    """The ``hiermod_*`` attributes of a fit (prefix removed), each checked (:data:`ATTRIBUTES`).

    Raises:
        StorageError: ``idata`` is not a hiermod fit, or an attribute is missing or malformed (the
            message names it).
    """
    if isinstance(idata, str | Path):
        raise StorageError(
            f"expected a fit (an xarray.DataTree), not the path {str(idata)!r}: "
            "read the file first, hm.Model.from_idata(az.from_netcdf(path), data)"
        )
    if not isinstance(idata, xr.DataTree):
        raise StorageError(
            f"expected a fit (an xarray.DataTree, as Model.fit returns), not {type(idata).__name__}"
        )
    if "posterior" not in idata.children:
        have = ", ".join(idata.children) or "none"
        raise StorageError(
            f"this DataTree has no posterior group (it has: {have}), so it is not a fit made by "
            "hiermod's Model.fit"
        )
    attrs = read_group(idata).attrs
    found = {str(k)[len(PREFIX) :]: v for k, v in attrs.items() if str(k).startswith(PREFIX)}
    if "model" not in found:
        raise StorageError(
            "this DataTree was not made by hiermod's Model.fit (no hiermod_model attribute "
            "on its posterior group)"
        )
    checked = {}
    for name, (required, check) in ATTRIBUTES.items():
        if name not in found:
            if required:
                raise StorageError(
                    f"this fit's posterior group has no {PREFIX}{name} attribute, which "
                    "Model.fit always writes: the file was altered, or not written by hiermod"
                )
            continue
        checked[name] = check(f"{PREFIX}{name}", found[name])
    _check_version(checked["version"])
    return checked  # other hiermod_* attributes (a newer hiermod's) are ignored


def _malformed(attribute: str, what: str, value: Any) -> StorageError:
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    return StorageError(f"this fit's {attribute} attribute is malformed: {what}, not {shown}")


def _text(attribute: str, value: Any) -> str:
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed(attribute, "expected UTF-8 text", value) from None
    if not isinstance(value, str) or not value.strip():
        raise _malformed(attribute, "expected a non-empty string", value)
    return str(value)


def _count(attribute: str, value: Any) -> int:
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer) or value < 0:
        raise _malformed(attribute, "expected a whole number >= 0", value)
    return int(value)


def _seconds(attribute: str, value: Any) -> float:
    real = isinstance(value, int | float | np.integer | np.floating)
    if isinstance(value, bool | np.bool_) or not real or not 0 <= float(value) < np.inf:
        raise _malformed(attribute, "expected a number of seconds >= 0", value)
    return float(value)


def _flag(attribute: str, value: Any) -> int:
    if isinstance(value, bool | np.bool_) or value not in (0, 1):
        raise _malformed(attribute, "expected 0 or 1", value)
    return int(value)


def _fingerprint(attribute: str, value: Any) -> str:
    text = _text(attribute, value)
    if len(text) != 16 or any(c not in "0123456789abcdef" for c in text):
        raise _malformed(attribute, "expected 16 hexadecimal digits", value)
    return text


# Each attribute Model.fit writes: (required, check). ``source`` is written when the model can print
# it, ``fingerprint`` since fits were fingerprinted, ``partial`` by an interrupted ``hiermod fit``.
ATTRIBUTES: dict[str, tuple[bool, Callable[[str, Any], Any]]] = {
    "version": (True, _text),
    "formula": (True, _text),
    "family": (True, _text),
    "link": (True, _text),
    "model": (True, _text),
    "method": (False, _text),
    "sampler": (False, _text),
    "draws": (False, _count),
    "tune": (False, _count),
    "chains": (False, _count),
    "seconds": (False, _seconds),
    "source": (False, _text),
    "fingerprint": (False, _fingerprint),
    "partial": (False, _flag),
}


def _version_tuple(text: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"(\d+)\.(\d+)(?:\.\d+)?(?:[.+-]?[0-9A-Za-z.+-]*)?", text)
    return None if match is None else (int(match[1]), int(match[2]))


def _check_version(stored: str) -> None:
    """A fit of a newer hiermod (a later major.minor) may store what this one cannot read."""
    version = _version_tuple(stored)
    if version is None:
        raise _malformed(f"{PREFIX}version", "expected a version like '0.1.0'", stored)
    ours = _version_tuple(__version__)
    if ours is not None and version > ours:
        raise StorageError(
            f"this fit was made by hiermod {stored} ({PREFIX}version), newer than this hiermod "
            f"({__version__}): upgrade hiermod to read it"
        )


@dataclass(frozen=True, slots=True)
class StoredModel:
    """The user's choices a fit stored (``hiermod_model``): a model's arguments besides the data."""

    formula: str
    family: str
    link: str
    priors: dict[str, Prior] | None
    layout: str | dict[str, str]
    centered: Centring | dict[str, Centring]  # "auto": hiermod.plan.centring


def stored_model(idata: xr.DataTree | object) -> StoredModel:
    """The choices the model of a fit was made with, from its stored attributes, each checked.

    Nothing stored is run: the JSON is parsed as data, the formula by hiermod's grammar, priors by
    :class:`~hiermod.plan.priors.Prior`.

    Raises:
        StorageError: an attribute is missing or malformed (the message names it and its part).
    """
    attrs = read_attrs(idata)
    spec = spec_json(attrs["model"])
    where = f"{PREFIX}model"
    for key in ("formula", "family", "link"):
        value = spec.get(key)
        if not isinstance(value, str) or not value.strip():
            raise _malformed(f"{where}", f"its {key!r} must be a non-empty string", value)
        if value != attrs[key]:
            raise StorageError(
                f"this fit's {PREFIX}{key} {attrs[key]!r} disagrees with the {key} in {where} "
                f"({value!r}): the file was altered"
            )
    family, link = _checked_family(spec["family"], spec["link"])
    return StoredModel(
        formula=_checked_formula(spec["formula"]),
        family=family,
        link=link,
        priors=stored_priors(spec.get("priors", {})) or None,
        layout=_layout(spec.get("layout", "auto")),
        centered=_centring(spec.get("centered", False)),  # fits before "auto" were non-centred
    )


def spec_json(text: str) -> dict[str, Any]:
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as error:
        raise StorageError(
            f"this fit's {PREFIX}model attribute is not valid JSON ({error.msg} at line "
            f"{error.lineno}, column {error.colno})"
        ) from None
    except RecursionError:
        raise StorageError(f"this fit's {PREFIX}model attribute is nested too deeply") from None
    if not isinstance(spec, dict):
        raise _malformed(f"{PREFIX}model", "expected a JSON object of the model's choices", spec)
    return spec


def _checked_family(name: str, link: str) -> tuple[str, str]:
    try:
        family = get_family(name)
        family.check_link(link)
    except FamilyError as error:
        raise StorageError(f"this fit's {PREFIX}model has an unusable family: {error}") from None
    return name, link


def _checked_formula(text: str) -> str:
    from hiermod.formula.expand import expand
    from hiermod.formula.parser import parse_syntax

    try:
        expand(parse_syntax(text))
    except (FormulaSyntaxError, FormulaError) as error:
        raise StorageError(f"this fit's {PREFIX}model has an invalid formula: {error}") from None
    return text


def stored_priors(value: Any) -> dict[str, Prior]:
    where = f"{PREFIX}model"
    if not isinstance(value, dict):
        raise _malformed(where, "its 'priors' must be an object of priors by parameter", value)
    priors = {}
    for key, prior in value.items():
        if not isinstance(prior, dict) or not isinstance(prior.get("dist"), str):
            raise _malformed(
                where, f"prior {key!r} must be {{'dist': name, 'params': {{...}}}}", prior
            )
        params = prior.get("params", {})
        if not isinstance(params, dict) or not all(
            _is_number(v) or _is_vector(v) for v in params.values()
        ):
            raise _malformed(
                where, f"prior {key!r} needs params of numbers or lists of numbers", params
            )
        try:
            priors[key] = _prior_from_json(prior)
        except PriorError as error:
            raise StorageError(
                f"this fit's {where} has an unusable prior {key!r}: {error}"
            ) from None
    return priors


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_vector(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(_is_number(v) for v in value)


def _layout(value: Any) -> str | dict[str, str]:
    """A string or a dict of strings; which strings, the model's option check says (:func:`rebuilding`)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return {str(k): v for k, v in value.items()}
    raise _malformed(f"{PREFIX}model", "its 'layout' must be a string or a dict of strings", value)


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
    raise _malformed(
        f"{PREFIX}model", "its 'centered' must be true, false, 'auto' or a dict of them", value
    )


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
    try:
        stored = np.asarray(observed[name].values, dtype=float)
    except (TypeError, ValueError):
        raise StorageError(
            f"this fit's observed_data {name!r} is not numeric, as Model.fit writes it"
        ) from None
    y = design.y
    if y is None or stored.shape != y.shape or not np.allclose(stored, y, equal_nan=True):
        raise DataError(
            f"these data do not reproduce the fit's observed {name!r} "
            f"({stored.shape[0]} rows stored, {0 if y is None else y.shape[0]} given)",
            hint="pass the data frame the model was fitted to",
        )
