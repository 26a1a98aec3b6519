"""The ordinal families (cumulative, sratio, cratio, acat; logit, probit, cloglog, cauchit links).

Three checks that do not share code: the log category probabilities of
:mod:`hiermod.output.distributions` against the NumPy/SciPy oracle of tests/family_oracles.py
(brms's definitions) for every family and link, also far in the tails; the compiled model against
hand-written PyMC models — PyMC's own ``OrderedLogistic`` / ``OrderedProbit`` for the cumulative
model, probabilities multiplied out for the others — at random points (logp and gradient); and the
response coding, thresholds, summaries and predictions.
"""

from __future__ import annotations

import functools

import family_oracles
import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import pytest
from support import assert_same_model, random_intercept_eta

import hiermod as hm
from hiermod.errors import DataError, FormulaError
from hiermod.output import distributions
from hiermod.output.module import load_module

LINKS = ("logit", "probit", "cloglog", "cauchit")
FAMILIES = ("cumulative", "sratio", "cratio", "acat")
N_ROWS, GROUPS = 240, tuple(f"s{i:02d}" for i in range(12))


@functools.cache
def frame() -> pd.DataFrame:
    """Ratings 1..4 from a cumulative logit model with a group effect; a 'shade' column of the
    same as an ordered categorical of strings."""
    rng = np.random.default_rng(11)
    g = rng.integers(0, len(GROUPS), N_ROWS)
    x = rng.normal(size=N_ROWS)
    eta = 0.8 * x + rng.normal(0.0, 0.5, len(GROUPS))[g]
    cut = np.array([-1.0, 0.2, 1.3])
    rating = 1 + (eta[:, None] + rng.logistic(size=N_ROWS)[:, None] > cut[None, :]).sum(axis=1)
    shades = np.array(["pale", "light", "dark", "black"])
    return pd.DataFrame(
        {
            "g": np.array(GROUPS)[g],
            "x": x,
            "rating": rating,
            "shade": pd.Categorical(shades[rating - 1], categories=shades, ordered=True),
        }
    )


# ---------------------------------------------------------------------------------------------------
# The log probabilities against the oracle.


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("link", LINKS)
def test_log_probabilities_are_brms(family: str, link: str) -> None:
    rng = np.random.default_rng(3)
    for scale in (1.0, 3.0, 8.0):  # the last far in the tails: log probabilities of -1000 and less
        eta = rng.normal(0.0, scale, 200)
        thresholds = np.sort(rng.normal(0.0, 1.5, 4))
        function = getattr(distributions, f"{family}_log_probs")
        ours = function(pt.as_tensor(eta), pt.as_tensor(thresholds), link).eval()
        expected = family_oracles.ordinal_log_probs(eta, thresholds, 1.0, link, family)
        np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(np.exp(ours).sum(axis=1), 1.0, rtol=1e-12)


# ---------------------------------------------------------------------------------------------------
# The compiled model against hand-written PyMC.

PRIORS = {"b": "normal(0, 1)", "sd": "half_normal(1)"}  # thresholds: brms's student_t(3, 0, 2.5)


def _cdf(x: pt.TensorVariable, link: str) -> pt.TensorVariable:
    return {
        "logit": pt.sigmoid,
        "probit": lambda v: 0.5 * pt.erfc(-v / np.sqrt(2.0)),
        "cloglog": lambda v: 1.0 - pt.exp(-pt.exp(v)),
        "cauchit": lambda v: 0.5 + pt.arctan(v) / np.pi,
    }[link](x)


