"""After-the-fit checks of multivariate models (brms's ``hypothesis``, ``bayes_R2``, ``pp_check``,
``loo``, ``loo_compare``; docs/after-the-fit.md): each value against a direct computation from the
draws.

No sampler runs in the fast tests. Summaries, plots and the pointwise log-likelihood read prior
draws shaped like a fit (:func:`_prior_fit`); LOO and compare need a posterior that importance
sampling works with, so ``mvbind(y1, y2) ~ x + z`` gets exact draws of its flat-prior posterior
(normal-inverse-Wishart with residual correlation, normal-inverse-χ² per response without) drawn
with NumPy. One slow test fits with NUTS.
"""

from __future__ import annotations

import warnings

import arviz as az
import matplotlib
import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr
from fit_support import multivariate_data, prior_fit
from matplotlib.figure import Figure
from scipy import stats

import hiermod as hm
from hiermod.errors import OptionError
from hiermod.inference.storage_multivariate import multivariate_attrs
from hiermod.interpret.hypothesis import HypothesisError, density_at
from hiermod.multivariate import MultivariateModel
from hiermod.warnings import DataWarning, FitWarning, SamplingWarning

matplotlib.use("Agg")


DATA = multivariate_data(n=60, seed=4, rho=0.6)
FORMULA = "mvbind(y1, y2) ~ x + (1 | g)"
PRIORS = {
    "y1_Intercept": "normal(1, 1)",
    "y1_b": "normal(0, 2)",
    "y1_sd_g": "half_normal(1)",
    "sigma_y1": "exponential(1)",
    "y2_Intercept": "normal(-1, 1)",
    "y2_b": "normal(0, 3)",
    "y2_sd_g": "half_normal(1)",
    "sigma_y2": "exponential(1)",
}
MIXED_PRIORS = {k: v for k, v in PRIORS.items() if "y2" not in k} | {
    "n_Intercept": "normal(0, 0.5)",
    "n_b": "normal(0.3, 0.2)",
    "n_sd_g": "half_normal(0.3)",
}


def _prior_fit(
    m: MultivariateModel, chains: int = 2, draws: int = 60, seed: int = 1
) -> xr.DataTree:
    """A DataTree shaped like a multivariate fit (chains × draws of prior draws, the observed
    data, the attributes MultivariateModel.fit writes)."""
    with m.pymc:
        idata = pm.sample_prior_predictive(draws=chains * draws, random_seed=seed)
    prior = idata["prior"].to_dataset()
    variables = {
        name: (("chain", "draw", *da.dims[2:]), da.values.reshape(chains, draws, *da.shape[2:]))
        for name, da in prior.data_vars.items()
    }
    coords = {k: v.values for k, v in prior.coords.items() if k not in ("chain", "draw")}
    posterior = xr.Dataset(
        variables, coords={**coords, "chain": range(chains), "draw": range(draws)}
    )
    families = {r: model.family.name for r, model in m.models.items()}
    settings = {"method": "nuts", "sampler": "pymc", "draws": draws, "tune": 0, "chains": chains}
    posterior.attrs = multivariate_attrs(
        str(m.formula), families, m.rescor, m.given_priors, settings, m.source()
    )
    observed = idata["observed_data"].to_dataset()
    return xr.DataTree.from_dict({"posterior": posterior, "observed_data": observed})


@pytest.fixture(scope="module")
def fits() -> dict[str, tuple[MultivariateModel, xr.DataTree]]:
    """Prior-draw fits: with residual correlation, without, with a sigma formula of y1 (a
    residual covariance per row), and gaussian + poisson."""
    out = {}
    for name, formula, options in (
        ("rescor", FORMULA, {"priors": PRIORS}),
        ("independent", FORMULA, {"priors": PRIORS, "rescor": False}),
        ("sigma", FORMULA + "\nsigma_y1 ~ x", {"priors": {"sigma_y1_b": "normal(0, 0.3)"}}),
        (
            "mixed",
            "mvbind(y1, n) ~ x + (1 | g)",
            {"priors": MIXED_PRIORS, "family": {"n": "poisson"}},
        ),
    ):
        m = hm.Model(formula, DATA, **options)
        out[name] = (m, _prior_fit(m, seed=len(out) + 1))
    return out


