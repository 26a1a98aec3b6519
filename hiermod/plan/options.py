"""The options of ``hm.Model(...)``, checked at the call: a wrong value is an error that lists the
allowed ones, before any data is read.

``layout="sparse"``, ``suffstats="maybe"``, ``priors=["normal(0, 1)"]`` or a mistyped keyword
(``prior=``, which would otherwise read as the formula of a parameter called "prior") each raise here
with the argument named::

    hm.Model("y ~ x", df, suffstats="maybe")
    OptionError: suffstats must be True, False or 'auto', not 'maybe'
    hm.Model("y ~ x", df, prior={"b": "normal(0, 1)"})
    ArgumentError: hm.Model() got an unexpected keyword argument 'prior'; did you mean 'priors'?

Wrong types are :class:`~hiermod.errors.ArgumentError` (a ``TypeError``), wrong values
:class:`~hiermod.errors.OptionError` (a ``ValueError``); the rules are :mod:`hiermod.arguments`'.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from hiermod.arguments import check_choice, check_count
from hiermod.data.families import Family
from hiermod.errors import ArgumentError, OptionError
from hiermod.plan.priors import Prior

__all__ = ["MODEL_KEYWORDS", "check_choice", "check_model_options", "check_stream_options"]

# hm.Model's keyword arguments (a keyword close to one of them is a typo, not a parameter's formula).
MODEL_KEYWORDS = ("family", "link", "priors", "layout", "centered", "na_action", "suffstats")
_LAYOUTS = ("auto", "dense", "observed")
_SUFFSTATS = (True, False, "auto")
_NA_ACTIONS = ("drop", "raise")


def _by_grouping(name: str, value: object, allowed: tuple[object, ...]) -> None:
    """One choice for all groupings, or a dict keyed by grouping text (``{"group:color": ...}``)."""
    if isinstance(value, Mapping):
        for key, choice in value.items():
            if not isinstance(key, str):
                raise OptionError(
                    f"{name} keys are groupings written as in the formula ('g', 'g1:g2'), "
                    f"not {key!r}"
                )
            check_choice(f"{name}[{key!r}]", choice, allowed)
    else:
        check_choice(name, value, allowed)


def _check_priors(priors: object) -> None:
    if priors is None:
        return
    if not isinstance(priors, Mapping):
        raise ArgumentError(
            "priors must be a dict from parameter name or class to a prior, e.g. "
            f"{{'b': 'normal(0, 2.5)'}}, got {type(priors).__name__}"
        )
    for key, prior in priors.items():
        if not isinstance(key, str):
            raise ArgumentError(
                f"priors keys are parameter names or classes ('b', 'sd'), not {key!r}"
            )
        if not isinstance(prior, Prior | str):
            raise ArgumentError(
                f"priors[{key!r}] must be a Prior or a string like 'normal(0, 1)', "
                f"got {type(prior).__name__}"
            )


def check_model_options(
    priors: object,
    layout: object,
    centered: object,
    na_action: object,
    suffstats: object,
    dpar_formulas: Mapping[str, object],
    *,
    family_parameters: Iterable[str],
) -> None:
    """Check the options of ``hm.Model`` (see the module docstring)."""
    _check_priors(priors)
    _by_grouping("layout", layout, _LAYOUTS)
    _by_grouping("centered", centered, (True, False, "auto"))
    check_choice("na_action", na_action, _NA_ACTIONS)
    check_choice("suffstats", suffstats, _SUFFSTATS)
    # "mu<category>": the parameters depend on the data (a categorical model's mubanana): any mu…
    # name passes here and the plan checks it against the categories
    parameters = tuple(family_parameters)
    per_category = "mu<category>" in parameters
    for name, formula in dpar_formulas.items():
        if name not in parameters and not (per_category and name.startswith("mu")):
            typo = difflib.get_close_matches(name, MODEL_KEYWORDS, n=1, cutoff=0.7)
            hint = (
                f"did you mean {typo[0]!r}?"
                if typo
                else f"the family's distributional parameters are: {', '.join(parameters) or 'none'}"
            )
            raise ArgumentError(f"hm.Model() got an unexpected keyword argument {name!r}; {hint}")
        if not isinstance(formula, str):
            raise ArgumentError(
                f'{name}= is a formula for the parameter {name}, e.g. {name}="~ (1 | g)", '
                f"got {type(formula).__name__}; a fixed value goes into priors="
            )


def check_stream_options(
    priors: object,
    layout: object,
    centered: object,
    na_action: object,
    chunksize: object,
    dpar_formulas: Mapping[str, object],
    family: Family,
) -> None:
    """Check the options of ``hm.stream_model``: those of ``hm.Model`` and ``chunksize`` (a
    streamed model needs sufficient statistics, so its family has no per-category formulas)."""
    check_model_options(
        priors, layout, centered, na_action, "auto", dpar_formulas,
        family_parameters=family.auxiliary,
    )  # fmt: skip
    check_count("chunksize", chunksize, 1)
