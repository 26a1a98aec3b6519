"""The sufficient-statistics likelihood equals the row-wise one, and is used exactly when valid."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hiermod as hm
from hiermod.data.runtime import cell_codes
from hiermod.datasets import correlated_slopes, forum_scenario
from hiermod.plan.suffstats import SuffStatsError
from tests.support import assert_same_model


def _data(seed: int = 0, n: int = 240) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "g": rng.choice(["a", "b", "c", "d"], n),
            "c": rng.choice(["red", "blue", "green"], n),
            "f": rng.choice(["u", "v"], n),
            "x": rng.normal(size=n),
            "z": rng.normal(size=n),
            "exposure": rng.uniform(1.0, 3.0, n),
        }
    )
    frame["y"] = 2 + frame.x - frame.z + rng.normal(size=n) * 2
    return frame


GAUSSIAN_CASES = {
    "intercept only": "y ~ 1",
    "population slopes": "y ~ x + z + f",
    "random intercept": "y ~ x + (1 | g)",
    "correlated slopes": "y ~ x + (1 + x | g)",
    "uncorrelated slopes": "y ~ x + (1 + x + z || g)",
    "slope without intercept": "y ~ x + (0 + x | g)",
    "nested": "y ~ x + (1 | g/c)",
    "additive": "y ~ x + (1 + x | g) + (1 | c)",
    "interaction dense": "y ~ x + (1 + x | g:c)",
    "categorical slope": "y ~ x + (1 + f | g)",
    "offset": "y ~ x + offset(exposure) + (1 | g)",
    "sigma by group": "y ~ x + (1 | g)\nsigma ~ (1 | g)",
    "sigma by cell": "y ~ x + (1 + x | g:c)\nsigma ~ (1 | g:c)",
    "sigma unpooled": "y ~ x + (1 | g)\nsigma ~ 0 + g:c",
    "sigma by factor": "y ~ x\nsigma ~ f",
}


@pytest.mark.parametrize("formula", GAUSSIAN_CASES.values(), ids=GAUSSIAN_CASES.keys())
def test_same_logp_and_gradient_as_rows(formula: str) -> None:
    model = hm.Model(formula, _data(), suffstats=True)
    assert model.ir.suffstats is not None
    assert_same_model(model.pymc, model.pymc_rows, check_dims=False, n_points=4)


def test_observed_layout_and_forum_scenario() -> None:
    sim = forum_scenario(n_rows=600, n_features=2, n_groups=5, n_colors=3, seed=4)
    for layout in ("dense", "observed"):
        model = hm.Model(sim.formula, sim.data, layout=layout, suffstats=True)
        assert_same_model(model.pymc, model.pymc_rows, check_dims=False)


def test_models_share_parameters_and_observe_the_same_rows() -> None:
    sim = correlated_slopes(n_groups=8, per_group=10)
    model = hm.Model(sim.formula, sim.data, suffstats=True)
    reduced, rows = model.pymc, model.pymc_rows
    assert {v.name for v in reduced.free_RVs} == {v.name for v in rows.free_RVs}
    # Both observe y, over the same rows: the reduced model's y is a CustomDist whose logp reads
    # per-cell sums and whose draws are rows.
    assert [v.name for v in rows.observed_RVs] == [v.name for v in reduced.observed_RVs] == ["y"]
    assert reduced.named_vars_to_dims["y"] == rows.named_vars_to_dims["y"] == ("obs",)
    assert reduced.potentials == rows.potentials == []
    assert type(reduced["y"].owner.op).__name__.startswith("CustomDist")


@pytest.mark.parametrize(
    ("formula", "kwargs", "reason"),
    [
        ("y ~ x + (1 | g)", {"family": "gamma"}, "gamma family"),
        ("y ~ x + (1 | g)", {"link": "log"}, "log link"),
        ("y | weights(exposure) ~ x + (1 | g)", {}, "weights"),
        ("y | se(exposure) ~ 1 + (1 | g)", {}, "se()"),
    ],
)
def test_invalid_cases_fall_back_or_explain(formula: str, kwargs: dict, reason: str) -> None:
    data = _data()
    if kwargs.get("family") == "gamma" or kwargs.get("link") == "log":
        data = data.assign(y=np.random.default_rng(1).poisson(3, len(data)) + 1)
    assert hm.Model(formula, data, **kwargs).ir.suffstats is None
    with pytest.raises(SuffStatsError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        hm.Model(formula, data, suffstats=True, **kwargs)


def test_auto_skips_when_there_is_no_saving() -> None:
    # sigma ~ z with continuous z: every row is its own cell.
    data = _data()
    assert hm.Model("y ~ x\nsigma ~ z", data).ir.suffstats is None
    forced = hm.Model("y ~ x\nsigma ~ z", data, suffstats=True)
    assert forced.ir.suffstats is not None
    assert forced.ir.suffstats.coords["cell"] == tuple(range(len(data)))
    assert_same_model(forced.pymc, forced.pymc_rows, check_dims=False, n_points=2)
    assert hm.Model("y ~ x + (1 | g)", data, suffstats=False).ir.suffstats is None


def test_statistics_by_hand() -> None:
    data = pd.DataFrame(
        {"g": ["a", "a", "b", "b", "b"], "x": [1.0, 2, 0, 1, 3], "y": [1.0, 3, 2, 2, 5]}
    )
    ss = hm.Model("y ~ x + (1 | g)", data, suffstats=True).ir.suffstats
    assert ss is not None
    assert ss.features == ("Intercept", "x")  # the block's intercept shares the ones column
    values = ss.values
    np.testing.assert_array_equal(values[ss.n], [2, 3])
    np.testing.assert_array_equal(values[ss.yy], [1 + 9, 4 + 4 + 25])
    np.testing.assert_array_equal(values[ss.wy], [[4, 1 + 6], [9, 0 + 2 + 15]])
    np.testing.assert_array_equal(values[ss.ww], [[[2, 3], [3, 5]], [[3, 4], [4, 10]]])


def test_cell_codes() -> None:
    a = np.array([2, 2, 1, 1, 2])
    b = np.array(["x", "y", "x", "x", "y"])
    codes = cell_codes([a, b], 5)
    assert codes.tolist() == [1, 2, 0, 0, 2]
    # Twelve columns whose product of cardinalities overflows int64: codes stay distinct and follow
    # the lexicographic order of the rows' value tuples.
    many = [(np.arange(10) * 7919) % m for m in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)]
    rows = list(zip(*many, strict=True))
    expected = [sorted(rows).index(row) for row in rows]
    assert cell_codes(many, 10).tolist() == expected


# -- collapsed counts for bernoulli / binomial / poisson ---------------------------------------------


def _counts(seed: int = 3, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "treat": rng.choice(["no", "yes"], n),
            "sex": rng.choice(["f", "m"], n),
            "clinic": rng.choice([f"c{i}" for i in range(8)], n),
            "x": rng.normal(size=n),
            "exposure": rng.choice([1.0, 2.0, 4.0], n),
        }
    )
    frame["trials"] = rng.integers(1, 6, n)
    frame["succ"] = rng.binomial(frame.trials, 0.4)
    frame["hit"] = rng.binomial(1, 0.3, n)
    frame["count"] = rng.poisson(2.0, n)
    return frame


COUNT_CASES = {
    "bernoulli logit": ("hit ~ treat * sex + (1 | clinic)", "bernoulli", None),
    "bernoulli probit": ("hit ~ treat + (1 | clinic)", "bernoulli", "probit"),
    "bernoulli cloglog": ("hit ~ treat + sex", "bernoulli", "cloglog"),
    "binomial": ("succ | trials(trials) ~ treat + (1 + treat | clinic)", "binomial", None),
    "poisson offset": ("count ~ treat + offset(log(exposure)) + (1 | clinic)", "poisson", None),
}


@pytest.mark.parametrize(
    ("formula", "family", "link"), COUNT_CASES.values(), ids=COUNT_CASES.keys()
)
def test_collapsed_counts_equal_rows(formula: str, family: str, link: str | None) -> None:
    model = hm.Model(formula, _counts(), family=family, link=link)
    collapsed = model.ir.collapsed
    assert collapsed is not None
    assert collapsed.coords["cell"]
    assert len(collapsed.coords["cell"]) < 600 // 2
    assert_same_model(model.pymc, model.pymc_rows, check_dims=False, n_points=3)


def test_poisson_identity_link_is_not_collapsed() -> None:
    # The merged log-likelihood k log mu - n mu has no value where a cell's rate is 0 or below,
    # which the identity link allows: such a model keeps its row-wise likelihood (-inf there).
    data = _counts()
    model = hm.Model("count ~ treat + sex", data, family="poisson", link="identity")
    assert model.ir.collapsed is None
    rows = model.pymc.compile_logp()
    assert rows({"Intercept": np.array(-1.0), "b": np.zeros(2)}) == -np.inf
    with pytest.raises(SuffStatsError, match="identity link can give a cell a rate of 0"):
        hm.Model("count ~ treat", data, family="poisson", link="identity", suffstats=True)


def test_continuous_predictors_are_not_collapsed() -> None:
    data = _counts()
    assert hm.Model("hit ~ x + (1 | clinic)", data, family="bernoulli").ir.collapsed is None
    forced = hm.Model("hit ~ x", data, family="bernoulli", suffstats=True)
    assert forced.ir.collapsed is not None
    assert_same_model(forced.pymc, forced.pymc_rows, check_dims=False, n_points=1)
    # the negative binomial merges identical rows instead (tests/test_merged_rows.py)
    assert hm.Model("count ~ x", data, family="negativebinomial").ir.merged is None


def test_collapsed_counts_by_hand() -> None:
    data = pd.DataFrame({"f": ["a", "a", "b", "b", "b"], "y": [0, 1, 1, 1, 0]})
    collapsed = hm.Model("y ~ f", data, family="bernoulli", suffstats=True).ir.collapsed
    assert collapsed is not None
    np.testing.assert_array_equal(collapsed.values[collapsed.n], [2, 3])
    np.testing.assert_array_equal(collapsed.values[collapsed.k], [1, 2])
    assert collapsed.constant == 0.0
