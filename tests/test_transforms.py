"""The NumPy interpreter of formula calls: poly(), bs(), center/scale, arithmetic, column reading."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.interpolate import BSpline

import hiermod as hm
from hiermod.data.columns import column_kind, factorize, missing_mask, observed_cells
from hiermod.data.runtime import poly_basis as poly_apply
from hiermod.data.transforms import Evaluator, bs_apply, bs_fit, poly_fit
from hiermod.errors import DataError
from hiermod.formula.syntax import Call
from hiermod.warnings import DataWarning

# ---------------------------------------------------------------------------------------------------
# Orthogonal polynomials.

# R 4.x: round(poly(1:5, 2), 7)
R_POLY_1_TO_5 = np.array(
    [
        [-0.6324555, 0.5345225],
        [-0.3162278, -0.2672612],
        [0.0000000, -0.5345225],
        [0.3162278, -0.2672612],
        [0.6324555, 0.5345225],
    ]
)


def gram_schmidt_powers(x: np.ndarray, degree: int) -> np.ndarray:
    """What R's poly() is, derived independently: x^j minus its least-squares projection on the lower
    powers, scaled to unit norm (the sign keeps x^j's coefficient positive)."""
    out = []
    for j in range(1, degree + 1):
        lower = x[:, None] ** np.arange(j)
        coef, *_ = np.linalg.lstsq(lower, x**j, rcond=None)
        residual = x**j - lower @ coef
        out.append(residual / np.linalg.norm(residual))
    return np.column_stack(out)


def test_poly_matches_r_on_1_to_5() -> None:
    x = np.arange(1.0, 6.0)
    alpha, norm2 = poly_fit(x, 2)
    np.testing.assert_allclose(poly_apply(x, alpha, norm2), R_POLY_1_TO_5, atol=5e-8)


@pytest.mark.parametrize("degree", [1, 2, 3, 4])
def test_poly_is_gram_schmidt_of_powers_and_orthonormal(degree: int) -> None:
    x = np.array([0.3, 1.1, 1.7, 2.0, 3.9, 4.2, 5.5, 8.0, 8.1, 10.0])
    z = poly_apply(x, *poly_fit(x, degree))
    np.testing.assert_allclose(z, gram_schmidt_powers(x, degree), atol=1e-10)
    np.testing.assert_allclose(z.T @ z, np.eye(degree), atol=1e-12)  # orthonormal columns
    np.testing.assert_allclose(z.sum(axis=0), 0.0, atol=1e-12)  # orthogonal to the constant


def test_poly_constants_follow_r_and_predict_new_points() -> None:
    x = np.array([0.3, 1.1, 1.7, 2.0, 3.9, 4.2, 5.5, 8.0])
    alpha, norm2 = poly_fit(x, 3)
    assert alpha[0] == pytest.approx(x.mean())  # R: alpha[1] is the mean of x
    assert norm2[:2] == pytest.approx((1.0, len(x)))  # R: norm2 starts with 1, n
    # Each column is a polynomial in x; predicting new points evaluates that same polynomial.
    z = poly_apply(x, alpha, norm2)
    new = np.array([-1.0, 2.5, 9.0])
    for j in range(3):
        coef = np.polyfit(x, z[:, j], j + 1)
        np.testing.assert_allclose(poly_apply(new, alpha, norm2)[:, j], np.polyval(coef, new))


# ---------------------------------------------------------------------------------------------------
# B-splines.


def full_basis(x: np.ndarray, interior: list[float], lo: float, hi: float, k: int) -> np.ndarray:
    t = np.r_[[lo] * (k + 1), interior, [hi] * (k + 1)]
    return BSpline.design_matrix(x, t, k).toarray()


@pytest.mark.parametrize(("df", "degree", "n_interior"), [(None, 3, 0), (5, 3, 2), (4, 2, 2)])
def test_bs_matches_scipy_and_sums_to_one_with_the_dropped_column(
    df: int | None, degree: int, n_interior: int
) -> None:
    x = np.array([0.0, 0.5, 1.0, 2.0, 2.5, 4.0, 5.0, 7.5, 9.0, 10.0])
    knots, boundary = bs_fit(x, df, degree)
    probs = np.linspace(0, 1, n_interior + 2)[1:-1]
    np.testing.assert_allclose(knots, np.quantile(x, probs))  # R: quantiles of x (type 7)
    assert boundary == (0.0, 10.0)
    values, outside = bs_apply(x, knots, boundary, degree)
    assert outside == 0
    assert values.shape == (len(x), df if df is not None else degree)
    full = full_basis(x, list(knots), 0.0, 10.0, degree)
    np.testing.assert_allclose(values, full[:, 1:], atol=1e-12)
    np.testing.assert_allclose(values.sum(axis=1) + full[:, 0], 1.0)


def test_bs_extrapolates_the_boundary_polynomial_like_r() -> None:
    x = np.linspace(0.0, 10.0, 21)
    knots, boundary = bs_fit(x, 5, 3)
    new = np.array([-2.0, -0.1, 10.1, 13.0])
    values, outside = bs_apply(new, knots, boundary, 3)
    assert outside == 4
    # Outside the boundary R continues the outer cubic piece (a Taylor expansion of it, exact for
    # cubics); scipy's extrapolating BSpline does the same.
    t = np.r_[[0.0] * 4, knots, [10.0] * 4]
    expected = BSpline(t, np.eye(len(t) - 4), 3, extrapolate=True)(new)[:, 1:]
    np.testing.assert_allclose(values, expected, atol=1e-10)


# ---------------------------------------------------------------------------------------------------
# The evaluator.


def under_caret(error: DataError) -> str:
    """The part of the formula the error points at."""
    assert error.text is not None
    assert error.span is not None
    return error.text[error.span.start : error.span.end]


def evaluate(text: str, data: dict[str, list[object]], *, fit: bool = True) -> np.ndarray:
    formula = hm.parse(f"~ {text}")
    atom = formula.main.terms[0].factors[0]
    columns = {k: pd.Series(v) for k, v in data.items()}
    n = len(next(iter(data.values())))
    ev = Evaluator(columns, n, formula.text, {}, fit=fit)
    if isinstance(atom, Call) and atom.func in ("poly", "bs"):
        return ev.basis(atom)
    return ev.numeric(atom)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("log(x)", np.log([1.0, 2.0, 4.0])),
        ("log2(x)", [0.0, 1.0, 2.0]),
        ("log10(I(x * 10))", np.log10([10.0, 20.0, 40.0])),
        ("log1p(x)", np.log1p([1.0, 2.0, 4.0])),
        ("sqrt(x)", [1.0, np.sqrt(2.0), 2.0]),
        ("exp(x)", np.exp([1.0, 2.0, 4.0])),
        ("abs(I(1 - x))", [0.0, 1.0, 3.0]),
        ("I(x**2 + 1)", [2.0, 5.0, 17.0]),
        ("I(x^2)", [1.0, 4.0, 16.0]),
        ("I(-x / 2)", [-0.5, -1.0, -2.0]),
        ("I(x - z * 2)", [-1.0, -2.0, -2.0]),
        ("I(b * 1)", [1.0, 0.0, 1.0]),  # booleans count as 0/1 in arithmetic
        ("center(x)", [-4 / 3, -1 / 3, 5 / 3]),
        ("scale(x)", (np.array([1.0, 2, 4]) - 7 / 3) / np.std([1.0, 2, 4], ddof=1)),
        ("standardize(z)", [-1.0, 0.0, 1.0]),  # z = 1, 2, 3: mean 2, sd 1 (ddof=1, as R)
        ("center(log(x))", np.log([1.0, 2, 4]) - np.log([1.0, 2, 4]).mean()),
        ("poly(x, 2, raw=TRUE)", [[1.0, 1.0], [2.0, 4.0], [4.0, 16.0]]),
        ("poly(x, 1)", ((np.array([1.0, 2, 4]) - 7 / 3) / np.sqrt(14 / 3))[:, None]),
    ],
)
def test_evaluate(text: str, expected: object) -> None:
    data: dict[str, list[object]] = {"x": [1.0, 2.0, 4.0], "z": [1, 2, 3], "b": [True, False, True]}
    np.testing.assert_allclose(evaluate(text, data), np.asarray(expected, dtype=float), atol=1e-12)


