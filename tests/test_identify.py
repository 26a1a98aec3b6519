"""Models the data cannot support: aliased population-level columns (an IdentifiabilityWarning
naming them, as R's lm reports coefficients "not defined because of singularities"), and columns
on scales where a default prior has no finite scale (a DataError naming the column).

Each case is a table row: the formula and data, and the words the warning or error must hold. The
rank rule is checked against NumPy's ``matrix_rank`` on random rank-deficient matrices.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import hiermod as hm
from hiermod.data.binder import bind
from hiermod.data.identify import SAMPLE_ROWS, aliasing
from hiermod.errors import DataError
from hiermod.plan.scales import safe_mean, safe_sd
from hiermod.plan.suffstats import SuffStatsError
from hiermod.warnings import DataWarning, IdentifiabilityWarning


def _frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x1": x1,
            "x2": 2 * x1,
            "x3": rng.normal(size=n),
            "c": 3.0,
            "zero": 0.0,
            "f": np.tile(["a", "b", "c"], n // 3),
            "fb": np.tile([0.0, 1.0, 0.0], n // 3),
            "m": np.tile([1.0, 0.0], n // 2),
            "w": np.tile([0.0, 1.0], n // 2),
            "x": rng.uniform(size=n),
            "g": np.repeat(np.arange(6), n // 6),
            "big": 1e300 * rng.normal(size=n),
            "tiny": 1e-320 * rng.integers(1, 100, size=n).astype(float),
            "shifted": 1e9 + rng.normal(size=n),
        }
    )


DATA = _frame()

ALIASED = [
    # (case, formula, words of the warning)
    ("constant predictor", "y ~ c + x1", ["3 columns and rank 2", "c = 3*Intercept"]),
    ("exactly collinear", "y ~ x1 + x2", ["x2 = 2*x1", "1 coefficient", "as NA"]),
    ("dummy trap, manual column", "y ~ f + fb", ["4 columns and rank 3", "fb = f[b]"]),
    ("manual indicators sum to one", "y ~ m + w", ["w = Intercept - m"]),
    ("no intercept", "y ~ 0 + f + fb", ["fb = f[b]"]),
    ("a zero column", "y ~ x1 + zero", ["zero = 0 in every row"]),
    (
        "more columns than rows",
        "y ~ bs(x, df=1000)",
        ["1001 columns but only 60 rows and rank 60", "941 coefficients", "and 936 more"],
    ),
    ("on a scale of 1e300", "y ~ x1 + I(x1 * 1e300)", ["I(x1 * 1e+300) = 1e+300*x1"]),
    ("two aliased", "y ~ x1 + x2 + c", ["2 coefficients", "x2 = 2*x1; c = 3*Intercept"]),
    (
        "nearly the intercept, as R's tolerance has it",
        "y ~ shifted + x1",
        ["shifted ≈ 1e+09*Intercept (to ", "e-10)"],
    ),
    (
        "sigma's formula",
        "y ~ x1\nsigma ~ x1 + x2",
        ["sigma's population-level design", "x2 = 2*x1"],
    ),
    (
        "R's f:g coding: an intercept and every cell",
        "y ~ f:C(m)",
        ["7 columns and rank 6", "f[c]:C(m)[1.0] = Intercept - f[a]:C(m)[0.0]"],
    ),
]


@pytest.mark.parametrize(("case", "formula", "words"), ALIASED, ids=[c[0] for c in ALIASED])
def test_aliased_columns_are_named(case: str, formula: str, words: list[str]) -> None:
    with pytest.warns(IdentifiabilityWarning) as caught:
        bind(hm.parse(formula), DATA)
    assert len(caught) == 1
    assert issubclass(caught[0].category, DataWarning)
    message = str(caught[0].message)
    for word in words:
        assert word in message, (word, message)


FULL_RANK = [
    "y ~ x1 + x3",
    "y ~ f * x1",
    "y ~ 0 + f",
    "y ~ poly(x, 3) + f",
    "y ~ bs(x, df=5)",
    "y ~ x1 + big",
    "y ~ x1 + (1 + x2 | g)",  # group-level columns are not the population design
]


@pytest.mark.parametrize("formula", FULL_RANK)
def test_identifiable_models_say_nothing(formula: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bind(hm.parse(formula), DATA)


def test_model_warns_once_per_build() -> None:
    with pytest.warns(IdentifiabilityWarning, match="x2 = 2") as caught:
        hm.Model("y ~ x1 + x2 + (1 | g)", DATA)
    assert len([w for w in caught if w.category is IdentifiabilityWarning]) == 1


def _big(n: int, seed: int = 1) -> pd.DataFrame:
    """More rows than the sample: a rare level's indicators sit on 3 rows the sample may miss."""
    rng = np.random.default_rng(seed)
    rare = np.zeros(n)
    rare[[11, 12, 13]] = 1.0
    return pd.DataFrame(
        {"y": rng.normal(size=n), "x1": rng.normal(size=n), "rare": rare, "rare2": 2 * rare}
    )


