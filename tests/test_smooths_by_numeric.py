"""brms's varying-coefficient smooth ``s(x, by = v)`` with a numeric v: the smooth times v, with no
sum-to-zero constraint (mgcv's rule for a by that is not constant), against mgcv
(benchmarks/reference/mgcv_smooth.R's ``by_v_<bs>`` fixtures, mcycle's times and a v of seed 7)
for ``tp``, ``cr`` and ``cc``; a hand-written PyMC model, prediction at new data and the exported
source. The refusal of a constant v is in tests/test_smooths.py (with t2's, the same message).

mgcv's columns (brms's ``Xs`` and ``Zs_1_1``) are mapped onto hiermod's by least squares, as for
``t2(x, z, by = v)`` (tests/test_smooths_t2_margins.py): the unpenalised columns into the
unpenalised ones, the penalised block onto the penalised block by an orthogonal map (singular
values 1), so ``sds`` is brms's.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from support import assert_block_map, assert_same_model, hand_t2, random_draws, smooth_mean

import hiermod as hm
from hiermod.output.module import load_module

REFERENCE = Path(__file__).resolve().parents[1] / "benchmarks" / "reference"

# the fixtures' cases: hiermod's term (as it prints: its columns' labels), the fixture files (training rows, new points), the
# covariates, brms's stem of the names (sds_stimesv_1) and mgcv's unpenalised columns with no
# constraint (tp, cr: the null space 1, x; cc the constant; the 2-d tp 1, x, z)
CASES = {
    "tp": ('s(times, by=v, bs="tp")', "mgcv_smooth/by_v_tp", ("times",), "stimesv", 2),
    "cr": ('s(times, by=v, bs="cr")', "mgcv_smooth/by_v_cr", ("times",), "stimesv", 2),
    "cc": ('s(times, by=v, bs="cc")', "mgcv_smooth/by_v_cc", ("times",), "stimesv", 1),
    "xz": ("s(x, z, by=v, k=12)", "mgcv_smooth_2d/by_v", ("x", "z"), "sxzv", 3),
}


@functools.cache
def train(case: str) -> pd.DataFrame:
    stem = CASES[case][1]
    return pd.read_csv(REFERENCE / f"{stem}{'_train' if case == 'xz' else ''}.csv")


def new(case: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / f"{CASES[case][1]}_new.csv")


def columns_of(case: str) -> list[str]:
    return [*CASES[case][2], "v"]


def data(case: str) -> pd.DataFrame:
    """The training rows with a response (a sine of the first covariate times v, and noise)."""
    ref = train(case)
    rng = np.random.default_rng(11)
    first = ref[CASES[case][2][0]].to_numpy()
    y = ref["v"] * np.sin(first / np.ptp(first) * 6.0) + rng.normal(0.0, 0.3, len(ref))
    return ref[columns_of(case)].assign(y=y)


def formula(case: str) -> str:
    return f"y ~ {CASES[case][0]}"


def ours(case: str, values: dict[str, np.ndarray]) -> np.ndarray:
    """hiermod's columns of the smooth: the unpenalised ones of X, then the penalised block."""
    return np.column_stack([values["X"], values[f"Zs_{CASES[case][3]}_1"]])


def theirs(ref: pd.DataFrame) -> np.ndarray:
    return np.column_stack([ref.filter(like="Xf_"), ref.filter(like="Z_")])


# ---------------------------------------------------------------------------------------------------
# The basis against mgcv's.


@pytest.mark.parametrize("case", sorted(CASES))
def test_against_mgcv(case: str) -> None:
    """mgcv's columns are hiermod's times a map: the unpenalised ones (all of the penalty's null
    space, times v: no constraint) into hiermod's population columns, the penalised block onto
    hiermod's by an orthogonal map (residual and singular values to 1e-8)."""
    ref = train(case)
    m = hm.Model(formula(case), data=data(case))
    free = ref.filter(like="Xf_").shape[1]
    assert free == CASES[case][4]
    term = CASES[case][0]
    assert m.ir.coords["coef"] == tuple(f"{term}[{j}]" for j in range(1, free + 1))
    width = ref.filter(like="Z_").shape[1]
    assert_block_map(ours(case, m.ir.data_values), theirs(ref), free, (width,))


def test_names_describe_and_priors() -> None:
    """brms's names: sds_stimesv_1, zs_stimesv_1 (function, variable, by); the prior class sds
    and one sd by name."""
    priors = {"sds": "half_normal(2)", "sds_stimesv_1": "half_normal(1)"}
    m = hm.Model(
        'y ~ s(times, by = v, bs = "cr") + s(times, k = 5)', data=data("cr"), priors=priors
    )
    table = m.describe()
    assert {"sds_stimesv_1", "zs_stimesv_1", "sds_stimes_1"} <= set(table.index)
    assert m.ir.data_values["Zs_stimesv_1"].shape == (len(data("cr")), 8)
    assert m.priors.loc["sds_stimesv_1", "prior"] == "half_normal(1)"
    assert m.priors.loc["sds_stimes_1", "prior"] == "half_normal(2)"