def _probabilities(
    family: str,
    link: str,
    eta: pt.TensorVariable,
    tau: pt.TensorVariable,
    disc: pt.TensorVariable | None = None,
):
    """Category probabilities multiplied out from their definitions (rows × K); ``disc`` is
    brms's discrimination per row (1 when None): every tau - eta is multiplied by it."""
    x = tau[None, :] - eta[:, None]
    if disc is not None:
        x = disc[:, None] * x
    if family == "cumulative":
        # P(y = k) = P(y <= k) - P(y <= k - 1), or P(y > k - 1) - P(y > k) where both are small
        # (the difference of two numbers near 1 would lose its digits)
        below = _cdf(x, link)
        above = _cdf(-x, link) if link != "cloglog" else pt.exp(-pt.exp(x))
        ones, zeros = pt.ones_like(below[:, :1]), pt.zeros_like(below[:, :1])
        by_below = pt.concatenate([below, ones], axis=1) - pt.concatenate([zeros, below], axis=1)
        by_above = pt.concatenate([ones, above], axis=1) - pt.concatenate([above, zeros], axis=1)
        upper_tail = pt.concatenate([pt.gt(zeros, 1.0), pt.gt(x, 0.0)], axis=1)  # x_{k-1} > 0
        return pt.switch(upper_tail, by_above, by_below)
    k = 4  # thresholds per case below: 3
    if family == "sratio":
        stop = [_cdf(x[:, j], link) for j in range(k - 1)]
        columns, passed = [], 1.0
        for j in range(k - 1):
            columns.append(passed * stop[j])
            passed = passed * (1.0 - stop[j])
        return pt.stack([*columns, passed], axis=1)
    go = [_cdf(-x[:, j], link) for j in range(k - 1)]  # F(eta - tau_j)
    if family == "cratio":
        columns, passed = [], 1.0
        for j in range(k - 1):
            columns.append(passed * (1.0 - go[j]))
            passed = passed * go[j]
        return pt.stack([*columns, passed], axis=1)
    weights = []  # acat
    for category in range(k):
        w = 1.0
        for j in range(k - 1):
            w = w * (go[j] if j < category else 1.0 - go[j])
        weights.append(w)
    stacked = pt.stack(weights, axis=1)
    return stacked / stacked.sum(axis=1, keepdims=True)


CASES = [("cumulative", "logit"), ("cumulative", "probit"), ("cumulative", "cloglog"),
         ("sratio", "logit"), ("sratio", "cauchit"), ("cratio", "probit"), ("acat", "logit"),
         ("acat", "cloglog")]  # fmt: skip


@functools.cache
def compiled(family: str, link: str) -> hm.Model:
    return hm.Model(
        "rating ~ x + (1 | g)", frame(), family=family, link=link, priors=PRIORS, centered=False
    )


def hand(family: str, link: str) -> pm.Model:
    d = frame()
    levels = sorted(d["g"].unique())
    coords = {
        "obs": np.arange(len(d)),
        "coef": ["x"],
        "g": list(levels),
        "rating_threshold": ["1|2", "2|3", "3|4"],
    }
    with pm.Model(coords=coords) as model:
        eta = random_intercept_eta(d, intercept_sd=None, sd_g=1.0)
        # brms: ordered thresholds for cumulative, a free vector for sratio, cratio, acat
        order = (
            {"transform": pm.distributions.transforms.ordered, "initval": [-1.0, 0.0, 1.0]}
            if family == "cumulative"
            else {}
        )
        tau = pm.StudentT("Intercept", nu=3, mu=0.0, sigma=2.5, dims="rating_threshold", **order)
        y = d["rating"].to_numpy() - 1
        if (family, link) == ("cumulative", "logit"):  # PyMC's own: P(y <= k) = sigmoid(c_k - eta)
            pm.OrderedLogistic("rating", eta=eta, cutpoints=tau, observed=y, dims="obs")
        elif (family, link) == ("cumulative", "probit"):
            pm.OrderedProbit("rating", eta=eta, cutpoints=tau, sigma=1.0, observed=y, dims="obs")
        else:
            p = _probabilities(family, link, eta, tau)
            pm.Potential("loglik", pt.log(p[np.arange(len(y)), y]).sum())
    return model


