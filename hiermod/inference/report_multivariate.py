"""The summary of a multivariate fit: the univariate summary's layout (text and HTML, shown once in
a notebook) with every response's tables and brms's residual correlations.

``m.summary(fit)`` of ``mvbind(y1, y2) ~ x + (1 | g)`` shows the population effects with brms's row
names (``y1_Intercept``, ``sigma_y1_x``), the residual correlations (``rescor__y1__y2``), each
response's group sds and residual sd under a ``response`` level, the group correlations (an ID
shared across responses under the response ``all``) and the sampler's diagnostics over every
variable but the standard-normal offsets and correlation matrices (:func:`diagnostics.unchecked`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import xarray as xr

from hiermod.inference.diagnostics import diagnose, unchecked
from hiermod.inference.fit_groups import read_group
from hiermod.inference.report import Summary, fit_line
from hiermod.inference.summaries import stat_names

__all__ = ["MultivariateSummary", "multivariate_summary"]


@dataclass(frozen=True, eq=False, repr=False)
class MultivariateSummary(Summary):
    """:class:`~hiermod.inference.report.Summary` with the residual correlations."""

    rescor: pd.DataFrame = field(default_factory=pd.DataFrame)

    def sections(self) -> list[tuple[str, pd.DataFrame]]:
        shown = super().sections()
        if len(self.rescor):
            shown.insert(1, ("Residual correlations (brms's rescor):", self.rescor))
        return shown


def multivariate_summary(
    *,
    formula: str,
    models: Mapping[str, Any],
    tagged: Callable[[str, str], str],
    n_rows: int,
    idata: xr.DataTree,
    tables: Mapping[str, pd.DataFrame],
    prob: float,
) -> MultivariateSummary:
    """The summary of a fit of the multivariate model whose responses' models are ``models``;
    ``tables`` holds its fixef, varcorr, corr and rescor tables."""
    families = ", ".join(f"{r}: {m.family.name} (link: {m.link})" for r, m in models.items())
    groups = sorted({str(b.block.grouping) for m in models.values() for b in _blocks(m)})
    skip = [tagged(name, r) for r, m in models.items() for name in unchecked(m.ir)]
    skip += [n for n in _names(idata) if n.startswith(("z_", "corr_"))]  # a shared union's
    varcorr = tables["varcorr"]
    corr_columns = [c for c in varcorr.columns if str(c).startswith("corr[")]
    return MultivariateSummary(
        formula=formula,
        family=families,
        data=f"{n_rows} observations; groups: {', '.join(groups) or 'none'}",
        fit=fit_line(idata),
        prob=prob,
        fixef=tables["fixef"],
        varcorr=varcorr.drop(columns=corr_columns),
        correlations=tables["corr"],
        dpars={},
        dpar_links={},
        family_parameters=pd.DataFrame(columns=list(stat_names(prob))),
        diagnostics=diagnose(idata, skip),
        rescor=tables.get("rescor", pd.DataFrame()),
    )


def _blocks(model: Any) -> list[Any]:
    return [b for p in model.ir.predictors for b in p.blocks]


def _names(idata: xr.DataTree) -> list[str]:
    return [str(n) for n in read_group(idata).data_vars]