def _flat(posterior: xr.DataTree, name: str) -> np.ndarray:
    values = np.asarray(posterior[name].values, dtype=float)
    return values.reshape(-1, *values.shape[2:])


def _linear(posterior: xr.DataTree, response: str) -> np.ndarray:
    """Each draw's linear predictor of ``response`` at the training rows, (draws, rows)."""
    g = np.searchsorted(sorted(DATA["g"].unique()), DATA["g"])
    intercept = _flat(posterior, f"{response}_Intercept")[:, None]
    slope = _flat(posterior, f"{response}_b")[:, :1]
    effects = _flat(posterior, f"{response}_r_g")[:, g]
    return intercept + slope * DATA["x"].to_numpy() + effects


# -- hypothesis ------------------------------------------------------------------------------------

ONE_SIDED = [
    # hypothesis, left - right from the draws (flattened posterior)
    ("y1_x > 0", lambda p: _flat(p, "y1_b")[:, 0]),
    ("y1_x - y2_x < 0.5", lambda p: _flat(p, "y1_b")[:, 0] - _flat(p, "y2_b")[:, 0] - 0.5),
    ("sigma_y1 > sigma_y2", lambda p: _flat(p, "sigma_y1") - _flat(p, "sigma_y2")),
    ("rescor__y1__y2 > 0", lambda p: _flat(p, "rescor")[:, 0]),
    (
        "y1_Intercept + 2 * y1_x > y2_Intercept",
        lambda p: _flat(p, "y1_Intercept") + 2 * _flat(p, "y1_b")[:, 0] - _flat(p, "y2_Intercept"),
    ),
]


@pytest.mark.parametrize(("text", "difference"), ONE_SIDED)
def test_one_sided_hypotheses_are_shares_of_the_joint_draws(fits, text, difference) -> None:
    m, fit = fits["rescor"]
    row = m.hypothesis(fit, text).iloc[0]
    diff = difference(fit["posterior"])
    less = "<" in text
    share = np.mean(diff < 0 if less else diff > 0)
    assert row["post_prob"] == pytest.approx(share)
    assert row["evid_ratio"] == pytest.approx(share / (1 - share))
    assert row["estimate"] == pytest.approx(diff.mean())  # left - right, for < as for >
    assert row["sd"] == pytest.approx(diff.std(ddof=1))


def test_every_fixef_name_is_a_hypothesis_name() -> None:
    """The names are the multivariate fixef's, a distributional formula's (sigma_y1_x) too."""
    m = hm.Model(FORMULA + "\nsigma_y1 ~ x", DATA, priors={"y1_b": "normal(0, 2)"})
    fit = _prior_fit(m, draws=40)
    fixef = m.fixef(fit)
    assert {"sigma_y1_Intercept", "sigma_y1_x", "y2_x"} <= set(fixef.index)
    table = m.hypothesis(fit, [f"{name} > 0" for name in fixef.index])
    np.testing.assert_allclose(table["estimate"].to_numpy(), fixef["mean"].to_numpy())


def test_a_point_hypothesis_draws_each_responses_prior(fits) -> None:
    """Savage–Dickey: y1_b ~ normal(0, 2) and y2_b ~ normal(0, 3) a priori, independent, so
    y1_x - y2_x has the prior normal(0, √13); the ratio is the posterior density at 0 over it."""
    m, fit = fits["rescor"]
    table = m.hypothesis(fit, ["y1_x - y2_x = 0", "rescor__y1__y2 = 0"], random_seed=3)
    diff = _flat(fit["posterior"], "y1_b")[:, 0] - _flat(fit["posterior"], "y2_b")[:, 0]
    expected = density_at(diff) / stats.norm(0, np.sqrt(13)).pdf(0)
    assert table["evid_ratio"].iloc[0] == pytest.approx(expected, rel=0.1)
    assert np.isnan(table["evid_ratio"].iloc[1])  # no prior draws of rescor: no ratio
    lower, upper = np.quantile(diff, [0.025, 0.975])
    assert table["lower_95"].iloc[0] == pytest.approx(lower)
    assert table["upper_95"].iloc[0] == pytest.approx(upper)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("y1_z > 0", "did you mean 'y1_x'?"),
        ("x > 0", "y1_Intercept, y1_x, sigma_y1, y2_Intercept, y2_x, sigma_y2, rescor__y1__y2"),
        ("exp(y1_x) > 'a'", "not strings"),
    ],
)
def test_an_unknown_name_lists_the_known_ones(fits, text: str, message: str) -> None:
    m, fit = fits["rescor"]
    with pytest.raises(HypothesisError, match=message.replace("?", r"\?")):
        m.hypothesis(fit, text)


