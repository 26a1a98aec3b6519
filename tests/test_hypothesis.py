"""Hypotheses (brms's ``hypothesis()``): read by hiermod's grammar, values straight from the draws.

The draws are prior draws shaped like a fit (``fit_support.prior_fit``: no sampler), with priors
chosen so that the hypotheses below are neither certain nor impossible. Every number in a table is
checked against the same quantity computed here from the posterior variables.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pymc as pm
import pytest
import xarray as xr
from fit_support import prior_fit, sleepstudy_like
from scipy import stats

from hiermod.interpret.hypothesis import (
    HypothesisError,
    density_at,
    hypothesis_table,
    parse_hypothesis,
)
from hiermod.model import Model
from hiermod.warnings import HiermodWarning

DATA = sleepstudy_like(90, seed=0)
PRIORS = {"b": "normal(9, 3)", "Intercept": "normal(250, 20)"}


@pytest.fixture(scope="module")
def sleep() -> tuple[Model, xr.DataTree]:
    model = Model("Reaction ~ Days + f + (Days | Subject)", DATA, priors=PRIORS)
    return model, prior_fit(model, chains=2, draws=200, seed=3)


def _post(fit: xr.DataTree, name: str, coef: str | None = None) -> np.ndarray:
    values = fit["posterior"][name]
    if coef is not None:
        values = values.sel(coef=coef)
    return np.asarray(values.values, dtype=float).reshape(-1)


# -- reading ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "op", "tested"),
    [
        ("Days > 8", ">", "Days - 8 > 0"),
        ("Intercept + Days*5 = 300", "=", "Intercept + Days * 5 - 300 = 0"),
        ("`f[b]` < `f[c]`", "<", "`f[b]` - `f[c]` < 0"),
        ("Days - (Intercept - 1) < 0", "<", "Days - (Intercept - 1) < 0"),
        ("`a<b` > 0", ">", "`a<b` > 0"),  # an operator inside backticks is part of the name
        ("exp(Days)^2 = 1", "=", "exp(Days)**2 - 1 = 0"),
    ],
)
def test_a_hypothesis_is_split_at_its_one_operator_and_read_as_arithmetic(text, op, tested) -> None:
    hypothesis = parse_hypothesis(text)
    assert hypothesis.op == op
    assert hypothesis.tested == tested


@pytest.mark.parametrize(
    ("text", "message", "marked"),
    [
        ("Days", "it has none", "Days"),
        ("Days >= 8", "it has 2", ">="),
        ("Days == 8", "it has 2", "=="),
        ("1 < Days < 2", "it has 2", "< Days <"),
        ("> 8", "left side of the hypothesis is empty", ""),
        ("Days + > 2", "left side of the hypothesis is unfinished", ">"),
        ("Days >", "right side of the hypothesis is empty", ""),
        ("f[b] > 0", "cannot read the hypothesis", "["),  # the hint: backticks
        # closing I(…) early leaves a sum of two calls, not one expression
        ("Days) + I(1 > 0", "one arithmetic expression", "Days) + I(1 "),
        ("Days; y ~ x > 0", "cannot read", ";"),
    ],
)
def test_unreadable_hypotheses_raise_with_a_caret(text: str, message: str, marked: str) -> None:
    with pytest.raises(HypothesisError, match=message) as caught:
        parse_hypothesis(text)
    error = caught.value
    assert error.text == text
    assert error.span is not None
    if marked:
        assert text[error.span.start : error.span.end] == marked


# -- one-sided and point hypotheses: values from the draws ------------------------------------------


def test_one_sided_hypotheses_are_shares_of_the_draws(sleep) -> None:
    model, fit = sleep
    table = model.hypothesis(fit, ["Days > 8", "Days < 8"])
    days = _post(fit, "b", "Days")
    diff = days - 8
    greater, less = table.loc["Days - 8 > 0"], table.loc["Days - 8 < 0"]
    share = float(np.mean(diff > 0))
    assert 0.05 < share < 0.95  # the check below is not about an edge case
    assert greater["post_prob"] == pytest.approx(share)
    assert greater["evid_ratio"] == pytest.approx(share / (1 - share))
    assert less["post_prob"] == pytest.approx(float(np.mean(diff < 0)))
    assert greater["estimate"] == pytest.approx(diff.mean())
    assert greater["sd"] == pytest.approx(diff.std(ddof=1))
    # one-sided 95% intervals: the 5% quantile upward for '>', the 95% quantile downward for '<'
    assert greater["lower_95"] == pytest.approx(np.quantile(diff, 0.05))
    assert greater["upper_95"] == math.inf
    assert less["lower_95"] == -math.inf
    assert less["upper_95"] == pytest.approx(np.quantile(diff, 0.95))
    assert greater["star"] == ("*" if share > 0.95 else "")
    assert list(table.index) == ["Days - 8 > 0", "Days - 8 < 0"]
    assert table.attrs["prob"] == 0.95


def test_arithmetic_of_several_coefficients_and_functions(sleep) -> None:
    model, fit = sleep
    intercept, days = _post(fit, "Intercept"), _post(fit, "b", "Days")
    fb, fc = _post(fit, "b", "f[b]"), _post(fit, "b", "f[c]")
    cases = {
        "Intercept + Days*5 > 300": intercept + days * 5 - 300,
        "`f[b]` < `f[c]`": fb - fc,
        "-Days / 2 + exp(Days / 10)**2 > 0": -days / 2 + np.exp(days / 10) ** 2,
        "abs(`f[b]`) > sigma": np.abs(fb) - _post(fit, "sigma"),
    }
    table = model.hypothesis(fit, list(cases))
    for (_, row), diff in zip(table.iterrows(), cases.values(), strict=True):
        assert row["estimate"] == pytest.approx(diff.mean())
        assert row["post_prob"] == pytest.approx(np.mean(diff > 0 if ">" in row.name else diff < 0))


def test_point_hypothesis_interval_and_savage_dickey_ratio_from_given_prior_draws(sleep) -> None:
    model, fit = sleep
    rng = np.random.default_rng(0)
    prior = xr.Dataset(
        {
            "Intercept": (("chain", "draw"), rng.normal(250, 20, (1, 3000))),
            "b": (("chain", "draw", "coef"), rng.normal(0, 10, (1, 3000, 3))),
            "sigma": (("chain", "draw"), rng.exponential(30, (1, 3000))),
        },
        coords={"coef": ["Days", "f[b]", "f[c]"]},
    )
    posterior = fit["posterior"].dataset
    table = hypothesis_table(model.ir, model.design.schema, posterior, "Days = 10", prior=prior)
    row = table.iloc[0]
    diff = _post(fit, "b", "Days") - 10
    prior_diff = prior["b"].sel(coef="Days").values.ravel() - 10
    ratio = density_at(diff) / density_at(prior_diff)
    assert row["evid_ratio"] == pytest.approx(ratio)
    assert row["post_prob"] == pytest.approx(ratio / (1 + ratio))
    assert row["lower_95"] == pytest.approx(np.quantile(diff, 0.025))
    assert row["upper_95"] == pytest.approx(np.quantile(diff, 0.975))
    assert row["star"] == ("" if row["lower_95"] <= 0 <= row["upper_95"] else "*")
    no_prior = hypothesis_table(model.ir, model.design.schema, posterior, "Days = 10")
    assert np.isnan(no_prior.iloc[0]["evid_ratio"])
    assert np.isnan(no_prior.iloc[0]["post_prob"])


def test_density_at_is_a_gaussian_kernel_estimate_with_r_s_default_bandwidth() -> None:
    draws = np.random.default_rng(1).normal(0, 10, 4000)
    iqr = np.subtract(*np.quantile(draws, [0.75, 0.25]))
    bandwidth = 0.9 * min(draws.std(ddof=1), iqr / 1.34) * draws.size ** (-0.2)
    kde = stats.gaussian_kde(draws, bw_method=bandwidth / draws.std(ddof=1))
    assert density_at(draws, 3.0) == pytest.approx(float(kde(3.0)[0]), rel=1e-10)
    assert density_at(draws) == pytest.approx(1 / (10 * math.sqrt(2 * math.pi)), rel=0.1)


def test_the_model_draws_its_prior_for_point_hypotheses(sleep) -> None:
    """Days ~ normal(9, 3) a priori: the prior density of Days - 10 at 0 is N(1 | 0, 3)'s."""
    model, fit = sleep
    row = model.hypothesis(fit, "Days = 10", random_seed=1).iloc[0]
    expected = density_at(_post(fit, "b", "Days") - 10) / stats.norm(9, 3).pdf(10)
    assert row["evid_ratio"] == pytest.approx(expected, rel=0.1)


