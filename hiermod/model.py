"""``hm.Model``: the one place that composes the pipeline stages.

``text → parse → expand → bind(data) → lower → build`` (DESIGN.md §1). Each stage's value stays
inspectable: ``m.formula`` (canonical formula), ``m.design`` (schema + arrays), ``m.ir`` (the plan),
``m.pymc`` (the PyMC model, built once and cached).

The stages (:mod:`hiermod.formula`, :mod:`hiermod.data`, :mod:`hiermod.plan`, :mod:`hiermod.output`,
:mod:`hiermod.inference`) take and return plain values and never import this module; here they are
put together. :class:`Model` is written in three layers: ``_Compiled`` (the stages' values, the PyMC
models and what they show without a fit), ``_Fitting`` (fitting, then predictions and summaries from
the fit) and ``Model`` itself (compiling the stages from a formula and data, or rebuilding them from
a saved fit). :func:`stream_model` compiles a model from data larger than memory and
:func:`distributional_parameters` reads every distributional parameter from a fit.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd
import pymc as pm
import xarray as xr

from hiermod.data.binder import bind
from hiermod.data.design import Design
from hiermod.data.engines import is_dask_frame
from hiermod.data.families import Family, get_family
from hiermod.data.stream import Source
from hiermod.errors import FormulaError, HiermodError
from hiermod.formula.expand import expand
from hiermod.formula.multivariate import is_multivariate
from hiermod.formula.parser import parse_syntax
from hiermod.formula.terms import ModelFormula
from hiermod.inference.summary_methods import SummaryMethods
from hiermod.interpret.checks import ModelChecks
from hiermod.interpret.methods import EffectsMethods
from hiermod.multivariate import MultivariateModel
from hiermod.output.module import build, load_module
from hiermod.plan.collapse import plan_collapse
from hiermod.plan.ir import ModelIR
from hiermod.plan.lower import LowerOptions, lower
from hiermod.plan.lower_blocks import Centring
from hiermod.plan.merge import plan_merge
from hiermod.plan.options import check_model_options, check_stream_options
from hiermod.plan.overview import describe_table, overview_html, overview_text, priors_table
from hiermod.plan.priors import Prior
from hiermod.plan.reduce import stream_stages
from hiermod.plan.suffstats import SuffStatsError, plan_suffstats
from hiermod.updating import ModelCall

__all__ = ["Model", "distributional_parameters", "stream_model"]


def _combine(formula: str | ModelFormula, dpar_formulas: Mapping[str, str]) -> ModelFormula:
    """The formula, plus distributional formulas given as keywords (``sigma="~ (1 | g)"``)."""
    if isinstance(formula, ModelFormula):
        if not dpar_formulas:
            return formula
        text = formula.text or str(formula)
    else:
        text = formula
    for name, rhs in dpar_formulas.items():
        rhs_text = rhs.strip()
        text = f"{text}\n{name} {rhs_text if rhs_text.startswith('~') else '~ ' + rhs_text}"
    return expand(parse_syntax(text))


class _Compiled:
    """The stages of a compiled model, the PyMC models built from them, and what they show
    without a fit: the parameter and prior tables, the source, the graph, the overview."""

    formula: ModelFormula
    family: Family
    link: str
    data: pd.DataFrame | None
    design: Design
    options: LowerOptions
    ir: ModelIR

    @property
    def streamed(self) -> bool:
        """Whether the model was compiled from data streamed in chunks (it keeps no rows)."""
        return self.ir.streamed

    @functools.cached_property
    def _module(self) -> types.ModuleType:
        """The generated source run as a module: ``Model.pymc`` is its ``build_model``."""
        return load_module(self.source())

    @functools.cached_property
    def pymc(self) -> pm.Model:
        """The PyMC model used for fitting (built on first use, then cached): exactly the module
        :meth:`source` prints, run on the training data.

        For Gaussian models whose coefficients and sigma are constant within cells of the grouping
        factors its likelihood uses per-cell sufficient statistics (see :mod:`hiermod.plan.suffstats`),
        for counts rows merged by identical predictors; :attr:`pymc_rows` is the same model with the
        row-wise likelihood (``build_model(data, reduce=False)``).
        """
        return build(self.ir, self.design, module=self._module)

    @functools.cached_property
    def pymc_rows(self) -> pm.Model:
        """The row-wise PyMC model: one observed variable over ``obs`` (same parameters as ``pymc``)."""
        if self.streamed:
            raise HiermodError(
                "a streamed model keeps no rows, so it has no row-wise model; "
                "predict with model.predict(idata, data=new_rows)"
            )
        if not self.ir.reducible:
            return self.pymc
        return build(self.ir, self.design, reduce=False, module=self._module)

    # -- inspection --------------------------------------------------------------------------------

    def describe(self) -> pd.DataFrame:
        """One row per model variable: name, dims, shape, role, distributional parameter, source term."""
        return describe_table(self.ir)

    @property
    def priors(self) -> pd.DataFrame:
        """Every prior used: parameter, prior, and whether it is the default or the user's."""
        return priors_table(self.ir)

    # -- export: source and graph (hiermod.output.source, hiermod.output.graph) --------------------

    def source(self) -> str:
        """The model as a readable, runnable PyMC module: ``prepare(df)``, ``build_model(df)``.

        Example:
            >>> print(m.source())                                     # doctest: +SKIP
        """
        from hiermod.output.source import emit_source

        return emit_source(self.ir, self.design)

    @functools.cached_property
    def _graph(self) -> Any:
        """The graph, built once (PyMC's ModelGraph of the row-wise model, words from the plan)."""
        from hiermod.output.graph import build_graph

        return build_graph(self.ir, self.pymc if self.streamed else self.pymc_rows)

    def graph(self, format: str | None = None) -> Any:
        """The model's graph: a cluster per group block (its term as label), a plate per set of
        dims, each variable named for what it is ("Days slope", "sd of the intercept by Subject").

        ``format=None`` gives a :class:`hiermod.output.graph.Graph`, shown as SVG in a notebook
        (``.source`` is its DOT text, ``.save(path)`` writes it); ``"dot"`` and ``"mermaid"`` give
        text; ``"svg"`` (text), ``"png"`` and ``"pdf"`` (bytes) need graphviz's ``dot`` program.
        Built once and cached. See :mod:`hiermod.output.graph`.

        Example:
            >>> m.graph()                                             # doctest: +SKIP
        """
        return self._graph.to(format)

    def __repr__(self) -> str:
        """Formula, family, blocks (grouping, effects, layout, cells) and parameters with priors."""
        return overview_text(self.ir, self.design.n)

    def _repr_html_(self) -> str:
        """The same overview as a notebook table."""
        return overview_html(self.ir, self.design.n)


