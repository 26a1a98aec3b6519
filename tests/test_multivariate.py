"""Multivariate responses (brms's ``mvbind``; docs/terms.md, "Multivariate responses"): the
spelling and its errors, the PyMC model against hand-written ones (with and without residual
correlation), predictions against NumPy, the exported source, and a recovery of the correlation."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import pytest
import xarray as xr
from fit_support import multivariate_data as _data
from support import assert_same_model

import hiermod as hm
from hiermod.errors import DataError, FamilyError, FormulaError, OptionError, UnseenLevelError
from hiermod.formula.multivariate import split_responses
from hiermod.formula.parser import parse_syntax
from hiermod.multivariate import MultivariateModel
from hiermod.output.module import load_module
from hiermod.output.source_multivariate import rescor_labels
from hiermod.warnings import DataWarning, SamplingWarning

REFERENCE = Path(__file__).resolve().parents[1] / "benchmarks" / "reference" / "mvbind_brms"

PARSE = [
    # text, each response's formula, the canonical text
    (
        "mvbind(y1, y2) ~ x + (1 | g)",
        ["y1 ~ 1 + x + (1 | g)", "y2 ~ 1 + x + (1 | g)"],
        "mvbind(y1, y2) ~ 1 + x + (1 | g)",
    ),
    (
        "mvbind(y1, y2) ~ x\nmu_y2 ~ z + (1 | g)",
        ["y1 ~ 1 + x", "y2 ~ 1 + z + (1 | g)"],
        "mvbind(y1, y2) ~ 1 + x; mu_y2 ~ 1 + z + (1 | g)",
    ),
    (
        "mvbind(a, b, c) ~ x; sigma_b ~ g; sigma_a ~ x",
        ["a ~ 1 + x; sigma ~ 1 + x", "b ~ 1 + x; sigma ~ 1 + g", "c ~ 1 + x"],
        "mvbind(a, b, c) ~ 1 + x; sigma_a ~ 1 + x; sigma_b ~ 1 + g",
    ),
    (  # the longest response that fits owns the name: sigma_y_1 is y_1's, not 1's
        "mvbind(y_1, y) ~ x; sigma_y_1 ~ x",
        ["y_1 ~ 1 + x; sigma ~ 1 + x", "y ~ 1 + x"],
        "mvbind(y_1, y) ~ 1 + x; sigma_y_1 ~ 1 + x",
    ),
]


@pytest.mark.parametrize(("text", "each", "canonical"), PARSE)
def test_parse_and_round_trip(text: str, each: list[str], canonical: str) -> None:
    formula = split_responses(parse_syntax(text))
    assert [str(f) for f in formula.formulas] == each
    assert str(formula) == canonical
    assert split_responses(parse_syntax(str(formula))) == formula
    assert hm.parse(text) == formula
    assert formula.tree().count("response  ") == len(each)


FORMULA_ERRORS = [
    ("mvbind(y1) ~ x", "at least two responses", "^^^^^^^^^^"),
    ("mvbind(y1, y1) ~ x", "names the column 'y1' twice", "^^"),
    ("mvbind(y1, log(y2)) ~ x", "takes column names, not log(y2)", "^^^^^^^"),
    ("mvbind(y1, y2) ~ x; sigma ~ x", "a later formula names its response", "^^^^^"),
    ("mvbind(y1, y2) ~ x; mu_y2 ~ z; mu_y2 ~ x", "two formulas for mu_y2", "^^^^^"),
    ("mvbind(y1, y2) | weights(w) ~ x", "addition terms", "^^^^^^^^^^"),
    # one ID, one grouping, across responses as within one
    (
        "mvbind(y1, y2) ~ x; mu_y1 ~ x + (1 | p | g); mu_y2 ~ z + (1 | p | h)",
        "the ID p joins the groupings g (y1) and h (y2)",
        "^^^^^^^^^^^",
    ),
]


def test_an_id_within_one_response_joins_its_formulas() -> None:
    """``(1 | q | g)`` in y2's mu and sigma: one LKJ over both, as in a univariate model."""
    formula = split_responses(
        parse_syntax("mvbind(y1, y2) ~ x; sigma_y2 ~ (1 | q | g); mu_y2 ~ z + (1 | q | g)")
    )
    assert [b.block_id for b in formula.of("y2").main.blocks] == ["q"]
    assert [b.block_id for b in formula.of("y2").dpars["sigma"].blocks] == ["q"]
    assert formula.of("y1").main.blocks == ()


@pytest.mark.parametrize(("text", "message", "caret"), FORMULA_ERRORS)
def test_formula_errors(text: str, message: str, caret: str) -> None:
    with pytest.raises(FormulaError, match=re.escape(message)) as error:
        split_responses(parse_syntax(text))
    assert caret in str(error.value)


PRIORS = {
    "y1_Intercept": "normal(0, 5)",
    "y1_b": "normal(0, 2)",
    "y1_sd_g": "half_normal(1)",
    "sigma_y1": "exponential(1)",
    "y2_Intercept": "normal(1, 4)",
    "y2_b": "normal(0, 3)",
    "y2_sd_g": "half_normal(2)",
    "sigma_y2": "exponential(2)",
}


def _hand_written(data: pd.DataFrame, *, rescor: bool) -> pm.Model:
    """The model of mvbind(y1, y2) ~ x + (1 | g), mu_y2 ~ z + (1 | g) with PRIORS, by hand."""
    levels = sorted(data["g"].unique())
    g = np.searchsorted(levels, data["g"])
    columns = {"y1": data["x"].to_numpy(), "y2": data["z"].to_numpy()}
    priors = {"y1": (0, 5, 2, 1, 1), "y2": (1, 4, 3, 2, 2)}
    with pm.Model() as model:
        mus, sigmas = [], []
        for r in ("y1", "y2"):
            loc, scale, b_scale, sd_scale, rate = priors[r]
            intercept = pm.Normal(f"{r}_Intercept", loc, scale)
            b = pm.Normal(f"{r}_b", 0, b_scale, shape=1)
            sd = pm.HalfNormal(f"{r}_sd_g", sd_scale)
            z = pm.Normal(f"{r}_z_g", 0, 1, shape=len(levels))
            mus.append(intercept + columns[r] * b[0] + (z * sd)[g])
            sigmas.append(pm.Exponential(f"sigma_{r}", rate))
        observed = data[["y1", "y2"]].to_numpy()
        if rescor:
            chol_corr = pm.LKJCorr("Lrescor", n=2, eta=1.0)
            chol = pt.stack(sigmas)[:, None] * chol_corr
            pm.MvNormal("Y", mu=pt.stack(mus, axis=1), chol=chol, observed=observed)
        else:
            for k, r in enumerate(("y1", "y2")):
                pm.Normal(r, mus[k], sigmas[k], observed=observed[:, k])
    return model


