"""Fitting a :class:`~hiermod.model.Model`: MCMC (NUTS) or a quick approximation, always a ``DataTree``.

``Model.fit`` calls :func:`fit`. Every method returns an ``xarray.DataTree`` — ArviZ 1's container
for a fit, with the groups ArviZ's functions read — with the model's named
dims and coords, an ``observed_data`` group, the pointwise ``log_likelihood`` (for ``az.loo`` /
``az.compare``; ``log_likelihood=False`` skips it) and the ``hiermod_*`` attributes of
:mod:`hiermod.inference.storage` on the posterior group, so the fit can be saved with ``idata.to_netcdf`` and
used again with ``hm.Model.from_idata``.

==============  ======================================================================================
method          what it does
==============  ======================================================================================
``"nuts"``      MCMC with NUTS: PyMC's (``sampler="pymc"``), nutpie, NumPyro, or ``"auto"`` (nutpie if installed)
``"advi"``      mean-field ADVI (``pm.fit``), then ``draws`` draws from the approximation (one chain)
``"pathfinder"`` Pathfinder from ``pymc-extras`` (optional), ``draws`` draws (one chain)
``"map"``       the posterior mode (``pm.find_MAP``): one chain with one draw. Hierarchical modes
                often sit at sd = 0; use it as a quick check, not as an estimate of uncertainty
==============  ======================================================================================

After NUTS, divergences, tree-depth hits, high R-hat and low ESS become **one**
:class:`~hiermod.warnings.SamplingWarning` (see :mod:`hiermod.inference.diagnostics`).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pymc as pm
import xarray as xr
from pytensor.compile.mode import Mode, get_mode
from threadpoolctl import threadpool_limits

from hiermod.arguments import check_count, check_flag, check_seed
from hiermod.errors import DependencyError, HiermodError
from hiermod.inference.approximate import (
    advi,
    map_fit,
    warn_if_advi_on_groups,
    warn_if_centred_mode,
)
from hiermod.inference.calls import (
    METHODS,
    SAMPLERS,
    check_fit_call,
    check_method,
    check_settings,
    resolve_sampler,
)
from hiermod.inference.compiled import (
    data_key,
    lkj_starts,
    reusing_nutpie_compile,
    structure_key,
)
from hiermod.inference.diagnostics import unchecked, warn_if_problems
from hiermod.inference.fit_groups import read_group
from hiermod.inference.interrupts import (
    PARTIAL_ATTR,
    DrawStop,
    StoppedBeforeDraws,
    stop_between_draws,
)
from hiermod.inference.storage import fit_attrs
from hiermod.output.module import module_data
from hiermod.plan.ir import ModelIR
from hiermod.plan.lower import LowerOptions
from hiermod.warnings import FitWarning, user_stacklevel

__all__ = [
    "METHODS",
    "SAMPLERS",
    "MissingDependencyError",
    "add_posterior_predictive",
    "check_fit_call",
    "check_method",
    "check_settings",
    "fit",
    "nuts_sample",
    "pointwise_fits",
    "sampling_mode",
]


# The modules each optional backend needs, and the extra that installs them.
_EXTRAS: dict[str, tuple[tuple[str, ...], str]] = {
    "nutpie": (("nutpie",), "pip install 'hiermod[nutpie]'"),
    "numpyro": (("numpyro", "jax"), "pip install 'hiermod[numpyro]'"),
    "pathfinder": (("pymc_extras", "pymc_experimental"), "pip install pymc-extras"),
}


class MissingDependencyError(DependencyError):
    """An optional backend (nutpie, NumPyro, pymc-extras) was asked for but is not installed."""


def _require(what: str, *, any_of: bool = False) -> str:
    """Import the modules ``what`` needs; return the first that imported, or explain how to install."""
    modules, install = _EXTRAS[what]
    missing = []
    found = ""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
        else:
            found = found or module
    if (any_of and not found) or (not any_of and missing):
        needed = " or ".join(modules) if any_of else " and ".join(missing)
        verb = "is" if any_of or len(missing) == 1 else "are"
        option = "method='pathfinder'" if what == "pathfinder" else f"sampler={what!r}"
        raise MissingDependencyError(
            f"{option} needs {needed}, which {verb} not installed; install it with: {install}"
        )
    return found


def sampling_mode() -> Mode:
    """The PyTensor mode PyMC's NUTS compiles hiermod models with: Numba (``"NUMBA"``).

    Measured on six benchmark models (``benchmarks/backends.py``, docs/performance.md): one
    logp+gradient under Numba is 1.3–4.3× faster than under PyTensor's C virtual machine
    (sleepstudy 0.017 vs 0.051 ms; the forum model at 100k rows row-wise 3.3 vs 6.4 ms), and its
    first compile on an empty cache is about as long (30–65 s against 44–56 s; a few seconds
    either way once cached). PyTensor 3 defaults to it as well; hiermod names it so that a changed
    global default does not slow the sampler down. ``compile_kwargs={"mode": ...}`` passed to
    ``Model.fit`` still wins.
    """
    mode: Mode = get_mode("NUMBA")
    return mode


def fit(
    pymc_model: pm.Model,
    ir: ModelIR,
    options: LowerOptions,
    *,
    rows_model: Callable[[], pm.Model] | None = None,
    source: str | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    sampler: str = "pymc",
    random_seed: int | None = None,
    progressbar: bool = True,
    method: str = "nuts",
    log_likelihood: bool | None = None,
    **kwargs: Any,
) -> xr.DataTree:
    """Fit ``pymc_model``, the PyMC model of the plan ``ir``; see the module docstring for the methods.

    Args:
        ir, options: the model's plan and the options it was lowered with, stored on the fit
            (:func:`~hiermod.inference.storage.fit_attrs`) with the generated ``source``.
        rows_model: the row-wise PyMC model (same parameters as ``pymc_model``, which may use
            sufficient statistics), built when the pointwise log-likelihood is computed; ``None``
            for a model that keeps no rows (streamed): no observed data, no pointwise values.
        draws, tune, chains: NUTS settings; ``draws`` is also the number of draws taken from an
            ADVI or Pathfinder approximation.
        sampler: the NUTS implementation: ``"pymc"`` (the default), ``"nutpie"``, ``"numpyro"``,
            or ``"auto"``: nutpie when installed and the call's keywords and the family allow it,
            else PyMC's (:func:`~hiermod.inference.calls.resolve_sampler`).
        random_seed: makes the fit reproducible.
        method: ``"nuts"``, ``"advi"``, ``"pathfinder"`` or ``"map"``.
        log_likelihood: compute the pointwise log-likelihood group (``True``), skip it
            (``False``), or by default compute it unless it would hold more than
            :data:`MAX_POINTWISE_VALUES` numbers (rows × chains × draws; then a
            :class:`~hiermod.warnings.FitWarning` says it was skipped).
        **kwargs: passed on: to ``pm.sample`` for NUTS (``target_accept=0.95``, ``cores=1``, …),
            to ``pm.fit`` for ADVI (``n=20000`` iterations), to ``pm.find_MAP`` for MAP.

    Example:
        >>> idata = m.fit(draws=500, tune=500, chains=2, random_seed=1)   # doctest: +SKIP
    """
    check_fit_call(method, sampler, draws, tune, chains, random_seed, progressbar, kwargs)
    sampler = resolve_sampler(sampler, method, kwargs, ir.likelihood.family)
    if log_likelihood is not None:
        check_flag("log_likelihood", log_likelihood)
    start = time.perf_counter()
    if method == "nuts":
        keys = (
            None if source is None else (data_key(source, module_data(ir)), structure_key(source))
        )
        idata = _nuts(
            pymc_model, draws, tune, chains, sampler, random_seed, progressbar, kwargs, keys
        )
    elif method == "advi":
        warn_if_advi_on_groups(ir)
        idata = advi(pymc_model, draws, random_seed, progressbar, kwargs)
    elif method == "pathfinder":
        idata = _pathfinder(pymc_model, draws, random_seed, progressbar, kwargs)
    else:
        warn_if_centred_mode(ir)
        idata = map_fit(pymc_model, random_seed, progressbar, kwargs)
    elapsed = time.perf_counter() - start
    if (
        rows_model is not None
    ):  # a streamed model keeps no rows: no observed data, no pointwise values
        _ensure_observed(idata, ir)
    if log_likelihood is None:
        log_likelihood = pointwise_fits(len(ir.coords.get("obs", ())), idata)
    if log_likelihood and rows_model is not None:
        # A model fitted through sufficient statistics has no per-row likelihood; its row-wise twin
        # (same parameters) gives the pointwise values.
        pm.compute_log_likelihood(idata, model=_without_starts(rows_model()), progressbar=False)
    posterior = read_group(idata)
    n_chains, n_draws = posterior.sizes["chain"], posterior.sizes["draw"]
    settings: dict[str, str | int | float] = {
        "method": method,
        "sampler": sampler if method == "nuts" else method,
        "draws": int(n_draws),
        "tune": int(tune) if method == "nuts" else 0,
        "chains": int(n_chains),
        "seconds": round(elapsed, 3),
    }
    idata["posterior"].attrs.update(fit_attrs(ir, options, settings, source))
    if method == "nuts":
        warn_if_problems(idata, unchecked(ir))
    return idata


def prior_predictive(
    model: pm.Model, draws: int, random_seed: int | None, *, streamed: bool = False
) -> xr.DataTree:
    """``draws`` draws of every variable of ``model`` from its prior, the response included
    (:meth:`hiermod.model.Model.prior_predictive`)."""
    if streamed:
        raise HiermodError(
            "a streamed model keeps no rows, so its prior has no responses to draw: "
            "compile a Model on a sample of the rows for prior predictive checks"
        )
    check_count("draws", draws, 1)
    check_seed("random_seed", random_seed)
    with model:
        prior: xr.DataTree = pm.sample_prior_predictive(draws=draws, random_seed=random_seed)
    return prior


def add_posterior_predictive(idata: xr.DataTree, draws: xr.DataArray) -> None:
    """Add a ``posterior_predictive`` group to a fit: ``draws``, one response drawn from the
    likelihood per posterior draw and training row, dims (chain, draw, obs), for
    ``az.plot_ppc_dist`` and other checks (what ``Model.predict(kind="response")`` gives)."""
    idata["posterior_predictive"] = xr.Dataset({draws.name: draws.drop_attrs()})


MAX_POINTWISE_VALUES = 250_000_000  # 2 GB of float64: e.g. 62,500 rows × 4 chains × 1000 draws


def pointwise_fits(n_rows: int, idata: xr.DataTree) -> bool:
    """Whether the default pointwise log-likelihood of ``n_rows`` rows fits in
    :data:`MAX_POINTWISE_VALUES` (else a FitWarning says it was not computed)."""
    posterior = read_group(idata)
    values = n_rows * posterior.sizes["chain"] * posterior.sizes["draw"]
    if values <= MAX_POINTWISE_VALUES:
        return True
    warnings.warn(
        f"the pointwise log-likelihood was not computed: {n_rows:,} rows × "
        f"{posterior.sizes['chain'] * posterior.sizes['draw']:,} draws would need "
        f"{values * 8 / 2**30:.1f} GiB; pass log_likelihood=True to compute it anyway, or compute "
        "it for some rows with pm.compute_log_likelihood",
        FitWarning,
        stacklevel=user_stacklevel(),
    )
    return False


# -- methods ------------------------------------------------------------------------------------


def _nuts(
    model: pm.Model,
    draws: int,
    tune: int,
    chains: int,
    sampler: str,
    random_seed: int | None,
    progressbar: bool,
    kwargs: dict[str, Any],
    keys: tuple[str, str] | None = None,
) -> xr.DataTree:
    """``pm.sample`` with hiermod's settings; ``keys`` identify the model with its data and the
    model's structure (:func:`~hiermod.inference.compiled.data_key`,
    :func:`~hiermod.inference.compiled.structure_key`): nutpie's compiled model is kept under
    them."""
    if sampler != "pymc":
        _require(sampler)
    _start_lkj_at_values(model, kwargs)
    # hiermod checks convergence itself (one warning, hiermod.inference.diagnostics), so PyMC's per-check
    # log messages are turned off.
    kwargs.setdefault("compute_convergence_checks", False)
    if sampler == "pymc":
        # PyMC assumes half the CPUs are hyper-threads and runs 2 chains one after the other on a
        # 2-core machine; one process per chain (up to the CPU count) is what users expect.
        kwargs.setdefault("cores", max(1, min(chains, os.cpu_count() or 1)))
        compile_kwargs = dict(kwargs.pop("compile_kwargs", None) or {})
        compile_kwargs.setdefault("mode", sampling_mode())
        kwargs["compile_kwargs"] = compile_kwargs
    nutpie_runs = contextlib.ExitStack()
    if sampler == "nutpie":
        compile_kwargs = dict(kwargs.pop("compile_kwargs", None) or {})
        if all(v is None for v in model.rvs_to_initial_values.values()):  # PyMC cannot freeze
            compile_kwargs.setdefault("freeze_model", True)  # others: data as constants (compiled)
        kwargs["compile_kwargs"] = compile_kwargs
        nutpie_runs.enter_context(reusing_nutpie_compile(model, *(keys or (None, None))))
    limit = (
        contextlib.nullcontext() if sampler == "pymc" else threadpool_limits(blas_threads(chains))
    )
    stops, stop = contextlib.ExitStack(), DrawStop()
    if sampler == "pymc":  # Ctrl-C stops between draws (hiermod.inference.interrupts)
        stop = stops.enter_context(stop_between_draws())
        kwargs["callback"] = stop.callback(kwargs.get("callback"))
    with limit, nutpie_runs, stops, warnings.catch_warnings():
        # PyMC's NUTS computes the kinetic energy of each leapfrog step with NumPy; when a
        # trajectory diverges (usually early in tuning, e.g. a Poisson model's exp(eta) from a
        # jittered start) the momentum overflows and NumPy warns "overflow encountered in dot".
        # PyMC already ends that trajectory as a divergence, and divergences after tuning are
        # reported by hiermod's one SamplingWarning, so the NumPy warning adds nothing. Filtered
        # for that module only; the filter reaches the chains' processes (forked).
        warnings.filterwarnings(
            "ignore",
            message="overflow encountered",
            category=RuntimeWarning,
            module="pymc.step_methods.hmc.quadpotential",
        )
        try:
            result = pm.sample(
                draws=draws,
                tune=tune,
                chains=chains,
                random_seed=random_seed,
                progressbar=progressbar,
                nuts_sampler=sampler,
                model=model,
                **kwargs,
            )
        except KeyboardInterrupt as error:
            # nutpie returns the draws so far on Ctrl-C and raises only when it has none (in tuning)
            if sampler == "nutpie":
                raise StoppedBeforeDraws from error
            raise
        except Exception as error:  # e.g. PyMC's "Not enough samples" after Ctrl-C in tuning
            if stop.requested:
                raise StoppedBeforeDraws from error
            raise
    assert isinstance(result, xr.DataTree)
    if stop.requested or _cut_short(result, sampler, draws):
        result["posterior"].attrs[PARTIAL_ATTR] = 1
    return result


def _cut_short(result: xr.DataTree, sampler: str, draws: int) -> bool:
    """Whether nutpie stopped before ``draws``: on Ctrl-C it ends every chain and returns the draws
    so far (``nutpie.sample`` catches the KeyboardInterrupt), so the fit is partial, as a PyMC fit
    stopped by Ctrl-C; said on stderr, as PyMC's stop is."""
    kept = int(result["posterior"].sizes["draw"])
    if sampler != "nutpie" or kept >= draws:
        return False
    print(
        f"hiermod: Ctrl-C — nutpie stopped the chains after {kept} of {draws} draws; the fit "
        f"keeps them and is marked partial (posterior attribute {PARTIAL_ATTR} = 1)",
        file=sys.stderr,
        flush=True,
    )
    return True