class _Fitting(_Compiled, SummaryMethods, EffectsMethods, ModelChecks):
    """Fitting a compiled model, and the predictions and summaries read from its fit."""

    def fit(
        self,
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 4,
        sampler: str = "pymc",
        random_seed: int | None = None,
        progressbar: bool = True,
        method: str = "nuts",
        **kwargs: object,
    ) -> xr.DataTree:
        """Fit the model: NUTS by default, or ``method="advi"``, ``"pathfinder"``, ``"map"``.

        Returns an ``xarray.DataTree`` (ArviZ 1's container for a fit) with named dims, the
        observed data, the pointwise log-likelihood (``log_likelihood=False`` skips it), with
        ``posterior_predictive=True`` a posterior predictive draw per posterior draw and row, and
        ``hiermod_*`` attributes that :meth:`from_idata` reads back. Other keywords go to the
        backend, e.g. ``target_accept=0.95``. See :mod:`hiermod.inference.fit`.

        Example:
            >>> idata = m.fit(draws=500, tune=500, chains=2, random_seed=1)   # doctest: +SKIP
        """
        from hiermod.inference.fit import add_posterior_predictive, check_fit_call, fit

        check_fit_call(method, sampler, draws, tune, chains, random_seed, progressbar, kwargs)
        posterior_predictive = kwargs.pop("posterior_predictive", False)
        if posterior_predictive and self.streamed:
            raise HiermodError(
                "posterior_predictive=True needs the rows, and a streamed model keeps none: "
                "predict on a sample of them with Model.predict(fit, data=rows, kind='response')"
            )
        idata = fit(
            self.pymc,
            self.ir,
            self.options,
            rows_model=None if self.streamed else lambda: self.pymc_rows,
            source=_source_text(self),
            draws=draws,
            tune=tune,
            chains=chains,
            sampler=sampler,
            random_seed=random_seed,
            progressbar=progressbar,
            method=method,
            **kwargs,  # type: ignore[arg-type]
        )
        if posterior_predictive:
            response = self.predict(idata, kind="response", random_seed=random_seed)
            add_posterior_predictive(idata, response)
        return idata

    def prior_predictive(self, draws: int = 500, random_seed: int | None = None) -> xr.DataTree:
        """Draws from the prior of :attr:`pymc`: groups ``prior``, ``prior_predictive`` (the
        response, dims (chain, draw, obs), whichever likelihood form the model uses) and
        ``observed_data``. Example: ``az.plot_ppc_dist(m.prior_predictive(), group="prior_predictive")``.
        """
        from hiermod.inference.fit import prior_predictive

        return prior_predictive(self.pymc, draws, random_seed, streamed=self.streamed)

    def predict(
        self,
        idata: xr.DataTree,
        data: pd.DataFrame | None = None,
        kind: str = "mean",
        new_levels: str = "error",
        random_seed: int | None = None,
        *,
        groups: bool | str | Sequence[str] = True,
        add_to: xr.DataTree | None = None,
    ) -> xr.DataArray:
        """Expected (``kind="mean"``), simulated (``"response"``) or link-scale (``"linear"``)
        responses, dims (chain, draw, obs); see :mod:`hiermod.inference.predict`.

        ``data=None`` predicts the fitted rows; unseen group levels are an error (``"population"``
        draws their effects); ``groups=False`` leaves group effects out (a grouping's name keeps
        its own); ``add_to=fit`` stores the result in its ``predictions``.
        """
        from hiermod.inference.predict import predict

        return predict(
            self.ir,
            self.design,
            idata,
            data,
            rows_model=_rows_model,
            streamed=self.streamed,
            kind=kind,  # type: ignore[arg-type]
            new_levels=new_levels,  # type: ignore[arg-type]
            random_seed=random_seed,
            groups=groups,
            add_to=add_to,
        )


