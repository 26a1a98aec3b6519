"""brms's ``t2(x, z, by = …)``: one tensor-product smooth per level of a categorical ``by`` or the
smooth times a numeric one, against mgcv (benchmarks/reference/mgcv_t2.R's cases ``by_f`` and
``by_v``, the latter of cc and tp margins), a hand-written PyMC model, prediction at new data and
the exported source. The margins themselves (cc, tp, mixed) are checked against mgcv in
tests/test_smooths_t2.py.

mgcv's columns of each level (brms's ``Xs`` and ``Zs_1_1``, …) are mapped onto hiermod's by least
squares, as there: each penalised block onto hiermod's block of the same level and penalty by an
orthogonal map (singular values 1), so each ``sds`` is brms's.
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
from hiermod.errors import DataError
from hiermod.output.module import load_module

REFERENCE = Path(__file__).resolve().parents[1] / "benchmarks" / "reference" / "mgcv_t2"
COLUMNS = ["x", "z", "w", "f", "v", "y"]

# the reference script's cases: hiermod's term, the by's levels as the fixture names them
# (a numeric by's one "level" is its name), how many penalties each level has
CASES = {
    "by_f": ("t2(x, z, k = 4, by = f)", ("a", "b", "c"), 3),
    "by_v": ('t2(x, z, k = c(4, 5), bs = c("cc", "tp"), by = v)', ("v",), 3),
}


@functools.cache
def train(case: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / f"{case}_train.csv")


def new(case: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / f"{case}_new.csv")


def _stem(case: str, level: str) -> str:
    """brms's name of a level's smooth: t2xzfa (f's level a), t2xzv (numeric v)."""
    return "t2xzv" if case == "by_v" else f"t2xzf{level}"


def _level_columns(
    case: str, level: str, values: dict[str, np.ndarray], labels: tuple[str, ...]
) -> np.ndarray:
    """hiermod's columns of one level: its unpenalised columns of X, then its penalised blocks."""
    count = CASES[case][2]
    X = values.get("X", np.empty((len(values[f"Zs_{_stem(case, level)}_1"]), 0)))
    mine = [j for j, label in enumerate(labels) if case == "by_v" or label.endswith(f"f[{level}]")]
    blocks = [values[f"Zs_{_stem(case, level)}_{j}"] for j in range(1, count + 1)]
    return np.column_stack([X[:, mine], *blocks])


def _theirs(case: str, level: str, ref: pd.DataFrame) -> np.ndarray:
    count = CASES[case][2]
    blocks = [ref.filter(regex=rf"^{level}\.Z{j}_") for j in range(1, count + 1)]
    return np.column_stack([ref.filter(like=f"{level}.Xf_"), *blocks])


def _indicator(case: str, level: str, frame: pd.DataFrame) -> np.ndarray:
    """What the by multiplies the level's smooth with: f's indicator, or v."""
    if case == "by_v":
        return frame["v"].to_numpy()
    return (frame["f"] == level).to_numpy(dtype=float)


# ---------------------------------------------------------------------------------------------------
# The basis against mgcv's.


@pytest.mark.parametrize("case", sorted(CASES))
def test_by_against_mgcv(case: str) -> None:
    """Each level's mgcv columns lie in hiermod's columns of that level; mgcv's unpenalised ones
    in hiermod's X (by v: both columns of the null-null product, unconstrained, as mgcv for a
    numeric by), each penalised block hiermod's block of the same level and number times an orthogonal map
    (singular values 1 to 1e-8), with nothing of the other columns."""
    term, levels, count = CASES[case]
    ref = train(case)
    m = hm.Model(f"y ~ {term}", data=ref[COLUMNS])
    for level in levels:
        ours = _level_columns(case, level, m.ir.data_values, m.ir.coords["coef"])
        widths = tuple(ref.filter(regex=rf"^{level}\.Z{j}_").shape[1] for j in range(1, count + 1))
        free = ref.filter(like=f"{level}.Xf_").shape[1]
        assert_block_map(ours, _theirs(case, level, ref), free, widths)


def test_names_dims_describe_and_priors() -> None:
    """brms's names: sds_t2xzfa_1 … sds_t2xzfc_3 (level, then penalty), sds_t2xzv_1 (a numeric
    by's name in the label, as brms's tidy_smef); the unpenalised columns level by level
    (t2(…)[1]:f[a]); the prior class sds, and one sd by name."""
    priors = {"sds": "half_normal(2)", "sds_t2xzfb_2": "half_normal(1)"}
    m = hm.Model(
        "y ~ f + t2(x, z, k = 4, by = f) + t2(x, w, by = v, k = 4)",
        data=train("by_f")[COLUMNS],
        priors=priors,
    )
    coef = m.ir.coords["coef"]
    assert coef[2:11] == tuple(
        f"t2(x, z, k=4, by=f)[{j}]:f[{level}]" for level in "abc" for j in (1, 2, 3)
    )
    assert coef[-4:] == tuple(f"t2(x, w, by=v, k=4)[{j}]" for j in (1, 2, 3, 4))
    table = m.describe()
    for j in (1, 2, 3):
        for level in "abc":
            assert {f"sds_t2xzf{level}_{j}", f"zs_t2xzf{level}_{j}"} <= set(table.index)
            assert m.ir.data_values[f"Zs_t2xzf{level}_{j}"].shape == (200, 4)
        assert m.priors.loc[f"sds_t2xwv_{j}", "prior"] == "half_normal(2)"
    assert m.priors.loc["sds_t2xzfb_2", "prior"] == "half_normal(1)"
    assert m.priors.loc["sds_t2xzfa_2", "prior"] == "half_normal(2)"
    rows = (train("by_f")["f"] != "a").to_numpy()
    np.testing.assert_array_equal(m.ir.data_values["Zs_t2xzfa_1"][rows], 0.0)


# ---------------------------------------------------------------------------------------------------
# At new data.


@pytest.mark.parametrize("case", sorted(CASES))
def test_columns_at_new_points_are_mgcvs(case: str) -> None:
    """At 40 new points (some beyond the data: the cyclic margin wraps, the others extrapolate)
    the exported source's columns of each level are mgcv's basis there (P_, before the by) times
    the map fitted on the training rows of the level, times the level's indicator or v."""
    term, levels, _ = CASES[case]
    ref, at = train(case), new(case)
    m = hm.Model(f"y ~ {term}", data=ref[COLUMNS])
    prepared = load_module(m.source()).prepare(at[COLUMNS[:-1]].assign(y=0.0))
    P, P_new = ref.filter(like="P_").to_numpy(), at.filter(like="P_").to_numpy()
    for level in levels:
        ours = _level_columns(case, level, m.ir.data_values, m.ir.coords["coef"])
        by = _indicator(case, level, ref)
        rows = by != 0.0
        A, *_ = np.linalg.lstsq(P[rows] * by[rows, None], ours[rows], rcond=None)
        assert np.abs(P @ A * by[:, None] - ours).max() < 1e-8 * np.abs(ours).max()
        expected = P_new @ A * _indicator(case, level, at)[:, None]
        columns = _level_columns(case, level, prepared, m.ir.coords["coef"])
        np.testing.assert_allclose(columns, expected, rtol=1e-8, atol=1e-9 * np.abs(expected).max())


def test_a_new_level_of_the_by_is_refused() -> None:
    m = hm.Model("y ~ t2(x, z, k = 4, by = f)", data=train("by_f")[COLUMNS])
    at = new("by_f")[COLUMNS[:-1]].assign(f=["a", "d"] * 20)
    with pytest.raises(
        DataError, match=r"f has a level not seen when the model was fitted \('d'\)"
    ):
        m.predict(random_draws(m, 1), data=at, kind="mean")


def test_predict_mean_at_new_points() -> None:
    """predict's mean at new (x, z, v): the NumPy computation on mgcv's basis there (P_ mapped
    as in test_columns_at_new_points_are_mgcvs, times v)."""
    case = "by_v"
    term, _, count = CASES[case]
    ref, at = train(case), new(case)
    m = hm.Model(f"y ~ {term}", data=ref[COLUMNS])
    ours = _level_columns(case, "v", m.ir.data_values, m.ir.coords["coef"])
    by = ref["v"].to_numpy()[:, None]
    A, *_ = np.linalg.lstsq(ref.filter(like="P_").to_numpy() * by, ours, rcond=None)
    columns = at.filter(like="P_").to_numpy() @ A * at["v"].to_numpy()[:, None]
    fit = random_draws(m, 3)
    post = fit["posterior"]
    predicted = np.asarray(m.predict(fit, data=at[COLUMNS[:-1]], kind="mean")).reshape(3, 40)
    free = len(m.ir.coords["coef"])  # cc's constant times tp's 1 and z, unconstrained: 2
    expected = smooth_mean(post, columns, free, [f"t2xzv_{j}" for j in range(1, count + 1)])
    np.testing.assert_allclose(predicted, expected, rtol=1e-8, atol=1e-10)


# ---------------------------------------------------------------------------------------------------
# The model against a hand-written one, the exported source.

PRIORS = {
    "Intercept": "normal(0, 2)",
    "b": "normal(0, 1)",
    "sds": "half_student_t(3, 1.5)",
    "sigma": "exponential(2)",
}


def hand_written() -> pm.Model:
    """``y ~ t2(x, z, k = c(4, 5), bs = c("cc", "tp"), by = v)`` by hand (brms's Stan program in
    PyMC) on mgcv's columns (brms's Xs, Zs_1_1, …) mapped onto hiermod's rotation."""
    case = "by_v"
    ref = train(case)
    m = hm.Model(f"y ~ {CASES[case][0]}", data=ref[COLUMNS])
    ours = _level_columns(case, "v", m.ir.data_values, m.ir.coords["coef"])
    theirs = _theirs(case, "v", ref)
    columns = theirs @ np.linalg.lstsq(theirs, ours, rcond=None)[0]
    widths = tuple(ref.filter(regex=rf"^v\.Z{j}_").shape[1] for j in (1, 2, 3))
    term = 't2(x, z, k=c(4, 5), bs=c("cc", "tp"), by=v)'
    return hand_t2(columns, widths, "t2xzv", term, ref["y"].to_numpy())


def test_same_model_as_hand_written() -> None:
    m = hm.Model(f"y ~ {CASES['by_v'][0]}", data=train("by_v")[COLUMNS], priors=PRIORS)
    assert_same_model(m.pymc, hand_written(), n_points=3, rtol=1e-8)


# (formula, the rows of by_f's data, words of the source's comments); two models, each with few
# enough variables for assert_same_model's compile mode (at most 32 terms in one sum)
EXPORTS = [
    (
        "y ~ f + t2(x, z, k = 4, by = f)",
        ("a", "b"),
        "one smooth per level of f, this one of level b), penalty 2 of 3",
    ),
    (
        'y ~ x; sigma ~ t2(x, z, k = c(4, 5), bs = c("cc", "tp"), by = v)',
        ("a", "b", "c"),
        "z: thin-plate regression spline; times v), penalty 2 of 3, the product of x's constant",
    ),
]


@pytest.mark.parametrize(("formula", "levels", "words"), EXPORTS)
def test_source_exports_and_runs(formula: str, levels: tuple[str, ...], words: str) -> None:
    """The exported module imports no formulae and no hiermod, says what the term is (the level
    of a by, the multiplying column, the margins), and builds the same model."""
    d = train("by_f")[COLUMNS]
    d = d[d["f"].isin(levels)].reset_index(drop=True)
    m = hm.Model(formula, data=d)
    source = m.source()
    assert "formulae" not in source
    assert "hiermod" not in source.split('"""', 2)[2]  # past the module docstring
    assert "def tensor_basis" in source
    comments = " ".join(line.strip().removeprefix("# ") for line in source.splitlines())
    assert words in comments
    module = load_module(source)
    exported = module.build_model(module.prepare(d))
    assert_same_model(exported, m.pymc, n_points=2, rtol=1e-10)
