"""Identical rows merged into cells counted once (hiermod.plan.merge) give the rows' posterior.

For the discrete families whose log-likelihood has no sufficient sums (negative binomial,
zero-inflated, hurdle, beta-binomial, …), rows with the same predictors (of every distributional
parameter), response and trials have the same term: ``sum_c n_c log p(y_c)`` is the rows' sum.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytest

import hiermod as hm
from hiermod.plan.suffstats import SuffStatsError
from tests.support import assert_same_model

N = 644  # as salamanders


def _frame(seed: int = 3) -> pd.DataFrame:
    """Salamanders-like: two categorical predictors, 12 sites, small counts with extra zeros."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "spp": rng.choice(["GP", "PR", "DM", "EC"], N),
            "mined": rng.choice(["yes", "no"], N),
            "site": rng.choice([f"s{i}" for i in range(12)], N),
            "x": rng.normal(size=N),
            "w": rng.uniform(0.5, 2.0, N),
        }
    )
    frame["trials"] = np.where(frame.site.isin(["s0", "s1", "s2", "s3"]), 6, 4)  # per site
    rate = np.exp(0.3 + 0.5 * (frame.spp == "GP") - 0.8 * (frame.mined == "yes"))
    frame["count"] = rng.poisson(rate) * (rng.random(N) < 0.7)
    frame["succ"] = np.minimum(rng.poisson(rate), frame.trials) * (rng.random(N) < 0.7)
    return frame


COUNTS = "count ~ spp * mined + (1 | site)"
TRIALS = "succ | trials(trials) ~ spp + mined + (1 | site)"
CASES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "negativebinomial": (COUNTS, "negativebinomial", {}),
    "negativebinomial alpha ~ spp": (COUNTS, "negativebinomial", {"alpha": "~ spp"}),
    "geometric": (COUNTS, "geometric", {}),
    "beta_binomial": (TRIALS, "beta_binomial", {}),
    "zero_inflated_poisson zi ~ spp * mined": (
        COUNTS,
        "zero_inflated_poisson",
        {"zi": "~ spp * mined"},
    ),
    "zero_inflated_negbinomial": (COUNTS, "zero_inflated_negbinomial", {}),
    "zero_inflated_binomial": (TRIALS, "zero_inflated_binomial", {}),
    "zero_inflated_beta_binomial": (TRIALS, "zero_inflated_beta_binomial", {"zi": "~ mined"}),
    "hurdle_poisson": (COUNTS, "hurdle_poisson", {"hu": "~ spp"}),
    "hurdle_negbinomial": (COUNTS, "hurdle_negbinomial", {}),
}


@pytest.mark.parametrize(("formula", "family", "extra"), CASES.values(), ids=CASES.keys())
def test_merged_rows_equal_the_rows(formula: str, family: str, extra: dict[str, Any]) -> None:
    model = hm.Model(formula, _frame(), family=family, **extra)  # suffstats="auto"
    merged = model.ir.merged
    assert merged is not None
    cells = len(merged.coords[merged.cell_dim])
    assert cells <= N // 2
    assert merged.values[merged.n].sum() == N
    assert_same_model(model.pymc, model.pymc_rows, check_dims=False, n_points=3, rtol=1e-9)
    rows = hm.Model(formula, _frame(), family=family, suffstats=False, **extra)
    assert rows.ir.merged is None
    assert_same_model(model.pymc, rows.pymc, n_points=1, rtol=1e-9)


def test_cells_by_hand() -> None:
    data = pd.DataFrame({"f": ["a", "a", "b", "b", "a", "b"], "y": [0, 0, 1, 1, 2, 1]})
    merged = hm.Model("y ~ f", data, family="negativebinomial", suffstats=True).ir.merged
    assert merged is not None
    # cells (a, 0) twice, (a, 2) once, (b, 1) three times
    np.testing.assert_array_equal(merged.values[merged.n], [2.0, 1.0, 3.0])
    np.testing.assert_array_equal(merged.values[merged.first], [0, 4, 2])
    assert merged.reason == "6 rows merge into 3 cells of identical predictors and response"


def test_weights_are_part_of_the_key() -> None:
    # weights() of a few values: a cell's rows share their weight, its term counts their sum
    data = _frame().assign(w=lambda d: np.where(d.mined == "yes", 0.5, 2.0))
    formula = "count | weights(w) ~ spp * mined + (1 | site)"
    model = hm.Model(formula, data, family="hurdle_negbinomial")
    merged = model.ir.merged
    assert merged is not None
    assert merged.values[merged.n].sum() == pytest.approx(data.w.sum())
    assert_same_model(model.pymc, model.pymc_rows, check_dims=False, n_points=3, rtol=1e-9)
    rows = hm.Model(formula, data, family="hurdle_negbinomial", suffstats=False)
    assert_same_model(model.pymc, rows.pymc, n_points=1, rtol=1e-9)
    # continuous weights make every row its own cell: auto keeps the rows
    assert hm.Model(formula, _frame(), family="hurdle_negbinomial").ir.merged is None


def test_auto_declines_without_a_saving() -> None:
    # a continuous predictor makes every row its own cell: auto keeps the rows, True merges anyway
    data = _frame()
    assert hm.Model("count ~ x + spp", data, family="negativebinomial").ir.merged is None
    forced = hm.Model("count ~ x + spp", data, family="negativebinomial", suffstats=True)
    assert forced.ir.merged is not None
    assert len(forced.ir.merged.coords["cell"]) == N
    assert_same_model(forced.pymc, forced.pymc_rows, check_dims=False, n_points=1, rtol=1e-9)


