"""brms's tensor-product smooth ``t2(x, z)``: the formula, the basis against mgcv's
(benchmarks/reference/mgcv_t2.R), the model against a hand-written PyMC model, prediction at new
(x, z), the exported source, what is refused, and a recovery fit (slow).

mgcv's columns (brms's ``Xs`` and ``Zs_1_1``, ``Zs_1_2``, …) are mapped onto hiermod's by least
squares: :func:`test_basis_against_mgcv` checks that each penalised block maps onto hiermod's block
of the same penalty and nothing else, by an orthogonal map (singular values 1), so each ``sds`` is
brms's.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr
from support import assert_block_map, assert_same_model, hand_t2

import hiermod as hm
from hiermod.data.runtime import tensor_basis
from hiermod.errors import DataError, FormulaError
from hiermod.output.module import load_module

REFERENCE = Path(__file__).resolve().parents[1] / "benchmarks" / "reference" / "mgcv_t2"

# the reference script's cases: hiermod's spelling, the number of penalties
CASES = {
    "default": ("t2(x, z)", 3),
    "k46": ("t2(x, z, k = c(4, 6))", 3),
    "xzw": ("t2(x, z, w, k = 4)", 7),
    "cc": ('t2(x, z, k = c(5, 6), bs = c("cr", "cc"))', 3),
    "cyclic": ('t2(x, z, k = c(5, 6), bs = "cc")', 3),  # no unpenalised column
    "tp": ('t2(x, z, bs = "tp")', 3),
    "mixed": ('t2(x, z, w, k = c(6, 4, 5), bs = c("tp", "cc", "cr"))', 7),
}


@functools.cache
def train(case: str = "default") -> pd.DataFrame:
    return pd.read_csv(REFERENCE / f"{case}_train.csv")


def new(case: str = "default") -> pd.DataFrame:
    return pd.read_csv(REFERENCE / f"{case}_new.csv")


def data() -> pd.DataFrame:
    return train()[["x", "z", "w", "y"]].copy()


def _blocks(m: hm.Model, count: int, prefix: str = "") -> list[np.ndarray]:
    names = sorted(n for n in m.ir.data_values if n.startswith(f"{prefix}Zs_t2"))
    assert len(names) == count, names
    return [m.ir.data_values[n] for n in sorted(names, key=lambda n: int(n.rsplit("_", 1)[1]))]


def _ours(m: hm.Model, count: int) -> np.ndarray:
    """hiermod's columns: the intercept, X (the unpenalised ones), then each penalised block."""
    blocks = _blocks(m, count)
    X = m.ir.data_values.get("X", np.empty((len(blocks[0]), 0)))  # none: every margin cyclic
    return np.column_stack([np.ones(len(X)), X, *blocks])


def _theirs(ref: pd.DataFrame, count: int) -> np.ndarray:
    blocks = [ref.filter(regex=f"^Z{j}_") for j in range(1, count + 1)]
    return np.column_stack([np.ones(len(ref)), ref.filter(like="Xf_"), *blocks])


# ---------------------------------------------------------------------------------------------------
# The formula.

ROUND_TRIPS = [
    ("y ~ t2(x, z)", "y ~ 1 + t2(x, z)"),
    ("y ~ t2(x, z, k = 6)", "y ~ 1 + t2(x, z, k=6)"),
    ("y ~ t2(x, z, k = c(4, 6))", "y ~ 1 + t2(x, z, k=c(4, 6))"),
    ('y ~ t2(x, z, bs = c("cr", "cr"))', 'y ~ 1 + t2(x, z, bs=c("cr", "cr"))'),
    ("y ~ t2(x, z, w, k = 4)", "y ~ 1 + t2(x, z, w, k=4)"),
    ('y ~ t2(x, z, bs = c("cc", "tp"))', 'y ~ 1 + t2(x, z, bs=c("cc", "tp"))'),
    ("y ~ f + t2(x, z, by = f)", "y ~ 1 + f + t2(x, z, by=f)"),
    (
        'y ~ t2(x, z, w, by = v, k = c(4, 5, 6), bs = "tp")',
        'y ~ 1 + t2(x, z, w, by=v, k=c(4, 5, 6), bs="tp")',
    ),
    ("y ~ t2(x, z); sigma ~ t2(x, z)", "y ~ 1 + t2(x, z); sigma ~ 1 + t2(x, z)"),
]