FORMULA = "mvbind(y1, y2) ~ x + (1 | g)\nmu_y2 ~ z + (1 | g)"


@pytest.mark.parametrize("rescor", [True, False])
def test_logp_and_gradient_equal_a_hand_written_model(rescor: bool) -> None:
    data = _data()
    m = hm.Model(FORMULA, data, priors=PRIORS, rescor=rescor, centered=False)
    assert isinstance(m, MultivariateModel)
    assert_same_model(m.pymc, _hand_written(data, rescor=rescor), check_dims=False)


def test_rescor_needs_gaussian_responses() -> None:
    data = _data()
    with pytest.raises(FamilyError, match=re.escape("n (poisson)")):
        hm.Model("mvbind(y1, n) ~ x", data, family={"n": "poisson"}, rescor=True)
    mixed = hm.Model("mvbind(y1, n) ~ x", data, family={"n": "poisson"})
    assert not mixed.rescor  # brms: rescor only for gaussian responses
    assert "Lrescor" not in mixed.pymc.named_vars
    assert {v.name for v in mixed.pymc.observed_RVs} == {"y1", "n"}
    assert hm.Model("mvbind(y1, y2) ~ x", data).rescor  # brms's default for gaussian ones


@pytest.mark.parametrize("method", ["pymc_rows", "from_idata"])
def test_a_univariate_method_it_lacks_is_a_clear_error(method: str) -> None:
    m = hm.Model("mvbind(y1, y2) ~ x", _data())
    with pytest.raises(OptionError, match=f"{method} is not available for a multivariate model"):
        getattr(m, method)
    with pytest.raises(AttributeError, match="no attribute 'no_such_method'"):
        m.no_such_method  # noqa: B018 - not a method of hm.Model either: a plain AttributeError


def test_an_unknown_sampler_is_refused() -> None:
    with pytest.raises(OptionError, match="'pymc', 'nutpie' or 'auto'"):
        hm.Model("mvbind(y1, y2) ~ x", _data()).fit(sampler="stan")


def test_a_response_missing_from_the_data() -> None:
    with pytest.raises(DataError, match="'y3' is not in the data"):
        hm.Model("mvbind(y1, y3) ~ x", _data())


def test_rows_missing_a_response_are_dropped_with_counts() -> None:
    data = _data()
    data.loc[[0, 1], "y1"] = np.nan
    data.loc[[2, 3], "y2"] = np.nan
    data.loc[5, "x"] = np.nan
    with pytest.warns(
        DataWarning, match=r"dropped 5 of 80 rows .*'x' \(1 row\), 'y1' \(2 rows\), 'y2' \(2 rows\)"
    ):
        m = hm.Model("mvbind(y1, y2) ~ x", data)
    assert len(m.data) == 75
    assert m.pymc["Y"].eval().shape == (75, 2)  # type: ignore[attr-defined]
    with pytest.raises(DataError, match="missing values"):
        hm.Model("mvbind(y1, y2) ~ x", data, na_action="raise")


def test_priors_by_response_and_an_unknown_key() -> None:
    m = hm.Model(FORMULA, _data(), priors={"y2_b": "normal(0, 7)", "sigma_y1": "exponential(3)"})
    table = m.priors
    rows = table.set_index(table.columns[0])
    assert "normal(0, 7)" in str(rows.loc["y2_b"].to_dict())
    assert "exponential(3)" in str(rows.loc["sigma_y1"].to_dict())
    assert "normal(0, 7)" not in str(rows.loc["y1_b"].to_dict())
    with pytest.raises(OptionError, match="names no response"):
        hm.Model(FORMULA, _data(), priors={"b": "normal(0, 1)"})
    lkj = hm.Model(FORMULA, _data(), priors={"rescor": "lkj(3)"})  # brms: class = rescor
    assert 'pm.LKJCorr("Lrescor", n=2, eta=3.0)' in lkj.source()
    assert "lkj_corr_cholesky(3)" in lkj.priors.to_string()
    with pytest.raises(OptionError, match="lkj"):
        hm.Model(FORMULA, _data(), priors={"rescor": "normal(0, 1)"})


def test_describe_tags_names_and_dims_by_response() -> None:
    table = hm.Model(FORMULA, _data()).describe()
    assert table.loc["y1_b", "dims"] == "y1_coef"
    assert table.loc["y2_b", "response"] == "y2"
    assert table.loc["rescor", "dims"] == "response_pair"
    assert table.loc["Lrescor", "prior"] == "lkj_corr_cholesky(1)"
    assert not table.isna().any().any()


def _one_point(m: MultivariateModel, draws: int, seed: int = 3) -> xr.DataTree:
    """A 'posterior' of ``draws`` copies of one prior draw (the oracle then knows the truth)."""
    with m.pymc:
        prior = pm.sample_prior_predictive(draws=1, random_seed=seed)["prior"].to_dataset()
    copies = prior.isel(draw=[0] * draws).assign_coords(draw=np.arange(draws))
    return xr.DataTree.from_dict({"posterior": copies})


def _oracle_mean(post: xr.Dataset, new: pd.DataFrame, levels: list[str]) -> np.ndarray:
    g = np.searchsorted(levels, new["g"])
    out = []
    for r, column in (("y1", "x"), ("y2", "z")):
        intercept = post[f"{r}_Intercept"].to_numpy()[..., None]
        b = post[f"{r}_b"].to_numpy()[..., 0, None]
        effects = post[f"{r}_r_g"].to_numpy()[..., g]
        out.append(intercept + b * new[column].to_numpy() + effects)
    return np.stack(out, axis=-1)


