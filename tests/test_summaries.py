"""fixef / ranef / varcorr / corr / summary: labels, indexes and values straight from the draws.

Prior draws shaped like a fit (``fit_support.prior_fit``) make these fast: a summary only reads draws.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from fit_support import prior_fit

import hiermod as hm
from hiermod.errors import OptionError
from hiermod.inference.report import Summary
from hiermod.inference.summaries import stat_names

STATS = stat_names()


def _data(seed: int = 0, n: int = 90) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "Reaction": rng.normal(250, 30, n),
            "Days": np.tile(np.arange(9), n // 9),
            "Subject": np.repeat(np.arange(300, 300 + n // 9), 9),
            "f": rng.choice(["a", "b", "c"], n),
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
        }
    )


DATA = _data()


@pytest.fixture(scope="module")
def sleep() -> tuple[hm.Model, object]:
    model = hm.Model("Reaction ~ Days + f + x1:x2 + (Days | Subject)", DATA)
    return model, prior_fit(model, chains=2, draws=30, seed=1)


def test_fixef_is_indexed_by_coefficient_label(sleep) -> None:
    model, idata = sleep
    table = model.fixef(idata)
    assert list(table.index) == ["Intercept", "Days", "f[b]", "f[c]", "x1:x2"]
    assert set(STATS) <= set(table.columns)
    post = idata["posterior"]
    assert table.loc["Intercept", "mean"] == pytest.approx(float(post["Intercept"].mean()))
    assert table.loc["f[c]", "sd"] == pytest.approx(float(post["b"].sel(coef="f[c]").std(ddof=1)))
    assert table.loc["Days", "lower_95"] < table.loc["Days", "mean"] < table.loc["Days", "upper_95"]
    assert np.isfinite(table["r_hat"]).all()
    assert np.isfinite(table["ess_bulk"]).all()


def test_varcorr_is_indexed_by_group_and_term_with_residual_and_correlation(sleep) -> None:
    model, idata = sleep
    table = model.varcorr(idata)
    assert list(table.index) == [
        ("Subject", "Intercept"),
        ("Subject", "Days"),
        ("Residual", "sigma"),
    ]
    assert table.index.names == ["group", "term"]
    post = idata["posterior"]
    assert table.loc[("Subject", "Days"), "mean"] == pytest.approx(
        float(post["sd_Subject"].sel(Subject_term="Days").mean())
    )
    assert table.loc[("Residual", "sigma"), "sd"] == pytest.approx(float(post["sigma"].std(ddof=1)))
    corr = float(post["corr_Subject"].sel(Subject_term_pair="Intercept, Days").mean())
    assert table.loc[("Subject", "Days"), "corr[Intercept]"] == pytest.approx(corr)
    assert np.isnan(table.loc[("Subject", "Intercept"), "corr[Intercept]"])


def test_corr_table_has_each_pair_once(sleep) -> None:
    model, idata = sleep
    table = model.corr(idata)
    assert list(table.index) == [("Subject", "Intercept", "Days")]
    assert table.index.names == ["group", "term1", "term2"]
    assert -1 <= table["mean"].iloc[0] <= 1


def test_ranef_is_level_by_term_per_grouping(sleep) -> None:
    model, idata = sleep
    tables = model.ranef(idata)
    assert list(tables) == ["Subject"]
    table = tables["Subject"]
    assert table.index.name == "Subject"
    assert list(table.index) == list(range(300, 310))  # the levels as they are in the data
    assert list(table["mean"].columns) == ["Intercept", "Days"]
    assert list(dict.fromkeys(table.columns.get_level_values("stat"))) == [
        "mean",
        "sd",
        "lower_95",
        "upper_95",
    ]
    r = idata["posterior"]["r_Subject"].mean(("chain", "draw"))
    np.testing.assert_allclose(table["mean"].to_numpy(), r.values)


def test_distributional_blocks_and_population_effects() -> None:
    sim = hm.datasets.forum_scenario(n_rows=200, n_features=2, n_groups=3, n_colors=2, seed=2)
    data = sim.data.assign(z=np.linspace(-1, 1, 200))
    model = hm.Model("y ~ x1 + x2 + (1 + x1 | group:color); sigma ~ z + (1 | group:color)", data)
    idata = prior_fit(model, draws=10)
    vc = model.varcorr(idata)
    assert ("group:color", "sigma_Intercept") in vc.index
    assert ("Residual", "sigma") not in vc.index
    sigma = model.fixef(idata, dpar="sigma")
    assert list(sigma.index) == ["Intercept", "z"]
    ranef = model.ranef(idata)["group:color"]
    assert ranef.index.names == ["group", "color"]
    assert len(ranef) == 6  # dense layout: every (group, color) combination
    assert list(ranef["mean"].columns) == ["Intercept", "x1", "sigma_Intercept"]
    text = str(model.summary(idata))
    assert "Distributional parameter sigma (log link): population effects" in text
    assert "sigma_Intercept" in text
    assert "sigma_z" in text
    with pytest.raises(ValueError, match="no formula for 'nu'"):
        model.fixef(idata, dpar="nu")


def test_observed_layout_ranef_lists_observed_cells() -> None:
    data = DATA.assign(g=np.array(list("AAABBBCCCC"))[DATA["Subject"] - 300])  # nested labels
    model = hm.Model("Reaction ~ Days + (1 | g:Subject)", data)
    idata = prior_fit(model, draws=5)
    table = model.ranef(idata)["g:Subject"]
    assert table.index.names == ["g", "Subject"]
    assert len(table) == 10  # the observed (g, Subject) cells, not 3 × 10


def test_summary_text_reads_like_lme4(sleep, capsys) -> None:
    model, idata = sleep
    result = model.summary(idata)
    assert capsys.readouterr().out == ""  # shown once, by whoever displays it: never printed here
    text = str(result)
    for part in (
        "Formula: Reaction ~ 1 + Days + f + x1:x2 + (1 + Days | Subject)",
        "Family:  gaussian (link: identity)",
        "Data:    90 observations; groups: Subject (10 levels)",
        "Population-level effects",
        "Group-level standard deviations and residual sd",
        "Group-level correlations",
        "Residual",
        "Sampler diagnostics",
    ):
        assert part in text, part


def test_family_parameters_section() -> None:
    model = hm.Model("Reaction ~ Days + (1 | Subject)", DATA, family="student_t")
    idata = prior_fit(model, draws=5)
    text = str(model.summary(idata))
    assert "Family parameters:" in text
    assert "nu" in text


def test_single_point_fit_has_no_convergence_statistics(sleep) -> None:
    model, idata = sleep
    point = idata.isel(chain=[0], draw=[0])
    point["posterior"].attrs["hiermod_method"] = "map"
    table = model.fixef(point)
    assert table["r_hat"].isna().all()
    assert "posterior mode (MAP)" in str(model.summary(point))


# -- prob=: the interval's width, named by it ------------------------------------------------------


def _flat(da) -> np.ndarray:
    """(chain, draw, …) draws as (draws, k)."""
    values = np.asarray(da.values, dtype=float)
    return values.reshape(values.shape[0] * values.shape[1], -1)


def test_the_columns_say_the_interval_default_95() -> None:
    assert stat_names() == ("mean", "sd", "lower_95", "upper_95", "r_hat", "ess_bulk")
    assert stat_names(0.8) == ("mean", "sd", "lower_80", "upper_80", "r_hat", "ess_bulk")
    assert stat_names(0.975)[2:4] == ("lower_97.5", "upper_97.5")


def test_prob_interval_is_the_quantiles_of_the_draws(sleep) -> None:
    """prob=0.8: the 10% and 90% quantiles, computed here with NumPy from the draws themselves."""
    model, idata = sleep
    post = idata["posterior"]
    cols = ["lower_80", "upper_80"]

    def expected(da) -> np.ndarray:
        return np.quantile(_flat(da), [0.1, 0.9], axis=0).T

    fixef = model.fixef(idata, prob=0.8)
    assert list(fixef.columns) == list(stat_names(0.8))
    np.testing.assert_allclose(
        fixef.loc[["Days", "f[b]", "f[c]", "x1:x2"], cols], expected(post["b"])
    )
    np.testing.assert_allclose(fixef.loc[["Intercept"], cols], expected(post["Intercept"]))
    varcorr = model.varcorr(idata, prob=0.8)
    np.testing.assert_allclose(varcorr.loc["Subject", cols], expected(post["sd_Subject"]))
    np.testing.assert_allclose(varcorr.loc[["Residual"], cols], expected(post["sigma"]))
    corr = model.corr(idata, prob=0.8)
    np.testing.assert_allclose(corr[cols], expected(post["corr_Subject"]))
    ranef = model.ranef(idata, prob=0.8)["Subject"]
    r = post["r_Subject"].sel(Subject_term="Days")
    np.testing.assert_allclose(ranef[("lower_80", "Days")], expected(r)[:, 0])
    np.testing.assert_allclose(ranef[("upper_80", "Days")], expected(r)[:, 1])


def test_prob_on_hand_made_draws(sleep) -> None:
    """Draws 0, 1, …, 59 of the intercept: the 80% interval is (5.9, 53.1), the 10% and 90% points
    of 0…59 by linear interpolation (NumPy's default, R's type 7: 0.1 × 59 and 0.9 × 59)."""
    model, idata = sleep
    hand = idata.copy()
    hand["posterior"]["Intercept"] = xr.DataArray(
        np.arange(60.0).reshape(2, 30), dims=("chain", "draw")
    )
    row = model.fixef(hand, prob=0.8).loc["Intercept"]
    assert row["mean"] == pytest.approx(29.5)
    assert (row["lower_80"], row["upper_80"]) == pytest.approx((5.9, 53.1))
    assert model.fixef(hand).loc["Intercept", "lower_95"] == pytest.approx(0.025 * 59)


CALLS_WITH_PROB = {
    "fixef": lambda m, f, p: m.fixef(f, prob=p),
    "ranef": lambda m, f, p: m.ranef(f, prob=p),
    "varcorr": lambda m, f, p: m.varcorr(f, prob=p),
    "corr": lambda m, f, p: m.corr(f, prob=p),
    "summary": lambda m, f, p: m.summary(f, prob=p),
}


@pytest.mark.parametrize("call", CALLS_WITH_PROB.values(), ids=CALLS_WITH_PROB.keys())
@pytest.mark.parametrize("prob", [0, 1, 1.5, -0.2, 95, "0.9", True, None, np.nan])
def test_prob_outside_0_1_or_not_a_number_is_refused(sleep, call, prob) -> None:
    model, idata = sleep
    with pytest.raises(OptionError, match="prob must be a probability between 0 and 1"):
        call(model, idata, prob)


# -- the summary object ----------------------------------------------------------------------------


def test_summary_is_a_frozen_value_with_its_tables(sleep) -> None:
    model, idata = sleep
    result = model.summary(idata, prob=0.8)
    assert isinstance(result, Summary)
    assert result.prob == 0.8
    pd.testing.assert_frame_equal(result.fixef, model.fixef(idata, prob=0.8))
    pd.testing.assert_frame_equal(result.varcorr, model.varcorr(idata, prob=0.8))
    pd.testing.assert_frame_equal(result.correlations, model.corr(idata, prob=0.8))
    assert result.diagnostics.chains == 2
    assert result.dpars == {}
    assert result.family_parameters.empty
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.prob = 0.9  # type: ignore[misc]


def test_summary_text_says_the_interval_and_holds_the_tables(sleep) -> None:
    model, idata = sleep
    result = model.summary(idata, prob=0.8)
    text = str(result)
    assert repr(result) == text == result.text  # a REPL shows the same text print does
    assert "Population-level effects (lower_80, upper_80: 80% interval, equal-tailed):" in text
    assert "eti_" not in text
    header = next(line for line in text.splitlines() if "lower_80" in line and "r_hat" in line)
    assert header.split() == ["mean", "sd", "lower_80", "upper_80", "r_hat", "ess_bulk"]
    days = next(line for line in text.splitlines() if line.split()[:1] == ["Days"])
    expected = result.fixef.loc["Days"]
    assert days.split()[1:5] == [f"{expected[c]:.4g}" for c in stat_names(0.8)[:4]]
    assert days.split()[5] == f"{expected['r_hat']:.3f}"
    assert "95%" not in text
    assert "lower_95" in str(model.summary(idata))


def test_summary_html_has_every_table(sleep) -> None:
    model, idata = sleep
    result = model.summary(idata)
    page = result._repr_html_()
    assert page.count("<table") == 1 + len(result.sections())  # the head, then each section
    assert "Group-level correlations:" in page
    assert "Formula" in page
    assert "Reaction ~ 1 + Days" in page
    for column in stat_names():
        assert f"<th>{column}</th>" in page
    mean = result.fixef.loc["Intercept", "mean"]
    assert f"<td>{mean:.4g}</td>" in page
    assert "Sampler diagnostics:" in page


def test_print_shows_the_text_once(sleep, capsys) -> None:
    model, idata = sleep
    result = model.summary(idata)
    print(result)
    assert capsys.readouterr().out == result.text + "\n"


def test_show_is_deprecated(sleep, capsys) -> None:
    model, idata = sleep
    with pytest.warns(
        FutureWarning, match=r"show=\.\.\.\) is deprecated.*print\(m.summary\(fit\)\)"
    ):
        result = model.summary(idata, show=True)
    assert capsys.readouterr().out == result.text + "\n"  # still printed, until show= goes
    with pytest.warns(FutureWarning, match="deprecated"):
        model.summary(idata, show=False)
    assert capsys.readouterr().out == ""
