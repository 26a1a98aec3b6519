"""What ``Model.fit`` returns works with ArviZ 1 as it comes: summaries, LOO, comparison, plots.

Two small fits (a random-intercept model and the same without the group term), each with the
posterior predictive group. ArviZ 1 renamed ``plot_ppc`` to ``plot_ppc_dist``. Every call runs with
warnings as errors: a user who calls ArviZ on a hiermod fit sees no warning they did not cause.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import arviz as az
import matplotlib
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import hiermod as hm
from hiermod.warnings import SamplingWarning

matplotlib.use("Agg")  # no screen here

pytestmark = pytest.mark.slow


def _data() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(12), 20)
    x = rng.normal(size=g.size)
    intercepts, slopes = rng.normal(0, 0.8, 12), rng.normal(0, 0.4, 12)
    y = 1.0 + intercepts[g] + (0.5 + slopes[g]) * x + rng.normal(0, 0.5, g.size)
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{i}" for i in g]})


DATA = _data()


def _fit(formula: str) -> tuple[hm.Model, xr.DataTree]:
    # Both fit through per-cell sufficient statistics (12 cells, 240 rows; asked for, as "auto"
    # keeps the rows at this size): the ArviZ calls below, plot_ppc_dist among them, work on a
    # reduced-likelihood fit.
    model = hm.Model(formula, DATA, suffstats=True)
    assert model.ir.suffstats is not None
    with warnings.catch_warnings():
        # short chains: convergence is tested elsewhere (test_samplers.py, test_real_data.py)
        warnings.simplefilter("ignore", SamplingWarning)
        fit = model.fit(
            draws=300,
            tune=500,
            chains=2,
            random_seed=3,
            progressbar=False,
            posterior_predictive=True,
        )
    return model, fit


@pytest.fixture(scope="module")
def pooled() -> tuple[hm.Model, xr.DataTree]:
    return _fit("y ~ x + (x | g)")


@pytest.fixture(scope="module")
def plain() -> tuple[hm.Model, xr.DataTree]:
    return _fit("y ~ x")


@pytest.fixture
def no_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_the_fit_is_a_datatree_with_the_groups_arviz_reads(pooled) -> None:
    _, fit = pooled
    assert isinstance(fit, xr.DataTree)
    assert {
        "posterior",
        "sample_stats",
        "log_likelihood",
        "observed_data",
        "posterior_predictive",
    } <= set(fit.children)
    predictive = fit["posterior_predictive"]["y"]
    assert predictive.dims == ("chain", "draw", "obs")
    assert predictive.shape == (2, 300, len(DATA))
    # draws of the response, not its mean: they spread around the data like the data do
    assert float(predictive.std()) > 0.5 * float(DATA["y"].std())


def test_summary_has_every_parameter_and_no_warning(pooled, no_warnings) -> None:
    _, fit = pooled
    table = az.summary(fit)
    assert isinstance(table, pd.DataFrame)
    for name in ("Intercept", "b[x]", "sigma", "sd_g[Intercept]", "sd_g[x]"):
        assert name in table.index, name
    assert np.isfinite(table.loc["Intercept", "r_hat"])
    assert table.loc["sigma", "mean"] > 0
    # the correlation's constant diagonal is not a parameter to summarise
    assert not any(label.startswith("corr_g[Intercept, Intercept]") for label in table.index)


def test_loo_and_compare_rank_the_pooled_model_first(pooled, plain) -> None:
    """The only warning allowed is ArviZ's Pareto-k diagnostic: it is about the user's fit (some
    rows are influential for this posterior), not noise the library makes."""
    _, fit_pooled = pooled
    _, fit_plain = plain
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loo = az.loo(fit_pooled)
        ranking = az.compare({"pooled": fit_pooled, "plain": fit_plain})
    assert np.isfinite(loo.elpd)
    assert list(ranking.index) == ["pooled", "plain"]  # the data have group intercepts
    others = [w for w in caught if "Pareto distribution" not in str(w.message)]
    assert not others, [str(w.message) for w in others]


PLOTS: dict[str, Callable[[xr.DataTree], Any]] = {
    "plot_ppc_dist": lambda fit: az.plot_ppc_dist(fit, num_samples=20),
    "plot_trace": lambda fit: az.plot_trace(fit, var_names=["Intercept", "b", "sigma"]),
    "plot_forest": lambda fit: az.plot_forest(fit, var_names=["b", "sd_g"]),
}


@pytest.mark.parametrize("name", list(PLOTS))
def test_plots_draw_from_the_fit(pooled, name: str, no_warnings) -> None:
    import matplotlib.pyplot as plt

    _, fit = pooled
    collection = PLOTS[name](fit)
    figure = collection.viz["figure"].item()
    assert figure.axes
    assert any(axis.has_data() for axis in figure.axes)
    plt.close("all")


def test_netcdf_round_trip_keeps_every_group(pooled, tmp_path) -> None:
    model, fit = pooled
    path = tmp_path / "fit.nc"
    fit.to_netcdf(path)
    loaded = az.from_netcdf(path)
    assert set(fit.children) == set(loaded.children)
    np.testing.assert_array_equal(
        loaded["posterior_predictive"]["y"].values, fit["posterior_predictive"]["y"].values
    )
    rebuilt = hm.Model.from_idata(loaded, DATA)
    assert str(rebuilt.formula) == str(model.formula)
