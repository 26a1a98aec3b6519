"""gp(): brms's approximate Gaussian process, from the formula to predictions at new x.

The basis and the default lscale prior are checked against brms's own (``make_standata`` and
``get_prior`` on mcycle: benchmarks/reference/mcycle_gp_standata.R wrote the fixtures); the model
against one written by hand with PyMC's HSGP functions (``calc_eigenvalues``,
``calc_eigenvectors`` and the ExpQuad kernel's ``power_spectral_density``).
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
from pymc.gp.hsgp_approx import calc_eigenvalues, calc_eigenvectors
from support import assert_same_model

import hiermod as hm
from hiermod.data.binder import apply_schema
from hiermod.errors import DataError, FormulaError
from hiermod.plan.gp import lscale_prior
from hiermod.plan.suffstats import SuffStatsError
from hiermod.warnings import SamplingWarning

REFERENCE = Path(__file__).parent.parent / "benchmarks" / "reference" / "mcycle_brms"
SHARED = Path(os.environ.get("HIERMOD_SHARED_DATA", Path(__file__).parents[2] / "shared" / "data"))


@functools.cache
def mcycle() -> pd.DataFrame:
    """MASS's mcycle, with the two columns the fixture script adds (x2, half), and times again
    under a long name."""
    data = pd.read_csv(SHARED / "mcycle.csv")
    data["x2"] = np.round(np.sin(data["times"] / 7), 3)
    data["half"] = np.where(np.arange(1, len(data) + 1) % 2 == 0, "even", "odd")
    data["milliseconds_since_the_impact"] = data["times"]  # long names: the layout still ruff's
    return data


# ---------------------------------------------------------------------------------------------------
# The formula.

ROUND_TRIPS = [
    ("y ~ gp(x)", "y ~ 1 + gp(x)"),
    ("y ~ gp(x, k = 20, c = 5/4)", "y ~ 1 + gp(x, k=20, c=5 / 4)"),
    ("y ~ z + gp(x1, x2, k=5)", "y ~ 1 + z + gp(x1, x2, k=5)"),
    ("y ~ gp(x, by = f)", "y ~ 1 + gp(x, by=f)"),
    ("y ~ gp(x, scale = FALSE) + (1 | g)", "y ~ 1 + gp(x, scale=FALSE) + (1 | g)"),
    ("y ~ gp(x); sigma ~ gp(x)", "y ~ 1 + gp(x); sigma ~ 1 + gp(x)"),
]


@pytest.mark.parametrize(("text", "canonical"), ROUND_TRIPS)
def test_gp_terms_print_back(text: str, canonical: str) -> None:
    parsed = hm.parse(text)
    assert str(parsed) == canonical
    assert hm.parse(str(parsed)) == parsed


REFUSED = [
    ("y ~ gp(x, k = NA)", None, ""),  # brms's exact GP: accepted (tests/test_gp_exact.py)
    ("y ~ gp(x, k = 2.5)", FormulaError, "k must be a whole number"),
    ("y ~ gp(x, c = -1)", FormulaError, "c must be a positive number"),
    ("y ~ gp(x, scale = 2)", FormulaError, "scale must be TRUE or FALSE"),
    ("y ~ gp(x, kk = 2)", FormulaError, "no parameter 'kk'"),
]


@pytest.mark.parametrize(("text", "error", "message"), REFUSED)
def test_gp_options_are_checked_when_parsed(text: str, error: type | None, message: str) -> None:
    if error is None:
        hm.parse(text)
        return
    with pytest.raises(error, match=message):
        hm.parse(text)


def test_gp_in_an_interaction_is_refused() -> None:
    with pytest.raises(DataError, match="cannot be part of an interaction") as info:
        hm.Model("accel ~ gp(times):x2", mcycle())
    assert "by=f" in (info.value.hint or "")


def test_gp_in_a_group_term_is_refused() -> None:
    data = mcycle().assign(g=np.arange(len(mcycle())) % 3)
    with pytest.raises(DataError, match="cannot vary by group") as info:
        hm.Model("accel ~ (gp(times) | g)", data)
    assert "by=g" in (info.value.hint or "")


def test_numeric_by_is_refused() -> None:
    with pytest.raises(DataError, match="numeric by"):
        hm.Model("accel ~ gp(times, by = x2)", mcycle())


def test_reductions_decline_with_a_reason() -> None:
    with pytest.raises(SuffStatsError, match="gp\\(\\) terms"):
        hm.Model("accel ~ gp(times)", mcycle(), suffstats=True)


# ---------------------------------------------------------------------------------------------------
# The data: brms's basis, its frequencies and the default lscale prior.


def _design(text: str) -> hm.Model:
    return hm.Model(text, mcycle())


def test_basis_is_brms_basis_1d() -> None:
    ref = pd.read_csv(REFERENCE / "gp_basis_1d.csv")
    gp = _design("accel ~ gp(times, k = 20, c = 5/4)").design.main.gps[0]
    data = mcycle()
    first = data.drop_duplicates("times").index.to_numpy()  # brms keeps the distinct values
    np.testing.assert_allclose(gp.basis[first], ref.drop(columns="times").to_numpy(), atol=1e-12)
    slambda = pd.read_csv(REFERENCE / "gp_slambda_1d.csv")["slambda"].to_numpy()
    np.testing.assert_allclose(np.sqrt(gp.eigenvalues), slambda, rtol=1e-12)


def test_basis_is_brms_basis_2d() -> None:
    ref = pd.read_csv(REFERENCE / "gp_basis_2d.csv")
    gp = _design("accel ~ gp(times, x2, k = 5, c = 5/4)").design.main.gps[0]
    first = mcycle().drop_duplicates(["times", "x2"]).index.to_numpy()
    assert gp.basis.shape == (len(mcycle()), 25)
    np.testing.assert_allclose(
        gp.basis[first], ref.drop(columns=["times", "x2"]).to_numpy(), atol=1e-12
    )


def test_basis_by_level_is_brms_basis() -> None:
    gp = _design("accel ~ gp(times, by = half, k = 10, c = 3/2)").design.main.gps[0]
    assert gp.levels == ("even", "odd")
    data = mcycle()
    for j, level in enumerate(gp.levels):
        ref = pd.read_csv(REFERENCE / f"gp_basis_by_{level}.csv")
        rows = data.index[data["half"] == level]
        first = data.loc[rows].drop_duplicates("times").index.to_numpy()
        np.testing.assert_allclose(gp.basis[first, j], ref.drop(columns="times"), atol=1e-12)
        others = data.index[data["half"] != level].to_numpy()
        assert not gp.basis[others, j].any()  # a row is in one level's GP only


def test_default_lscale_prior_is_brms_rule() -> None:
    expected = pd.read_csv(REFERENCE / "gp_lscale_priors.csv")
    m = _design("accel ~ gp(times, k = 20, c = 5/4)")
    lower, upper = m.design.main.gps[0].distances[0]
    prior = lscale_prior(lower, upper)
    text = expected.set_index("coef").loc["gptimes", "prior"]  # inv_gamma(1.494197, 0.056607)
    alpha, beta = (float(v) for v in text.removeprefix("inv_gamma(").rstrip(")").split(","))
    assert prior.dist == "inverse_gamma"
    np.testing.assert_allclose([v for _, v in prior.params], [alpha, beta], rtol=1e-5)
    # the model's prior: the same, at the 4 significant digits of every default
    assert m.priors.loc["lscale_gptimes", "prior"] == f"inverse_gamma({alpha:.4g}, {beta:.4g})"


def test_lscale_prior_puts_one_percent_in_each_tail() -> None:
    from scipy import stats

    for lower, upper in ((0.05, 1.0), (0.2, 3.0)):
        prior = lscale_prior(lower, upper)
        a, b = (float(v) for _, v in prior.params)  # type: ignore[arg-type]
        ig = stats.invgamma(a, scale=b)
        np.testing.assert_allclose([ig.cdf(lower), ig.sf(upper)], [0.01, 0.01], rtol=1e-3)


# ---------------------------------------------------------------------------------------------------
# The model against one written by hand with PyMC's HSGP functions.

PRIORS = {
    "Intercept": "normal(-20, 30)",
    "sdgp": "half_normal(40)",
    "lscale": "inv_gamma(2, 0.1)",
    "sigma": "exponential(0.05)",
}


def _scaled(x: np.ndarray) -> tuple[np.ndarray, float]:
    """brms's scaling: x / (largest distance), centred on the mean of the distinct values; and
    the half-width L = 5/4 (the scaled range is 1)."""
    distinct = np.unique(x)
    dmax = distinct.max() - distinct.min()
    return (x / dmax - np.mean(distinct / dmax))[:, None], 1.25


def _hand_gp(
    x: np.ndarray,
    k: int,
    name: str,
    sd: pt.TensorVariable,
    ell: pt.TensorVariable,
    prefix: str = "",
) -> pt.TensorVariable:
    """f = phi @ (sqrt(psd) * z) from PyMC's HSGP pieces (Dirichlet boundary, as brms)."""
    z, half = _scaled(x)
    eigenvalues = calc_eigenvalues(pt.as_tensor([half]), [k])
    phi = calc_eigenvectors(pt.as_tensor(z), pt.as_tensor([half]), eigenvalues, [k])
    kernel = sd**2 * pm.gp.cov.ExpQuad(1, ls=ell)
    sqrt_psd = pt.sqrt(kernel.power_spectral_density(pt.sqrt(eigenvalues)))
    weights = pm.Normal(f"{prefix}zgp_{name}", 0.0, 1.0, dims=f"{prefix}{name}_basis")
    return phi @ (sqrt_psd * weights)


