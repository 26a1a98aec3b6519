"""Checking and comparing fits: posterior predictive checks, Bayesian R², LOO and model comparison.

:class:`ModelChecks` is the part of ``hm.Model`` that reads a fit for these (thin methods over the
functions of this subpackage), and :func:`compare` ranks several models' fits (``hm.compare``).

* ``pp_check`` — the observed response against responses drawn from the posterior predictive
  distribution, drawn by ArviZ's own plots (arviz-plots): ``plot_ppc_dist`` (kernel densities of
  ``num_samples`` draws over the observed density) for continuous responses; for counts and 0/1
  responses ``plot_ppc_rootogram`` (each count's predicted frequency with its ``prob`` interval),
  under bars of the observed frequencies as brms's ``pp_check(type = "bars")`` draws them.
* ``loo`` / :func:`compare` — PSIS-LOO (``arviz_stats.loo`` / ``arviz_stats.compare``) from the
  pointwise log-likelihood the fit stores. ``Model.fit`` leaves it out when it would exceed
  :data:`~hiermod.inference.fit.MAX_POINTWISE_VALUES` numbers (with a ``FitWarning``) or when asked
  (``log_likelihood=False``); a streamed model keeps no rows to compute it for. Each case is a
  :class:`~hiermod.errors.HiermodError` saying so and what to do.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, overload

import numpy as np
import pandas as pd
import xarray as xr

from hiermod.arguments import check_choice, check_count, check_flag, check_seed, check_type
from hiermod.data.families import get_family
from hiermod.errors import ArgumentError, HiermodError, OptionError
from hiermod.inference.belongs import check_fit
from hiermod.inference.fit import MAX_POINTWISE_VALUES
from hiermod.inference.fit_groups import read_group
from hiermod.inference.intervals import DEFAULT_PROB, check_prob, interval_label
from hiermod.interpret.coefficients import blocks_over, coef_tables, coefficient_variables
from hiermod.interpret.hypothesis import hypothesis_table, parse_hypothesis
from hiermod.interpret.protocol import FittedModel
from hiermod.interpret.r2 import bayes_r2_draws, bayes_r2_table
from hiermod.plan.ir import ModelIR
from hiermod.warnings import HiermodWarning, user_stacklevel

if TYPE_CHECKING:
    from arviz_stats import ELPDData
    from matplotlib.figure import Figure

__all__ = [
    "PP_CHECK_KINDS",
    "Comparable",
    "ModelChecks",
    "compare",
    "draw_prior",
    "hypothesis_call",
    "pp_check",
    "require_log_likelihood",
]

PP_CHECK_KINDS = ("auto", "density", "ecdf", "bars", "rootogram")
_IMPROPER = frozenset({"flat", "half_flat"})  # priors PyMC cannot draw from


# -- posterior predictive checks --------------------------------------------------------------------


def _predictive_tree(ir: ModelIR, fit: xr.DataTree, draws: xr.DataArray | None) -> xr.DataTree:
    """The observed response and its posterior predictive draws (the fit's, else ``draws``), as
    integers for a discrete family (ArviZ's discrete plots tell data types apart by dtype)."""
    name = ir.likelihood.name
    observed = read_group(fit, "observed_data")[[name]]
    if draws is None:
        predictive = read_group(fit, "posterior_predictive")[[name]]
    else:
        predictive = xr.Dataset({name: draws.drop_attrs()})
    if get_family(ir.likelihood.family).discrete:
        observed = observed.round().astype(np.int64)
        predictive = predictive.round().astype(np.int64)
    return xr.DataTree.from_dict({"observed_data": observed, "posterior_predictive": predictive})


def pp_check(
    ir: ModelIR,
    fit: xr.DataTree,
    draws: xr.DataArray | None = None,
    *,
    kind: str = "auto",
    num_samples: int = 50,
    prob: float = DEFAULT_PROB,
) -> Figure:
    """A posterior predictive check of ``fit``'s response, as a matplotlib Figure.

    ``draws`` are posterior predictive draws (chain, draw, obs) for a fit without a
    ``posterior_predictive`` group. ``kind``: ``"density"`` (the default for continuous
    responses: ``num_samples`` predictive kernel densities and the observed one), ``"ecdf"`` (the
    same as ECDFs), ``"bars"`` (the default for counts and 0/1 responses: observed frequency of each
    value as bars, predicted mean frequency with its ``prob`` interval as points and lines) or
    ``"rootogram"`` (ArviZ's rootogram: the same on a square-root scale, observed as points).
    """
    import arviz_plots as azp

    prob = check_prob(prob)
    check_choice("kind", kind, PP_CHECK_KINDS)
    check_count("num_samples", num_samples, 1)
    tree = _predictive_tree(ir, fit, draws)
    name = ir.likelihood.name
    discrete = get_family(ir.likelihood.family).discrete
    chosen = ("bars" if discrete else "density") if kind == "auto" else kind
    predictive = tree["posterior_predictive"][name]
    available = predictive.sizes["chain"] * predictive.sizes["draw"]
    with warnings.catch_warnings():
        # ArviZ points 0/1 data to its calibration plot (plot_ppc_pava); a count check of 0s and
        # 1s is still what was asked for.
        warnings.filterwarnings("ignore", message=".*look binary", category=UserWarning)
        # With fewer than four distinct values (0/1) ArviZ's rootogram summary stacks value, mean
        # and interval bounds into a 4 × values array that its dims check reads as 4 chains of
        # fewer draws, and warns; the fit's own dims are not concerned.
        warnings.filterwarnings(
            "ignore", message="Found chain dimension to be longer", category=UserWarning
        )
        if chosen in ("density", "ecdf"):
            collection = azp.plot_ppc_dist(
                tree,
                kind="kde" if chosen == "density" else "ecdf",
                num_samples=min(num_samples, available),
                backend="matplotlib",
            )
            title = f"{name}: observed and {min(num_samples, available)} posterior predictive draws"
        else:
            collection = azp.plot_ppc_rootogram(
                tree,
                ci_prob=prob,
                yscale="linear" if chosen == "bars" else "sqrt",
                visuals={"observed_markers": chosen != "bars"},  # bars show the observed counts
                backend="matplotlib",
            )
            title = f"{name}: observed and predicted frequencies ({interval_label(prob)}s)"
    viz = collection.viz
    axes = viz["plot"][name].item()
    if chosen == "bars":
        observed = np.asarray(tree["observed_data"][name].values)
        values, counts = np.unique(observed, return_counts=True)
        axes.bar(values, counts, width=0.8, color="0.8", zorder=0, label="observed")
        viz["predictive_markers"][name].item().set_label(f"predicted (mean, {100 * prob:g}%)")
    elif chosen == "rootogram":
        viz["observed_markers"][name].item().set_label("observed")
        viz["predictive_markers"][name].item().set_label(f"predicted (mean, {100 * prob:g}%)")
    else:
        viz["observed_dist"][name].item().set_label("observed")
        next(iter(viz["predictive_dist"][name].values.flat)).set_label("posterior predictive")
    axes.legend(frameon=False)
    axes.set_title(title)
    figure: Figure = collection.viz["figure"].item()
    return figure


# -- LOO and model comparison -----------------------------------------------------------------------


_REMEDY = (
    "Refit with log_likelihood=True, or add it to this fit with "
    "pymc.compute_log_likelihood(fit, model=model.pymc_rows)"
)


def require_log_likelihood(
    fit: xr.DataTree, streamed: bool, label: str = "this fit", *, remedy: str = _REMEDY
) -> None:
    """Nothing when ``fit`` has a ``log_likelihood`` group, else an error saying why it may have
    none and what to do (``remedy``)."""
    if "log_likelihood" in fit.children:
        return
    if streamed:
        raise HiermodError(
            f"{label} has no pointwise log-likelihood, which LOO needs: a streamed model keeps no "
            "rows to compute it for. Compile a Model on the rows (or a sample of them) to compare "
            "models by LOO"
        )
    raise HiermodError(
        f"{label} has no pointwise log-likelihood (no 'log_likelihood' group), which LOO needs. "
        f"Model.fit leaves it out when rows × chains × draws exceed {MAX_POINTWISE_VALUES:,} "
        "values (it then issues a FitWarning saying so) and when called with "
        f"log_likelihood=False. {remedy}"
    )


def loo(
    ir: ModelIR, fit: xr.DataTree, *, pointwise: bool = False, streamed: bool = False
) -> ELPDData:
    """PSIS-LOO of the fit (``arviz_stats.loo``) on the response's pointwise log-likelihood."""
    import arviz as az

    read_group(fit)  # a fit, or an error saying what is expected
    check_fit(ir, fit)
    require_log_likelihood(fit, streamed)
    result: ELPDData = az.loo(fit, pointwise=pointwise, var_name=ir.likelihood.name)
    return result


def _check_same_rows(observations: Mapping[str, tuple[str, np.ndarray]]) -> None:
    """LOO compares predictive densities of the same observations: same rows, same values, and
    the same kind of observation (a multivariate model's rows hold every response at once)."""
    first: tuple[str, str, np.ndarray] | None = None
    for label, (kind, observed) in observations.items():
        if first is None:
            first = (label, kind, observed)
            continue
        name, reference_kind, reference = first
        if kind != reference_kind:
            raise HiermodError(
                f"models compared by LOO must predict the same observations: {name!r} predicts "
                f"{reference_kind}, {label!r} {kind}; their pointwise densities are of "
                "different things (a multivariate model's rows hold all its responses)"
            )
        if observed.shape != reference.shape:
            raise HiermodError(
                f"models compared by LOO must be fitted to the same rows: {name!r} has "
                f"{len(reference)} observations, {label!r} {len(observed)}"
            )
        if not np.allclose(observed, reference, equal_nan=True):
            raise HiermodError(
                f"models compared by LOO must predict the same observations: the responses of "
                f"{name!r} and {label!r} differ (a transformed response, such as log(y), has "
                "densities on another scale)"
            )


class Comparable(Protocol):
    """A model :func:`compare` ranks: ``hm.Model`` or a multivariate model."""

    def _loo_observations(self, fit: xr.DataTree, label: str) -> tuple[str, np.ndarray]: ...


def compare(models: Mapping[str, tuple[Comparable, xr.DataTree]], **options: Any) -> pd.DataFrame:
    """Rank fits by their expected log predictive density, PSIS-LOO (``arviz_stats.compare``).

    ``models`` maps a name to ``(model, fit)``: ``hm.compare({"slopes": (m1, fit1), "intercepts":
    (m2, fit2)})``. The table is ArviZ's: ``elpd``, ``elpd_diff`` and its ``dse`` from the best
    model, ``p`` (effective number of parameters), ``weight``. ``options`` go to ArviZ's
    ``compare``: ``method`` of the weights (``"stacking"``, ``"BB-pseudo-BMA"``, ``"pseudo-BMA"``),
    ``reference`` (the model ``elpd_diff`` counts from), ``round_to`` (``None``: unrounded).
    Multivariate models (``mvbind``) are compared with multivariate models of the same
    responses: their pointwise values are the joint densities of the rows' responses.
    """
    import arviz as az

    check_type("models", models, Mapping, "a dict of {name: (model, fit)}")
    if len(models) < 2:
        raise OptionError(
            f"compare needs at least two {{name: (model, fit)}} entries, not {len(models)}"
        )
    fits: dict[str, xr.DataTree] = {}
    observations: dict[str, tuple[str, np.ndarray]] = {}
    for label, pair in models.items():
        if not (isinstance(pair, Sequence) and len(pair) == 2):
            raise ArgumentError(f"models[{label!r}] must be a (model, fit) pair")
        model, fit = pair
        observations[label] = model._loo_observations(fit, label)
        fits[label] = fit
    _check_same_rows(observations)
    table: pd.DataFrame = az.compare(fits, **options)
    return table


# -- the Model's methods ----------------------------------------------------------------------------


class ModelChecks:
    """``hypothesis``, ``coef``, ``bayes_r2``, ``pp_check`` and ``loo`` of ``hm.Model``."""

    def hypothesis(
        self: FittedModel,
        fit: xr.DataTree,
        hypotheses: str | Sequence[str],
        *,
        prob: float = DEFAULT_PROB,
        group: str | None = None,
        prior_draws: int = 4000,
        random_seed: int | None = None,
    ) -> pd.DataFrame:
        """Test ``"Days > 8"``, ``"Intercept + Days * 5 = 300"`` (or a list) on the posterior.

        Names are ``fixef``'s labels (backticks around non-identifiers: ``"`f[b]` > 0"``);
        ``group="Subject"`` tests each level's coefficients (``coef``). One-sided hypotheses get
        the posterior probability and odds; point hypotheses (``=``) the Savage–Dickey ratio from
        ``prior_draws`` draws of the model's prior. See :mod:`hiermod.interpret.hypothesis`.
        """
        texts, points = hypothesis_call(hypotheses, prob, prior_draws, random_seed)
        check_fit(self.ir, fit)
        prior = draw_prior(self, points, group, prior_draws, random_seed) if points else None
        return hypothesis_table(
            self.ir,
            self.design.schema,
            read_group(fit),
            texts,
            prob=prob,
            group=group,
            prior=prior,
        )

    def coef(
        self: FittedModel, fit: xr.DataTree, *, prob: float = DEFAULT_PROB, dpar: str = "mu"
    ) -> dict[str, pd.DataFrame]:
        """Each level's coefficients, population + group effects (lme4's ``coef()``), per grouping:
        a level × (stat, term) table as ``ranef``'s, with the ``prob`` interval."""
        check_fit(self.ir, fit)
        return coef_tables(self.ir, self.design.schema, read_group(fit), prob=prob, dpar=dpar)

    @overload
    def bayes_r2(
        self: FittedModel, fit: xr.DataTree, *, prob: float = ..., summary: Literal[True] = ...
    ) -> pd.DataFrame: ...
    @overload
    def bayes_r2(
        self: FittedModel, fit: xr.DataTree, *, prob: float = ..., summary: Literal[False]
    ) -> xr.DataArray: ...
    def bayes_r2(
        self: FittedModel, fit: xr.DataTree, *, prob: float = DEFAULT_PROB, summary: bool = True
    ) -> pd.DataFrame | xr.DataArray:
        """Bayesian R² (brms's ``bayes_R2``): a one-row table with the ``prob`` interval, or with
        ``summary=False`` the R² of every draw (chain, draw). See :mod:`hiermod.interpret.r2`."""
        check_prob(prob)
        check_flag("summary", summary)
        mean = self.predict(fit, kind="mean")
        observed = read_group(fit, "observed_data")[self.ir.likelihood.name]
        r2 = bayes_r2_draws(observed, mean)
        return bayes_r2_table(r2, prob) if summary else r2

    def pp_check(
        self: FittedModel,
        fit: xr.DataTree,
        *,
        kind: str = "auto",
        num_samples: int = 50,
        prob: float = DEFAULT_PROB,
        random_seed: int | None = None,
    ) -> Figure:
        """Posterior predictive check (brms's ``pp_check``): predictive densities over the observed
        one, or bars of the observed counts with the predicted ones; a matplotlib Figure.

        Uses the fit's ``posterior_predictive`` group, or draws one (``predict(kind="response")``,
        ``random_seed``) without adding it to the fit. ``kind``: see
        :func:`hiermod.interpret.checks.pp_check`.
        """
        check_prob(prob)
        check_choice("kind", kind, PP_CHECK_KINDS)
        check_count("num_samples", num_samples, 1)
        read_group(fit)  # a fit, or an error saying what is expected
        check_fit(self.ir, fit)
        draws = None
        if "posterior_predictive" not in fit.children:
            draws = self.predict(fit, kind="response", random_seed=random_seed)
        return pp_check(self.ir, fit, draws, kind=kind, num_samples=num_samples, prob=prob)

    def loo(self: FittedModel, fit: xr.DataTree, *, pointwise: bool = False) -> ELPDData:
        """PSIS-LOO cross-validation of the fit (``arviz_stats.loo``) from its stored pointwise
        log-likelihood; an error says why when the fit has none."""
        check_flag("pointwise", pointwise)
        return loo(self.ir, fit, pointwise=pointwise, streamed=self.streamed)

    def _loo_observations(
        self: FittedModel, fit: xr.DataTree, label: str
    ) -> tuple[str, np.ndarray]:
        """What :func:`compare` checks of the fit of ``label``: it belongs to the model and has a
        pointwise log-likelihood; the kind of its observations and their values."""
        check_fit(self.ir, fit)
        require_log_likelihood(fit, self.streamed, f"the fit of {label!r}")
        name = self.ir.likelihood.name
        observed = np.asarray(read_group(fit, "observed_data")[name].values)
        return f"the response {name}", observed


def hypothesis_call(
    hypotheses: str | Sequence[str], prob: float, prior_draws: int, random_seed: int | None
) -> tuple[list[str], list[str]]:
    """The texts of a ``hypothesis()`` call, its arguments checked, and the names its point
    hypotheses use (empty when there are none: no prior draws are needed)."""
    if not isinstance(hypotheses, str | Sequence):
        raise ArgumentError(
            "hypotheses is a str such as 'Days > 8' or a list of them, "
            f"not {type(hypotheses).__name__}"
        )
    texts = [hypotheses] if isinstance(hypotheses, str) else list(hypotheses)
    check_prob(prob)
    check_count("prior_draws", prior_draws, 1)
    check_seed("random_seed", random_seed)
    points = [h for h in map(parse_hypothesis, texts) if h.op == "="]
    return texts, list(dict.fromkeys(n for h in points for n in h.names))


def draw_prior(
    model: FittedModel,
    labels: Sequence[str],
    group: str | None,
    draws: int,
    random_seed: int | None,
) -> xr.Dataset | None:
    """Prior draws of the coefficients ``labels`` name (``fixef``'s labels; and, for ``group``, of
    its group effects), for Savage–Dickey ratios; ``None``, with a warning, when one of them has
    an improper prior."""
    import pymc as pm

    ir = model.ir
    variables = coefficient_variables(ir)
    names = list(dict.fromkeys(variables[n] for n in labels if n in variables))
    specs = {spec.name: spec for spec in ir.parameters()}
    checked = [specs[name] for name in names]
    if group is not None:
        blocks = [block for _, block in blocks_over(ir, group)]
        if not blocks:
            return None  # no such grouping: hypothesis_table says which there are
        names += [block.r.name for block in blocks]
        parts = [(b.sd, b.chol, b.corr_unit, b.z, b.beta) for b in blocks]
        checked += [s for part in parts for s in part if s is not None]
    improper = [s.name for s in checked if s.prior is not None and s.prior.dist in _IMPROPER]
    if improper:
        warnings.warn(
            "point hypotheses get no evidence ratio (NaN): the prior cannot be sampled, "
            f"{', '.join(improper)} {'has' if len(improper) == 1 else 'have'} an improper (flat) "
            "prior; give them proper priors for a Savage–Dickey ratio",
            HiermodWarning,
            stacklevel=user_stacklevel(),
        )
        return None
    if not names:
        return None  # a hypothesis naming no coefficient: hypothesis_table says so
    prior = pm.sample_prior_predictive(
        draws=draws, model=model.pymc, var_names=names, random_seed=random_seed
    )
    return read_group(prior, "prior")
