"""Binomial responses as lme4, brms and Bambi users type them: constant trials, cbind(), p().

* ``y | trials(10) ~ …`` — every row has 10 trials (brms); the number is a positive whole number;
* ``cbind(s, f) ~ …`` — lme4's successes and failures: ``s | trials(s + f) ~ …``, printed as
  written (``cbind(s, f) ~ 1 + …``), binomial family only (the default family, gaussian, is an
  error, as it is for ``y | trials(n)``);
* ``p(y, n) ~ …`` (Bambi) and misplaced ``cbind()`` are errors whose hints say ``y | trials(n)``.

Every spelling goes through the whole pipeline: the bound arrays (worked out by hand), the PyMC
model (the same logp as the ``trials(n)`` spelling), the exported source (run on the DataFrame),
and prediction on new rows (checked against the inverse link computed from the draws).
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from fit_support import prior_fit
from support import assert_same_model

import hiermod as hm
from hiermod.errors import DataError, FormulaError, HiermodError, Span
from hiermod.warnings import DataWarning


@functools.cache
def counts() -> pd.DataFrame:
    """Successes ``s`` and failures ``f`` of ``n = s + f`` trials, a predictor and a grouping."""
    rng = np.random.default_rng(3)
    n_rows = 40
    trials = rng.integers(1, 12, n_rows)
    x = rng.normal(size=n_rows)
    successes = rng.binomial(trials, 1 / (1 + np.exp(-(0.3 + 0.8 * x))))
    return pd.DataFrame(
        {
            "s": successes,
            "f": trials - successes,
            "n": trials,
            "x": x,
            "g": np.array(["u", "v", "w", "z"])[np.arange(n_rows) % 4],
            "ten": rng.binomial(10, 0.4, n_rows),
            "ones": np.full(n_rows, 10),
        }
    )


def model(formula: str, family: str = "binomial", data: pd.DataFrame | None = None) -> hm.Model:
    return hm.Model(formula, counts() if data is None else data, family=family)


# ---------------------------------------------------------------------------------------------------
# Spellings: formula -> canonical text (a fixed point) and the arrays bound from the data.

# (formula, canonical text, response column, trials as a function of the frame)
SPELLINGS: list[tuple[str, str, str, Any]] = [
    ("ten | trials(10) ~ x", "ten | trials(10) ~ 1 + x", "ten", lambda d: np.full(len(d), 10)),
    ("ten | trials(10.0) ~ x", "ten | trials(10) ~ 1 + x", "ten", lambda d: np.full(len(d), 10)),
    ("ten|trials(1e1)~x", "ten | trials(10) ~ 1 + x", "ten", lambda d: np.full(len(d), 10)),
    ("s | trials(n) ~ x", "s | trials(n) ~ 1 + x", "s", lambda d: d["n"]),
    ("cbind(s, f) ~ x", "cbind(s, f) ~ 1 + x", "s", lambda d: d["s"] + d["f"]),
    ("cbind(s,f) ~ x + (1|g)", "cbind(s, f) ~ 1 + x + (1 | g)", "s", lambda d: d["n"]),
    # lme4's cbpp spelling: cbind(incidence, size - incidence).
    ("cbind(s, n - s) ~ x", "cbind(s, n - s) ~ 1 + x", "s", lambda d: d["n"]),
    ("cbind(s, I(n - s)) ~ x", "cbind(s, I(n - s)) ~ 1 + x", "s", lambda d: d["n"]),
    ("cbind(f, s) ~ x", "cbind(f, s) ~ 1 + x", "f", lambda d: d["n"]),  # failures modelled
    ("cbind(s, f) | weights(n) ~ x", "cbind(s, f) | weights(n) ~ 1 + x", "s", lambda d: d["n"]),
]


@pytest.mark.parametrize(
    ("text", "canonical", "_y", "_trials"), SPELLINGS, ids=[c[0] for c in SPELLINGS]
)
def test_spellings_print_canonically_and_read_back(
    text: str, canonical: str, _y: str, _trials: Any
) -> None:
    formula = hm.parse(text)
    assert str(formula) == canonical
    again = hm.parse(str(formula))
    assert again == formula
    assert str(again) == canonical


@pytest.mark.parametrize(
    ("text", "_canonical", "y", "trials"), SPELLINGS, ids=[c[0] for c in SPELLINGS]
)
def test_spellings_bind_the_successes_and_the_trials(
    text: str, _canonical: str, y: str, trials: Any
) -> None:
    design = model(text).design
    data = counts()
    assert design.y is not None
    assert design.trials is not None
    np.testing.assert_array_equal(design.y, data[y].to_numpy(dtype=float))
    np.testing.assert_array_equal(design.trials, np.asarray(trials(data)))
    assert design.trials.dtype == np.int64


def test_cbind_reads_both_columns_for_missing_values() -> None:
    """A missing failure count drops the row, as a missing trials() column does (R's na.omit)."""
    data = counts().copy()
    data["f"] = data["f"].astype(float)
    data.loc[[2, 5], "f"] = np.nan
    with pytest.warns(DataWarning, match="dropped 2 of 40 rows .* 'f' \\(2 rows\\)"):
        design = model("cbind(s, f) ~ x", data=data).design
    assert design.n == 38
    assert not {2, 5} & set(design.rows.tolist())


# ---------------------------------------------------------------------------------------------------
# The model: cbind and trials(10) are the trials() model.

# (spelling under test, the brms spelling of the same model)
SAME_MODEL = [
    ("cbind(s, f) ~ x + (1 | g)", "s | trials(n) ~ x + (1 | g)"),
    ("cbind(s, n - s) ~ x", "s | trials(n) ~ x"),
    ("cbind(s, f) ~ 1 + (1 | g)", "s | trials(n) ~ 1 + (1 | g)"),  # merged counts per level
    ("ten | trials(10) ~ x + (1 | g)", "ten | trials(ones) ~ x + (1 | g)"),
]


@pytest.mark.parametrize(("spelling", "brms"), SAME_MODEL, ids=[c[0] for c in SAME_MODEL])
def test_spelling_has_the_logp_of_the_trials_model(spelling: str, brms: str) -> None:
    ours, theirs = model(spelling), model(brms)
    assert_same_model(ours.pymc, theirs.pymc, n_points=3)
    assert_same_model(ours.pymc_rows, theirs.pymc_rows, n_points=2)
    # And the value itself at the initial point, by the brief's recipe: compile_logp() at a point.
    point = ours.pymc.initial_point()
    logp = ours.pymc.compile_logp()(point)
    assert np.isfinite(logp)
    np.testing.assert_allclose(logp, theirs.pymc.compile_logp()(point), rtol=1e-10)


def test_cbind_logp_is_the_binomial_log_density() -> None:
    """At a point, the row-wise logp is the sum of the binomial log pmfs of (s, s + f) by hand."""
    from scipy.stats import binom

    m = model("cbind(s, f) ~ 0 + x")
    rows = m.pymc_rows
    point = {name: np.full(np.shape(v), 0.4) for name, v in rows.initial_point().items()}
    (free,) = rows.free_RVs
    prior = float(pm.logp(free, point[rows.rvs_to_values[free].name]).sum().eval())
    data = counts()
    p = 1 / (1 + np.exp(-0.4 * data["x"].to_numpy()))
    expected = binom.logpmf(data["s"], data["s"] + data["f"], p).sum() + prior
    np.testing.assert_allclose(rows.compile_logp()(point), expected, rtol=1e-10)


# ---------------------------------------------------------------------------------------------------
# The exported source builds the same arrays and the same model.


def run_source(source: str) -> dict[str, Any]:
    """Execute emitted source as a module that is not ``__main__`` (test code only)."""
    namespace: dict[str, Any] = {"__name__": "hiermod_generated"}
    exec(compile(source, "<generated>", "exec"), namespace)
    return namespace


EXPORTED = [
    "cbind(s, f) ~ x + (1 | g)",
    "cbind(s, n - s) ~ x",
    "cbind(s, f) ~ 1 + (1 | g)",
    "ten | trials(10) ~ x + (1 | g)",
    "ten | trials(10) ~ 1 + (1 | g)",
]


def test_exported_cases_include_merged_counts() -> None:
    """The rows and the merged-count likelihood both come from cbind's and trials(10)'s trials."""
    collapsed = {text for text in EXPORTED if model(text).ir.collapsed is not None}
    assert collapsed == {"cbind(s, f) ~ 1 + (1 | g)", "ten | trials(10) ~ 1 + (1 | g)"}


@pytest.mark.parametrize("text", EXPORTED)
def test_exported_source_encodes_the_spelling(text: str) -> None:
    m = model(text)
    module = run_source(m.source())
    data = counts()
    arrays = module["prepare"](data)
    assert set(m.ir.data_values) <= set(arrays)
    for name, values in m.ir.data_values.items():
        np.testing.assert_array_equal(arrays[name], values, err_msg=name)
        assert arrays[name].dtype == values.dtype, name
    np.testing.assert_array_equal(
        arrays[m.ir.likelihood.trials], counts()["n"] if "ten" not in text else 10
    )
    assert_same_model(module["build_model"](data), m.pymc, n_points=2)
    if m.ir.collapsed is not None:  # the merged-count likelihood and the rows: the same logp
        assert_same_model(module["build_model"](data, reduce=False), m.pymc, n_points=2)


# ---------------------------------------------------------------------------------------------------
# Prediction on new rows.


def _expected_mean(idata: Any, x: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """trials × inverse logit(Intercept + b x), draw by draw (the binomial mean, by hand)."""
    post = idata["posterior"]
    eta = post["Intercept"].values[..., None] + post["b"].values[..., 0, None] * x
    return trials / (1 + np.exp(-eta))


def test_cbind_predicts_with_the_trials_of_the_new_rows() -> None:
    m = model("cbind(s, f) ~ x")
    idata = prior_fit(m, draws=5, seed=2)
    new = pd.DataFrame({"x": [-1.0, 0.0, 2.0], "s": [1, 0, 3], "f": [1, 5, 0]})
    mean = m.predict(idata, data=new)
    np.testing.assert_allclose(
        mean.values, _expected_mean(idata, new["x"].to_numpy(), np.array([2, 5, 3]))
    )
    # Without the count columns there are no trials to predict counts of, as with trials(n).
    with pytest.raises(DataError, match="need the number of trials"):
        m.predict(idata, data=new[["x"]])


def test_constant_trials_need_no_column_to_predict() -> None:
    m = model("ten | trials(10) ~ x")
    idata = prior_fit(m, draws=5, seed=2)
    new = pd.DataFrame({"x": [-1.0, 0.5]})
    mean = m.predict(idata, data=new)
    np.testing.assert_allclose(
        mean.values, _expected_mean(idata, new["x"].to_numpy(), np.array([10, 10]))
    )


def test_cbind_model_is_rebuilt_from_its_stored_formula() -> None:
    m = model("cbind(s, n - s) ~ x + (1 | g)")
    idata = prior_fit(m, draws=2)
    again = hm.Model.from_idata(idata, counts())
    assert str(again.formula) == "cbind(s, n - s) ~ 1 + x + (1 | g)"
    np.testing.assert_array_equal(again.design.trials, m.design.trials)


# ---------------------------------------------------------------------------------------------------
# Errors, with the span marked in the formula: "y | trials(<0>) ~ x" puts the caret under 0.


class Case(NamedTuple):
    marked: str
    error: type[HiermodError]
    message: str  # a fragment of the message
    hint: str | None = None  # a fragment of the hint
    family: str = "binomial"


def unmark(marked: str) -> tuple[str, Span]:
    start = marked.index("<")
    end = marked.index(">", start) - 1
    return marked[:start] + marked[start + 1 : end + 1] + marked[end + 2 :], Span(start, end)


TRIALS = "trials(n)"  # every binomial hint names the brms spelling
ERRORS = [
    # Constant trials are positive whole numbers.
    Case("ten | trials(<0>) ~ x", FormulaError, "positive whole number", "trials(10)"),
    Case("ten | trials(<2.5>) ~ x", FormulaError, "positive whole number", "trials(10)"),
    Case("ten | trials(<-1>) ~ x", FormulaError, "positive whole number", "trials(10)"),
    Case("ten | trials(<-0.5>) ~ x", FormulaError, "positive whole number", "trials(10)"),
    Case("ten | <trials(2 * 5)> ~ x", FormulaError, "reads no column"),
    Case("ten | <weights(2)> ~ x", FormulaError, "reads no column"),
    # cbind takes two counts, alone on the left.
    Case("<cbind(s)> ~ x", FormulaError, "takes two arguments", TRIALS),
    Case("<cbind()> ~ x", FormulaError, "takes two arguments", TRIALS),
    Case("cbind(s, <f=f>) ~ x", FormulaError, "takes two arguments", TRIALS),
    Case("cbind(s, <3>) ~ x", FormulaError, "failures must read a column", TRIALS),
    Case('cbind(<"s">, f) ~ x', FormulaError, "successes must read a column", TRIALS),
    Case("cbind(s, <center(f)>) ~ x", FormulaError, "center() cannot be part of cbind()"),
    Case("cbind(s, <lgo>(f)) ~ x", FormulaError, "unknown function 'lgo'", "'log'"),
    Case("y ~ x + <cbind(s, f)>", FormulaError, "binomial response", TRIALS),
    Case("log(<cbind(s, f)>) ~ x", FormulaError, "stands alone left of '~'", TRIALS),
    Case("s | trials(<cbind(s, f)>) ~ x", FormulaError, "binomial response", TRIALS),
    Case("y ~ x; sigma ~ <cbind(s, f)>", FormulaError, "binomial response", TRIALS),
    # Bambi's p(y, n) and other tools' spellings point to y | trials(n).
    Case("<p>(s, n) ~ x", FormulaError, "unknown function 'p'", "s | trials(n) ~"),
    Case("<p>(s, n) ~ x", FormulaError, "unknown function 'p'", "cbind(s, n - s)"),
    Case("<p>(s) ~ x", FormulaError, "unknown function 'p'", "s | trials(n) ~"),
    # The data stage: family, counts.
    Case("<cbind(s, f)> ~ x", DataError, "the family is gaussian", "family='binomial'", "gaussian"),
    Case("<cbind(s, f)> ~ x", DataError, "the family is poisson", "family='binomial'", "poisson"),
    Case("s | <trials(n)> ~ x", DataError, "only used by the binomial family", family="gaussian"),
    Case("cbind(s, <x>) ~ 1", DataError, "failures x must be whole numbers >= 0"),
    Case("cbind(s, <f - n>) ~ x", DataError, "failures f - n must be whole numbers >= 0"),
    Case("cbind(<x>, f) ~ 1", DataError, "successes x must be whole numbers >= 0"),
    Case("cbind(s, f) | <trials(n)> ~ x", DataError, "already gives the trials", "s | trials(n)"),
    Case("cbind(s, f) ~ <zz>", DataError, "unknown column 'zz'"),
    Case("cbind(s, f) ~ x + <s>", FormulaError, "the response s is also a predictor"),
    Case("cbind(s, <ff>) ~ x", DataError, "unknown column 'ff'", "did you mean 'f'?"),
]


@pytest.mark.parametrize("case", ERRORS, ids=lambda c: f"{c.marked} [{c.family}]")
def test_errors_point_at_the_spelling(case: Case) -> None:
    text, span = unmark(case.marked)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        with pytest.raises(case.error) as info:
            hm.Model(text, counts(), family=case.family)
    error = info.value
    assert type(error) is case.error
    assert case.message in error.message, error.message
    assert error.span == span, (error.span, span, str(error))
    if case.hint is not None:
        assert case.hint in (error.hint or ""), error.hint


def test_error_text_shows_the_caret_under_the_number() -> None:
    with pytest.raises(FormulaError) as info:
        hm.parse("ten | trials(2.5) ~ x")
    assert str(info.value).splitlines()[1:3] == ["  ten | trials(2.5) ~ x", "               ^^^"]