@pytest.mark.parametrize(
    ("formula", "family", "reason"),
    [
        ("count | trunc(ub=40) ~ spp", "zero_inflated_poisson", r"truncated rows \(trunc\(\)\)"),
        ("count ~ spp + gp(x, k=5)", "negativebinomial", "gp()"),
        ("count ~ spp + s(x)", "zero_inflated_poisson", r"s\(x\) is a smooth"),
        ("count ~ spp", "gamma", "the gamma family has no Gaussian sufficient statistics"),
    ],
)
def test_refusals_say_why(formula: str, family: str, reason: str) -> None:
    data = _frame().assign(count=lambda d: d["count"] + 1)  # gamma: positive
    assert hm.Model(formula, data, family=family).ir.merged is None
    with pytest.raises(SuffStatsError, match=reason.replace("()", r"\(\)")):
        hm.Model(formula, data, family=family, suffstats=True)


def test_custom_family_draws_are_rows() -> None:
    # hiermod's own mixture (zero_inflated_beta_binomial_dist), indexed by each row's cell
    model = hm.Model(TRIALS, _frame(), family="zero_inflated_beta_binomial")
    assert model.ir.merged is not None
    fast = {"mode": "FAST_COMPILE"}  # Numba has no BetaBinomial sampler (object mode warns)
    with model.pymc:
        prior = pm.sample_prior_predictive(draws=3, random_seed=1, compile_kwargs=fast)
    draws = prior.prior_predictive["succ"].values
    assert draws.shape == (1, 3, N)
    assert np.all(draws <= _frame().trials.to_numpy())


def test_draws_are_rows() -> None:
    model = hm.Model(COUNTS, _frame(), family="zero_inflated_negbinomial", zi="~ mined")
    assert model.ir.merged is not None
    with model.pymc:
        prior = pm.sample_prior_predictive(draws=5, random_seed=1)
    assert prior.prior_predictive["count"].shape == (1, 5, N)
    assert prior.prior_predictive["count"].dims[-1] == "obs"
    # Each row is drawn with its own cell's mean: mined rows with mean e^5, the others e^0.
    coef = list(model.pymc.coords["coef"])
    b = np.zeros((1, 40, len(coef)))
    b[..., coef.index("mined[yes]")] = 5.0
    posterior = {"Intercept": np.zeros((1, 40)), "b": b, "z_site": np.zeros((1, 40, 12))}
    posterior["zi_b"] = np.zeros((1, 40, 1))
    posterior |= {name: np.full((1, 40), value) for name, value in
                  {"sd_site": 0.5, "alpha": 50.0, "zi_Intercept": -8.0}.items()}  # fmt: skip
    coords = {dim: list(model.pymc.coords[dim]) for dim in ("coef", "site", "zi_coef")}
    dims = {"b": ["coef"], "z_site": ["site"], "zi_b": ["zi_coef"]}
    trace = az.from_dict({"posterior": posterior}, dims=dims, coords=coords)
    with model.pymc:
        draws = pm.sample_posterior_predictive(trace, random_seed=2, progressbar=False)
    y = draws.posterior_predictive["count"].values.reshape(-1, N)
    mined = (_frame().mined == "yes").to_numpy()
    assert y.shape[1] == N
    assert 100 < y[:, mined].mean() < 200
    assert y[:, ~mined].mean() < 2


def test_source_has_the_reduction_and_runs_standalone() -> None:
    model = hm.Model(TRIALS, _frame(), family="beta_binomial")
    source = model.source()
    assert "def merged_logp(value, alpha, beta, n, row_cell, cell_first, cell_n)" in source
    assert "identical rows merged" in source
    assert "return pt.sum(cell_n * terms)" in source
    namespace: dict[str, Any] = {"__name__": "hiermod_generated"}
    exec(compile(source, "<generated>", "exec"), namespace)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        built = namespace["build_model"](_frame())
        rows = namespace["build_model"](_frame(), reduce=False)
    assert_same_model(built, model.pymc, n_points=2, rtol=1e-9)
    assert_same_model(rows, model.pymc, n_points=2, rtol=1e-9)


SALAMANDERS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "salamanders.csv"


@pytest.mark.skipif(not SALAMANDERS.exists(), reason="the shared salamanders data are absent")
def test_salamanders() -> None:
    data = pd.read_csv(SALAMANDERS)
    formula = "count ~ spp * mined\nzi ~ spp * mined"
    model = hm.Model(formula, data, family="zero_inflated_poisson")
    assert model.ir.merged is not None
    assert (
        model.ir.merged.reason
        == "644 rows merge into 91 cells of identical predictors and response"
    )
    assert_same_model(model.pymc, model.pymc_rows, check_dims=False, n_points=2, rtol=1e-9)
    # with (1 | site): 354 distinct (spp, mined, site, count) rows, more than half: auto keeps rows
    site = hm.Model("count ~ spp * mined + (1 | site)", data, family="zero_inflated_poisson")
    assert site.ir.merged is None
    forced = hm.Model(
        "count ~ spp * mined + (1 | site)", data, family="zero_inflated_poisson", suffstats=True
    )
    assert forced.ir.merged is not None
    assert len(forced.ir.merged.coords["cell"]) == 354
