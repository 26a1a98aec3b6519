"""gp(x, k=NA): brms's exact Gaussian process, and the rule that makes gp(x) without k exact.

The model against one written by hand with PyMC's ``ExpQuad`` kernel (brms's ``gp()`` in Stan:
``cholesky_decompose(sdgp^2 exp(-d^2 / (2 lscale^2)) + jitter) * zgp`` over the distinct scaled
points, indexed back to the rows); predictions at new x against a NumPy conditional-GP oracle.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import pytest
import xarray as xr
from support import assert_same_model

import hiermod as hm
from hiermod.data.gp_exact import EXACT_LIMIT
from hiermod.warnings import DataWarning, SamplingWarning

SHARED = Path(os.environ.get("HIERMOD_SHARED_DATA", Path(__file__).parents[2] / "shared" / "data"))
JITTER = 1e-10  # times sdgp^2 (hiermod.output.source_gp_exact)
PRIORS = {
    "Intercept": "normal(-20, 30)",
    "sdgp": "half_normal(40)",
    "lscale": "inv_gamma(2, 0.1)",
    "sigma": "exponential(0.05)",
}


@functools.cache
def mcycle() -> pd.DataFrame:
    """MASS's mcycle (94 distinct times in 133 rows), with x2 and half as in tests/test_gp.py."""
    data = pd.read_csv(SHARED / "mcycle.csv")
    data["x2"] = np.round(np.sin(data["times"] / 7), 3)
    data["half"] = np.where(np.arange(1, len(data) + 1) % 2 == 0, "even", "odd")
    return data


