"""Multivariate models: several responses, ``mvbind(y1, y2) ~ x + (1 | g)`` (brms's semantics).

``hm.Model`` hands a formula whose response is ``mvbind(…)`` to :class:`MultivariateModel`. Each
response is compiled as the univariate :class:`~hiermod.model.Model` it is (its family, default
priors and names), on the rows where every response and predictor has a value; the PyMC model is the
module :func:`~hiermod.output.source_multivariate.compose_source` writes from the responses'
sources, with the responses' names tagged (``y1_b``, ``sigma_y1``). Gaussian responses get brms's
residual correlation by default (``rescor=True``: one ``MvNormal`` with ``Lrescor``); otherwise, or
with ``rescor=False``, each response keeps its own likelihood.
"""

from __future__ import annotations

import functools
import time
import types
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from hiermod.arguments import check_flag
from hiermod.data.columns import kept_rows
from hiermod.data.sources import formula_columns
from hiermod.errors import ArgumentError, DataError, FamilyError, OptionError
from hiermod.formula.multivariate import MultivariateFormula, shared_ids, split_responses
from hiermod.formula.parser import parse_syntax
from hiermod.inference.calls import PYMC_FAMILIES, resolve_sampler
from hiermod.inference.diagnostics import unchecked
from hiermod.inference.fit import nuts_sample
from hiermod.inference.predict_multivariate import filled_responses, predict_multivariate
from hiermod.inference.response_views import ResponseSummaries
from hiermod.inference.storage_multivariate import multivariate_attrs
from hiermod.interpret.response_checks import ResponseChecks
from hiermod.interpret.response_effects import ResponseEffects
from hiermod.output.module import build_rows, load_module
from hiermod.output.source_multivariate import (
    ResponsePart,
    compose_source,
    model_names,
    rescor_labels,
)
from hiermod.plan.priors import Prior, parse_prior
from hiermod.updating import MultivariateUpdates

__all__ = ["MultivariateModel"]


def _complete(data: pd.DataFrame, formula: MultivariateFormula, na_action: str) -> pd.DataFrame:
    """The rows with a value in every column of every response's formula, so that the responses
    share their rows: the univariate rule (``kept_rows``: one DataWarning counting the rows missing
    each column, or a DataError with ``na_action="raise"``), over all responses' columns at once."""
    present = [str(c) for c in data.columns]
    missing = [r for r in formula.responses if r not in present]
    if missing:
        raise DataError(
            f"the response column {missing[0]!r} is not in the data "
            f"(columns: {', '.join(present[:12])})"
        )
    used: list[str] = []
    for f in formula.formulas:
        used += [c for c in formula_columns(f, present) if c not in used]
    return data.iloc[kept_rows(data, used, na_action)]