@pytest.mark.parametrize("rescor", [True, False])
def test_predictions_at_new_rows_equal_numpy(rescor: bool) -> None:
    data = _data()
    m = hm.Model(FORMULA, data, priors=PRIORS, rescor=rescor)
    with m.pymc:
        prior = pm.sample_prior_predictive(draws=30, random_seed=2)["prior"].to_dataset()
    fit = xr.DataTree.from_dict({"posterior": prior})
    new = pd.DataFrame({"x": [0.0, 1.5, -2.0], "z": [1.0, 0.0, 0.5], "g": ["g3", "g0", "g3"]})
    mean = m.predict(fit, new, kind="mean")
    assert mean.dims == ("chain", "draw", "obs", "response")
    assert list(mean["response"].values) == ["y1", "y2"]
    levels = sorted(data["g"].unique())
    np.testing.assert_allclose(mean.to_numpy(), _oracle_mean(prior, new, levels), rtol=1e-10)


def test_response_draws_respect_the_residual_correlation() -> None:
    data = _data()
    m = hm.Model(FORMULA, data, priors=PRIORS)
    fit = _one_point(m, draws=4000)
    point = fit["posterior"].to_dataset().isel(chain=0, draw=0)
    new = pd.DataFrame({"x": [0.0, 1.0], "z": [0.5, -1.0], "g": ["g1", "g2"]})
    draws = m.predict(fit, new, kind="response", random_seed=5).to_numpy()[0]  # (draw, obs, resp)
    mean = m.predict(fit, new, kind="mean").to_numpy()[0]
    residuals = (draws - mean).reshape(-1, 2)
    sigma = np.array([float(point["sigma_y1"]), float(point["sigma_y2"])])
    rho = float(point["rescor"][0])
    cov = np.outer(sigma, sigma) * np.array([[1, rho], [rho, 1]])
    # the empirical covariance of 8000 draws: within 5 standard errors of each entry
    se = np.sqrt((cov**2 + np.outer(np.diag(cov), np.diag(cov))) / len(residuals))
    assert np.all(np.abs(np.cov(residuals.T) - cov) < 5 * se)


def test_exported_source_round_trip() -> None:
    data = _data()
    m = hm.Model(FORMULA, data, priors=PRIORS)
    source = m.source()
    compile(source, "model.py", "exec")
    standalone = load_module(source, "exported").build_model(data)
    assert sorted(standalone.named_vars) == sorted(m.pymc.named_vars)
    point = m.pymc.initial_point()
    fast = {"mode": "FAST_COMPILE"}
    ours = m.pymc.compile_logp(**fast)(point)
    assert standalone.compile_logp(**fast)(point) == pytest.approx(ours, rel=1e-12)
    assert "Lrescor = pm.LKJCorr(" in source
    assert "pm.MvNormal(" in source


@pytest.mark.slow
def test_the_residual_correlation_is_recovered() -> None:
    data = _data(n=500, seed=11, rho=0.5)
    m = hm.Model("mvbind(y1, y2) ~ x + z + (1 | g)", data)
    # 5 groups: the group sds mix slowly (R-hat 1.012 for y2_sd_g at 2 x 500, brms has 26
    # divergences on these data); the warning is expected, the rescor's own R-hat is checked below
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        fit = m.fit(draws=500, tune=500, chains=2, random_seed=3)
    summary = m.rescor_summary(fit)
    row = summary.loc["rescor__y1__y2"]
    assert abs(row["mean"] - 0.5) < 3 * row["sd"], summary
    draws = fit["posterior"]["rescor"].to_numpy()[..., 0]
    within = draws.var(axis=1, ddof=1).mean()
    between = draws.mean(axis=1).var(ddof=1) * draws.shape[1]
    n = draws.shape[1]
    rhat = np.sqrt(((n - 1) / n * within + between / n) / within)
    assert rhat < 1.05


def test_fixef_rows_per_response_rescor_rows_and_the_graph() -> None:
    data = _data()
    m = hm.Model("mvbind(y1, y2) ~ x; mu_y2 ~ z; sigma_y1 ~ x", data)
    with m.pymc:
        prior = pm.sample_prior_predictive(draws=40, random_seed=4)["prior"].to_dataset()
    fit = xr.DataTree.from_dict({"posterior": prior})
    table = m.fixef(fit)
    expected = ["y1_Intercept", "y1_x", "sigma_y1_Intercept", "sigma_y1_x", "y2_Intercept", "y2_z"]
    assert list(table.index) == expected
    assert table.loc["y2_z", "mean"] == pytest.approx(float(prior["y2_b"].mean()))
    rescor = m.rescor_summary(fit)
    assert list(rescor.index) == ["rescor__y1__y2"]
    assert rescor.iloc[0]["mean"] == pytest.approx(float(prior["rescor"].mean()))
    dot = m.graph("dot")
    for name in ("Lrescor", "sigma_y1_b", "y2_b", "Y"):
        assert name in dot


def test_group_summaries_are_each_responses_on_its_part_of_the_fit() -> None:
    """varcorr, corr, ranef and coef: each response's univariate table read off the joint draws
    (y1's rows from y1_sd_g, y1_r_g, sigma_y1), under a response level."""
    data = _data()
    m = hm.Model("mvbind(y1, y2) ~ x + (1 + x | g); mu_y2 ~ z + (1 | g)", data)
    with m.pymc:
        prior = pm.sample_prior_predictive(draws=40, random_seed=6)["prior"].to_dataset()
    fit = xr.DataTree.from_dict({"posterior": prior})
    post = prior
    table = m.varcorr(fit)
    assert list(table.index) == [
        ("y1", "g", "Intercept"),
        ("y1", "g", "x"),
        ("y1", "Residual", "sigma"),
        ("y2", "g", "Intercept"),
        ("y2", "Residual", "sigma"),
    ]
    sd = post["y1_sd_g"].values.reshape(-1, 2)
    np.testing.assert_allclose(table["mean"].to_numpy()[:2], sd.mean(axis=0))
    assert table.loc[("y2", "Residual", "sigma"), "mean"] == pytest.approx(
        float(post["sigma_y2"].mean())
    )
    corr = m.corr(fit)
    assert list(corr.index) == [("y1", "g", "Intercept", "x")]
    assert corr["mean"].iloc[0] == pytest.approx(float(post["y1_corr_g"].mean()))
    ranef = m.ranef(fit)
    assert set(ranef) == {"y1", "y2"}
    level = ranef["y2"]["g"].loc["g3"]
    assert level[("mean", "Intercept")] == pytest.approx(float(post["y2_r_g"].sel(g="g3").mean()))
    coef = m.coef(fit)
    own = post["y1_Intercept"] + post["y1_r_g"].sel(g="g0", y1_g_term="Intercept")
    assert coef["y1"]["g"].loc["g0"][("estimate", "Intercept")] == pytest.approx(float(own.mean()))


