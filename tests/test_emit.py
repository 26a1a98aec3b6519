"""The exported source is the model hiermod fits, in both likelihood forms; formatted Python.

``Model.pymc`` is built by running the generated module on hiermod's own arrays
(:mod:`hiermod.output.module`). Here every case's source is run again in a fresh namespace, as a
user would run an exported file, on the DataFrame itself (through its ``prepare``), and compared by
:func:`support.assert_same_model` (free variables, dims, coords, logp and gradient at random
points): ``build_model(df)`` with ``Model.pymc``, and for a model with a reduced likelihood
``build_model(df, reduce=False)`` with ``Model.pymc`` too — the row-wise and the reduced
likelihood are the same log-density, which is what makes the reduction exact. ``prepare(df)`` is
compared with the arrays hiermod bound, and all sources go through ``compile`` and ``ruff format
--check`` / ``ruff check`` with ruff's default settings, as a user's project would.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from support import assert_same_model

import hiermod as hm
from hiermod.datasets import forum_scenario
from hiermod.output.codegen import Chain, EmitError, Names, Seq, call, literal, render
from hiermod.output.source_helpers import (
    HELPER_NAMES,
    complete_rows_source,
    helper_sources,
    weighted_source,
)
from hiermod.output.source_model import emit_node
from hiermod.warnings import DataWarning

N_ROWS = 150


@functools.cache
def frame() -> pd.DataFrame:
    """Every response kind and predictor kind in one frame; g × c crossed, g:h nested."""
    rng = np.random.default_rng(7)
    i = np.arange(N_ROWS)
    house = rng.permutation(i % 20)
    group = house % 5
    x = rng.normal(0.0, 1.0, N_ROWS)
    z = rng.uniform(0.5, 4.0, N_ROWS)
    eta = 0.2 + 0.7 * x + rng.normal(0.0, 0.5, 5)[group]
    trials = rng.integers(1, 10, N_ROWS)
    exposure = rng.uniform(0.5, 3.0, N_ROWS)
    return pd.DataFrame(
        {
            "g": np.array(["s1", "s2", "s3", "s4", "s5"])[group],
            "c": rng.permutation(np.array(["red", "blue", "green"])[i % 3]),
            "h": np.array([f"h{j:02d}" for j in range(20)])[house],
            "f": rng.choice(["p", "q", "r"], N_ROWS),
            "k": rng.choice([1, 2, 3], N_ROWS),
            "flag": rng.random(N_ROWS) < 0.4,
            "x": x,
            "z": z,
            "y": 3.0 + 2.0 * x + eta + rng.normal(0.0, 1.0, N_ROWS),
            "outcome": np.where(rng.random(N_ROWS) < 1 / (1 + np.exp(-eta)), "yes", "no"),
            "n": trials,
            "succ": rng.binomial(trials, 1 / (1 + np.exp(-eta))),
            "exposure": exposure,
            "count": rng.poisson(exposure * np.exp(eta - 0.5)),
            "pos": rng.gamma(3.0, np.exp(0.3 * x) / 3.0),
            "prop": np.clip(rng.beta(2.0 + np.exp(eta) / (1 + np.exp(eta)), 3.0), 0.01, 0.99),
            "w": rng.uniform(0.5, 2.0, N_ROWS),
            "s": rng.uniform(0.5, 2.0, N_ROWS),
        }
    )


@functools.cache
def forum_frame() -> pd.DataFrame:
    return forum_scenario(n_rows=240, n_features=2, n_groups=3, n_colors=2, seed=3).data


@functools.cache
def gappy_frame() -> pd.DataFrame:
    """Missing values in a used column of each kind: NaN, None and inf."""
    data = frame().head(60).copy()
    data.loc[3, "x"] = np.nan
    data.loc[7, "x"] = np.inf
    data["g"] = data["g"].astype(object)
    data.loc[11, "g"] = None
    return data


LONG_G = "a_really_quite_long_grouping_column_name"
LONG_C = "another_rather_long_colour_column_name"
LONG_X = "a_long_predictor_name_for_testing"


@functools.cache
def long_frame() -> pd.DataFrame:
    """Long column names: the layout must still be what ruff writes."""
    data = frame()
    return pd.DataFrame(
        {"y": data["y"], LONG_X: data["x"], LONG_G: data["g"], LONG_C: data["c"], "f": data["f"]}
    )


@dataclass(frozen=True)
class Case:
    id: str
    formula: str
    family: str = "gaussian"
    data: str = "frame"
    options: dict[str, Any] = field(default_factory=dict)


FORUM_NESTED = "y ~ x1 + x2 + (1 + x1 + x2 | group:color)\nsigma ~ (1 | group:color)"

CASES = [
    Case("forum_nested_dense", FORUM_NESTED, data="forum", options={"centered": False}),
    Case("forum_nested_auto", FORUM_NESTED, data="forum"),  # centred by the information ratio
    Case(
        "forum_additive",
        "y ~ x1 + x2 + (1 + x1 + x2 | group) + (1 + x1 + x2 | color)",
        data="forum",
    ),
    Case("observed_layout", "y ~ x + (1 + x | g:h)"),
    Case("smooths", 'y ~ s(x) + s(z, bs="cr", k=5) + (1 | g)'),
    Case("smooth_cyclic_sigma", 'y ~ x; sigma ~ s(z, bs="cc", k=5)'),
    Case("smooth_by", 'y ~ c + s(x, by=c, bs="cr", k=4)'),
    Case("dense_forced", "y ~ x + (1 | g:h)", options={"layout": "dense"}),
    Case("nested_g_slash_c", "y ~ x + (1 + x | g/c)"),
    Case("additive_blocks", "y ~ x + (1 + x | g) + (1 | c)"),
    Case("additive_reduced", "y ~ x + (1 + x | g) + (1 | c)", options={"suffstats": True}),
    Case("uncorrelated", "y ~ x + (1 + x || g)"),
    Case("centered_nested", FORUM_NESTED, data="forum", options={"centered": True}),
    Case("centered_on_zero", "y ~ 0 + x + (1 | g)", options={"centered": True}),
    Case(
        "centered_one_grouping",
        "y ~ x + (1 + x || g) + (1 | c)",
        options={"centered": {"g": True, "c": False}},
    ),
    Case("categorical_slopes", "y ~ f * x + C(k, ref=2) + flag + (1 + f | g)"),
    Case("no_intercept_slope_only", "y ~ 0 + f + (0 + x | g) + (1 | k)"),
    Case("three_factor_cells", "y ~ x + (1 | g:c:flag)"),
    Case("poisson_offset", "count ~ x + offset(log(exposure)) + (1 | g)", "poisson"),
    Case("bernoulli", "outcome ~ x + f + (1 | g)", "bernoulli"),
    Case("bernoulli_probit", "outcome ~ x + (1 | g)", "bernoulli", options={"link": "probit"}),
    Case("binomial_trials", "succ | trials(n) ~ x + (1 + x | g)", "binomial"),
    Case("binomial_cloglog", "succ | trials(n) ~ x", "binomial", options={"link": "cloglog"}),
    Case("distributional_sigma", "y ~ x + (1 | g)\nsigma ~ x + (1 | g)"),
    # brms's block IDs: one correlation across formulas (mu's and sigma's blocks of g; of c)
    Case("block_ids", "y ~ x + (1 + x | p | g) + (1 | 2 | c)\nsigma ~ (1 | p | g) + (1 | 2 | c)"),
    Case("block_ids_cells", "y ~ x + (1 | p | g:h)\nsigma ~ x + (1 | p | g:h)"),
    Case("block_ids_dense", "y ~ x + (1 + x | p | g:c)\nsigma ~ (1 | p | g:c)"),
    # Discrete predictors only: rows merge into counts (a reduced likelihood per family and link).
    Case("collapsed_poisson", "count ~ f + flag + (1 | g)", "poisson"),
    Case("collapsed_bernoulli", "outcome ~ f + (1 | g)", "bernoulli"),
    Case(
        "collapsed_bernoulli_probit",
        "outcome ~ f + (1 | c)",
        "bernoulli",
        options={"link": "probit"},
    ),
    Case("collapsed_binomial", "succ | trials(n) ~ flag + (1 | g:c)", "binomial"),
    # Other discrete families: identical rows (predictors, response, trials) merged into cells
    Case(
        "merged_negbinomial",
        "count ~ f + flag + (1 | g)\nalpha ~ f",
        "negativebinomial",
        options={"suffstats": True},
    ),
    # brms's monotonic effects mo(): row-wise, merged into counts, sigma's in the cell sums
    Case("monotonic", "y ~ x + mo(k) + mo(k):z + (1 | g)\nsigma ~ mo(k)"),
    Case("collapsed_monotonic", "count ~ mo(k) + f + (1 | g)", "poisson"),
    Case(
        "suffstats_sigma_monotonic", "y ~ f + (1 | g)\nsigma ~ mo(k)", options={"suffstats": True}
    ),
    Case("weights", "y | weights(w) ~ x + (1 | g)"),
    Case("known_se", "y | se(s) ~ 1 + (1 | g)"),
    Case(
        "transforms",
        "log(pos) ~ center(x) + scale(z) + log(z) + I(x**2 - 1) + poly(x, 2) + bs(z, df=4)"
        " + poly(z, 2, raw=TRUE) + center(x):f + (1 + center(x) | g)",
    ),
    Case("student_t", "y ~ x + (1 | g)", "student_t"),
    Case("negativebinomial", "count ~ x + (1 | g)", "negativebinomial"),
    Case("gamma_log", "pos ~ x + (1 | g)", "gamma"),
    Case("lognormal", "pos ~ x", "lognormal"),
    Case("beta", "prop ~ x + (1 | g)", "beta"),
    Case("weighted_gamma", "pos | weights(w) ~ x", "gamma"),
    Case("missing_values", "y ~ x + (1 | g)", data="gappy"),
    Case("no_terms", "y ~ 0"),
    Case("offset_only", "count ~ 0 + offset(log(exposure))", "poisson"),
    Case(
        "long_names",
        f"y ~ {LONG_X} * f + (1 + {LONG_X} | {LONG_G}:{LONG_C}) + (0 + {LONG_X} | {LONG_C})"
        f"\nsigma ~ (1 | {LONG_G})",
        data="long",
    ),
]

FRAMES = {"frame": frame, "forum": forum_frame, "gappy": gappy_frame, "long": long_frame}


@functools.cache
def compiled(case_id: str) -> tuple[hm.Model, str]:
    case = next(c for c in CASES if c.id == case_id)
    data = FRAMES[case.data]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # the dropped rows of the gappy frame
        model = hm.Model(case.formula, data, family=case.family, **case.options)
    return model, model.source()


def run_source(source: str) -> dict[str, Any]:
    """Execute emitted source as a module that is not ``__main__`` (test code only)."""
    namespace: dict[str, Any] = {"__name__": "hiermod_generated"}
    exec(compile(source, "<generated>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_emitted_source_builds_the_same_model(case: Case) -> None:
    model, source = compiled(case.id)
    data = FRAMES[case.data]()
    module = run_source(source)
    reducible = model.ir.reducible
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # complete_rows: the same dropped rows
        built: pm.Model = module["build_model"](data)
        rows: pm.Model = module["build_model"](data, reduce=False) if reducible else built
        arrays = module["prepare"](data)
    assert_same_model(built, model.pymc, n_points=2)
    assert_same_model(rows, model.pymc, n_points=2)  # the reduction is exact
    # The IR's coords and every data container, bit for bit and dtype.
    for form in (built, rows):
        assert {k: tuple(v) for k, v in form.coords.items()} == model.ir.coords
    np.testing.assert_array_equal(arrays["rows"], model.design.rows)
    for name, values in model.ir.data_values.items():
        # I(x**2): NumPy squares exactly where bind's np.power rounds; the last bit may differ.
        np.testing.assert_allclose(arrays[name], values, rtol=1e-14, atol=1e-15, err_msg=name)
        assert arrays[name].dtype == values.dtype, name
    for spec in model.ir.data:
        if spec.name != model.ir.likelihood.observed:  # the response is a constant
            assert rows.named_vars_to_dims[spec.name] == spec.dims, spec.name
    for spec in model.ir.parameters():
        assert built.named_vars_to_dims.get(spec.name, ()) == spec.dims, spec.name


def test_cases_cover_both_reductions_and_the_row_wise_form() -> None:
    """The table has models of each likelihood form, so the test above checks every form."""
    forms = set()
    for case in CASES:
        ir = compiled(case.id)[0].ir
        forms.add(next((k for k in ("suffstats", "collapsed", "merged") if getattr(ir, k)), "rows"))
    assert forms == {"suffstats", "collapsed", "merged", "rows"}


def test_prepare_drops_missing_rows_with_a_warning() -> None:
    model, source = compiled("missing_values")
    with pytest.warns(UserWarning, match="dropped 3 of 60 rows"):
        arrays = run_source(source)["prepare"](gappy_frame())
    assert len(arrays["rows"]) == 57 == model.design.n


def test_prepare_rejects_unseen_levels() -> None:
    _, source = compiled("additive_blocks")
    data = frame().assign(g=lambda d: d["g"].replace("s1", "s9"))
    with pytest.raises(ValueError, match="'g' has levels unseen in training: \\['s9'\\]"):
        run_source(source)["prepare"](data)


def test_helpers_are_emitted_only_when_used() -> None:
    plain = compiled("additive_blocks")[1]
    assert "def poly_basis" not in plain
    assert "def bspline_basis" not in plain
    assert "scipy" not in plain
    assert "def cell_index" not in plain
    assert "def weighted_logp" not in plain
    transforms = compiled("transforms")[1]
    assert "def poly_basis" in transforms
    assert "def bspline_basis" in transforms
    assert "from scipy.interpolate import BSpline" in transforms
    assert "def cell_index" in compiled("observed_layout")[1]
    assert "def weighted_logp" in compiled("weights")[1]


def prose(case_id: str) -> str:
    """The comments of a case's source, joined into one text."""
    lines = compiled(case_id)[1].splitlines()
    return " ".join(line.strip()[2:] for line in lines if line.strip().startswith("# "))


