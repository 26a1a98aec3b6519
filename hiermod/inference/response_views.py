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

import numpy as np
import pandas as pd
import xarray as xr

from hiermod.formula.multivariate import MultivariateFormula
from hiermod.inference.fit_groups import read_group
from hiermod.inference.report_multivariate import MultivariateSummary, multivariate_summary
from hiermod.inference.summaries import draw_stats
from hiermod.output.source_multivariate import model_names, tag
from hiermod.plan.ir import ModelIR

__all__ = ["ResponseSummaries", "response_view", "stacked"]


def response_view(ir: ModelIR, response: str, fit: xr.DataTree) -> xr.DataTree:
    """The posterior of ``response``'s variables under its univariate names and dims (no
    attributes: the multivariate fit's formula is not this response's)."""
    names = model_names(ir, response)
    posterior = read_group(fit)
    untag = {tagged: own for own, tagged in names.items() if tagged != own}
    # its tagged variables, and the shared ones (a variable named as an untagged name of this
    # response is another's: the union of an ID shared across responses, chol_g_id_p)
    mine = [v for v in posterior.data_vars if str(v) in untag or names.get(str(v)) == str(v)]
    dataset = posterior[mine]
    renames = {k: v for k, v in untag.items() if k in dataset.variables or k in dataset.dims}
    dataset = dataset.rename(renames)
    dataset = dataset.assign(_shared_parts(ir, response, posterior))
    dataset.attrs = {}
    return xr.DataTree.from_dict({"posterior": dataset})


def _shared_parts(ir: ModelIR, response: str, posterior: xr.Dataset) -> dict[str, xr.DataArray]:
    """A response's own joint of an ID shared with other responses, from the shared one: its
    columns S of the union covariance ``L Lᵀ`` give its Cholesky factor ``chol(Σ_SS)`` (packed as
    ``pm.LKJCholeskyCov`` packs), its correlations, and ``z`` with ``z_S @ chol_S.T`` equal to its
    effects ``r_S = z @ L[S].T``: the univariate model of the response at the same effects."""
    out: dict[str, xr.DataArray] = {}
    for predictor in ir.predictors:
        for block in predictor.blocks:
            joint = block.joint
            if joint is None or not block.joint_owner or f"z_{joint.stem}" not in posterior:
                continue
            assert block.chol is not None
            assert block.corr is not None
            assert block.z is not None
            union = posterior[f"z_{joint.stem}"]
            labels = [str(v) for v in union[union.dims[-1]].values]
            dpars = [d for d, _ in ir.likelihood.dpars]
            first = labels.index(tag(joint.term_labels[0], response, dpars))
            columns = slice(first, first + joint.size)
            k = len(labels)
            packed = posterior[f"chol_{joint.stem}"].values
            full = np.zeros((*packed.shape[:2], k, k))
            full[..., *np.tril_indices(k)] = packed
            own_rows = full[..., columns, :]
            cov = own_rows @ np.swapaxes(own_rows, -1, -2)
            chol = np.linalg.cholesky(cov)
            r = np.einsum("cdlk,cdjk->cdlj", union.values, own_rows)
            z = np.linalg.solve(chol[:, :, None], r[..., None])[..., 0]
            sd = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
            corr = cov / (sd[..., :, None] * sd[..., None, :])
            pairs = np.triu_indices(joint.size, 1)
            dims = ("chain", "draw")
            packed_own = chol[..., *np.tril_indices(joint.size)]
            out[block.chol.name] = xr.DataArray(
                packed_own, dims=(*dims, f"{block.chol.name}_dim_0")
            )
            out[block.corr.name] = xr.DataArray(corr[..., *pairs], dims=(*dims, *block.corr.dims))
            out[block.z.name] = xr.DataArray(z, dims=(*dims, *block.z.dims))
    return out