@pytest.mark.parametrize(
    ("text", "values", "message"),
    [
        ("log(x)", [1.0, 0.0, -1.0], "log(x) is not finite in 2 of 3 rows"),
        ("sqrt(x)", [1.0, -4.0, 1.0], "sqrt(x) is not finite in 1 of 3 rows"),
        ("I(1 / x)", [1.0, 0.0, 2.0], "I(1 / x) is not finite in 1 of 3 rows"),
        ("log(I(x - 1))", [1.0, 2.0, 3.0], "log(I(x - 1)) is not finite in 1 of 3 rows"),
        ("scale(x)", [2.0, 2.0, 2.0], "standard deviation, which is 0"),
        ("poly(x, 3)", [1.0, 2.0, 1.0], "needs more distinct values than its degree (x has 2)"),
        ("bs(x, df=2)", [1.0, 2.0, 3.0], "has df=2 but needs at least degree=3"),
    ],
)
def test_transform_errors_name_the_call(text: str, values: list[object], message: str) -> None:
    with pytest.raises(DataError) as caught:
        evaluate(text, {"x": values})
    assert message in caught.value.message
    assert under_caret(caught.value).startswith(text.split("(")[0] + "(")  # caret under the call


@pytest.mark.parametrize("text", ["log(f)", "I(f * 2)", "center(f)", "poly(f, 2)"])
def test_non_numeric_column_used_as_number_names_the_column(text: str) -> None:
    with pytest.raises(DataError) as caught:
        evaluate(text, {"f": ["a", "b", "c"]})
    assert "column 'f' is not numeric" in caught.value.message
    assert under_caret(caught.value) == "f"