def test_a_flat_prior_gives_no_evidence_ratio_with_a_warning(sleep) -> None:
    _, fit = sleep  # the same variables, drawn from proper priors
    flat = Model("Reaction ~ Days + f + (Days | Subject)", DATA, priors={"b": "flat()"})
    with pytest.warns(HiermodWarning, match="b has an improper"):
        row = flat.hypothesis(fit, "Days = 10").iloc[0]
    assert np.isnan(row["evid_ratio"])
    assert row["estimate"] == pytest.approx((_post(fit, "b", "Days") - 10).mean())


def test_prob_sets_the_interval_and_is_named_in_the_header(sleep) -> None:
    model, fit = sleep
    table = model.hypothesis(fit, ["Days = 9", "Days > 9"], prob=0.8)
    diff = _post(fit, "b", "Days") - 9
    assert list(table.columns[2:4]) == ["lower_80", "upper_80"]
    assert table.iloc[0]["lower_80"] == pytest.approx(np.quantile(diff, 0.1))
    assert table.iloc[1]["lower_80"] == pytest.approx(np.quantile(diff, 0.2))
    with pytest.raises(ValueError, match="prob"):
        model.hypothesis(fit, "Days > 9", prob=95)


# -- names -----------------------------------------------------------------------------------------


def test_an_unknown_name_suggests_the_closest_coefficient(sleep) -> None:
    model, fit = sleep
    with pytest.raises(HypothesisError, match="did you mean 'Days'") as caught:
        model.hypothesis(fit, "Intercept + Dyas > 3")
    span = caught.value.span
    assert span is not None
    assert "Intercept + Dyas > 3"[span.start : span.end] == "Dyas"
    with pytest.raises(HypothesisError, match=r"f\[b\]"):
        model.hypothesis(fit, "fb > 0")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Days > __import__('os')", "not a function"),
        ("Days > log(Days, 2)", "not a function of one value"),
        ("Days > 'a'", "not strings"),
        ("1 > 0", "names no coefficient"),
        ("log(Days - 9) > 0", "not a finite number"),
    ],
)
def test_only_arithmetic_of_coefficients_is_evaluated(sleep, text: str, message: str) -> None:
    model, fit = sleep
    with pytest.raises(HypothesisError, match=message):
        model.hypothesis(fit, text)