@pytest.mark.parametrize(("text", "canonical"), ROUND_TRIPS)
def test_formula_round_trips(text: str, canonical: str) -> None:
    formula = hm.parse(text)
    assert str(formula) == canonical
    assert hm.parse(str(formula)) == formula


# (formula, a fragment of the message, the text the caret is under)
REFUSED = [
    ("y ~ t2(x)", "two or three columns", "t2(x)"),
    ("y ~ t2(x, z, w, v)", "two or three columns", "v"),
    ('y ~ t2(x, z, bs = "ps")', "bs must be one of", 'bs = "ps"'),
    ('y ~ t2(x, z, bs = "xx")', '"tp" (thin-plate regression spline), not "xx"', 'bs = "xx"'),
    ('y ~ t2(x, z, bs = c("cr", "xx"))', "bs must be one of", 'bs = c("cr", "xx")'),
    ('y ~ t2(x, z, bs = c("cr", "cc", "tp"))', "c(…) of 2", 'bs = c("cr", "cc", "tp")'),
    ("y ~ t2(x, z, full = TRUE)", "t2() full is not supported", "full = TRUE"),
    ("y ~ t2(x, z, d = c(1, 1))", "t2() d is not supported", "d = c(1, 1)"),
    ("y ~ t2(x, z, ord = 1)", "t2() ord is not supported", "ord = 1"),
    ("y ~ t2(x, z, kk = 4)", "has no parameter 'kk'", "kk = 4"),
    ("y ~ t2(x, z, k = c(4, 5, 6))", "c(…) of 2", "k = c(4, 5, 6)"),
    ("y ~ t2(x, z, k = 2)", "k of x (cr) must be at least 3", "k = 2"),
    ('y ~ t2(x, z, bs = "cc", k = c(5, 3))', "k of z (cc) must be at least 4", "k = c(5, 3)"),
    ('y ~ t2(x, z, bs = "tp", k = 2)', "k of x (tp) must be at least 3", "k = 2"),
    ("y ~ t2(x, z, k = 4.5)", "whole number", "k = 4.5"),
    ("y ~ t2(x, log(z))", "column names", "log(z)"),
    ("y ~ t2(x, z, by = log(w))", "by takes a column", "by = log(w)"),
    ('y ~ t2(x, z, by = "f")', "by takes a column", 'by = "f"'),
    ("y ~ t2(x, z, by = nope)", "unknown column 'nope'", "nope"),
    ("y ~ t2(x, z, by = one)", "the numeric by one is constant", "by = one"),
    ("y ~ s(x, by = one)", "the numeric by one is constant", "by = one"),
    ("y ~ (t2(x, z) | g)", "cannot be a group-level term", "t2(x, z)"),
    ("y ~ te(x, z)", "brms has t2(), not te()/ti()", "te"),
]


@pytest.mark.parametrize(("text", "words", "under"), REFUSED)
def test_refused_with_a_caret(text: str, words: str, under: str) -> None:
    d = data().assign(f=["a", "b"] * 100, g=["g1", "g2", "g3", "g4"] * 50, one=1.0)
    with pytest.raises((FormulaError, DataError)) as info:
        hm.Model(text, data=d)
    assert words in str(info.value)
    span = info.value.span
    assert span is not None
    assert text[span.start : span.end] == under


def test_too_few_distinct_values_names_the_column() -> None:
    d = data().assign(z=np.tile([0.0, 1.0, 2.0, 3.0], 50))
    with pytest.raises(DataError, match="z has 4 distinct values"):
        hm.Model("y ~ t2(x, z)", data=d)


