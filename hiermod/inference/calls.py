"""The arguments of ``Model.fit``, ``Model.predict`` and the summaries, checked at the call: before
the model is compiled or a draw is taken (the rules are :mod:`hiermod.arguments`').

A keyword ``Model.fit`` passes on to the backend must be one the backend reads: ``pm.sample`` drops
a keyword it does not know (``draw=100`` would sample 1000 draws without a word), so each method's
keywords are read from the signatures of the functions it calls (``pm.sample`` and the NUTS step for
``"nuts"``, ``pm.fit`` and its optimiser's step function for ``"advi"``, ``pm.find_MAP`` for
``"map"``) and any other is an :class:`~hiermod.errors.ArgumentError` with the closest name::

    m.fit(draw=100)
    ArgumentError: Model.fit() got an unexpected keyword argument 'draw'; did you mean 'draws'?
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import xarray as xr

from hiermod.arguments import (
    check_choice,
    check_count,
    check_flag,
    check_probability,
    check_seed,
    check_type,
    unexpected_keyword,
)
from hiermod.errors import OptionError

__all__ = [
    "FIT_KEYWORDS",
    "METHODS",
    "SAMPLERS",
    "backend_keywords",
    "check_fit_call",
    "check_method",
    "check_prediction",
    "check_settings",
    "resolve_sampler",
]

SAMPLERS = ("auto", "pymc", "nutpie", "numpyro")
# The keywords pm.sample takes with nutpie (others, such as a per-draw callback or a step method,
# are PyMC's sampler's own): sampler="auto" picks nutpie only for a call that uses none but these.
_NUTPIE_KEYWORDS = frozenset(
    {
        "target_accept",
        "initvals",
        "var_names",
        "cores",
        "nuts",
        "compile_kwargs",
        "idata_kwargs",
        "compute_convergence_checks",
        "quiet",
        "log_likelihood",
        "posterior_predictive",
    }
)
METHODS = ("nuts", "advi", "pathfinder", "map")

# Model.fit's own keywords (those before **kwargs, and the two it reads from them).
FIT_KEYWORDS = (
    "draws",
    "tune",
    "chains",
    "sampler",
    "random_seed",
    "progressbar",
    "method",
    "log_likelihood",
    "posterior_predictive",
)
# PyMC's progress bars (pm.sample's progressbar=)
_PROGRESSBARS = (True, False, "combined", "split", "combined+stats", "split+stats")
# Backend keywords that count something (ADVI's iterations n, NUTS's tree depth, processes)
_COUNTS = ("n", "max_treedepth", "early_max_treedepth", "cores", "n_init")
# What hiermod itself passes to the backend: a user's value would clash with it.
_SET_BY_HIERMOD = frozenset({"model", "nuts_sampler", "return_inferencedata"})


def _parameters(*functions: Callable[..., Any]) -> frozenset[str]:
    """The named parameters of ``functions`` (not ``self``, ``*args``, ``**kwargs``)."""
    names: set[str] = set()
    for function in functions:
        for p in inspect.signature(function).parameters.values():
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name != "self":
                names.add(p.name)
    return frozenset(names)


@functools.cache
def backend_keywords(method: str) -> frozenset[str] | None:
    """The keywords ``method``'s backend reads (None: not known here, e.g. pymc-extras' Pathfinder,
    which is optional and checks its own)."""
    # From the defining modules, not pm.*: the cached answer must not be that of a stand-in
    # (tests replace pm.sample), which would then hold for every later call.
    from pymc.sampling.mcmc import sample
    from pymc.step_methods.hmc.base_hmc import BaseHMC
    from pymc.step_methods.hmc.nuts import NUTS
    from pymc.tuning.starting import find_MAP
    from pymc.variational.inference import Inference, fit
    from pymc.variational.opvi import ObjectiveFunction

    if method == "nuts":
        # step_kwargs by step name (nuts={...}) as pm.sample reads them
        names = _parameters(sample, NUTS.__init__, BaseHMC.__init__) | {"nuts"}
    elif method == "advi":
        names = _parameters(fit, Inference.fit, ObjectiveFunction.step_function)
    elif method == "map":
        names = _parameters(find_MAP)
    else:
        return None
    return frozenset(names - _SET_BY_HIERMOD - {"vars", "initial_point", "rng"})


# Families whose fits mix markedly worse with nutpie than with PyMC's sampler at the default
# settings: tests/test_multinomial.py's recovery fits (4 × 1000 draws, target_accept 0.95) reach a
# bulk ESS of 262–327 with nutpie (a SamplingWarning at the defaults) and over 400 with PyMC's.
PYMC_FAMILIES = frozenset({"multinomial", "dirichlet"})


def resolve_sampler(
    sampler: str, method: str, kwargs: Mapping[str, Any], family: str | None = None
) -> str:
    """The NUTS implementation a fit runs: ``sampler`` itself, or for ``"auto"`` nutpie when it is
    installed, the call passes only keywords it takes (a dict of ``initvals``, not one per chain)
    and the model's ``family`` is not one of :data:`PYMC_FAMILIES`; PyMC's sampler otherwise.

    Why ``"pymc"`` stays the default (benchmarks/samplers.py, docs/performance.md): nutpie is the
    faster end to end on every classic model of the workflow benchmark (it compiles once with
    Numba and runs the chains as threads; 2–5× less CPU time), but with its diagonal mass matrix it
    leaves two of the six short of a usable posterior at the default 4 × 1000 draws — epilepsy
    (min bulk ESS 169, R-hat 1.011) and Penicillin (281, R-hat 1.023), where PyMC's sampler gets
    1102 and 740. ``"auto"`` with ``method="advi"`` and the others is unused.
    """
    if sampler != "auto":
        return sampler
    if method != "nuts" or importlib.util.find_spec("nutpie") is None:
        return "pymc"
    if family in PYMC_FAMILIES:
        return "pymc"
    if set(kwargs) - _NUTPIE_KEYWORDS:
        return "pymc"
    if kwargs.get("initvals") is not None and not isinstance(kwargs["initvals"], dict):
        return "pymc"
    return "nutpie"


def check_method(method: object, sampler: object) -> None:
    """``method`` and ``sampler`` are known and go together (a sampler is for NUTS only)."""
    check_choice("method", method, METHODS)
    check_choice("sampler", sampler, SAMPLERS)
    if method != "nuts" and sampler not in ("auto", "pymc"):
        raise OptionError(
            f"sampler={sampler!r} is for method='nuts', not method={method!r}; "
            "leave sampler out for the other methods"
        )


def check_settings(draws: object, tune: object, chains: object, kwargs: Mapping[str, Any]) -> None:
    """The sampler settings are refused at the call, before compiling: ``draws=-5``, ``chains=0``,
    ``target_accept=7`` (a probability in (0, 1))."""
    check_count("draws", draws, 1)
    check_count("tune", tune, 0)
    check_count("chains", chains, 1)
    if kwargs.get("target_accept") is not None:
        check_probability("target_accept", kwargs["target_accept"], example="0.9")


def check_fit_call(
    method: object,
    sampler: object,
    draws: object,
    tune: object,
    chains: object,
    random_seed: object,
    progressbar: object,
    kwargs: Mapping[str, Any],
) -> None:
    """Every argument of ``Model.fit`` (see the module docstring for the backend's keywords)."""
    check_method(method, sampler)
    check_settings(draws, tune, chains, kwargs)
    check_seed("random_seed", random_seed)
    check_choice("progressbar", progressbar, _PROGRESSBARS)
    for name in _COUNTS:
        if kwargs.get(name) is not None:
            check_count(name, kwargs[name], 1)
    if kwargs.get("log_likelihood") is not None:
        check_flag("log_likelihood", kwargs["log_likelihood"])
    check_flag("posterior_predictive", kwargs.get("posterior_predictive", False))
    known = backend_keywords(str(method))
    for name in kwargs:
        if name in _SET_BY_HIERMOD:
            raise unexpected_keyword("Model.fit()", name, (), f"hiermod sets {name} itself")
        if known is not None and name not in known and name not in FIT_KEYWORDS:
            hint = f"method={method!r} passes on keywords of its backend only"
            raise unexpected_keyword("Model.fit()", name, (*FIT_KEYWORDS, *sorted(known)), hint)


def check_prediction(
    fit: object,
    kind: object,
    kinds: Sequence[str],
    random_seed: object,
    add_to: object,
    groups: object,
) -> None:
    """The arguments of ``Model.predict`` other than the new data (which the binder checks)."""
    check_type("the fit", fit, xr.DataTree, "an xarray.DataTree, as Model.fit returns")
    check_choice("kind", kind, kinds)
    check_seed("random_seed", random_seed)
    if add_to is not None:
        check_type("add_to", add_to, xr.DataTree, "a fit (an xarray.DataTree) or None")
    names = [groups] if isinstance(groups, str) else groups
    if not isinstance(groups, bool) and not (
        isinstance(names, list | tuple) and all(isinstance(g, str) for g in names)
    ):
        raise OptionError(
            "groups must be True, False, a grouping's name ('Subject') or a list of them, "
            f"not {groups!r}"
        )