def test_a_distributional_formula_s_coefficients_carry_its_prefix() -> None:
    data = DATA.assign(x=np.random.default_rng(2).normal(size=len(DATA)))
    model = Model("Reaction ~ Days; sigma ~ x", data)
    fit = prior_fit(model, chains=1, draws=50, seed=1)
    table = model.hypothesis(fit, "sigma_x > 0")
    sigma_x = np.asarray(fit["posterior"]["sigma_b"].values).reshape(50, -1)[:, 0]
    assert table.iloc[0]["post_prob"] == pytest.approx(np.mean(sigma_x > 0))


# -- per level of a grouping -------------------------------------------------------------------------


def test_group_hypotheses_use_each_level_s_coefficients(sleep) -> None:
    model, fit = sleep
    table = model.hypothesis(fit, ["Days > 8", "`f[b]` > 0"], group="Subject")
    assert table.index.names == ["hypothesis", "Subject"]
    levels = list(model.ranef(fit)["Subject"].index)
    assert list(table.loc["Days - 8 > 0"].index) == levels
    post = fit["posterior"]
    r = post["r_Subject"].sel(Subject_term="Days").values.reshape(-1, len(levels))
    for k, level in enumerate(levels):
        days = _post(fit, "b", "Days") + r[:, k]
        row = table.loc[("Days - 8 > 0", level)]
        assert row["post_prob"] == pytest.approx(np.mean(days - 8 > 0))
        assert row["estimate"] == pytest.approx(np.mean(days - 8))
    # a term without group effects is the population's for every level
    fb = table.loc["`f[b]` > 0", "post_prob"]
    assert np.allclose(fb, np.mean(_post(fit, "b", "f[b]") > 0))
    with pytest.raises(ValueError, match="no group effects over 'Day'"):
        model.hypothesis(fit, "Days > 8", group="Day")


def test_group_point_hypotheses_draw_the_group_effects_prior(sleep) -> None:
    model, fit = sleep
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = model.hypothesis(fit, "Days = 9", group="Subject", prior_draws=500, random_seed=2)
    assert np.isfinite(table["evid_ratio"]).all()
    assert (table["evid_ratio"] > 0).all()
    # the same prior draws, made here (of the variable the hypothesis names, and of the grouping's
    # effects): the ratio of each level is the ratio of the two densities
    prior = pm.sample_prior_predictive(
        draws=500, model=model.pymc, var_names=["b", "r_Subject"], random_seed=2
    )["prior"]
    r = prior["r_Subject"].sel(Subject_term="Days").values.reshape(500, -1)
    level_prior = prior["b"].sel(coef="Days").values.reshape(500, 1) + r - 9
    post_r = fit["posterior"]["r_Subject"].sel(Subject_term="Days").values.reshape(400, -1)
    level_post = _post(fit, "b", "Days")[:, None] + post_r - 9
    expected = [
        density_at(level_post[:, k]) / density_at(level_prior[:, k]) for k in range(r.shape[1])
    ]
    np.testing.assert_allclose(table["evid_ratio"].to_numpy(), expected, rtol=1e-10)