class Model(_Fitting):
    """A hierarchical regression model compiled from a formula.

    Args:
        formula: formula text (several formulas separated by ``;`` or new lines: the response's first,
            then distributional parameters such as ``sigma ~ (1 | g)``), or a parsed ``ModelFormula``.
        data: a pandas DataFrame with every column the formula uses, or a ``dask.dataframe``
            DataFrame (then the model is :func:`stream_model`'s, reduced by Dask; docs/scale.md).
        family: ``"gaussian"`` (default) or a name in :data:`hiermod.data.families.FAMILIES`.
        link: the link of the mean; the family's default when omitted.
        priors: overrides by parameter name or class, as :class:`~hiermod.plan.priors.Prior` objects or
            strings like ``"normal(0, 2.5)"`` (see :mod:`hiermod.plan.priors`).
        layout: ``"auto"``, ``"dense"`` or ``"observed"`` for grouping interactions, or a dict keyed
            by grouping (``{"group:color": "dense"}``); see :mod:`hiermod.plan.lower`.
        centered: ``"auto"`` (default) chooses per block from how much each level's data inform
            its effects (:mod:`hiermod.plan.centring`); ``False`` for non-centred group effects,
            ``r = z * sd``, best when some levels have little data; ``True`` for centred ones, each
            level's coefficients ``beta ~ Normal([Intercept, b…], sd)`` with ``r = beta - […]``,
            best when every level has much data (the sampler then needs far fewer steps); or a
            dict keyed by grouping (``{"group:color": True}``; groupings not in it are ``"auto"``).
        na_action: ``"drop"`` rows with missing values in used columns (with a warning) or ``"raise"``.
        suffstats: ``"auto"`` reduces the likelihood when valid and cheaper — per-cell sufficient
            statistics for Gaussian models (:mod:`hiermod.plan.suffstats`), rows with identical predictors
            merged into counts for bernoulli, binomial and poisson (:mod:`hiermod.plan.collapse`);
            ``False`` never, ``True`` always (an error says why when not valid).
        **dpar_formulas: distributional formulas as keywords, e.g. ``sigma="~ (1 | group:color)"``.
            Every option is checked at the call (:mod:`hiermod.plan.options`).

    Example:
        >>> m = hm.Model("y ~ x + (1 + x | g)", data=df)          # doctest: +SKIP
        >>> m.describe()                                              # doctest: +SKIP
    """

    def __new__(cls, formula: str | ModelFormula | None = None, *args: Any, **kwargs: Any) -> Any:
        """``mvbind(y1, y2) ~ …`` makes a :class:`~hiermod.multivariate.MultivariateModel`."""
        if isinstance(formula, str) and formula.lstrip().startswith("mvbind"):
            tree = parse_syntax(formula)
            if is_multivariate(tree):
                return MultivariateModel(formula, *args, univariate=cls, **kwargs)
        return super().__new__(cls)

    def __init__(
        self,
        formula: str | ModelFormula,
        data: pd.DataFrame | Any,
        *,
        family: str | Family = "gaussian",
        link: str | None = None,
        priors: Mapping[str, Prior | str] | None = None,
        layout: str | Mapping[str, str] = "auto",
        centered: Centring | Mapping[str, Centring] = "auto",
        na_action: str = "drop",
        suffstats: bool | str = "auto",
        _kept_priors: Mapping[str, Prior] | None = None,  # Model.update (hiermod.updating)
        _joint_ids: frozenset[str] = frozenset(),  # an mvbind response's shared IDs
        **dpar_formulas: str,
    ) -> None:
        if is_dask_frame(data):  # too large for memory: reduced on Dask (docs/scale.md)
            if suffstats is False:
                raise SuffStatsError("a Dask DataFrame is reduced to sufficient statistics")
            given: dict[str, Any] = {"family": family, "link": link, "priors": priors}
            given |= {"layout": layout, "centered": centered, "na_action": na_action}
            streamed = stream_model(formula, data, **given, **dict[str, Any](dpar_formulas))
            self.__dict__.update(streamed.__dict__)
            return
        self.family = get_family(family)
        self._call = ModelCall(self.family, link, priors, layout, centered, na_action, suffstats)
        options = (priors, layout, centered, na_action, suffstats, dpar_formulas)
        named = ("mu<category>",) if self.family.per_category else ()  # mub, muc: from the data
        check_model_options(*options, family_parameters=(*named, *self.family.auxiliary))
        self.formula = _combine(formula, dpar_formulas)
        if self.formula.main.response is None:
            raise FormulaError(
                "the model formula needs a response",
                self.formula.text,
                self.formula.main.span,
                hint="write it before '~', e.g. y ~ x",
            )
        self.link = self.family.check_link(link)
        self.data = data
        self.design = bind(self.formula, data, family=self.family, na_action=na_action)  # type: ignore[arg-type]
        self.options = LowerOptions(self.link, priors, layout, centered, _kept_priors, _joint_ids)
        rows_ir = lower(self.design, self.family, self.options)
        y = self.design.y
        assert y is not None  # a response is required above
        if "collapse" in self.family.reductions:
            collapsed = plan_collapse(rows_ir, y, self.design.trials, suffstats)
            self.ir = replace(rows_ir, collapsed=collapsed)
        elif "merge" in self.family.reductions:
            merged = plan_merge(rows_ir, y, self.design.trials, suffstats)
            self.ir = replace(rows_ir, merged=merged)
        else:
            self.ir = replace(rows_ir, suffstats=plan_suffstats(rows_ir, y, suffstats))

    def update(
        self, formula: str | None = None, data: pd.DataFrame | None = None, **changes: Any
    ) -> Model:
        """A new model with a changed formula (R's rule: ``". ~ . - Days"``, ``"~ . + (1 | g)"``),
        data, distributional formula (``sigma="~ . + x"``, None drops it) or option (``family=``,
        ``priors=``…). With the formula and family kept, data-dependent default priors, centring and
        layout stay as chosen (brms's ``update(newdata=)``); see :mod:`hiermod.updating`.
        """
        from hiermod.updating import update_model

        return update_model(self, formula, data, changes)

    @classmethod
    def _assemble(
        cls,
        formula: ModelFormula,
        family: Family,
        options: LowerOptions,
        design: Design,
        ir: ModelIR,
    ) -> Model:
        """A model from already computed stages, without the rows (used by :func:`stream_model`)."""
        model: Model = cls.__new__(cls)
        model.formula, model.family, model.link = formula, family, options.link
        model.data, model.design, model.options, model.ir = None, design, options, ir
        return model

    @classmethod
    def from_idata(cls, idata: xr.DataTree, data: pd.DataFrame) -> Model:
        """Rebuild the model a fit was made with (formula, family, link, priors, layout) on ``data``.

        Raises:
            StorageError: an attribute of the fit is missing or malformed (it names it).
            DataError: ``data`` does not reproduce the fit's observed response (a different data set).
            FitMismatchError: the model rebuilt on ``data`` is not the fitted one (other levels).

        Example:
            >>> m = hm.Model.from_idata(az.from_netcdf("fit.nc"), data=df)   # doctest: +SKIP
        """
        from hiermod.inference.belongs import rebuild

        return rebuild(cls, idata, data)


