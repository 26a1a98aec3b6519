"""One response's fit inside a multivariate fit: the posterior under the response's own names.

A multivariate model (``mvbind(y1, y2) ~ x + (1 | g)``) tags every name of each response's model
(``y1_b``, ``y1_sd_g``, dims ``y1_coef``; :func:`hiermod.output.source_multivariate.model_names`).
:func:`response_view` renames one response's variables and dims back (``y1_sd_g`` → ``sd_g``) and
keeps only them, so the response's univariate model reads its part of the fit with the summaries
it already has (``varcorr``, ``ranef``, ``corr``, ``coef``): nothing is computed twice, and the
numbers are those of the joint posterior (with residual correlation, the responses were fitted
together). :func:`stacked` puts the responses' tables one above the other under a ``response``
index level. Example: ``m.varcorr(fit)`` has the rows ``(y1, g, Intercept)``, ``(y2, g,
Intercept)`` and ``(y1, Residual, sigma)`` from ``sigma_y1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import xarray as xr

from hiermod.inference.fit_groups import read_group
from hiermod.output.source_multivariate import model_names
from hiermod.plan.ir import ModelIR

__all__ = ["ResponseSummaries", "response_view", "stacked"]


def response_view(ir: ModelIR, response: str, fit: xr.DataTree) -> xr.DataTree:
    """The posterior of ``response``'s variables under its univariate names and dims (no
    attributes: the multivariate fit's formula is not this response's)."""
    names = model_names(ir, response)
    posterior = read_group(fit)
    untag = {tagged: own for own, tagged in names.items() if tagged != own}
    mine = [v for v in posterior.data_vars if str(v) in untag or str(v) in names]
    dataset = posterior[mine]
    renames = {k: v for k, v in untag.items() if k in dataset.variables or k in dataset.dims}
    dataset = dataset.rename(renames)
    dataset.attrs = {}
    return xr.DataTree.from_dict({"posterior": dataset})


def stacked(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The responses' tables one above the other, with a leading ``response`` index level."""
    return pd.concat(dict(tables), names=["response"])


class ResponseSummaries:
    """The summaries of a multivariate model (``models``: each response's ``hm.Model``)."""

    models: dict[str, Any]

    def varcorr(self, idata: Any, *, prob: float = 0.95) -> pd.DataFrame:
        """Each response's ``Model.varcorr`` (group sds, its residual sd, mean correlations) on its
        part of the joint fit, under a leading ``response`` index level."""
        return stacked(
            {r: m.varcorr(response_view(m.ir, r, idata), prob=prob) for r, m in self.models.items()}
        )

    def corr(self, idata: Any, *, prob: float = 0.95) -> pd.DataFrame:
        """Each response's group-level correlations (``Model.corr``), by response."""
        return stacked(
            {r: m.corr(response_view(m.ir, r, idata), prob=prob) for r, m in self.models.items()}
        )

    def ranef(self, idata: Any, *, prob: float = 0.95) -> dict[str, dict[str, pd.DataFrame]]:
        """Each response's group-level effects per level (``Model.ranef``), by response."""
        return {
            r: m.ranef(response_view(m.ir, r, idata), prob=prob) for r, m in self.models.items()
        }

    def coef(self, idata: Any, *, prob: float = 0.95) -> dict[str, dict[str, pd.DataFrame]]:
        """Each response's population plus group effects per level (``Model.coef``), by response."""
        return {r: m.coef(response_view(m.ir, r, idata), prob=prob) for r, m in self.models.items()}