def test_names_dims_describe_and_priors() -> None:
    """brms's names: sds_t2xz_1 … sds_t2xz_3 (one per penalty), zs_t2xz_j, the data Zs_t2xz_j;
    mgcv's widths (k = 5 cr margins: 9, 6, 6 and 3 unpenalised columns); the prior class sds."""
    m = hm.Model(
        "y ~ t2(x, z); sigma ~ t2(x, z, k = 4)", data=data(), priors={"sds": "half_normal(2)"}
    )
    assert m.ir.coords["coef"] == ("t2(x, z)[1]", "t2(x, z)[2]", "t2(x, z)[3]")
    assert [b.shape[1] for b in _blocks(m, 3)] == [9, 6, 6]
    assert [b.shape[1] for b in _blocks(m, 3, "sigma_")] == [4, 4, 4]
    table = m.describe()
    for j in (1, 2, 3):
        assert {f"sds_t2xz_{j}", f"zs_t2xz_{j}", f"sigma_sds_t2xz_{j}"} <= set(table.index)
        assert m.priors.loc[f"sds_t2xz_{j}", "prior"] == "half_normal(2)"
        assert m.priors.loc[f"sigma_sds_t2xz_{j}", "prior"].startswith("half_student_t(3")
    one = hm.Model("y ~ t2(x, z)", data=data(), priors={"sds_t2xz_2": "half_normal(1)"})
    assert one.priors.loc["sds_t2xz_2", "prior"] == "half_normal(1)"
    assert one.priors.loc["sds_t2xz_1", "prior"] != "half_normal(1)"


# ---------------------------------------------------------------------------------------------------
# The basis against mgcv's.


@pytest.mark.parametrize("case", sorted(CASES))
def test_basis_against_mgcv(case: str) -> None:
    """mgcv's unpenalised columns lie in hiermod's intercept and X; each of mgcv's penalised blocks
    (mgcv's order of penalties) is hiermod's block of the same number times an orthogonal map
    (singular values 1 to 1e-8), with nothing of the other columns: mgcv's basis, penalties and
    scale.penalty."""
    term, count = CASES[case]
    ref = train(case)
    m = hm.Model(f"y ~ {term}", data=ref[["x", "z", "w", "y"]])
    widths = tuple(ref.filter(regex=f"^Z{j}_").shape[1] for j in range(1, count + 1))
    free = 1 + ref.filter(like="Xf_").shape[1]
    assert_block_map(_ours(m, count), _theirs(ref, count), free, widths)


@pytest.mark.parametrize("case", sorted(CASES))
def test_columns_at_new_points_are_mgcvs(case: str) -> None:
    """At 40 new points, some beyond the data (a cyclic margin wraps), the exported source's
    columns are mgcv's (its margins' PredictMat) times the map fitted on the training rows."""
    term, count = CASES[case]
    ref, at = train(case), new(case)
    m = hm.Model(f"y ~ {term}", data=ref[["x", "z", "w", "y"]])
    P = ref.filter(like="P_").to_numpy()
    ours = _ours(m, count)[:, 1:]
    A, *_ = np.linalg.lstsq(P, ours, rcond=None)
    assert np.abs(P @ A - ours).max() < 1e-8 * np.abs(ours).max()
    prepared = load_module(m.source()).prepare(at[["x", "z", "w"]].assign(y=0.0))
    blocks = sorted((n for n in prepared if n.startswith("Zs_")), key=lambda n: int(n[-1]))
    free = prepared.get("X", np.empty((len(at), 0)))
    columns = np.column_stack([free, *(prepared[n] for n in blocks)])
    expected = at.filter(like="P_").to_numpy() @ A
    np.testing.assert_allclose(columns, expected, rtol=1e-8, atol=1e-9 * np.abs(expected).max())