@pytest.mark.parametrize(("family", "link"), CASES)
def test_same_model_as_hand_written(family: str, link: str) -> None:
    # OrderedProbit computes its probabilities through erfc differences (less accurate in the
    # tails than hiermod's log-CDF differences): 1e-6 there, 1e-8 elsewhere.
    rtol = 1e-6 if link == "probit" else 1e-8
    assert_same_model(compiled(family, link).pymc, hand(family, link), n_points=3, rtol=rtol)


# ---------------------------------------------------------------------------------------------------
# The response, thresholds, summaries and predictions.


def test_thresholds_are_named_after_the_categories() -> None:
    model = compiled("cumulative", "logit")
    assert tuple(model.pymc.coords["rating_threshold"]) == ("1|2", "2|3", "3|4")
    shades = hm.Model("shade ~ x", frame(), family="sratio")
    assert tuple(shades.pymc.coords["shade_threshold"]) == (
        "pale|light",
        "light|dark",
        "dark|black",
    )
    assert "Intercept" not in {rv.name for rv in model.pymc.free_RVs if rv.ndim == 0}
    assert model.priors["prior"]["Intercept"] == "student_t(3, 0, 2.5)"


def test_integer_categories_span_the_range() -> None:
    data = frame().copy()
    data["rating"] = data["rating"].replace({3: 4})  # nobody chose 3: it is still a category
    model = hm.Model("rating ~ x", data, family="cumulative")
    assert tuple(model.pymc.coords["rating_threshold"]) == ("1|2", "2|3", "3|4")


BAD = [
    ("rating ~ 0 + x", None, FormulaError, "thresholds in place of the intercept"),
    ("rating ~ x", lambda d: d.assign(rating=d["rating"] + 0.5), DataError, "whole numbers"),
    ("rating ~ x", lambda d: d.assign(rating=np.minimum(d["rating"], 2)), DataError, "at least 3"),
    ("shade ~ x", lambda d: d.assign(shade=d["shade"].cat.as_unordered()), DataError,
     "unordered categorical"),
]  # fmt: skip


@pytest.mark.parametrize(("formula", "change", "error", "message"), BAD)
def test_responses_an_ordinal_model_cannot_take(formula, change, error, message) -> None:
    data = frame() if change is None else change(frame().copy())
    with pytest.raises(error, match=message):
        hm.Model(formula, data, family="acat")


def _fake_fit(model: hm.Model, seed: int) -> object:
    from test_families import _fake_fit

    return _fake_fit(model, seed)


def test_predictions_are_category_probabilities_and_their_expectation() -> None:
    model = compiled("cratio", "probit")
    fit = _fake_fit(model, seed=2)
    probs = model.predict(fit, kind="probs")
    assert probs.dims == ("chain", "draw", "obs", "rating_category")
    assert tuple(probs["rating_category"].values) == ("1", "2", "3", "4")
    np.testing.assert_allclose(probs.sum("rating_category"), 1.0, rtol=1e-12)
    eta = model.predict(fit, kind="linear").values
    tau = fit["posterior"]["Intercept"].values
    expected = family_oracles.ordinal_log_probs(eta, tau[:, :, None, :], 1.0, "probit", "cratio")
    np.testing.assert_allclose(probs.values, np.exp(expected), rtol=1e-9)
    mean = model.predict(fit, kind="mean")
    np.testing.assert_allclose(mean, (probs.values * np.arange(1, 5)).sum(axis=-1), rtol=1e-12)
    draws = model.predict(fit, kind="response", random_seed=1).values
    assert set(np.unique(draws)) <= {1.0, 2.0, 3.0, 4.0}
    gaussian = hm.Model("x ~ 1", frame())
    with pytest.raises(
        ValueError, match="kind='probs' is for the ordinal and categorical families"
    ):
        gaussian.predict(_fake_fit(gaussian, seed=1), kind="probs")


