"""brms's block IDs: ``(1 + x | p | g)`` correlates the blocks of g with ID p across formulas.

Parsing and printing (a table), the PyMC model against a hand-written one with one
``pm.LKJCholeskyCov`` over the union of the blocks' effects (mu and sigma of a gaussian; mu and zi
of a zero-inflated Poisson), same-ID blocks of one formula as one block, the errors, prediction at
new levels (drawn jointly from the shared covariance), the exported source, and a slow recovery of
the correlation between mu's and sigma's group intercepts.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import pytest
from support import assert_same_model

import hiermod as hm
from hiermod.formula.expand import expand
from hiermod.formula.parser import parse_syntax
from hiermod.warnings import SamplingWarning

GROUPS = tuple(f"g{i}" for i in range(8))


@functools.cache
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(15)
    n = 160
    group = rng.permutation(np.arange(n) % len(GROUPS))
    x = rng.normal(0.0, 1.0, n)
    effect = rng.normal(0.0, 0.5, len(GROUPS))[group]
    return pd.DataFrame(
        {
            "g": np.array(GROUPS)[group],
            "h": rng.choice(["u", "v", "w"], n),
            "x": x,
            "y": 1.0 + 0.5 * x + effect + rng.normal(0.0, np.exp(0.3 * effect), n),
            "cnt": rng.poisson(np.exp(0.5 + 0.3 * x + effect)) * (rng.random(n) < 0.8),
        }
    )


def parse(text: str) -> hm.ModelFormula:
    return expand(parse_syntax(text))


# -- parsing and printing ---------------------------------------------------------------------------

PRINTED = [
    (
        "y ~ x + (1 + x | p | g); sigma ~ (1 | p | g)",
        "y ~ 1 + x + (1 + x | p | g); sigma ~ 1 + (1 | p | g)",
    ),
    ("y ~ (x | 1 | g)", "y ~ 1 + (1 + x | 1 | g)"),
    ("y ~ x + (1 | gr(g, id = p))", "y ~ 1 + x + (1 | p | g)"),
    ("y ~ (1 + x | gr(g, id = 2))", "y ~ 1 + (1 + x | 2 | g)"),
    ("y ~ (1 | p | g) + (0 + x | p | g)", "y ~ 1 + (1 + x | p | g)"),  # one block, as brms
    ("y ~ (1 | p | g) + (0 + x | q | g)", "y ~ 1 + (1 | p | g) + (0 + x | q | g)"),
    (
        "y ~ (1 | p | g:h); sigma ~ (1 | p | g:h)",
        "y ~ 1 + (1 | p | g:h); sigma ~ 1 + (1 | p | g:h)",
    ),
    ("y ~ (1 + x | p | g) + (1 | h)", "y ~ 1 + (1 + x | p | g) + (1 | h)"),
]


@pytest.mark.parametrize(("text", "printed"), PRINTED, ids=[c[0] for c in PRINTED])
def test_ids_parse_and_print_round_trip(text: str, printed: str) -> None:
    formula = parse(text)
    assert str(formula) == printed
    assert parse(str(formula)) == formula


def test_the_id_is_part_of_the_block() -> None:
    with_id = parse("y ~ (1 | p | g)").main.blocks[0]
    assert with_id.block_id == "p"
    assert with_id != parse("y ~ (1 | g)").main.blocks[0]
    assert with_id != parse("y ~ (1 | q | g)").main.blocks[0]
    assert parse("y ~ (1 | gr(g, id = p))") == parse("y ~ (1 | p | g)")


ERRORS = [
    (
        "y ~ (1 | p | g); sigma ~ (1 | p | h)",
        "different groupings (g and h)",
        "same grouping factors",
    ),
    ("y ~ (1 | p | g) + (1 | p | g:h)", "different groupings (g and g:h)", "its own ID"),
    ("y ~ (1 | p | g/h)", "different groupings (g and g:h)", "its own ID"),
    ("y ~ (x || p | g)", "correlates effects, but this block's are independent", "(… | p | g)"),
    ("y ~ (x | gr(g, id = p, cor = FALSE))", "independent (||)", "drop the ID"),
    ("y ~ (1 | 0.5 | g)", "a name or a whole number", "(1 + x | p | g)"),
    ("y ~ (1 | p | q | g)", "unexpected '|'", "one ID at most"),
]


@pytest.mark.parametrize(("text", "message", "hint"), ERRORS, ids=[c[0] for c in ERRORS])
def test_id_errors(text: str, message: str, hint: str) -> None:
    with pytest.raises(hm.HiermodError) as info:
        parse(text)
    assert message in str(info.value)
    assert hint in (info.value.hint or "")


# -- the model against hand-written PyMC -------------------------------------------------------------

GAUSS = {
    "Intercept": "normal(1, 5)",
    "b": "normal(0, 2)",
    "sd": "half_normal(1.5)",
    "sigma_Intercept": "normal(0, 1)",
    "sigma_sd": "half_normal(0.5)",
    "corr": "lkj(3)",
}


def _codes() -> tuple[np.ndarray, list[str]]:
    codes, levels = pd.factorize(frame()["g"], sort=True)
    return codes, list(levels)


def _joint(
    labels: list[str], sds: list[float], eta: float
) -> tuple[pt.TensorVariable, pt.TensorVariable]:
    """The hand-written joint block: chol over the union, z over (g, union), r = z @ chol.T."""
    k = len(labels)
    chol, _, _ = pm.LKJCholeskyCov(
        "chol_g_id_p",
        n=k,
        eta=eta,
        sd_dist=pm.HalfNormal.dist(sigma=np.array(sds), shape=k),
        compute_corr=True,
        store_in_trace=False,
    )
    z = pm.Normal("z_g_id_p", 0.0, 1.0, dims=("g", "g_id_p_term"))
    return chol, z @ chol.T


def hand_gaussian() -> pm.Model:
    """y ~ x + (1 + x | p | g); sigma ~ (1 | p | g): one 3 × 3 covariance of g."""
    d = frame()
    g, groups = _codes()
    labels = ["Intercept", "x", "sigma_Intercept"]
    coords = {"obs": list(range(len(d))), "coef": ["x"], "g": groups, "g_id_p_term": labels}
    with pm.Model(coords=coords) as model:
        x = d["x"].to_numpy()
        intercept = pm.Normal("Intercept", 1.0, 5.0)
        b = pm.Normal("b", 0.0, 2.0, dims="coef")
        _, r = _joint(labels, [1.5, 1.5, 0.5], 3.0)
        mu = intercept + x * b[0] + r[g, 0] + r[g, 1] * x
        sigma = pt.exp(pm.Normal("sigma_Intercept", 0.0, 1.0) + r[g, 2])
        pm.Normal("y", mu, sigma, observed=d["y"].to_numpy(), dims="obs")
    return model


ZIP = {
    "Intercept": "normal(0, 2)",
    "b": "normal(0, 1)",
    "sd": "half_normal(1)",
    "zi_Intercept": "logistic(0, 1)",
    "zi_sd": "half_normal(0.5)",
    "corr": "lkj(2)",
}


def hand_zip() -> pm.Model:
    """cnt ~ x + (1 + x | p | g); zi ~ (1 | p | g), zero-inflated Poisson (log and logit links)."""
    d = frame()
    g, groups = _codes()
    labels = ["Intercept", "x", "zi_Intercept"]
    coords = {"obs": list(range(len(d))), "coef": ["x"], "g": groups, "g_id_p_term": labels}
    with pm.Model(coords=coords) as model:
        x = d["x"].to_numpy()
        intercept = pm.Normal("Intercept", 0.0, 2.0)
        b = pm.Normal("b", 0.0, 1.0, dims="coef")
        _, r = _joint(labels, [1.0, 1.0, 0.5], 2.0)
        mu = pt.exp(intercept + x * b[0] + r[g, 0] + r[g, 1] * x)
        zi = pm.math.sigmoid(pm.Logistic("zi_Intercept", 0.0, 1.0) + r[g, 2])
        pm.ZeroInflatedPoisson("cnt", psi=1.0 - zi, mu=mu, observed=d["cnt"].to_numpy(), dims="obs")
    return model


MODELS = [
    (
        "gaussian mu + sigma",
        "y ~ x + (1 + x | p | g); sigma ~ (1 | p | g)",
        "gaussian",
        GAUSS,
        hand_gaussian,
    ),
    (
        "gr(g, id = p)",
        "y ~ x + (1 + x | gr(g, id = p)); sigma ~ (1 | gr(g, id = p))",
        "gaussian",
        GAUSS,
        hand_gaussian,
    ),
    (
        "same ID twice in mu",
        "y ~ x + (1 | p | g) + (0 + x | p | g); sigma ~ (1 | p | g)",
        "gaussian",
        GAUSS,
        hand_gaussian,
    ),
    (
        "zero-inflated mu + zi",
        "cnt ~ x + (1 + x | p | g); zi ~ (1 | p | g)",
        "zero_inflated_poisson",
        ZIP,
        hand_zip,
    ),
]


@pytest.mark.parametrize(
    ("case", "formula", "family", "priors", "hand"), MODELS, ids=[c[0] for c in MODELS]
)
def test_joint_block_is_one_lkj_over_the_union(case, formula, family, priors, hand) -> None:
    model = hm.Model(formula, frame(), family=family, priors=priors)
    assert_same_model(model.pymc, hand())
    assert_same_model(model.pymc_rows, hand())


def test_one_block_with_an_id_and_different_ids_are_ordinary_blocks() -> None:
    """An ID on one block correlates nothing more; different IDs stay independent (as no ID)."""
    for with_ids, without in [
        ("y ~ x + (1 + x | p | g)", "y ~ x + (1 + x | g)"),
        ("y ~ x + (1 | p | g) + (0 + x | p | g)", "y ~ x + (1 + x | g)"),
        ("y ~ x + (1 + x | p | g); sigma ~ (1 | q | g)", "y ~ x + (1 + x | g); sigma ~ (1 | g)"),
    ]:
        priors = GAUSS if "sigma ~" in with_ids else {k: GAUSS[k] for k in ("Intercept", "b", "sd")}
        a = hm.Model(with_ids, frame(), priors=priors, centered=False)
        b = hm.Model(without, frame(), priors=priors, centered=False)
        assert_same_model(a.pymc, b.pymc)


def test_categorical_categories_share_the_id() -> None:
    """categorical: each category's copy of mu's formula carries the ID, so the categories'
    intercepts of g are correlated (brms's categorical with (1 | p | g))."""
    d = frame().assign(k=lambda f: np.array(["a", "b", "c"])[f["cnt"].to_numpy() % 3])
    model = hm.Model("k ~ x + (1 | p | g)", d, family="categorical")
    assert model.ir.coords["g_id_p_term"] == ("mub_Intercept", "muc_Intercept")
    chol = next(v for v in model.pymc.free_RVs if v.name == "chol_g_id_p")
    assert chol.type.shape == (3,)  # the packed 2 × 2 factor


def test_summaries_name_the_cross_correlation() -> None:
    from fit_support import prior_fit

    model = hm.Model("y ~ x + (1 + x | p | g); sigma ~ (1 | p | g)", frame(), priors=GAUSS)
    idata = prior_fit(model, draws=50)
    corr = model.corr(idata)
    assert list(corr.index) == [
        ("g", "Intercept", "x"),
        ("g", "Intercept", "sigma_Intercept"),
        ("g", "x", "sigma_Intercept"),
    ]
    expected = idata["posterior"]["corr_g_id_p"].values.reshape(-1, 3).mean(axis=0)
    np.testing.assert_allclose(corr["mean"].to_numpy(), expected)
    table = model.varcorr(idata)
    assert ("g", "sigma_Intercept") in table.index
    assert np.isclose(table.loc[("g", "sigma_Intercept"), "corr[Intercept]"], expected[1])
    sds = idata["posterior"]["sigma_sd_g"].values.mean()
    assert np.isclose(table.loc[("g", "sigma_Intercept"), "mean"], sds)


# -- prediction at new levels ---------------------------------------------------------------------


def test_new_levels_are_drawn_from_the_shared_covariance() -> None:
    """A new level's mu and sigma effects are one draw of the joint normal: with the posterior's
    correlation fixed at 0.9 between Intercept and sigma_Intercept, the draws of a new level's
    linear mu and log sigma correlate 0.9; a training level keeps its posterior effects."""
    from fit_support import prior_fit

    model = hm.Model("y ~ x + (1 + x | p | g); sigma ~ (1 | p | g)", frame(), priors=GAUSS)
    idata = prior_fit(model, chains=2, draws=2000, seed=3)
    sds = np.array([0.8, 0.3, 0.5])
    corr = np.array([[1.0, 0.0, 0.9], [0.0, 1.0, 0.0], [0.9, 0.0, 1.0]])
    chol = np.linalg.cholesky(corr * np.outer(sds, sds))
    post = idata["posterior"]
    post["chol_g_id_p"].values[:] = chol[np.tril_indices(3)]
    for name in ("Intercept", "sigma_Intercept"):
        post[name].values[:] = 0.0
    post["b"].values[:] = 0.0
    new = pd.DataFrame({"x": [0.0, 0.0], "g": ["new", GROUPS[0]]})
    params = hm.model.distributional_parameters(
        model, idata, new, new_levels="population", random_seed=1
    )
    mu, log_sigma = params["mu"].values, np.log(params["sigma"].values)
    flat_mu, flat_sigma = mu[..., 0].ravel(), log_sigma[..., 0].ravel()
    assert abs(np.corrcoef(flat_mu, flat_sigma)[0, 1] - 0.9) < 0.03
    np.testing.assert_allclose([flat_mu.std(), flat_sigma.std()], [0.8, 0.5], rtol=0.06)
    # the training level: its posterior z times the posterior chol
    z = post["z_g_id_p"].sel(g=GROUPS[0]).values
    np.testing.assert_allclose(mu[..., 1], (z @ chol.T)[..., 0], rtol=1e-10)
    np.testing.assert_allclose(log_sigma[..., 1], (z @ chol.T)[..., 2], rtol=1e-10)


# -- the exported source ----------------------------------------------------------------------------


def test_source_writes_one_lkj_and_each_blocks_columns() -> None:
    model = hm.Model("y ~ x + (1 + x | p | g); sigma ~ (1 | p | g)", frame(), priors=GAUSS)
    source = model.source()
    assert source.count("pm.LKJCholeskyCov(") == 1
    assert '"chol_g_id_p",\n            n=3,' in source
    assert "r_g_id_p = z_g_id_p @ chol_g_id_p.T" in source
    assert 'pm.Deterministic("sd_g", sd_g_id_p[[0, 1]], dims="g_term")' in source
    assert 'sigma_r_g = pm.Deterministic("sigma_r_g", r_g_id_p[..., 2], dims="g")' in source
    namespace: dict[str, object] = {"__name__": "hiermod_generated"}
    exec(compile(source, "<generated>", "exec"), namespace)
    built = namespace["build_model"](frame())  # type: ignore[operator]
    assert_same_model(built, model.pymc)
    assert_same_model(built, hand_gaussian())


def test_joined_blocks_are_non_centred_dense_and_rebuilt_from_a_fit() -> None:
    """centered=True gives way (one z for the union); a dense grouping interaction joins as a
    single grouping does; Model.from_idata rebuilds the same source from the stored formula."""
    from fit_support import prior_fit

    text = "y ~ x + (1 + x | p | g:h); sigma ~ (1 | p | g:h)"
    model = hm.Model(text, frame(), priors=GAUSS, layout="dense", centered=True)
    shapes = {v.name: tuple(v.shape.eval()) for v in model.pymc.free_RVs}
    assert shapes["z_g__h_id_p"] == (len(GROUPS), 3, 3)
    assert shapes["chol_g__h_id_p"] == (6,)
    assert not any(name.startswith(("beta_", "sigma_beta_")) for name in shapes)
    idata = prior_fit(model, draws=5)
    again = hm.Model.from_idata(idata, frame())
    assert str(again.formula) == str(model.formula)
    assert again.source() == model.source()


def test_sd_priors_of_different_kinds_cannot_share_a_covariance() -> None:
    priors = GAUSS | {"sigma_sd": "exponential(2)"}
    model = hm.Model("y ~ x + (1 + x | p | g); sigma ~ (1 | p | g)", frame(), priors=priors)
    with pytest.raises(hm.HiermodError, match="priors of one kind"):
        model.source()


# -- recovery -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_recovers_the_correlation_of_mu_and_sigma_intercepts() -> None:
    """y ~ N(mu_g, exp(sigma_g)): group intercepts of mu and log sigma correlated 0.6, 48 groups."""
    rng = np.random.default_rng(2026)
    n_groups, per = 48, 25
    sds = np.array([1.0, 0.4])
    cov = np.array([[1.0, 0.6], [0.6, 1.0]]) * np.outer(sds, sds)
    effects = rng.multivariate_normal([0.0, 0.0], cov, n_groups)
    group = np.repeat(np.arange(n_groups), per)
    y = 2.0 + effects[group, 0] + rng.normal(0.0, np.exp(-0.5 + effects[group, 1]))
    data = pd.DataFrame({"y": y, "g": [f"s{i:02d}" for i in group]})
    model = hm.Model("y ~ 1 + (1 | p | g); sigma ~ 1 + (1 | p | g)", data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)  # R-hat is checked below, on what matters
        idata = model.fit(draws=1000, tune=1000, chains=2, random_seed=5, progressbar=False)
    table = model.corr(idata, prob=0.9)
    row = table.loc[("g", "Intercept", "sigma_Intercept")]
    draws = idata["posterior"]["corr_g_id_p"].values.reshape(-1)
    assert row["lower_90"] <= 0.6 <= row["upper_90"] or abs(draws.mean() - 0.6) < 3 * draws.std()
    assert row["r_hat"] < 1.05