# -- Bayesian R² -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["rescor", "mixed"])
def test_bayes_r2_is_each_responses_r2_by_hand(fits, name: str) -> None:
    m, fit = fits[name]
    table = m.bayes_r2(fit)
    assert list(table.index) == [f"R2{r}" for r in m.responses]  # brms's R2y1, R2y2
    draws = m.bayes_r2(fit, summary=False)
    assert draws.dims == ("response", "chain", "draw")
    for response in m.responses:
        linear = _linear(fit["posterior"], response)
        mu = np.exp(linear) if response == "n" else linear
        y = DATA[response].to_numpy()
        fitted = mu.var(axis=1, ddof=1)
        by_hand = fitted / (fitted + (y - mu).var(axis=1, ddof=1))
        np.testing.assert_allclose(draws.sel(response=response).values.reshape(-1), by_hand)
        row = table.loc[f"R2{response}"]
        assert row["estimate"] == pytest.approx(by_hand.mean())
        assert row["sd"] == pytest.approx(by_hand.std(ddof=1))
        assert row["lower_95"] == pytest.approx(np.quantile(by_hand, 0.025))
    one = m.bayes_r2(fit, response=m.responses[1], prob=0.5)
    assert list(one.index) == [f"R2{m.responses[1]}"]
    assert list(one.columns) == ["estimate", "sd", "lower_50", "upper_50"]
    with pytest.raises(OptionError, match="response='y3' is not a response"):
        m.bayes_r2(fit, response="y3")


# -- posterior predictive checks ---------------------------------------------------------------------


def _lines(figure: Figure) -> list:
    return [line for axes in figure.axes for line in axes.get_lines()]


def test_pp_check_of_one_response_overlays_its_predictive_densities(fits) -> None:
    m, fit = fits["rescor"]
    y1 = DATA["y1"].to_numpy()
    shifted = fit.copy()  # predictive draws far from the data: the lines show which is which
    draws = np.broadcast_to(y1 + 1000.0, (2, 60, len(y1)))
    other = np.zeros((2, 60, len(y1)))
    shifted["posterior_predictive"] = xr.Dataset(
        {"y1": (("chain", "draw", "obs"), draws), "y2": (("chain", "draw", "obs"), other)},
        coords={"chain": [0, 1], "draw": np.arange(60), "obs": np.arange(len(y1))},
    )
    figure = m.pp_check(shifted, response="y1", num_samples=12)
    assert isinstance(figure, Figure)
    lines = _lines(figure)
    assert len(lines) == 13  # 12 predictive draws and the observed density
    centres = [
        np.trapezoid(line.get_xdata() * line.get_ydata(), line.get_xdata()) for line in lines
    ]
    assert centres[-1] == pytest.approx(y1.mean(), rel=0.05)
    np.testing.assert_allclose(centres[:-1], y1.mean() + 1000, rtol=0.02)
    assert figure.axes[0].get_title().startswith("y1: observed and 12 posterior predictive")
    matplotlib.pyplot.close(figure)