def _rescor_rows(k: int, eta: float) -> pd.DataFrame:
    """``describe()``'s rows of the residual correlation: Lrescor and rescor."""
    return pd.DataFrame(
        {
            "parameter": ["Lrescor", "rescor"],
            "response": ["all", "all"],
            "dims": ["", "response_pair"],
            "shape": [(k, k), (k * (k - 1) // 2,)],
            "role": ["residual_cholesky", "residual_corr"],
            "dpar": ["", ""],
            "free": [True, False],
            "term": ["rescor", "rescor"],
            "prior": [f"lkj_corr_cholesky({eta:g})", ""],
        }
    )


def _rescor_eta(prior: Prior | str | None, rescor: bool) -> float:
    """The LKJ shape of the residual correlation: brms's ``prior(lkj(2), class = rescor)`` is
    ``priors={"rescor": "lkj(2)"}``; brms's default is lkj(1)."""
    if prior is None:
        return 1.0
    if not rescor:
        raise OptionError("a prior for rescor needs residual correlation (rescor=True)")
    parsed = parse_prior(prior)
    eta = dict(parsed.params).get("eta")
    if parsed.dist != "lkj" or not isinstance(eta, float) or not eta > 0:
        raise OptionError(f"the prior of rescor is lkj(eta) with eta > 0, not {parsed}")
    return eta


def _per_response(value: Any, responses: tuple[str, ...], what: str) -> dict[str, Any]:
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in responses]
        if unknown:
            raise ArgumentError(
                f"{what} names {unknown[0]!r}, which is no response ({', '.join(responses)})"
            )
        return {r: value.get(r, "gaussian" if what == "family" else None) for r in responses}
    return dict.fromkeys(responses, value)


def _untag(key: str, response: str) -> str | None:
    """``y1_b`` → ``b``, ``sigma_y1`` → ``sigma``, ``sigma_y1_b`` → ``sigma_b``; None when ``key``
    is no name of ``response``."""
    if key.startswith(f"{response}_"):
        return key[len(response) + 1 :]
    if key.endswith(f"_{response}"):
        return key[: -len(response) - 1]
    if f"_{response}_" in key:
        return key.replace(f"_{response}_", "_", 1)
    return None


def _response_priors(
    priors: Mapping[str, Prior | str], responses: tuple[str, ...], response: str
) -> dict[str, Any]:
    """The priors of one response, given under the tagged names (``y1_b``, ``sigma_y1``,
    ``sigma_y1_Intercept``), passed to its model untagged (``b``, ``sigma``, …)."""
    out: dict[str, Any] = {}
    for key, prior in priors.items():
        owners = [r for r in responses if _untag(key, r) is not None]
        if not owners:
            first = responses[0]
            raise OptionError(
                f"the prior {key!r} names no response: write the tagged name, e.g. "
                f"{first}_b, {first}_Intercept or sigma_{first}"
            )
        if response == max(owners, key=len):
            out[str(_untag(key, response))] = prior
    return out


class MultivariateModel(ResponseSummaries, ResponseEffects, ResponseChecks, MultivariateUpdates):
    """A model of several responses (see the module docstring and docs/terms.md)."""

    def __init__(
        self,
        formula: str,
        data: pd.DataFrame,
        *,
        family: str | Mapping[str, str] = "gaussian",
        rescor: bool | None = None,
        priors: Mapping[str, Prior | str] | None = None,
        univariate: Any = None,
        _each: Mapping[str, Mapping[str, Any]] | None = None,  # per response (update)
        **options: Any,
    ) -> None:
        self.formula = split_responses(parse_syntax(formula))
        responses = self.formula.responses
        families = _per_response(family, responses, "family")
        gaussian = all(str(getattr(f, "name", f)) == "gaussian" for f in families.values())
        if rescor and not gaussian:
            others = [f"{r} ({getattr(f, 'name', f)})" for r, f in families.items()]
            raise FamilyError(
                "rescor=True (residual correlation) needs every response gaussian, not "
                + ", ".join(others),
                hint="drop rescor= : the default is rescor=True for gaussian responses only",
            )
        self.rescor = gaussian if rescor is None else bool(rescor)
        given = dict(priors or {})
        self.given_priors = dict(given)  # as the user gave them: stored with a fit
        self._call = {"family": family, "rescor": rescor, "priors": priors, **options}
        self._given_data = data  # what update() starts from
        self.rescor_eta = _rescor_eta(given.pop("rescor", None), self.rescor)
        priors = given
        self.data = _complete(data, self.formula, str(options.get("na_action", "drop")))
        self._univariate = univariate
        self.models: dict[str, Any] = {}  # hm.Model per response (given as univariate=)
        for response in responses:
            own = _response_priors(priors or {}, responses, response)
            self.models[response] = univariate(
                self.formula.of(response),
                self.data,
                family=families[response],
                priors=own,
                suffstats=False,
                _joint_ids=frozenset(shared_ids(self.formula)),
                **{**options, **(_each or {}).get(response, {})},
            )

    @property
    def responses(self) -> tuple[str, ...]:
        return self.formula.responses

    def _parts(self) -> list[ResponsePart]:
        return [ResponsePart.of(r, m, m.ir, m.source()) for r, m in self.models.items()]

    @functools.cache  # noqa: B019 - one source per model, kept as long as the model
    def source(self) -> str:
        """The PyMC source of the model: a runnable module (``prepare``, ``build_model``, ``main``)."""
        return self._compose(self._parts(), len(self.data))

    def _compose(self, parts: list[ResponsePart], n_rows: int) -> str:
        """The module of the responses' ``parts`` (this model's, or of rows to predict)."""
        return compose_source(
            parts,
            str(self.formula),
            n_rows,
            rescor=self.rescor,
            eta=self.rescor_eta,
            block_ids=shared_ids(self.formula),
        )

    @functools.cached_property
    def _module(self) -> types.ModuleType:
        return load_module(self.source(), "hiermod_multivariate_model")

    @functools.cached_property
    def pymc(self) -> pm.Model:
        """The PyMC model: the module :meth:`source` prints, run on the training rows."""
        return build_rows(self._module, self.data)

    # -- inspection ----------------------------------------------------------------------------

    def tagged(self, name: str, response: str) -> str:
        """The name in the multivariate model of a response's parameter or dim (``b`` → ``y1_b``)."""
        return model_names(self.models[response].ir, response).get(name, name)

    def describe(self) -> pd.DataFrame:
        """One row per model variable, as ``Model.describe``, with the response of each."""
        tables = []
        for response, model in self.models.items():
            table = model.describe().reset_index()
            table["parameter"] = [self.tagged(n, response) for n in table["parameter"]]
            table["dims"] = [
                ", ".join(self.tagged(d, response) for d in str(dims).split(", ") if d)
                for dims in table["dims"]
            ]
            table.insert(1, "response", response)
            tables.append(table)
        if self.rescor:
            tables.append(_rescor_rows(len(self.responses), self.rescor_eta))
        out: pd.DataFrame = pd.concat(tables, ignore_index=True).set_index("parameter")
        return _shared_rows(out, self.pymc, shared_ids(self.formula))

    @property
    def priors(self) -> pd.DataFrame:
        """The priors by class, per response (``Model.priors``), and the residual correlation's."""
        tables = []
        for response, model in self.models.items():
            table = model.priors.reset_index()
            first = table.columns[0]
            table[first] = [self.tagged(str(n), response) for n in table[first]]
            table.insert(1, "response", response)
            tables.append(table)
        if self.rescor:  # the residual correlation's, as a row of the first column's kind
            row = {"response": ["all"], "prior": [f"lkj_corr_cholesky({self.rescor_eta:g})"]}
            tables.append(pd.DataFrame({tables[0].columns[0]: ["Lrescor"], **row}))
        combined: pd.DataFrame = pd.concat(tables, ignore_index=True)
        return combined

    # -- fitting and after ---------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        """A method of ``hm.Model`` that a multivariate model lacks is a clear error (``_missing``)."""
        raise _missing(name, self.__dict__.get("_univariate"), type(self).__name__)

    def fit(
        self,
        *,
        sampler: str = "pymc",
        log_likelihood: bool | None = None,
        posterior_predictive: bool = False,
        **sample: Any,
    ) -> xr.DataTree:
        """NUTS as ``Model.fit`` (keywords passed on: draws, tune, chains, random_seed, …): PyMC's
        sampler compiled with Numba, ``sampler="nutpie"``, or ``"auto"`` as ``Model.fit`` chooses
        (:func:`~hiermod.inference.calls.resolve_sampler`). The fit holds the rows' joint pointwise
        log-likelihood (``log_likelihood``: as ``Model.fit``; see
        :mod:`hiermod.interpret.response_checks`) and with ``posterior_predictive=True`` a draw of
        the responses per posterior draw and row."""
        check_flag("posterior_predictive", posterior_predictive)
        if log_likelihood is not None:
            check_flag("log_likelihood", log_likelihood)
        started = time.perf_counter()
        tune, seed = int(sample.get("tune", 1000)), sample.get("random_seed")
        sampler = _sampler(self, sampler, sample)
        fitted = _sample(self, sampler, sample)
        _stamp(self, fitted, sampler, tune, time.perf_counter() - started)
        self._after_fit(fitted, log_likelihood, posterior_predictive, seed)
        return fitted

    def predict(
        self,
        idata: Any,
        data: pd.DataFrame | None = None,
        *,
        kind: str = "mean",
        new_levels: str = "error",
        random_seed: int | None = None,
        groups: bool | str | Sequence[str] = True,
    ) -> xr.DataArray:
        """Predictions at ``data`` (the training rows by default), dims (chain, draw, obs, response):
        ``kind="mean"`` each response's expected value, ``kind="response"`` draws of the responses
        (correlated as the residual correlation says). ``new_levels`` and ``groups`` as for
        ``Model.predict`` (see :mod:`hiermod.inference.predict_multivariate`)."""
        rows = self.data  # new_levels is checked where the rows are encoded (encode_rows)
        if data is not None:
            filled = filled_responses(data, self.data, self.responses)
            rows = _complete(filled, self.formula, "drop")
        return predict_multivariate(
            self.models,
            idata,
            rows,
            compose=self._compose,
            rescor=self.rescor,
            kind=kind,
            new_levels=new_levels,  # type: ignore[arg-type]
            random_seed=random_seed,
            groups=groups,
        )

    def fixef(self, idata: Any) -> pd.DataFrame:
        """The population-level coefficients of every response, brms's ``fixef`` rows
        (``y1_Intercept``, ``y1_x``, ``sigma_y1_x``): posterior mean, sd and 95% interval."""
        return _fixef(self.models, idata["posterior"])

    def rescor_summary(self, idata: Any) -> pd.DataFrame:
        """brms's ``rescor__y1__y2`` rows: posterior mean, sd and 95% interval of each correlation."""
        draws = idata["posterior"]["rescor"]
        labels = rescor_labels(self.responses)
        return _summary(
            {f"rescor__{k}": _flat(draws.isel(response_pair=i)) for i, k in enumerate(labels)}
        )

    def graph(self, format: str | None = None) -> Any:
        """The model's graph, ``format`` as ``Model.graph``: each response's words and clusters
        (:mod:`hiermod.output.graph_multivariate`), plates of rows and levels."""
        from hiermod.output.graph_multivariate import multivariate_graph

        return multivariate_graph(self.pymc, self.models, self.formula, format)


def _shared_rows(table: pd.DataFrame, model: pm.Model, block_ids: tuple[str, ...]) -> pd.DataFrame:
    """``describe()`` with an ID shared across responses: the responses' own joints are gone
    from the model, the union (``chol_g_id_p``, ``corr_g_id_p``, ``z_g_id_p``) is in it."""
    if not block_ids:
        return table
    present = [name in model.named_vars or name == "Lrescor" for name in table.index]
    kept, gone = table[present], table[[not p for p in present]]
    rows = []
    for name, var in model.named_vars.items():
        if name in table.index or not any(name.endswith(f"_id_{i}") for i in block_ids):
            continue
        dims = model.named_vars_to_dims.get(name) or ()
        role = {"chol": "group_cholesky", "corr": "group_corr", "z": "group_offsets"}
        rows.append(
            {
                "parameter": name,
                "response": "all",
                "dims": ", ".join(dims),
                "shape": tuple(int(v) for v in var.shape.eval()),
                "role": role.get(name.split("_")[0], ""),
                "dpar": "",
                "free": var in model.free_RVs,
                "term": f"the ID {name.rsplit('_id_', 1)[1]} across responses",
                # the responses' own (agreeing) priors of what the union replaces
                "prior": next((p for n, p in gone["prior"].items() if str(n).endswith(name)), ""),
            }
        )
    shared = pd.DataFrame(rows).set_index("parameter")
    return pd.concat([kept, shared])


def _missing(name: str, univariate: Any, owner: str) -> Exception:
    """``m.summary(fit)`` on a multivariate model: an OptionError that says what it has instead;
    a name ``hm.Model`` lacks too is a plain AttributeError."""
    if name.startswith("_") or univariate is None or not hasattr(univariate, name):
        return AttributeError(f"{owner!r} object has no attribute {name!r}")
    return OptionError(
        f"{name} is not available for a multivariate model yet; it has fit, predict, fixef, "
        "varcorr, corr, ranef, coef, rescor_summary, summary, conditional_effects, "
        "marginal_means, comparisons, slopes, hypothesis, bayes_r2, pp_check, loo, "
        "prior_predictive, update, describe, priors, source, pymc and graph, and each "
        "response's own model in .models (e.g. m.models['y1'])"
    )


def _stamp(
    model: MultivariateModel, fitted: xr.DataTree, sampler: str, tune: int, seconds: float
) -> None:
    """The attributes that let the fit rebuild its model (:mod:`~hiermod.inference.storage_multivariate`)."""
    posterior = fitted["posterior"]
    settings: dict[str, str | int | float] = {
        "method": "nuts",
        "sampler": sampler,
        "draws": int(posterior.sizes["draw"]),
        "tune": tune,
        "chains": int(posterior.sizes["chain"]),
        "seconds": round(seconds, 3),
    }
    families = {r: m.family.name for r, m in model.models.items()}
    posterior.attrs.update(
        multivariate_attrs(
            str(model.formula), families, model.rescor, model.given_priors, settings, model.source()
        )
    )


def _sampler(model: MultivariateModel, sampler: str, sample: dict[str, Any]) -> str:
    """``resolve_sampler`` for the responses: PyMC's sampler when any response's family mixes
    worse with nutpie (``PYMC_FAMILIES``), as for a univariate model of it."""
    settings = {"draws", "tune", "chains", "random_seed", "progressbar"}
    keywords = {k: v for k, v in sample.items() if k not in settings}
    families = sorted(m.ir.likelihood.family for m in model.models.values())
    family = next((f for f in families if f in PYMC_FAMILIES), families[0])
    return resolve_sampler(sampler, "nuts", keywords, family)


def _sample(model: MultivariateModel, sampler: str, sample: dict[str, Any]) -> xr.DataTree:
    """``Model.fit``'s NUTS (:func:`~hiermod.inference.fit.nuts_sample`) with its one warning;
    its checks leave out the standard-normal offsets, the correlations (checked through their
    Cholesky factors) and Lrescor (its upper triangle is constant)."""
    if sampler not in ("pymc", "nutpie"):
        raise OptionError(
            f"sampler={sampler!r}: a multivariate model samples with 'pymc', 'nutpie' or 'auto'"
        )
    skip = [model.tagged(n, r) for r, m in model.models.items() for n in unchecked(m.ir)]
    skip += [v.name for v in model.pymc.free_RVs if v.name.startswith("z_")]  # a shared union
    skip += ["Lrescor", *(v.name for v in model.pymc.deterministics if v.name.startswith("corr_"))]
    return nuts_sample(model.pymc, sampler, sample, skip)


def _fixef(models: Mapping[str, Any], posterior: Any) -> pd.DataFrame:
    """brms's fixef rows of every response's population-level parameters."""
    rows: dict[str, np.ndarray] = {}
    for response, model in models.items():
        names = model_names(model.ir, response)
        for predictor in model.ir.predictors:
            pop = predictor.population
            prefix = response if predictor.dpar == "mu" else f"{predictor.dpar}_{response}"
            if pop.intercept is not None:
                rows[f"{prefix}_Intercept"] = _flat(posterior[names[pop.intercept.name]])
            if pop.coefficients is not None:
                draws = posterior[names[pop.coefficients.name]]
                dim = draws.dims[-1]
                for label in draws[dim].values:
                    rows[f"{prefix}_{label}"] = _flat(draws.sel({dim: label}))
    return _summary(rows)


def _flat(draws: xr.DataArray) -> np.ndarray:
    return np.asarray(draws.stack(sample=("chain", "draw")).to_numpy()).reshape(-1)


def _summary(rows: Mapping[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "mean": [v.mean() for v in rows.values()],
            "sd": [v.std(ddof=1) for v in rows.values()],
            "lower_95": [np.quantile(v, 0.025) for v in rows.values()],
            "upper_95": [np.quantile(v, 0.975) for v in rows.values()],
        },
        index=pd.Index(list(rows), name="parameter"),
    )
