"""Conditional effects, marginal means, comparisons, slopes, and the predict options under them.

Every value is checked against a direct computation: ``Model.predict`` on the rows the table says
it used, or the posterior draws themselves (``Intercept + b·x`` for a population-level prediction,
``b[f[b]]`` for a comparison of a gaussian model). Draws come from the prior
(``fit_support.prior_fit``): these functions only read draws, so no sampler is needed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from fit_support import prior_fit

import hiermod as hm
from hiermod.inference.intervals import interval_names, summarise


def _data(n: int = 90, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = np.tile(np.arange(9), n // 9)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "Reaction": rng.normal(250, 30, n),
            "Days": days,
            "Subject": np.repeat(np.arange(300, 300 + n // 9), 9),
            "f": rng.choice(["a", "b", "c"], n),
            "h": rng.choice(["p", "q"], n),
            "x": x,
            "expo": rng.uniform(0.5, 2.0, n),
            "count": rng.poisson(np.exp(0.5 + 0.3 * x)),
            "b01": rng.integers(0, 2, n),
        }
    )


DATA = _data()
SLEEP = "Reaction ~ Days + f + (Days | Subject)"


@pytest.fixture(scope="module")
def sleep() -> tuple[hm.Model, xr.DataTree]:
    model = hm.Model(SLEEP, DATA)
    return model, prior_fit(model, draws=10, seed=1)


def _post(fit: xr.DataTree, name: str) -> np.ndarray:
    return fit["posterior"][name].values


def _population(fit: xr.DataTree, rows: pd.DataFrame) -> np.ndarray:
    """Intercept + b·x of the sleep model for ``rows``, straight from the draws: (chain, draw, row)."""
    b = _post(fit, "b")  # coefficients Days, f[b], f[c]
    columns = np.column_stack([rows["Days"], rows["f"] == "b", rows["f"] == "c"]).astype(float)
    return _post(fit, "Intercept")[..., None] + np.einsum("cdk,nk->cdn", b, columns)


def _subject_effects(fit: xr.DataTree, rows: pd.DataFrame) -> np.ndarray:
    """r_Subject[s, Intercept] + r_Subject[s, Days] · Days for ``rows``: (chain, draw, row)."""
    r = fit["posterior"]["r_Subject"]
    at = r.sel(Subject=xr.DataArray(rows["Subject"].to_numpy(), dims="row"))  # int coords
    intercept = at.sel(Subject_term="Intercept").values
    return intercept + at.sel(Subject_term="Days").values * rows["Days"].to_numpy()


# -- predict: kind="linear", groups=, add_to= -----------------------------------------------------


def test_linear_kind_is_the_link_of_the_mean() -> None:
    poisson = hm.Model("count ~ x + offset(log(expo)) + (1 | f)", DATA, family="poisson")
    fit = prior_fit(poisson, draws=5)
    mean, linear = (poisson.predict(fit, kind=k).values for k in ("mean", "linear"))
    np.testing.assert_allclose(linear, np.log(mean), rtol=1e-10)
    bernoulli = hm.Model("b01 ~ x + (1 | f)", DATA, family="bernoulli")
    fit = prior_fit(bernoulli, draws=5)
    p = bernoulli.predict(fit).values
    np.testing.assert_allclose(bernoulli.predict(fit, kind="linear").values, np.log(p / (1 - p)))


def test_linear_kind_of_a_gaussian_is_its_mean(sleep) -> None:
    model, fit = sleep
    linear = model.predict(fit, kind="linear")
    assert linear.attrs["kind"] == "linear"
    np.testing.assert_allclose(linear.values, model.predict(fit).values, rtol=1e-12)


@pytest.mark.parametrize("centered", [False, True])
def test_groups_false_is_the_population_prediction(centered: bool) -> None:
    model = hm.Model(SLEEP, DATA, centered=centered)
    fit = prior_fit(model, draws=5, seed=2)
    rows = DATA.head(12)
    population = model.predict(fit, rows.drop(columns=["Subject"]), groups=False)
    np.testing.assert_allclose(population.values, _population(fit, rows), rtol=1e-10)
    both = model.predict(fit, rows, groups="Subject")
    expected = _population(fit, rows) + _subject_effects(fit, rows)
    np.testing.assert_allclose(both.values, expected, rtol=1e-10)
    np.testing.assert_allclose(model.predict(fit, rows).values, expected, rtol=1e-10)


def test_groups_names_keep_only_their_blocks() -> None:
    model = hm.Model("Reaction ~ x + (1 | f) + (1 | h)", DATA)
    fit = prior_fit(model, draws=5)
    rows = DATA.head(8)
    only_f = model.predict(fit, rows.drop(columns=["h"]), groups=["f"]).values
    r_f = fit["posterior"]["r_f"].sel(f=xr.DataArray(list(rows["f"]), dims="row")).values
    b = _post(fit, "b")[..., 0, None]
    expected = _post(fit, "Intercept")[..., None] + b * rows["x"].to_numpy() + r_f
    np.testing.assert_allclose(only_f, expected, rtol=1e-10)
    with pytest.raises(ValueError, match="'g', not a grouping of the model"):
        model.predict(fit, rows, groups="g")


def test_groups_false_ignores_unseen_levels_of_left_out_groupings(sleep) -> None:
    model, fit = sleep
    rows = DATA.head(3).assign(Subject=999)
    values = model.predict(fit, rows, groups=False, new_levels="error").values
    np.testing.assert_allclose(values, _population(fit, rows), rtol=1e-10)


def test_add_to_stores_predictions_by_kind(sleep) -> None:
    model, base = sleep
    fit = base.copy()
    rows = DATA.head(4)
    mean = model.predict(fit, rows, add_to=fit)
    response = model.predict(fit, rows, kind="response", random_seed=1, add_to=fit)
    group = fit["predictions"].dataset
    assert set(group.data_vars) == {"Reaction", "Reaction_mean"}
    np.testing.assert_array_equal(group["Reaction_mean"].values, mean.values)
    np.testing.assert_array_equal(group["Reaction"].values, response.values)
    model.predict(fit, DATA.tail(2), kind="linear", add_to=fit)  # other rows replace the group
    assert set(fit["predictions"].dataset.data_vars) == {"Reaction_linear"}
    assert list(fit["predictions"]["obs"].values) == list(DATA.index[-2:])
    assert "predictions" not in base.children


# -- intervals --------------------------------------------------------------------------------


def test_interval_names_and_quantiles() -> None:
    assert interval_names(0.95) == ("lower_95", "upper_95")
    assert interval_names(0.9) == ("lower_90", "upper_90")
    assert interval_names(0.975) == ("lower_97.5", "upper_97.5")
    draws = np.random.default_rng(0).normal(size=(2, 50, 3))
    table = summarise(draws, 0.8)
    flat = draws.reshape(100, 3)
    np.testing.assert_allclose(table["estimate"], flat.mean(axis=0))
    np.testing.assert_allclose(table["lower_80"], np.quantile(flat, 0.1, axis=0))
    np.testing.assert_allclose(table["upper_80"], np.quantile(flat, 0.9, axis=0))
    with pytest.raises(ValueError, match="between 0 and 1"):
        interval_names(95)


# -- conditional effects ----------------------------------------------------------------------


def _rows_of(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return frame[columns].reset_index(drop=True)


def test_conditional_effect_equals_predict_at_each_grid_point(sleep) -> None:
    model, fit = sleep
    effects = model.conditional_effects(fit, "Days", resolution=7, prob=0.9)
    frame = effects.frame
    assert list(frame.columns) == ["Days", "f", "estimate", "lower_90", "upper_90"]
    np.testing.assert_allclose(frame["Days"], np.linspace(0, 8, 7))
    assert (frame["f"] == "a").all()  # the reference level
    predicted = model.predict(fit, _rows_of(frame, ["Days", "f"]), groups=False)
    flat = predicted.values.reshape(-1, 7)
    np.testing.assert_allclose(frame["estimate"], flat.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(frame["lower_90"], np.quantile(flat, 0.05, axis=0), rtol=1e-12)
    np.testing.assert_allclose(effects.draws.values, _population(fit, frame), rtol=1e-10)
    assert effects.draws.dims == ("chain", "draw", "row")


def test_at_holds_and_sets_values(sleep) -> None:
    model, fit = sleep
    frame = model.conditional_effects(fit, "Days", at={"f": "c", "Days": [1, 4]}).frame
    assert list(frame["Days"]) == [1, 4]
    assert (frame["f"] == "c").all()
    np.testing.assert_allclose(frame["estimate"], _population(fit, frame).mean(axis=(0, 1)))
    with pytest.raises(hm.DataError, match="not shown"):
        model.conditional_effects(fit, "Days", at={"f": ["a", "b"]})


def test_named_grouping_includes_its_effects(sleep) -> None:
    model, fit = sleep
    effects = model.conditional_effects(fit, "Days:Subject", resolution=3)
    frame = effects.frame
    assert len(frame) == 3 * 10
    assert list(frame["Subject"].unique()) == list(range(300, 310))
    expected = _population(fit, frame) + _subject_effects(fit, frame)
    np.testing.assert_allclose(effects.draws.values, expected, rtol=1e-10)


def test_numeric_second_variable_at_mean_and_sd() -> None:
    model = hm.Model("Reaction ~ Days * x", DATA)
    fit = prior_fit(model, draws=5)
    frame = model.conditional_effects(fit, "Days:x", resolution=2).frame
    x = DATA["x"]
    expected = [x.mean() - x.std(), x.mean(), x.mean() + x.std()]
    np.testing.assert_allclose(frame["x"].unique(), expected)


def test_groups_true_predicts_a_new_level(sleep) -> None:
    model, fit = sleep
    new = model.conditional_effects(fit, "Days", groups=True, resolution=3, random_seed=5)
    rows = _rows_of(new.frame, ["Days", "f"]).assign(Subject="new Subject")
    again = model.predict(fit, rows, random_seed=5, new_levels="population")
    np.testing.assert_allclose(new.draws.values, again.values, rtol=1e-12)
    population = model.conditional_effects(fit, "Days", resolution=3)
    assert not np.allclose(new.draws.values, population.draws.values)


def test_response_kind_gives_predictive_draws(sleep) -> None:
    model, fit = sleep
    effects = model.conditional_effects(fit, "f", kind="response", random_seed=3)
    assert list(effects.frame["f"]) == ["a", "b", "c"]
    rows = _rows_of(effects.frame, ["f", "Days"])
    draws = model.predict(fit, rows, kind="response", groups=False, random_seed=3)
    np.testing.assert_allclose(effects.draws.values, draws.values, rtol=1e-12)


def test_unknown_variable_suggests_the_closest(sleep) -> None:
    model, fit = sleep
    with pytest.raises(hm.DataError, match="'Day' is not a variable") as info:
        model.conditional_effects(fit, "Day")
    assert "did you mean 'Days'?" in str(info.value)


def test_binomial_grid_has_one_trial() -> None:
    data = DATA.assign(n=10, succ=np.minimum(DATA["count"], 10))
    model = hm.Model("succ | trials(n) ~ x", data, family="binomial")
    fit = prior_fit(model, draws=5)
    effects = model.conditional_effects(fit, "x", resolution=4)
    assert (effects.frame["n"] == 1).all()
    linear = (
        _post(fit, "Intercept")[..., None]
        + _post(fit, "b")[..., 0, None] * effects.frame["x"].to_numpy()
    )
    np.testing.assert_allclose(effects.draws.values, 1 / (1 + np.exp(-linear)), rtol=1e-10)


# -- marginal means ---------------------------------------------------------------------------


def test_marginal_means_average_the_grid_with_equal_weights() -> None:
    model = hm.Model("Reaction ~ f * h + Days + (1 | Subject)", DATA)
    fit = prior_fit(model, draws=5)
    means = model.marginal_means(fit, "f")
    assert list(means.frame["f"]) == ["a", "b", "c"]
    grid = pd.DataFrame(
        [(f, h, DATA["Days"].mean()) for f in "abc" for h in "pq"], columns=["f", "h", "Days"]
    )
    predicted = model.predict(fit, grid, groups=False).values.reshape(2, 5, 3, 2)
    np.testing.assert_allclose(means.draws.values, predicted.mean(axis=-1), rtol=1e-12)
    by = model.marginal_means(fit, "f", by="h")
    assert list(zip(by.frame["f"], by.frame["h"], strict=True))[:2] == [("a", "p"), ("a", "q")]
    np.testing.assert_allclose(by.draws.values, predicted.reshape(2, 5, 6), rtol=1e-12)


def test_marginal_means_of_a_numeric_variable(sleep) -> None:
    model, fit = sleep
    means = model.marginal_means(fit, "Days")
    assert list(means.frame["Days"]) == list(range(9))
    with pytest.raises(hm.DataError, match="90 distinct values"):
        hm.Model("Reaction ~ x", DATA).marginal_means(
            prior_fit(hm.Model("Reaction ~ x", DATA), draws=2), "x"
        )
    at = model.marginal_means(fit, "Days", at={"Days": [0, 8]})
    assert list(at.frame["Days"]) == [0, 8]


# -- comparisons ------------------------------------------------------------------------------


def test_categorical_comparison_is_the_coefficient_of_a_gaussian(sleep) -> None:
    model, fit = sleep
    table = model.comparisons(fit, "f", prob=0.8)
    assert list(table.frame["contrast"]) == ["b - a", "c - a"]
    assert list(table.frame.columns) == ["term", "contrast", "estimate", "lower_80", "upper_80"]
    b = _post(fit, "b")
    np.testing.assert_allclose(table.draws.values, b[..., 1:], rtol=1e-9, atol=1e-9)


def test_comparison_is_the_average_difference_of_two_predictions(sleep) -> None:
    model, fit = sleep
    table = model.comparisons(fit, {"Days": [0, 8]}, by="f")
    assert list(table.frame["contrast"].unique()) == ["8 - 0"]
    low = model.predict(fit, DATA.assign(Days=0)).values
    high = model.predict(fit, DATA.assign(Days=8)).values
    for k, level in enumerate(table.frame["f"]):
        rows = (DATA["f"] == level).to_numpy()
        expected = (high - low)[..., rows].mean(axis=-1)
        np.testing.assert_allclose(table.draws.values[..., k], expected, rtol=1e-10)


def test_numeric_comparison_steps_by_one_and_ratio() -> None:
    model = hm.Model("count ~ x + (1 | f)", DATA, family="poisson")
    fit = prior_fit(model, draws=5)
    step = model.comparisons(fit, "x")
    assert list(step.frame["contrast"]) == ["+1"]
    low = model.predict(fit).values
    high = model.predict(fit, DATA.assign(x=DATA["x"] + 1)).values
    np.testing.assert_allclose(step.draws.values[..., 0], (high - low).mean(axis=-1), rtol=1e-10)
    ratio = model.comparisons(fit, {"x": 2.0}, comparison="ratio", groups=False)
    assert list(ratio.frame["contrast"]) == ["+2"]
    np.testing.assert_allclose(ratio.draws.values[..., 0], np.exp(2 * _post(fit, "b")[..., 0]))
    linear = model.comparisons(fit, "x", kind="linear")  # log(rate) moves by b, whatever the row
    np.testing.assert_allclose(linear.draws.values[..., 0], _post(fit, "b")[..., 0], rtol=1e-9)


def test_comparison_over_given_rows_without_the_grouping(sleep) -> None:
    model, fit = sleep
    rows = pd.DataFrame({"Days": [0, 4, 8], "f": ["a", "b", "c"]})
    table = model.comparisons(fit, {"f": ["b", "c"]}, data=rows)
    assert list(table.frame["contrast"]) == ["c - b"]
    b = _post(fit, "b")
    np.testing.assert_allclose(table.draws.values[..., 0], b[..., 2] - b[..., 1], rtol=1e-9)


def test_comparison_with_at_repeats_the_rows(sleep) -> None:
    model, fit = sleep
    table = model.comparisons(fit, "f", by="Days", at={"Days": [0, 8]}, groups=False)
    assert list(table.frame["Days"]) == [0, 8, 0, 8]
    np.testing.assert_allclose(table.draws.values[..., 0], _post(fit, "b")[..., 1], rtol=1e-9)


# -- slopes -----------------------------------------------------------------------------------


def test_slope_is_the_coefficient_and_each_subjects_own(sleep) -> None:
    model, fit = sleep
    population = model.slopes(fit, "Days", groups=False)
    days = _post(fit, "b")[..., 0]
    np.testing.assert_allclose(population.draws.values[..., 0], days, rtol=1e-6)
    assert population.eps == pytest.approx(8e-4)
    per_subject = model.slopes(fit, "Days", by="Subject")
    assert list(per_subject.frame["Subject"]) == list(range(300, 310))
    r = fit["posterior"]["r_Subject"].sel(Subject_term="Days").values
    np.testing.assert_allclose(per_subject.draws.values, days[..., None] + r, rtol=1e-6)


def test_slope_is_the_finite_difference_and_elasticities() -> None:
    model = hm.Model("count ~ x + (1 | f)", DATA, family="poisson")
    fit = prior_fit(model, draws=5)
    dydx = model.slopes(fit, "x", eps=1e-3)
    at_x = model.predict(fit).values
    moved = model.predict(fit, DATA.assign(x=DATA["x"] + 1e-3)).values
    finite = (moved - at_x) / 1e-3
    np.testing.assert_allclose(dydx.draws.values[..., 0], finite.mean(axis=-1), rtol=1e-10)
    analytic = at_x * _post(fit, "b")[..., 0, None]  # d exp(eta) / dx
    np.testing.assert_allclose(dydx.draws.values[..., 0], analytic.mean(axis=-1), rtol=1e-2)
    eyex = model.slopes(fit, "x", eps=1e-3, slope="eyex")
    expected = (finite * DATA["x"].to_numpy() / at_x).mean(axis=-1)
    np.testing.assert_allclose(eyex.draws.values[..., 0], expected, rtol=1e-10)
    assert list(eyex.frame["slope"]) == ["eyex"]


def test_slopes_and_comparisons_reject_what_they_cannot_do(sleep) -> None:
    model, fit = sleep
    with pytest.raises(hm.DataError, match="categorical"):
        model.slopes(fit, "f")
    with pytest.raises(ValueError, match="slope must be"):
        model.slopes(fit, "Days", slope="dy")
    with pytest.raises(ValueError, match="kind must be"):
        model.comparisons(fit, "f", kind="response")
    with pytest.raises(ValueError, match="comparison must be"):
        model.comparisons(fit, "f", comparison="lift")


def test_a_streamed_model_has_no_rows_to_interpret(tmp_path) -> None:
    path = tmp_path / "rows.csv"
    DATA.to_csv(path, index=False)
    model = hm.stream_model("Reaction ~ Days + (1 | Subject)", path, chunksize=40)
    with pytest.raises(hm.DataError, match="streamed"):  # raised before the fit is read
        model.conditional_effects(xr.DataTree(), "Days")
