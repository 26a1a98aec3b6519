"""The two-dimensional thin-plate smooth ``s(x, z)``: the formula, the basis against mgcv's
(benchmarks/reference/mgcv_smooth_2d.R), the model against a hand-written PyMC model, prediction
at new (x, z), the exported source, what is refused, and a recovery fit (slow).

The hand-written model takes mgcv's columns (brms's ``Xs`` and ``Zs_1_1``) mapped onto hiermod's
rotation by least squares: :func:`test_basis_against_mgcv` checks that the map of the penalised
columns is orthogonal (singular values 1), so the two are the same model.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from support import assert_same_model

import hiermod as hm
from hiermod.errors import FormulaError
from hiermod.output.module import load_module

REFERENCE = Path(__file__).resolve().parents[1] / "benchmarks" / "reference" / "mgcv_smooth_2d"


@functools.cache
def train() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "train.csv")


def data() -> pd.DataFrame:
    return train()[["x", "z", "y"]].copy()


def _ours(m: hm.Model) -> np.ndarray:
    """hiermod's columns of s(x, z): the intercept, the two unpenalised, the 27 penalised."""
    X = m.ir.data_values["X"]
    return np.column_stack([np.ones(len(X)), X, m.ir.data_values["Zs_sxz_1"]])


@functools.cache
def _map() -> np.ndarray:
    """mgcv's [1, Xf, Z] onto hiermod's [1, X, Zs]: the least-squares map on the training rows."""
    m = hm.Model("y ~ s(x, z)", data=data())
    ref = train()
    theirs = np.column_stack([np.ones(len(ref)), ref.filter(like="Xf_"), ref.filter(like="Z_")])
    coef, *_ = np.linalg.lstsq(theirs, _ours(m), rcond=None)
    return np.asarray(coef)


# ---------------------------------------------------------------------------------------------------
# The formula.

ROUND_TRIPS = [
    ("y ~ s(x, z)", "y ~ 1 + s(x, z)"),
    ("y ~ s(x, z, k = 12)", "y ~ 1 + s(x, z, k=12)"),
    ('y ~ s(x, z, bs = "tp")', 'y ~ 1 + s(x, z, bs="tp")'),
    ("y ~ s(x, z); sigma ~ s(x)", "y ~ 1 + s(x, z); sigma ~ 1 + s(x)"),
]


@pytest.mark.parametrize(("text", "canonical"), ROUND_TRIPS)
def test_formula_round_trips(text: str, canonical: str) -> None:
    assert str(hm.parse(text)) == canonical
    assert str(hm.parse(canonical)) == canonical


REFUSED = [
    ("y ~ s(x, z, w)", "more than two columns"),
    ('y ~ s(x, z, bs = "cr")', "thin-plate spline"),
    ("y ~ s(x, z, k = 3)", "at least 4"),
    ("y ~ s(x, log(z))", "column names"),
    ("y ~ te(x, z)", "tensor"),
]


@pytest.mark.parametrize(("text", "words"), REFUSED)
def test_refused_at_parse(text: str, words: str) -> None:
    with pytest.raises(FormulaError, match=words):
        hm.Model(text, data=data().assign(w=1.0))


def test_defaults_and_names() -> None:
    """k = 30 (mgcv's default for two columns): two unpenalised columns in X, 27 penalised with
    one sd, brms's names (sds_sxz_1, zs_sxz_1)."""
    m = hm.Model("y ~ s(x, z)", data=data())
    assert m.ir.coords["coef"] == ("s(x, z)[1]", "s(x, z)[2]")
    assert m.ir.data_values["Zs_sxz_1"].shape == (200, 27)
    assert {"sds_sxz_1", "zs_sxz_1"} <= set(m.describe().index)
    small = hm.Model("y ~ s(x, z, k = 12)", data=data())
    assert small.ir.data_values["Zs_sxz_1"].shape == (200, 9)


# ---------------------------------------------------------------------------------------------------
# The basis against mgcv's.


