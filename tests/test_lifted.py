"""A compiled model reused on new data of the same structure (hiermod.inference.lifted).

The fast tests need no compiler: a lifted model, given a second data set's values the way a reuse
gives them, has that data set's log-density and gradient at random points; the structure check
accepts exactly the models that differ in data (a table of cases). The slow test samples with
nutpie: a reused compile gives the same draws as a fresh compile of the new data.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.traversal import graph_inputs

import hiermod as hm
from hiermod.inference import compiled
from hiermod.inference.lifted import (
    LIFTED_PREFIX,
    LiftedCompile,
    _lifted_graph,
    _same_graph,
    _traced_shapes,
)
from hiermod.warnings import SamplingWarning
from tests.support import random_points

SLEEP = pd.read_csv(Path(__file__).resolve().parents[2] / "shared" / "data" / "sleepstudy.csv")
FORMULA = "Reaction ~ Days + (Days | Subject)"


def _noisy(data: pd.DataFrame, column: str, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return data.assign(**{column: data[column] + rng.normal(0, 5, len(data))})


def _counts(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(6), 15)
    x = rng.normal(size=g.size)
    y = rng.poisson(np.exp(0.5 + 0.3 * x + rng.normal(0, 0.4, 6)[g]))
    return pd.DataFrame({"y": y, "x": x, "g": g, "n": y + rng.integers(1, 5, g.size)})


@dataclasses.dataclass(frozen=True)
class _FakeCompiled:
    """What a reuse reads of nutpie's compiled model: its shared variables, coords, with_data."""

    shared_var_keys: dict[Any, str]
    _coords: dict[str, pd.Index]
    swapped: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)

    @property
    def coords(self) -> dict[str, pd.Index]:
        return self._coords

    def with_data(self, **updates: np.ndarray) -> _FakeCompiled:
        return dataclasses.replace(self, swapped=updates)


def _lift(model: hm.Model) -> tuple[LiftedCompile, Any]:
    built: list[Any] = []

    def compile_pymc_model(rebuilt: Any, **kwargs: Any) -> _FakeCompiled:
        assert kwargs["freeze_model"] is False
        built.append(rebuilt)
        coords = {k: pd.Index(v) for k, v in rebuilt.coords.items() if v is not None}
        inputs = graph_inputs([rebuilt.logp()])  # what nutpie's logp function reads
        shared = {v: v.name for v in inputs if isinstance(v, SharedVariable) and v.name}
        return _FakeCompiled(shared, coords)

    lifted = LiftedCompile.compile(model.pymc, compile_pymc_model, {"freeze_model": True})
    assert lifted is not None
    return lifted, built[0]


REUSES = {
    "gaussian, correlated, update(data=) with another response": (
        lambda: hm.Model(FORMULA, SLEEP),
        lambda m: m.update(data=_noisy(SLEEP, "Reaction", 1)),
    ),
    "gaussian, a new Model on other rows (default priors of those rows)": (
        lambda: hm.Model(FORMULA, SLEEP),
        lambda m: hm.Model(FORMULA, SLEEP.sample(frac=0.9, random_state=2).sort_index()),
    ),
    "gaussian, another prior scale": (
        lambda: hm.Model(FORMULA, SLEEP),
        lambda m: m.update(priors={"b": "normal(0, 10)"}),
    ),
    "poisson counts (an integer response)": (
        lambda: hm.Model("y ~ x + (1 | g)", _counts(1), family="poisson"),
        lambda m: m.update(data=_counts(2)),
    ),
    "binomial with trials": (
        lambda: hm.Model("y | trials(n) ~ x + (1 | g)", _counts(1), family="binomial"),
        lambda m: m.update(data=_counts(3)),
    ),
    "gaussian through cell sums (a reduced likelihood)": (
        lambda: hm.Model("Reaction ~ (1 | Subject)", SLEEP, suffstats=True),
        lambda m: m.update(data=_noisy(SLEEP, "Reaction", 4)),
    ),
}


@pytest.mark.parametrize("case", list(REUSES))
def test_a_reuse_has_the_new_datas_log_density_and_gradient(case: str) -> None:
    first, second = REUSES[case]
    old = first()
    new = second(old)
    lifted, rebuilt = _lift(old)
    reused = lifted.reuse(new.pymc)
    assert reused is not None, case
    assert {k.startswith(LIFTED_PREFIX) for k in reused.swapped} == {True, False}
    # Equal up to rounding: the lifted graph computes in float64 what PyTensor may keep float32
    # (a prior's 2.5), and sums in another order.
    logp_new, dlogp_new = _density(new.pymc)
    logp_lifted, dlogp_lifted = _density(rebuilt)
    for point in random_points(new.pymc, 3, seed=5):
        np.testing.assert_allclose(logp_lifted(point), logp_new(point), rtol=1e-9)
        np.testing.assert_allclose(dlogp_lifted(point), dlogp_new(point), rtol=1e-9, atol=1e-9)
    # The first model is untouched by the reuse: it keeps its own data.
    logp_old, _ = _density(old.pymc)
    point = random_points(old.pymc, 1, seed=6)[0]
    assert not np.isclose(logp_old(point), logp_new(point), rtol=1e-9, atol=0)


