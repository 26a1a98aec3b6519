"""Group levels: unique, typed labels in coords, and new data matched to the fit's levels.

Labels (``hiermod.data.runtime.level_labels`` / ``cell_labels``): an integer column keeps integer
coords (``posterior.r_Subject.sel(Subject=308)``), text stays text, and levels whose text
coincides are told apart by ``repr`` (1 and "1" are "1" and "'1'"; the cells ("p:q", "r") and
("p", "q:r") are "'p:q':r" and "p:'q:r'"). The generated source carries the same coords.

Prediction: a level is matched exactly, then by its text when only one level has that text
("308" is 308); anything else is unseen, an ``UnseenLevelError`` by default (``new_levels="error"``)
naming the levels and the closest one, or a population draw with ``new_levels="population"``.
Draws come from the prior (``fit_support.prior_fit``): predictions only read draws.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from fit_support import prior_fit

import hiermod as hm
from hiermod.data.runtime import cell_labels, level_codes, level_labels, unique_labels
from hiermod.errors import HiermodError, OptionError, UnseenLevelError

# -- labels -------------------------------------------------------------------------------------

LABELS = [
    ("ints stay ints", (308, 309, 310), (308, 309, 310)),
    ("numpy ints are ints", (np.int64(1), np.int64(2)), (1, 2)),
    ("text stays text", ("HENNEPIN", "ANOKA"), ("HENNEPIN", "ANOKA")),
    ("1 and '1' differ", (1, 2, "1", "b"), ("1", "2", "'1'", "b")),
    ("True and 'True' differ", (True, "True"), ("True", "'True'")),
    ("a repr that is another's text", (1, "1", "'1'"), ("1", "'1'", "\"'1'\"")),
    ("floats as text", (1.5, 2.0), ("1.5", "2.0")),
    ("booleans as text", (False, True), ("False", "True")),
]


@pytest.mark.parametrize(("case", "levels", "expected"), LABELS, ids=[c[0] for c in LABELS])
def test_level_labels(case: str, levels: tuple[Any, ...], expected: tuple[Any, ...]) -> None:
    labels = level_labels(levels)
    assert labels == expected
    assert [type(v) for v in labels] == [type(v) for v in expected]
    assert len(set(labels)) == len(labels)


CELLS = [
    ("colons in levels", ((0, 0), (1, 1)), (("p:q", "p"), ("r", "q:r")), ["'p:q':r", "p:'q:r'"]),
    ("ints joined as text", ((0, 0), (1, 0)), ((308, 309), ("a",)), ["308:a", "309:a"]),
    ("1 and '1' in a cell", ((0, 0), (1, 0)), ((1, "1"), ("x",)), ["1:x", "'1':x"]),
    ("plain", ((0, 1), (1, 0)), (("a", "b"), ("x", "y")), ["a:y", "b:x"]),
]


@pytest.mark.parametrize(("case", "cells", "tables", "expected"), CELLS, ids=[c[0] for c in CELLS])
def test_cell_labels(case: str, cells: Any, tables: Any, expected: list[str]) -> None:
    assert cell_labels(cells, *tables) == expected


def test_unique_labels_fall_back_to_positions_when_reprs_clash() -> None:
    assert unique_labels(["a", "a", "a"], ["x", "x", "y"]) == ("x#0", "x#1", "y")


MATCHES = [
    ("'308' is 308 of an int table", ["308", 308, "310"], (308, 309), [0, 0, -1]),
    ("308 is '308' of a text table", [308, "a"], ("308", "a"), [0, 1]),
    ("case is never folded", ["hennepin", "HENNEPIN"], ("HENNEPIN",), [-1, 0]),
    ("1 and '1' match themselves", ["1", 1, 1.0], (1, "1"), [1, 0, 0]),
    ("'2' finds 2 beside 1 and '1'", ["2"], (1, "1", 2), [2]),
    ("'3.0' is not 3", ["3.0", " 3"], (3,), [-1, -1]),
    ("missing stays missing", [None, "a"], ("a", "None"), [-1, 0]),
]


@pytest.mark.parametrize(
    ("case", "values", "levels", "codes"), MATCHES, ids=[c[0] for c in MATCHES]
)
def test_level_codes_match(case: str, values: list[Any], levels: Any, codes: list[int]) -> None:
    got = level_codes(pd.Series(values, dtype=object), levels)
    assert got.tolist() == codes


# -- the model's coords -------------------------------------------------------------------------


def _frame(n: int = 48, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(size=n),
            "Subject": np.repeat([308, 309, 310, 330], n // 4),
            "county": np.tile(["HENNEPIN", "ANOKA", "RAMSEY"], n // 3),
            "mixed": pd.Series([1, "1", 2] * (n // 3), dtype=object),
            "a": np.tile(["p:q", "p"], n // 2),
            "b": np.tile(["r", "q:r"], n // 2),
            "f": np.tile(["lo", "hi"], n // 2),
        }
    )


DATA = _frame()
FORMULA = "y ~ x + f + (1 | Subject) + (1 | county) + (1 | mixed) + (1 | a:b)"


@functools.cache
def fitted() -> tuple[hm.Model, xr.DataTree]:
    model = hm.Model(FORMULA, DATA, layout="observed")
    return model, prior_fit(model, draws=6, seed=1)


def test_coords_keep_the_level_types_and_are_unique() -> None:
    model, fit = fitted()
    coords = model.ir.coords
    assert coords["Subject"] == (308, 309, 310, 330)
    assert coords["county"] == ("ANOKA", "HENNEPIN", "RAMSEY")
    assert coords["mixed"] == ("1", "2", "'1'")
    assert coords["a__b"] == ("p:'q:r'", "'p:q':r")
    posterior = fit["posterior"]
    assert posterior["r_Subject"].sel(Subject=308).shape == (2, 6)
    assert posterior["r_Subject"]["Subject"].dtype.kind == "i"
    assert posterior["r_mixed"].sel(mixed="'1'").shape == (2, 6)


def test_generated_source_carries_the_same_coords() -> None:
    model, _ = fitted()
    source = model.source()
    assert "level_labels(MIXED_LEVELS)" in source
    namespace: dict[str, Any] = {"__name__": "hiermod_generated"}
    exec(compile(source, "<generated>", "exec"), namespace)  # test code: hiermod's own source
    built = namespace["build_model"](DATA)
    assert {k: tuple(v) for k, v in built.coords.items()} == model.ir.coords
    assert {k: tuple(v) for k, v in model.pymc.coords.items()} == model.ir.coords


# -- new data -----------------------------------------------------------------------------------


def _rows(**columns: Any) -> pd.DataFrame:
    base = {
        "x": 0.0,
        "f": "lo",
        "Subject": 308,
        "county": "ANOKA",
        "mixed": 2,
        "a": "p",
        "b": "q:r",
    }
    n = max((len(v) for v in columns.values() if isinstance(v, list)), default=1)
    frame = pd.DataFrame({k: [v] * n for k, v in base.items()})
    for name, values in columns.items():
        frame[name] = pd.Series(values if isinstance(values, list) else [values] * n, dtype=object)
    return frame


UNSEEN = [
    # (case, rows, words the message must hold)
    (
        "case differs",
        _rows(county="hennepin"),
        ["(1 | county)", "1 level of 'county'", "'hennepin'", "did you mean 'HENNEPIN'?"],
    ),
    (
        "a number the fit never saw",
        _rows(Subject=999),
        ["(1 | Subject)", "999", "(1 row)", "new_levels='population'"],
    ),
    (
        "text of an unseen number",
        _rows(Subject="999"),
        ["'999'", "1 level of 'Subject'"],
    ),
    (
        "several, listed first five and counted",
        _rows(county=[f"c{i}" for i in range(7)]),
        ["7 levels of 'county'", "'c0', 'c1', 'c2', 'c3', 'c4' and 2 more", "(7 rows)"],
    ),
    (
        "a new combination of known levels",
        _rows(a="p", b="r"),
        ["(1 | a:b)", "1 combination of a:b", "'p:r'"],
    ),
    (
        "closest text",
        _rows(county="ANOKAA"),
        ["'ANOKAA'", "did you mean 'ANOKA'?"],
    ),
    (
        "several suggestions",
        _rows(county=["anoka", "ramsey"]),
        ["did you mean 'ANOKA' for 'anoka', 'RAMSEY' for 'ramsey'?"],
    ),
]


@pytest.mark.parametrize(("case", "rows", "words"), UNSEEN, ids=[c[0] for c in UNSEEN])
def test_unseen_levels_are_an_error_by_default(
    case: str, rows: pd.DataFrame, words: list[str]
) -> None:
    model, fit = fitted()
    with pytest.raises(UnseenLevelError) as caught:
        model.predict(fit, data=rows)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, HiermodError)
    for word in words:
        assert word in str(caught.value), (word, str(caught.value))


def test_unseen_level_of_a_categorical_predictor_suggests_the_closest() -> None:
    model, fit = fitted()
    with pytest.raises(UnseenLevelError, match="column 'f' has levels not seen") as caught:
        model.predict(fit, data=_rows(f="LO"), new_levels="population")
    assert "did you mean 'lo'?" in str(caught.value)


@pytest.mark.parametrize("value", ["sometimes", "allow", None, True])
def test_new_levels_takes_error_or_population(value: object) -> None:
    model, fit = fitted()
    with pytest.raises(OptionError) as caught:
        model.predict(fit, data=_rows(), new_levels=value)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)
    assert f"new_levels must be 'error' or 'population', not {value!r}" in str(caught.value)


def _linear(rows: pd.DataFrame, **options: Any) -> np.ndarray:
    model, fit = fitted()
    values: np.ndarray = model.predict(fit, data=rows, kind="linear", **options).values
    return values


def _effect(name: str, **at: Any) -> np.ndarray:
    values: np.ndarray = fitted()[1]["posterior"][name].sel(**at).values
    return values


def test_text_of_a_level_matches_that_level() -> None:
    """Subject "308" is the subject 308 of the int column; mixed 1 and "1" are their own levels."""
    as_text = _linear(_rows(Subject=["308", 308]))
    np.testing.assert_array_equal(as_text[..., 0], as_text[..., 1])
    both = _linear(_rows(mixed=[1, "1"]))
    base = _linear(_rows(mixed=2))[..., 0] - _effect("r_mixed", mixed="2")
    np.testing.assert_allclose(both[..., 0], base + _effect("r_mixed", mixed="1"), rtol=1e-10)
    np.testing.assert_allclose(both[..., 1], base + _effect("r_mixed", mixed="'1'"), rtol=1e-10)


def test_population_draws_for_unseen_levels_when_asked() -> None:
    """7 and "7" are one new subject of the int column (one draw), two new levels of the mixed
    column (two draws); "hennepin" is a new county, not HENNEPIN."""
    subjects = _linear(_rows(Subject=[7, "7"]), new_levels="population", random_seed=1)
    np.testing.assert_array_equal(subjects[..., 0], subjects[..., 1])
    mixed = _linear(_rows(mixed=[7, "7"]), new_levels="population", random_seed=1)
    assert not np.allclose(mixed[..., 0], mixed[..., 1])
    county = _linear(_rows(county=["hennepin", "HENNEPIN"]), new_levels="population", random_seed=1)
    assert not np.allclose(county[..., 0], county[..., 1])
