"""What NUTS compiles for a fit (hiermod.inference.compiled): LKJ starts as values, nutpie's
compiled model kept per model and data, BLAS looked up only for models with a scan."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pymc.initial_point import make_initial_point_fn

import hiermod as hm
from hiermod.inference import compiled
from hiermod.inference.fit import _start_lkj_at_values
from hiermod.output.module import _has_scan
from hiermod.warnings import SamplingWarning

SIM = hm.datasets.correlated_slopes(n_groups=6, per_group=12, seed=3)


def _three_effects() -> hm.Model:
    data = SIM.data.assign(x2=np.random.default_rng(1).normal(size=len(SIM.data)))
    return hm.Model("y ~ x + x2 + (1 + x + x2 | g)", data)


def _four_effects() -> hm.Model:
    noise = np.random.default_rng(2).normal(size=(len(SIM.data), 2))
    data = SIM.data.assign(x2=noise[:, 0], x3=noise[:, 1])
    return hm.Model("y ~ x + x2 + x3 + (1 + x + x2 + x3 | g)", data)


@pytest.mark.parametrize(
    ("build", "packed"),
    [
        (_three_effects, [1.0, 0.0, 1.0, 0.0, 0.0, 1.0]),
        (_four_effects, [1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]),
    ],
)
def test_lkj_starts_are_pymcs_own_start(build, packed) -> None:
    """The value given equals PyMC's default start (the identity Cholesky factor), so the initial
    point without jitter is the same, every variable."""
    model = build().pymc
    starts = compiled.lkj_starts(model)
    (name,) = starts
    np.testing.assert_array_equal(starts[name], packed)
    default = make_initial_point_fn(model=model, return_transformed=True)(0)
    given = make_initial_point_fn(model=model, overrides=starts, return_transformed=True)(0)
    assert default.keys() == given.keys()
    for key in default:
        np.testing.assert_array_equal(default[key], given[key])


def test_no_lkj_no_starts_and_the_users_initvals_win() -> None:
    assert compiled.lkj_starts(hm.Model("y ~ x + (1 | g)", SIM.data).pymc) == {}
    # (1 + x | g): two correlated terms are written out, without an LKJ factor
    assert compiled.lkj_starts(hm.Model(SIM.formula, SIM.data).pymc) == {}
    model = _three_effects().pymc
    name = next(iter(compiled.lkj_starts(model)))
    kwargs: dict[str, object] = {}
    _start_lkj_at_values(model, kwargs)
    assert set(kwargs["initvals"]) == {name}  # type: ignore[arg-type]
    mine = {name: np.array([2.0, 0.1, 3.0, 0.0, 0.2, 1.5]), "sigma": 1.0}
    kwargs = {"initvals": dict(mine)}
    _start_lkj_at_values(model, kwargs)
    assert kwargs["initvals"] == mine
    per_chain = [{"sigma": 1.0}, {"sigma": 2.0}]
    kwargs = {"initvals": per_chain}
    _start_lkj_at_values(model, kwargs)
    assert kwargs["initvals"] is per_chain


def test_the_blas_look_up_is_for_models_with_a_scan_only() -> None:
    assert _has_scan(_three_effects().pymc)  # LKJ's random draws
    assert not _has_scan(hm.Model("y ~ x + (1 + x || g)", SIM.data).pymc)
    assert not _has_scan(hm.Model(SIM.formula, SIM.data).pymc)  # two terms: no LKJ


def test_data_key_tells_source_and_data_apart() -> None:
    arrays = {"X": np.arange(6.0).reshape(3, 2), "g_idx": np.array([0, 1, 1])}
    key = compiled.data_key("source", arrays)
    assert key == compiled.data_key("source", {k: v.copy() for k, v in arrays.items()})
    assert key != compiled.data_key("source 2", arrays)
    assert key != compiled.data_key("source", {**arrays, "g_idx": np.array([0, 1, 0])})
    assert key != compiled.data_key("source", {**arrays, "X": arrays["X"].reshape(2, 3)})
    assert key != compiled.data_key("source", {**arrays, "X": arrays["X"].astype(np.float32)})


@pytest.fixture
def fake_nutpie(monkeypatch):
    """nutpie's compile replaced by a counter; the kept models emptied before and after."""
    nutpie = pytest.importorskip("nutpie")
    calls: list[object] = []

    def compile_pymc_model(model, **kwargs):
        calls.append(model)
        return object()

    monkeypatch.setattr(nutpie, "compile_pymc_model", compile_pymc_model)
    monkeypatch.setattr(compiled, "_KEPT", type(compiled._KEPT)())
    monkeypatch.setattr(compiled, "_STRUCTURES", type(compiled._STRUCTURES)())
    return nutpie, calls


