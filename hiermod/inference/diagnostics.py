"""Sampler diagnostics after NUTS: divergences, tree depth, R-hat and bulk ESS, in one place.

:func:`diagnose` reduces a fit (``xarray.DataTree``) to a :class:`Diagnostics` value; :func:`warn_if_problems`
turns its problems into **one** :class:`~hiermod.warnings.SamplingWarning` that lists every problem
and the usual remedies (never one warning per parameter). ``Model.summary`` prints
:meth:`Diagnostics.line`.

R-hat and ESS are checked on every parameter except the non-centred offsets ``z_*`` and the
correlation matrices (see :func:`unchecked`). Thresholds follow Vehtari et al. (2021), "Rank-normalization, folding, and localization: an improved
R-hat", as PyMC and Stan use them: R-hat above 1.01, or fewer than 100 effective draws per chain.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection
from dataclasses import dataclass

import arviz as az
import numpy as np
import xarray as xr

from hiermod.inference.fit_groups import read_group
from hiermod.plan.ir import ModelIR
from hiermod.warnings import SamplingWarning, user_stacklevel

__all__ = [
    "ESS_PER_CHAIN_MIN",
    "RHAT_MAX",
    "Diagnostics",
    "diagnose",
    "unchecked",
    "warn_if_problems",
]

RHAT_MAX = 1.01
ESS_PER_CHAIN_MIN = 100

REMEDIES = (
    "more tuning steps (tune=2000) and draws",
    "a smaller step size: target_accept=0.95 (fit(..., target_accept=0.95))",
    "reparameterise: drop or simplify group terms the data cannot inform, use (x || g) "
    "instead of (x | g), or centre/scale predictors",
    "check the priors (m.priors); weakly informative priors on sd_* help small groups",
)


@dataclass(frozen=True, slots=True)
class Diagnostics:
    """What the sampler and the convergence statistics say about one fit.

    ``None`` means "not available" (no sampler statistics after ADVI or MAP; R-hat and ESS need at
    least four draws).
    """

    chains: int
    draws: int
    divergences: int | None = None
    treedepth_hits: int | None = None
    rhat_max: float | None = None
    rhat_worst: str = ""
    n_rhat_bad: int = 0
    ess_min: float | None = None
    ess_worst: str = ""
    n_ess_bad: int = 0

    @property
    def ess_threshold(self) -> float:
        return float(ESS_PER_CHAIN_MIN * self.chains)

    def problems(self) -> list[str]:
        """Readable descriptions of each problem found (empty when the fit looks healthy)."""
        out: list[str] = []
        total = self.chains * self.draws
        if self.divergences:
            share = self.divergences / max(total, 1)
            out.append(
                f"{self.divergences} divergent transitions after tuning ({share:.1%} of {total} draws)"
            )
        if self.treedepth_hits:
            out.append(
                f"{self.treedepth_hits} draws reached the maximum tree depth (slow exploration)"
            )
        if self.n_rhat_bad and self.rhat_max is not None:
            out.append(
                f"R-hat above {RHAT_MAX} for {self.n_rhat_bad} parameter values "
                f"(worst: {self.rhat_worst} = {self.rhat_max:.3f}): chains disagree"
            )
        if self.n_ess_bad and self.ess_min is not None:
            out.append(
                f"bulk ESS below {self.ess_threshold:.0f} ({ESS_PER_CHAIN_MIN} per chain) for "
                f"{self.n_ess_bad} parameter values (worst: {self.ess_worst} = {self.ess_min:.0f})"
            )
        return out

    def line(self) -> str:
        """One line for summaries: divergences, max R-hat, min bulk ESS."""
        parts = []
        if self.divergences is not None:
            parts.append(f"{self.divergences} divergent transitions")
        if self.treedepth_hits:
            parts.append(f"{self.treedepth_hits} at max tree depth")
        if self.rhat_max is not None:
            parts.append(f"max R-hat {self.rhat_max:.3f} ({self.rhat_worst})")
        if self.ess_min is not None:
            parts.append(f"min bulk ESS {self.ess_min:.0f} ({self.ess_worst})")
        return "; ".join(parts) if parts else "no sampler diagnostics (not an MCMC fit)"


def _label(da: xr.DataArray, flat_index: int) -> str:
    """``name[coord, coord]`` of one element of ``da`` (row-major ``flat_index``)."""
    if not da.dims:
        return str(da.name)
    position = np.unravel_index(flat_index, da.shape)
    labels = [str(da[dim].values[i]) for dim, i in zip(da.dims, position, strict=True)]
    return f"{da.name}[{', '.join(labels)}]"


def _worst(stats: xr.Dataset, worst_is_max: bool, bad: float) -> tuple[float | None, str, int]:
    """The worst value over every variable, its label, and how many values cross ``bad``."""
    best_value: float | None = None
    best_label = ""
    n_bad = 0
    for name, da in stats.data_vars.items():
        values = np.asarray(da.values, dtype=float).ravel()
        finite = np.isfinite(values)
        if not finite.any():
            continue
        masked = np.where(finite, values, -np.inf if worst_is_max else np.inf)
        i = int(np.argmax(masked) if worst_is_max else np.argmin(masked))
        n_bad += int(np.sum(values[finite] > bad if worst_is_max else values[finite] < bad))
        value = float(values[i])
        if best_value is None or (value > best_value if worst_is_max else value < best_value):
            best_value, best_label = value, _label(da.rename(name), i)
    return best_value, best_label, n_bad


def _checked_variables(posterior: xr.Dataset, skip: Collection[str]) -> list[str]:
    """Every posterior variable but per-row values and the names in ``skip``."""
    return [
        str(name)
        for name, da in posterior.data_vars.items()
        if "obs" not in da.dims and str(name) not in skip
    ]


def unchecked(ir: ModelIR) -> tuple[str, ...]:
    """Variables of a model that the convergence checks leave out, and why.

    The standard-normal offsets ``z_*`` of the non-centred parameterisation mean nothing on their
    own: they are checked through the effects ``r_* = z_* @ chol.T`` (or ``z_* * sd``) that users
    interpret. Correlation matrices have a constant diagonal (R-hat undefined) and off-diagonal
    values that are functions of the Cholesky factor, which is checked.
    """
    return tuple(p.name for p in ir.parameters() if p.role in ("group_offsets", "group_corr"))


def diagnose(idata: xr.DataTree, skip: Collection[str] = ()) -> Diagnostics:
    """Divergences, tree-depth hits, worst R-hat and worst bulk ESS of a fit.

    ``skip`` names variables left out of the R-hat and ESS checks (see :func:`unchecked`).
    """
    posterior = read_group(idata)
    chains, draws = int(posterior.sizes["chain"]), int(posterior.sizes["draw"])
    divergences = treedepth = None
    if "sample_stats" in idata.children:
        stats = read_group(idata, "sample_stats")
        if "diverging" in stats:
            divergences = int(stats["diverging"].sum())
        if "reached_max_treedepth" in stats:
            treedepth = int(stats["reached_max_treedepth"].sum())
    if draws < 4 or "sample_stats" not in idata.children:
        return Diagnostics(chains, draws, divergences, treedepth)
    names = _checked_variables(posterior, skip)
    subset = posterior[names]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # constant draws give nan, skipped below
        rhat = az.rhat(subset)
        ess = az.ess(subset, method="bulk")
    rhat_max, rhat_worst, n_rhat = _worst(rhat, True, RHAT_MAX)
    ess_min, ess_worst, n_ess = _worst(ess, False, ESS_PER_CHAIN_MIN * chains)
    return Diagnostics(
        chains,
        draws,
        divergences,
        treedepth,
        rhat_max,
        rhat_worst,
        n_rhat,
        ess_min,
        ess_worst,
        n_ess,
    )


def warning_text(diagnostics: Diagnostics) -> str | None:
    """The text of the single sampling warning, or ``None`` when there is nothing to say."""
    problems = diagnostics.problems()
    if not problems:
        return None
    lines = ["the sampler reported problems; treat this fit's estimates with care:"]
    lines += [f"  - {p}" for p in problems]
    lines.append("usual remedies:")
    lines += [f"  - {r}" for r in REMEDIES]
    return "\n".join(lines)


def warn_if_problems(idata: xr.DataTree, skip: Collection[str] = ()) -> Diagnostics:
    """Diagnose ``idata`` and issue one :class:`SamplingWarning` listing every problem found."""
    diagnostics = diagnose(idata, skip)
    text = warning_text(diagnostics)
    if text is not None:
        warnings.warn(text, SamplingWarning, stacklevel=user_stacklevel())
    return diagnostics