def test_large_designs_are_checked_on_every_row_when_the_sample_finds_aliasing() -> None:
    big = _big(3 * SAMPLE_ROWS // 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bind(hm.parse("y ~ x1 + rare"), big)  # the rare column alone is identified
    with pytest.warns(IdentifiabilityWarning, match=r"rare2 = 2\*rare"):
        bind(hm.parse("y ~ x1 + rare + rare2"), big)


@pytest.mark.parametrize("seed", range(8))
def test_rank_agrees_with_numpy(seed: int) -> None:
    """Random designs with a few columns made of others: as many aliased as the rank says, each
    relation exact, on both sides of the sample size."""
    rng = np.random.default_rng(seed)
    n = [40, 200, SAMPLE_ROWS + 5_000][seed % 3]
    p = int(rng.integers(3, 12))
    X = rng.normal(size=(n, p)) * 10.0 ** rng.integers(-3, 4, size=p)
    for j in rng.choice(np.arange(1, p), size=min(2, p - 1), replace=False):
        X[:, j] = X[:, :j] @ rng.normal(size=j)  # a combination of earlier columns
    labels = tuple(f"x{j}" for j in range(p))
    found = aliasing(X, labels)
    rank = int(np.linalg.matrix_rank(X))
    assert found is not None
    assert found.rank == rank
    assert len(found.aliased) == p - rank
    for name, terms in zip(found.aliased, found.relations, strict=True):
        rebuilt = sum(c * X[:, labels.index(label)] for label, c in terms)
        np.testing.assert_allclose(rebuilt, X[:, labels.index(name)], rtol=1e-6, atol=1e-9)


# -- default priors on extreme scales ----------------------------------------------------------


@pytest.mark.parametrize("size", [1e-320, 1e-200, 1e-5, 1.0, 1e5, 1e200, 1e300])
def test_sd_and_mean_do_not_overflow_or_underflow(size: float) -> None:
    values = np.random.default_rng(2).integers(1, 1000, size=200).astype(float)
    scaled = values * size
    rtol = 1e-2 if size < 1e-300 else 1e-12  # subnormal numbers keep few digits
    np.testing.assert_allclose(safe_sd(scaled), np.std(values, ddof=1) * size, rtol=rtol)
    np.testing.assert_allclose(safe_mean(scaled), np.mean(values) * size, rtol=rtol)


def test_sd_of_ordinary_values_is_numpys_exactly() -> None:
    values = np.random.default_rng(3).normal(size=500)
    assert safe_sd(values) == float(np.std(values, ddof=1))


def test_a_column_near_1e300_gets_a_prior_on_its_own_scale() -> None:
    model = hm.Model("y ~ big + x1", DATA, suffstats=False)
    prior = model.priors.loc["b", "prior"]
    expected = 2.5 * safe_sd(DATA["y"].to_numpy()) / safe_sd(DATA["big"].to_numpy())
    assert 1e-301 < expected < 1e-299
    assert f"{expected:.4g}" in prior, prior


REFUSED = [
    # (case, formula, options, words of the error)
    ("a column near 1e-320", "y ~ tiny", {}, ["column 'tiny'", "b[tiny]", "scale(tiny)"]),
    (
        "a group-level slope near 1e-320",
        "y ~ x1 + (1 + tiny | g)",
        {},
        ["column 'tiny'", "sd_g[tiny]", "too small"],
    ),
    ("a response near 1e308", "huge ~ x1", {}, ["the response has sd", "overflows"]),
]


@pytest.mark.parametrize(
    ("case", "formula", "options", "words"), REFUSED, ids=[c[0] for c in REFUSED]
)
def test_a_prior_without_a_finite_scale_is_refused(
    case: str, formula: str, options: dict[str, object], words: list[str]
) -> None:
    data = DATA.assign(huge=1e308 * np.sign(DATA["x1"]))
    with pytest.raises(DataError) as caught:
        hm.Model(formula, data, **options)
    assert isinstance(caught.value, ValueError)
    for word in words:
        assert word in str(caught.value), (word, str(caught.value))


def test_sufficient_statistics_step_aside_when_squares_overflow() -> None:
    """Squares of a 1e300 column overflow: "auto" keeps the rows, True says why not."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = hm.Model("y ~ big + (1 | g)", DATA)
    assert model.ir.suffstats is None
    with pytest.raises(SuffStatsError, match="sums of squares of the data overflow"):
        hm.Model("y ~ big + (1 | g)", DATA, suffstats=True)