def test_basis_against_mgcv() -> None:
    """mgcv's smooth2random columns lie in hiermod's column space (residual < 1e-6 of their
    size), the unpenalised ones in hiermod's intercept and X, and the penalised ones are an
    orthogonal rotation of hiermod's (singular values 1 to 1e-6): mgcv's penalty scale."""
    ref = train()
    ours = _ours(hm.Model("y ~ s(x, z)", data=data()))
    for prefix in ("Xf_", "Z_"):
        theirs = ref.filter(like=prefix).to_numpy()
        coef, *_ = np.linalg.lstsq(ours, theirs, rcond=None)
        assert np.abs(ours @ coef - theirs).max() < 1e-6 * np.abs(theirs).max()
        if prefix == "Xf_":
            np.testing.assert_allclose(coef[3:], 0.0, atol=1e-8)
        else:
            np.testing.assert_allclose(coef[:3], 0.0, atol=1e-6)
            singular = np.linalg.svd(coef[3:], compute_uv=False)
            np.testing.assert_allclose(singular, 1.0, rtol=1e-6)


def test_prediction_at_new_points_is_mgcvs() -> None:
    """At 40 new (x, z), some beyond the data, hiermod's columns (predict's prepare and the
    exported source's) are mgcv's PredictMat columns times the map fitted on the training rows."""
    ref, new = train(), pd.read_csv(REFERENCE / "new.csv")
    m = hm.Model("y ~ s(x, z)", data=data())
    P = ref.filter(like="P_").to_numpy()
    ours = _ours(m)[:, 1:]
    A, *_ = np.linalg.lstsq(P, ours, rcond=None)
    assert np.abs(P @ A - ours).max() < 1e-8 * np.abs(ours).max()
    prepared = load_module(m.source()).prepare(new[["x", "z"]].assign(y=0.0))
    at_new = np.column_stack([prepared["X"], prepared["Zs_sxz_1"]])
    expected = new.filter(like="P_").to_numpy() @ A
    np.testing.assert_allclose(at_new, expected, rtol=1e-8, atol=1e-9 * np.abs(expected).max())


def test_predict_mean_at_new_points() -> None:
    """predict's mean at new points: the hand computation with mgcv's columns there."""
    ref, new = train(), pd.read_csv(REFERENCE / "new.csv")
    m = hm.Model("y ~ s(x, z)", data=data())
    P = ref.filter(like="P_").to_numpy()
    A, *_ = np.linalg.lstsq(P, _ours(m)[:, 1:], rcond=None)
    columns = new.filter(like="P_").to_numpy() @ A
    rng = np.random.default_rng(4)
    draws = {
        "Intercept": rng.normal(size=(1, 3)),
        "b": rng.normal(size=(1, 3, 2)),
        "sds_sxz_1": np.abs(rng.normal(size=(1, 3))),
        "zs_sxz_1": rng.normal(size=(1, 3, 27)),
        "sigma": np.abs(rng.normal(size=(1, 3))),
    }
    import xarray as xr

    dims = {"b": ("coef",), "zs_sxz_1": ("sxz_1_basis",)}
    posterior = xr.Dataset(
        {k: xr.DataArray(v, dims=("chain", "draw", *dims.get(k, ()))) for k, v in draws.items()}
    )
    fit = xr.DataTree.from_dict({"posterior": posterior})
    predicted = np.asarray(m.predict(fit, data=new[["x", "z"]], kind="mean")).reshape(3, 40)
    a, b = draws["Intercept"][0], draws["b"][0]
    s = draws["sds_sxz_1"][0][:, None] * draws["zs_sxz_1"][0]
    expected = a[:, None] + b @ columns[:, :2].T + s @ columns[:, 2:].T
    np.testing.assert_allclose(predicted, expected, rtol=1e-8, atol=1e-10)


# ---------------------------------------------------------------------------------------------------
# The model against a hand-written one, and the exported source.