def _shared_stems(models: Any, posterior: xr.Dataset) -> list[tuple[str, str]]:
    """The joints shared across responses (their union is in the fit untagged), with their
    grouping's text, each once."""
    found: dict[str, str] = {}
    for model in models:
        for predictor in model.ir.predictors:
            for block in predictor.blocks:
                stem = block.joint.stem if block.joint is not None else ""
                if stem and f"corr_{stem}" in posterior:
                    found.setdefault(stem, str(block.block.grouping))
    return list(found.items())


def stacked(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The responses' tables one above the other, with a leading ``response`` index level."""
    return pd.concat(dict(tables), names=["response"])


class ResponseSummaries:
    """The summaries of a multivariate model (``models``: each response's ``hm.Model``)."""

    models: dict[str, Any]
    formula: MultivariateFormula
    data: pd.DataFrame
    rescor: bool

    def fixef(self, idata: Any) -> pd.DataFrame:  # the model's (hiermod.multivariate)
        raise NotImplementedError

    def rescor_summary(self, idata: Any) -> pd.DataFrame:  # the model's
        raise NotImplementedError

    def tagged(self, name: str, response: str) -> str:  # the model's
        raise NotImplementedError

    def summary(self, idata: Any, *, prob: float = 0.95) -> MultivariateSummary:
        """The whole fit, as ``Model.summary``: every response's tables and the residual
        correlations (:mod:`hiermod.inference.report_multivariate`); shown once in a notebook."""
        tables = {
            "fixef": self.fixef(idata),
            "varcorr": self.varcorr(idata, prob=prob),
            "corr": self.corr(idata, prob=prob),
        }
        if self.rescor:
            tables["rescor"] = self.rescor_summary(idata)
        return multivariate_summary(
            formula=str(self.formula),
            models=self.models,
            tagged=self.tagged,
            n_rows=len(self.data),
            idata=idata,
            tables=tables,
            prob=prob,
        )

    def varcorr(self, idata: Any, *, prob: float = 0.95) -> pd.DataFrame:
        """Each response's ``Model.varcorr`` (group sds, its residual sd, mean correlations) on its
        part of the joint fit, under a leading ``response`` index level."""
        return stacked(
            {r: m.varcorr(response_view(m.ir, r, idata), prob=prob) for r, m in self.models.items()}
        )

    def corr(self, idata: Any, *, prob: float = 0.95) -> pd.DataFrame:
        """Each response's group-level correlations (``Model.corr``), by response; an ID shared
        across responses adds its correlations over the union under the response ``all``
        (``(all, g, y1_Intercept, y2_Intercept)``)."""
        tables = {
            r: m.corr(response_view(m.ir, r, idata), prob=prob) for r, m in self.models.items()
        }
        posterior = read_group(idata)
        for stem, grouping in _shared_stems(self.models.values(), posterior):
            draws = posterior[f"corr_{stem}"]
            pairs = [str(p).split(", ") for p in draws[draws.dims[-1]].values]
            table = draw_stats(draws.values, [str(k) for k in range(len(pairs))], prob)
            table.index = pd.MultiIndex.from_tuples(
                [(grouping, a, b) for a, b in pairs], names=["group", "term1", "term2"]
            )
            tables["all"] = pd.concat([tables.get("all"), table]) if "all" in tables else table
        return stacked(tables)

    def ranef(self, idata: Any, *, prob: float = 0.95) -> dict[str, dict[str, pd.DataFrame]]:
        """Each response's group-level effects per level (``Model.ranef``), by response."""
        return {
            r: m.ranef(response_view(m.ir, r, idata), prob=prob) for r, m in self.models.items()
        }

    def coef(self, idata: Any, *, prob: float = 0.95) -> dict[str, dict[str, pd.DataFrame]]:
        """Each response's population plus group effects per level (``Model.coef``), by response."""
        return {r: m.coef(response_view(m.ir, r, idata), prob=prob) for r, m in self.models.items()}