def test_a_model_and_its_data_are_compiled_once(fake_nutpie) -> None:
    nutpie, calls = fake_nutpie
    model, other = object(), object()
    with compiled.reusing_nutpie_compile(model, "key"):
        first = nutpie.compile_pymc_model(model, var_names=None)
        assert nutpie.compile_pymc_model(model, var_names=None) is first
        assert nutpie.compile_pymc_model(model, var_names=["a"]) is not first  # other options
        nutpie.compile_pymc_model(other)  # another model passes through, not kept
        nutpie.compile_pymc_model(other)
    assert calls == [model, model, other, other]
    rebuilt = object()  # the same source and data, built again
    with compiled.reusing_nutpie_compile(rebuilt, "key"):
        assert nutpie.compile_pymc_model(rebuilt, var_names=None) is first
    with compiled.reusing_nutpie_compile(model, None):  # no source: no key, nothing kept
        nutpie.compile_pymc_model(model, var_names=None)
    assert len(calls) == 5
    assert nutpie.compile_pymc_model.__name__ == "compile_pymc_model"  # restored


def test_at_most_max_kept_models_are_kept(fake_nutpie) -> None:
    nutpie, calls = fake_nutpie
    model = object()
    for i in range(compiled.MAX_KEPT + 1):
        with compiled.reusing_nutpie_compile(model, f"key {i}"):
            nutpie.compile_pymc_model(model)
    assert len(compiled._KEPT) == compiled.MAX_KEPT
    with compiled.reusing_nutpie_compile(model, "key 0"):  # the oldest was dropped
        nutpie.compile_pymc_model(model)
    assert len(calls) == compiled.MAX_KEPT + 2


@pytest.mark.slow
def test_a_second_fit_of_the_same_model_and_data_reuses_the_compiled_model(monkeypatch) -> None:
    nutpie = pytest.importorskip("nutpie")
    monkeypatch.setattr(compiled, "_KEPT", type(compiled._KEPT)())
    monkeypatch.setattr(compiled, "_STRUCTURES", type(compiled._STRUCTURES)())
    calls: list[object] = []
    original = nutpie.compile_pymc_model

    def counted(model, **kwargs):
        calls.append(model)
        return original(model, **kwargs)

    monkeypatch.setattr(nutpie, "compile_pymc_model", counted)
    settings = {"draws": 10, "tune": 10, "chains": 1, "progressbar": False, "sampler": "nutpie"}
    m = hm.Model(SIM.formula, SIM.data)
    with pytest.warns(SamplingWarning):  # 10 draws: low ESS
        first = m.fit(random_seed=1, log_likelihood=False, **settings)
    with pytest.warns(SamplingWarning):  # a new Model of the same formula and data
        again = hm.Model(SIM.formula, pd.DataFrame(SIM.data)).fit(
            random_seed=1, log_likelihood=False, **settings
        )
    assert len(calls) == 1
    xr_first, xr_again = first["posterior"]["Intercept"], again["posterior"]["Intercept"]
    np.testing.assert_array_equal(xr_first.to_numpy(), xr_again.to_numpy())
    with pytest.warns(SamplingWarning):
        m.fit(random_seed=2, log_likelihood=False, **{**settings, "draws": 12})
    assert len(calls) == 1
    with pytest.warns(SamplingWarning):  # other data: compiled again
        hm.Model(SIM.formula, SIM.data.iloc[::-1]).fit(
            random_seed=1, log_likelihood=False, **settings
        )
    assert len(calls) == 2
