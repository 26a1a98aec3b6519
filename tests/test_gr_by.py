"""brms's ``gr(g, by = f)`` (issue 15): a separate sd (and correlation) per level of ``f``.

Parsing and printing (a table), the data errors (the formula errors are in tests/test_errors.py),
the PyMC model against hand-written ones (correlated, independent, intercept only, centred, a
sigma formula; the reduced and the row-wise likelihood),
the exported source, summaries named as brms's (``Intercept:fa``), prediction at known and new
levels (a new level's effects drawn with its level of f's sd), and a slow recovery of two sds.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import pytest
from support import assert_same_model

import hiermod as hm
from hiermod.errors import DataError, FormulaError, UnseenLevelError
from hiermod.formula.expand import expand
from hiermod.formula.parser import parse_syntax
from hiermod.warnings import DataWarning

ARMS = ("a", "b", "c")
CORRELATED = "y ~ x + (1 + x | gr(g, by = f))"
N_SUBJECTS = 12  # subjects s0..s11, four per arm


@functools.cache
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(21)
    subject = np.repeat(np.arange(N_SUBJECTS), 8)
    arm = np.array(ARMS)[subject % 3]  # s0 in a, s1 in b, s2 in c, s3 in a, …
    x = rng.normal(0.0, 1.0, subject.size)
    scale = np.array([0.3, 1.0, 2.0])[subject % 3]
    effect = rng.normal(0.0, 1.0, N_SUBJECTS) * np.array([0.3, 1.0, 2.0])[np.arange(12) % 3]
    y = 1.0 + 0.5 * x + effect[subject] + 0.4 * scale * x + rng.normal(0.0, 0.5, subject.size)
    return pd.DataFrame({"y": y, "x": x, "g": [f"s{i}" for i in subject], "f": arm})


def parse(text: str) -> hm.ModelFormula:
    return expand(parse_syntax(text))


# -- parsing and printing ---------------------------------------------------------------------------

PRINTED = [
    ("y ~ x + (1 + x | gr(g, by = f))", "y ~ 1 + x + (1 + x | gr(g, by = f))"),
    ("y ~ x + (1 + x | gr(g, by=f, cor=FALSE))", "y ~ 1 + x + (1 + x || gr(g, by = f))"),
    ("y ~ x + (1 + x || gr(g, by = f))", "y ~ 1 + x + (1 + x || gr(g, by = f))"),
    ("y ~ (1 | gr(g, by = f)) + (0 + x | g)", "y ~ 1 + (1 | gr(g, by = f)) + (0 + x | g)"),
    ("y ~ x; sigma ~ (1 | gr(g, by = f))", "y ~ 1 + x; sigma ~ 1 + (1 | gr(g, by = f))"),
]


@pytest.mark.parametrize(("text", "printed"), PRINTED)
def test_by_parses_and_prints_round_trip(text: str, printed: str) -> None:
    ours = parse(text)
    assert str(ours).replace("\n", "; ") == printed
    assert parse(str(ours)) == ours


def test_by_is_part_of_the_block() -> None:
    """(1 | gr(g, by = f)) is not (1 | g): removing one does not remove the other."""
    assert parse("y ~ (1 | gr(g, by = f))") != parse("y ~ (1 | g)")
    assert parse("y ~ (1 | gr(g, by = f))") != parse("y ~ (1 | gr(g, by = h))")
    with pytest.raises(FormulaError, match="removes nothing"):
        parse("y ~ (1 | gr(g, by = f)) - (1 | g)")
    assert parse("y ~ (1 | gr(g, by = f)) - (1 | gr(g, by = f))") == parse("y ~ 1")


def test_g_must_lie_within_one_level_of_f() -> None:
    d = frame().copy()
    d.loc[d["g"] == "s4", "f"] = ["a", "b"] * 4  # s4 is in arm b and, now, in a
    with pytest.raises(DataError, match=r"1 level of 'g' belongs to more than one level of 'f'"):
        _ = hm.Model("y ~ x + (1 | gr(g, by = f))", d).pymc
    with pytest.raises(DataError, match=r"'s4' is in 'a', 'b'"):
        _ = hm.Model("y ~ x + (1 | gr(g, by = f))", d).pymc


def test_an_unknown_by_column_suggests_the_closest() -> None:
    with pytest.raises(DataError, match="'ff'") as info:
        _ = hm.Model("y ~ x + (1 | gr(g, by = ff))", frame()).pymc
    assert "'f'" in str(info.value)


def test_rows_missing_f_are_dropped_once_with_a_warning() -> None:
    d = frame().copy()
    d.loc[3, "f"] = None
    with pytest.warns(DataWarning, match="1 of 96 rows"):
        model = hm.Model("y ~ x + (1 | gr(g, by = f))", d)
    assert len(model.ir.coords["obs"]) == 95


# -- the model against hand-written PyMC -------------------------------------------------------------

PRIORS = {
    "Intercept": "normal(1, 5)",
    "b": "normal(0, 2)",
    "sd": "half_normal(1.5)",
    "corr": "lkj(3)",
    "sigma": "exponential(1)",
    "sigma_Intercept": "normal(0, 1)",
    "sigma_sd": "half_normal(0.5)",
}


def priors(model_formula: str) -> dict[str, str]:
    """The PRIORS of the parameters ``model_formula`` has (a key that matches none is an error)."""
    sigma = "sigma ~" in model_formula
    correlated = "1 + x | gr" in model_formula and "cor = FALSE" not in model_formula
    unused = {"sigma", "sd"} if sigma else {"sigma_Intercept", "sigma_sd"}
    if not correlated:
        unused.add("corr")
    return {k: v for k, v in PRIORS.items() if k not in unused}


def _codes() -> tuple[np.ndarray, list[str], np.ndarray]:
    """Each row's level of g, the levels (sorted) and each level's code of f (a, b, c)."""
    d = frame()
    g, levels = pd.factorize(d["g"], sort=True)
    arm_of = d.groupby("g")["f"].first().loc[list(levels)]
    return g, list(levels), np.array([ARMS.index(a) for a in arm_of])


def _coords(k: int) -> dict[str, list[object]]:
    d = frame()
    _, levels, _ = _codes()
    coords: dict[str, list[object]] = {
        "obs": list(range(len(d))),
        "coef": ["x"],
        "g": levels,
        "g_by": list(ARMS),
    }
    if k == 2:
        coords |= {"g_term": ["Intercept", "x"], "g_term_pair": ["Intercept, x"]}
    return coords


def hand(kind: str) -> pm.Model:
    """``y ~ x + (… | gr(g, by = f))`` as brms writes it (scale_r_cor_by): level j's effects are
    sd[f_j] * (L[f_j] @ z_j), each arm with its own sds and Cholesky factor L."""
    d = frame()
    g, _, arm = _codes()
    x = d["x"].to_numpy()
    k = 1 if kind == "intercept" else 2
    with pm.Model(coords=_coords(k)) as model:
        intercept = pm.Normal("Intercept", 1.0, 5.0)
        b = pm.Normal("b", 0.0, 2.0, dims="coef")
        sd_dims = ("g_by", "g_term") if k == 2 else "g_by"
        sd = pm.HalfNormal("sd_g", 1.5, dims=sd_dims)
        if kind == "correlated":
            L = pm.LKJCorr("chol_g", n=2, eta=3.0, shape=(3, 2, 2))
            z = pm.Normal("z_g", 0.0, 1.0, dims=("g", "g_term"))
            r = sd[arm] * pt.sum(L[arm] * z[:, None, :], axis=-1)
        elif kind == "centred":
            L = pm.LKJCorr("chol_g", n=2, eta=3.0, shape=(3, 2, 2))
            mean = pt.stack([intercept, b[0]])
            beta = pm.MvNormal(
                "beta_g", mean, chol=sd[arm][:, :, None] * L[arm], dims=("g", "g_term")
            )
            r = beta - mean
        else:  # independent effects, or the intercept alone
            z = pm.Normal("z_g", 0.0, 1.0, dims=("g", "g_term") if k == 2 else "g")
            r = z * sd[arm]
        mu = intercept + x * b[0] + (r[g, 0] + r[g, 1] * x if k == 2 else r[g])
        pm.Normal("y", mu, pm.Exponential("sigma", 1.0), observed=d["y"].to_numpy(), dims="obs")
    return model


def hand_sigma() -> pm.Model:
    """``y ~ x; sigma ~ (1 | gr(g, by = f))``: log sigma's group intercepts, an sd per arm."""
    d = frame()
    g, _, arm = _codes()
    coords = _coords(1)
    coords["sigma_g_by"] = coords.pop("g_by")
    with pm.Model(coords=coords) as model:
        intercept = pm.Normal("Intercept", 1.0, 5.0)
        b = pm.Normal("b", 0.0, 2.0, dims="coef")
        sd = pm.HalfNormal("sigma_sd_g", 0.5, dims="sigma_g_by")
        z = pm.Normal("sigma_z_g", 0.0, 1.0, dims="g")
        log_sigma = pm.Normal("sigma_Intercept", 0.0, 1.0) + (z * sd[arm])[g]
        mu = intercept + d["x"].to_numpy() * b[0]
        pm.Normal("y", mu, pt.exp(log_sigma), observed=d["y"].to_numpy(), dims="obs")
    return model