def test_comments_say_layout_pooling_and_parameterisation() -> None:
    nested = prose("nested_g_slash_c")
    assert (
        "Nested pooling: each g:c cell's effects are deviations from the effects of its g" in nested
    )
    assert "Outer level of the nested grouping g/c." in nested
    assert "Additive (crossed) pooling with c" in prose("additive_blocks")
    observed = prose("observed_layout")
    assert (
        "Observed-cells layout, r has dims (g__h, g__h_term): only 20 of 100 combinations"
        in observed
    )
    dense = prose("forum_nested_dense")
    assert "Dense layout, r has dims (group, color, group__color_term): 6 of 6" in dense
    assert (
        "Correlated effects, LKJ(2) prior on their correlation; non-centred, r = z @ chol.T"
        in dense
    )
    assert "Independent effects (||)" in prose("uncorrelated")
    centered = prose("centered_nested")
    assert (
        "Correlated effects, LKJ(2) prior on their correlation; centred on the population, "
        "beta_group__color ~ MvNormal(mean, chol) with mean (Intercept, b[x1], b[x2])"
    ) in centered
    assert (  # sigma ~ (1 | group:color)
        "One effect; centred on the population, sigma_beta_group__color ~ Normal(mean, sd) with "
        "mean (sigma_Intercept)"
    ) in centered
    mixed = prose("centered_one_grouping")
    assert "Independent effects (||); centred on the population, beta_g ~ Normal(mean, sd)" in mixed
    assert "One effect; non-centred, r = z * sd" in mixed
    auto = prose("forum_nested_auto")
    assert "each level's data pin its effects down (information ratio" in auto
    zero = prose("centered_on_zero")
    assert "One effect; centred, r ~ Normal(0, sd)" in zero