def _source_text(model: _Compiled) -> str | None:
    """The generated PyMC source, when this version of hiermod can print it."""
    try:
        return model.source()
    except (HiermodError, NotImplementedError):
        return None


# The row-wise PyMC model of a plan and its rows' design: what predictions are derived from.
_rows_model = functools.partial(build, reduce=False)


def distributional_parameters(
    model: Model,
    idata: xr.DataTree,
    data: pd.DataFrame | None = None,
    *,
    new_levels: str = "error",
    random_seed: int | None = None,
) -> dict[str, xr.DataArray]:
    """Every distributional parameter of ``model`` per draw and row: ``{"mu": …, "sigma": …}``.

    On the natural scale, dims (chain, draw, obs); ``data=None`` gives the fitted rows. See
    :func:`hiermod.inference.predict.distributional_parameters`. Example: per-row noise sd of a
    ``sigma ~ (1 | g)`` model::

        hiermod.model.distributional_parameters(m, idata)["sigma"].mean(("chain", "draw"))
    """
    from hiermod.inference.predict import distributional_parameters as dpars

    return dpars(
        model.ir,
        model.design,
        idata,
        data,
        rows_model=_rows_model,
        streamed=model.streamed,
        new_levels=new_levels,  # type: ignore[arg-type]
        random_seed=random_seed,
    )