MODELS = [
    ("correlated", "y ~ x + (1 + x | gr(g, by = f))", False, lambda: hand("correlated")),
    ("centred", "y ~ x + (1 + x | gr(g, by = f))", True, lambda: hand("centred")),
    ("independent", "y ~ x + (1 + x || gr(g, by = f))", False, lambda: hand("independent")),
    (
        "cor = FALSE",
        "y ~ x + (1 + x | gr(g, by = f, cor = FALSE))",
        False,
        lambda: hand("independent"),
    ),
    ("independent centred", "y ~ x + (1 + x || gr(g, by = f))", True, None),
    ("intercept", "y ~ x + (1 | gr(g, by = f))", False, lambda: hand("intercept")),
    ("sigma", "y ~ x; sigma ~ (1 | gr(g, by = f))", False, hand_sigma),
]


@pytest.mark.parametrize(
    ("case", "formula", "centered", "written"), MODELS, ids=[m[0] for m in MODELS]
)
def test_the_model_is_brms_scale_r_cor_by(case, formula, centered, written) -> None:
    model = hm.Model(formula, frame(), priors=priors(formula), centered=centered)
    if written is not None:
        assert_same_model(model.pymc, written())
    assert_same_model(model.pymc, model.pymc_rows, check_dims=False)


def test_the_independent_centred_block_is_normal_around_the_population() -> None:
    """(1 + x || gr(g, by = f)) centred: beta_g ~ Normal((Intercept, b[x]), sd_g[f])."""
    d = frame()
    g, _, arm = _codes()
    x = d["x"].to_numpy()
    with pm.Model(coords=_coords(2)) as written:
        intercept = pm.Normal("Intercept", 1.0, 5.0)
        b = pm.Normal("b", 0.0, 2.0, dims="coef")
        sd = pm.HalfNormal("sd_g", 1.5, dims=("g_by", "g_term"))
        mean = pt.stack([intercept, b[0]])
        r = pm.Normal("beta_g", mean, sd[arm], dims=("g", "g_term")) - mean
        mu = intercept + x * b[0] + r[g, 0] + r[g, 1] * x
        pm.Normal("y", mu, pm.Exponential("sigma", 1.0), observed=d["y"].to_numpy(), dims="obs")
    text = "y ~ x + (1 + x || gr(g, by = f))"
    model = hm.Model(text, frame(), priors=priors(text), centered=True)
    assert_same_model(model.pymc, written)