def test_pp_check_of_every_response_is_a_figure_each(fits) -> None:
    m, fit = fits["mixed"]
    figures = m.pp_check(fit, random_seed=2, num_samples=20)
    assert isinstance(figures, dict)
    assert list(figures) == ["y1", "n"]
    assert len(_lines(figures["y1"])) == 21  # drawn from predict(kind="response")
    bars = figures["n"].axes[0].patches  # counts: observed frequencies as bars
    values, counts = np.unique(DATA["n"], return_counts=True)
    assert [round(bar.get_x() + bar.get_width() / 2) for bar in bars] == list(values)
    assert [bar.get_height() for bar in bars] == list(counts)
    assert "posterior_predictive" not in fit.children  # the fit is left as it was
    for figure in figures.values():
        matplotlib.pyplot.close(figure)
    with pytest.raises(OptionError, match="response='y2' is not a response"):
        m.pp_check(fit, response="y2")


# -- the pointwise log-likelihood, LOO and compare ---------------------------------------------------


@pytest.mark.parametrize("name", ["rescor", "independent", "sigma", "mixed"])
def test_the_pointwise_log_likelihood_is_each_rows_joint_density(fits, name: str) -> None:
    """With rescor scipy's multivariate normal density of the row; else the sum of the
    responses' densities (brms's log_lik of a multivariate model)."""
    m, fit = fits[name]
    fit = fit.copy()
    m.add_log_likelihood(fit)
    values = fit["log_likelihood"]["Y"]
    assert values.dims == ("chain", "draw", "obs")
    post = fit["posterior"]
    first, second = m.responses
    mu1, mu2 = _linear(post, first), _linear(post, second)
    if name == "sigma":  # log link: sigma_y1 = exp(Intercept + b x) per row
        slope = _flat(post, "sigma_y1_b")[:, :1] * DATA["x"].to_numpy()
        sigma1 = np.exp(_flat(post, "sigma_y1_Intercept")[:, None] + slope)
    else:
        sigma1 = np.repeat(_flat(post, f"sigma_{first}")[:, None], len(DATA), axis=1)
    for chain, draw in ((0, 0), (1, 17), (0, 59)):
        k = chain * 60 + draw
        y = DATA[[first, second]].to_numpy()
        if name in ("rescor", "sigma"):
            rho = _flat(post, "rescor")[k, 0]
            mean = np.column_stack([mu1[k], mu2[k]])
            expected = []
            for i in range(len(y)):
                s = np.array([sigma1[k, i], _flat(post, "sigma_y2")[k]])
                cov = np.outer(s, s) * np.array([[1, rho], [rho, 1]])
                expected.append(stats.multivariate_normal(mean[i], cov).logpdf(y[i]))
        elif name == "independent":
            expected = stats.norm(mu1[k], sigma1[k]).logpdf(y[:, 0]) + stats.norm(
                mu2[k], _flat(post, "sigma_y2")[k]
            ).logpdf(y[:, 1])
        else:
            expected = stats.norm(mu1[k], sigma1[k]).logpdf(y[:, 0]) + stats.poisson(
                np.exp(mu2[k])
            ).logpmf(y[:, 1])
        np.testing.assert_allclose(values.values[chain, draw], expected, rtol=1e-9)