def hand_mcycle() -> pm.Model:
    data = mcycle()
    coords = {"obs": np.arange(len(data)), "gptimes_basis": np.arange(1, 21)}
    with pm.Model(coords=coords) as model:
        intercept = pm.Normal("Intercept", -20.0, 30.0)
        sd = pm.HalfNormal("sdgp_gptimes", 40.0)
        ell = pm.InverseGamma("lscale_gptimes", 2.0, 0.1)
        f = _hand_gp(data["times"].to_numpy(), 20, "gptimes", sd, ell)
        sigma = pm.Exponential("sigma", 0.05)
        pm.Normal("accel", intercept + f, sigma, observed=data["accel"].to_numpy(), dims="obs")
    return model


def hand_mcycle_sigma() -> pm.Model:
    """accel ~ gp(times, k=10); sigma ~ gp(times, k=8): a GP on the log scale of sigma too."""
    data = mcycle()
    x = data["times"].to_numpy()
    coords = {
        "obs": np.arange(len(data)),
        "gptimes_basis": np.arange(1, 11),
        "sigma_gptimes_basis": np.arange(1, 9),
    }
    with pm.Model(coords=coords) as model:
        intercept = pm.Normal("Intercept", -20.0, 30.0)
        sd = pm.HalfNormal("sdgp_gptimes", 40.0)
        ell = pm.InverseGamma("lscale_gptimes", 2.0, 0.1)
        f = _hand_gp(x, 10, "gptimes", sd, ell)
        sigma_intercept = pm.Normal("sigma_Intercept", 3.0, 1.0)
        sigma_sd = pm.HalfNormal("sigma_sdgp_gptimes", 1.0)
        sigma_ell = pm.InverseGamma("sigma_lscale_gptimes", 2.0, 0.1)
        g = _hand_gp(x, 8, "gptimes", sigma_sd, sigma_ell, prefix="sigma_")
        sigma = pt.exp(sigma_intercept + g)
        pm.Normal("accel", intercept + f, sigma, observed=data["accel"].to_numpy(), dims="obs")
    return model