def stream_model(
    formula: str | ModelFormula,
    source: Source | Any,
    *,
    family: str | Family = "gaussian",
    link: str | None = None,
    priors: Mapping[str, Prior | str] | None = None,
    layout: str | Mapping[str, str] = "auto",
    centered: Centring | Mapping[str, Centring] = "auto",
    chunksize: int = 250_000,
    na_action: str = "drop",
    **dpar_formulas: str,
) -> Model:
    """A model whose likelihood is reduced from ``source`` chunk by chunk (see
    :mod:`hiermod.data.stream` and :mod:`hiermod.plan.reduce`): the scan's schema, then each
    encoded chunk planned and reduced to per-cell sufficient statistics, merged with the moments
    behind default priors. On a Dask DataFrame both passes run as Dask tasks (docs/scale.md).

    Args:
        source: a CSV or Parquet path, a Parquet folder or glob, a function returning a fresh
            iterable of DataFrames (it is called twice, once per pass), a
            ``dask.dataframe.DataFrame``, a DuckDB relation or a Polars ``LazyFrame`` /
            ``DataFrame`` (only the formula's columns are read; :mod:`hiermod.data.sources`).
        chunksize: rows per chunk read from a file (a Dask DataFrame's chunks are its partitions).

    Example:
        >>> m = hm.stream_model("y ~ x + (1 + x | g)", "big.csv", chunksize=500_000)  # doctest: +SKIP
        >>> idata = m.fit()                                                         # doctest: +SKIP
    """
    fam = get_family(family)
    check_stream_options(priors, layout, centered, na_action, chunksize, dpar_formulas, fam)
    parsed = _combine(formula, dpar_formulas)
    options = LowerOptions(
        link=fam.check_link(link), priors=priors, layout=layout, centered=centered
    )

    design, ir = stream_stages(
        parsed, source, fam, options, chunksize=chunksize, na_action=na_action
    )
    return Model._assemble(parsed, fam, options, design, ir)
