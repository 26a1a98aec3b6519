"""Model.update: R's update.formula rule, options, and the same model kept on new data."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import hiermod as hm
from hiermod.errors import ArgumentError, HiermodError
from hiermod.formula.expand import expand
from hiermod.formula.parser import parse_syntax
from hiermod.formula.update import updated_text
from hiermod.warnings import DataWarning
from tests.fit_support import sleepstudy_like

OLD = expand(parse_syntax("Reaction ~ Days + (Days | Subject)\nsigma ~ (1 | Subject)"))

CASES = [
    (". ~ . - Days", "Reaction ~ 1 + (1 + Days | Subject); sigma ~ 1 + (1 | Subject)"),
    ("~ . + x", "Reaction ~ 1 + Days + x + (1 + Days | Subject); sigma ~ 1 + (1 | Subject)"),
    (". + x", "Reaction ~ 1 + Days + x + (1 + Days | Subject); sigma ~ 1 + (1 | Subject)"),
    ("log(.) ~ .", "log(Reaction) ~ 1 + Days + (1 + Days | Subject); sigma ~ 1 + (1 | Subject)"),
    ("y ~ x", "y ~ 1 + x; sigma ~ 1 + (1 | Subject)"),
    ("sigma ~ . + x", "Reaction ~ 1 + Days + (1 + Days | Subject); sigma ~ 1 + x + (1 | Subject)"),
    (
        ". ~ . - (Days | Subject) + (1 | Subject)",
        "Reaction ~ 1 + Days + (1 | Subject); sigma ~ 1 + (1 | Subject)",
    ),
    (
        ". ~ . + `a.b`",
        "Reaction ~ 1 + Days + `a.b` + (1 + Days | Subject); sigma ~ 1 + (1 | Subject)",
    ),
]


@pytest.mark.parametrize(("new", "expected"), CASES)
def test_update_formula_rule(new: str, expected: str) -> None:
    assert str(expand(parse_syntax(updated_text(OLD, new, ("sigma",))))) == expected


def test_a_number_is_not_the_placeholder() -> None:
    assert ".5" in updated_text(OLD, ". ~ . + I(.5 * x)", ("sigma",))


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return sleepstudy_like()


def test_update_formula_drops_stale_priors(data: pd.DataFrame) -> None:
    m = hm.Model("Reaction ~ Days + (Days | Subject)", data, priors={"b": "normal(0, 20)"})
    with pytest.warns(DataWarning, match="'b' named no parameter"):
        m2 = m.update(". ~ . - Days")
    assert str(m2.formula) == "Reaction ~ 1 + (1 + Days | Subject)"
    assert "b" not in m2.priors.index


def test_update_data_keeps_the_model(data: pd.DataFrame) -> None:
    m = hm.Model("Reaction ~ Days + (Days | Subject)", data)
    half = data.sample(frac=0.6, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m2 = m.update(data=half)
    assert list(m2.priors["prior"]) == list(m.priors["prior"])
    assert (m2.priors["source"] == m.priors["source"]).all()
    fresh = hm.Model("Reaction ~ Days + (Days | Subject)", half)
    assert list(fresh.priors["prior"]) != list(m.priors["prior"])  # the defaults are data-scaled
    assert m2.design.n == len(half)


def test_update_options_and_dpars(data: pd.DataFrame) -> None:
    m = hm.Model("Reaction ~ Days + (Days | Subject)", data)
    m4 = m.update(sigma="~ (1 | Subject)")
    assert str(m4.formula).endswith("sigma ~ 1 + (1 | Subject)")
    assert str(m4.update(sigma=None).formula) == str(m.formula)
    assert m.update(family="student").family.name == "student_t"
    with pytest.raises(ArgumentError, match="unexpected keyword argument 'draws'"):
        m.update(draws=3)
    with pytest.raises(ArgumentError):
        m.update(formula=3)  # type: ignore[arg-type]


def test_streamed_model_cannot_be_updated(data: pd.DataFrame) -> None:
    m = hm.stream_model("Reaction ~ Days + (1 | Subject)", lambda: [data])
    with pytest.raises(HiermodError, match="streamed"):
        m.update(data=data)
