"""The checks of a multivariate model's fit, as brms's: ``hypothesis``, ``bayes_R2``, ``pp_check``,
``loo`` and ``loo_compare`` (``hm.compare``) of ``mvbind(y1, y2) ~ …``.

Each reuses the univariate function (:mod:`hiermod.interpret.checks`, :mod:`~hiermod.interpret.r2`,
:mod:`~hiermod.interpret.hypothesis`) on what the responses share or on one response at a time:

* ``hypothesis(fit, "y1_x - y2_x = 0")`` — the names are ``fixef``'s (``y1_Intercept``, ``y1_x``,
  ``sigma_y1_x``), the family parameters tagged as the model names them (``sigma_y1``) and the
  residual correlations as ``rescor_summary`` names them (``rescor__y1__y2``); the draws are the
  joint posterior's, so a hypothesis may compare responses. Point hypotheses' Savage–Dickey ratios
  draw each response's coefficients from its own model's prior (the priors the multivariate model
  composes: the responses' coefficients are independent a priori); a point hypothesis naming
  ``rescor`` gets no ratio (NaN).
* ``bayes_r2(fit)`` — brms's rows ``R2y1``, ``R2y2``: each response's R² from its observed values
  and its expected values (``predict(kind="mean")``), :func:`~hiermod.interpret.r2.bayes_r2_draws`.
* ``pp_check(fit, response="y1")`` — the univariate check of that response (a Figure); without
  ``response`` a dict of one Figure per response (brms asks for ``resp``).
* ``loo(fit)`` and ``hm.compare`` — PSIS-LOO over the *rows*: the fit's ``log_likelihood`` group
  holds one variable, :data:`JOINT` (``Y``), the joint log density of each row's responses: with
  residual correlation the MvNormal's density of the row, otherwise the sum of the responses'
  pointwise log-likelihoods (brms's ``log_lik`` of a multivariate model). ``fit`` stores it as
  ``Model.fit`` does (unless it would exceed
  :data:`~hiermod.inference.fit.MAX_POINTWISE_VALUES` values, or ``log_likelihood=False``);
  :meth:`ResponseChecks.add_log_likelihood` adds it to a fit without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from hiermod.arguments import check_choice, check_count, check_flag
from hiermod.errors import DataError, OptionError
from hiermod.inference.fit import pointwise_fits, prior_predictive
from hiermod.inference.fit_groups import read_group
from hiermod.inference.intervals import DEFAULT_PROB, check_prob
from hiermod.inference.posterior_eval import vectorized
from hiermod.inference.response_views import response_view
from hiermod.inference.storage_multivariate import check_multivariate_fit
from hiermod.interpret.checks import (
    PP_CHECK_KINDS,
    draw_prior,
    hypothesis_call,
    pp_check,
    require_log_likelihood,
)
from hiermod.interpret.coefficients import population_draws
from hiermod.interpret.hypothesis import draws_table
from hiermod.interpret.r2 import bayes_r2_draws, bayes_r2_table
from hiermod.output.source_multivariate import model_names, rescor_labels
from hiermod.plan.ir import ModelIR

if TYPE_CHECKING:
    from arviz_stats import ELPDData
    from matplotlib.figure import Figure

__all__ = ["JOINT", "ResponseChecks", "tagged_labels"]

JOINT = "Y"
"""The name of a multivariate fit's pointwise log-likelihood: each row's joint log density."""

_REMEDY = "Refit with log_likelihood=True, or add it to this fit with model.add_log_likelihood(fit)"


class _Multivariate(Protocol):
    """The parts of ``MultivariateModel`` the checks read."""

    models: dict[str, Any]
    data: pd.DataFrame
    rescor: bool

    @property
    def responses(self) -> tuple[str, ...]: ...
    @property
    def pymc(self) -> pm.Model: ...
    def predict(self, idata: Any, data: pd.DataFrame | None = None, **options: Any) -> Any: ...


def tagged_labels(ir: ModelIR, response: str) -> dict[str, str]:
    """The names a response's coefficients have in its univariate model's ``fixef`` (and
    :func:`~hiermod.interpret.coefficients.population_draws`) → in the multivariate ``fixef``:
    ``Intercept`` → ``y1_Intercept``, ``sigma_x`` → ``sigma_y1_x``, ``sigma`` → ``sigma_y1``."""
    out: dict[str, str] = {}
    for predictor in ir.predictors:
        pop = predictor.population
        own = "" if predictor.dpar == "mu" else f"{predictor.dpar}_"
        tagged = response if predictor.dpar == "mu" else f"{predictor.dpar}_{response}"
        labels = (["Intercept"] if pop.intercept is not None else []) + (
            list(pop.coef_labels) if pop.coefficients is not None else []
        )
        out.update({f"{own}{label}": f"{tagged}_{label}" for label in labels})
    names = model_names(ir, response)
    for constant in ir.constants:
        if constant.param.shape == ():
            name = constant.param.name
            out.setdefault(name, names.get(name, f"{name}_{response}"))
    return out


def _named(mv: _Multivariate, posterior: xr.Dataset) -> dict[str, np.ndarray]:
    """Draws (n,) of every name a hypothesis may use (see the module docstring)."""
    tree = xr.DataTree.from_dict({"posterior": posterior})
    out: dict[str, np.ndarray] = {}
    for response, model in mv.models.items():
        own = population_draws(model.ir, read_group(response_view(model.ir, response, tree)))
        labels = tagged_labels(model.ir, response)
        out.update({labels[k]: v for k, v in own.items() if k in labels})
    if "rescor" in posterior:
        draws = np.asarray(posterior["rescor"].values, dtype=float)
        draws = draws.reshape(-1, draws.shape[-1])
        for k, pair in enumerate(rescor_labels(mv.responses)):
            out[f"rescor__{pair}"] = draws[:, k]
    return out


def _prior(
    mv: _Multivariate, names: Sequence[str], draws: int, random_seed: int | None
) -> dict[str, np.ndarray]:
    """Prior draws of the named coefficients, each response's from its own model's prior."""
    out: dict[str, np.ndarray] = {}
    for k, (response, model) in enumerate(mv.models.items()):
        labels = tagged_labels(model.ir, response)
        own = [label for label, tagged in labels.items() if tagged in names]
        if not own:
            continue
        seed = None if random_seed is None else random_seed + k
        prior = draw_prior(model, own, None, draws, seed)
        if prior is not None:
            values = population_draws(model.ir, prior)
            out.update({labels[k]: v for k, v in values.items() if k in own})
    return out


def observed_responses(mv: _Multivariate, fit: xr.DataTree) -> dict[str, np.ndarray]:
    """Each response's observed values in the fit (``Y``'s columns with residual correlation)."""
    observed = read_group(fit, "observed_data")
    if JOINT in observed and "response" in observed[JOINT].dims:
        joint = observed[JOINT]
        return {r: np.asarray(joint.sel(response=r).values) for r in mv.responses}
    return {r: np.asarray(observed[r].values) for r in mv.responses}


def _joint_log_likelihood(mv: _Multivariate, fit: xr.DataTree) -> xr.DataArray:
    """Each row's joint log density at every draw (chain, draw, obs): the log density of every
    observed variable of the model (``Y``; or each response's), summed over the responses,
    evaluated at all draws at once (:func:`~hiermod.inference.posterior_eval.vectorized`)."""
    model = mv.pymc
    observed = [model[JOINT]] if mv.rescor else [model[r] for r in mv.responses]
    densities = [pm.logp(rv, model.rvs_to_values[rv]) for rv in observed]
    posterior = read_group(fit)
    shape = (posterior.sizes["chain"], posterior.sizes["draw"], len(mv.data))
    joint = sum(vectorized(model, densities, posterior, {}, [], shape, None))
    obs = np.arange(len(mv.data))
    if "observed_data" in fit.children and "obs" in read_group(fit, "observed_data").coords:
        obs = read_group(fit, "observed_data")["obs"].values
    coords = {"chain": posterior["chain"].values, "draw": posterior["draw"].values, "obs": obs}
    return xr.DataArray(joint, dims=("chain", "draw", "obs"), coords=coords)


def _predictive_tree(r: str, observed: np.ndarray, draws: xr.DataArray) -> xr.DataTree:
    """One response's observed values and predictive draws, as the univariate check reads them."""
    obs = np.arange(observed.size)
    return xr.DataTree.from_dict(
        {
            "observed_data": xr.Dataset({r: ("obs", observed)}, coords={"obs": obs}),
            "posterior_predictive": xr.Dataset({r: draws.drop_attrs().assign_coords(obs=obs)}),
        }
    )


class ResponseChecks:
    """``hypothesis``, ``bayes_r2``, ``pp_check``, ``loo``, ``prior_predictive`` of a
    multivariate model (see the module docstring)."""

    def _checked(self, fit: xr.DataTree) -> _Multivariate:
        """The model, once ``fit`` is known to be one of its fits (its free variables, shapes)."""
        mv: _Multivariate = self  # type: ignore[assignment]
        check_multivariate_fit(mv.pymc, fit, {})
        return mv

    def _chosen(self, response: str | None) -> list[str]:
        mv: _Multivariate = self  # type: ignore[assignment]
        responses = list(mv.responses)
        if response is None:
            return responses
        if response not in responses:
            raise OptionError(
                f"response={response!r} is not a response of the model ({', '.join(responses)})"
            )
        return [response]

    def hypothesis(
        self,
        fit: xr.DataTree,
        hypotheses: str | Sequence[str],
        *,
        prob: float = DEFAULT_PROB,
        prior_draws: int = 4000,
        random_seed: int | None = None,
    ) -> pd.DataFrame:
        """brms's ``hypothesis(fit, "y1_x > 0")``: ``Model.hypothesis`` on the names of the
        multivariate ``fixef`` (``y1_x - y2_x = 0``), the tagged family parameters (``sigma_y1``)
        and ``rescor__y1__y2``; see the module docstring and :mod:`hiermod.interpret.hypothesis`."""
        texts, points = hypothesis_call(hypotheses, prob, prior_draws, random_seed)
        mv = self._checked(fit)
        values = _named(mv, read_group(fit))
        prior = _prior(mv, points, prior_draws, random_seed) if points else None
        return draws_table(texts, values, prob=prob, prior=prior)

    def bayes_r2(
        self,
        fit: xr.DataTree,
        *,
        response: str | None = None,
        prob: float = DEFAULT_PROB,
        summary: bool = True,
    ) -> pd.DataFrame | xr.DataArray:
        """brms's ``bayes_R2``: one row per response (``R2y1``, ``R2y2``; ``response=`` for one)
        with the ``prob`` interval, or with ``summary=False`` each draw's R², dims (chain, draw,
        response). Each is :func:`~hiermod.interpret.r2.bayes_r2_draws` of that response."""
        check_prob(prob)
        check_flag("summary", summary)
        chosen = self._chosen(response)
        mv = self._checked(fit)
        mean = mv.predict(fit, kind="mean")
        observed = observed_responses(mv, fit)
        draws = []
        for r in chosen:
            if observed[r].shape != (mean.sizes["obs"],):
                raise DataError(
                    f"R² needs the expected response of every observed row: the fit has "
                    f"{observed[r].size} observed values of {r}, the model {mean.sizes['obs']} rows"
                )
            y = xr.DataArray(observed[r], dims=("obs",), coords={"obs": mean["obs"].values})
            draws.append(bayes_r2_draws(y, mean.sel(response=r, drop=True)))
        if not summary:
            return xr.concat(draws, dim=pd.Index(chosen, name="response"))
        tables = [
            bayes_r2_table(r2, prob).set_axis([f"R2{r}"])
            for r, r2 in zip(chosen, draws, strict=True)
        ]
        return pd.concat(tables)

    def pp_check(
        self,
        fit: xr.DataTree,
        *,
        response: str | None = None,
        kind: str = "auto",
        num_samples: int = 50,
        prob: float = DEFAULT_PROB,
        random_seed: int | None = None,
    ) -> Figure | dict[str, Figure]:
        """brms's ``pp_check(fit, resp = "y1")``: ``Model.pp_check`` of one response, a Figure;
        without ``response``, ``{"y1": Figure, "y2": Figure}``. The predictive draws are the fit's
        ``posterior_predictive`` group (``fit(posterior_predictive=True)``), else drawn
        (``predict(kind="response")``, ``random_seed``) and not added to the fit."""
        check_prob(prob)
        check_choice("kind", kind, PP_CHECK_KINDS)
        check_count("num_samples", num_samples, 1)
        chosen = self._chosen(response)
        mv = self._checked(fit)
        observed = observed_responses(mv, fit)
        if "posterior_predictive" in fit.children:
            stored = read_group(fit, "posterior_predictive")
            draws = {r: stored[r] for r in chosen}
        else:
            predicted = mv.predict(fit, kind="response", random_seed=random_seed)
            draws = {r: predicted.sel(response=r, drop=True) for r in chosen}
        figures = {
            r: pp_check(
                mv.models[r].ir,
                _predictive_tree(r, observed[r], draws[r]),
                kind=kind,
                num_samples=num_samples,
                prob=prob,
            )
            for r in chosen
        }
        return figures[response] if response is not None else figures

    # -- LOO ------------------------------------------------------------------------------------

    def add_log_likelihood(self, fit: xr.DataTree) -> None:
        """Put the pointwise log-likelihood in ``fit``: the group ``log_likelihood`` with
        :data:`JOINT`, each row's joint log density of its responses at every draw, dims (chain,
        draw, obs) (the module docstring)."""
        fit["log_likelihood"] = xr.Dataset({JOINT: _joint_log_likelihood(self._checked(fit), fit)})

    def _after_fit(
        self,
        fit: xr.DataTree,
        log_likelihood: bool | None,
        posterior_predictive: bool,
        random_seed: int | None,
    ) -> None:
        """``fit``'s optional groups: the pointwise log-likelihood (by default when it fits in
        :data:`~hiermod.inference.fit.MAX_POINTWISE_VALUES`), the posterior predictive draws."""
        mv: _Multivariate = self  # type: ignore[assignment]
        if log_likelihood is None:
            log_likelihood = pointwise_fits(len(mv.data), fit)
        if log_likelihood:
            self.add_log_likelihood(fit)
        if posterior_predictive:
            draws = mv.predict(fit, kind="response", random_seed=random_seed)
            obs = read_group(fit, "observed_data")["obs"].values
            fit["posterior_predictive"] = xr.Dataset(
                {
                    r: draws.sel(response=r, drop=True).drop_attrs().assign_coords(obs=obs)
                    for r in mv.responses
                }
            )

    def loo(self, fit: xr.DataTree, *, pointwise: bool = False) -> ELPDData:
        """brms's ``loo(fit)`` of a multivariate model: PSIS-LOO over the rows, from the joint
        pointwise log-likelihood :data:`JOINT` (``arviz_stats.loo``)."""
        import arviz as az

        check_flag("pointwise", pointwise)
        self._checked(fit)
        require_log_likelihood(fit, False, remedy=_REMEDY)
        result: ELPDData = az.loo(fit, pointwise=pointwise, var_name=JOINT)
        return result

    def _loo_observations(self, fit: xr.DataTree, label: str) -> tuple[str, np.ndarray]:
        """What ``hm.compare`` checks of a multivariate fit: its rows' responses, jointly."""
        mv = self._checked(fit)
        require_log_likelihood(fit, False, f"the fit of {label!r}", remedy=_REMEDY)
        observed = observed_responses(mv, fit)
        responses = sorted(mv.responses)  # the joint density of a row is the same in any order
        rows = np.column_stack([observed[r] for r in responses])
        return f"the rows of the responses {', '.join(responses)} jointly", rows

    def prior_predictive(self, draws: int = 500, random_seed: int | None = None) -> xr.DataTree:
        """Draws from the model's prior (``Model.prior_predictive``): groups ``prior``,
        ``prior_predictive`` (``Y``, dims (chain, draw, obs, response), with residual
        correlation; else each response) and ``observed_data``."""
        mv: _Multivariate = self  # type: ignore[assignment]
        return prior_predictive(mv.pymc, draws, random_seed)
