"""Identical rows merged into cells for the families of categories (hiermod.plan.merge).

The ordinal families (cumulative, sratio, cratio, acat; every link, with or without a modelled
``disc``), ``categorical`` and ``multinomial``: rows with the same predictors of every
distributional parameter, the same response (category, or count vector and trials) and the same
weight have the same log-likelihood term, so ``sum_c n_c log p(y_c)`` is the rows' sum. Checked
against the row-wise model (``Model.pymc_rows``) and the model compiled with ``suffstats=False``
at random points (logp and gradient); draws are rows.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytest
from support import assert_same_model

import hiermod as hm
from hiermod.plan.suffstats import SuffStatsError

N = 900
CATEGORIES = ("apple", "banana", "cherry")


@functools.cache
def frame() -> pd.DataFrame:
    """Three categorical predictors and 8 sites; ratings 1..4, a fruit chosen, counts of three
    fruits out of 4 or 6 trials, a continuous x and weights of two values (NumPy only)."""
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "dose": rng.choice(["low", "mid", "high"], N),
            "sex": rng.choice(["f", "m"], N),
            "site": rng.choice([f"s{i}" for i in range(8)], N),
            "x": rng.normal(size=N),
        }
    )
    eta = 0.9 * (frame.dose == "high") - 0.6 * (frame.sex == "m")
    cut = np.array([-1.0, 0.2, 1.3])
    latent = eta.to_numpy() + rng.logistic(size=N)
    frame["rating"] = 1 + (latent[:, None] > cut[None, :]).sum(axis=1)
    frame["fruit"] = np.array(CATEGORIES)[rng.integers(0, 3, N) * (rng.random(N) < 0.8)]
    trials = np.where(frame.sex == "f", 4, 6)
    counts = np.array([rng.multinomial(t, [0.5, 0.3, 0.2]) for t in trials])
    frame["a"], frame["b"], frame["c"] = counts.T
    frame["w"] = np.where(frame.site.isin(["s0", "s1"]), 0.5, 2.0)
    return frame


RATING = "rating ~ dose + sex + (1 | site)"
FRUIT = "fruit ~ dose + (1 | site)"
COUNTS = "cbind(a, b, c) ~ dose + sex"
CASES: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "cumulative logit": (RATING, "cumulative", "logit", {}),
    "cumulative probit disc ~ sex": (RATING, "cumulative", "probit", {"disc": "~ sex"}),
    "sratio logit": (RATING, "sratio", "logit", {}),
    "sratio cauchit": (RATING, "sratio", "cauchit", {}),
    "sratio probit disc ~ 1": ("rating ~ dose", "sratio", "probit", {"disc": "~ 1"}),
    "cratio probit": (RATING, "cratio", "probit", {}),
    "cratio cauchit disc ~ dose": (RATING, "cratio", "cauchit", {"disc": "~ dose"}),
    "acat logit disc ~ sex": (RATING, "acat", "logit", {"disc": "~ sex"}),
    "acat cloglog": (RATING, "acat", "cloglog", {}),
    "cumulative cauchit y ~ 1": ("rating ~ 1", "cumulative", "cauchit", {}),
    "categorical": (FRUIT, "categorical", "logit", {}),
    "categorical mucherry ~ sex": (FRUIT, "categorical", "logit", {"mucherry": "~ sex"}),
    "categorical mubanana ~ 1": (FRUIT, "categorical", "logit", {"mubanana": "~ 1"}),
    "multinomial": (COUNTS, "multinomial", "logit", {}),
    "multinomial muc ~ sex": (COUNTS, "multinomial", "logit", {"muc": "~ sex"}),
}


def _model(formula: str, family: str, link: str, extra: dict[str, Any], **more: Any) -> hm.Model:
    return hm.Model(formula, frame(), family=family, link=link, **extra, **more)


@pytest.mark.parametrize(("formula", "family", "link", "extra"), CASES.values(), ids=CASES.keys())
def test_merged_rows_equal_the_rows(
    formula: str, family: str, link: str, extra: dict[str, Any]
) -> None:
    model = _model(formula, family, link, extra)  # suffstats="auto"
    merged = model.ir.merged
    assert merged is not None
    assert len(merged.coords[merged.cell_dim]) <= N // 2
    assert merged.values[merged.n].sum() == N
    assert_same_model(model.pymc, model.pymc_rows, check_dims=False, n_points=3, rtol=1e-9)
    rows = _model(formula, family, link, extra, suffstats=False)
    assert rows.ir.merged is None
    assert_same_model(model.pymc, rows.pymc, n_points=1, rtol=1e-9)


def test_cells_by_hand() -> None:
    data = pd.DataFrame({"f": ["a", "a", "b", "b", "a", "b", "a"], "y": [1, 1, 2, 2, 3, 2, 1]})
    merged = hm.Model("y ~ f", data, family="cumulative", suffstats=True).ir.merged
    assert merged is not None
    # cells (a, 1) three times, (a, 3) once, (b, 2) three times
    np.testing.assert_array_equal(merged.values[merged.n], [3.0, 1.0, 3.0])
    np.testing.assert_array_equal(merged.values[merged.first], [0, 4, 2])
    assert merged.reason == "7 rows merge into 3 cells of identical predictors and response"
    counts = pd.DataFrame({"f": ["a", "a", "a", "b"], "p": [1, 1, 2, 1], "q": [2, 2, 1, 2]})
    merged = hm.Model("cbind(p, q) ~ f", counts, family="multinomial", suffstats=True).ir.merged
    assert merged is not None  # the count vector is the key: (1, 2) twice for a, (2, 1), (1, 2)
    np.testing.assert_array_equal(merged.values[merged.n], [2.0, 1.0, 1.0])
    assert "identical predictors, response and trials" in merged.reason


@pytest.mark.parametrize(
    ("response", "rest", "family"),
    [
        ("rating", "dose + sex + (1 | site)", "cumulative"),
        ("rating", "dose + (1 | site)", "acat"),
        ("fruit", "dose + sex", "categorical"),
        ("cbind(a, b, c)", "dose", "multinomial"),
    ],
)
def test_weights_are_part_of_the_key(response: str, rest: str, family: str) -> None:
    # weights() of two values: a cell's rows share their weight, its term counts their sum
    formula = f"{response} | weights(w) ~ {rest}"
    model = hm.Model(formula, frame(), family=family)
    merged = model.ir.merged
    assert merged is not None
    assert merged.values[merged.n].sum() == pytest.approx(frame().w.sum())
    assert "weight" in merged.reason
    assert_same_model(model.pymc, model.pymc_rows, check_dims=False, n_points=2, rtol=1e-9)
    rows = hm.Model(formula, frame(), family=family, suffstats=False)
    assert_same_model(model.pymc, rows.pymc, n_points=1, rtol=1e-9)
    # continuous weights make every row its own cell: auto keeps the rows
    varied = frame().assign(w=np.linspace(0.5, 2.0, N))
    assert hm.Model(formula, varied, family=family).ir.merged is None


@pytest.mark.parametrize(
    ("formula", "family"),
    [
        ("rating ~ x + dose", "cumulative"),
        ("rating ~ dose", "sratio"),  # disc ~ x below
        ("fruit ~ x", "categorical"),
        ("cbind(a, b, c) ~ dose + x", "multinomial"),
    ],
)
def test_auto_declines_without_a_saving(formula: str, family: str) -> None:
    # a continuous predictor (of any distributional parameter) makes every row its own cell:
    # auto keeps the rows, True merges anyway
    extra = {"disc": "~ x"} if family == "sratio" else {}
    assert hm.Model(formula, frame(), family=family, **extra).ir.merged is None
    forced = hm.Model(formula, frame(), family=family, suffstats=True, **extra)
    assert forced.ir.merged is not None
    assert len(forced.ir.merged.coords["cell"]) == N
    assert_same_model(forced.pymc, forced.pymc_rows, check_dims=False, n_points=1, rtol=1e-9)


@pytest.mark.parametrize(
    ("formula", "family", "reason"),
    [
        ("rating ~ dose + mo(rating2)", "cumulative", r"rows with mo\(\) terms are not merged"),
        ("rating ~ s(x)", "acat", r"s\(x\) is a smooth"),
        ("fruit ~ dose + gp(x, k=5)", "categorical", r"rows with gp\(\) terms are not merged"),
        ("cbind(sa, sb, sc) ~ dose", "dirichlet", "the dirichlet family's shares are continuous"),
    ],
)
def test_refusals_say_why(formula: str, family: str, reason: str) -> None:
    shares = frame()[["a", "b", "c"]].to_numpy() + 0.5
    shares = shares / shares.sum(axis=1, keepdims=True)
    data = frame().assign(rating2=frame().rating, sa=shares[:, 0], sb=shares[:, 1], sc=shares[:, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # s() and gp() may warn about their bases
        assert hm.Model(formula, data, family=family).ir.merged is None
        with pytest.raises(SuffStatsError, match=reason):
            hm.Model(formula, data, family=family, suffstats=True)


def _trace(model: hm.Model, values: dict[str, Any], draws: int = 30) -> az.InferenceData:
    """A posterior of ``draws`` identical draws of ``values`` (each a scalar or an array)."""
    posterior, dims, coords = {}, {}, {}
    for rv in model.pymc.free_RVs:
        shape = tuple(int(s) for s in rv.shape.eval())
        value = np.broadcast_to(values.get(rv.name, 0.0), shape)
        posterior[rv.name] = np.broadcast_to(value, (1, draws, *shape)).copy()
        dims[rv.name] = list(model.pymc.named_vars_to_dims.get(rv.name) or ())
        coords |= {d: list(model.pymc.coords[d]) for d in dims[rv.name]}
    return az.from_dict({"posterior": posterior}, dims=dims, coords=coords)


def test_ordinal_draws_are_rows() -> None:
    model = hm.Model(RATING, frame(), family="cumulative")
    assert model.ir.merged is not None
    with model.pymc:
        prior = pm.sample_prior_predictive(draws=5, random_seed=1)
    assert prior.prior_predictive["rating"].shape == (1, 5, N)
    assert prior.prior_predictive["rating"].dims[-1] == "obs"
    # males move to the top category, females to the bottom one: each row follows its cell
    coef = list(model.pymc.coords["coef"])
    b = np.zeros(len(coef))
    b[coef.index("sex[m]")] = 60.0
    values = {"b": b, "Intercept": np.array([30.0, 31.0, 32.0]), "sd_site": 0.1}
    with model.pymc:
        draws = pm.sample_posterior_predictive(_trace(model, values), random_seed=2)
    y = draws.posterior_predictive["rating"].values.reshape(-1, N)
    male = (frame().sex == "m").to_numpy()
    assert np.all(y[:, male] == 3)  # codes 0..3: the fourth rating
    assert np.all(y[:, ~male] == 0)


def test_multinomial_draws_are_rows() -> None:
    model = hm.Model(COUNTS, frame(), family="multinomial")
    assert model.ir.merged is not None
    with model.pymc:
        prior = pm.sample_prior_predictive(draws=4, random_seed=1)
    y, name = prior.prior_predictive, model.ir.likelihood.name
    assert y[name].shape == (1, 4, N, 3)
    np.testing.assert_array_equal(
        y[name].values.sum(axis=-1)[0], np.broadcast_to(np.where(frame().sex == "f", 4, 6), (4, N))
    )
    # males choose c, females b: each row's draw follows its own cell
    coef = list(model.pymc.coords["coef"])
    mub_b, muc_b = np.zeros(len(coef)), np.zeros(len(coef))
    muc_b[coef.index("sex[m]")] = 80.0  # males: muc 60 against mub 20
    values = {"mub_Intercept": 20.0, "muc_Intercept": -20.0, "mub_b": mub_b, "muc_b": muc_b}
    with model.pymc:
        draws = pm.sample_posterior_predictive(_trace(model, values), random_seed=2)
    counts = draws.posterior_predictive[name].values.reshape(-1, N, 3)
    male = (frame().sex == "m").to_numpy()
    assert np.all(counts[:, male, 2] == 6)
    assert np.all(counts[:, ~male, 1] == 4)


@pytest.mark.parametrize(
    ("formula", "family", "extra"),
    [
        (RATING, "sratio", {"disc": "~ sex"}),
        (FRUIT, "categorical", {"mucherry": "~ sex"}),
        (COUNTS, "multinomial", {}),
    ],
)
def test_source_has_the_reduction_and_runs_standalone(
    formula: str, family: str, extra: dict[str, Any]
) -> None:
    model = hm.Model(formula, frame(), family=family, **extra)
    assert model.ir.merged is not None
    source = model.source()
    args = "p, n" if family == "multinomial" else "log_p"
    assert f"def merged_logp(value, {args}, row_cell, cell_first, cell_n)" in source
    assert "identical rows merged" in source
    assert "return pt.sum(cell_n * terms)" in source
    namespace: dict[str, Any] = {"__name__": "hiermod_generated"}
    exec(compile(source, "<generated>", "exec"), namespace)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        built = namespace["build_model"](frame())
        rows = namespace["build_model"](frame(), reduce=False)
    assert_same_model(built, model.pymc, n_points=2, rtol=1e-9)
    assert_same_model(rows, model.pymc_rows, n_points=2, rtol=1e-9)
    assert_same_model(rows, built, check_dims=False, n_points=2, rtol=1e-9)
