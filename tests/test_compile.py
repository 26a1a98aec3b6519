"""The compiler against hand-written PyMC: one case table, one hand-written model per formula.

Each case builds ``hm.Model(formula, data, family=…, priors=…, layout=…)`` and a PyMC model written the
way a careful PyMC user writes it by hand — explicit coords and dims, ``pm.Data``, non-centred group
effects (``z * sd`` or ``z @ chol.T`` with ``pm.LKJCholeskyCov``), fancy indexing such as
``r[g_idx, c_idx]`` — and checks with :func:`support.assert_same_model` that both have the same free
variables (names, dims, coords) and the same logp and gradient at random points (rtol 1e-8).

Nothing here reads hiermod's internals: the hand-written models take their names from the naming
scheme documented in :mod:`hiermod.plan.names`, their level orders from the documented coding rules (sorted
levels, treatment contrasts, first factor fastest), and their priors either from the case's explicit
``priors=`` or — in the cases marked *default priors* — from the rules in the :mod:`hiermod.plan.priors`
docstring, computed here from the data. The two models of the forum thread
(``shared/context/forum-thread-multilevel-groups.md``) are written out as in its final answer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import pytest
from support import assert_same_model
from test_categorical import FAMILIES as CATEGORICAL
from test_families import HAND_FAMILIES
from test_multinomial import FAMILIES as COLUMNS
from test_ordinal import CASES as ORDINAL_CASES

import hiermod as hm
from hiermod.data.families import FAMILIES
from hiermod.datasets import correlated_slopes, forum_scenario

# ---------------------------------------------------------------------------------------------------
# Data: small, seeded, every response kind in one frame.

N_ROWS = 240
GROUPS = ("a", "b", "c", "d", "e")
COLORS = ("blue", "green", "red")  # sorted, as hiermod orders string levels
HOUSES = tuple(f"h{i:02d}" for i in range(24))  # nested in groups: house i is in group i % 5


@functools.cache
def frame() -> pd.DataFrame:
    """240 rows; g × c crossed (15 of 15 cells observed), g:h nested (24 of 120 cells observed)."""
    rng = np.random.default_rng(20240611)
    i = np.arange(N_ROWS)
    house = rng.permutation(i % len(HOUSES))
    group = house % len(GROUPS)
    color = rng.permutation(i % len(COLORS))
    x = rng.normal(0.0, 1.0, N_ROWS)
    x2 = rng.normal(1.0, 2.0, N_ROWS)
    effect = rng.normal(0.0, 0.5, len(GROUPS))[group]
    eta = 0.3 + 0.8 * x + effect
    ntr = rng.integers(1, 12, N_ROWS)
    expo = rng.uniform(0.5, 3.0, N_ROWS)
    mean_pos = np.exp(0.5 + 0.3 * x + effect)
    data = pd.DataFrame(
        {
            "g": np.array(GROUPS)[group],
            "c": np.array(COLORS)[color],
            "h": np.array(HOUSES)[house],
            "f": rng.choice(["p", "q", "r"], N_ROWS),
            "x": x,
            "x2": x2,
            "y": 10.0 + 2.0 * x + 3 * effect + rng.normal(0.0, 1.5, N_ROWS),
            "yb": rng.binomial(1, 1 / (1 + np.exp(-eta))),
            "outcome": np.where(rng.binomial(1, 1 / (1 + np.exp(-eta))) == 1, "yes", "no"),
            "ntr": ntr,
            "succ": rng.binomial(ntr, 1 / (1 + np.exp(-eta))),
            "expo": expo,
            "cnt": rng.poisson(expo * np.exp(eta - 0.5)),
            "pos": rng.gamma(3.0, mean_pos / 3.0),
            "prop": np.clip(rng.beta(4 * np.exp(eta) / (1 + np.exp(eta)) + 0.5, 3.0), 0.01, 0.99),
            "w": rng.uniform(0.5, 2.0, N_ROWS),
            "amount": rng.normal(np.exp(3.0 + 0.3 * x + effect), 5.0),
            "gid": rng.permutation(
                i % 12 + 1
            ),  # integer labels: 1, 2, …, 10, 11, 12 (not "10" < "2")
        }
    )
    assert data.groupby(["g", "c"]).ngroups == len(GROUPS) * len(COLORS)  # crossed
    assert data.groupby(["g", "h"]).ngroups == len(HOUSES)  # nested
    return data


@functools.cache
def slopes_frame() -> pd.DataFrame:
    return correlated_slopes(n_groups=8, per_group=25, seed=11).data


@functools.cache
def forum_frame() -> pd.DataFrame:
    return forum_scenario(n_rows=320, n_features=2, n_groups=4, n_colors=2, seed=5).data


@functools.cache
def schools_frame() -> pd.DataFrame:
    """Rubin's eight schools: estimated effects and their standard errors."""
    return pd.DataFrame(
        {
            "school": [
                "Choate",
                "Deerfield",
                "Phillips Andover",
                "Phillips Exeter",
                "Hotchkiss",
                "Lawrenceville",
                "St. Paul's",
                "Mt. Hermon",
            ],
            "y": [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0],
            "s": [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0],
        }
    )


# ---------------------------------------------------------------------------------------------------
# What a user computes by hand before writing a model: codes, levels, columns, scales.