# ---------------------------------------------------------------------------------------------------
# At new data.


def _map(case: str, m: hm.Model) -> np.ndarray:
    """The map from mgcv's basis before the by (P_) to hiermod's columns, fitted on the training
    rows (checked there to 1e-8)."""
    ref = train(case)
    v = ref["v"].to_numpy()[:, None]
    columns, P = ours(case, m.ir.data_values), ref.filter(like="P_").to_numpy()
    A, *_ = np.linalg.lstsq(P * v, columns, rcond=None)
    assert np.abs(P @ A * v - columns).max() < 1e-8 * np.abs(columns).max()
    return np.asarray(A)


@pytest.mark.parametrize("case", sorted(CASES))
def test_columns_at_new_points_are_mgcvs(case: str) -> None:
    """At 40 new points (some beyond the data: cc wraps, the others extrapolate) the exported
    source's columns are mgcv's PredictMat there times the training rows' map, times the new v."""
    m = hm.Model(formula(case), data=data(case))
    at = new(case)
    prepared = load_module(m.source()).prepare(at[columns_of(case)].assign(y=0.0))
    expected = at.filter(like="P_").to_numpy() @ _map(case, m) * at["v"].to_numpy()[:, None]
    columns = ours(case, prepared)
    np.testing.assert_allclose(columns, expected, rtol=1e-8, atol=1e-9 * np.abs(expected).max())


@pytest.mark.parametrize("case", sorted(CASES))
def test_predict_mean_at_new_points(case: str) -> None:
    """predict's mean at new (x, v): the NumPy computation on mgcv's basis there, mapped as in
    test_columns_at_new_points_are_mgcvs, times v."""
    m = hm.Model(formula(case), data=data(case))
    at = new(case)
    columns = at.filter(like="P_").to_numpy() @ _map(case, m) * at["v"].to_numpy()[:, None]
    fit = random_draws(m, 3)
    post = fit["posterior"]
    predicted = np.asarray(m.predict(fit, data=at[columns_of(case)], kind="mean")).reshape(3, 40)
    free, stem = CASES[case][4], CASES[case][3]
    expected = smooth_mean(post, columns, free, [f"{stem}_1"])
    np.testing.assert_allclose(predicted, expected, rtol=1e-8, atol=1e-10)


# ---------------------------------------------------------------------------------------------------
# The model against a hand-written one, the exported source.

PRIORS = {
    "Intercept": "normal(0, 2)",
    "b": "normal(0, 1)",
    "sds": "half_student_t(3, 1.5)",
    "sigma": "exponential(2)",
}


def hand_written(case: str) -> pm.Model:
    """``y ~ s(times, by = v, bs = <bs>)`` (or ``s(x, z, by = v)``) by hand (brms's Stan program
    in PyMC) on mgcv's columns (brms's Xs and Zs_1_1, v already in them) mapped onto hiermod's
    rotation."""
    ref = train(case)
    m = hm.Model(formula(case), data=data(case))
    mgcv = theirs(ref)
    columns = mgcv @ np.linalg.lstsq(mgcv, ours(case, m.ir.data_values), rcond=None)[0]
    width = ref.filter(like="Z_").shape[1]
    term = CASES[case][0]
    return hand_t2(columns, (width,), CASES[case][3], term, data(case)["y"].to_numpy())


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_model_as_hand_written(case: str) -> None:
    m = hm.Model(formula(case), data=data(case), priors=PRIORS)
    assert_same_model(m.pymc, hand_written(case), n_points=3, rtol=1e-8)


@pytest.mark.parametrize("bs", ["tp", "cr", "cc"])
def test_source_exports_and_runs(bs: str) -> None:
    """The exported module imports no formulae and no hiermod, says the smooth is times v, and
    builds the same model (of sigma too)."""
    d = data(bs)
    m = hm.Model(f'y ~ s(times, by = v, bs = "{bs}"); sigma ~ s(times, by = v, k = 5)', data=d)
    source = m.source()
    assert "formulae" not in source
    assert "hiermod" not in source.split('"""', 2)[2]  # past the module docstring
    comments = " ".join(line.strip().removeprefix("# ") for line in source.splitlines())
    assert "in brms's mixed-model form (mgcv's smooth2random, times v): 2 unpenalised" in comments
    module = load_module(source)
    exported = module.build_model(module.prepare(d))
    assert_same_model(exported, m.pymc, n_points=2, rtol=1e-10)
