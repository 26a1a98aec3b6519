"""The categorical family: unordered categories, one linear predictor per non-reference category.

Checks that share no code with hiermod: the compiled model against a hand-written PyMC model of
brms's multinomial logit (softmax over 0 and one log-odds per category, each with its own
coefficients and group effects) at random points, logp and gradient; the names of the category
predictors; category-specific formulas; the response's checks; predictions against the softmax
computed in NumPy from the posterior draws; fixef's brms labels; the exported source; and (slow)
parameter recovery on data simulated with NumPy.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import pytest
from support import assert_same_model
from test_families import _fake_fit

import hiermod as hm
from hiermod.data.categories import category_dpars
from hiermod.errors import DataError, FamilyError
from hiermod.output.module import load_module

FAMILIES = ("categorical",)  # tests/test_compile.py checks every family has its hand-written model
FRUIT = ("apple", "banana", "cherry")
TRUE = {"mubanana": (0.4, 1.0), "mucherry": (-0.3, -0.8)}  # (intercept, slope of x)
SD_G = {"mubanana": 0.6, "mucherry": 0.3}
N_GROUPS = 8


def simulate(n: int, seed: int) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Fruit chosen by a multinomial logit with a group intercept per category (NumPy only)."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, N_GROUPS, n)
    x = rng.normal(size=n)
    effects = {k: rng.normal(0.0, SD_G[k], N_GROUPS) for k in TRUE}
    eta = np.stack(
        [np.zeros(n)] + [a + b * x + effects[k][g] for k, (a, b) in TRUE.items()], axis=1
    )
    p = np.exp(eta - eta.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    choice = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    frame = pd.DataFrame({"fruit": np.array(FRUIT)[choice], "x": x, "g": [f"g{i}" for i in g]})
    return frame, effects


@functools.cache
def frame() -> pd.DataFrame:
    return simulate(300, seed=5)[0]


PRIORS = {"mubanana_b": "normal(0, 1)", "mucherry_b": "normal(0, 1)"}


@functools.cache
def compiled(formula: str = "fruit ~ x + (1 | g)") -> hm.Model:
    priors = {k: v for k, v in PRIORS.items() if "mucherry ~ 1" not in formula or "cherry" not in k}
    return hm.Model(formula, frame(), family="categorical", priors=priors, centered=False)


# ---------------------------------------------------------------------------------------------------
# Names of the category predictors.

NAMES = [
    (("a", "b", "c"), ("mub", "muc")),
    ((1, 2, 3), ("mu2", "mu3")),
    (("no", "yes, often"), ("muyesoften",)),
    (("Low", "high-ish", "TOP 1"), ("muhighish", "muTOP1")),
    (("a-b", "ab"), ("mu2",)),  # both would be "muab": named by position
    (("+", "-", "x"), ("mu2", "mu3")),  # "mu" alone is no name
]


@pytest.mark.parametrize(("levels", "names"), NAMES)
def test_category_predictors_are_named_as_brms(levels, names) -> None:
    assert category_dpars(levels) == names


# ---------------------------------------------------------------------------------------------------
# The compiled model against hand-written PyMC.


def hand(own_formula_for_cherry: bool = False) -> pm.Model:
    """brms's categorical: eta_k = Intercept_k + x b_k + r_k[g] for banana and cherry, 0 for
    apple, P(y = k) = softmax(eta)_k. Priors as hiermod's defaults (brms's student_t(3, 0, 2.5)
    intercepts, half-normal(1) group sds on the log-odds scale)."""
    d = frame()
    codes = pd.factorize(d["g"], sort=True)[0]
    coords = {"obs": np.arange(len(d)), "coef": ["x"], "g": sorted(d["g"].unique())}
    with pm.Model(coords=coords) as model:
        X = pm.Data("X", d[["x"]].to_numpy(), dims=("obs", "coef"))
        g = pm.Data("g_idx", codes, dims="obs")
        columns = [pt.zeros(len(d))]
        for k in ("mubanana", "mucherry"):
            intercept = pm.StudentT(f"{k}_Intercept", nu=3.0, mu=0.0, sigma=2.5)
            if k == "mucherry" and own_formula_for_cherry:  # mucherry ~ 1
                columns.append(intercept + pt.zeros(len(d)))
                continue
            b = pm.Normal(f"{k}_b", 0.0, 1.0, dims="coef")
            sd = pm.HalfNormal(f"{k}_sd_g", 1.0)
            z = pm.Normal(f"{k}_z_g", 0.0, 1.0, dims="g")
            columns.append(intercept + X @ b + (z * sd)[g])
        p = pt.special.softmax(pt.stack(columns, axis=1), axis=1)
        y = pd.Index(FRUIT).get_indexer(d["fruit"])
        pm.Categorical("fruit", p=p, observed=y, dims="obs")
    return model


def test_same_model_as_hand_written() -> None:
    assert_same_model(compiled().pymc, hand(), n_points=3)


def test_a_category_formula_of_its_own_replaces_the_copy_of_mu() -> None:
    written = compiled("fruit ~ x + (1 | g)\nmucherry ~ 1")
    assert_same_model(written.pymc, hand(own_formula_for_cherry=True), n_points=3)
    keyword = hm.Model(
        "fruit ~ x + (1 | g)", frame(), family="categorical", centered=False, mucherry="~ 1",
        priors={"mubanana_b": "normal(0, 1)"},
    )  # fmt: skip
    point = written.pymc.initial_point()
    ours = written.pymc.compile_logp(mode="FAST_COMPILE")(point)
    assert keyword.pymc.compile_logp(mode="FAST_COMPILE")(point) == pytest.approx(ours, rel=1e-12)


def test_the_categories_share_mus_columns_and_level_index() -> None:
    data = compiled().ir.data
    assert [d.name for d in data if d.role in ("X", "index")] == ["X", "g_idx"]


# ---------------------------------------------------------------------------------------------------
# The response.

BAD = [
    (
        "fruit ~ x\nmudurian ~ 1",
        None,
        FamilyError,
        "(?s)no parameter 'mudurian'.*mubanana, mucherry",
    ),
    ("fruit ~ x", lambda d: d.assign(fruit="apple"), DataError, "at least 2"),
    ("log(x) ~ 1", None, DataError, "is a column"),
]


@pytest.mark.parametrize(("formula", "change", "error", "message"), BAD)
def test_what_a_categorical_model_refuses(formula, change, error, message) -> None:
    data = frame() if change is None else change(frame().copy())
    with pytest.raises(error, match=message):
        hm.Model(formula, data, family="categorical").ir  # noqa: B018


def test_a_keyword_that_is_no_parameter_is_still_a_typo() -> None:
    with pytest.raises(TypeError, match=r"did you mean 'priors'\?"):
        hm.Model("fruit ~ x", frame(), family="categorical", prior={"b": "normal(0, 1)"})


def test_categories_of_a_pandas_categorical_keep_its_order() -> None:
    data = frame().assign(fruit=pd.Categorical(frame()["fruit"], categories=FRUIT[::-1]))
    model = hm.Model("fruit ~ x", data, family="categorical")
    names = {p.dpar for p in model.ir.predictors}
    assert names == {"mubanana", "muapple"}  # cherry is the reference now


# ---------------------------------------------------------------------------------------------------
# Summaries and predictions.


def _softmax_of_draws(model: hm.Model, fit) -> np.ndarray:
    """P(y = k) per draw and row from the posterior draws, in NumPy."""
    posterior = fit["posterior"]
    d = frame()
    codes = pd.factorize(d["g"], sort=True)[0]
    columns = [np.zeros((1, 2, len(d)))]
    for k in ("mubanana", "mucherry"):
        eta = posterior[f"{k}_Intercept"].values[..., None]
        eta = eta + posterior[f"{k}_b"].values[..., 0, None] * d["x"].to_numpy()
        r = posterior[f"{k}_z_g"].values * posterior[f"{k}_sd_g"].values[..., None]
        columns.append(eta + r[..., codes])
    eta = np.stack(columns, axis=-1)
    p = np.exp(eta - eta.max(axis=-1, keepdims=True))
    return p / p.sum(axis=-1, keepdims=True)


def test_predictions_are_the_softmax_of_the_category_predictors() -> None:
    model = compiled()
    fit = _fake_fit(model, seed=2)
    expected = _softmax_of_draws(model, fit)
    for kind in ("mean", "probs"):
        probs = model.predict(fit, kind=kind)
        assert probs.dims == ("chain", "draw", "obs", "fruit_category")
        assert tuple(probs["fruit_category"].values) == FRUIT
        np.testing.assert_allclose(probs.values, expected, rtol=1e-10)
    linear = model.predict(fit, kind="linear")
    np.testing.assert_allclose(linear.isel(fruit_category=0), 0.0)
    log_ratio = np.log(expected[..., 1] / expected[..., 0])
    np.testing.assert_allclose(linear.isel(fruit_category=1), log_ratio, rtol=1e-9)
    draws = model.predict(fit, kind="response", random_seed=1)
    assert set(np.unique(draws.values)) <= set(FRUIT)
    assert draws.dims == ("chain", "draw", "obs")


def test_predictions_on_new_rows_and_an_unseen_category_value() -> None:
    model = compiled()
    fit = _fake_fit(model, seed=3)
    new = pd.DataFrame({"x": [0.0, 2.0], "g": ["g1", "g2"]})
    probs = model.predict(fit, data=new, kind="probs")
    assert probs.shape == (1, 2, 2, 3)
    np.testing.assert_allclose(probs.sum("fruit_category"), 1.0, rtol=1e-12)


def test_fixef_lists_every_category_as_brms() -> None:
    model = compiled()
    table = model.fixef(_fake_fit(model, seed=4))
    assert list(table.index) == ["mubanana_Intercept", "mubanana_x", "mucherry_Intercept",
                                 "mucherry_x"]  # fmt: skip


def test_exported_source_builds_the_same_model_from_a_dataframe() -> None:
    model = compiled("fruit ~ x + (1 | g)\nmucherry ~ 1")
    source = model.source()
    assert "pm.Categorical(" in source
    assert "logit_p=log_odds" in source
    assert "reference + mucherry" in source  # an intercept-only category is made a column
    standalone = load_module(source).build_model(frame())
    point = model.pymc.initial_point()
    ours = model.pymc.compile_logp(mode="FAST_COMPILE")(point)
    assert standalone.compile_logp(mode="FAST_COMPILE")(point) == pytest.approx(ours, rel=1e-12)


# ---------------------------------------------------------------------------------------------------
# Recovery.


@pytest.mark.slow
def test_parameters_are_recovered() -> None:
    data, _ = simulate(3000, seed=21)
    model = hm.Model("fruit ~ x + (1 | g)", data, family="categorical")
    # 8 groups with a small sd (0.3): a funnel edge; a smaller step keeps NUTS off it
    fit = model.fit(  # 2 chains: 160 s with 4 beside the rest of the suite
        draws=1000, tune=1000, chains=2, random_seed=1, target_accept=0.95, progressbar=False
    )
    table = model.fixef(fit)
    for k, (a, b) in TRUE.items():
        for label, truth in ((f"{k}_Intercept", a), (f"{k}_x", b)):
            row = table.loc[label]
            assert abs(row["mean"] - truth) < 4 * row["sd"], (label, row["mean"], truth)
    sds = fit["posterior"]
    for k, truth in SD_G.items():
        draws = sds[f"{k}_sd_g"].values.ravel()
        assert np.quantile(draws, 0.001) < truth < np.quantile(draws, 0.999), k