def nuts_sample(
    model: pm.Model, sampler: str, sample: dict[str, Any], skip: Sequence[str] = ()
) -> xr.DataTree:
    """NUTS of a model hiermod did not plan as one (a multivariate model's composed module) with
    ``Model.fit``'s settings: PyMC's sampler compiled with Numba or nutpie, Ctrl-C between draws,
    hiermod's one SamplingWarning (``skip``: variables its checks leave out)."""
    if sampler != "pymc":
        _require(sampler)
    draws, tune = int(sample.pop("draws", 1000)), int(sample.pop("tune", 1000))
    chains = int(sample.pop("chains", 4))
    seed, progress = sample.pop("random_seed", None), bool(sample.pop("progressbar", False))
    idata = _nuts(model, draws, tune, chains, sampler, seed, progress, sample)
    warn_if_problems(idata, skip)
    return idata


def _start_lkj_at_values(model: pm.Model, kwargs: dict[str, Any]) -> None:
    """PyMC's start of each LKJ prior given as its value (:func:`~hiermod.inference.compiled.lkj_starts`),
    unless the user's ``initvals`` name it or are per chain."""
    given = kwargs.get("initvals")
    if given is not None and not isinstance(given, dict):
        return
    named = {getattr(k, "name", k) for k in given or {}}
    starts = {k: v for k, v in lkj_starts(model).items() if k not in named}
    if starts:
        kwargs["initvals"] = {**starts, **(given or {})}


