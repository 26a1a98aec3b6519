"""Whether a fit belongs to a model, checked wherever a model takes a fit.

A fit made by ``Model.fit`` carries ``hiermod_fingerprint`` (:func:`hiermod.inference.storage.
fingerprint`: a hash of the formula, family, link, every dim's labels and each parameter's shape).
:func:`check_fit` compares what the fit shows with the model — its stored formula, family and
link, its variables, their shapes and the labels of their dims — and the fingerprint with the
model's (a fingerprint that differs although everything shown agrees was altered; one written by
another hiermod version may have been hashed otherwise, so there what the fit shows decides; a fit
made before fits were fingerprinted is judged by what it shows). A
:class:`~hiermod.errors.FitMismatchError` says what differs, e.g. for another model's fit given to
``predict`` (where NumPy would report a matmul shape error)::

    this fit does not belong to this model (use the model it was fitted with, e.g.
    hm.Model.from_idata(fit, data)):
      - formula: the fit's is 'y ~ 1 + z', this model's 'y ~ 1 + x'
      - labels of coef: the fit has z, this model x

:func:`rebuild` is ``Model.from_idata``: the model of a fit's stored choices, checked to be the one
fitted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import xarray as xr

from hiermod._version import __version__
from hiermod.errors import (
    FamilyError,
    FitMismatchError,
    FormulaError,
    OptionError,
    PriorError,
    StorageError,
)
from hiermod.inference.fit_groups import read_group
from hiermod.inference.storage import (
    PREFIX,
    check_same_data,
    fingerprint,
    fitted_parameters,
    stored_model,
)
from hiermod.inference.storage_multivariate import (
    check_multivariate_fit,
    is_multivariate_fit,
    stored_multivariate,
)
from hiermod.plan.ir import ModelIR

if TYPE_CHECKING:
    import pandas as pd

    from hiermod.data.design import Design

__all__ = ["check_fit", "fit_differences", "rebuild"]

_SHOWN = 4  # labels shown per difference


def check_fit(ir: ModelIR, fit: xr.DataTree) -> None:
    """Raise :class:`~hiermod.errors.FitMismatchError` unless ``fit`` is a fit of the model planned
    by ``ir`` (see the module docstring). A fit that is not a DataTree, or has no posterior, is a
    :class:`~hiermod.errors.HiermodError` from :func:`~hiermod.inference.fit_groups.read_group`."""
    posterior = read_group(fit)
    differences = fit_differences(ir, posterior)  # cheap: names, shapes and labels
    stored = posterior.attrs.get(f"{PREFIX}fingerprint")
    ours = fingerprint(ir)
    same_version = posterior.attrs.get(f"{PREFIX}version") == __version__
    # (an older hiermod may have hashed otherwise: then what the fit shows decides)
    if not differences and stored is not None and stored != ours and same_version:
        differences = [
            f"{PREFIX}fingerprint: the fit's is {stored!r}, this model's {ours!r}, although its "
            "variables and labels agree (the attribute was altered?)"
        ]
    if differences:
        raise FitMismatchError(
            "this fit does not belong to this model (use the model it was fitted with, e.g. "
            "hm.Model.from_idata(fit, data)):\n" + "\n".join(f"  - {d}" for d in differences)
        )


def fit_differences(ir: ModelIR, posterior: xr.Dataset) -> list[str]:
    """What ``posterior`` (a fit's posterior group) shows that differs from the model of ``ir``:
    the stored formula, family and link; missing free parameters; shapes; labels of each dim."""
    out = []
    for key, ours in (
        ("formula", ir.formula),
        ("family", ir.likelihood.family),
        ("link", ir.likelihood.link),
    ):
        theirs = posterior.attrs.get(f"{PREFIX}{key}")
        if theirs is not None and theirs != ours:
            out.append(f"{key}: the fit's is {theirs!r}, this model's {ours!r}")
    parameters = fitted_parameters(ir)
    # The free parameters are what every use of a fit reads (predictions rebuild the rest from them);
    # a posterior built by hand may lack the deterministics, or the dims' names (b_dim_0).
    missing = [p.name for p in parameters if p.free and p.name not in posterior]
    if missing:
        out.append(f"variables: the fit has no {_listed(missing)}")
    for spec in (p for p in parameters if p.name in posterior):
        shape = tuple(posterior[spec.name].shape[2:])
        if shape != spec.shape:
            out.append(
                f"{spec.name}: the fit's has shape {shape}, this model's {spec.shape} "
                f"(dims {', '.join(spec.dims) or 'none'})"
            )
    for dim, labels in ir.coords.items():
        if dim == "obs" or dim not in posterior.coords:
            continue
        stored = [str(v) for v in posterior[dim].values.tolist()]
        planned = [str(v) for v in labels]
        if stored != planned:
            out.append(f"labels of {dim}: {_label_difference(stored, planned)}")
    return out


def _listed(names: Sequence[Any]) -> str:
    shown = ", ".join(str(n) for n in names[:_SHOWN])
    return shown + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def _label_difference(theirs: list[str], ours: list[str]) -> str:
    """``the fit has c, d not in this model; this model has e not in the fit`` (or the order)."""
    extra = [v for v in theirs if v not in set(ours)]
    lacking = [v for v in ours if v not in set(theirs)]
    if not extra and not lacking:
        return f"the same labels in another order (the fit's: {_listed(theirs)})"
    parts = []
    if extra:
        parts.append(f"the fit has {_listed(extra)} not in this model")
    if lacking:
        parts.append(f"this model has {_listed(lacking)} not in the fit")
    return "; ".join(parts)


class _Compiled(Protocol):
    @property
    def ir(self) -> ModelIR: ...
    @property
    def design(self) -> Design: ...


def rebuild[M: _Compiled](make: Callable[..., M], fit: xr.DataTree, data: pd.DataFrame) -> M:
    """``Model.from_idata``: ``make`` (the model class) on ``data`` with the fit's stored choices
    (:func:`~hiermod.inference.storage.stored_model`), checked to be the model fitted: the same
    observed response (:func:`~hiermod.inference.storage.check_same_data`) and :func:`check_fit`.

    A prior, family, formula or option the model refuses (a prior key that names no parameter, a
    formula without a response, a layout hiermod has not got) is the file's fault, a :class:`~hiermod.errors.StorageError`; a
    ``DataError`` stays one (the data do not suit the formula).
    """
    if is_multivariate_fit(fit):
        return _rebuild_multivariate(make, fit, data)
    spec = stored_model(fit)
    try:
        model = make(
            spec.formula,
            data,
            family=spec.family,
            link=spec.link,
            priors=spec.priors,
            layout=spec.layout,
            centered=spec.centered,
        )
    except (PriorError, FamilyError, FormulaError, OptionError) as error:
        raise StorageError(
            f"this fit's {PREFIX}model holds a choice this model does not accept: {error}"
        ) from None
    check_same_data(model.ir, model.design, fit)
    check_fit(model.ir, fit)
    return model


def _rebuild_multivariate[M](make: Callable[..., M], fit: xr.DataTree, data: pd.DataFrame) -> M:
    """``Model.from_idata`` of a multivariate fit (:mod:`hiermod.inference.storage_multivariate`)."""
    spec = stored_multivariate(fit)
    try:
        model: Any = make(
            spec.formula, data, family=spec.families, rescor=spec.rescor, priors=spec.priors
        )
    except (PriorError, FamilyError, FormulaError, OptionError) as error:
        raise StorageError(
            f"this fit's {PREFIX}model holds a choice this model does not accept: {error}"
        ) from None
    pymc_model = model.pymc
    observed = {
        rv.name: np.asarray(pymc_model.rvs_to_values[rv].data)
        for rv in pymc_model.observed_RVs
        if hasattr(pymc_model.rvs_to_values[rv], "data")
    }
    check_multivariate_fit(pymc_model, fit, observed)
    result: M = model
    return result