# -- the exported source --------------------------------------------------------------------------


def test_the_source_says_what_the_block_is_and_runs_without_hiermod() -> None:
    model = hm.Model(CORRELATED, frame(), priors=priors(CORRELATED), centered=False)
    source = model.source()
    assert "gr(g, by = f): a separate sd and correlation matrix per level of f" in source
    assert 'pm.LKJCorr("chol_g", n=2, eta=3.0, shape=(3, 2, 2))' in source
    assert "sd_g[g_by_idx] * (chol_g[g_by_idx] @ z_g[:, :, None])[:, :, 0]" in source
    _, _, arm = _codes()
    assert f"G_IN_F = ({', '.join(str(a) for a in arm)})" in source.replace("\n", "")
    namespace: dict[str, object] = {"__name__": "hiermod_generated"}
    exec(compile(source, "<generated>", "exec"), namespace)
    built = namespace["build_model"](frame())  # type: ignore[operator]
    assert_same_model(built, model.pymc)
    assert_same_model(built, hand("correlated"))


def test_the_reduced_and_streamed_models_and_their_sources_are_the_model() -> None:
    """Through per-cell statistics (in memory and streamed in chunks) the likelihood is the
    row-wise one; each exported module (both forms) builds the same model without hiermod."""
    from hiermod.model import stream_model

    d = frame()
    whole = hm.Model(CORRELATED, d, centered=False, suffstats=True)
    assert whole.ir.suffstats is not None
    streamed = stream_model(CORRELATED, lambda: (d.iloc[i : i + 30] for i in range(0, 96, 30)))
    assert_same_model(whole.pymc, whole.pymc_rows, check_dims=False)
    assert_same_model(streamed.pymc, whole.pymc, check_dims=False)
    for model, forms in ((whole, ({}, {"reduce": False})), (streamed, ({},))):
        namespace: dict[str, object] = {"__name__": "hiermod_generated"}
        exec(compile(model.source(), "<generated>", "exec"), namespace)
        for form in forms:
            built = namespace["build_model"](d, **form)  # type: ignore[operator]
            assert_same_model(built, whole.pymc, check_dims=False)