def test_an_unseen_level_at_prediction_is_a_clear_error() -> None:
    m = hm.Model("mvbind(y1, y2) ~ x + (1 | g)", _data())
    with m.pymc:
        prior = pm.sample_prior_predictive(draws=5, random_seed=1)["prior"].to_dataset()
    fit = xr.DataTree.from_dict({"posterior": prior})
    new = pd.DataFrame({"x": [0.0, 1.0], "z": [0.0, 0.0], "g": ["g1", "G2"]})
    with pytest.raises(UnseenLevelError, match="1 level of 'g' the fit never saw: 'G2'") as info:
        m.predict(fit, new)
    assert "did you mean 'g2'" in str(info.value)
    assert "pass new_levels='population'" in str(info.value)
    assert m.predict(fit, new.iloc[:1]).shape == (1, 5, 1, 2)
    with pytest.raises(OptionError, match="new_levels"):
        m.predict(fit, new, new_levels="draw")


def _fixed(fit: xr.DataTree, **values: object) -> xr.DataTree:
    """``fit`` with the named variables set to one value in every draw."""
    posterior = fit["posterior"].to_dataset()
    for name, value in values.items():
        posterior[name] = xr.full_like(posterior[name], 0.0) + np.asarray(value)
    return xr.DataTree.from_dict({"posterior": posterior})


def test_new_levels_are_drawn_from_each_responses_population() -> None:
    """``new_levels="population"``: a new level's effect is a draw of Normal(0, sd) per posterior
    draw, each response with its own sd (fixed here at 0.05 and 4), shared by the level's rows;
    the known levels' predictions are those of ``new_levels="error"``."""
    data = _data()
    m = hm.Model(FORMULA, data, priors=PRIORS, rescor=True)
    fit = _fixed(_one_point(m, draws=4000), y1_sd_g=0.05, y2_sd_g=4.0)
    new = pd.DataFrame(
        {"x": [0.0, 0.0, 1.0], "z": [0.0, 0.0, 2.0], "g": ["new", "new", "g2"]}, index=[7, 8, 9]
    )
    mean = m.predict(fit, new, kind="mean", new_levels="population", random_seed=4)
    assert list(mean["obs"].values) == [7, 8, 9]
    np.testing.assert_array_equal(mean.sel(obs=7).to_numpy(), mean.sel(obs=8).to_numpy())
    post = fit["posterior"].to_dataset()
    population = np.stack(
        [post["y1_Intercept"].to_numpy(), post["y2_Intercept"].to_numpy()], axis=-1
    )
    effects = (mean.sel(obs=7).to_numpy() - population).reshape(-1, 2)
    assert effects.std(axis=0) == pytest.approx([0.05, 4.0], rel=0.08)
    assert np.all(np.abs(effects.mean(axis=0)) < 4 * np.array([0.05, 4.0]) / np.sqrt(4000))
    known = m.predict(fit, new.iloc[2:], kind="mean")
    np.testing.assert_allclose(mean.sel(obs=[9]).to_numpy(), known.to_numpy(), rtol=1e-12)


def test_new_levels_of_an_id_across_responses_are_drawn_jointly() -> None:
    """``(1 | p | g)`` across responses: a new level's effects (y1's, y2's) are one draw of the
    union's MvNormal(0, Sigma): with sds 1, 2 and correlation 0.9 fixed in every draw, the
    drawn effects' covariance is Sigma (within 5 standard errors of each entry)."""
    data = _data()
    m = hm.Model("mvbind(y1, y2) ~ x + (1 | p | g)", data, rescor=False)
    packed = [1.0, 0.9 * 2.0, 2.0 * np.sqrt(1 - 0.81)]  # the Cholesky factor's lower triangle
    fit = _fixed(_one_point(m, draws=6000), chol_g_id_p=packed)
    new = pd.DataFrame({"x": [0.0], "z": [0.0], "g": ["new"]})
    mean = m.predict(fit, new, kind="mean", new_levels="population", random_seed=2)
    post = fit["posterior"].to_dataset()
    population = np.stack(
        [post["y1_Intercept"].to_numpy(), post["y2_Intercept"].to_numpy()], axis=-1
    )
    effects = (mean.to_numpy()[:, :, 0] - population).reshape(-1, 2)
    cov = np.array([[1.0, 1.8], [1.8, 4.0]])
    se = np.sqrt((cov**2 + np.outer(np.diag(cov), np.diag(cov))) / len(effects))
    assert np.all(np.abs(np.cov(effects.T) - cov) < 5 * se)


def _prior_fit(m: MultivariateModel, draws: int = 30) -> xr.DataTree:
    with m.pymc:
        prior = pm.sample_prior_predictive(draws=draws, random_seed=2)["prior"].to_dataset()
    return xr.DataTree.from_dict({"posterior": prior})


