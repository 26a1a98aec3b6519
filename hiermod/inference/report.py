"""``Model.summary``: the whole fit, like ``summary(lmer_fit)`` but Bayesian, as one value.

:func:`summary` returns a :class:`Summary`: the head (formula, family, data, fit), the tables of
:mod:`hiermod.inference.summaries` at one ``prob`` and the sampler diagnostics. It shows itself once
wherever it lands: ``print(s)`` / ``str(s)`` / ``repr(s)`` give the text (so a REPL shows it, and
``hiermod fit`` prints it), a notebook shows ``_repr_html_``, the same tables as HTML. Both are
pandas' own ``to_string`` / ``to_html`` of the same formatted tables (numbers to 4 significant
digits, R-hat to 3 decimals, ESS whole, blanks where a statistic is not defined), so nothing here
pads columns by hand. The tables stay DataFrames: ``s.fixef``, ``s.varcorr`` (as ``m.varcorr``),
``s.correlations``, ``s.dpars["sigma"]`` (its rows ``sigma_Intercept``, …), ``s.family_parameters``;
``s.diagnostics`` is the :class:`~hiermod.inference.diagnostics.Diagnostics`.
"""

from __future__ import annotations

import html
import textwrap
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from hiermod.arguments import check_flag
from hiermod.data.design import Design
from hiermod.inference.diagnostics import Diagnostics, diagnose, unchecked
from hiermod.inference.fit_groups import read_group
from hiermod.inference.intervals import DEFAULT_PROB, check_prob, interval_label, interval_names
from hiermod.inference.summaries import (
    correlations,
    family_parameters,
    fixef,
    gp_parameters,
    smooth_sds,
    varcorr,
)
from hiermod.plan.ir import BlockIR, ModelIR
from hiermod.warnings import user_stacklevel

__all__ = ["Summary", "fit_line", "summary"]


def _number(v: float) -> str:
    return f"{v:.4g}"


def _blank_or(spec: str) -> Callable[[object], str]:
    """A column formatter: ``spec`` for a number, a blank where the statistic is not defined
    (``".3f"``: an R-hat of 1.00213 shows as ``1.002``, NaN as nothing)."""

    def shown(value: object) -> str:
        number = float(value)  # type: ignore[arg-type]
        return "" if np.isnan(number) else format(number, spec)

    return shown


_FORMATTERS = {"r_hat": _blank_or(".3f"), "ess_bulk": _blank_or(".0f")}


def _formatters(table: pd.DataFrame) -> dict[str, Callable[[object], str]]:
    return {name: f for name, f in _FORMATTERS.items() if name in table.columns}


