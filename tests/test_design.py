"""Binding data to a formula: column coding, labels, groupings, missing values, errors, new data."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import hiermod as hm
from hiermod.data.binder import apply_schema, bind
from hiermod.data.design import Design
from hiermod.errors import DataError
from hiermod.formula.syntax import Call, Number
from hiermod.warnings import DataWarning, IdentifiabilityWarning


def frame(n: int = 12, seed: int = 0) -> pd.DataFrame:
    """f: a b c; g: u v; h: 1 2 3 (numbers); flag: bool; school/klass: nested; rater: crossed."""
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(size=n),
            "z": rng.normal(size=n),
            "pos": rng.uniform(1.0, 5.0, size=n),
            "count": rng.integers(0, 5, size=n),
            "f": np.array(["a", "b", "c"])[i % 3],
            "g": np.array(["u", "v"])[i % 2],
            "h": np.array([1, 2, 3])[i % 3],
            "flag": i % 2 == 0,
            "school": np.array(["s1", "s2"])[(i // 6) % 2],
            "klass": np.array(["k1", "k2"])[(i // 3) % 2],
            "rater": np.array(["r1", "r2", "r3", "r4"])[i % 4],
        }
    )


def labels(text: str, data: pd.DataFrame | None = None) -> tuple[str, ...]:
    return bind(hm.parse(text), frame() if data is None else data).main.coef_labels


def under_caret(error: DataError) -> str:
    assert error.text is not None
    assert error.span is not None
    return error.text[error.span.start : error.span.end]


# ---------------------------------------------------------------------------------------------------
# Coding and labels.

CODING = [
    ("y ~ 1", ()),
    ("y ~ x", ("x",)),
    ("y ~ f", ("f[b]", "f[c]")),
    ("y ~ 0 + f", ("f[a]", "f[b]", "f[c]")),
    ("y ~ x:f", ("x:f[a]", "x:f[b]", "x:f[c]")),
    ("y ~ x + x:f", ("x", "x:f[b]", "x:f[c]")),
    ("y ~ f:x", ("f[a]:x", "f[b]:x", "f[c]:x")),
    ("y ~ f*g", ("f[b]", "f[c]", "g[v]", "f[b]:g[v]", "f[c]:g[v]")),
    ("y ~ g*f", ("g[v]", "f[b]", "f[c]", "g[v]:f[b]", "g[v]:f[c]")),
    # nesting f/g = f + f:g: g within each level of f, f[a] included
    ("y ~ f/g", ("f[b]", "f[c]", "f[a]:g[v]", "f[b]:g[v]", "f[c]:g[v]")),
    # R: without an intercept the first categorical main effect absorbs it, later ones are contrasts
    ("y ~ 0 + f + g", ("f[a]", "f[b]", "f[c]", "g[v]")),
    ("y ~ 0 + x + f", ("x", "f[a]", "f[b]", "f[c]")),
    ("y ~ 0 + x + x:f", ("x", "x:f[b]", "x:f[c]")),
    ("y ~ f:g", ("f[a]:g[u]", "f[b]:g[u]", "f[c]:g[u]", "f[a]:g[v]", "f[b]:g[v]", "f[c]:g[v]")),
    ("y ~ x*z", ("x", "z", "x:z")),
    ("y ~ h", ("h",)),  # numbers are numeric ...
    ("y ~ C(h)", ("C(h)[2]", "C(h)[3]")),  # ... unless wrapped in C()
    ('y ~ C(f, ref="b")', ('C(f, ref="b")[a]', 'C(f, ref="b")[c]')),
    ("y ~ C(h, ref=3)", ("C(h, ref=3)[1]", "C(h, ref=3)[2]")),
    ("y ~ flag", ("flag[True]",)),
    (
        "y ~ log(pos) + I(x**2) + center(x) + scale(z) + exp(x)",
        ("log(pos)", "I(x**2)", "center(x)", "scale(z)", "exp(x)"),
    ),
    ("y ~ poly(x, 2)", ("poly(x, 2)[1]", "poly(x, 2)[2]")),
    ("y ~ bs(x, df=4)", tuple(f"bs(x, df=4)[{j}]" for j in range(1, 5))),
    (
        "y ~ poly(x, 2)*g",
        ("poly(x, 2)[1]", "poly(x, 2)[2]", "g[v]", "poly(x, 2)[1]:g[v]", "poly(x, 2)[2]:g[v]"),
    ),
    ("y ~ x:z:f", ("x:z:f[a]", "x:z:f[b]", "x:z:f[c]")),
]


@pytest.mark.parametrize(("text", "expected"), CODING)
def test_coding_and_labels(text: str, expected: tuple[str, ...]) -> None:
    if text == "y ~ f:g":  # R's coding: an intercept and every cell's indicator, one too many
        with pytest.warns(IdentifiabilityWarning, match=r"Aliased: f\[c\]:g\[v\] = Intercept -"):
            assert labels(text) == expected
    else:
        assert labels(text) == expected


BLOCK_CODING = [
    ("y ~ (1 | g)", ("Intercept",)),
    ("y ~ (x | g)", ("Intercept", "x")),
    ("y ~ (1 + f | g)", ("Intercept", "f[b]", "f[c]")),
    ("y ~ (0 + f | g)", ("f[a]", "f[b]", "f[c]")),
    ("y ~ 0 + f + (f || g)", ("Intercept", "f[b]", "f[c]")),  # the block's own term set decides
    ("y ~ (0 + x + x:f | g)", ("x", "x:f[b]", "x:f[c]")),
    ("y ~ (poly(x, 2) | g)", ("Intercept", "poly(x, 2)[1]", "poly(x, 2)[2]")),
]


@pytest.mark.parametrize(("text", "expected"), BLOCK_CODING)
def test_block_coding_and_labels(text: str, expected: tuple[str, ...]) -> None:
    block = bind(hm.parse(text), frame()).main.blocks[0]
    assert block.term_labels == expected
    assert block.Z.shape == (12, len(expected))


def test_column_values() -> None:
    df = frame()
    d = bind(hm.parse("y ~ x + f*g + x:h + offset(log(pos)) + offset(z)"), df).main
    col = dict(zip(d.coef_labels, d.X.T, strict=True))
    assert d.intercept
    np.testing.assert_array_equal(col["x"], df.x)
    np.testing.assert_array_equal(col["f[c]"], (df.f == "c").astype(float))
    np.testing.assert_array_equal(col["f[b]:g[v]"], ((df.f == "b") & (df.g == "v")).astype(float))
    np.testing.assert_array_equal(col["x:h"], df.x * df.h)
    assert d.offset is not None
    np.testing.assert_allclose(d.offset, np.log(df.pos) + df.z)
    assert d.coef_terms == ("x", "f", "f", "g", "f:g", "f:g", "x:h")
    assert [str(t) for t in d.terms] == ["x", "f", "g", "f:g", "x:h"]


def test_formulas_and_dpars() -> None:
    d = bind(hm.parse("y ~ x + (1 | g); sigma ~ 0 + f"), frame())
    assert [f.dpar for f in d.formulas] == ["mu", "sigma"]
    sigma = d.dpar("sigma")
    assert sigma is not None
    assert not sigma.intercept
    assert sigma.coef_labels == ("f[a]", "f[b]", "f[c]")
    assert d.main.offset is None
    assert d.main.blocks[0].Z.tolist() == [[1.0]] * 12


def test_stateful_transform_values_and_state() -> None:
    df = frame()
    d = bind(hm.parse("y ~ center(x) + scale(z)"), df)
    np.testing.assert_allclose(d.main.X[:, 0], df.x - df.x.mean())
    np.testing.assert_allclose(d.main.X[:, 1], (df.z - df.z.mean()) / df.z.std(ddof=1))
    assert d.schema.transforms["center(x)"].get("mean") == pytest.approx(df.x.mean())
    assert d.schema.transforms["scale(z)"].get("sd") == pytest.approx(df.z.std(ddof=1))


def test_unusual_column_names() -> None:
    df = pd.DataFrame(
        {
            "the y": [1.0, 2, 3, 4],
            "log.x": [1.0, 2, 4, 8],
            "ü": ["a", "b", "a", "b"],
            'q"': [1, 2, 3, 5],
        }
    )
    d = bind(hm.parse('`the y` ~ log(`log.x`) + `ü` + `q"`'), df)
    assert d.main.coef_labels == ("log(`log.x`)", "`ü`[b]", '`q"`')
    np.testing.assert_allclose(d.main.X[:, 0], np.log([1.0, 2, 4, 8]))
    np.testing.assert_array_equal(d.y, [1.0, 2, 3, 4])


# ---------------------------------------------------------------------------------------------------
# Groupings.


def test_crossed_grouping_cells() -> None:
    df = frame()
    d = bind(hm.parse("y ~ (1 | g:rater)"), df)
    b = d.main.blocks[0]
    # g alternates u, v and rater cycles r1..r4: only (u, r1), (u, r3), (v, r2), (v, r4) occur.
    assert b.grouping.factors == ("g", "rater")
    assert b.grouping.cells.tolist() == [[0, 0], [0, 2], [1, 1], [1, 3]]
    assert b.grouping.cell_labels() == ("u:r1", "u:r3", "v:r2", "v:r4")
    assert b.grouping.n_combinations == 8
    assert b.cell.tolist() == [0, 2, 1, 3] * 3
    assert [c.tolist() for c in b.codes] == [[0, 1] * 6, [0, 1, 2, 3] * 3]


def test_nested_grouping_shares_level_tables() -> None:
    df = frame()
    d = bind(hm.parse("y ~ (1 | school/klass); sigma ~ (1 | school)"), df)
    outer, inner = d.main.blocks
    assert outer.grouping.factors == ("school",)
    assert inner.grouping.factors == ("school", "klass")
    assert inner.grouping.cells.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert inner.cell.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert d.schema.factor_levels == {"school": ("s1", "s2"), "klass": ("k1", "k2")}
    sigma_block = d.formulas[1].blocks[0]
    assert sigma_block.grouping is outer.grouping
    assert set(d.schema.groupings) == {("school",), ("school", "klass")}
    np.testing.assert_array_equal(outer.codes[0], inner.codes[0])


def test_numeric_and_categorical_grouping_levels() -> None:
    df = frame()
    df["year"] = np.array([2003, 2001, 2002])[np.arange(12) % 3]
    df["site"] = pd.Categorical(df.g, categories=["v", "unused", "u"])
    d = bind(hm.parse("y ~ (1 | year) + (1 | site)"), df)
    assert d.schema.factor_levels["year"] == (2001, 2002, 2003)
    assert d.schema.factor_levels["site"] == ("v", "u")  # category order, unused dropped
    assert d.main.blocks[0].cell.tolist() == [2, 0, 1] * 4
    assert d.main.blocks[1].cell.tolist() == [1, 0] * 6


def test_single_level_grouping_factor_warns() -> None:
    df = frame().assign(one="only")
    with pytest.warns(DataWarning, match="grouping factor 'one' has a single level"):
        bind(hm.parse("y ~ (1 | one)"), df)


# ---------------------------------------------------------------------------------------------------
# The response.


def test_bernoulli_response_codes_second_level_as_one() -> None:
    df = frame()
    df["yn"] = np.where(df.x > 0, "yes", "no")
    d = bind(hm.parse("yn ~ x"), df, family="bernoulli")
    np.testing.assert_array_equal(d.y, (df.x > 0).astype(float))
    assert d.schema.response is not None
    assert d.schema.response.levels == ("no", "yes")
    d2 = bind(hm.parse("flag ~ x"), df, family="bernoulli")
    np.testing.assert_array_equal(d2.y, df.flag.astype(float))
    df["cat"] = pd.Categorical(df.yn, categories=["yes", "no"])
    d3 = bind(hm.parse("cat ~ x"), df, family="bernoulli")
    np.testing.assert_array_equal(d3.y, (df.x <= 0).astype(float))  # "no" is the second category


def test_response_transform_and_additions() -> None:
    df = frame().assign(n=10, w=2.0, s=0.5)
    d = bind(hm.parse("log(pos) | weights(w) + se(s) ~ x"), df)
    np.testing.assert_allclose(d.y, np.log(df.pos))
    np.testing.assert_array_equal(d.weights, np.full(12, 2.0))
    np.testing.assert_array_equal(d.se, np.full(12, 0.5))
    assert d.trials is None
    b = bind(hm.parse("count | trials(n) ~ x"), df, family="binomial")
    assert b.trials is not None
    assert b.trials.dtype == np.int64
    assert b.trials.tolist() == [10] * 12


def test_trials_as_a_number() -> None:
    formula = hm.parse("count | trials(n) ~ x")
    main = formula.main
    assert main.response is not None
    response = dataclasses.replace(main.response, additions=(Call("trials", (Number(4),)),))
    formula = dataclasses.replace(formula, formulas=(dataclasses.replace(main, response=response),))
    d = bind(formula, frame(), family="binomial")
    assert d.trials is not None
    assert d.trials.tolist() == [4] * 12


# ---------------------------------------------------------------------------------------------------
# Errors: each names the column and the problem, with a caret where the formula has one.

ERRORS = [
    # (formula, family, data change, message part, text under the caret)
    ("y ~ xx", "gaussian", None, "unknown column 'xx'", "xx"),
    ("y ~ log(f)", "gaussian", None, "column 'f' is not numeric", "f"),
    ("y ~ I(f * 2)", "gaussian", None, "column 'f' is not numeric", "f"),
    ('y ~ C(f, ref="zz")', "gaussian", None, "\"zz\" is not a level of 'f'", 'ref="zz"'),
    ("y ~ log(z)", "gaussian", None, "log(z) is not finite in", "log(z)"),
    ("f ~ x", "gaussian", None, "response 'f' is categorical", "f"),
    ("f ~ x", "bernoulli", None, "response 'f' must have exactly two levels", "f"),
    ("y ~ x", "poisson", None, "response 'y' must be counts", "y"),
    ("log(y) ~ x", "gaussian", None, "log(y) is not finite", "log(y)"),
    ("count ~ x", "binomial", None, "the binomial family needs the number of trials", "count"),
    (
        "y | trials(count) ~ x",
        "gaussian",
        None,
        "trials() is only used by the binomial",
        "trials(count)",
    ),
    ("y | weights(z) ~ x", "gaussian", None, "weights() needs positive values", "weights(z)"),
    ("count | trials(z) ~ x", "binomial", None, "trials() needs whole numbers >= 0", "trials(z)"),
    ("count | trials(z) ~ x", "binomial", {"z": 2}, "response 'count' has more successes", "count"),
    ("y | se(x) ~ 1", "gaussian", None, "se() needs positive values", "se(x)"),
    ("y ~ f", "gaussian", {"f": "a"}, "f has a single level ('a')", "f"),
]


@pytest.mark.parametrize(("text", "family", "change", "message", "caret"), ERRORS)
def test_data_errors(
    text: str, family: str, change: dict[str, object] | None, message: str, caret: str
) -> None:
    df = frame().assign(**(change or {}))
    with pytest.raises(DataError) as caught:
        bind(hm.parse(text), df, family=family)
    assert message in caught.value.message
    assert under_caret(caught.value).startswith(caret)


def test_unknown_column_suggests_the_closest() -> None:
    with pytest.raises(DataError) as caught:
        bind(hm.parse("y ~ x + (1 | gruop)"), frame().rename(columns={"g": "group"}))
    assert "unknown column 'gruop'" in str(caught.value)
    assert caught.value.hint == "did you mean 'group'?"
    assert "^^^^^" in str(caught.value)


def test_c_ref_error_lists_levels() -> None:
    with pytest.raises(DataError) as caught:
        bind(hm.parse('y ~ C(f, ref="zz")'), frame())
    assert caught.value.hint == "its levels are: a, b, c"


# ---------------------------------------------------------------------------------------------------
# Missing values.


def with_missing() -> pd.DataFrame:
    df = frame()
    df.loc[1, "x"] = np.nan
    df.loc[4, "x"] = np.inf
    df.loc[4, "g"] = None
    df.loc[7, "g"] = None
    df.loc[9, "unused"] = np.nan  # not used by the formula: never drops a row
    return df


def test_missing_values_are_dropped_with_one_warning() -> None:
    with pytest.warns(DataWarning) as record:
        d = bind(hm.parse("y ~ x + (1 | g)"), with_missing())
    assert len(record) == 1
    assert str(record[0].message) == (
        "dropped 3 of 12 rows with missing values (NaN, None or inf) in: 'x' (2 rows), 'g' (2 rows)"
    )
    assert d.rows.tolist() == [0, 2, 3, 5, 6, 8, 9, 10, 11]
    assert d.schema.n_rows == 9
    assert d.schema.n_dropped == 3
    np.testing.assert_array_equal(d.main.X[:, 0], frame().x.to_numpy()[d.rows])
    assert d.y is not None
    assert d.y.shape == (9,)


def test_missing_values_raise() -> None:
    with pytest.raises(DataError, match=r"missing values .* in 3 of 12 rows.*'x' \(2 rows\)"):
        bind(hm.parse("y ~ x + (1 | g)"), with_missing(), na_action="raise")


def test_missing_response_is_dropped_and_transform_sees_only_kept_rows() -> None:
    df = frame()
    df.loc[0, "y"] = np.nan
    df.loc[1, "pos"] = np.nan  # log(pos) of a missing value is not a transform error
    with pytest.warns(DataWarning, match="dropped 2 of 12 rows"):
        d = bind(hm.parse("y ~ log(pos) + center(x)"), df)
    assert d.rows.tolist() == list(range(2, 12))
    assert d.schema.transforms["center(x)"].get("mean") == pytest.approx(df.x[2:].mean())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (frame().iloc[:0], "the data has no rows"),
        (frame().assign(x=np.nan), "no rows left: all 12 rows have missing values in 'x'"),
    ],
)
def test_empty_data(data: pd.DataFrame, message: str) -> None:
    with pytest.raises(DataError, match=message):
        bind(hm.parse("y ~ x"), data)


# ---------------------------------------------------------------------------------------------------
# New data with the stored schema.

RICH = (
    "y ~ x + f*g + C(h, ref=2) + flag + center(x) + scale(z) + poly(x, 2) + bs(z, df=4)"
    " + log(pos) + offset(z) + (1 + x + f | school/klass) + (1 | g:rater); sigma ~ x + (1 | school)"
)


def assert_same_arrays(a: Design, b: Design) -> None:
    for fa, fb in zip(a.formulas, b.formulas, strict=True):
        assert fa.coef_labels == fb.coef_labels
        np.testing.assert_array_equal(fa.X, fb.X)
        np.testing.assert_array_equal(
            fa.offset if fa.offset is not None else [], fb.offset if fb.offset is not None else []
        )
        for ba, bb in zip(fa.blocks, fb.blocks, strict=True):
            assert ba.term_labels == bb.term_labels
            np.testing.assert_array_equal(ba.Z, bb.Z)
            np.testing.assert_array_equal(ba.cell, bb.cell)
            for ca, cb in zip(ba.codes, bb.codes, strict=True):
                np.testing.assert_array_equal(ca, cb)


def test_apply_schema_reproduces_the_training_arrays_exactly() -> None:
    df = frame(40, seed=3)
    with pytest.warns(IdentifiabilityWarning, match=r"center\(x\) = .*Intercept \+ x"):
        d = bind(hm.parse(RICH), df)  # x and center(x) on purpose, and more
    again = apply_schema(d.schema, df, with_response=True)
    assert again.schema is d.schema
    assert_same_arrays(d, again)
    assert d.y is not None
    np.testing.assert_array_equal(d.y, again.y)
    assert apply_schema(d.schema, df).y is None


def test_apply_schema_uses_training_constants() -> None:
    train = frame(40, seed=3)
    with pytest.warns(IdentifiabilityWarning, match=r"poly\(x, 2\)\[1\] = .*center\(x\)"):
        d = bind(hm.parse("y ~ center(x) + scale(z) + poly(x, 2) + f"), train)
    new = frame(6, seed=9).assign(f=["c", "c", "a", "b", "a", "c"])
    got = apply_schema(d.schema, new)
    x_mean, z_mean, z_sd = train.x.mean(), train.z.mean(), train.z.std(ddof=1)
    col = dict(zip(got.main.coef_labels, got.main.X.T, strict=True))
    np.testing.assert_allclose(col["center(x)"], new.x - x_mean)
    np.testing.assert_allclose(col["scale(z)"], (new.z - z_mean) / z_sd)
    np.testing.assert_array_equal(col["f[c]"], [1.0, 1, 0, 0, 0, 1])
    # poly(): the training polynomial evaluated at the new points (not refitted on them)
    train_poly = d.main.X[:, 2:4]
    for j in range(2):
        coef = np.polyfit(train.x, train_poly[:, j], j + 1)
        np.testing.assert_allclose(col[f"poly(x, 2)[{j + 1}]"], np.polyval(coef, new.x))


def test_unseen_grouping_levels_error_by_default() -> None:
    d = bind(hm.parse("y ~ x + (1 | g)"), frame())
    new = frame(4).assign(g=["u", "w", "zz", "w"])
    with pytest.raises(DataError) as caught:
        apply_schema(d.schema, new)
    assert "grouping factor 'g' has levels not seen" in caught.value.message
    assert "'w', 'zz' (3 rows)" in caught.value.message
    assert under_caret(caught.value) == "g"


def test_unseen_grouping_levels_allowed() -> None:
    d = bind(hm.parse("y ~ x + (1 | school:klass) + (1 | school)"), frame())
    new = pd.DataFrame(
        {
            "x": [0.0] * 4,
            "school": ["s1", "s9", "s2", "s1"],
            "klass": ["k2", "k1", "k3", "k1"],
        }
    )
    got = apply_schema(d.schema, new, new_levels="allow")
    inner, outer = got.main.blocks
    assert [c.tolist() for c in inner.codes] == [[0, -1, 1, 0], [1, 0, -1, 0]]
    assert inner.cell.tolist() == [1, -1, -1, 0]
    assert outer.cell.tolist() == [0, -1, 1, 0]


def test_new_combination_of_known_levels_gets_cell_minus_one() -> None:
    d = bind(hm.parse("y ~ (1 | g:rater)"), frame())  # (u, r2) never occurs in training
    new = pd.DataFrame({"g": ["u", "v"], "rater": ["r2", "r2"]})
    got = apply_schema(d.schema, new).main.blocks[0]
    assert [c.tolist() for c in got.codes] == [[0, 1], [1, 1]]
    assert got.cell.tolist() == [-1, 2]


@pytest.mark.parametrize("policy", ["error", "allow"])
def test_unseen_predictor_levels_always_error(policy: str) -> None:
    d = bind(hm.parse("y ~ f + (1 | g)"), frame())
    new = frame(3).assign(f=["a", "d", "e"])
    with pytest.raises(DataError) as caught:
        apply_schema(d.schema, new, new_levels=policy)  # type: ignore[arg-type]
    assert "column 'f' has levels not seen when the model was fitted: 'd', 'e'" in str(caught.value)


def test_apply_schema_rejects_unseen_response_levels() -> None:
    df = frame().assign(yn=np.where(np.arange(12) % 2 == 0, "no", "yes"))
    d = bind(hm.parse("yn ~ x"), df, family="bernoulli")
    new = frame(2).assign(yn=["yes", "maybe"])
    with pytest.raises(DataError, match=r"response 'yn' has levels not seen .*'maybe' \(1 rows\)"):
        apply_schema(d.schema, new, with_response=True)
    np.testing.assert_array_equal(apply_schema(d.schema, new.iloc[:1], with_response=True).y, [1.0])


@pytest.mark.parametrize("dtype", ["object", "category", "str"])
def test_string_dtypes_bind_alike(dtype: str) -> None:
    df = frame()
    expected = bind(hm.parse("y ~ f + (1 | g:rater)"), df)
    got = bind(hm.parse("y ~ f + (1 | g:rater)"), df.astype({"f": dtype, "g": dtype}))
    assert_same_arrays(expected, got)


def test_apply_schema_needs_the_response_only_when_asked() -> None:
    d = bind(hm.parse("y ~ x"), frame())
    new = frame(3).drop(columns="y")
    assert apply_schema(d.schema, new).n == 3
    with pytest.raises(DataError, match="unknown column 'y'"):
        apply_schema(d.schema, new, with_response=True)


def test_apply_schema_drops_missing_rows() -> None:
    d = bind(hm.parse("y ~ x"), frame())
    new = frame(3)
    new.loc[1, "x"] = np.nan
    with pytest.warns(DataWarning, match="dropped 1 of 3 rows"):
        got = apply_schema(d.schema, new)
    assert got.rows.tolist() == [0, 2]


def test_integer_column_names_are_named_as_such() -> None:
    # Not "unknown column '0' ... did you mean '0'?": the column is there, named by a number.
    data = pd.DataFrame({0: [1.0, 2.0, 3.0, 4.0], 1: [1.0, 3.0, 2.0, 5.0]})
    with pytest.raises(DataError, match="named by the number 0") as caught:
        hm.Model("`0` ~ `1`", data)
    assert "astype(str)" in str(caught.value)