def test_runtime_is_the_row_wise_kronecker_product() -> None:
    """tensor_basis by hand: the parts' products in mgcv's order rr, nr, rn (x's index slow)."""
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(6, 5)), rng.normal(size=(6, 4))
    null = rng.normal(size=(2 * 2, 3))
    out = tensor_basis((a, b), (3, 2), tuple(map(tuple, null)))
    ra, na, rb, nb = a[:, :3], a[:, 3:], b[:, :2], b[:, 2:]

    def kron(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        return np.stack([np.kron(p[i], q[i]) for i in range(6)])

    expected = np.column_stack([kron(na, nb) @ null, kron(ra, rb), kron(na, rb), kron(ra, nb)])
    np.testing.assert_allclose(out, expected, rtol=1e-14)


# ---------------------------------------------------------------------------------------------------
# The model against a hand-written one, prediction, the exported source.

PRIORS = {
    "Intercept": "normal(0, 2)",
    "b": "normal(0, 1)",
    "sds": "half_student_t(3, 1.5)",
    "sigma": "exponential(2)",
}


@functools.cache
def _map() -> np.ndarray:
    """mgcv's [1, Xf, Z1, Z2, Z3] onto hiermod's columns: least squares on the training rows."""
    m = hm.Model("y ~ t2(x, z)", data=data())
    coef, *_ = np.linalg.lstsq(_theirs(train(), 3), _ours(m, 3), rcond=None)
    return np.asarray(coef)


def hand_written() -> pm.Model:
    """``y ~ t2(x, z)`` by hand (brms's Stan program in PyMC) on mgcv's columns mapped onto
    hiermod's rotation."""
    ref = train()
    columns = (_theirs(ref, 3) @ _map())[:, 1:]  # past the intercept's
    return hand_t2(columns, (9, 6, 6), "t2xz", "t2(x, z)", ref["y"].to_numpy())


def test_same_model_as_hand_written() -> None:
    m = hm.Model("y ~ t2(x, z)", data=data(), priors=PRIORS)
    assert_same_model(m.pymc, hand_written(), n_points=3, rtol=1e-8)


def test_predict_mean_at_new_points() -> None:
    """predict's mean at new points: the NumPy computation on mgcv's PredictMat columns there."""
    ref, at = train(), new()
    m = hm.Model("y ~ t2(x, z)", data=data())
    P = ref.filter(like="P_").to_numpy()
    A, *_ = np.linalg.lstsq(P, _ours(m, 3)[:, 1:], rcond=None)
    columns = at.filter(like="P_").to_numpy() @ A
    rng = np.random.default_rng(4)
    draws = {
        "Intercept": rng.normal(size=(1, 3)),
        "b": rng.normal(size=(1, 3, 3)),
        "sigma": np.abs(rng.normal(size=(1, 3))),
    }
    dims = {"b": ("coef",)}
    for j, width in enumerate((9, 6, 6), 1):
        draws[f"sds_t2xz_{j}"] = np.abs(rng.normal(size=(1, 3)))
        draws[f"zs_t2xz_{j}"] = rng.normal(size=(1, 3, width))
        dims[f"zs_t2xz_{j}"] = (f"t2xz_{j}_basis",)
    posterior = xr.Dataset(
        {k: xr.DataArray(v, dims=("chain", "draw", *dims.get(k, ()))) for k, v in draws.items()}
    )
    fit = xr.DataTree.from_dict({"posterior": posterior})
    predicted = np.asarray(m.predict(fit, data=at[["x", "z"]], kind="mean")).reshape(3, 40)
    expected = draws["Intercept"][0][:, None] + draws["b"][0] @ columns[:, :3].T
    start = 3
    for j, width in enumerate((9, 6, 6), 1):
        s = draws[f"sds_t2xz_{j}"][0][:, None] * draws[f"zs_t2xz_{j}"][0]
        expected = expected + s @ columns[:, start : start + width].T
        start += width
    np.testing.assert_allclose(predicted, expected, rtol=1e-8, atol=1e-10)


def test_source_exports_and_runs() -> None:
    """The exported module imports no formulae and no hiermod, says what the term is, and builds
    the same model (with sigma's own t2 of cyclic margins)."""
    formula = 'y ~ t2(x, z); sigma ~ t2(x, z, k = 4, bs = "cc")'
    priors = {k: v for k, v in PRIORS.items() if k != "sigma"} | {"sigma_sds": "half_normal(0.7)"}
    m = hm.Model(formula, data=data(), priors=priors)
    source = m.source()
    assert "formulae" not in source
    assert "hiermod" not in source.split('"""', 2)[2]  # past the module docstring
    assert "def tensor_basis" in source
    assert "def cubic_basis" in source
    assert "brms's tensor-product smooth (mgcv's t2" in source
    comments = " ".join(line.strip().removeprefix("# ") for line in source.splitlines())
    assert "penalty 2 of 3, the product of x's linear and z's penalised parts" in comments
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

    rmse, sigma = surface_recovery("y ~ t2(x, z)", data())
    assert rmse < 0.1
    assert abs(sigma / 0.2 - 1.0) < 0.2