def codes(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes and the sorted levels, as ``pd.factorize(sort=True)`` gives them."""
    idx, levels = pd.factorize(series, sort=True)
    return idx, [str(v) for v in levels]


def r4(value: float) -> float:
    """Default priors are rounded to 4 significant digits (hiermod/plan/priors.py, Prior.rounded)."""
    return float(f"{value:.4g}")


def sd(values: np.ndarray | pd.Series) -> float:
    return float(np.std(np.asarray(values, dtype=float), ddof=1))


def dummies(series: pd.Series, levels: list[str]) -> np.ndarray:
    return np.column_stack([(series == lv).to_numpy(dtype=float) for lv in levels])


def orthopoly(x: np.ndarray, degree: int) -> np.ndarray:
    """R's poly(x, degree): each power's residual on the lower powers, scaled to unit length."""
    xc = x - x.mean()
    columns = []
    for j in range(1, degree + 1):
        lower = xc[:, None] ** np.arange(j)
        coef, *_ = np.linalg.lstsq(lower, xc**j, rcond=None)
        resid = xc**j - lower @ coef
        columns.append(resid / np.linalg.norm(resid))
    return np.column_stack(columns)


def pairs(terms: list[str]) -> list[str]:
    """Labels of the stored correlations: each pair of terms once, the upper triangle by rows."""
    return [f"{a}, {b}" for i, a in enumerate(terms) for b in terms[i + 1 :]]


def obs(data: pd.DataFrame) -> dict[str, object]:
    return {"obs": np.arange(len(data))}


GAUSS_PRIORS = {
    "Intercept": "normal(10, 5)",
    "b": "normal(0, 2)",
    "sd": "half_normal(1.5)",
    "sigma": "exponential(0.5)",
}
LINK_PRIORS = {"Intercept": "normal(0, 2)", "b": "normal(0, 1)", "sd": "half_normal(0.8)"}


# ---------------------------------------------------------------------------------------------------
# Hand-written models: families.


def hand_gaussian_default() -> pm.Model:
    """y ~ x + (1 | g), default priors: student_t(3, mean y, 2.5 sd y), normal(0, 2.5 sd y / sd x),
    half_normal(sd y), exponential(1 / sd y)."""
    d = frame()
    y, x = d["y"].to_numpy(), d["x"].to_numpy()
    g_idx, groups = codes(d["g"])
    with pm.Model(coords={**obs(d), "coef": ["x"], "g": groups}) as model:
        X = pm.Data("X", x[:, None], dims=("obs", "coef"))
        g = pm.Data("g_idx", g_idx, dims="obs")
        intercept = pm.StudentT("Intercept", nu=3, mu=r4(y.mean()), sigma=r4(2.5 * sd(y)))
        b = pm.Normal("b", 0.0, r4(2.5 * sd(y) / sd(x)), dims="coef")
        sd_g = pm.HalfNormal("sd_g", r4(sd(y)))
        z_g = pm.Normal("z_g", 0.0, 1.0, dims="g")
        r_g = pm.Deterministic("r_g", z_g * sd_g, dims="g")
        sigma = pm.Exponential("sigma", r4(1.0 / sd(y)))
        pm.Normal("y", intercept + X @ b + r_g[g], sigma, observed=y, dims="obs")
    return model


def _random_intercept_model(
    response: str,
    likelihood: Callable[[pt.TensorVariable, np.ndarray], None],
    extra: Callable[[], None] | None = None,
) -> pm.Model:
    """``response ~ x + (1 | g)`` with LINK_PRIORS; ``likelihood(eta, y)`` adds the observed node."""
    d = frame()
    x = d["x"].to_numpy()
    g_idx, groups = codes(d["g"])
    with pm.Model(coords={**obs(d), "coef": ["x"], "g": groups}) as model:
        X = pm.Data("X", x[:, None], dims=("obs", "coef"))
        g = pm.Data("g_idx", g_idx, dims="obs")
        intercept = pm.Normal("Intercept", 0.0, 2.0)
        b = pm.Normal("b", 0.0, 1.0, dims="coef")
        sd_g = pm.HalfNormal("sd_g", 0.8)
        z_g = pm.Normal("z_g", 0.0, 1.0, dims="g")
        r_g = pm.Deterministic("r_g", z_g * sd_g, dims="g")
        if extra is not None:
            extra()
        likelihood(intercept + X @ b + r_g[g], d[response].to_numpy())
    return model


def hand_gaussian_log_link_default() -> pm.Model:
    """amount ~ x + (1 | g), gaussian with a log link, default priors: mu's on the log scale
    (student_t(3, 0, 2.5), normal(0, 2.5 / sd x), half_normal(1)); sigma is on the scale of y, so
    exponential(1 / sd y)."""
    d = frame()
    y, x = d["amount"].to_numpy(), d["x"].to_numpy()
    g_idx, groups = codes(d["g"])
    with pm.Model(coords={**obs(d), "coef": ["x"], "g": groups}) as model:
        X = pm.Data("X", x[:, None], dims=("obs", "coef"))
        intercept = pm.StudentT("Intercept", nu=3, mu=0.0, sigma=2.5)
        b = pm.Normal("b", 0.0, r4(2.5 / sd(x)), dims="coef")
        sd_g = pm.HalfNormal("sd_g", 1.0)
        z_g = pm.Normal("z_g", 0.0, 1.0, dims="g")
        r_g = pm.Deterministic("r_g", z_g * sd_g, dims="g")
        sigma = pm.Exponential("sigma", r4(1.0 / sd(y)))
        mu = pt.exp(intercept + X @ b + r_g[g_idx])
        pm.Normal("amount", mu, sigma, observed=y, dims="obs")
    return model


def hand_student_t_log_link_sigma_default() -> pm.Model:
    """amount ~ x; sigma ~ x, student_t with a log link, default priors: sigma_Intercept ~
    normal(log sd y, 1.5) (sigma is on the scale of y), sigma_b ~ normal(0, 1 / sd x), nu ~ gamma(2, 0.1)."""
    d = frame()
    y, x = d["amount"].to_numpy(), d["x"].to_numpy()
    with pm.Model(coords={**obs(d), "coef": ["x"], "sigma_coef": ["x"]}) as model:
        X = pm.Data("X", x[:, None], dims=("obs", "coef"))
        intercept = pm.StudentT("Intercept", nu=3, mu=0.0, sigma=2.5)
        b = pm.Normal("b", 0.0, r4(2.5 / sd(x)), dims="coef")
        sigma_intercept = pm.Normal("sigma_Intercept", r4(np.log(sd(y))), 1.5)
        sigma_b = pm.Normal("sigma_b", 0.0, r4(1.0 / sd(x)), dims="sigma_coef")
        nu = pm.Gamma("nu", alpha=2.0, beta=0.1)
        mu = pt.exp(intercept + X @ b)
        sigma = pt.exp(sigma_intercept + X[:, 0] * sigma_b[0])
        pm.StudentT("amount", nu=nu, mu=mu, sigma=sigma, observed=y, dims="obs")
    return model


def hand_lognormal_default() -> pm.Model:
    """pos ~ x + (1 | g), lognormal, default priors: the gaussian rules with log(pos) for y."""
    d = frame()
    logy, x = np.log(d["pos"].to_numpy()), d["x"].to_numpy()
    g_idx, groups = codes(d["g"])
    with pm.Model(coords={**obs(d), "coef": ["x"], "g": groups}) as model:
        X = pm.Data("X", x[:, None], dims=("obs", "coef"))
        intercept = pm.StudentT("Intercept", nu=3, mu=r4(logy.mean()), sigma=r4(2.5 * sd(logy)))
        b = pm.Normal("b", 0.0, r4(2.5 * sd(logy) / sd(x)), dims="coef")
        sd_g = pm.HalfNormal("sd_g", r4(sd(logy)))
        z_g = pm.Normal("z_g", 0.0, 1.0, dims="g")
        r_g = pm.Deterministic("r_g", z_g * sd_g, dims="g")
        sigma = pm.Exponential("sigma", r4(1.0 / sd(logy)))
        mu = intercept + X @ b + r_g[g_idx]
        pm.LogNormal("pos", mu=mu, sigma=sigma, observed=d["pos"].to_numpy(), dims="obs")
    return model


def hand_integer_group_labels() -> pm.Model:
    """y ~ x + (1 | gid) with integer labels: levels in numeric order, 1, 2, …, 12, and the
    coords are those ints (``posterior.r_gid.sel(gid=1)``)."""
    d = frame()
    gid_idx, levels = pd.factorize(d["gid"], sort=True)
    gids = [int(v) for v in levels]
    assert gids[:3] == [1, 2, 3]

    def effects(X: pt.TensorVariable) -> pt.TensorVariable:
        sd_gid = pm.HalfNormal("sd_gid", 1.5)
        z_gid = pm.Normal("z_gid", 0.0, 1.0, dims="gid")
        r_gid = pm.Deterministic("r_gid", z_gid * sd_gid, dims="gid")
        return r_gid[gid_idx]

    return _gaussian_with({"coef": ["x"], "gid": gids}, effects, d[["x"]].to_numpy())


def hand_student_t() -> pm.Model:
    d = frame()
    y, x = d["y"].to_numpy(), d["x"].to_numpy()
    g_idx, groups = codes(d["g"])
    with pm.Model(coords={**obs(d), "coef": ["x"], "g": groups}) as model:
        X = pm.Data("X", x[:, None], dims=("obs", "coef"))
        g = pm.Data("g_idx", g_idx, dims="obs")
        intercept = pm.Normal("Intercept", 10.0, 5.0)
        b = pm.Normal("b", 0.0, 2.0, dims="coef")
        sd_g = pm.HalfNormal("sd_g", 1.5)
        z_g = pm.Normal("z_g", 0.0, 1.0, dims="g")
        r_g = pm.Deterministic("r_g", z_g * sd_g, dims="g")
        sigma = pm.Exponential("sigma", 0.5)
        nu = pm.Gamma("nu", alpha=2.0, beta=0.1)
        pm.StudentT("y", nu=nu, mu=intercept + X @ b + r_g[g], sigma=sigma, observed=y, dims="obs")
    return model


def hand_bernoulli_logit_default() -> pm.Model:
    """yb ~ x + (1 | g), default priors on the logit scale: student_t(3, 0, 2.5),
    normal(0, 2.5 / sd x), half_normal(1)."""
    d = frame()
    x = d["x"].to_numpy()
    g_idx, groups = codes(d["g"])
    with pm.Model(coords={**obs(d), "coef": ["x"], "g": groups}) as model:
        X = pm.Data("X", x[:, None], dims=("obs", "coef"))
        g = pm.Data("g_idx", g_idx, dims="obs")
        intercept = pm.StudentT("Intercept", nu=3, mu=0.0, sigma=2.5)
        b = pm.Normal("b", 0.0, r4(2.5 / sd(x)), dims="coef")
        sd_g = pm.HalfNormal("sd_g", 1.0)
        z_g = pm.Normal("z_g", 0.0, 1.0, dims="g")
        r_g = pm.Deterministic("r_g", z_g * sd_g, dims="g")
        eta = intercept + X @ b + r_g[g]
        pm.Bernoulli("yb", logit_p=eta, observed=d["yb"].to_numpy(), dims="obs")
    return model


def hand_bernoulli_probit() -> pm.Model:
    """outcome ~ x + f with outcome in {no, yes}: 'yes' is 1; f is treatment-coded against 'p'."""
    d = frame()
    X_np = np.column_stack([d["x"].to_numpy(), dummies(d["f"], ["q", "r"])])
    y = (d["outcome"] == "yes").to_numpy(dtype=int)
    with pm.Model(coords={**obs(d), "coef": ["x", "f[q]", "f[r]"]}) as model:
        X = pm.Data("X", X_np, dims=("obs", "coef"))
        intercept = pm.Normal("Intercept", 0.0, 2.0)
        b = pm.Normal("b", 0.0, 1.0, dims="coef")
        p = pm.math.invprobit(intercept + X @ b)  # the normal CDF, accurate in the tails
        pm.Bernoulli("outcome", p=p, observed=y, dims="obs")
    return model


def hand_bernoulli_cloglog() -> pm.Model:
    def likelihood(eta: pt.TensorVariable, y: np.ndarray) -> None:
        pm.Bernoulli("yb", p=1.0 - pt.exp(-pt.exp(eta)), observed=y, dims="obs")

    return _random_intercept_model("yb", likelihood)


def hand_binomial_trials() -> pm.Model:
    trials = frame()["ntr"].to_numpy()

    def likelihood(eta: pt.TensorVariable, y: np.ndarray) -> None:
        n = pm.Data("trials", trials, dims="obs")
        pm.Binomial("succ", n=n, logit_p=eta, observed=y, dims="obs")

    return _random_intercept_model("succ", likelihood)


def hand_poisson_offset_default() -> pm.Model:
    """cnt ~ x + (1 | g) + offset(log(expo)), default priors (log link: not scaled by the data)."""
    d = frame()
    x = d["x"].to_numpy()
    g_idx, groups = codes(d["g"])
    with pm.Model(coords={**obs(d), "coef": ["x"], "g": groups}) as model:
        X = pm.Data("X", x[:, None], dims=("obs", "coef"))
        g = pm.Data("g_idx", g_idx, dims="obs")
        log_exposure = pm.Data("log_expo", np.log(d["expo"].to_numpy()), dims="obs")
        intercept = pm.StudentT("Intercept", nu=3, mu=0.0, sigma=2.5)
        b = pm.Normal("b", 0.0, r4(2.5 / sd(x)), dims="coef")
        sd_g = pm.HalfNormal("sd_g", 1.0)
        z_g = pm.Normal("z_g", 0.0, 1.0, dims="g")
        r_g = pm.Deterministic("r_g", z_g * sd_g, dims="g")
        rate = pt.exp(intercept + X @ b + r_g[g] + log_exposure)
        pm.Poisson("cnt", mu=rate, observed=d["cnt"].to_numpy(), dims="obs")
    return model


def hand_negativebinomial() -> pm.Model:
    def likelihood(eta: pt.TensorVariable, y: np.ndarray) -> None:
        alpha = pm.Gamma("alpha", alpha=2.0, beta=0.5)
        pm.NegativeBinomial("cnt", mu=pt.exp(eta), alpha=alpha, observed=y, dims="obs")

    return _random_intercept_model("cnt", likelihood)


def hand_gamma() -> pm.Model:
    def likelihood(eta: pt.TensorVariable, y: np.ndarray) -> None:
        shape = pm.Gamma("alpha", alpha=2.0, beta=0.5)
        pm.Gamma("pos", alpha=shape, beta=shape / pt.exp(eta), observed=y, dims="obs")

    return _random_intercept_model("pos", likelihood)


def hand_lognormal() -> pm.Model:
    def likelihood(eta: pt.TensorVariable, y: np.ndarray) -> None:
        sigma = pm.HalfNormal("sigma", 1.0)
        pm.LogNormal("pos", mu=eta, sigma=sigma, observed=y, dims="obs")

    return _random_intercept_model("pos", likelihood)


def hand_beta() -> pm.Model:
    def likelihood(eta: pt.TensorVariable, y: np.ndarray) -> None:
        phi = pm.Gamma("phi", alpha=2.0, beta=0.1)
        mean = pt.sigmoid(eta)
        pm.Beta("prop", alpha=mean * phi, beta=(1.0 - mean) * phi, observed=y, dims="obs")

    return _random_intercept_model("prop", likelihood)


def hand_exponential() -> pm.Model:
    """brms's exponential: rate 1 / mu, so mu = exp(eta) is the mean."""

    def likelihood(eta: pt.TensorVariable, y: np.ndarray) -> None:
        pm.Exponential("pos", lam=1.0 / pt.exp(eta), observed=y, dims="obs")

    return _random_intercept_model("pos", likelihood)


def hand_weibull() -> pm.Model:
    """brms's weibull: weibull(shape, mu / Γ(1 + 1/shape)), mu = exp(eta) the mean."""

    def likelihood(eta: pt.TensorVariable, y: np.ndarray) -> None:
        shape = pm.Gamma("shape", alpha=0.01, beta=0.01)  # brms's default prior
        scale = pt.exp(eta) / pt.exp(pt.gammaln(1.0 + 1.0 / shape))
        pm.Weibull("pos", alpha=shape, beta=scale, observed=y, dims="obs")

    return _random_intercept_model("pos", likelihood)


# ---------------------------------------------------------------------------------------------------
# Hand-written models: block kinds.


def two_term_cholesky(stem: str, sd_sigma: float | np.ndarray, eta: float) -> pt.TensorVariable:
    """A two-term block's sds, correlation and the Cholesky factor of its covariance, by hand:
    LKJ(eta) for two terms is (1 + corr) / 2 ~ Beta(eta, eta) (checked against PyMC's LKJ in
    test_two_term_correlation_prior_is_lkj); hiermod writes ``z @ chol.T`` out elementwise."""
    stds = pm.HalfNormal(f"sd_{stem}", sigma=sd_sigma, dims=f"{stem}_term")
    unit = pm.Beta(f"corr_unit_{stem}", eta, eta, dims=f"{stem}_term_pair")
    rho = pm.Deterministic(f"corr_{stem}", 2.0 * unit - 1.0, dims=f"{stem}_term_pair")[0]
    first = pt.stack([stds[0], pt.constant(0.0)])
    second = pt.stack([stds[1] * rho, stds[1] * pt.sqrt(1.0 - rho**2)])
    return pt.stack([first, second])


def test_two_term_correlation_prior_is_lkj() -> None:
    """The Beta(eta, eta) on (1 + corr) / 2 is LKJ(eta)'s density of the one correlation of two
    terms: log p(corr) = log Beta(u) - log 2 (u = (1 + corr) / 2), against PyMC's LKJCorr (whose
    value is the correlation matrix's Cholesky factor [[1, 0], [corr, sqrt(1 - corr^2)]]; its
    normalising constant is good to about 1e-7)."""
    for eta in (0.5, 1.0, 2.0, 7.0):
        lkj = pm.LKJCorr.dist(n=2, eta=eta)
        for corr in (-0.95, -0.3, 0.0, 0.4, 0.99):
            factor = np.array([[1.0, 0.0], [corr, np.sqrt(1.0 - corr**2)]])
            expected = pm.logp(lkj, factor).eval()
            unit = pm.logp(pm.Beta.dist(eta, eta), (1.0 + corr) / 2.0).eval()
            assert abs(unit - np.log(2.0) - expected) < 1e-6, (eta, corr)


def hand_correlated_default() -> pm.Model:
    """y ~ x + (1 + x | g), default priors; sd_g ~ half_normal([sd y, sd y / sd x]), lkj(2)."""
    d = slopes_frame()
    y, x = d["y"].to_numpy(), d["x"].to_numpy()
    g_idx, groups = codes(d["g"])
    terms = ["Intercept", "x"]
    coords = {**obs(d), "coef": ["x"], "g": groups, "g_term": terms, "g_term_pair": pairs(terms)}
    with pm.Model(coords=coords) as model:
        X = pm.Data("X", x[:, None], dims=("obs", "coef"))
        g = pm.Data("g_idx", g_idx, dims="obs")
        intercept = pm.StudentT("Intercept", nu=3, mu=r4(y.mean()), sigma=r4(2.5 * sd(y)))
        b = pm.Normal("b", 0.0, r4(2.5 * sd(y) / sd(x)), dims="coef")
        chol = two_term_cholesky("g", np.array([r4(sd(y)), r4(sd(y) / sd(x))]), 2.0)
        z_g = pm.Normal("z_g", 0.0, 1.0, dims=("g", "g_term"))
        r_g = pm.Deterministic("r_g", z_g @ chol.T, dims=("g", "g_term"))
        sigma = pm.Exponential("sigma", r4(1.0 / sd(y)))
        mu = intercept + X @ b + r_g[g, 0] + r_g[g, 1] * X[:, 0]
        pm.Normal("y", mu, sigma, observed=y, dims="obs")
    return model


def _gaussian_with(
    coords: dict[str, object],
    effects: Callable[[pt.TensorVariable], pt.TensorVariable],
    x_columns: np.ndarray | None = None,
    *,
    data: pd.DataFrame | None = None,
    sigma: Callable[[], pt.TensorVariable] | None = None,
    intercept: bool = True,
) -> pm.Model:
    """A gaussian model with GAUSS_PRIORS: ``Intercept + X @ b + effects(X)``; ``effects`` writes
    its own group-level parameters; ``sigma`` replaces the constant sigma."""
    d = frame() if data is None else data
    with pm.Model(coords={**obs(d), **coords}) as model:
        mu: pt.TensorVariable = pt.zeros(len(d))
        X = None
        if intercept:
            mu = mu + pm.Normal("Intercept", 10.0, 5.0)
        if x_columns is not None:
            X = pm.Data("X", x_columns, dims=("obs", "coef"))
            mu = mu + X @ pm.Normal("b", 0.0, 2.0, dims="coef")
        mu = mu + effects(X)
        noise = pm.Exponential("sigma", 0.5) if sigma is None else sigma()
        pm.Normal("y", mu, noise, observed=d["y"].to_numpy(), dims="obs")
    return model


def hand_uncorrelated() -> pm.Model:
    """y ~ x + (x || g): one block, independent intercept and slope (diagonal covariance)."""
    d = frame()
    g_idx, groups = codes(d["g"])

    def effects(X: pt.TensorVariable) -> pt.TensorVariable:
        g = pm.Data("g_idx", g_idx, dims="obs")
        sd_g = pm.HalfNormal("sd_g", 1.5, dims="g_term")
        z_g = pm.Normal("z_g", 0.0, 1.0, dims=("g", "g_term"))
        r_g = pm.Deterministic("r_g", z_g * sd_g, dims=("g", "g_term"))
        return r_g[g, 0] + r_g[g, 1] * X[:, 0]

    coords = {"coef": ["x"], "g": groups, "g_term": ["Intercept", "x"]}
    return _gaussian_with(coords, effects, d[["x"]].to_numpy())


def hand_uncorrelated_centered() -> pm.Model:
    """y ~ x + (x || g), centered=True: each group's own intercept and slope are the parameters,
    ``beta_g ~ N([Intercept, b], sd_g)``, as written by hand for data-rich groups."""
    d = frame()
    g_idx, groups = codes(d["g"])
    coords = {**obs(d), "coef": ["x"], "g": groups, "g_term": ["Intercept", "x"]}
    with pm.Model(coords=coords) as model:
        x = pm.Data("X", d[["x"]].to_numpy(), dims=("obs", "coef"))
        g = pm.Data("g_idx", g_idx, dims="obs")
        intercept = pm.Normal("Intercept", 10.0, 5.0)
        b = pm.Normal("b", 0.0, 2.0, dims="coef")
        sd_g = pm.HalfNormal("sd_g", 1.5, dims="g_term")
        mean = pt.stack([intercept, b[0]])
        beta_g = pm.Normal("beta_g", mean, sd_g, dims=("g", "g_term"))
        pm.Deterministic("r_g", beta_g - mean, dims=("g", "g_term"))
        mu = beta_g[g, 0] + beta_g[g, 1] * x[:, 0]
        pm.Normal("y", mu, pm.Exponential("sigma", 0.5), observed=d["y"].to_numpy(), dims="obs")
    return model


def hand_correlated_centered(on_population: bool = True) -> pm.Model:
    """y ~ x + (1 + x | g), centered=True: each group's own pair ``beta_g ~ MvNormal([Intercept,
    b], chol)``; with ``on_population=False``, y ~ 0 + (1 + x | g): ``r_g ~ MvNormal(0, chol)``.
    hiermod writes the pair's density out (a bivariate normal), here it is PyMC's MvNormal."""
    d = frame()
    g_idx, groups = codes(d["g"])
    terms = ["Intercept", "x"]
    coords = {**obs(d), "g": groups, "g_term": terms, "g_term_pair": pairs(terms)}
    if on_population:
        coords["coef"] = ["x"]
    with pm.Model(coords=coords) as model:
        g = pm.Data("g_idx", g_idx, dims="obs")
        if on_population:
            x = pm.Data("X", d[["x"]].to_numpy(), dims=("obs", "coef"))[:, 0]
            intercept = pm.Normal("Intercept", 10.0, 5.0)
            b = pm.Normal("b", 0.0, 2.0, dims="coef")
        else:
            x = pm.Data("Z_g", np.stack([np.ones(len(d)), d["x"]], axis=1), dims=("obs", "g_term"))
            x = x[:, 1]
        chol = two_term_cholesky("g", 1.5, 2.0)
        if on_population:
            mean = pt.stack([intercept, b[0]])
            beta_g = pm.MvNormal("beta_g", mean, chol=chol, dims=("g", "g_term"))
            r_g = pm.Deterministic("r_g", beta_g - mean, dims=("g", "g_term"))
            mu = intercept + x * b[0] + r_g[g, 0] + r_g[g, 1] * x
        else:
            r_g = pm.MvNormal("r_g", np.zeros(2), chol=chol, dims=("g", "g_term"))
            mu = r_g[g, 0] + r_g[g, 1] * x
        pm.Normal("y", mu, pm.Exponential("sigma", 0.5), observed=d["y"].to_numpy(), dims="obs")
    return model


def hand_slope_only() -> pm.Model:
    """y ~ x + (0 + x | g): group slopes without group intercepts."""
    d = frame()
    g_idx, groups = codes(d["g"])

    def effects(X: pt.TensorVariable) -> pt.TensorVariable:
        sd_g = pm.HalfNormal("sd_g", 1.5)
        z_g = pm.Normal("z_g", 0.0, 1.0, dims="g")
        r_g = pm.Deterministic("r_g", z_g * sd_g, dims="g")
        return r_g[g_idx] * X[:, 0]

    return _gaussian_with({"coef": ["x"], "g": groups}, effects, d[["x"]].to_numpy())


def hand_two_blocks_one_grouping() -> pm.Model:
    """y ~ x + (1 | g) + (0 + x | g): two independent blocks on g; the second is named g_2."""
    d = frame()
    g_idx, groups = codes(d["g"])

    def effects(X: pt.TensorVariable) -> pt.TensorVariable:
        sd_g = pm.HalfNormal("sd_g", 1.0)
        z_g = pm.Normal("z_g", 0.0, 1.0, dims="g")
        r_g = pm.Deterministic("r_g", z_g * sd_g, dims="g")
        sd_g_2 = pm.HalfNormal("sd_g_2", 0.5)
        z_g_2 = pm.Normal("z_g_2", 0.0, 1.0, dims="g")
        r_g_2 = pm.Deterministic("r_g_2", z_g_2 * sd_g_2, dims="g")
        return r_g[g_idx] + r_g_2[g_idx] * X[:, 0]

    return _gaussian_with({"coef": ["x"], "g": groups}, effects, d[["x"]].to_numpy())


def hand_nested() -> pm.Model:
    """y ~ (1 | g/h) = (1 | g) + (1 | g:h); houses are nested labels, so g:h is laid out over its
    24 observed cells (auto rule: 24 of 120 combinations observed)."""
    d = frame()
    g_idx, groups = codes(d["g"])
    cell_idx, cells = pd.factorize(pd.Series(list(zip(d["g"], d["h"], strict=True))), sort=True)
    cell_labels = [f"{g}:{h}" for g, h in cells]

    def effects(X: pt.TensorVariable | None) -> pt.TensorVariable:
        sd_g = pm.HalfNormal("sd_g", 1.5)
        z_g = pm.Normal("z_g", 0.0, 1.0, dims="g")
        r_g = pm.Deterministic("r_g", z_g * sd_g, dims="g")
        sd_gh = pm.HalfNormal("sd_g__h", 1.5)
        z_gh = pm.Normal("z_g__h", 0.0, 1.0, dims="g__h")
        r_gh = pm.Deterministic("r_g__h", z_gh * sd_gh, dims="g__h")
        return r_g[g_idx] + r_gh[cell_idx]

    return _gaussian_with({"g": groups, "g__h": cell_labels}, effects)


def hand_additive() -> pm.Model:
    """y ~ (1 | g) + (1 | c): crossed pooling, one intercept per group plus one per colour."""
    d = frame()
    g_idx, groups = codes(d["g"])
    c_idx, colors = codes(d["c"])

    def effects(X: pt.TensorVariable | None) -> pt.TensorVariable:
        sd_g = pm.HalfNormal("sd_g", 1.5)
        z_g = pm.Normal("z_g", 0.0, 1.0, dims="g")
        r_g = pm.Deterministic("r_g", z_g * sd_g, dims="g")
        sd_c = pm.HalfNormal("sd_c", 1.5)
        z_c = pm.Normal("z_c", 0.0, 1.0, dims="c")
        r_c = pm.Deterministic("r_c", z_c * sd_c, dims="c")
        return r_g[g_idx] + r_c[c_idx]

    return _gaussian_with({"g": groups, "c": colors}, effects)


def hand_interaction_dense_auto() -> pm.Model:
    """y ~ x + (1 | g:c): every (g, c) cell observed, so auto gives the dense (g, c) layout."""
    d = frame()
    g_idx, groups = codes(d["g"])
    c_idx, colors = codes(d["c"])

    def effects(X: pt.TensorVariable) -> pt.TensorVariable:
        sd_gc = pm.HalfNormal("sd_g__c", 1.5)
        z_gc = pm.Normal("z_g__c", 0.0, 1.0, dims=("g", "c"))
        r_gc = pm.Deterministic("r_g__c", z_gc * sd_gc, dims=("g", "c"))
        return r_gc[g_idx, c_idx]

    coords = {"coef": ["x"], "g": groups, "c": colors}
    return _gaussian_with(coords, effects, d[["x"]].to_numpy())


def hand_interaction_observed() -> pm.Model:
    """y ~ x + (1 + x | g:c), layout="observed": one dim over the observed cells, correlated."""
    d = frame()
    cell_idx, cells = pd.factorize(pd.Series(list(zip(d["g"], d["c"], strict=True))), sort=True)
    terms = ["Intercept", "x"]

    def effects(X: pt.TensorVariable) -> pt.TensorVariable:
        chol = two_term_cholesky("g__c", 1.5, 3.0)
        z = pm.Normal("z_g__c", 0.0, 1.0, dims=("g__c", "g__c_term"))
        r = pm.Deterministic("r_g__c", z @ chol.T, dims=("g__c", "g__c_term"))
        return r[cell_idx, 0] + r[cell_idx, 1] * X[:, 0]

    coords = {
        "coef": ["x"],
        "g__c": [f"{g}:{c}" for g, c in cells],
        "g__c_term": terms,
        "g__c_term_pair": pairs(terms),
    }
    return _gaussian_with(coords, effects, d[["x"]].to_numpy())


def hand_interaction_dense_forced() -> pm.Model:
    """y ~ (1 | g:h), layout="dense": all 5 × 24 combinations get an effect (96 only from the prior)."""
    d = frame()
    g_idx, groups = codes(d["g"])
    h_idx, houses = codes(d["h"])

    def effects(X: pt.TensorVariable | None) -> pt.TensorVariable:
        sd_gh = pm.HalfNormal("sd_g__h", 1.5)
        z_gh = pm.Normal("z_g__h", 0.0, 1.0, dims=("g", "h"))
        r_gh = pm.Deterministic("r_g__h", z_gh * sd_gh, dims=("g", "h"))
        return r_gh[g_idx, h_idx]

    return _gaussian_with({"g": groups, "h": houses}, effects)


# ---------------------------------------------------------------------------------------------------
# Hand-written models: distributional sigma.


def hand_sigma_formula_default() -> pm.Model:
    """y ~ x; sigma ~ x, default priors: sigma_Intercept ~ normal(log sd y, 1.5),
    sigma_b ~ normal(0, 1 / sd x) on the log scale."""
    d = frame()
    y, x = d["y"].to_numpy(), d["x"].to_numpy()
    with pm.Model(coords={**obs(d), "coef": ["x"], "sigma_coef": ["x"]}) as model:
        X = pm.Data("X", x[:, None], dims=("obs", "coef"))
        sigma_X = pm.Data("sigma_X", x[:, None], dims=("obs", "sigma_coef"))
        intercept = pm.StudentT("Intercept", nu=3, mu=r4(y.mean()), sigma=r4(2.5 * sd(y)))
        b = pm.Normal("b", 0.0, r4(2.5 * sd(y) / sd(x)), dims="coef")
        sigma_intercept = pm.Normal("sigma_Intercept", r4(np.log(sd(y))), 1.5)
        sigma_b = pm.Normal("sigma_b", 0.0, r4(1.0 / sd(x)), dims="sigma_coef")
        sigma = pt.exp(sigma_intercept + sigma_X @ sigma_b)
        pm.Normal("y", intercept + X @ b, sigma, observed=y, dims="obs")
    return model


def hand_sigma_group() -> pm.Model:
    """y ~ x + (1 | g); sigma ~ (1 | g): partially pooled noise per group."""
    d = frame()
    g_idx, groups = codes(d["g"])

    def effects(X: pt.TensorVariable) -> pt.TensorVariable:
        sd_g = pm.HalfNormal("sd_g", 1.5)
        z_g = pm.Normal("z_g", 0.0, 1.0, dims="g")
        r_g = pm.Deterministic("r_g", z_g * sd_g, dims="g")
        return r_g[g_idx]

    def sigma() -> pt.TensorVariable:
        sigma_intercept = pm.Normal("sigma_Intercept", 0.0, 1.0)
        sigma_sd_g = pm.HalfNormal("sigma_sd_g", 0.5)
        sigma_z_g = pm.Normal("sigma_z_g", 0.0, 1.0, dims="g")
        sigma_r_g = pm.Deterministic("sigma_r_g", sigma_z_g * sigma_sd_g, dims="g")
        return pt.exp(sigma_intercept + sigma_r_g[g_idx])

    coords = {"coef": ["x"], "g": groups}
    return _gaussian_with(coords, effects, d[["x"]].to_numpy(), sigma=sigma)


def hand_sigma_cells_unpooled() -> pm.Model:
    """y ~ x; sigma ~ 0 + g:c: one free log-sigma per (g, c) cell; coefficient labels run with
    the first factor fastest, g[a]:c[blue], g[b]:c[blue], …, so they reshape to (c, g)."""
    d = frame()
    g_idx, groups = codes(d["g"])
    c_idx, colors = codes(d["c"])
    labels = [f"g[{g}]:c[{c}]" for c in colors for g in groups]

    def sigma() -> pt.TensorVariable:
        sigma_b = pm.Normal("sigma_b", 0.0, 1.0, dims="sigma_coef")
        log_sigma = sigma_b.reshape((len(colors), len(groups)))  # (c, g)
        return pt.exp(log_sigma[c_idx, g_idx])

    coords = {"coef": ["x"], "sigma_coef": labels}
    return _gaussian_with(coords, lambda X: 0.0, d[["x"]].to_numpy(), sigma=sigma)


# ---------------------------------------------------------------------------------------------------
# Hand-written models: categorical slopes, weights, se(), transforms.


def hand_categorical_slopes() -> pm.Model:
    """y ~ x + f + x:f: f against 'p', and the slope of x by level (x:f[q], x:f[r])."""
    d = frame()
    x = d["x"].to_numpy()
    F = dummies(d["f"], ["q", "r"])
    columns = np.column_stack([x, F, x[:, None] * F])
    coords = {"coef": ["x", "f[q]", "f[r]", "x:f[q]", "x:f[r]"]}
    return _gaussian_with(coords, lambda X: 0.0, columns)


def hand_slope_by_level() -> pm.Model:
    """y ~ x:f + (1 | g): without x, one slope per level of f (x:f[p], x:f[q], x:f[r])."""
    d = frame()
    g_idx, groups = codes(d["g"])
    columns = d["x"].to_numpy()[:, None] * dummies(d["f"], ["p", "q", "r"])

    def effects(X: pt.TensorVariable) -> pt.TensorVariable:
        sd_g = pm.HalfNormal("sd_g", 1.5)
        z_g = pm.Normal("z_g", 0.0, 1.0, dims="g")
        r_g = pm.Deterministic("r_g", z_g * sd_g, dims="g")
        return r_g[g_idx]

    coords = {"coef": ["x:f[p]", "x:f[q]", "x:f[r]"], "g": groups}
    return _gaussian_with(coords, effects, columns)


def hand_categorical_block() -> pm.Model:
    """y ~ x + (1 + f | g): a correlated group intercept and group differences f[q], f[r]."""
    d = frame()
    g_idx, groups = codes(d["g"])
    F = dummies(d["f"], ["q", "r"])
    terms = ["Intercept", "f[q]", "f[r]"]

    def effects(X: pt.TensorVariable) -> pt.TensorVariable:
        chol, corr, stds = pm.LKJCholeskyCov(
            "chol_g",
            n=3,
            eta=2.0,
            sd_dist=pm.HalfNormal.dist(1.5, shape=3),
            compute_corr=True,
            store_in_trace=False,
        )
        pm.Deterministic("sd_g", stds, dims="g_term")
        pm.Deterministic("corr_g", corr[np.triu_indices(3, 1)], dims="g_term_pair")
        z_g = pm.Normal("z_g", 0.0, 1.0, dims=("g", "g_term"))
        r_g = pm.Deterministic("r_g", z_g @ chol.T, dims=("g", "g_term"))
        design = np.column_stack([np.ones(len(d)), F])
        return (design * r_g[g_idx]).sum(axis=-1)

    coords = {"coef": ["x"], "g": groups, "g_term": terms, "g_term_pair": pairs(terms)}
    return _gaussian_with(coords, effects, d[["x"]].to_numpy())


def hand_weights() -> pm.Model:
    """y | weights(w) ~ x + (1 | g): each row's log-likelihood times its weight (a Potential)."""
    d = frame()
    y, x, w = d["y"].to_numpy(), d["x"].to_numpy(), d["w"].to_numpy()
    g_idx, groups = codes(d["g"])
    with pm.Model(coords={**obs(d), "coef": ["x"], "g": groups}) as model:
        X = pm.Data("X", x[:, None], dims=("obs", "coef"))
        intercept = pm.Normal("Intercept", 10.0, 5.0)
        b = pm.Normal("b", 0.0, 2.0, dims="coef")
        sd_g = pm.HalfNormal("sd_g", 1.5)
        z_g = pm.Normal("z_g", 0.0, 1.0, dims="g")
        r_g = pm.Deterministic("r_g", z_g * sd_g, dims="g")
        sigma = pm.Exponential("sigma", 0.5)
        mu = intercept + X @ b + r_g[g_idx]
        pm.Potential("weighted_loglik", w * pm.logp(pm.Normal.dist(mu, sigma), y))
    return model


def hand_eight_schools() -> pm.Model:
    """y | se(s) ~ 1 + (1 | school): the non-centred eight schools model."""
    d = schools_frame()
    school_idx, schools = codes(d["school"])
    with pm.Model(coords={**obs(d), "school": schools}) as model:
        mu = pm.Normal("Intercept", 0.0, 5.0)
        tau = pm.HalfCauchy("sd_school", 5.0)
        theta_tilde = pm.Normal("z_school", 0.0, 1.0, dims="school")
        theta = pm.Deterministic("r_school", theta_tilde * tau, dims="school")
        pm.Normal("y", mu + theta[school_idx], sigma=d["s"].to_numpy(), observed=d["y"], dims="obs")
    return model


def hand_transforms_default() -> pm.Model:
    """y ~ center(x) + log(pos) + poly(x2, 2), default priors: normal(0, 2.5 sd y / sd column)."""
    d = frame()
    y = d["y"].to_numpy()
    x, pos, x2 = d["x"].to_numpy(), d["pos"].to_numpy(), d["x2"].to_numpy()
    columns = np.column_stack([x - x.mean(), np.log(pos), orthopoly(x2, 2)])
    scales = [r4(2.5 * sd(y) / sd(columns[:, j])) for j in range(columns.shape[1])]
    labels = ["center(x)", "log(pos)", "poly(x2, 2)[1]", "poly(x2, 2)[2]"]
    with pm.Model(coords={**obs(d), "coef": labels}) as model:
        X = pm.Data("X", columns, dims=("obs", "coef"))
        intercept = pm.StudentT("Intercept", nu=3, mu=r4(y.mean()), sigma=r4(2.5 * sd(y)))
        b = pm.Normal("b", 0.0, np.array(scales), dims="coef")
        sigma = pm.Exponential("sigma", r4(1.0 / sd(y)))
        pm.Normal("y", intercept + X @ b, sigma, observed=y, dims="obs")
    return model


# ---------------------------------------------------------------------------------------------------
# The forum thread's two models, written as in its final answer.

FORUM_PRIORS = {
    "Intercept": "normal(0, 5)",
    "b": "normal(0, 2)",
    "sd": "half_normal(1)",
    "corr": "lkj(2)",
}


def hand_forum_additive() -> pm.Model:
    """Additive pooling: a (group, feature) and a (color, feature) coefficient table, summed per row
    (``X * (beta_group[group_idx] + beta_color[color_idx])).sum(-1)``), and one unpooled noise
    scale per (group, color) cell."""
    d = forum_frame()
    group_idx, groups = codes(d["group"])
    color_idx, colors = codes(d["color"])
    features = ["x1", "x2"]
    terms = ["Intercept", *features]
    coords = {
        **obs(d),
        "coef": features,
        "group": groups,
        "group_term": terms,
        "group_term_pair": pairs(terms),
        "color": colors,
        "color_term": terms,
        "color_term_pair": pairs(terms),
        "sigma_coef": [f"group[{g}]:color[{c}]" for c in colors for g in groups],
    }
    with pm.Model(coords=coords) as model:
        X = pm.Data("X", d[features].to_numpy(), dims=("obs", "coef"))
        intercept = pm.Normal("Intercept", 0.0, 5.0)
        b = pm.Normal("b", 0.0, 2.0, dims="coef")

        chol_group, corr_group, sd_group = pm.LKJCholeskyCov(
            "chol_group", n=3, eta=2.0, sd_dist=pm.HalfNormal.dist(1.0, shape=3),
            compute_corr=True, store_in_trace=False,
        )  # fmt: skip
        pm.Deterministic("sd_group", sd_group, dims="group_term")
        pm.Deterministic("corr_group", corr_group[np.triu_indices(3, 1)], dims="group_term_pair")
        z_group = pm.Normal("z_group", 0.0, 1.0, dims=("group", "group_term"))
        beta_group = pm.Deterministic(
            "r_group", z_group @ chol_group.T, dims=("group", "group_term")
        )

        chol_color, corr_color, sd_color = pm.LKJCholeskyCov(
            "chol_color", n=3, eta=2.0, sd_dist=pm.HalfNormal.dist(1.0, shape=3),
            compute_corr=True, store_in_trace=False,
        )  # fmt: skip
        pm.Deterministic("sd_color", sd_color, dims="color_term")
        pm.Deterministic("corr_color", corr_color[np.triu_indices(3, 1)], dims="color_term_pair")
        z_color = pm.Normal("z_color", 0.0, 1.0, dims=("color", "color_term"))
        beta_color = pm.Deterministic(
            "r_color", z_color @ chol_color.T, dims=("color", "color_term")
        )

        sigma_b = pm.Normal("sigma_b", 0.0, 1.0, dims="sigma_coef")
        log_err = sigma_b.reshape((len(colors), len(groups))).T  # (group, color)

        X1 = pt.concatenate([pt.ones((len(d), 1)), X], axis=1)  # (obs, term)
        mu = intercept + X @ b + (X1 * (beta_group[group_idx] + beta_color[color_idx])).sum(axis=-1)
        err = pt.exp(log_err[group_idx, color_idx])
        pm.Normal("y", mu=mu, sigma=err, observed=d["y"].to_numpy(), dims="obs")
    return model


def hand_forum_nested() -> pm.Model:
    """One intercept and slope vector per (group, color) cell, dims (group, color, term), fancy
    indexed with ``r[g_idx, c_idx]``; partially pooled noise per cell."""
    d = forum_frame()
    group_idx, groups = codes(d["group"])
    color_idx, colors = codes(d["color"])
    features = ["x1", "x2"]
    terms = ["Intercept", *features]
    coords = {
        **obs(d),
        "coef": features,
        "group": groups,
        "color": colors,
        "group__color_term": terms,
        "group__color_term_pair": pairs(terms),
    }
    with pm.Model(coords=coords) as model:
        X = pm.Data("X", d[features].to_numpy(), dims=("obs", "coef"))
        g_idx = pm.Data("g_idx", group_idx, dims="obs")
        c_idx = pm.Data("c_idx", color_idx, dims="obs")
        intercept = pm.Normal("Intercept", 0.0, 5.0)
        b = pm.Normal("b", 0.0, 2.0, dims="coef")

        chol, corr, stds = pm.LKJCholeskyCov(
            "chol_group__color", n=3, eta=2.0, sd_dist=pm.HalfNormal.dist(1.0, shape=3),
            compute_corr=True, store_in_trace=False,
        )  # fmt: skip
        pm.Deterministic("sd_group__color", stds, dims="group__color_term")
        pm.Deterministic(
            "corr_group__color", corr[np.triu_indices(3, 1)], dims="group__color_term_pair"
        )
        z = pm.Normal("z_group__color", 0.0, 1.0, dims=("group", "color", "group__color_term"))
        r = pm.Deterministic(
            "r_group__color", z @ chol.T, dims=("group", "color", "group__color_term")
        )

        sigma_intercept = pm.Normal("sigma_Intercept", np.log(0.5), 1.0)
        sigma_sd = pm.HalfNormal("sigma_sd_group__color", 0.5)
        sigma_z = pm.Normal("sigma_z_group__color", 0.0, 1.0, dims=("group", "color"))
        sigma_r = pm.Deterministic(
            "sigma_r_group__color", sigma_z * sigma_sd, dims=("group", "color")
        )

        X1 = pt.concatenate([pt.ones((len(d), 1)), X], axis=1)  # (obs, term)
        mu = intercept + X @ b + (X1 * r[g_idx, c_idx]).sum(axis=-1)
        sigma = pt.exp(sigma_intercept + sigma_r[g_idx, c_idx])
        pm.Normal("y", mu=mu, sigma=sigma, observed=d["y"].to_numpy(), dims="obs")
    return model


def hand_forum_nested_centered() -> pm.Model:
    """The forum's nested model, centred: each cell's own coefficients ``beta ~ MvNormal([Intercept,
    b], chol)`` and log-sigma ``sigma_beta ~ Normal(sigma_Intercept, sigma_sd)``, as written by hand
    for data-rich cells."""
    d = forum_frame()
    group_idx, groups = codes(d["group"])
    color_idx, colors = codes(d["color"])
    features = ["x1", "x2"]
    terms = ["Intercept", *features]
    cell_dims = ("group", "color", "group__color_term")
    coords = {
        **obs(d),
        "coef": features,
        "group": groups,
        "color": colors,
        "group__color_term": terms,
        "group__color_term_pair": pairs(terms),
    }
    with pm.Model(coords=coords) as model:
        X = pm.Data("X", d[features].to_numpy(), dims=("obs", "coef"))
        g_idx = pm.Data("g_idx", group_idx, dims="obs")
        c_idx = pm.Data("c_idx", color_idx, dims="obs")
        intercept = pm.Normal("Intercept", 0.0, 5.0)
        b = pm.Normal("b", 0.0, 2.0, dims="coef")
        chol, corr, stds = pm.LKJCholeskyCov(
            "chol_group__color", n=3, eta=2.0, sd_dist=pm.HalfNormal.dist(1.0, shape=3),
            compute_corr=True, store_in_trace=False,
        )  # fmt: skip
        pm.Deterministic("sd_group__color", stds, dims="group__color_term")
        pm.Deterministic(
            "corr_group__color", corr[np.triu_indices(3, 1)], dims="group__color_term_pair"
        )
        mean = pt.stack([intercept, b[0], b[1]])
        beta = pm.MvNormal("beta_group__color", mu=mean, chol=chol, dims=cell_dims)
        pm.Deterministic("r_group__color", beta - mean, dims=cell_dims)
        sigma_intercept = pm.Normal("sigma_Intercept", np.log(0.5), 1.0)
        sigma_sd = pm.HalfNormal("sigma_sd_group__color", 0.5)
        sigma_beta = pm.Normal(
            "sigma_beta_group__color", sigma_intercept, sigma_sd, dims=("group", "color")
        )
        pm.Deterministic(
            "sigma_r_group__color", sigma_beta - sigma_intercept, dims=("group", "color")
        )
        X1 = pt.concatenate([pt.ones((len(d), 1)), X], axis=1)  # (obs, term)
        mu = (X1 * beta[g_idx, c_idx]).sum(axis=-1)  # each cell's own coefficients
        sigma = pt.exp(sigma_beta[g_idx, c_idx])
        pm.Normal("y", mu=mu, sigma=sigma, observed=d["y"].to_numpy(), dims="obs")
    return model


# ---------------------------------------------------------------------------------------------------
# The case table.


@dataclass(frozen=True)
class Case:
    """One formula, how hiermod is called, the hand-written model, and the expected effect dims."""

    id: str
    formula: str
    hand: Callable[[], pm.Model]
    effects: dict[str, tuple[str, ...]]  # every r_* / sigma_r_* variable and its dims
    data: Callable[[], pd.DataFrame] = frame
    family: str = "gaussian"
    link: str | None = None
    priors: dict[str, str] | None = field(default=None)
    layout: str = "auto"
    centered: bool | dict[str, bool] = False


def _priors(base: dict[str, str], *, drop: tuple[str, ...] = (), **more: str) -> dict[str, str]:
    """``base`` without the keys in ``drop`` (a key that matches nothing is an error) plus ``more``."""
    return {k: v for k, v in base.items() if k not in drop} | more


CASES = [
    # -- families --------------------------------------------------------------------------------
    Case("gaussian_default_priors", "y ~ x + (1 | g)", hand_gaussian_default, {"r_g": ("g",)}),
    Case("gaussian_log_link_default_priors", "amount ~ x + (1 | g)",
         hand_gaussian_log_link_default, {"r_g": ("g",)}, link="log"),
    Case("student_t_log_link_sigma_default_priors", "amount ~ x; sigma ~ x",
         hand_student_t_log_link_sigma_default, {}, family="student_t", link="log"),
    Case("lognormal_default_priors", "pos ~ x + (1 | g)", hand_lognormal_default,
         {"r_g": ("g",)}, family="lognormal"),
    Case("student_t", "y ~ x + (1 | g)", hand_student_t, {"r_g": ("g",)}, family="student_t",
         priors=_priors(GAUSS_PRIORS, nu="gamma(2, 0.1)")),
    Case("bernoulli_logit_default_priors", "yb ~ x + (1 | g)", hand_bernoulli_logit_default,
         {"r_g": ("g",)}, family="bernoulli"),
    Case("bernoulli_probit_categorical_response", "outcome ~ x + f", hand_bernoulli_probit, {},
         family="bernoulli", link="probit",
         priors={"Intercept": "normal(0, 2)", "b": "normal(0, 1)"}),
    Case("bernoulli_cloglog", "yb ~ x + (1 | g)", hand_bernoulli_cloglog, {"r_g": ("g",)},
         family="bernoulli", link="cloglog", priors=LINK_PRIORS),
    Case("binomial_trials", "succ | trials(ntr) ~ x + (1 | g)", hand_binomial_trials,
         {"r_g": ("g",)}, family="binomial", priors=LINK_PRIORS),
    Case("poisson_offset_default_priors", "cnt ~ x + (1 | g) + offset(log(expo))",
         hand_poisson_offset_default, {"r_g": ("g",)}, family="poisson"),
    Case("negativebinomial", "cnt ~ x + (1 | g)", hand_negativebinomial, {"r_g": ("g",)},
         family="negativebinomial", priors=_priors(LINK_PRIORS, alpha="gamma(2, 0.5)")),
    Case("gamma", "pos ~ x + (1 | g)", hand_gamma, {"r_g": ("g",)}, family="gamma",
         priors=_priors(LINK_PRIORS, alpha="gamma(2, 0.5)")),
    Case("lognormal", "pos ~ x + (1 | g)", hand_lognormal, {"r_g": ("g",)}, family="lognormal",
         priors=_priors(LINK_PRIORS, sigma="half_normal(1)")),
    Case("beta", "prop ~ x + (1 | g)", hand_beta, {"r_g": ("g",)}, family="beta",
         priors=_priors(LINK_PRIORS, phi="gamma(2, 0.1)")),
    Case("exponential", "pos ~ x + (1 | g)", hand_exponential, {"r_g": ("g",)},
         family="exponential", priors=LINK_PRIORS),
    Case("weibull_default_shape_prior", "pos ~ x + (1 | g)", hand_weibull, {"r_g": ("g",)},
         family="weibull", priors=LINK_PRIORS),
    # -- block kinds -----------------------------------------------------------------------------
    Case("correlated_default_priors", "y ~ x + (1 + x | g)", hand_correlated_default,
         {"r_g": ("g", "g_term")}, data=slopes_frame),
    Case("uncorrelated", "y ~ x + (x || g)", hand_uncorrelated, {"r_g": ("g", "g_term")},
         priors=GAUSS_PRIORS),
    Case("correlated_centered", "y ~ x + (1 + x | g)", hand_correlated_centered,
         {"r_g": ("g", "g_term")}, priors=GAUSS_PRIORS, centered=True),
    Case("correlated_centered_on_zero", "y ~ 0 + (1 + x | g)",
         lambda: hand_correlated_centered(on_population=False),
         {"r_g": ("g", "g_term")}, priors={"sd": "half_normal(1.5)", "sigma": "exponential(0.5)"},
         centered=True),
    Case("uncorrelated_centered", "y ~ x + (x || g)", hand_uncorrelated_centered,
         {"r_g": ("g", "g_term")}, priors=GAUSS_PRIORS, centered=True),
    Case("slope_only", "y ~ x + (0 + x | g)", hand_slope_only, {"r_g": ("g",)},
         priors=GAUSS_PRIORS),
    Case("two_blocks_one_grouping", "y ~ x + (1 | g) + (0 + x | g)", hand_two_blocks_one_grouping,
         {"r_g": ("g",), "r_g_2": ("g",)},
         priors=_priors(GAUSS_PRIORS, drop=("sd",), sd_g="half_normal(1)", sd_g_2="half_normal(0.5)")),
    # -- nested vs additive vs interaction; layouts -------------------------------------------------
    Case("nested_auto_observed", "y ~ (1 | g/h)", hand_nested,
         {"r_g": ("g",), "r_g__h": ("g__h",)}, priors=_priors(GAUSS_PRIORS, drop=("b",))),
    Case("additive", "y ~ (1 | g) + (1 | c)", hand_additive, {"r_g": ("g",), "r_c": ("c",)},
         priors=_priors(GAUSS_PRIORS, drop=("b",))),
    Case("interaction_auto_dense", "y ~ x + (1 | g:c)", hand_interaction_dense_auto,
         {"r_g__c": ("g", "c")}, priors=GAUSS_PRIORS),
    Case("interaction_observed", "y ~ x + (1 + x | g:c)", hand_interaction_observed,
         {"r_g__c": ("g__c", "g__c_term")}, priors=_priors(GAUSS_PRIORS, corr="lkj(3)"),
         layout="observed"),
    Case("interaction_dense_forced", "y ~ (1 | g:h)", hand_interaction_dense_forced,
         {"r_g__h": ("g", "h")}, priors=_priors(GAUSS_PRIORS, drop=("b",)), layout="dense"),
    # -- distributional sigma ----------------------------------------------------------------------
    Case("sigma_formula_default_priors", "y ~ x\nsigma ~ x", hand_sigma_formula_default, {}),
    Case("sigma_group", "y ~ x + (1 | g); sigma ~ (1 | g)", hand_sigma_group,
         {"r_g": ("g",), "sigma_r_g": ("g",)},
         priors=_priors(GAUSS_PRIORS, drop=("sigma",), sigma_Intercept="normal(0, 1)",
                        sigma_sd="half_normal(0.5)")),
    Case("sigma_cells_unpooled", "y ~ x; sigma ~ 0 + g:c", hand_sigma_cells_unpooled, {},
         priors=_priors(GAUSS_PRIORS, drop=("sd", "sigma"), sigma_b="normal(0, 1)")),
    # -- categorical slopes, weights, se(), transforms -------------------------------------------
    Case("categorical_slopes", "y ~ x + f + x:f", hand_categorical_slopes, {},
         priors=_priors(GAUSS_PRIORS, drop=("sd",))),
    Case("slope_by_level", "y ~ x:f + (1 | g)", hand_slope_by_level, {"r_g": ("g",)},
         priors=GAUSS_PRIORS),
    Case("categorical_block", "y ~ x + (1 + f | g)", hand_categorical_block,
         {"r_g": ("g", "g_term")}, priors=_priors(GAUSS_PRIORS, corr="lkj(2)")),
    Case("integer_group_labels", "y ~ x + (1 | gid)", hand_integer_group_labels,
         {"r_gid": ("gid",)}, priors=GAUSS_PRIORS),
    Case("weights", "y | weights(w) ~ x + (1 | g)", hand_weights, {"r_g": ("g",)},
         priors=GAUSS_PRIORS),
    Case("eight_schools_se", "y | se(s) ~ 1 + (1 | school)", hand_eight_schools,
         {"r_school": ("school",)}, data=schools_frame,
         priors={"Intercept": "normal(0, 5)", "sd": "half_cauchy(5)"}),
    Case("transforms_default_priors", "y ~ center(x) + log(pos) + poly(x2, 2)",
         hand_transforms_default, {}),
    # -- the forum thread --------------------------------------------------------------------------
    Case("forum_additive",
         "y ~ x1 + x2 + (1 + x1 + x2 | group) + (1 + x1 + x2 | color)\nsigma ~ 0 + group:color",
         hand_forum_additive, {"r_group": ("group", "group_term"), "r_color": ("color", "color_term")},
         data=forum_frame, priors=_priors(FORUM_PRIORS, sigma_b="normal(0, 1)")),
    Case("forum_nested",
         "y ~ x1 + x2 + (1 + x1 + x2 | group:color)\nsigma ~ (1 | group:color)",
         hand_forum_nested,
         {"r_group__color": ("group", "color", "group__color_term"),
          "sigma_r_group__color": ("group", "color")},
         data=forum_frame,
         priors=_priors(FORUM_PRIORS, sigma_Intercept="normal(-0.6931471805599453, 1)",
                        sigma_sd="half_normal(0.5)")),
    Case("forum_nested_centered",
         "y ~ x1 + x2 + (1 + x1 + x2 | group:color)\nsigma ~ (1 | group:color)",
         hand_forum_nested_centered,
         {"r_group__color": ("group", "color", "group__color_term"),
          "sigma_r_group__color": ("group", "color")},
         data=forum_frame,
         priors=_priors(FORUM_PRIORS, sigma_Intercept="normal(-0.6931471805599453, 1)",
                        sigma_sd="half_normal(0.5)"),
         centered={"group:color": True}),
]  # fmt: skip
BY_ID = {case.id: case for case in CASES}


@functools.cache
def compiled(case_id: str) -> hm.Model:
    case = BY_ID[case_id]
    return hm.Model(
        case.formula,
        case.data(),
        family=case.family,
        link=case.link,
        priors=case.priors,
        layout=case.layout,
        centered=case.centered,
    )


@functools.cache
def hand(case_id: str) -> pm.Model:
    return BY_ID[case_id].hand()


# ---------------------------------------------------------------------------------------------------
# Tests.


def test_table_covers_the_compiler_issue() -> None:
    assert len(CASES) >= 25
    assert len(BY_ID) == len(CASES)
    # the families beyond the classic ones have their hand-written models in test_families.py
    # and (ordinal) test_ordinal.py, (categorical) test_categorical.py, (a column per category)
    # test_multinomial.py
    ordinal = {family for family, _ in ORDINAL_CASES}
    assert {c.family for c in CASES} | HAND_FAMILIES | ordinal | set(CATEGORICAL) | set(
        COLUMNS
    ) == set(FAMILIES)
    assert not {c.family for c in CASES} & HAND_FAMILIES
    assert {c.link for c in CASES if c.family == "bernoulli"} == {None, "probit", "cloglog"}
    assert {c.layout for c in CASES} == {"auto", "dense", "observed"}
    defaults = [c.id for c in CASES if c.priors is None]
    assert 3 <= len(defaults) <= 10, defaults


@pytest.mark.parametrize("case_id", list(BY_ID))
def test_same_model_as_hand_written(case_id: str) -> None:
    assert_same_model(compiled(case_id).pymc, hand(case_id), n_points=3, rtol=1e-8)


@pytest.mark.parametrize("case_id", list(BY_ID))
def test_effect_dims_and_coords(case_id: str) -> None:
    case = BY_ID[case_id]
    ours, theirs = compiled(case_id).pymc, hand(case_id)
    free = {rv.name for rv in ours.free_RVs}
    effects = {n for n in ours.named_vars if n.startswith(("r_", "sigma_r_"))}
    assert effects == set(case.effects)
    # r is computed: from z (non-centred) or beta (centred on the population); it is the
    # parameter itself only centred on 0 (a block none of whose terms has a population parameter)
    free_effects = effects & free
    betas = {n.replace("beta_", "r_", 1) for n in free if n.startswith(("beta_", "sigma_beta_"))}
    assert not betas & free_effects
    assert betas | free_effects == (set(case.effects) if case.centered else set())
    on_zero = {"correlated_centered_on_zero"}
    assert bool(free_effects) == (case_id in on_zero), free_effects
    for name, dims in case.effects.items():
        assert ours.named_vars_to_dims[name] == dims, name
        assert theirs.named_vars_to_dims[name] == dims, name
        for dim in dims:
            assert tuple(ours.coords[dim]) == tuple(theirs.coords[dim]), dim
        shape = tuple(len(theirs.coords[dim]) for dim in dims)
        assert tuple(ours[name].shape.eval()) == shape, name
