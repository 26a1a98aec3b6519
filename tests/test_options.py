"""hm.Model's and fit's options are checked at the call, with the allowed values in the message
(issue 13: "options never checked", "wrong Python types")."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import hiermod as hm
from hiermod.errors import ArgumentError, OptionError
from hiermod.inference.fit import check_settings

DATA = pd.DataFrame(
    {
        "y": np.linspace(0.0, 3.0, 12),
        "x": np.tile([0.0, 1.0, 2.0], 4),
        "g": np.repeat(list("abcd"), 3),
    }
)

OPTION_CASES: list[tuple[dict[str, Any], type[Exception], str]] = [
    (
        {"layout": "sparse"},
        OptionError,
        "layout must be 'auto', 'dense' or 'observed', not 'sparse'",
    ),
    ({"layout": {"g": "x"}}, OptionError, "layout['g'] must be"),
    ({"layout": {1: "dense"}}, OptionError, "keys are groupings"),
    ({"suffstats": "maybe"}, OptionError, "suffstats must be True, False or 'auto', not 'maybe'"),
    ({"suffstats": 1}, OptionError, "not 1"),  # 1 is not True here
    ({"centered": 3}, OptionError, "centered must be True, False or 'auto', not 3"),
    ({"centered": {"g": "yes"}}, OptionError, "centered['g'] must be"),
    ({"na_action": "omit"}, OptionError, "na_action must be 'drop' or 'raise', not 'omit'"),
    ({"priors": ["normal(0, 1)"]}, ArgumentError, "priors must be a dict"),
    ({"priors": "normal(0, 1)"}, ArgumentError, "priors must be a dict"),
    ({"priors": {1: "normal(0, 1)"}}, ArgumentError, "priors keys are parameter names"),
    ({"priors": {"b": 3}}, ArgumentError, "priors['b'] must be a Prior or a string"),
    ({"sigma": 3}, ArgumentError, "sigma= is a formula for the parameter sigma"),
    (
        {"prior": {"b": "normal(0, 1)"}},
        ArgumentError,
        "unexpected keyword argument 'prior'; did you mean 'priors'?",
    ),
    ({"layuot": "dense"}, ArgumentError, "did you mean 'layout'?"),
    ({"nu": "~ x"}, ArgumentError, "distributional parameters are: sigma"),
]


@pytest.mark.parametrize(("options", "error", "message"), OPTION_CASES)
def test_model_options_are_checked_at_the_call(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as caught:
        hm.Model("y ~ x + (1 | g)", DATA, **options)
    assert message in str(caught.value)


def test_option_errors_are_value_errors_and_hiermod_errors() -> None:
    with pytest.raises(ValueError, match="layout"):
        hm.Model("y ~ x", DATA, layout="sparse")
    assert issubclass(OptionError, hm.HiermodError)
    with pytest.raises(TypeError, match="priors must be a dict"):
        hm.Model("y ~ x", DATA, priors=["normal(0, 1)"])
    assert issubclass(hm.ArgumentError, hm.HiermodError)


@pytest.mark.parametrize(
    "options",
    [{"layout": {"g": "dense"}}, {"suffstats": True}, {"centered": False}, {"sigma": "~ x"}],
)
def test_valid_options_pass(options: dict[str, Any]) -> None:
    assert hm.Model("y ~ x + (1 | g)", DATA, **options).ir is not None


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"draws": -5}, "draws must be a whole number >= 1, not -5"),
        ({"chains": 0}, "chains must be a whole number >= 1, not 0"),
        ({"tune": 2.5}, "tune must be a whole number >= 0"),
        ({"draws": True}, "draws must be a whole number"),
        ({"target_accept": 7}, "target_accept must be a probability between 0 and 1 .*, not 7"),
        ({"target_accept": "high"}, "target_accept must be a probability"),
    ],
)
def test_sampler_settings_are_checked_before_sampling(
    settings: dict[str, Any], message: str
) -> None:
    values = {"draws": 10, "tune": 10, "chains": 1} | settings
    draws, tune, chains = values.pop("draws"), values.pop("tune"), values.pop("chains")
    with pytest.raises(OptionError, match=message):
        check_settings(draws, tune, chains, values)
    check_settings(10, 0, 1, {"target_accept": 0.9})  # valid settings pass