def _points(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """brms's exact-GP data: the distinct rows scaled by their largest distance, each row's one."""
    distinct, index = np.unique(x, axis=0, return_inverse=True)
    dmax = float(np.sqrt(((distinct[:, None, :] - distinct[None, :, :]) ** 2).sum(axis=2).max()))
    return distinct / dmax, index.ravel(), dmax


def _hand_f(z: np.ndarray, sd: pt.TensorVariable, ell: pt.TensorVariable, w: pt.TensorVariable):
    """f at the points z: chol(K + jitter) @ w, written out: K = sdgp^2 exp(-d^2 / (2 lscale^2))
    with d^2 from NumPy, sdgp taken out of the factor. (PyMC's ExpQuad computes d^2 as
    |a|^2 + |b|^2 - 2ab: its rounding, through the Cholesky gradient of the near-singular K of 94
    close points, moves the gradient in the 6th digit; its logp agrees, see below.)"""
    d2 = ((z[:, None, :] - z[None, :, :]) ** 2).sum(axis=2)
    C = pt.exp(-d2 / (2 * ell**2)) + JITTER * pt.eye(len(z))
    return sd * (pt.linalg.cholesky(C) @ w)


def hand_exact(covariates: tuple[str, ...], label: str) -> pm.Model:
    data = mcycle()
    z, index, _ = _points(data[list(covariates)].to_numpy())
    coords = {"obs": np.arange(len(data)), f"{label}_point": np.arange(1, len(z) + 1)}
    with pm.Model(coords=coords) as model:
        intercept = pm.Normal("Intercept", -20.0, 30.0)
        sd = pm.HalfNormal(f"sdgp_{label}", 40.0)
        ell = pm.InverseGamma(f"lscale_{label}", 2.0, 0.1)
        w = pm.Normal(f"zgp_{label}", 0.0, 1.0, dims=f"{label}_point")
        f = _hand_f(z, sd, ell, w)
        sigma = pm.Exponential("sigma", 0.05)
        mu = intercept + f[index]
        pm.Normal("accel", mu, sigma, observed=data["accel"].to_numpy(), dims="obs")
    return model


def hand_exact_by() -> pm.Model:
    """One GP per level of half, each over its own distinct times scaled by its own dmax."""
    data = mcycle()
    levels = ["even", "odd"]
    parts = [_points(data.loc[data["half"] == lv, ["times"]].to_numpy()) for lv in levels]
    labels = [
        f"{lv}[{i}]"
        for lv, (z, _, _) in zip(levels, parts, strict=True)
        for i in range(1, len(z) + 1)
    ]
    coords = {
        "obs": np.arange(len(data)),
        "gptimeshalf_level": levels,
        "gptimeshalf_point": labels,
    }
    with pm.Model(coords=coords) as model:
        intercept = pm.Normal("Intercept", -20.0, 30.0)
        sd = pm.HalfNormal("sdgp_gptimeshalf", 40.0, dims="gptimeshalf_level")
        ell = pm.InverseGamma("lscale_gptimeshalf", 2.0, 0.1, dims="gptimeshalf_level")
        w = pm.Normal("zgp_gptimeshalf", 0.0, 1.0, dims="gptimeshalf_point")
        mu = intercept * pt.ones(len(data))
        start = 0
        for j, (lv, (z, index, _)) in enumerate(zip(levels, parts, strict=True)):
            rows = np.flatnonzero((data["half"] == lv).to_numpy())
            f = _hand_f(z, sd[j], ell[j], w[start : start + len(z)])
            mu = pt.set_subtensor(mu[rows], mu[rows] + f[index])
            start += len(z)
        sigma = pm.Exponential("sigma", 0.05)
        pm.Normal("accel", mu, sigma, observed=data["accel"].to_numpy(), dims="obs")
    return model


CASES = [
    ("accel ~ gp(times, k = NA)", lambda: hand_exact(("times",), "gptimes")),
    ("accel ~ gp(times)", lambda: hand_exact(("times",), "gptimes")),  # 94 points: exact
    ("accel ~ gp(times, x2, k = NA)", lambda: hand_exact(("times", "x2"), "gptimesx2")),
    ("accel ~ gp(times, by = half, k = NA)", hand_exact_by),
]


@pytest.mark.parametrize(("text", "hand"), CASES)
def test_same_model_as_hand_written_exact_gp(text: str, hand: object) -> None:
    m = hm.Model(text, mcycle(), priors=PRIORS)
    assert_same_model(m.pymc, hand(), n_points=3, rtol=1e-7)  # type: ignore[operator]


def test_kernel_is_pymc_expquad() -> None:
    """The exact GP's covariance is PyMC's ExpQuad kernel at brms's scaled points."""
    m = hm.Model("accel ~ gp(times, x2, k = NA)", mcycle(), priors=PRIORS)
    z, _, _ = _points(mcycle()[["times", "x2"]].to_numpy())
    d2 = m.ir.data_values["gptimesx2_sqdist"]
    ell = 0.3
    expquad = pm.gp.cov.ExpQuad(2, ls=ell)(z).eval()
    np.testing.assert_allclose(np.exp(-d2 / (2 * ell**2)), expquad, rtol=1e-12, atol=1e-14)


def test_gp_of_sigma_is_exact_too() -> None:
    priors = PRIORS | {"sigma_Intercept": "normal(3, 1)", "sigma_sdgp": "half_normal(1)"}
    priors |= {"sigma_lscale": "inv_gamma(2, 0.1)"}
    priors.pop("sigma")
    m = hm.Model("accel ~ gp(times); sigma ~ gp(times)", mcycle(), priors=priors)
    data = mcycle()
    z, index, _ = _points(data[["times"]].to_numpy())
    coords = {
        "obs": np.arange(len(data)),
        "gptimes_point": np.arange(1, len(z) + 1),
        "sigma_gptimes_point": np.arange(1, len(z) + 1),
    }
    with pm.Model(coords=coords) as hand:
        intercept = pm.Normal("Intercept", -20.0, 30.0)
        sd = pm.HalfNormal("sdgp_gptimes", 40.0)
        ell = pm.InverseGamma("lscale_gptimes", 2.0, 0.1)
        w = pm.Normal("zgp_gptimes", 0.0, 1.0, dims="gptimes_point")
        s_intercept = pm.Normal("sigma_Intercept", 3.0, 1.0)
        s_sd = pm.HalfNormal("sigma_sdgp_gptimes", 1.0)
        s_ell = pm.InverseGamma("sigma_lscale_gptimes", 2.0, 0.1)
        s_w = pm.Normal("sigma_zgp_gptimes", 0.0, 1.0, dims="sigma_gptimes_point")
        mu = intercept + _hand_f(z, sd, ell, w)[index]
        sigma = pt.exp(s_intercept + _hand_f(z, s_sd, s_ell, s_w)[index])
        pm.Normal("accel", mu, sigma, observed=data["accel"].to_numpy(), dims="obs")
    assert_same_model(m.pymc, hand, n_points=3, rtol=1e-7)


def test_repeated_x_share_one_value_of_the_gp() -> None:
    data = pd.DataFrame({"x": [1.0, 2.0, 1.0, 3.0, 2.0, 1.0], "y": [0.1, 0.5, 0.2, 0.9, 0.4, 0.0]})
    m = hm.Model("y ~ gp(x, k = NA)", data)
    index = m.ir.data_values["gpx_index"]
    np.testing.assert_array_equal(index, [0, 1, 0, 2, 1, 0])
    assert len(m.pymc.coords["gpx_point"]) == 3  # one weight per distinct x
    mu = m.pymc["y"].owner.inputs[2]  # Normal(mu, sigma): the rows' means
    draws = pm.draw(mu, draws=3, random_seed=1)  # from the prior: any values of the weights
    np.testing.assert_array_equal(draws[:, [0, 2, 5]], draws[:, [0, 0, 0]])
    np.testing.assert_array_equal(draws[:, 4], draws[:, 1])
    assert not np.allclose(draws[:, 0], draws[:, 1])


# ---------------------------------------------------------------------------------------------------
# The default rule: gp(x) without k.


def _wide(n: int) -> pd.DataFrame:
    x = np.linspace(0.0, 1.0, n)
    return pd.DataFrame({"x": x, "y": np.sin(6 * x)})


def test_default_is_exact_up_to_the_limit_then_hsgp_with_a_warning() -> None:
    small = hm.Model("y ~ gp(x)", _wide(EXACT_LIMIT))
    assert small.ir.predictors[0].gps[0].k is None
    assert len(small.ir.coords["gpx_point"]) == EXACT_LIMIT
    with pytest.warns(
        DataWarning, match=rf"{EXACT_LIMIT + 1} distinct covariate points.*k=NA.*k=20"
    ):
        large = hm.Model("y ~ gp(x)", _wide(EXACT_LIMIT + 1))
    assert large.ir.predictors[0].gps[0].k == 20
    assert len(large.ir.coords["gpx_basis"]) == 20


@pytest.mark.parametrize(("text", "k"), [("y ~ gp(x, k = NA)", None), ("y ~ gp(x, k = 7)", 7)])
def test_k_written_is_obeyed_without_a_warning(text: str, k: int | None) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: the user chose
        m = hm.Model(text, _wide(EXACT_LIMIT + 1))
    assert m.ir.predictors[0].gps[0].k == k


def test_by_counts_every_level_s_points() -> None:
    data = _wide(EXACT_LIMIT + 2).assign(f=lambda d: np.where(np.arange(len(d)) % 2, "a", "b"))
    with pytest.warns(DataWarning, match=f"{EXACT_LIMIT + 2} distinct"):
        m = hm.Model("y ~ gp(x, by = f)", data)
    assert m.ir.predictors[0].gps[0].k == 20


# ---------------------------------------------------------------------------------------------------
# Predictions at new x: the GP given its values at the training points, per draw.


def _posterior(m: hm.Model, values: dict[str, np.ndarray]) -> xr.DataTree:
    """A posterior of the given draws, (chain, draw, ...) each, with the model's dims."""
    variables = {}
    for spec in m.ir.parameters():
        if spec.free:
            dims = ("chain", "draw", *spec.dims)
            coords = {d: list(m.ir.coords[d]) for d in spec.dims}
            variables[spec.name] = xr.DataArray(values[spec.name], dims=dims, coords=coords)
    return xr.DataTree.from_dict({"posterior": xr.Dataset(variables)})


def _draws(m: hm.Model, n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    points = len(m.ir.coords["gptimes_point"])
    return {
        "Intercept": rng.normal(-20, 5, (1, n)),
        "sdgp_gptimes": rng.uniform(20, 60, (1, n)),
        "lscale_gptimes": rng.uniform(0.03, 0.2, (1, n)),
        "zgp_gptimes": rng.normal(0, 1, (1, n, points)),
        "sigma": rng.uniform(5, 30, (1, n)),
    }


def _oracle(
    draws: dict[str, np.ndarray], new_x: np.ndarray, d: int
) -> tuple[np.ndarray, np.ndarray]:
    """Draw d's conditional mean and covariance of the GP at new_x, in NumPy: K*' K^-1 f and
    K** - K*' K^-1 K*, with K = sdgp^2 (C + jitter) at brms's scaled distinct times."""
    times = mcycle()["times"].to_numpy()
    distinct = np.unique(times)
    dmax = distinct.max() - distinct.min()
    u, s = distinct / dmax, new_x / dmax
    sd, ell = draws["sdgp_gptimes"][0, d], draws["lscale_gptimes"][0, d]

    def kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return sd**2 * np.exp(-((a[:, None] - b[None, :]) ** 2) / (2 * ell**2))

    K = kernel(u, u) + JITTER * sd**2 * np.eye(len(u))
    f = np.linalg.cholesky(K) @ draws["zgp_gptimes"][0, d]
    cross = kernel(s, u)
    mean = cross @ np.linalg.solve(K, f)
    cov = kernel(s, s) - cross @ np.linalg.solve(K, cross.T)
    return mean, cov


NEW_TIMES = np.array([0.0, 2.4, 10.05, 21.0, 33.3, 45.0, 60.0])  # 2.4 is a training time


def test_predict_at_new_x_is_the_conditional_mean() -> None:
    m = hm.Model("accel ~ gp(times, k = NA)", mcycle(), priors=PRIORS)
    draws = _draws(m, 6, seed=4)
    idata = _posterior(m, draws)
    new = pd.DataFrame({"times": NEW_TIMES})
    linear = m.predict(idata, data=new, kind="linear").values[0]
    mean = m.predict(idata, data=new, kind="mean").values[0]
    np.testing.assert_array_equal(linear, mean)  # gaussian, identity link
    for d in range(6):
        expected, _ = _oracle(draws, NEW_TIMES, d)
        # K of 94 close points is near-singular (condition ~1e10 with the jitter): the triangular
        # solve and NumPy's LU solve agree to ~1e-5 of the GP's scale
        scale = np.abs(expected).max()
        np.testing.assert_allclose(
            linear[d], draws["Intercept"][0, d] + expected, atol=1e-5 * scale
        )
    # at a training time the GP is its value there (up to the jitter)
    at = m.predict(idata, kind="linear").values[0]
    np.testing.assert_allclose(linear[:, 1], at[:, 0], rtol=1e-5)


def test_response_draws_have_the_conditional_covariance() -> None:
    m = hm.Model("accel ~ gp(times, k = NA)", mcycle(), priors=PRIORS)
    one = _draws(m, 1, seed=5)
    n = 4000
    draws = {k: np.repeat(v, n, axis=1) for k, v in one.items()}
    new = pd.DataFrame({"times": NEW_TIMES[[0, 2, 4, 6]]})
    y = m.predict(_posterior(m, draws), data=new, kind="response", random_seed=1).values[0]
    mean, cov = _oracle(one, NEW_TIMES[[0, 2, 4, 6]], 0)
    sigma = one["sigma"][0, 0]
    expected = cov + sigma**2 * np.eye(4)
    np.testing.assert_allclose(
        y.mean(axis=0), one["Intercept"][0, 0] + mean, atol=0.1 * np.sqrt(expected.diagonal().max())
    )
    np.testing.assert_allclose(np.cov(y.T), expected, atol=0.1 * expected.max())
    # two rows at one new x share one draw of the GP
    twice = pd.DataFrame({"times": [10.05, 10.05]})
    drawn = m.predict(_posterior(m, draws), data=twice, kind="response", random_seed=2)
    spread = drawn.values[0]
    np.testing.assert_allclose(np.var(spread[:, 0] - spread[:, 1]), 2 * sigma**2, rtol=0.1)


# ---------------------------------------------------------------------------------------------------
# The exported source.

EXACT_SOURCES = [
    "accel ~ gp(times, k = NA)",
    "accel ~ gp(times, x2)",
    "accel ~ gp(times, by = half)",
    "accel ~ x2 + gp(times); sigma ~ gp(times, scale = FALSE)",
]


def test_exported_source_builds_the_same_model_and_predicts() -> None:
    m = hm.Model("accel ~ gp(times, by = half, k = NA)", mcycle(), priors=PRIORS)
    namespace: dict[str, object] = {"__name__": "exported"}
    exec(compile(m.source(), "<exported>", "exec"), namespace)  # safe: hiermod's own text
    assert_same_model(namespace["build_model"](mcycle()), hand_exact_by(), n_points=2, rtol=1e-7)  # type: ignore[operator]
    new = pd.DataFrame({"times": [2.4, 5.0, 5.0, 70.0], "half": ["odd", "odd", "even", "even"]})
    prepared = namespace["prepare"](new.assign(accel=0.0))  # type: ignore[operator]
    model = namespace["build_model"](prepared)  # type: ignore[operator]
    # 2.4 is an odd training time; 5.0 is new to both levels, 70.0 to even
    assert model["gpnew_gptimeshalf_odd"].shape.eval().tolist() == [1]
    assert model["gpnew_gptimeshalf_even"].shape.eval().tolist() == [2]
    sizes = [len(v) for v in m.design.schema.transforms["gp(times, by=half, k=NA)"].get("points")]
    assert prepared["gptimeshalf_index"][0] < sum(sizes)
    assert (prepared["gptimeshalf_index"][1:] >= sum(sizes)).all()


@pytest.mark.parametrize("text", EXACT_SOURCES)
def test_exported_prepare_gives_hiermod_arrays(text: str) -> None:
    m = hm.Model(text, mcycle())
    namespace: dict[str, object] = {"__name__": "exported"}
    exec(compile(m.source(), "<exported>", "exec"), namespace)  # safe: hiermod's own text
    prepared = namespace["prepare"](mcycle())  # type: ignore[operator]
    for name, values in m.ir.data_values.items():
        np.testing.assert_array_equal(prepared[name], values, err_msg=name)


def test_generated_exact_sources_pass_ruff(tmp_path: Path) -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:  # pragma: no cover - ruff is a development dependency
        pytest.skip("ruff is not installed")
    for i, text in enumerate(EXACT_SOURCES):
        (tmp_path / f"model_{i}.py").write_text(hm.Model(text, mcycle()).source(), encoding="utf-8")
    fmt = subprocess.run(
        [ruff, "format", "--isolated", "--check", "--diff", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    check = subprocess.run(
        [ruff, "check", "--isolated", "--select", "E,W,F,B,SIM", "--ignore", "E501", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr


# ---------------------------------------------------------------------------------------------------
# Recovery on simulated data.


@pytest.mark.slow
def test_exact_gp_recovers_a_smooth_curve() -> None:
    rng = np.random.default_rng(11)
    x = np.sort(rng.uniform(0, 10, 60))
    truth = lambda t: 2.0 * np.sin(t / 1.5)  # noqa: E731
    data = pd.DataFrame({"x": x, "y": truth(x) + rng.normal(0, 0.3, len(x))})
    m = hm.Model("y ~ gp(x)", data)
    assert m.ir.predictors[0].gps[0].k is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        idata = m.fit(draws=300, tune=400, chains=2, random_seed=3, progressbar=False)
    new = np.linspace(0.5, 9.5, 19)
    curve = m.predict(idata, data=pd.DataFrame({"x": new}), kind="mean").mean(("chain", "draw"))
    assert np.sqrt(np.mean((curve.values - truth(new)) ** 2)) < 0.2
    sigma = float(idata.posterior["sigma"].mean())  # type: ignore[attr-defined]
    assert 0.2 < sigma < 0.45