def hand_mcycle_2d() -> pm.Model:
    """accel ~ gp(times, x2, k=5): isotropic over two covariates, 5 x 5 basis functions in brms's
    order (the first covariate's index fastest), PyMC's own order permuted to it."""
    data = mcycle()
    x = data[["times", "x2"]].to_numpy()
    distinct = np.unique(x, axis=0)
    dmax = np.sqrt(((distinct[:, None, :] - distinct[None, :, :]) ** 2).sum(axis=2).max())
    z = x / dmax - (distinct / dmax).mean(axis=0)
    half = 1.25 * np.maximum(1.0, np.ptp(distinct / dmax, axis=0))
    eigenvalues = calc_eigenvalues(pt.as_tensor(half), [5, 5]).eval()
    wanted = [
        ((m1 * np.pi / (2 * half[0])) ** 2, (m2 * np.pi / (2 * half[1])) ** 2)
        for m2 in range(1, 6)
        for m1 in range(1, 6)
    ]
    order = [int(np.flatnonzero(np.isclose(eigenvalues, w).all(axis=1))[0]) for w in wanted]
    phi = calc_eigenvectors(pt.as_tensor(z), pt.as_tensor(half), eigenvalues, [5, 5]).eval()
    coords = {"obs": np.arange(len(data)), "gptimesx2_basis": np.arange(1, 26)}
    with pm.Model(coords=coords) as model:
        intercept = pm.Normal("Intercept", -20.0, 30.0)
        sd = pm.HalfNormal("sdgp_gptimesx2", 40.0)
        ell = pm.InverseGamma("lscale_gptimesx2", 2.0, 0.1)
        kernel = sd**2 * pm.gp.cov.ExpQuad(2, ls=ell)
        sqrt_psd = pt.sqrt(kernel.power_spectral_density(pt.sqrt(eigenvalues[order])))
        weights = pm.Normal("zgp_gptimesx2", 0.0, 1.0, dims="gptimesx2_basis")
        f = phi[:, order] @ (sqrt_psd * weights)
        sigma = pm.Exponential("sigma", 0.05)
        pm.Normal("accel", intercept + f, sigma, observed=data["accel"].to_numpy(), dims="obs")
    return model


