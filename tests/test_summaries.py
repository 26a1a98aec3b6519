"""fixef / ranef / varcorr / corr / summary: labels, indexes and values straight from the draws.

Prior draws shaped like a fit (``fit_support.prior_fit``) make these fast: a summary only reads draws.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fit_support import prior_fit

import hiermod as hm
from hiermod.inference.summaries import STATS


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
    assert table.loc["Days", "eti_5%"] < table.loc["Days", "mean"] < table.loc["Days", "eti_95%"]
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
        "eti_5%",
        "eti_95%",
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
    text = model.summary(idata, show=False)
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
    text = model.summary(idata)
    assert capsys.readouterr().out.strip() == text.strip()
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
    text = model.summary(idata, show=False)
    assert "Family parameters:" in text
    assert "nu" in text


def test_single_point_fit_has_no_convergence_statistics(sleep) -> None:
    model, idata = sleep
    point = idata.isel(chain=[0], draw=[0])
    point["posterior"].attrs["hiermod_method"] = "map"
    table = model.fixef(point)
    assert table["r_hat"].isna().all()
    assert "posterior mode (MAP)" in model.summary(point, show=False)