def test_fixef_lists_the_thresholds_as_brms() -> None:
    model = compiled("cumulative", "logit")
    table = model.fixef(_fake_fit(model, seed=4))
    assert list(table.index) == ["Intercept[1|2]", "Intercept[2|3]", "Intercept[3|4]", "x"]


def test_exported_source_builds_the_same_model_from_a_dataframe() -> None:
    model = compiled("acat", "cloglog")
    source = model.source()
    assert 'acat_log_probs(eta, Intercept, link="cloglog")' in source
    assert "transform=" not in source  # acat's thresholds are free (brms)
    assert (
        "transform=pm.distributions.transforms.ordered" in compiled("cumulative", "logit").source()
    )
    standalone = load_module(source).build_model(frame())
    point = model.pymc.initial_point()
    ours = model.pymc.compile_logp(mode="FAST_COMPILE")(point)
    assert standalone.compile_logp(mode="FAST_COMPILE")(point) == pytest.approx(ours, rel=1e-12)


# ---------------------------------------------------------------------------------------------------
# R's ordered(y, levels = c(…)): text categories put in order in the formula.


def test_ordered_response_in_the_formula_is_the_ordered_categorical() -> None:
    rng = np.random.default_rng(4)
    words = np.array(["low", "mid", "high", "top"])
    x = rng.normal(size=60)
    codes = np.clip(np.round(1.5 + x + rng.normal(0, 0.7, 60)), 0, 3).astype(int)
    text = pd.DataFrame({"rating": words[codes], "x": x})
    typed = text.assign(rating=pd.Categorical(text["rating"], categories=words, ordered=True))
    formula = 'ordered(rating, levels = c("low", "mid", "high", "top")) ~ x'
    spelled = hm.Model(formula, text, family="cumulative")
    reference = hm.Model("rating ~ x", typed, family="cumulative")
    assert spelled.ir.coords["rating_threshold"] == ("low|mid", "mid|high", "high|top")
    assert spelled.ir.likelihood.name == "rating"
    point = reference.pymc.initial_point()
    logp = spelled.pymc.compile_logp()(point)
    assert logp == pytest.approx(reference.pymc.compile_logp()(point), rel=1e-12)
    standalone = load_module(spelled.source()).build_model(text)
    assert standalone.compile_logp()(point) == pytest.approx(logp, rel=1e-12)
    numbers = text.assign(rating=codes + 1)  # whole numbers listed in another order are levels too
    backwards = hm.Model(
        "ordered(rating, levels = c(4, 3, 2, 1)) ~ x", numbers, family="cumulative"
    )
    assert backwards.ir.coords["rating_threshold"] == ("4|3", "3|2", "2|1")


ORDERED_BAD = [
    ('ordered(rating, levels = c("low", "mid")) ~ x', "cumulative", DataError,
     "2 values that ordered\\(\\)'s levels do not list: 'high', 'top'"),
    ('ordered(rating, levels = c("low", "low", "mid")) ~ x', "cumulative", FormulaError,
     "listed twice"),
    ("ordered(rating) ~ x", "cumulative", FormulaError, r"takes a column and levels=c\(…\)"),
    ('ordered(rating, levels = c("a", "b", "c")) ~ x', "gaussian", DataError,
     "response of an ordinal family, not of gaussian"),
    ('y ~ ordered(rating, levels = c("low", "mid"))', "cumulative", FormulaError,
     "stands alone left of '~'"),
]  # fmt: skip


@pytest.mark.parametrize(("formula", "family", "error", "message"), ORDERED_BAD)
def test_what_ordered_refuses(formula: str, family: str, error: type, message: str) -> None:
    words = np.array(["low", "mid", "high", "top"])
    data = pd.DataFrame({"rating": words[np.arange(12) % 4], "x": np.arange(12.0), "y": 1.0})
    with pytest.raises(error, match=message):
        hm.Model(formula, data, family=family)
