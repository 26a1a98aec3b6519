"""The multinomial and Dirichlet families: a column per category, ``cbind(a, b, c) ~ …``.

As for the categorical family (tests/test_categorical.py), with independent checks: the compiled
models against hand-written PyMC models (``pm.Multinomial`` over the softmax of the stacked
log-odds; ``pm.Dirichlet`` with alpha = phi * softmax, brms's ``dirichlet_logit``) at random
points, logp and gradient; the response checks; predictions against NumPy from the draws; the
exported source; (slow) recovery on data simulated with NumPy.
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
from hiermod.errors import DataError, FamilyError, FormulaError
from hiermod.output.module import load_module

FAMILIES = ("multinomial", "dirichlet")  # tests/test_compile.py checks every family has a model
TRUE = {"mub": (0.4, 1.0), "muc": (-0.3, -0.8)}  # (intercept, slope of x)
SD_G, PHI, N_GROUPS = 0.5, 12.0, 8


def simulate(n: int, seed: int) -> pd.DataFrame:
    """Counts out of 5..29 trials, and shares, from a multinomial logit with a group intercept on
    mub (NumPy only)."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, N_GROUPS, n)
    x = rng.normal(size=n)
    r = rng.normal(0.0, SD_G, N_GROUPS)
    eta = np.stack(
        [
            np.zeros(n),
            TRUE["mub"][0] + TRUE["mub"][1] * x + r[g],
            TRUE["muc"][0] + TRUE["muc"][1] * x,
        ],
        axis=1,
    )
    p = np.exp(eta - eta.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    size = rng.integers(5, 30, n)
    counts = np.array([rng.multinomial(s, row) for s, row in zip(size, p, strict=True)])
    shares = np.array([rng.dirichlet(PHI * row) for row in p])
    shares = np.clip(shares, 1e-9, None)
    shares /= shares.sum(axis=1, keepdims=True)
    return pd.DataFrame(
        {"a": counts[:, 0], "b": counts[:, 1], "c": counts[:, 2], "size": size, "x": x,
         "g": [f"g{i}" for i in g], "sa": shares[:, 0], "sb": shares[:, 1], "sc": shares[:, 2]}
    )  # fmt: skip


@functools.cache
def frame() -> pd.DataFrame:
    return simulate(200, seed=7)


PRIORS = {"mub_b": "normal(0, 1)", "muc_b": "normal(0, 1)", "mub_sd_g": "half_normal(1)"}
FORMULAS = {
    "multinomial": "cbind(a, b, c) ~ x + (1 | g)\nmuc ~ x",
    "dirichlet": "cbind(sa, sb, sc) ~ x + (1 | g)\nmusc ~ x\nphi ~ x",
}


@functools.cache
def compiled(family: str) -> hm.Model:
    priors = PRIORS if family == "multinomial" else {
        k.replace("mu", "mus"): v for k, v in PRIORS.items()} | {"phi_b": "normal(0, 1)"}  # fmt: skip
    return hm.Model(FORMULAS[family], frame(), family=family, priors=priors, centered=False)


def hand(family: str) -> pm.Model:
    """brms's multinomial / dirichlet: eta_b = Intercept + x b + r[g], eta_c = Intercept + x b,
    0 for the first column; p = softmax; for the Dirichlet alpha = phi * p with log(phi) linear
    in x. Default priors as hiermod's (brms's student_t(3, 0, 2.5) intercepts; phi's intercept
    normal(0, 2.5) on the log scale)."""
    d = frame()
    b, c = ("mub", "muc") if family == "multinomial" else ("musb", "musc")
    columns = ["a", "b", "c"] if family == "multinomial" else ["sa", "sb", "sc"]
    codes = pd.factorize(d["g"], sort=True)[0]
    coords = {"obs": np.arange(len(d)), "coef": ["x"], f"{c}_coef": ["x"], "phi_coef": ["x"],
              "g": sorted(d["g"].unique()), "y_category": columns}  # fmt: skip
    with pm.Model(coords=coords) as model:
        X = pm.Data("X", d[["x"]].to_numpy(), dims=("obs", "coef"))
        g = pm.Data("g_idx", codes, dims="obs")
        eta_b = pm.StudentT(f"{b}_Intercept", nu=3.0, mu=0.0, sigma=2.5)
        eta_b = eta_b + X @ pm.Normal(f"{b}_b", 0.0, 1.0, dims="coef")
        sd = pm.HalfNormal(f"{b}_sd_g", 1.0)
        z = pm.Normal(f"{b}_z_g", 0.0, 1.0, dims="g")
        eta_b = eta_b + (z * sd)[g]
        c_x = pm.Data(f"{c}_X", d[["x"]].to_numpy(), dims=("obs", f"{c}_coef"))
        eta_c = pm.StudentT(f"{c}_Intercept", nu=3.0, mu=0.0, sigma=2.5)
        eta_c = eta_c + c_x @ pm.Normal(f"{c}_b", 0.0, 1.0, dims=f"{c}_coef")
        p = pt.special.softmax(pt.stack([pt.zeros(len(d)), eta_b, eta_c], axis=1), axis=1)
        y = d[columns].to_numpy()
        if family == "multinomial":
            n = y.sum(axis=1)
            pm.Multinomial("y", n=n, p=p, observed=y, dims=("obs", "y_category"))
        else:
            phi_x = pm.Data("phi_X", d[["x"]].to_numpy(), dims=("obs", "phi_coef"))
            log_phi = pm.Normal("phi_Intercept", 0.0, 2.5)
            log_phi = log_phi + phi_x @ pm.Normal("phi_b", 0.0, 1.0, dims="phi_coef")
            alpha = pt.exp(log_phi)[:, None] * p
            pm.Dirichlet("y", a=alpha, observed=y, dims=("obs", "y_category"))
    return model


@pytest.mark.parametrize("family", FAMILIES)
def test_same_model_as_hand_written(family: str) -> None:
    model = compiled(family).pymc
    hand_model = hand(family)
    coords = {k: tuple(v) for k, v in hand_model.coords.items() if k in model.coords}
    assert coords == {k: tuple(model.coords[k]) for k in coords}
    assert_same_model(model, hand_model, n_points=3)


# ---------------------------------------------------------------------------------------------------
# The response.

BAD = [
    ("multinomial", "cbind(a, b, c) ~ x", lambda d: d.assign(a=-d["a"]), DataError, "negative"),
    ("multinomial", "cbind(a, b, c) ~ x", lambda d: d.assign(a=d["a"] + 0.5), DataError,
     "non-integer"),
    ("multinomial", "cbind(a, b, c) | trials(size) ~ x", lambda d: d.assign(size=d["size"] + 1),
     DataError, "(?s)add up to trials.*drop trials"),
    ("dirichlet", "cbind(sa, sb, sc) ~ x", lambda d: d.assign(sa=d["sa"] * 0.9), DataError,
     "must add up to 1"),
    ("dirichlet", "cbind(sa, sb, sc) ~ x", lambda d: d.assign(sa=0.0), DataError,
     "strictly between 0 and 1"),
    ("dirichlet", "sa ~ x", None, DataError, "a column per category"),
    ("dirichlet", "cbind(sa, sb, sa) ~ x", None, DataError, "names a column twice"),
    ("binomial", "cbind(a, b, c) ~ x", None, DataError, "family='multinomial'"),
    ("categorical", "cbind(a, b, c) ~ x", None, DataError, "(?s)a column per category.*multinomial"),
    ("multinomial", "cbind(a) ~ x", None, FormulaError, "takes two arguments"),
    ("multinomial", "cbind(a, b, c) ~ x\nmud ~ 1", None, FamilyError, "(?s)no parameter 'mud'"),
]  # fmt: skip


@pytest.mark.parametrize(("family", "formula", "change", "error", "message"), BAD)
def test_what_the_column_families_refuse(family, formula, change, error, message) -> None:
    data = frame() if change is None else change(frame().copy())
    with pytest.raises(error, match=message):
        hm.Model(formula, data, family=family).ir  # noqa: B018


def test_trials_equal_to_the_row_sums_are_accepted() -> None:
    with_trials = hm.Model("cbind(a, b, c) | trials(size) ~ x", frame(), family="multinomial")
    without = hm.Model("cbind(a, b, c) ~ x", frame(), family="multinomial")
    point = without.pymc.initial_point()
    ours = without.pymc.compile_logp(mode="FAST_COMPILE")(point)
    assert with_trials.pymc.compile_logp(mode="FAST_COMPILE")(point) == pytest.approx(ours)


# ---------------------------------------------------------------------------------------------------
# Predictions, summaries and the source.


def _probabilities(fit, b: str, c: str, phi: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """softmax(0, eta_b, eta_c) per draw and row, and phi per draw and row, in NumPy."""
    posterior, d = fit["posterior"], frame()
    x, codes = d["x"].to_numpy(), pd.factorize(d["g"], sort=True)[0]
    r = posterior[f"{b}_z_g"].values * posterior[f"{b}_sd_g"].values[..., None]
    eta_b = posterior[f"{b}_Intercept"].values[..., None] + posterior[f"{b}_b"].values[..., :1] * x
    eta_c = posterior[f"{c}_Intercept"].values[..., None] + posterior[f"{c}_b"].values[..., :1] * x
    eta = np.stack([np.zeros_like(eta_c), eta_b + r[..., codes], eta_c], axis=-1)
    p = np.exp(eta - eta.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    if not phi:
        return p, None
    log_phi = posterior["phi_Intercept"].values[..., None] + posterior["phi_b"].values[..., :1] * x
    return p, np.exp(log_phi)


def test_multinomial_predictions_are_trials_times_the_softmax() -> None:
    model = compiled("multinomial")
    fit = _fake_fit(model, seed=2)
    p, _ = _probabilities(fit, "mub", "muc", phi=False)
    trials = frame()[["a", "b", "c"]].sum(axis=1).to_numpy()
    mean = model.predict(fit, kind="mean")
    assert mean.dims == ("chain", "draw", "obs", "y_category")
    assert tuple(mean["y_category"].values) == ("a", "b", "c")
    np.testing.assert_allclose(mean.values, trials[:, None] * p, rtol=1e-10)
    np.testing.assert_allclose(model.predict(fit, kind="probs").values, p, rtol=1e-10)
    draws = model.predict(fit, kind="response", random_seed=3).values
    np.testing.assert_array_equal(draws.sum(axis=-1), np.broadcast_to(trials, draws.shape[:-1]))
    linear = model.predict(fit, kind="linear").values
    np.testing.assert_allclose(linear[..., 1] - linear[..., 0], np.log(p[..., 1] / p[..., 0]))


def test_dirichlet_predictions_are_the_softmax_and_draws_are_shares() -> None:
    model = compiled("dirichlet")
    fit = _fake_fit(model, seed=4)
    p, phi = _probabilities(fit, "musb", "musc", phi=True)
    np.testing.assert_allclose(model.predict(fit, kind="mean").values, p, rtol=1e-10)
    parameters = hm.model.distributional_parameters(model, fit)
    np.testing.assert_allclose(parameters["phi"].values, phi, rtol=1e-10)
    draws = model.predict(fit, kind="response", random_seed=3).values
    np.testing.assert_allclose(draws.sum(axis=-1), 1.0, rtol=1e-9)
    assert draws.shape == (1, 2, len(frame()), 3)


def test_new_rows_without_the_response_columns() -> None:
    model = compiled("dirichlet")
    fit = _fake_fit(model, seed=5)
    new = pd.DataFrame({"x": [0.0, 1.0], "g": ["g1", "g2"]})
    mean = model.predict(fit, data=new)
    assert mean.shape == (1, 2, 2, 3)
    np.testing.assert_allclose(mean.sum("y_category"), 1.0, rtol=1e-12)


@pytest.mark.parametrize("family", FAMILIES)
def test_fixef_lists_every_category_as_brms(family: str) -> None:
    model = compiled(family)
    table = model.fixef(_fake_fit(model, seed=6))
    b, c = ("mub", "muc") if family == "multinomial" else ("musb", "musc")
    assert list(table.index) == [f"{b}_Intercept", f"{b}_x", f"{c}_Intercept", f"{c}_x"]


@pytest.mark.parametrize("family", FAMILIES)
def test_exported_source_builds_the_same_model_from_a_dataframe(family: str) -> None:
    model = compiled(family)
    source = model.source()
    assert f"pm.{family.capitalize()}(" in source
    standalone = load_module(source).build_model(frame())
    point = model.pymc.initial_point()
    ours = model.pymc.compile_logp(mode="FAST_COMPILE")(point)
    assert standalone.compile_logp(mode="FAST_COMPILE")(point) == pytest.approx(ours, rel=1e-12)


# ---------------------------------------------------------------------------------------------------
# Recovery.


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_parameters_are_recovered(family: str) -> None:
    data = simulate(1500, seed=31)
    formula = (
        "cbind(a, b, c) ~ x + (1 | g)"
        if family == "multinomial"
        else "cbind(sa, sb, sc) ~ x + (1 | g)"
    )
    model = hm.Model(formula, data, family=family)
    # the multinomial with 2 chains (177 s with 4 beside the rest of the suite); the dirichlet's
    # 2 chains of 1000 do not agree well enough for the fit's own checks (a SamplingWarning)
    chains = 4 if family == "dirichlet" else 2
    fit = model.fit(draws=1000, tune=1000, chains=chains, random_seed=1, target_accept=0.95,
                    progressbar=False)  # fmt: skip
    table = model.fixef(fit)
    prefix = "mu" if family == "multinomial" else "mus"
    for k, (a, b) in TRUE.items():
        name = k.replace("mu", prefix)
        for label, truth in ((f"{name}_Intercept", a), (f"{name}_x", b)):
            row = table.loc[label]
            assert abs(row["mean"] - truth) < 4 * row["sd"], (label, row["mean"], truth)
    sd = fit["posterior"][f"{prefix}b_sd_g"].values.ravel()
    assert np.quantile(sd, 0.001) < SD_G < np.quantile(sd, 0.999)
    if family == "dirichlet":
        phi = fit["posterior"]["phi"].values.ravel()
        assert np.quantile(phi, 0.001) < PHI < np.quantile(phi, 0.999)
