"""``Model.update``: a new model from a changed formula, data or option, as R's and brms's ``update()``.

``m.update(". ~ . - Days")`` rewrites the formula by R's ``update.formula`` rule
(:mod:`hiermod.formula.update`); ``m.update(data=new_df)`` fits the same model to other rows;
``m.update(family="student")``, ``m.update(priors={...})``, ``m.update(sigma="~ (1 | g)")`` change
one option and keep the others.

**The same model on new data.** When the formula, family and link stay as they are, the updated
model is the one fitted before, on the new rows: its default priors, the centring of each block and
the layout of each grouping interaction — choices hiermod makes from the data — are kept as they were
chosen on the first data (brms's ``update(newdata=)`` also keeps its data-dependent default priors).
A default that no longer fits (``b`` gained a coefficient from a new level) is chosen afresh, with
a :class:`~hiermod.warnings.DataWarning`. Build ``hm.Model(m.formula, new_df)`` to have every
choice made from the new data. Because the model stays the same, refits on new data with the same
levels reuse nutpie's compiled sampler: the second data set compiles the structure once with its
data as inputs, later ones swap their data in (:mod:`hiermod.inference.lifted`).

**A changed formula** is a new model: default priors, centring and layout are chosen from the
data; the priors the user gave are kept, except those naming a parameter the new formula no longer
has (dropped, with a DataWarning that names them).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, Self

import pandas as pd

from hiermod.arguments import check_type, unexpected_keyword
from hiermod.data.families import Family, get_family
from hiermod.errors import HiermodError, OptionError, PriorError
from hiermod.formula.expand import expand
from hiermod.formula.multivariate import MultivariateFormula
from hiermod.formula.parser import parse_syntax
from hiermod.formula.terms import ModelFormula
from hiermod.formula.update import updated_text
from hiermod.plan.ir import ModelIR
from hiermod.plan.lower_blocks import Centring
from hiermod.plan.priors import Prior
from hiermod.warnings import DataWarning, user_stacklevel

__all__ = [
    "ModelCall",
    "MultivariateUpdates",
    "kept_choices",
    "update_model",
    "update_multivariate",
]

_OPTIONS = ("family", "link", "priors", "layout", "centered", "na_action", "suffstats")


@dataclass(frozen=True)
class ModelCall:
    """The options a :class:`~hiermod.model.Model` was made with (its formula and data are the
    model's own attributes): what :func:`update_model` starts from."""

    family: Family
    link: str | None
    priors: Mapping[str, Prior | str] | None
    layout: str | Mapping[str, str]
    centered: Centring | Mapping[str, Centring]
    na_action: str
    suffstats: bool | str

    def as_keywords(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _OPTIONS}


class Model(Protocol):
    """What :func:`update_model` reads of a :class:`hiermod.model.Model` (this module sits
    below it: it never imports it)."""

    formula: ModelFormula
    family: Family
    data: pd.DataFrame | None
    ir: ModelIR


@dataclass(frozen=True)
class KeptChoices:
    """What hiermod chose from the first data, kept when only the data change."""

    priors: dict[str, Prior]
    centered: dict[str, bool]
    layout: dict[str, str]


def kept_choices(ir: ModelIR) -> KeptChoices:
    """The default priors, each block's centring and each grouping interaction's layout of ``ir``.

    Centring and layout are keyed by grouping (``"group:color"``), as the ``centered=`` and
    ``layout=`` options are; a grouping whose blocks were centred differently (``mu``'s centred,
    ``sigma``'s not) is left to the rule, which decides per block.
    """
    centred: dict[str, set[bool]] = {}
    layouts: dict[str, set[str]] = {}
    for predictor in ir.predictors:
        for block in predictor.blocks:
            key = ":".join(block.block.factors)
            centred.setdefault(key, set()).add(block.centered)
            if len(block.block.factors) > 1:
                layouts.setdefault(key, set()).add(block.layout)
    return KeptChoices(
        priors={r.name: r.prior for r in ir.priors if r.source == "default"},
        centered={k: v.pop() for k, v in centred.items() if len(v) == 1},
        layout={k: v.pop() for k, v in layouts.items() if len(v) == 1},
    )


def _formula_text(model: Model, formula: str | None, dpars: Mapping[str, str | None]) -> str:
    """The updated formulas as one text (the response's first); ``dpars`` holds keyword formulas
    (``sigma="~ . + x"``; None drops that parameter's formula)."""
    parameters = model.family.auxiliary
    lines = [formula if formula is not None else ". ~ ."]
    lines += [f"{name} ~ {rhs.strip().removeprefix('~')}" for name, rhs in dpars.items() if rhs]
    text = updated_text(model.formula, "\n".join(lines), parameters)
    dropped = {name for name, rhs in dpars.items() if rhs is None}
    kept = [line for i, line in enumerate(text.split("\n")) if i == 0 or _lhs(line) not in dropped]
    return "\n".join(kept)


def _lhs(line: str) -> str:
    return line.split(" ~ ", 1)[0]


def update_model[M: Model](
    model: M,
    formula: str | None,
    data: pd.DataFrame | None,
    changes: Mapping[str, Any],
) -> M:
    """:meth:`Model.update`: see the module's rules."""
    call: ModelCall | None = getattr(model, "_call", None)
    if call is None or model.data is None:
        raise HiermodError(
            "a streamed model keeps no rows to update; call hm.stream_model again with the "
            "changed formula or source"
        )
    if formula is not None:
        check_type("formula", formula, str, "formula text such as '. ~ . - x'")
    if data is not None:
        check_type("data", data, pd.DataFrame, "a pandas DataFrame")
    family = get_family(changes.get("family", call.family))
    dpars: dict[str, str | None] = {}
    options = call.as_keywords()
    for key, value in changes.items():
        if key in _OPTIONS:
            options[key] = value
        elif key in family.auxiliary:
            dpars[key] = value
        else:
            raise unexpected_keyword("Model.update()", key, (*_OPTIONS, *family.auxiliary))
    text = _formula_text(model, formula, dpars)
    new_data = model.data if data is None else data
    cls: Any = type(model)
    same = (
        formula is None
        and not dpars
        and family.name == model.family.name
        and options["link"] == call.link
    )
    kept: Mapping[str, Prior] | None = None
    if same:
        choices = kept_choices(model.ir)
        kept = choices.priors
        if "centered" not in changes:
            options["centered"] = choices.centered or call.centered
        if "layout" not in changes:
            options["layout"] = {**_as_mapping(call.layout), **choices.layout} or call.layout
    given = dict(changes.get("priors") or {})
    old_keys = [k for k in (call.priors or {}) if k not in given]
    while True:
        try:
            updated = cls(text, new_data, **options, _kept_priors=kept)
        except PriorError as error:
            stale = [k for k in error.unknown_keys if k in old_keys]
            if not stale:
                raise
            options["priors"] = {k: v for k, v in options["priors"].items() if k not in stale}
            old_keys = [k for k in old_keys if k not in stale]
            warnings.warn(
                f"update(): the prior{'s' if len(stale) > 1 else ''} {', '.join(map(repr, stale))} "
                + (
                    "named no parameter of the updated formula and was dropped"
                    if len(stale) == 1
                    else "named no parameters of the updated formula and were dropped"
                ),
                DataWarning,
                stacklevel=user_stacklevel(),
            )
            continue
        break
    if kept:
        _warn_recomputed(updated.ir, kept)
    return updated  # type: ignore[no-any-return]


def _as_mapping(layout: str | Mapping[str, str]) -> dict[str, str]:
    return dict(layout) if isinstance(layout, Mapping) else {}


def _warn_recomputed(ir: ModelIR, kept: Mapping[str, Prior]) -> None:
    """A DataWarning naming the default priors that could not be kept (see :func:`_default_for`
    in :mod:`hiermod.plan.lower`)."""
    fresh = [r.name for r in ir.priors if r.source == "default" and r.name in kept and not r.detail]
    if fresh:
        warnings.warn(
            f"update(): the default prior of {', '.join(fresh)} was chosen afresh from the new "
            "data (its shape changed: new levels of a predictor)",
            DataWarning,
            stacklevel=user_stacklevel(),
        )


_MULTIVARIATE_OPTIONS = ("family", "rescor", "priors", "link", "layout", "centered", "na_action")


def _multivariate_text(model: Any, formula: str | None) -> str:
    """The updated ``mvbind`` formula: a whole new one, or R's rule applied to every response's
    formulas (``". ~ . + z"``: each response's formula gains z)."""
    if formula is None:
        return str(model.formula)
    check_type("formula", formula, str, "formula text such as '. ~ . - x'")
    if formula.lstrip().startswith("mvbind"):
        return formula
    left = formula.split("~", 1)[0].strip() if "~" in formula else ""
    if left not in ("", "."):
        raise OptionError(
            f"update({formula!r}) of a multivariate model keeps its responses: write '. ~ . + z' "
            "(every response's formula updated) or a whole mvbind(...) ~ ... formula"
        )
    responses = model.responses
    formulas = tuple(
        expand(parse_syntax(updated_text(f, formula, model.models[r].family.auxiliary)))
        for r, f in zip(responses, model.formula.formulas, strict=True)
    )
    return str(MultivariateFormula(responses, formulas))


def update_multivariate(
    model: Any, formula: str | None, data: pd.DataFrame | None, changes: Mapping[str, Any]
) -> Any:
    """``MultivariateModel.update``: :func:`update_model`'s rules for a model of several
    responses. ``formula`` is a whole ``mvbind`` formula, or an update applied to every
    response's formulas; with the formula, family and link kept, each response keeps the default
    priors, centring and layout chosen on the first data (as ``Model.update(data=)``)."""
    if data is not None:
        check_type("data", data, pd.DataFrame, "a pandas DataFrame")
    for key in changes:
        if key not in _MULTIVARIATE_OPTIONS:
            raise unexpected_keyword("update()", key, _MULTIVARIATE_OPTIONS)
    text = _multivariate_text(model, formula)
    options = {**model._call, **changes}
    priors = dict(options.get("priors") or {})
    if changes.get("rescor") is False and "rescor" in priors and "priors" not in changes:
        options["priors"] = {k: v for k, v in priors.items() if k != "rescor"}
        warnings.warn(
            "update(): the prior 'rescor' was dropped: rescor=False has no residual correlation",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
    same = formula is None and "family" not in changes and "link" not in changes
    each: dict[str, dict[str, Any]] = {}
    kept = {r: kept_choices(m.ir) for r, m in model.models.items()} if same else {}
    for response, choices in kept.items():
        own: dict[str, Any] = {"_kept_priors": choices.priors}
        if "centered" not in changes and choices.centered:
            own["centered"] = choices.centered
        if "layout" not in changes and choices.layout:
            own["layout"] = {**_as_mapping(options.get("layout", "auto")), **choices.layout}
        each[response] = own
    new_data = model._given_data if data is None else data
    updated = type(model)(
        text, new_data, univariate=model._univariate, _each=each or None, **options
    )
    for response, choices in kept.items():
        _warn_recomputed(updated.models[response].ir, choices.priors)
    return updated


class MultivariateUpdates:
    """``update`` of a :class:`~hiermod.multivariate.MultivariateModel`."""

    def update(
        self, formula: str | None = None, data: pd.DataFrame | None = None, **changes: Any
    ) -> Self:
        """A new model with another formula (a whole ``mvbind`` one, or ``". ~ . + z"`` for every
        response), data or option (``family=``, ``rescor=``, ``priors=``…), as ``Model.update``:
        see :func:`update_multivariate`."""
        updated: Self = update_multivariate(self, formula, data, changes)
        return updated