def test_bs_outside_boundary_warns() -> None:
    formula = hm.parse("~ bs(x, df=4)")
    call = formula.main.terms[0].factors[0]
    assert isinstance(call, Call)
    constants: dict[str, dict[str, object]] = {}
    Evaluator({"x": pd.Series(np.arange(10.0))}, 10, formula.text, constants, fit=True).basis(call)
    new = Evaluator({"x": pd.Series([-1.0, 5.0])}, 2, formula.text, constants, fit=False)
    with pytest.warns(DataWarning, match=r"1 row\(s\) lie outside the boundary knots \[0, 9\]"):
        new.basis(call)


# ---------------------------------------------------------------------------------------------------
# Reading columns.


@pytest.mark.parametrize(
    ("series", "kind"),
    [
        (pd.Series([1, 2]), "numeric"),
        (pd.Series([1.5, np.nan]), "numeric"),
        (pd.Series([1, None], dtype="Int64"), "numeric"),
        (pd.Series(["a", "b"]), "categorical"),
        (pd.Series(["a", "b"], dtype=object), "categorical"),
        (pd.Series([True, False]), "categorical"),
        (pd.Series(pd.Categorical([1, 2])), "categorical"),
    ],
)
def test_column_kind(series: pd.Series, kind: str) -> None:
    assert column_kind(series) == kind


@pytest.mark.parametrize(
    ("series", "missing"),
    [
        (pd.Series([1.0, np.nan, np.inf, -np.inf, 0.0]), [False, True, True, True, False]),
        (pd.Series([1, None, 3], dtype="Int64"), [False, True, False]),
        (pd.Series(["a", None, "b"], dtype=object), [False, True, False]),
        (pd.Series(pd.Categorical(["a", None])), [False, True]),
    ],
)
def test_missing_mask(series: pd.Series, missing: list[bool]) -> None:
    assert missing_mask(series).tolist() == missing


@pytest.mark.parametrize(
    ("series", "levels", "codes"),
    [
        (pd.Series(["b", "a", "c", "a"]), ("a", "b", "c"), [1, 0, 2, 0]),
        (pd.Series([3, 1, 3]), (1, 3), [1, 0, 1]),
        (pd.Series([True, False]), (False, True), [1, 0]),
        # category order wins over sorting; unused categories are dropped
        (
            pd.Series(pd.Categorical(["lo", "hi"], categories=["hi", "mid", "lo"])),
            ("hi", "lo"),
            [1, 0],
        ),
    ],
)
def test_factorize_orders_levels(
    series: pd.Series, levels: tuple[object, ...], codes: list[int]
) -> None:
    got_codes, got_levels = factorize(series)
    assert got_levels == levels
    assert got_codes.tolist() == codes
    assert all(type(a) is type(b) for a, b in zip(got_levels, levels, strict=True))


def test_observed_cells_are_sorted_lexicographically() -> None:
    g = np.array([1, 0, 1, 1, 0])
    c = np.array([0, 2, 0, 1, 2])
    cells, cell = observed_cells([g, c], [2, 3])
    assert cells.tolist() == [[0, 2], [1, 0], [1, 1]]
    assert cell.tolist() == [1, 0, 1, 2, 0]
    assert (cells[cell] == np.column_stack([g, c])).all()