def _exact_fit(m: MultivariateModel, chains: int = 2, draws: int = 500) -> xr.DataTree:
    """Draws of the flat-prior posterior of ``mvbind(y1, y2) ~ x + z``: with residual correlation
    Σ ~ inverse-Wishart(n - k, E'E) and B | Σ ~ matrix-normal(B̂, (X'X)⁻¹, Σ); without, the
    normal-inverse-χ² posterior of each response. Then the joint pointwise log-likelihood."""
    rng = np.random.default_rng(12)
    y = DATA[["y1", "y2"]].to_numpy()
    X = np.column_stack([np.ones(len(y)), DATA["x"], DATA["z"]])
    (n, k), size = X.shape, chains * draws
    b_hat = np.linalg.lstsq(X, y, rcond=None)[0]
    residuals = y - X @ b_hat
    root = np.linalg.cholesky(np.linalg.inv(X.T @ X))
    if m.rescor:
        sigma = stats.invwishart(df=n - k, scale=residuals.T @ residuals).rvs(
            size, random_state=rng
        )
    else:
        variances = (residuals**2).sum(axis=0) / rng.chisquare(n - k, (size, 2))
        sigma = np.einsum("si,ij->sij", variances, np.eye(2))
    noise = rng.normal(size=(size, k, 2))
    b = b_hat + np.einsum("ij,sjl,sml->sim", root, noise, np.linalg.cholesky(sigma))
    sd = np.sqrt(np.diagonal(sigma, axis1=1, axis2=2))
    corr = sigma / (sd[:, :, None] * sd[:, None, :])
    shape = (chains, draws)
    variables: dict[str, tuple[tuple[str, ...], np.ndarray]] = {}
    for j, r in enumerate(("y1", "y2")):
        variables[f"{r}_Intercept"] = (("chain", "draw"), b[:, 0, j].reshape(shape))
        variables[f"{r}_b"] = (("chain", "draw", f"{r}_coef"), b[:, 1:, j].reshape(*shape, k - 1))
        variables[f"sigma_{r}"] = (("chain", "draw"), sd[:, j].reshape(shape))
    if m.rescor:
        dims = ("chain", "draw", "Lrescor_dim_0", "Lrescor_dim_1")
        variables["Lrescor"] = (dims, np.linalg.cholesky(corr).reshape(*shape, 2, 2))
        variables["rescor"] = (("chain", "draw", "response_pair"), corr[:, 0, 1].reshape(*shape, 1))
    coords = {"chain": range(chains), "draw": range(draws), "y1_coef": ["x", "z"]}
    coords["y2_coef"] = ["x", "z"]
    if m.rescor:
        observed = xr.Dataset(
            {"Y": (("obs", "response"), y)},
            coords={"obs": np.arange(n), "response": ["y1", "y2"]},
        )
    else:
        observed = xr.Dataset({r: ("obs", y[:, j]) for j, r in enumerate(("y1", "y2"))})
    fit = xr.DataTree.from_dict(
        {"posterior": xr.Dataset(variables, coords=coords), "observed_data": observed}
    )
    m.add_log_likelihood(fit)
    return fit


@pytest.fixture(scope="module")
def exact() -> dict[str, tuple[MultivariateModel, xr.DataTree]]:
    out = {}
    for name, rescor in (("rescor", True), ("independent", False)):
        m = hm.Model("mvbind(y1, y2) ~ x + z", DATA, rescor=rescor)
        out[name] = (m, _exact_fit(m))
    return out


def test_loo_is_arviz_s_loo_of_the_joint_log_likelihood(exact) -> None:
    m, fit = exact["rescor"]
    ours = m.loo(fit, pointwise=True)
    theirs = az.loo(fit, pointwise=True, var_name="Y")
    assert ours.elpd == pytest.approx(theirs.elpd)
    assert ours.se == pytest.approx(theirs.se)
    np.testing.assert_allclose(ours.pareto_k.values, theirs.pareto_k.values)
    assert ours.n_data_points == len(DATA)  # one per row, not per response value
    lppd = float(np.log(np.exp(fit["log_likelihood"]["Y"].values).mean(axis=(0, 1))).sum())
    assert lppd - 10 < ours.elpd < lppd


def test_compare_ranks_multivariate_fits_as_arviz_does(exact) -> None:
    ranking = hm.compare(exact)
    theirs = az.compare({name: fit for name, (_, fit) in exact.items()})
    pd.testing.assert_frame_equal(ranking, theirs)
    # the data have a residual correlation of 0.6: modelling it predicts the rows better
    assert list(ranking.index) == ["rescor", "independent"]


def test_compare_refuses_other_observations(exact) -> None:
    univariate = hm.Model("y1 ~ x", DATA)
    fit = prior_fit(univariate, chains=2, draws=20)
    pm.compute_log_likelihood(fit, model=univariate.pymc_rows, progressbar=False)
    with pytest.raises(
        hm.HiermodError,
        match="'rescor' predicts the rows of the responses y1, y2 jointly, 'y1' the response y1",
    ):
        hm.compare({"rescor": exact["rescor"], "y1": (univariate, fit)})
    m, rescor_fit = exact["rescor"]
    fewer = rescor_fit.isel(obs=slice(0, 50))
    with pytest.raises(hm.HiermodError, match="same rows: 'all' has 60 observations"):
        hm.compare({"all": (m, rescor_fit), "fewer": (m, fewer)})