# -- summaries ------------------------------------------------------------------------------------


@functools.cache
def _prior_fit() -> tuple[hm.Model, object]:
    from fit_support import prior_fit

    model = hm.Model(CORRELATED, frame(), priors=priors(CORRELATED), centered=False)
    return model, prior_fit(model, chains=2, draws=50, seed=4)


def test_varcorr_and_correlations_have_a_row_per_term_and_level_of_f() -> None:
    """brms's names: sd_g__Intercept:fa, …, cor_g__Intercept:fa__x:fa."""
    model, idata = _prior_fit()
    table = model.varcorr(idata)
    rows = [t for g, t in table.index if g == "g"]
    assert rows == ["Intercept:fa", "x:fa", "Intercept:fb", "x:fb", "Intercept:fc", "x:fc"]
    sd = idata["posterior"]["sd_g"].values  # (chain, draw, by, term)
    np.testing.assert_allclose(table["mean"].to_numpy()[:6], sd.mean(axis=(0, 1)).ravel())
    corr = model.corr(idata)
    assert list(corr.index) == [("g", f"Intercept:f{a}", f"x:f{a}") for a in ARMS]
    chol = idata["posterior"]["chol_g"].values
    expected = (chol @ np.swapaxes(chol, -1, -2))[..., 0, 1].mean(axis=(0, 1))
    np.testing.assert_allclose(corr["mean"].to_numpy(), expected)


# -- prediction ---------------------------------------------------------------------------------


def test_predictions_at_known_levels_are_the_posterior_effects() -> None:
    model, idata = _prior_fit()
    post = idata["posterior"]
    new = pd.DataFrame({"x": [0.5, -1.0], "g": ["s4", "s11"], "f": ["b", "c"]})
    mu = model.predict(idata, new, kind="mean").values
    r = post["r_g"]
    for row, (xv, level) in enumerate(zip(new["x"], new["g"], strict=True)):
        effects = r.sel(g=level).values
        expected = post["Intercept"].values + post["b"].values[..., 0] * xv
        expected = expected + effects[..., 0] + effects[..., 1] * xv
        np.testing.assert_allclose(mu[..., row], expected, rtol=1e-10)


def test_a_new_level_takes_the_sd_of_its_level_of_f() -> None:
    """sd fixed at 0.05 in arm a and 4 in arm c: a new subject of a varies by ~0.05, of c by ~4."""
    from fit_support import prior_fit

    text = "y ~ x + (1 | gr(g, by = f))"
    model = hm.Model(text, frame(), priors=priors(text))
    idata = prior_fit(model, chains=2, draws=1000, seed=5)
    post = idata["posterior"]
    post["sd_g"].values[:] = [0.05, 1.0, 4.0]
    post["Intercept"].values[:] = 0.0
    new = pd.DataFrame({"x": [0.0, 0.0], "g": ["new_a", "new_c"], "f": ["a", "c"]})
    mu = model.predict(idata, new, kind="mean", new_levels="population", random_seed=2).values
    np.testing.assert_allclose(mu.reshape(-1, 2).std(axis=0), [0.05, 4.0], rtol=0.08)