@pytest.mark.parametrize("rescor", [True, False])
def test_groups_false_predicts_the_population_level_terms(rescor: bool) -> None:
    data = _data()
    m = hm.Model(FORMULA, data, priors=PRIORS, rescor=rescor)
    fit = _prior_fit(m)
    post = fit["posterior"].to_dataset()
    new = pd.DataFrame({"x": [0.0, 1.5], "z": [1.0, 0.5]})  # no g: only left-out blocks read it
    mean = m.predict(fit, new, groups=False).to_numpy()
    for k, (r, column) in enumerate((("y1", "x"), ("y2", "z"))):
        b = post[f"{r}_b"].to_numpy()[..., 0, None]
        population = post[f"{r}_Intercept"].to_numpy()[..., None] + b * new[column].to_numpy()
        np.testing.assert_allclose(mean[..., k], population, rtol=1e-10)
    with pytest.raises(OptionError, match="not a grouping of the model"):
        m.predict(fit, new, groups="h")


def test_conditional_effects_per_response_equal_its_predictions() -> None:
    """brms's conditional_effects of a multivariate model: one result per response that reads the
    variable, each equal to that response's predictions at the grid rows (population level)."""
    data = _data()
    m = hm.Model("mvbind(y1, y2) ~ x + (1 | g)\nmu_y2 ~ x + z + (1 | g)", data, priors=PRIORS)
    fit = _prior_fit(m)
    both = m.conditional_effects(fit, "x", resolution=5, prob=0.9)
    assert list(both) == ["y1", "y2"]
    only = m.conditional_effects(fit, "z", resolution=5)
    assert list(only) == ["y2"]
    frame = both["y2"].frame
    assert list(frame.columns) == ["x", "z", "estimate", "lower_90", "upper_90"]
    predicted = m.predict(fit, frame[["x", "z"]], groups=False).sel(response="y2")
    flat = predicted.to_numpy().reshape(-1, 5)
    np.testing.assert_allclose(frame["estimate"], flat.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(frame["lower_90"], np.quantile(flat, 0.05, axis=0), rtol=1e-12)
    one = m.conditional_effects(fit, "x", response="y1", resolution=5).frame
    assert list(one.columns[:1]) == ["x"]
    assert "z" not in one.columns  # y1 does not read z
    post = fit["posterior"].to_dataset()
    expected = (
        post["y1_Intercept"].to_numpy()[..., None]
        + post["y1_b"].to_numpy()[..., 0, None] * one["x"].to_numpy()
    )
    np.testing.assert_allclose(one["estimate"], expected.mean(axis=(0, 1)), rtol=1e-10)
    slopes = m.slopes(fit, "x", response="y1").frame
    assert float(slopes["estimate"].iloc[0]) == pytest.approx(float(post["y1_b"].mean()), rel=1e-6)
    with pytest.raises(OptionError, match="no response's formula reads w"):
        m.conditional_effects(fit, "w")
    with pytest.raises(OptionError, match="response='y3' is not a response"):
        m.conditional_effects(fit, "x", response="y3")


def test_the_graph_has_each_responses_words_and_clusters() -> None:
    """Each response's nodes carry its plan's words under their tagged names, its blocks are
    clusters labelled with the response; the union of a shared ID and the residual correlation
    have words of their own."""
    m = hm.Model(
        "mvbind(y1, y2) ~ x + (1 | p | g)\nmu_y2 ~ z + (1 | p | g) + (1 | h)",
        _data().assign(h=lambda d: d["g"].str[-1:]),
    )
    source = m.graph("dot")
    node = re.compile(r"^\s*([A-Za-z_]\w*) \[label=<(.*)> ")
    titles = {k.group(1): k.group(2) for line in source.splitlines() if (k := node.match(line))}
    assert titles["y1_b"].startswith("y1: x slope<BR/>")
    assert "y1_b ~ " in titles["y1_b"]
    assert titles["y2_b"].startswith("y2: z slope<BR/>")
    assert titles["sigma_y1"].startswith("y1: ")
    assert titles["z_g_id_p"].startswith("standardised effects by g")
    assert titles["Lrescor"].startswith("Cholesky factor of the<BR/>residual correlation")
    clusters = re.findall(r'label="([^"]*)" labeljust=l', source)
    assert clusters == ["y1: (1 | p | g)", "y2: (1 | p | g)", "y2: (1 | h)"]


def _hand_shared(data: pd.DataFrame) -> pm.Model:
    """mvbind(y1, y2) ~ x + (1 | p | g); sigma_y1 ~ (1 | p | g) by hand: one LKJ over
    (y1_Intercept, sigma_y1_Intercept, y2_Intercept), brms's order, rescor on."""
    levels = sorted(data["g"].unique())
    g = np.searchsorted(levels, data["g"])
    x = data["x"].to_numpy()
    labels = ["y1_Intercept", "sigma_y1_Intercept", "y2_Intercept"]
    with pm.Model(coords={"g": levels, "g_id_p_term": labels}) as model:
        chol, _, _ = pm.LKJCholeskyCov(
            "chol_g_id_p",
            n=3,
            eta=3.0,
            sd_dist=pm.HalfNormal.dist(sigma=np.array([1.0, 0.5, 2.0]), shape=3),
            compute_corr=True,
            store_in_trace=False,
        )
        r = pm.Normal("z_g_id_p", 0.0, 1.0, dims=("g", "g_id_p_term")) @ chol.T
        mu1 = pm.Normal("y1_Intercept", 0, 5) + x * pm.Normal("y1_b", 0, 2, shape=1)[0] + r[g, 0]
        sigma1 = pt.exp(pm.Normal("sigma_y1_Intercept", 0, 1) + r[g, 1])
        mu2 = pm.Normal("y2_Intercept", 1, 4) + x * pm.Normal("y2_b", 0, 3, shape=1)[0] + r[g, 2]
        sigma2 = pm.Exponential("sigma_y2", 2.0)
        lrescor = pm.LKJCorr("Lrescor", n=2, eta=1.0)
        sigma = pt.stack([sigma1, pt.broadcast_to(sigma2, sigma1.shape)], axis=1)
        pm.MvNormal(
            "Y",
            mu=pt.stack([mu1, mu2], axis=1),
            chol=sigma[:, :, None] * lrescor,
            observed=data[["y1", "y2"]].to_numpy(),
        )
    return model


SHARED = "mvbind(y1, y2) ~ x + (1 | p | g); sigma_y1 ~ (1 | p | g)"
SHARED_PRIORS = {
    "y1_Intercept": "normal(0, 5)",
    "y1_b": "normal(0, 2)",
    "y1_sd": "half_normal(1)",
    "sigma_y1_Intercept": "normal(0, 1)",
    "sigma_y1_sd": "half_normal(0.5)",
    "y2_Intercept": "normal(1, 4)",
    "y2_b": "normal(0, 3)",
    "y2_sd": "half_normal(2)",
    "sigma_y2": "exponential(2)",
    "y1_corr": "lkj(3)",
    "y2_corr": "lkj(3)",
}


def test_an_id_shared_by_responses_is_one_lkj_over_their_effects() -> None:
    """brms's cross-response correlation: one LKJ over y1's mu and sigma and y2's effects of g,
    against the hand-written model; the exported module builds it without hiermod."""
    data = _data()
    m = hm.Model(SHARED, data, priors=SHARED_PRIORS)
    assert_same_model(m.pymc, _hand_shared(data), check_dims=False)
    source = m.source()
    assert source.count("pm.LKJCholeskyCov(") == 1
    assert "y2_r_g_id_p = r_g_id_p[..., 2:3]" in source
    namespace: dict[str, object] = {"__name__": "hiermod_generated"}
    exec(compile(source, "<generated>", "exec"), namespace)
    assert_same_model(namespace["build_model"](data), m.pymc)  # type: ignore[operator]


def test_summaries_of_a_shared_id_read_the_union() -> None:
    """Each response's view holds its own joint cut from the union (its effects r = z @ chol.T
    are the fit's); corr adds the cross-response pairs; describe lists the union."""
    from hiermod.inference.response_views import response_view

    data = _data()
    m = hm.Model(SHARED, data, priors=SHARED_PRIORS)
    with m.pymc:
        prior = pm.sample_prior_predictive(draws=30, random_seed=8)["prior"].to_dataset()
    fit = xr.DataTree.from_dict({"posterior": prior})
    view = response_view(m.models["y1"].ir, "y1", fit)["posterior"]
    packed = view["chol_g_id_p"].values
    chol = np.zeros((*packed.shape[:2], 2, 2))
    chol[..., *np.tril_indices(2)] = packed
    effects = np.einsum("cdlk,cdjk->cdlj", view["z_g_id_p"].values, chol)
    np.testing.assert_allclose(effects[..., 0], prior["y1_r_g"].values, atol=1e-10)
    np.testing.assert_allclose(effects[..., 1], prior["sigma_y1_r_g"].values, atol=1e-10)
    corr = m.corr(fit)
    across = corr.loc["all"]
    assert list(across.index) == [
        ("g", "y1_Intercept", "sigma_y1_Intercept"),
        ("g", "y1_Intercept", "y2_Intercept"),
        ("g", "sigma_y1_Intercept", "y2_Intercept"),
    ]
    np.testing.assert_allclose(
        across["mean"].to_numpy(), prior["corr_g_id_p"].values.mean(axis=(0, 1))
    )
    # y1's own pair, from the union, equals the union's pair of the same two terms
    own = corr.loc[("y1", "g", "Intercept", "sigma_Intercept"), "mean"]
    assert own == pytest.approx(across["mean"].iloc[0])
    assert m.varcorr(fit).loc[("y2", "g", "Intercept"), "mean"] == pytest.approx(
        float(prior["y2_sd_g"].mean())
    )
    described = m.describe()
    assert {"chol_g_id_p", "z_g_id_p"} <= set(described.index)
    assert not any(name.startswith(("y1_chol", "y2_z")) for name in described.index)


@pytest.mark.slow
def test_a_correlation_across_responses_is_recovered() -> None:
    """80 groups of 5 rows, the groups' intercepts of y1 and y2 correlated 0.7 (sds 1 and 0.8,
    residual sd 1: little data per group, where the joint's non-centred form suits): the
    posterior of the union's correlation covers the correlation of the simulated effects."""
    rng = np.random.default_rng(12)
    n_groups, rows = 80, 5
    effects = rng.multivariate_normal([0, 0], [[1.0, 0.56], [0.56, 0.64]], size=n_groups)
    g = np.repeat(np.arange(n_groups), rows)
    x = rng.normal(size=g.size)
    data = pd.DataFrame(
        {
            "x": x,
            "g": [f"g{k}" for k in g],
            "y1": 1 + 0.5 * x + effects[g, 0] + rng.normal(0, 1.0, g.size),
            "y2": -1 + effects[g, 1] + rng.normal(0, 1.0, g.size),
        }
    )
    realised = np.corrcoef(effects.T)[0, 1]
    m = hm.Model("mvbind(y1, y2) ~ x + (1 | p | g)", data, rescor=False)
    fit = m.fit(draws=1000, tune=1000, chains=2, random_seed=4)
    draws = fit["posterior"]["corr_g_id_p"].values.ravel()
    low, high = np.quantile(draws, [0.05, 0.95])
    assert low < realised < high, (low, high, realised)
    assert high - low < 0.7
    # the fit remembers its model: rebuilt from it, the same module
    assert fit["posterior"].attrs["hiermod_sampler"] == "pymc"
    assert hm.Model.from_idata(fit, data).source() == m.source()


def test_the_summary_shows_every_response_and_the_residual_correlation() -> None:
    data = _data()
    m = hm.Model(SHARED, data, priors=SHARED_PRIORS)
    with m.pymc:
        prior = pm.sample_prior_predictive(draws=30, random_seed=9)["prior"].to_dataset()
    fit = xr.DataTree.from_dict({"posterior": prior})
    summary = m.summary(fit)
    text = str(summary)
    assert text.startswith("Formula: mvbind(y1, y2) ~ 1 + x + (1 | p | g)")
    for fragment in ("y1: gaussian (link: identity)", "rescor__y1__y2", "sigma_y1_Intercept"):
        assert fragment in text
    titles = [title for title, _ in summary.sections()]
    assert titles[1] == "Residual correlations (brms's rescor):"
    assert summary.rescor.loc["rescor__y1__y2", "mean"] == pytest.approx(
        float(prior["rescor"].mean())
    )
    assert summary.varcorr.loc[("y2", "g", "Intercept"), "mean"] == pytest.approx(
        float(prior["y2_sd_g"].mean())
    )
    assert ("all", "g", "y1_Intercept", "y2_Intercept") in summary.correlations.index
    assert "<table" in summary._repr_html_()
    assert repr(summary) == text  # shown once: the object, not print + return


def _stamped_fit(m: MultivariateModel, seed: int = 10) -> xr.DataTree:
    """A fit-shaped DataTree (prior draws) with the attributes MultivariateModel.fit writes."""
    from hiermod.inference.storage_multivariate import multivariate_attrs

    with m.pymc:
        idata = pm.sample_prior_predictive(draws=20, random_seed=seed)
    posterior = idata["prior"].to_dataset()
    observed = idata["observed_data"].to_dataset()
    families = {r: model.family.name for r, model in m.models.items()}
    settings = {"method": "nuts", "sampler": "pymc", "draws": 20, "tune": 0, "chains": 1}
    posterior.attrs = multivariate_attrs(
        str(m.formula), families, m.rescor, m.given_priors, settings, m.source()
    )
    return xr.DataTree.from_dict({"posterior": posterior, "observed_data": observed})


def test_a_saved_fit_rebuilds_its_model(tmp_path: Path) -> None:
    """Model.from_idata of a multivariate fit: the same module, priors and rescor; predictions
    from the reloaded file; other data are refused."""
    data = _data()
    m = hm.Model(SHARED, data, priors={"y1_b": "normal(0, 2)"}, rescor=False)
    fit = _stamped_fit(m)
    fit.to_netcdf(tmp_path / "fit.nc")
    back = xr.open_datatree(tmp_path / "fit.nc")
    again = hm.Model.from_idata(back, data)
    assert isinstance(again, MultivariateModel)
    assert again.source() == m.source()
    assert not again.rescor
    np.testing.assert_allclose(
        again.predict(back, data.iloc[:3]).values, m.predict(fit, data.iloc[:3]).values
    )
    with pytest.raises(DataError, match="do not reproduce the fit's observed y1"):
        hm.Model.from_idata(back, data.assign(y1=data["y1"] + 1.0))
    with pytest.raises(hm.errors.FitMismatchError, match="y2_b: the fit's has shape"):
        hm.Model.from_idata(back, data.assign(x=data["g"]))  # x read as a categorical now


TAMPERED = [
    ({"hiermod_formula": "mvbind(y1, y2) ~ 1"}, "disagrees with the formula"),
    ({"hiermod_model": "{"}, "not valid JSON"),
    ({"hiermod_model": '{"formula": "y1 ~ x"}'}, "disagrees with the formula"),
]


@pytest.mark.parametrize(("changes", "message"), TAMPERED)
def test_a_tampered_multivariate_fit_is_a_storage_error(changes: dict, message: str) -> None:
    m = hm.Model("mvbind(y1, y2) ~ x", _data())
    fit = _stamped_fit(m)
    fit["posterior"].attrs.update(changes)
    with pytest.raises(hm.errors.StorageError, match=message):
        hm.Model.from_idata(fit, _data())


def test_stored_families_and_rescor_are_checked() -> None:
    import json

    m = hm.Model("mvbind(y1, y2) ~ x", _data())
    for change, message in (
        ({"families": {"y1": "gaussian", "y2": "no_such"}}, "family of y2"),
        ({"families": {"y1": "gaussian"}}, "a family for each response"),
        ({"rescor": "yes"}, "'rescor' must be true or false"),
    ):
        fit = _stamped_fit(m)
        spec = json.loads(fit["posterior"].attrs["hiermod_model"]) | change
        fit["posterior"].attrs["hiermod_model"] = json.dumps(spec)
        with pytest.raises(hm.errors.StorageError, match=message):
            hm.Model.from_idata(fit, _data())


def test_lkj_priors_of_one_shared_id_must_agree() -> None:
    priors = SHARED_PRIORS | {"y2_corr": "lkj(1)"}
    with pytest.raises(hm.errors.PriorError, match="their LKJ priors must agree"):
        _ = hm.Model(SHARED, _data(), priors=priors).pymc


def test_a_sigma_formula_with_rescor_equals_the_bivariate_normal_density() -> None:
    """sigma_y1 ~ x with residual correlation: one Cholesky factor per row. The hand-written model
    adds the bivariate normal density written out (pm.Potential), not an MvNormal."""
    data = _data()
    priors = {**PRIORS, "sigma_y1_Intercept": "normal(0, 1)", "sigma_y1_b": "normal(0, 0.5)"}
    priors.pop("sigma_y1")
    m = hm.Model(FORMULA + "\nsigma_y1 ~ x", data, priors=priors, centered=False)
    levels = sorted(data["g"].unique())
    g = np.searchsorted(levels, data["g"])
    x, z = data["x"].to_numpy(), data["z"].to_numpy()
    with pm.Model() as hand:
        mus = []
        for r, column, (loc, scale, b_scale, sd_scale) in (
            ("y1", x, (0, 5, 2, 1)),
            ("y2", z, (1, 4, 3, 2)),
        ):
            intercept = pm.Normal(f"{r}_Intercept", loc, scale)
            b = pm.Normal(f"{r}_b", 0, b_scale, shape=1)
            sd = pm.HalfNormal(f"{r}_sd_g", sd_scale)
            effects = pm.Normal(f"{r}_z_g", 0, 1, shape=len(levels)) * sd
            mus.append(intercept + column * b[0] + effects[g])
        log_sigma1 = (
            pm.Normal("sigma_y1_Intercept", 0, 1) + x * pm.Normal("sigma_y1_b", 0, 0.5, shape=1)[0]
        )
        s1, s2 = pt.exp(log_sigma1), pm.Exponential("sigma_y2", 2.0)
        rho = pm.LKJCorr("Lrescor", n=2, eta=1.0)[1, 0]
        r1 = (data["y1"].to_numpy() - mus[0]) / s1
        r2 = (data["y2"].to_numpy() - mus[1]) / s2
        quad = (r1**2 - 2 * rho * r1 * r2 + r2**2) / (1 - rho**2)
        density = -np.log(2 * np.pi) - pt.log(s1) - pt.log(s2) - 0.5 * pt.log(1 - rho**2)
        pm.Potential("Y", pt.sum(density - 0.5 * quad))
    assert_same_model(m.pymc, hand, check_dims=False)


def test_brms_names_of_the_residual_correlation() -> None:
    """brms's Stan code (benchmarks/reference/mvbind_stancode.R) has Lrescor (an LKJ Cholesky
    factor), sigma_<response> and rescor from Rescor[j, k], j < k: hiermod's names and order."""
    stan = (REFERENCE / "make_stancode.stan").read_text()
    assert "cholesky_factor_corr[nresp] Lrescor;" in stan
    assert "lkj_corr_cholesky_lpdf(Lrescor | 1)" in stan
    assert re.search(r"real<lower=0> sigma_y1;", stan)
    assert "rescor[choose(k - 1, 2) + j] = Rescor[j, k];" in stan
    m = hm.Model("mvbind(y1, y2) ~ x + (1 | g)", _data())
    names = set(m.pymc.named_vars)
    assert {"Lrescor", "rescor", "sigma_y1", "sigma_y2"} <= names
    # brms's order for three responses: (k = 2: j = 1), (k = 3: j = 1, 2)
    order = [(j, k) for k in range(3) for j in range(k)]
    labels = [f"{'abc'[j]}__{'abc'[k]}" for j, k in order]
    assert list(rescor_labels(("a", "b", "c"))) == labels


def test_three_responses_equal_a_hand_written_mvnormal() -> None:
    data = _data()
    data["y3"] = data["y1"] - data["y2"] + np.random.default_rng(5).normal(size=len(data))
    priors = {
        f"{r}_{k}": v
        for r in ("y1", "y2", "y3")
        for k, v in (("Intercept", "normal(0, 3)"), ("b", "normal(0, 1)"))
    }
    priors |= {f"sigma_{r}": "exponential(1)" for r in ("y1", "y2", "y3")} | {"rescor": "lkj(2)"}
    m = hm.Model("mvbind(y1, y2, y3) ~ x", data, priors=priors)
    assert tuple(m.pymc.coords["response_pair"]) == ("y1__y2", "y1__y3", "y2__y3")
    x = data["x"].to_numpy()
    with pm.Model() as hand:
        mus, sigmas = [], []
        for r in ("y1", "y2", "y3"):
            intercept = pm.Normal(f"{r}_Intercept", 0, 3)
            b = pm.Normal(f"{r}_b", 0, 1, shape=1)
            mus.append(intercept + x * b[0])
            sigmas.append(pm.Exponential(f"sigma_{r}", 1.0))
        chol = pt.stack(sigmas)[:, None] * pm.LKJCorr("Lrescor", n=3, eta=2.0)
        observed = data[["y1", "y2", "y3"]].to_numpy()
        pm.MvNormal("Y", mu=pt.stack(mus, axis=1), chol=chol, observed=observed)
    assert_same_model(m.pymc, hand, check_dims=False)


# -- against brms ---------------------------------------------------------------------------------

# brms's default priors of these fits (prior_summary): b flat, Intercept student_t(3, median, 2.5),
# sd and sigma half student_t(3, 0, 2.5), cor and rescor lkj(1); hiermod is given the same.
BRMS_PRIORS = {
    "y1_b": "flat()",
    "y2_b": "flat()",
    "y1_Intercept": "student_t(3, 1.2, 2.5)",
    "y2_Intercept": "student_t(3, -0.9, 2.5)",
    "y1_sd": "half_student_t(3, 2.5)",
    "y2_sd": "half_student_t(3, 2.5)",
    "sigma_y1": "half_student_t(3, 2.5)",
    "sigma_y2": "half_student_t(3, 2.5)",
}
BRMS_FITS = {
    "rescor": ("mvbind(y1, y2) ~ x + z + (1 | g)", "summary.csv", {}),
    "shared_id": (
        "mvbind(y1, y2) ~ x + z + (1 | p | g)",
        "summary_shared_id.csv",
        {"y1_corr": "lkj(1)", "y2_corr": "lkj(1)"},
    ),
}


def _ours(posterior: xr.Dataset, brms_name: str) -> np.ndarray:
    """hiermod's draws of a brms parameter: b_y1_x is y1_b[x], sd_g__y1_Intercept y1_sd_g,
    cor_g__y1_Intercept__y2_Intercept corr_g_id_p, rescor__y1__y2 rescor."""
    if brms_name.startswith("b_"):
        response, term = brms_name[2:].split("_", 1)
        if term == "Intercept":
            return posterior[f"{response}_Intercept"].values
        return posterior[f"{response}_b"].sel({f"{response}_coef": term}).values
    if brms_name.startswith("sd_g__"):
        return posterior[f"{brms_name[6:].split('_')[0]}_sd_g"].values
    if brms_name.startswith("cor_g__"):
        return posterior["corr_g_id_p"].values[..., 0]
    if brms_name.startswith("rescor__"):
        return posterior["rescor"].values[..., 0]
    return posterior[brms_name].values  # sigma_y1


@pytest.mark.slow
@pytest.mark.parametrize("fit", BRMS_FITS)
def test_posterior_means_agree_with_brms(fit: str) -> None:
    """The same model and priors as brms (2 chains × 1000 after 1000 each): every posterior mean
    within 0.25 of brms's posterior sd, the group sds and correlations (5 groups: few draws per
    effective sample in both fits, brms's ESS 48 for sd_g__y2_Intercept) within 0.5."""
    formula, table, extra = BRMS_FITS[fit]
    brms = pd.read_csv(REFERENCE / table).set_index("name")
    data = pd.read_csv(REFERENCE / "data.csv")
    m = hm.Model(formula, data, priors=BRMS_PRIORS | extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        posterior = m.fit(draws=1000, tune=1000, chains=2, random_seed=5, target_accept=0.95)[
            "posterior"
        ]
    for name, row in brms.iterrows():
        ours = float(_ours(posterior, str(name)).mean())
        allowed = 0.5 if str(name).startswith(("sd_", "cor_")) else 0.25
        assert abs(ours - row["mean"]) <= allowed * row["sd"], (name, ours, row["mean"], row["sd"])
