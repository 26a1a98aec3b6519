"""The fits that are not NUTS draws: mean-field ADVI and the posterior mode (MAP).

Each comes with the warning of what it cannot do for a hierarchical model (said once per fit):
ADVI underestimates the group sds, a MAP of centred group effects has no mode to find.
:func:`hiermod.inference.fit.fit` calls them for ``method="advi"`` and ``method="map"``.
"""

from __future__ import annotations

import warnings
from typing import Any

import pymc as pm
import xarray as xr

from hiermod.plan.ir import ModelIR
from hiermod.warnings import FitWarning, user_stacklevel


def advi(
    model: pm.Model,
    draws: int,
    random_seed: int | None,
    progressbar: bool,
    kwargs: dict[str, Any],
) -> xr.DataTree:
    n = int(kwargs.pop("n", 20_000))
    approx = pm.fit(
        n=n, method="advi", model=model, random_seed=random_seed, progressbar=progressbar, **kwargs
    )
    result = approx.sample(draws, random_seed=random_seed)
    assert isinstance(result, xr.DataTree)
    return result


def warn_if_advi_on_groups(ir: ModelIR) -> None:
    """Mean-field ADVI treats each group effect and its sd as independent, so it shrinks the sds
    and with them the uncertainty: sleepstudy's ``Reaction ~ Days + (Days | Subject)`` gave Days
    3.07 ± 0.68 where NUTS gives 10.3 ± 1.7 (issue 13). Said once per fit."""
    groupings = sorted({":".join(b.block.factors) for p in ir.predictors for b in p.blocks})
    if groupings:
        warnings.warn(
            f"method='advi' on a model with group-level effects ({', '.join(groupings)}): "
            "mean-field ADVI ignores the dependence between group effects and their sds and "
            "typically underestimates the sds and the uncertainty of every estimate, and may shift "
            "the estimates themselves; use it for a first look only and fit with "
            "method='nuts' for estimates",
            FitWarning,
            stacklevel=user_stacklevel(),
        )


def map_fit(
    model: pm.Model, random_seed: int | None, progressbar: bool, kwargs: dict[str, Any]
) -> xr.DataTree:
    """The mode from the model's initial point (no jitter: the same answer on every call).

    PyMC's "The optimizer did not converge" (a UserWarning) becomes a FitWarning that says what it
    usually means for these models; other warnings pass through as they are.
    """
    kwargs.setdefault("jitter", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = pm.find_MAP(
            model=model,
            progressbar=progressbar,
            random_seed=random_seed,
            return_inferencedata=True,
            **kwargs,
        )
    for warning in caught:
        text = str(warning.message)
        if warning.category is UserWarning and text.startswith("The optimizer did not converge"):
            reason = text.partition(":")[2].strip(" :") or "no reason given"
            warnings.warn(
                f"method='map': the optimizer stopped before it converged ({reason}); the mode "
                "is often on a boundary for hierarchical models (a group sd at 0), where the "
                "values returned say little: fit with NUTS, or simplify the group terms",
                FitWarning,
                stacklevel=user_stacklevel(),
            )
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    assert isinstance(result, xr.DataTree)
    return result


def warn_if_centred_mode(ir: ModelIR) -> None:
    """MAP of a centred block: its density grows without bound as its sd goes to 0 with every
    level at the mean (beta_l ~ N(mean, sd)), so the mode the optimizer looks for is not there."""
    centred = [
        f"{':'.join(b.block.factors)} in {p.dpar}"
        for p in ir.predictors
        for b in p.blocks
        if b.centered
    ]
    if centred:
        warnings.warn(
            f"method='map' on centred group effects ({', '.join(centred)}): their density is "
            "unbounded as the group sd goes to 0, so the optimizer may not converge and the mode "
            "says little; fit with NUTS, or build the model with centered=False for a MAP",
            FitWarning,
            stacklevel=user_stacklevel(),
        )