def _density(model: Any) -> tuple[Any, Any]:
    """The log-density and its gradient (variables in name order: a rebuilt model may list them
    in another order), compiled quickly."""
    names = sorted(rv.name for rv in model.free_RVs)
    variables = [model[name] for name in names]
    return (
        model.compile_logp(mode="FAST_COMPILE"),
        model.compile_dlogp(vars=variables, mode="FAST_COMPILE"),
    )


def test_the_level_labels_of_a_reuse_are_the_new_models() -> None:
    renamed = SLEEP.assign(Subject=SLEEP["Subject"] + 1000)
    lifted, _ = _lift(hm.Model(FORMULA, SLEEP))
    reused = lifted.reuse(hm.Model(FORMULA, renamed).pymc)
    assert reused is not None
    assert list(reused.coords["Subject"]) == sorted(renamed["Subject"].unique())


REFUSED = {
    "17 of the 18 subjects (other parameter shapes)": lambda: hm.Model(
        FORMULA, SLEEP[SLEEP["Subject"] != 308]
    ),
    "independent effects": lambda: hm.Model("Reaction ~ Days + (Days || Subject)", SLEEP),
    "another prior family": lambda: hm.Model(FORMULA, SLEEP, priors={"b": "student_t(3, 0, 10)"}),
    "another family": lambda: hm.Model(FORMULA, SLEEP, family="student_t"),
    "another link": lambda: hm.Model(FORMULA, SLEEP, family="gamma", link="log"),
    "a sigma formula": lambda: hm.Model(FORMULA, SLEEP, sigma="~ (1 | Subject)"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_model_of_another_structure_is_not_reused(case: str) -> None:
    lifted, _ = _lift(hm.Model(FORMULA, SLEEP))
    assert lifted.reuse(REFUSED[case]().pymc) is None, case


def test_the_structure_check_compares_graphs_not_names() -> None:
    """Only the lifted values differ between two data sets; an integer constant (an index) is
    compared by value."""
    one, _ = _lifted_graph(hm.Model(FORMULA, SLEEP).pymc)
    two, values = _lifted_graph(hm.Model(FORMULA, _noisy(SLEEP, "Reaction", 7)).pymc)
    assert _same_graph(one, two)
    assert any(v.shape == (180,) and v.dtype == np.float64 for v in values.values())  # Reaction
    three, _ = _lifted_graph(hm.Model("Reaction ~ Days + (1 | Subject)", SLEEP).pymc)
    assert not _same_graph(one, three)
    shapes = _traced_shapes(hm.Model(FORMULA, SLEEP).pymc)
    assert shapes is not None
    assert shapes["beta_Subject"] == (18, 2)


def test_the_structure_key_ignores_numbers_docstring_and_comments() -> None:
    m = hm.Model(FORMULA, SLEEP)
    key = compiled.structure_key(m.source())
    assert key == compiled.structure_key(hm.Model(FORMULA, _noisy(SLEEP, "Reaction", 8)).source())
    assert key != compiled.structure_key(
        hm.Model("Reaction ~ Days + (1 | Subject)", SLEEP).source()
    )


@pytest.mark.slow
def test_a_reused_compile_samples_as_a_fresh_compile_of_the_new_data(monkeypatch) -> None:
    """Fit 1 (frozen), fit 2 on other rows (lifted compile), fit 3 on a third data set (reused: no
    compile), against fit 3 after a clean start (its lifted compile): the same draws."""
    nutpie = pytest.importorskip("nutpie")
    calls: list[object] = []
    original = nutpie.compile_pymc_model

    def counted(model: Any, **kwargs: Any) -> Any:
        calls.append(model)
        return original(model, **kwargs)

    monkeypatch.setattr(nutpie, "compile_pymc_model", counted)
    settings = {"draws": 30, "tune": 30, "chains": 1, "progressbar": False, "sampler": "nutpie"}
    first = hm.Model(FORMULA, SLEEP)
    second = first.update(data=_noisy(SLEEP, "Reaction", 1))
    third = first.update(data=_noisy(SLEEP, "Reaction", 2).iloc[5:])  # fewer rows too

    def fit(model: hm.Model) -> np.ndarray:
        with pytest.warns(SamplingWarning):  # 30 draws: a low ESS
            idata = model.fit(random_seed=3, log_likelihood=False, **settings)
        return idata["posterior"]["b"].to_numpy()

    def clean_start() -> None:
        monkeypatch.setattr(compiled, "_KEPT", type(compiled._KEPT)())
        monkeypatch.setattr(compiled, "_STRUCTURES", type(compiled._STRUCTURES)())

    clean_start()
    fit(first)
    fit(second)
    assert len(calls) == 2
    reused = fit(third)
    assert len(calls) == 2  # no compile
    clean_start()
    fit(first)
    fresh = fit(third)
    assert len(calls) == 4
    np.testing.assert_array_equal(reused, fresh)