def hand_mcycle_by() -> pm.Model:
    """accel ~ gp(times, by=half, k=10, c=3/2): one GP per level, each scaled and centred on its
    own rows, 0 in the other level's rows."""
    data = mcycle()
    x = data["times"].to_numpy()
    coords = {
        "obs": np.arange(len(data)),
        "gptimeshalf_level": ["even", "odd"],
        "gptimeshalf_basis": np.arange(1, 11),
    }
    with pm.Model(coords=coords) as model:
        intercept = pm.Normal("Intercept", -20.0, 30.0)
        sd = pm.HalfNormal("sdgp_gptimeshalf", 40.0, dims="gptimeshalf_level")
        ell = pm.InverseGamma("lscale_gptimeshalf", 2.0, 0.1, dims="gptimeshalf_level")
        weights = pm.Normal(
            "zgp_gptimeshalf", 0.0, 1.0, dims=("gptimeshalf_level", "gptimeshalf_basis")
        )
        f = 0.0
        for j, level in enumerate(["even", "odd"]):
            rows = (data["half"] == level).to_numpy()
            distinct = np.unique(x[rows])
            dmax = distinct.max() - distinct.min()
            z = (x / dmax - np.mean(distinct / dmax))[:, None]
            eigenvalues = calc_eigenvalues(pt.as_tensor([1.5]), [10])
            phi = calc_eigenvectors(pt.as_tensor(z), pt.as_tensor([1.5]), eigenvalues, [10])
            kernel = sd[j] ** 2 * pm.gp.cov.ExpQuad(1, ls=ell[j])
            # exp(log(psd) / 2): the square root without sqrt's infinite slope where the
            # density underflows to 0 (pytensor folds log(exp(.)) away)
            sqrt_psd = pt.exp(0.5 * pt.log(kernel.power_spectral_density(pt.sqrt(eigenvalues))))
            f = f + rows * (phi @ (sqrt_psd * weights[j]))
        sigma = pm.Exponential("sigma", 0.05)
        pm.Normal("accel", intercept + f, sigma, observed=data["accel"].to_numpy(), dims="obs")
    return model