def blas_threads(chains: int) -> int:
    """BLAS threads per call while nutpie or NumPyro run ``chains`` chains as threads of this process.

    Each chain's small matrix products would otherwise start one BLAS thread per core, and with more
    chains than cores those threads wait on each other: 4 nutpie chains of the 1M-row forum model on
    2 cores took 239 s with OpenBLAS's default 2 threads and 79 s with 1 (tune 200, draws 100).
    PyMC's own sampler runs chains as processes and limits their BLAS threads itself.
    """
    cpus = os.cpu_count() or 1
    return max(1, cpus // max(1, min(chains, cpus)))


def _pathfinder(
    model: pm.Model,
    draws: int,
    random_seed: int | None,
    progressbar: bool,
    kwargs: dict[str, Any],
) -> xr.DataTree:
    """Multi-path Pathfinder from pymc-extras (``pymc_extras.fit(method="pathfinder")``).

    Deterministics (``r_*``, ``sd_*``) are added when the backend left them out.
    """
    module = importlib.import_module(_require("pathfinder", any_of=True))
    result = module.fit(
        method="pathfinder",
        model=model,
        num_draws=draws,
        random_seed=random_seed,
        progressbar=progressbar,
        **kwargs,
    )
    if not isinstance(result, xr.DataTree):  # pragma: no cover - unknown pymc-extras
        raise HiermodError(f"pathfinder returned {type(result).__name__}, not a DataTree")
    return _with_deterministics(result, model)


def _with_deterministics(idata: xr.DataTree, model: pm.Model) -> xr.DataTree:
    """Add deterministics (``r_*``, ``sd_*``, ``corr_*``) when a backend left them out."""
    missing = [d for d in model.deterministics if d.name not in read_group(idata)]
    if missing:
        extra = pm.compute_deterministics(
            read_group(idata),
            var_names=[d.name for d in missing],
            model=model,
            progressbar=False,
        )
        idata["posterior"] = read_group(idata).merge(extra)
    return idata


def _without_starts(model: pm.Model) -> pm.Model:
    """``model`` without the starting values of its variables (an ordinal model's thresholds start
    increasing, ``initval=``): they only matter to a sampler, and PyMC cannot rewrite a model that
    has them, as computing the pointwise log-likelihood does."""
    for rv in model.rvs_to_initial_values:
        model.rvs_to_initial_values[rv] = None
    return model


def _ensure_observed(idata: xr.DataTree, ir: ModelIR) -> None:
    """Every fit carries the observed response, with the ``obs`` coords of the model.

    A model fitted through sufficient statistics has no observed variable, so PyMC leaves the
    response out (or writes no ``observed_data`` group at all).
    """
    lik = ir.likelihood
    if "observed_data" in idata.children and lik.name in read_group(idata, "observed_data"):
        return
    values = ir.data_values[lik.observed]
    obs = xr.Dataset({lik.name: (("obs",), values)}, coords={"obs": np.asarray(ir.coords["obs"])})
    if "observed_data" in idata.children:
        obs = read_group(idata, "observed_data").merge(obs)
    idata["observed_data"] = obs
