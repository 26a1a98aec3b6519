"""A fit given to a model that did not make it: a ``FitMismatchError`` saying what differs.

Every fit carries ``hiermod_fingerprint`` (formula, family, link, every dim's labels, parameter
shapes); each function that takes a fit checks it, and for a fit without one (made before fits were
fingerprinted) compares the variables, shapes and labels the fit shows. Fits here are prior draws
stamped as ``Model.fit`` stamps them (:func:`fit_support.prior_fit`): no sampling.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pytest
import xarray as xr
from fit_support import prior_fit, sleepstudy_like

import hiermod as hm
from hiermod.inference.storage import fingerprint
from hiermod.model import distributional_parameters

DATA = sleepstudy_like()
FORMULA = "Reaction ~ Days + (Days | Subject)"


@pytest.fixture(scope="module")
def model() -> hm.Model:
    return hm.Model(FORMULA, DATA, centered=False)


@pytest.fixture(scope="module")
def fit(model: hm.Model) -> xr.DataTree:
    return prior_fit(model, chains=1, draws=4)


def _without_fingerprint(fit: xr.DataTree) -> xr.DataTree:
    old = fit.copy(deep=True)
    del old["posterior"].attrs["hiermod_fingerprint"]
    return old


def _mismatch(other: hm.Model, fit: xr.DataTree, *words: str) -> str:
    with pytest.raises(hm.FitMismatchError) as raised:
        other.predict(fit)
    message = str(raised.value)
    assert message.startswith("this fit does not belong to this model")
    for word in words:
        assert word in message, (word, message)
    return message


# -- what differs is named ------------------------------------------------------------------------

OTHERS: list[tuple[str, Callable[[], hm.Model], tuple[str, ...]]] = [
    (
        "another predictor",
        lambda: hm.Model("Reaction ~ f + (1 | Subject)", DATA, centered=False),
        ("formula: the fit's is 'Reaction ~ 1 + Days + (1 + Days | Subject)'", "labels of coef"),
    ),
    (
        "fewer group effects",
        lambda: hm.Model("Reaction ~ Days + (1 | Subject)", DATA, centered=False),
        ("sd_Subject: the fit's has shape (2,), this model's ()",),
    ),
    (
        "fewer levels",
        lambda: hm.Model(FORMULA, DATA[DATA["Subject"] != 300], centered=False),
        ("labels of Subject: the fit has 300 not in this model", "has shape (10, 2)"),
    ),
    (
        "other levels",
        lambda: hm.Model(FORMULA, DATA.assign(Subject=DATA["Subject"] + 100), centered=False),
        ("labels of Subject: the fit has 300, 301, 302, 303 and 6 more not in this model",),
    ),
    (
        "another family",
        lambda: hm.Model(FORMULA, DATA, family="student_t", centered=False),
        ("family: the fit's is 'gaussian', this model's 'student_t'", "the fit has no nu"),
    ),
    (
        "another link",
        lambda: hm.Model(FORMULA, DATA, link="log", centered=False),
        ("link: the fit's is 'identity', this model's 'log'",),
    ),
    (
        "centred",
        lambda: hm.Model(FORMULA, DATA, centered=True),
        ("variables: the fit has no beta_Subject",),
    ),
    (
        "another response",
        lambda: hm.Model(FORMULA.replace("Reaction", "Days2"), DATA.assign(Days2=DATA["Days"])),
        ("formula: the fit's is 'Reaction",),
    ),
]


@pytest.mark.parametrize(("make", "words"), [o[1:] for o in OTHERS], ids=[o[0] for o in OTHERS])
def test_another_models_fit_is_refused_saying_what_differs(
    fit: xr.DataTree, make: Callable[[], hm.Model], words: tuple[str, ...]
) -> None:
    _mismatch(make(), fit, *words)


@pytest.mark.parametrize(("make", "words"), [o[1:] for o in OTHERS], ids=[o[0] for o in OTHERS])
def test_an_old_fit_without_a_fingerprint_is_checked_by_what_it_shows(
    fit: xr.DataTree, make: Callable[[], hm.Model], words: tuple[str, ...]
) -> None:
    _mismatch(make(), _without_fingerprint(fit), *words)


# -- every function that takes a fit checks it ----------------------------------------------------

CALLS: dict[str, Callable[[hm.Model, xr.DataTree], Any]] = {
    "predict": lambda m, f: m.predict(f),
    "predict linear": lambda m, f: m.predict(f, kind="linear", data=DATA.head(3)),
    "distributional_parameters": distributional_parameters,
    "fixef": lambda m, f: m.fixef(f),
    "ranef": lambda m, f: m.ranef(f),
    "varcorr": lambda m, f: m.varcorr(f),
    "corr": lambda m, f: m.corr(f),
    "summary": lambda m, f: m.summary(f),
    "coef": lambda m, f: m.coef(f),
    "hypothesis": lambda m, f: m.hypothesis(f, "Days > 0"),
    "bayes_r2": lambda m, f: m.bayes_r2(f),
    "pp_check": lambda m, f: m.pp_check(f),
    "loo": lambda m, f: m.loo(f),
    "compare": lambda m, f: hm.compare({"a": (m, f), "b": (m, f)}),
    "conditional_effects": lambda m, f: m.conditional_effects(f, "Days"),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_every_function_taking_a_fit_refuses_another_models(
    fit: xr.DataTree, call: Callable[[hm.Model, xr.DataTree], Any]
) -> None:
    other = hm.Model(FORMULA, DATA[DATA["Subject"] != 300], centered=False)
    with pytest.raises(hm.FitMismatchError, match="labels of Subject"):
        call(other, fit)


def test_the_error_is_a_hiermod_value_error() -> None:
    assert issubclass(hm.FitMismatchError, hm.HiermodError)
    assert issubclass(hm.FitMismatchError, ValueError)


# -- what belongs is accepted ---------------------------------------------------------------------


def test_the_fit_is_stamped_with_the_models_fingerprint(model: hm.Model, fit: xr.DataTree) -> None:
    stamp = fit["posterior"].attrs["hiermod_fingerprint"]
    assert stamp == fingerprint(model.ir)
    assert len(stamp) == 16
    assert int(stamp, 16) >= 0


def test_the_fingerprint_names_the_schema_not_the_rows(model: hm.Model) -> None:
    same = hm.Model(FORMULA, DATA.assign(Reaction=DATA["Reaction"] * 2), centered=False)
    assert fingerprint(same.ir) == fingerprint(model.ir)  # other values, same labels
    fewer = hm.Model(FORMULA, DATA[DATA["Subject"] != 300], centered=False)
    assert fingerprint(fewer.ir) != fingerprint(model.ir)
    renamed = hm.Model(FORMULA, DATA.assign(f=DATA["f"].str.upper()), centered=False)
    assert fingerprint(renamed.ir) == fingerprint(model.ir)  # f is not in the formula


def test_a_model_on_other_rows_with_the_same_levels_takes_the_fit(
    model: hm.Model, fit: xr.DataTree
) -> None:
    same = hm.Model(FORMULA, DATA.sample(frac=1.0, random_state=1), centered=False)
    assert same.predict(fit, data=DATA.head(5)).shape == (1, 4, 5)


def test_an_old_fit_of_this_model_is_accepted(model: hm.Model, fit: xr.DataTree) -> None:
    assert model.predict(_without_fingerprint(fit)).shape == (1, 4, len(DATA))


def test_a_saved_fit_belongs_after_the_round_trip(
    model: hm.Model, fit: xr.DataTree, tmp_path: Path
) -> None:
    path = tmp_path / "fit.nc"
    fit.to_netcdf(path)
    loaded = az.from_netcdf(path)  # integer levels, stored and read back
    rebuilt = hm.Model.from_idata(loaded, DATA)
    np.testing.assert_allclose(rebuilt.predict(loaded).values, model.predict(fit).values)


def test_an_altered_fingerprint_is_refused(model: hm.Model, fit: xr.DataTree) -> None:
    altered = fit.copy(deep=True)
    altered["posterior"].attrs["hiermod_fingerprint"] = "0123456789abcdef"
    message = _mismatch(model, altered, "hiermod_fingerprint", "the attribute was altered")
    assert "0123456789abcdef" in message
    with pytest.raises(hm.FitMismatchError, match="hiermod_fingerprint"):
        hm.Model.from_idata(altered, DATA)


def test_another_hiermod_versions_fingerprint_defers_to_what_the_fit_shows(
    model: hm.Model, fit: xr.DataTree
) -> None:
    older = fit.copy(deep=True)
    older["posterior"].attrs.update(hiermod_fingerprint="0123456789abcdef", hiermod_version="0.0.1")
    assert model.predict(older).shape == (1, 4, len(DATA))


def test_a_missing_variable_is_named(model: hm.Model, fit: xr.DataTree) -> None:
    broken = fit.copy(deep=True)
    broken["posterior"] = broken["posterior"].to_dataset().drop_vars("sigma")
    _mismatch(model, broken, "variables: the fit has no sigma")


def test_levels_in_another_order_are_named(model: hm.Model, fit: xr.DataTree) -> None:
    shuffled = fit.copy(deep=True)
    posterior = shuffled["posterior"].to_dataset()
    levels = posterior["Subject"].values
    shuffled["posterior"] = posterior.assign_coords(Subject=levels[::-1])
    _mismatch(model, shuffled, "labels of Subject: the same labels in another order")
