"""weights() with the families of categories: one category per row (ordinal, categorical), or a
vector of counts or shares per row (multinomial, Dirichlet).

brms multiplies each row's log-likelihood by its weight. The weighted model must equal the
unweighted one plus sum((w - 1) * row log-likelihood) at random points (log-density and gradient),
so a weight of 1 changes nothing and a weight of 2 counts a row twice.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import pytest

import hiermod as hm
from hiermod.output.module import load_module
from tests.support import assert_same_model


def _data(seed: int = 3, n: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "g": rng.choice(list("abcd"), n),
            "w": rng.uniform(0.2, 3.0, n),
        }
    )
    levels = ["low", "mid", "high", "top"]
    df["rating"] = pd.Categorical(rng.choice(levels, n), categories=levels, ordered=True)
    df["choice"] = rng.choice(["tea", "coffee", "water"], n)
    counts = rng.multinomial(12, [0.5, 0.3, 0.2], size=n)
    df[["a", "b", "c"]] = counts
    shares = rng.dirichlet([4.0, 3.0, 2.0], size=n)
    df[["sa", "sb", "sc"]] = shares / shares.sum(axis=1, keepdims=True)
    return df


CASES = [
    ("rating ~ x + (1 | g)", "cumulative", "logit"),
    ("rating ~ x", "cumulative", "probit"),
    ("rating ~ x + (1 | g)", "sratio", "logit"),
    ("rating ~ x", "cratio", "cloglog"),
    ("rating ~ x + (1 | g)", "acat", "logit"),
    ("choice ~ x + (1 | g)", "categorical", "logit"),
    ("cbind(a, b, c) ~ x + (1 | g)", "multinomial", "logit"),
    ("cbind(sa, sb, sc) ~ x\nphi ~ x", "dirichlet", "logit"),
]


@pytest.mark.parametrize(("formula", "family", "link"), CASES)
def test_weights_multiply_each_rows_log_likelihood(formula: str, family: str, link: str) -> None:
    df = _data()
    response, rest = formula.split(" ~ ", 1)
    weighted = hm.Model(f"{response} | weights(w) ~ {rest}", df, family=family, link=link)
    plain = hm.Model(formula, df, family=family, link=link)
    hand = plain.pymc  # this test's own model object: adding to it touches no other test
    rv = hand["y" if response.startswith("cbind") else response]
    with hand:
        rows = pm.logp(rv, hand.rvs_to_values[rv])
        pm.Potential("weights_minus_one", pt.sum((df["w"].to_numpy() - 1.0) * rows))
    assert_same_model(weighted.pymc, hand, check_dims=False)


def test_weighted_source_runs_and_says_so() -> None:
    model = hm.Model("rating | weights(w) ~ x", _data(), family="cumulative")
    source = model.source()
    assert "weights(): each row's log-likelihood is multiplied by its weight" in source
    assert "def weighted_logp(value, logit_p, weights):" in source


def test_weighted_prior_predictive_draws_categories() -> None:
    df = _data()
    model = hm.Model("choice | weights(w) ~ x", df, family="categorical")
    with model.pymc:
        prior = pm.sample_prior_predictive(draws=20, random_seed=1)
    draws = prior.prior_predictive["choice"].values
    assert draws.shape[-1] == len(df)
    assert set(np.unique(draws)) <= {0, 1, 2}
    assert len(np.unique(draws)) > 1


@pytest.mark.parametrize(
    ("formula", "family", "shape"),
    [("cbind(a, b, c) | weights(w) ~ x", "multinomial", (3,)),
     ("cbind(sa, sb, sc) | weights(w) ~ x", "dirichlet", (3,))],
)  # fmt: skip
def test_weighted_vector_responses_draw_rows_and_export(
    formula: str, family: str, shape: tuple[int, ...]
) -> None:
    df = _data()
    # brms's default phi prior, gamma(0.01, 0.01), draws phi below 1e-20 most of the time, where
    # NumPy's Dirichlet draws are 0 / 0: a prior of moderate precisions for the draws' check.
    priors = {"phi": "gamma(2, 0.1)"} if family == "dirichlet" else None
    model = hm.Model(formula, df, family=family, priors=priors)
    with model.pymc:
        prior = pm.sample_prior_predictive(draws=10, random_seed=1)
    draws = prior.prior_predictive["y"].values
    assert draws.shape[-2:] == (len(df), *shape)
    totals = draws.sum(axis=-1)
    np.testing.assert_allclose(totals, 12.0 if family == "multinomial" else 1.0, rtol=1e-9)
    source = model.source()
    assert "weights(): each row's log-likelihood is multiplied by its weight" in source
    standalone = load_module(source).build_model(df)
    point = model.pymc.initial_point()
    ours = model.pymc.compile_logp(mode="FAST_COMPILE")(point)
    assert standalone.compile_logp(mode="FAST_COMPILE")(point) == pytest.approx(ours, rel=1e-12)