@pytest.mark.parametrize(
    ("text", "hand"),
    [
        ("accel ~ gp(times, x2, k = 5)", hand_mcycle_2d),
        ("accel ~ gp(times, by = half, k = 10, c = 3/2)", hand_mcycle_by),
    ],
)
def test_same_model_two_covariates_and_by(text: str, hand: object) -> None:
    m = hm.Model(text, mcycle(), priors=PRIORS)
    assert_same_model(m.pymc, hand(), n_points=3, rtol=1e-8)  # type: ignore[operator]


def test_same_model_as_pymc_hsgp() -> None:
    m = hm.Model("accel ~ gp(times, k = 20, c = 5/4)", mcycle(), priors=PRIORS)
    assert_same_model(m.pymc, hand_mcycle(), n_points=4, rtol=1e-8)


def test_same_model_with_a_gp_of_sigma() -> None:
    priors = PRIORS | {
        "sigma_Intercept": "normal(3, 1)",
        "sigma_sdgp": "half_normal(1)",
        "sigma_lscale": "inv_gamma(2, 0.1)",
    }
    priors.pop("sigma")
    m = hm.Model("accel ~ gp(times, k = 10); sigma ~ gp(times, k = 8)", mcycle(), priors=priors)
    assert_same_model(m.pymc, hand_mcycle_sigma(), n_points=4, rtol=1e-8)


def test_parameters_by_class_in_describe() -> None:
    m = hm.Model("accel ~ gp(times, k = 20, c = 5/4)", mcycle(), priors=PRIORS)
    table = m.describe()
    assert table.loc["sdgp_gptimes", "role"] == "gp_sd"
    assert table.loc["lscale_gptimes", "prior"] == "inverse_gamma(2, 0.1)"
    assert table.loc["zgp_gptimes", "shape"] == (20,)
    assert m.priors.loc["sdgp_gptimes", "key"] == "sdgp"


# ---------------------------------------------------------------------------------------------------
# Predictions at new x, and the exported source.