def every_helper() -> str:
    """All helpers and variants in one module, so that unused ones are checked too."""
    parts = helper_sources(list(HELPER_NAMES))
    parts += [complete_rows_source(a, b) for a, b in ((True, True), (True, False), (False, True))]
    for dist, params in (("StudentT", ("nu", "mu", "sigma")), ("Binomial", ("n", "logit_p"))):
        parts.append(weighted_source(dist, params).replace("def weighted", f"def {dist}_weighted"))
    return "\n\n\n".join(parts) + "\n"


def test_emitted_sources_compile_and_pass_ruff(tmp_path: Path) -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    (tmp_path / "cases").mkdir()
    for case in CASES:
        source = compiled(case.id)[1]
        compile(source, case.id, "exec")
        (tmp_path / "cases" / f"{case.id}.py").write_text(source, encoding="utf-8")
    (tmp_path / "helpers.py").write_text(every_helper(), encoding="utf-8")  # formatting only
    if ruff is None:
        pytest.skip("ruff is not installed")
    fmt = subprocess.run(
        [ruff, "format", "--isolated", "--check", "--diff", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    rules = "E,W,F,I,B,UP,SIM,C4,PIE,RET"
    check = subprocess.run(
        [
            ruff,
            "check",
            "--isolated",
            "--select",
            rules,
            "--ignore",
            "E501",
            str(tmp_path / "cases"),
        ],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr


# ---------------------------------------------------------------------------------------------------
# The building blocks.


@pytest.mark.parametrize(
    "value",
    ["plain", "it's", 'say "hi"', "both ' and \"", "back\\slash", "new\nline", "\u2028", "é日本", "", 0,
     -3, 2.5, 1e20, 1e-05, True, None, ("a", 1)],
)  # fmt: skip
def test_literals_read_back_and_are_formatted(value: object) -> None:
    import ast

    text = literal(value)
    assert ast.literal_eval(text) == value
    assert "\n" not in text


def test_values_without_a_literal_are_an_error() -> None:
    with pytest.raises(EmitError, match="Timestamp"):
        literal(pd.Timestamp("2024-01-01"))
    with pytest.raises(EmitError, match="no Python literal"):
        literal(float("nan"))


def test_an_unknown_ir_node_is_a_clear_error() -> None:
    with pytest.raises(EmitError, match="no rule for Seq"):
        emit_node(None, Seq("(", (), ")"))  # type: ignore[arg-type]


def test_names_never_shadow_imports_or_builtins() -> None:
    names = Names(["np"])
    assert names.claim("np") == "np_"
    assert names.claim("len") == "len_"
    assert names.claim("log.radon") == "log_radon"
    assert names.claim("class") == "class_"


def test_layout_splits_only_what_does_not_fit() -> None:
    assert render(call("f", "a", b="1"), 1, "x = ") == ["    x = f(a, b=1)"]
    long = call("pm.Normal", literal("z_" + "g" * 40), mu="0.0", sigma="1.0", dims=literal("g"))
    assert render(long, 2, "z = ") == [
        "        z = pm.Normal(",
        f'            "z_{"g" * 40}",',
        "            mu=0.0,",
        "            sigma=1.0,",
        '            dims="g",',
        "        )",
    ]
    chain = Chain("Intercept", tuple(("+", f"r_{i}[:, 0][idx_{i}]") for i in range(4)))
    assert render(chain, 2, "mu = ")[:3] == [
        "        mu = (",
        "            Intercept",
        "            + r_0[:, 0][idx_0]",
    ]


def test_prepare_reads_categorical_and_nullable_columns() -> None:
    """pandas categoricals keep their category order (unused ones dropped); Int64 works in C()."""
    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        {
            "y": rng.normal(size=50),
            "x": rng.normal(size=50),
            "g": pd.Categorical(rng.choice(["z", "a", "m"], 50), categories=["z", "m", "a", "u"]),
            "f": pd.array(rng.choice([1, 2, 3], 50), dtype="Int64"),
        }
    )
    model = hm.Model("y ~ x + C(f) + (1 + x | g)", data)
    arrays = run_source(model.source())["prepare"](data)
    assert model.ir.coords["g"] == ("z", "m", "a")
    for name, values in model.ir.data_values.items():
        np.testing.assert_array_equal(arrays[name], values, err_msg=name)