def test_without_a_log_likelihood_loo_says_why(fits, monkeypatch) -> None:
    m, fit = fits["independent"]
    bare = fit.copy()
    monkeypatch.setattr("hiermod.inference.fit.MAX_POINTWISE_VALUES", 100)
    with pytest.warns(FitWarning, match="pointwise log-likelihood was not computed"):
        m._after_fit(bare, None, False, None)  # what fit() does after sampling
    assert "log_likelihood" not in bare.children
    with pytest.raises(
        hm.HiermodError, match=r"log_likelihood=True, or .* m\w*.add_log_likelihood"
    ):
        m.loo(bare)
    with pytest.raises(hm.HiermodError, match="the fit of 'bare' has no pointwise"):
        hm.compare({"bare": (m, bare), "again": (m, bare)})
    m._after_fit(bare, True, False, None)  # asked for: computed whatever its size
    assert bare["log_likelihood"]["Y"].shape == (2, 60, len(DATA))


# -- prior predictive and update -------------------------------------------------------------------


def test_prior_predictive_draws_the_responses_jointly(fits) -> None:
    m, _ = fits["rescor"]
    prior = m.prior_predictive(draws=25, random_seed=5)
    assert prior["prior_predictive"]["Y"].dims == ("chain", "draw", "obs", "response")
    assert prior["prior_predictive"]["Y"].shape == (1, 25, len(DATA), 2)
    again = m.prior_predictive(draws=25, random_seed=5)
    np.testing.assert_array_equal(prior["prior"]["y1_b"].values, again["prior"]["y1_b"].values)
    independent, _ = fits["independent"]
    assert set(independent.prior_predictive(draws=5)["prior_predictive"].data_vars) == {"y1", "y2"}


def test_update_keeps_defaults_on_new_data_and_rewrites_each_response() -> None:
    m = hm.Model(FORMULA, DATA, priors={"y1_b": "normal(0, 2)", "rescor": "lkj(2)"})
    fewer = m.update(data=DATA.iloc[:40])
    assert isinstance(fewer, MultivariateModel)
    assert len(fewer.data) == 40
    assert list(fewer.priors["prior"]) == list(m.priors["prior"])  # chosen on the first data
    assert fewer.rescor_eta == 2.0
    wider = m.update(". ~ . + z")
    assert str(wider.formula) == "mvbind(y1, y2) ~ 1 + x + z + (1 | g)"
    with pytest.warns(DataWarning, match="prior 'rescor' was dropped"):
        apart = m.update("mvbind(y1, y2) ~ z", rescor=False)
    assert not apart.rescor
    assert str(apart.formula) == "mvbind(y1, y2) ~ 1 + z"
    with pytest.raises(OptionError, match="keeps its responses"):
        m.update("y3 ~ .")
    with pytest.raises(TypeError, match="did you mean 'family'"):
        m.update(famly="poisson")


# -- a real fit ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_fit_stores_the_joint_log_likelihood_and_predictive_draws() -> None:
    m = hm.Model("mvbind(y1, y2) ~ x", DATA)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)  # few draws
        fit = m.fit(draws=100, tune=150, chains=2, random_seed=4, posterior_predictive=True)
        bare = m.fit(draws=20, tune=20, chains=1, log_likelihood=False)
    assert "log_likelihood" not in bare.children
    assert fit["posterior"].attrs["hiermod_tune"] == 150
    stored = fit["log_likelihood"]["Y"]
    assert stored.shape == (2, 100, len(DATA))
    again = fit.copy()
    m.add_log_likelihood(again)
    np.testing.assert_allclose(again["log_likelihood"]["Y"].values, stored.values)
    assert set(fit["posterior_predictive"].data_vars) == {"y1", "y2"}
    assert fit["posterior_predictive"]["y1"].shape == (2, 100, len(DATA))
    assert m.loo(fit).elpd < 0