@functools.cache
def fitted() -> tuple[hm.Model, object]:
    """A short fit: its draws are only the values the predictions are checked at (its ESS is low,
    which the fit rightly warns about)."""
    m = hm.Model("accel ~ gp(times, k = 20, c = 5/4)", mcycle(), priors=PRIORS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        idata = m.fit(draws=60, tune=100, chains=1, random_seed=3, progressbar=False)
    return m, idata


def test_predict_at_new_x_is_the_basis_at_new_x() -> None:
    m, idata = fitted()
    new = pd.DataFrame({"times": np.linspace(0.0, 60.0, 13)})  # beyond the data at both ends
    linear = m.predict(idata, data=new, kind="linear")  # type: ignore[arg-type]
    post = idata.posterior  # type: ignore[attr-defined]
    # brms's scaling with the training data's constants, then PyMC's eigenfunctions
    train = mcycle()["times"].to_numpy()
    distinct = np.unique(train)
    dmax = distinct.max() - distinct.min()
    z = new["times"].to_numpy()[:, None] / dmax - np.mean(distinct / dmax)
    eigenvalues = calc_eigenvalues(pt.as_tensor([1.25]), [20])
    phi = calc_eigenvectors(pt.as_tensor(z), pt.as_tensor([1.25]), eigenvalues, [20]).eval()
    omega2 = eigenvalues.eval()[:, 0]
    sd = post["sdgp_gptimes"].values[0][:, None]
    ell = post["lscale_gptimes"].values[0][:, None]
    sqrt_psd = sd * np.sqrt(np.sqrt(2 * np.pi) * ell) * np.exp(-0.25 * ell**2 * omega2)
    f = (sqrt_psd * post["zgp_gptimes"].values[0]) @ phi.T
    expected = post["Intercept"].values[0][:, None] + f
    np.testing.assert_allclose(linear.values[0], expected, rtol=1e-9, atol=1e-9)


def test_summary_shows_the_gp_parameters() -> None:
    m, idata = fitted()
    result = m.summary(idata)  # type: ignore[arg-type]
    table = result.gps
    assert list(table.index) == [
        ("gp(times, k=20, c=5 / 4)", "sdgp_gptimes"),
        ("gp(times, k=20, c=5 / 4)", "lscale_gptimes"),
    ]
    post = idata.posterior  # type: ignore[attr-defined]
    assert table.loc[("gp(times, k=20, c=5 / 4)", "sdgp_gptimes"), "mean"] == pytest.approx(
        float(post["sdgp_gptimes"].mean())
    )
    assert "Gaussian processes (gp())" in result.text


def test_exported_source_runs_and_builds_the_same_model() -> None:
    m = hm.Model("accel ~ gp(times, k = 20, c = 5/4)", mcycle(), priors=PRIORS)
    namespace: dict[str, object] = {"__name__": "exported"}
    exec(compile(m.source(), "<exported>", "exec"), namespace)  # safe: hiermod's own text
    model = namespace["build_model"](mcycle())  # type: ignore[operator]
    assert_same_model(model, hand_mcycle(), n_points=2, rtol=1e-8)
    prepared = namespace["prepare"](pd.DataFrame({"times": [3.0, 30.0], "accel": [0.0, 0.0]}))  # type: ignore[operator]
    assert prepared["gptimes_phi"].shape == (2, 20)
    assert "# gp(times, k=20, c=5 / 4): a Gaussian process" in m.source()


SOURCES = [
    "accel ~ gp(times, k = 20, c = 5/4)",
    "accel ~ gp(times, x2, k = 5)",
    "accel ~ gp(times, by = half, k = 10, c = 3/2)",
    "accel ~ x2 + gp(times, k = 6); sigma ~ gp(times, k = 4, scale = FALSE)",
    "accel ~ gp(`times`, k = 3) + gp(x2, by = half, k = 3)",
    "accel ~ gp(milliseconds_since_the_impact, by = half, k = 3)\n"
    "sigma ~ gp(milliseconds_since_the_impact, x2, k = 3)",
]


def test_generated_sources_pass_ruff(tmp_path: Path) -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:  # pragma: no cover - ruff is a development dependency
        pytest.skip("ruff is not installed")
    for i, text in enumerate(SOURCES):
        source = hm.Model(text, mcycle()).source()
        compile(source, text, "exec")
        (tmp_path / f"model_{i}.py").write_text(source, encoding="utf-8")
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


def test_graph_names_the_gp_parameters() -> None:
    m = hm.Model("accel ~ gp(times, k = 10)", mcycle(), priors=PRIORS)
    source = m.graph().source
    assert "marginal sd of gp(times,<BR/>k=10)" in source  # wrapped as the graph wraps labels
    assert "lscale_gptimes ~ inverse_gamma(2, 0.1)" in source


@pytest.mark.parametrize("text", SOURCES)
def test_exported_prepare_gives_hiermod_arrays(text: str) -> None:
    """The generated ``prepare`` (the basis from the written constants) reproduces hiermod's
    arrays for every gp() form: one and two covariates, by, sigma, scale=FALSE."""
    m = hm.Model(text, mcycle())
    namespace: dict[str, object] = {"__name__": "exported"}
    exec(compile(m.source(), "<exported>", "exec"), namespace)  # safe: hiermod's own text
    prepared = namespace["prepare"](mcycle())  # type: ignore[operator]
    for name, values in m.ir.data_values.items():
        np.testing.assert_allclose(prepared[name], values, rtol=1e-13, atol=1e-14, err_msg=name)


def test_new_level_of_by_is_an_error() -> None:
    """New rows are encoded with the training schema; a level of by it lacks has no GP."""
    by = hm.Model("accel ~ gp(times, by = half, k = 4)", mcycle())
    new = pd.DataFrame({"times": [3.0, 4.0], "half": ["odd", "third"]})
    with pytest.raises(DataError, match="not seen"):
        apply_schema(by.design.schema, new, new_levels="allow")
    known = apply_schema(by.design.schema, new.iloc[:1])
    np.testing.assert_array_equal(known.main.gps[0].basis[0, 0], 0.0)  # odd is the second level
    assert known.main.gps[0].basis[0, 1].any()