PRIORS = {
    "Intercept": "normal(0, 2)",
    "b": "normal(0, 1)",
    "sds": "half_student_t(3, 1.5)",
    "sigma_Intercept": "normal(0, 1)",
    "sigma_b": "normal(0, 0.5)",
    "sigma_sds": "half_normal(0.7)",
}
FORMULA = "y ~ s(x, z); sigma ~ s(x, z, k = 12)"


def hand_written() -> pm.Model:
    """``FORMULA`` by hand (brms's Stan program in PyMC): mgcv's columns in hiermod's rotation;
    sigma's ``k = 12`` smooth from hiermod's own k = 12 basis checked in the same space."""
    ref = train()
    y = ref["y"].to_numpy()
    theirs = np.column_stack([np.ones(len(ref)), ref.filter(like="Xf_"), ref.filter(like="Z_")])
    mean = theirs @ _map()
    small = hm.Model("y ~ s(x, z, k = 12)", data=data())
    sigma_z = small.ir.data_values["Zs_sxz_1"]
    coords = {
        "obs": np.arange(len(ref)),
        "coef": ["s(x, z)[1]", "s(x, z)[2]"],
        "sigma_coef": ["s(x, z, k=12)[1]", "s(x, z, k=12)[2]"],
        "sxz_1_basis": [str(j) for j in range(1, 28)],
        "sigma_sxz_1_basis": [str(j) for j in range(1, 10)],
    }
    with pm.Model(coords=coords) as model:
        intercept = pm.Normal("Intercept", 0.0, 2.0)
        b = pm.Normal("b", 0.0, 1.0, dims="coef")
        sds = pm.HalfStudentT("sds_sxz_1", nu=3.0, sigma=1.5)
        zs = pm.Normal("zs_sxz_1", 0.0, 1.0, dims="sxz_1_basis")
        sigma_intercept = pm.Normal("sigma_Intercept", 0.0, 1.0)
        sigma_b = pm.Normal("sigma_b", 0.0, 0.5, dims="sigma_coef")
        sigma_sds = pm.HalfNormal("sigma_sds_sxz_1", 0.7)
        sigma_zs = pm.Normal("sigma_zs_sxz_1", 0.0, 1.0, dims="sigma_sxz_1_basis")
        mu = intercept + mean[:, 1:3] @ b + mean[:, 3:] @ (sds * zs)
        eta = (
            sigma_intercept + small.ir.data_values["X"] @ sigma_b + sigma_z @ (sigma_sds * sigma_zs)
        )
        pm.Normal("y", mu, pm.math.exp(eta), observed=y, dims="obs")
    return model


def test_same_model_as_hand_written() -> None:
    m = hm.Model(FORMULA, data=data(), priors=PRIORS)
    assert_same_model(m.pymc, hand_written(), n_points=3, rtol=1e-8)


def test_source_exports_and_runs() -> None:
    """The exported module imports no formulae and no hiermod, and builds the same model."""
    m = hm.Model(FORMULA, data=data(), priors=PRIORS)
    source = m.source()
    assert "formulae" not in source
    assert "hiermod" not in source.split('"""', 2)[2]  # past the module docstring
    assert "def tprs_basis" in source
    assert "np.column_stack([" in source
    module = load_module(source)
    exported = module.build_model(module.prepare(data()))
    assert_same_model(exported, m.pymc, n_points=2, rtol=1e-10)


# ---------------------------------------------------------------------------------------------------
# Recovery.


@pytest.mark.slow
def test_recovers_a_surface() -> None:
    """y = sin(2 pi x) cos(pi z) + N(0, 0.2^2), 200 rows: the posterior mean surface is within
    0.1 (root mean square) of the truth at the rows, and sigma's posterior mean within 20% of 0.2."""
    from fit_support import surface_recovery

    rmse, sigma = surface_recovery("y ~ s(x, z)", data())
    assert rmse < 0.1
    assert abs(sigma / 0.2 - 1.0) < 0.2