@dataclass(frozen=True, eq=False, repr=False)
class Summary:
    """The summary of one fit (see the module docstring); ``prob`` is its tables' interval."""

    formula: str
    family: str
    data: str
    fit: str
    prob: float
    fixef: pd.DataFrame
    varcorr: pd.DataFrame
    correlations: pd.DataFrame
    dpars: Mapping[str, pd.DataFrame]
    dpar_links: Mapping[str, str]
    family_parameters: pd.DataFrame
    diagnostics: Diagnostics
    gps: pd.DataFrame = field(default_factory=pd.DataFrame)  # gp(): sdgp, lscale
    smooths: pd.DataFrame = field(default_factory=pd.DataFrame)  # sds_… of each s(x)

    def head(self) -> dict[str, str]:
        """The lines above the tables, by label: Formula, Family, Data, Fit."""
        return {"Formula": self.formula, "Family": self.family, "Data": self.data, "Fit": self.fit}

    def sections(self) -> list[tuple[str, pd.DataFrame]]:
        """(title, table) of each table the summary shows, in order; empty tables left out."""
        lower, upper = interval_names(self.prob)
        shown = [
            (
                f"Population-level effects ({lower}, {upper}: "
                f"{interval_label(self.prob)}, equal-tailed):",
                self.fixef,
            )
        ]
        if len(self.smooths):
            shown.append(
                ("Smooth terms (sd of each smooth's penalised coefficients):", self.smooths)
            )
        if len(self.varcorr):
            corr = [c for c in self.varcorr.columns if str(c).startswith("corr[")]
            title = "Group-level standard deviations and residual sd:"
            shown.append((title, self.varcorr.drop(columns=corr)))
        if len(self.correlations):
            shown.append(("Group-level correlations:", self.correlations))
        if len(self.gps):
            shown.append(("Gaussian processes (gp()): marginal sd and length-scale:", self.gps))
        for dpar, table in self.dpars.items():
            link = self.dpar_links[dpar]
            title = f"Distributional parameter {dpar} ({link} link): population effects"
            shown.append((title, table))
        if len(self.family_parameters):
            shown.append(("Family parameters:", self.family_parameters))
        return shown

    @property
    def text(self) -> str:
        """The summary as text (``str(s)``)."""
        width = max(len(label) for label in self.head()) + 1
        lines = [f"{label + ':':<{width}} {value}" for label, value in self.head().items()]
        for title, table in self.sections():
            shown = table.to_string(formatters=_formatters(table), float_format=_number, na_rep="")
            tidy = "\n".join(line.rstrip() for line in shown.splitlines())
            lines += ["", title, textwrap.indent(tidy, "  ")]
        lines += ["", f"Sampler diagnostics: {self.diagnostics.line()}"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        """The notebook view: the head, then each table as pandas' HTML."""
        head = pd.Series(self.head()).to_frame().to_html(header=False)
        parts = [f"<div>{head}"]
        for title, table in self.sections():
            parts.append(f"<p><b>{html.escape(title)}</b></p>")
            parts.append(
                table.to_html(formatters=_formatters(table), float_format=_number, na_rep="")
            )
        parts.append(f"<p>Sampler diagnostics: {html.escape(self.diagnostics.line())}</p></div>")
        return "".join(parts)


def _blocks(ir: ModelIR) -> list[BlockIR]:
    return [b for p in ir.predictors for b in p.blocks]


def _groups_line(ir: ModelIR) -> str:
    seen: dict[str, str] = {}
    for block in _blocks(ir):
        key = str(block.block.grouping)
        if key in seen:
            continue
        if block.layout == "single":
            seen[key] = f"{key} ({block.n_levels} levels)"
        else:
            seen[key] = (
                f"{key} ({block.n_cells_observed} observed cells, {block.layout} layout "
                f"with {block.n_levels} levels)"
            )
    return "; ".join(seen.values()) if seen else "none"


def _n_observations(ir: ModelIR, design: Design, streamed: bool) -> int:
    """Rows the model was fitted to (a streamed model counts them in its sufficient statistics)."""
    reduced = ir.suffstats
    if streamed and reduced is not None:
        return int(reduced.n_rows)
    return design.n


def fit_line(idata: xr.DataTree) -> str:
    """The fit line of a summary: method, sampler, chains × draws, tuning and time."""
    attrs = read_group(idata).attrs
    method = attrs.get("hiermod_method", "nuts")
    chains = read_group(idata).sizes["chain"]
    draws = read_group(idata).sizes["draw"]
    seconds = attrs.get("hiermod_seconds")
    took = f" in {float(seconds):.1f} s" if seconds is not None else ""
    if method == "nuts":
        sampler = attrs.get("hiermod_sampler", "pymc")
        tune = attrs.get("hiermod_tune", attrs.get("tuning_steps", "?"))
        return f"NUTS ({sampler}): {chains} chains × {draws} draws after {tune} tuning steps{took}"
    if method == "map":
        return f"posterior mode (MAP), one point{took}: no uncertainty"
    return f"{method} approximation: {draws} draws{took}"


def _show(show: bool | None) -> bool:
    """``show=`` of old, when a summary was printed and returned as text: deprecated, since the
    :class:`Summary` shows itself (``show=True`` still prints it, until the argument goes)."""
    if show is None:
        return False
    check_flag("show", show)
    warnings.warn(
        "Model.summary(show=...) is deprecated and will be removed: the summary shows itself "
        "in a notebook or REPL; print(m.summary(fit)) prints it",
        FutureWarning,
        stacklevel=user_stacklevel(),
    )
    return show


def summary(
    ir: ModelIR,
    design: Design,
    idata: xr.DataTree,
    *,
    streamed: bool = False,
    prob: float = DEFAULT_PROB,
    show: bool | None = None,
) -> Summary:
    """The whole fit: formula, family, data, effects, variance components, diagnostics.

    ``design`` is the data the model was compiled from (``streamed``: its last chunk; the rows are
    then counted by the sufficient statistics). ``show`` is deprecated (see :func:`_show`).
    """
    prob = check_prob(prob)
    printed = _show(show)
    read_group(idata)  # a fit, or an error saying what is expected
    dpars: dict[str, pd.DataFrame] = {}
    for predictor in ir.predictors[1:]:
        table = fixef(ir, idata, predictor.dpar, prob=prob)
        table.index = pd.Index([f"{predictor.dpar}_{label}" for label in table.index], name="coef")
        dpars[predictor.dpar] = table
    result = Summary(
        formula=str(ir.formula),
        family=f"{ir.likelihood.family} (link: {ir.likelihood.link})",
        data=f"{_n_observations(ir, design, streamed)} observations; groups: {_groups_line(ir)}",
        fit=fit_line(idata),
        prob=prob,
        fixef=fixef(ir, idata, prob=prob),
        varcorr=varcorr(ir, idata, prob=prob),
        correlations=correlations(ir, idata, prob=prob),
        dpars=dpars,
        dpar_links={p.dpar: p.link for p in ir.predictors[1:]},
        family_parameters=family_parameters(ir, idata, prob=prob),
        diagnostics=diagnose(idata, unchecked(ir)),
        gps=gp_parameters(ir, idata, prob=prob),
        smooths=smooth_sds(ir, idata, prob=prob),
    )
    if printed:
        print(result.text)
    return result
