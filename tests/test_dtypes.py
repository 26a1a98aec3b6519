"""Column dtypes (issue 13): what each dtype is read as, and nothing turned into categories silently.

Rules (hiermod/data/columns.py, docs/guide.md "Column types"): a column read as a value (a term, the
response, an offset) must be numbers or categories; an object column of numbers only is numeric
with a DataWarning; numbers mixed with other values, dates, durations and periods are DataErrors. A
grouping factor or ``C()`` takes any values as levels, except booleans mixed with numbers.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

from hiermod import parse
from hiermod.data.binder import apply_schema, bind
from hiermod.data.columns import column_kind, factorize
from hiermod.errors import DataError
from hiermod.model import stream_model
from hiermod.warnings import DataWarning

N = 12
RNG = np.random.default_rng(13)
Y = RNG.normal(size=N)
NUMBERS = RNG.normal(size=N)
DATES = pd.date_range("2024-01-01", periods=N, freq="D")
DAY = [dt.date(2024, 1, 1), dt.date(2024, 1, 2)]


def _frame(**columns: object) -> pd.DataFrame:
    return pd.DataFrame({"y": Y, "g": list("abc") * (N // 3), **columns})  # type: ignore[arg-type]


def _objects(values: list[object]) -> pd.Series:
    return pd.Series(values, dtype=object)


# ---------------------------------------------------------------------------------------------------
# Read as a value: numeric with a warning, or an error that names the values and where they are.

READ_AS_NUMBERS = [
    ("floats", _objects(list(NUMBERS))),
    ("ints", _objects(list(range(N)))),
    ("floats and ints", _objects([1, 2.5] * (N // 2))),
    ("numpy scalars", _objects([np.float32(v) for v in NUMBERS])),
    ("decimals", _objects([decimal.Decimal(i) / 4 for i in range(N)])),
]


@pytest.mark.parametrize(("case", "column"), READ_AS_NUMBERS, ids=[c[0] for c in READ_AS_NUMBERS])
def test_object_column_of_numbers_is_numeric_with_a_warning(case: str, column: pd.Series) -> None:
    with pytest.warns(DataWarning, match=r"column 'x' has dtype object but holds only numbers"):
        design = bind(parse("y ~ x"), _frame(x=column))
    assert design.schema.columns["x"].kind == "numeric"
    np.testing.assert_array_equal(design.main.X[:, 0], column.to_numpy(dtype=np.float64))


def test_object_numbers_with_missing_values_drop_those_rows() -> None:
    column = _objects([None, np.nan, *NUMBERS[2:]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        design = bind(parse("y ~ x"), _frame(x=column))
    messages = sorted(str(w.message) for w in caught)
    assert len(messages) == 2
    assert messages[0].startswith("column 'x' has dtype object but holds only numbers")
    assert messages[1].startswith("dropped 2 of 12 rows")
    np.testing.assert_array_equal(design.main.X[:, 0], NUMBERS[2:])


def test_object_response_of_numbers_is_numeric_with_a_warning() -> None:
    with pytest.warns(DataWarning, match="column 'w' has dtype object"):
        design = bind(parse("w ~ 1"), _frame(w=_objects(list(Y))))
    np.testing.assert_array_equal(design.y, Y)


MIXED = [2.5, "n/a", 1.0, 3, "?", 4.0, "n/a", 5.5, 6.0, 7.0, 8.0, 9.0]
VALUE_ERRORS = [
    # (case, formula, column, words in the message)
    (
        "numbers with stray strings",
        "y ~ x",
        _objects(MIXED),
        [
            "column 'x' mixes numbers",
            "3 of 12 values are not numbers",
            "'n/a' at row 1",
            "'?' at row 4",
            "pd.to_numeric",
            "C(x)",
            "astype('category')",
        ],
    ),
    (
        "one stray string",
        "y ~ x",
        _objects([*NUMBERS[:-1], "missing"]),
        ["1 of 12 values are not numbers", "'missing' at row 11"],
    ),
    (
        "more than three odd values show three",
        "y ~ x",
        _objects([*NUMBERS[:6], "a", "b", "c", "d", "e", "f"]),
        ["6 of 12 values are not numbers", "'a' at row 6, 'b' at row 7, 'c' at row 8 ("],
    ),
    (
        "strings with stray numbers",
        "y ~ x",
        _objects(["lo", "hi", "lo", 3, "hi", "lo", "hi", "lo", "hi", 4.5, "lo", "hi"]),
        ["2 of 12 values are numbers among others", "3 at row 3", "4.5 at row 9"],
    ),
    (
        "numbers with a boolean",
        "y ~ x",
        _objects([*NUMBERS[:-1], True]),
        ["1 of 12 values are not numbers", "True at row 11"],
    ),
    ("inside arithmetic", "y ~ I(x * 2)", _objects(MIXED), ["column 'x' mixes numbers"]),
    ("in a block's terms", "y ~ (x | g)", _objects(MIXED), ["column 'x' mixes numbers"]),
    ("as the response", "x ~ 1", _objects(MIXED), ["column 'x' mixes numbers"]),
    ("as an offset", "y ~ offset(x)", _objects(MIXED), ["column 'x' mixes numbers"]),
    (
        "dates",
        "y ~ x",
        pd.Series(DATES),
        [
            "column 'x' holds dates (datetime64",
            "not numbers",
            "(df['x'] - df['x'].min()).dt.days",
            "(1 | x)",
        ],
    ),
    (
        "dates with a time zone",
        "y ~ x",
        pd.Series(DATES.tz_localize("UTC")),
        ["holds dates (datetime64", "UTC"],
    ),
    ("dates in arithmetic", "y ~ I(x + 1)", pd.Series(DATES), ["holds dates"]),
    ("dates as the response", "x ~ 1", pd.Series(DATES), ["holds dates"]),
    (
        "durations",
        "y ~ x",
        pd.Series(pd.to_timedelta(np.arange(N), unit="h")),
        ["holds durations (timedelta64", "df['x'].dt.total_seconds()"],
    ),
    (
        "periods",
        "y ~ x",
        pd.Series(pd.period_range("2024-01", periods=N, freq="M")),
        ["holds periods (period[M])", "dt.start_time"],
    ),
    (
        "python dates",
        "y ~ x",
        _objects([dt.date(2024, 1, 1 + i) for i in range(N)]),
        ["holds dates or times (object)", "pd.to_datetime(df['x'])"],
    ),
    (
        "complex numbers",
        "y ~ x",
        pd.Series(NUMBERS + 1j),
        ["column 'x' holds complex numbers", "np.real"],
    ),
]


@pytest.mark.parametrize(
    ("case", "formula", "column", "words"), VALUE_ERRORS, ids=[c[0] for c in VALUE_ERRORS]
)
def test_values_that_are_not_numbers_are_errors(
    case: str, formula: str, column: pd.Series, words: list[str]
) -> None:
    with pytest.raises(DataError) as raised:
        bind(parse(formula), _frame(x=column))
    message = str(raised.value)
    for word in words:
        assert word in message, (word, message)
    assert raised.value.span is not None  # a caret under the column's use


@pytest.mark.parametrize(
    ("case", "column", "levels"),
    [
        ("pure strings", _objects(list("pqrs") * 3), ("p", "q", "r", "s")),
        ("pandas strings", pd.Series(list("pqrs") * 3, dtype="string"), ("p", "q", "r", "s")),
        ("booleans", pd.Series([True, False] * 6), (False, True)),
        ("object booleans", _objects([True, False] * 6), (False, True)),
        ("a categorical of numbers", pd.Series(pd.Categorical([2, 1] * 6)), (1, 2)),
    ],
)
def test_categorical_values_stay_categorical_without_a_warning(
    case: str, column: pd.Series, levels: tuple[object, ...]
) -> None:
    design = bind(parse("y ~ x"), _frame(x=column))
    assert design.schema.columns["x"].kind == "categorical"
    assert design.schema.columns["x"].levels == levels


# ---------------------------------------------------------------------------------------------------
# Read as levels (a grouping factor or C()): any values, as brms/R's factor() would take them.

GROUPING_LEVELS = [
    ("dates", pd.Series(DATES[[0, 1, 2]].repeat(4)), tuple(DATES[:3])),
    (
        "durations",
        pd.Series(pd.to_timedelta([3, 1, 2], unit="D").repeat(4)),
        tuple(pd.to_timedelta([1, 2, 3], unit="D")),
    ),
    ("numbers and strings", _objects(["b", 2, "1", 1] * 3), (1, 2, "1", "b")),
    ("1 and '1' are two levels", _objects([1, "1"] * 6), (1, "1")),
    ("object floats", _objects([1.5, 0.5, 2.5] * 4), (0.5, 1.5, 2.5)),
    ("numbers, dates, strings", _objects([DATES[0], "a", 3, 1] * 3), (1, 3, DATES[0], "a")),
]


@pytest.mark.parametrize("formula", ["y ~ 1 + (1 | x)", "y ~ C(x)"])
@pytest.mark.parametrize(
    ("case", "column", "levels"), GROUPING_LEVELS, ids=[c[0] for c in GROUPING_LEVELS]
)
def test_levels_take_any_values_in_a_deterministic_order(
    formula: str, case: str, column: pd.Series, levels: tuple[object, ...]
) -> None:
    design = bind(parse(formula), _frame(x=column))
    found = (
        design.schema.factor_levels["x"] if "|" in formula else design.schema.columns["C(x)"].levels
    )
    assert found == levels
    assert [type(v) for v in found] == [type(v) for v in levels]  # 1 stays an int, "1" a str
    # The same levels whatever the order of the rows.
    shuffled = _frame(x=column).sample(frac=1.0, random_state=3)
    again = bind(parse(formula), shuffled)
    assert again.schema.factor_levels == design.schema.factor_levels
    assert again.schema.columns.get("C(x)") == design.schema.columns.get("C(x)")


@pytest.mark.parametrize("formula", ["y ~ 1 + (1 | x)", "y ~ C(x)"])
@pytest.mark.parametrize(
    "column", [_objects([1, True, 0, False] * 3), _objects([2.5, True, "a"] * 4)]
)
def test_booleans_mixed_with_numbers_cannot_be_levels(formula: str, column: pd.Series) -> None:
    with pytest.raises(DataError, match=r"'x' mixes booleans and numbers.*True == 1"):
        bind(parse(formula), _frame(x=column))


@pytest.mark.parametrize(
    ("values", "codes", "levels"),
    [
        (["b", 2, "1", 1], [3, 1, 2, 0], (1, 2, "1", "b")),
        ([1, 1.0, "1"], [0, 0, 1], (1, "1")),
        ([(1, 2), 3, "a", None], [1, 0, 2, -1], (3, (1, 2), "a")),
        ([DAY[1], 5, DAY[0]], [2, 0, 1], (5, DAY[0], DAY[1])),
    ],
)
def test_factorize_mixed_types(
    values: list[object], codes: list[int], levels: tuple[object, ...]
) -> None:
    found_codes, found = factorize(_objects(values))
    assert found_codes.tolist() == codes
    assert found == levels


@pytest.mark.parametrize(
    ("series", "kind"),
    [
        (_objects([1.5, None, 2]), "numeric"),
        (_objects([1.5, "a"]), "categorical"),
        (_objects([None, None]), "categorical"),
        (_objects([True, 1]), "categorical"),
        (pd.Series(DATES), "categorical"),
        (pd.Series(pd.to_timedelta([1, 2], unit="s")), "categorical"),
    ],
)
def test_column_kind(series: pd.Series, kind: str) -> None:
    assert column_kind(series) == kind


# ---------------------------------------------------------------------------------------------------
# New data and streamed chunks follow the same rules.


def test_new_data_follow_the_rules_without_warning_again() -> None:
    schema = bind(parse("y ~ x + (1 | g)"), _frame(x=NUMBERS)).schema
    design = apply_schema(schema, _frame(x=_objects(list(NUMBERS))))  # no warning: numbers
    np.testing.assert_array_equal(design.main.X[:, 0], NUMBERS)
    with pytest.raises(DataError, match="'n/a' at row 1"):
        apply_schema(schema, _frame(x=_objects(MIXED)))
    with pytest.raises(DataError, match="holds dates"):
        apply_schema(schema, _frame(x=DATES))


def _chunks(data: pd.DataFrame, sizes: list[int]):  # type: ignore[no-untyped-def]
    bounds = np.cumsum([0, *sizes])
    return lambda: (data.iloc[a:b] for a, b in itertools.pairwise(bounds))


def test_streamed_object_numbers_warn_once() -> None:
    data = _frame(x=NUMBERS)
    objects = pd.concat([data.iloc[:5], data.iloc[5:].astype({"x": object})])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        streamed = stream_model("y ~ x + (1 | g)", _chunks(objects, [5, 4, 3]))
    messages = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    assert len(messages) == 1
    assert "column 'x' has dtype object" in messages[0]
    assert streamed.design.schema.columns["x"].kind == "numeric"


@pytest.mark.parametrize(
    ("column", "words"),
    [
        (_objects([*NUMBERS[:10], "n/a", 1.0]), "'n/a' at row 10"),  # row counted in the whole data
        (pd.Series(DATES), "holds dates"),
    ],
)
def test_streamed_chunks_are_checked(column: pd.Series, words: str) -> None:
    source = _chunks(_frame(x=column), [4, 4, 4])
    # The first chunks of object numbers warn (read as numbers) before the third one fails.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        with pytest.raises(DataError, match=words):
            stream_model("y ~ x + (1 | g)", source)


def test_streamed_dates_as_a_grouping_factor() -> None:
    data = _frame(t=pd.Series(DATES[[2, 0, 1]].repeat(4)))
    streamed = stream_model("y ~ 1 + (1 | t)", _chunks(data, [5, 7]))
    assert streamed.design.schema.factor_levels["t"] == tuple(DATES[:3])