def test_new_data_that_break_the_nesting_or_have_a_new_f_are_errors() -> None:
    model, idata = _prior_fit()
    moved = pd.DataFrame({"x": [0.0], "g": ["s4"], "f": ["a"]})  # s4 is in arm b
    with pytest.raises(
        DataError, match="'s4' is in 'b' of 'f' in the fit, and in 'a' in these rows"
    ):
        model.predict(idata, moved)
    unseen_arm = pd.DataFrame({"x": [0.0], "g": ["new"], "f": ["d"]})
    with pytest.raises(UnseenLevelError, match="'d'"):
        model.predict(idata, unseen_arm, new_levels="population")


def test_without_the_by_column_each_level_keeps_its_level_of_f() -> None:
    """Rows with only g (as conditional_effects' grid has) read f off the fit; a new level
    cannot, and a left-out block needs nothing."""
    model, idata = _prior_fit()
    both = pd.DataFrame({"x": [0.5, 0.5], "g": ["s4", "s11"], "f": ["b", "c"]})
    only_g = both.drop(columns="f")
    np.testing.assert_array_equal(
        model.predict(idata, only_g, kind="mean").values,
        model.predict(idata, both, kind="mean").values,
    )
    with pytest.raises(DataError, match="needs the column 'f' for the levels of 'g' the fit never"):
        model.predict(idata, pd.DataFrame({"x": [0.0], "g": ["new"]}), new_levels="population")
    population = model.predict(idata, pd.DataFrame({"x": [0.0, 1.0]}), kind="mean", groups=False)
    post = idata["posterior"]
    expected = post["Intercept"].values[..., None] + post["b"].values[..., 0, None] * [0.0, 1.0]
    np.testing.assert_allclose(population.values, expected, rtol=1e-10)
    effects = model.conditional_effects(idata, "x")  # group effects left out by default
    at = pd.DataFrame({"x": effects.frame["x"].to_numpy()})
    expected = model.predict(idata, at, kind="mean", groups=False).values
    np.testing.assert_allclose(effects.draws.values, expected, rtol=1e-10)


# -- recovery -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_recovers_a_separate_sd_per_level_of_f() -> None:
    """40 subjects per arm, true intercept sds 0.3 (arm a) and 1.5 (arm b): each 90% interval
    covers the sd of its arm's simulated effects (0.350 and 1.589 at this seed), each mean is
    within 15% of it (measured 0.383, 1.637), and the two are told apart."""
    rng = np.random.default_rng(8)
    n_subjects, rows = 80, 10
    subject = np.repeat(np.arange(n_subjects), rows)
    arm = np.where(subject < 40, "a", "b")
    sd = np.where(np.arange(n_subjects) < 40, 0.3, 1.5)
    effect = rng.normal(0.0, 1.0, n_subjects) * sd
    realised = [effect[:40].std(ddof=1), effect[40:].std(ddof=1)]
    y = 2.0 + effect[subject] + rng.normal(0.0, 0.5, subject.size)
    d = pd.DataFrame({"y": y, "g": [f"p{i}" for i in subject], "f": arm})
    model = hm.Model("y ~ 1 + (1 | gr(g, by = f))", d)
    # 4 chains: over 2 chains of 1000 draws the R-hat of a level effect landed at 1.011 in one
    # full-suite run (hiermod's check fails the test at 1.01) while the test alone gives < 1.01
    idata = model.fit(draws=1000, tune=1000, chains=4, random_seed=3)
    draws = idata["posterior"]["sd_g"].values.reshape(-1, 2)
    low, high = np.quantile(draws, [0.05, 0.95], axis=0)
    assert (low < realised).all(), (low, realised)
    assert (realised < high).all(), (high, realised)
    np.testing.assert_allclose(draws.mean(axis=0), realised, rtol=0.15)
    assert high[0] < low[1]
