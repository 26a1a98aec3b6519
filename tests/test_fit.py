"""Model.fit: DataTree shape and attributes, optional backends, one readable sampling warning.

One tiny NUTS fit per module (a few seconds); ADVI and MAP with few iterations. The sampler
diagnostics are tested on hand-made DataTrees, so the tests need no bad sampler run.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
import warnings

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import hiermod as hm
from hiermod.errors import OptionError
from hiermod.inference import fit as fit_module
from hiermod.inference.diagnostics import diagnose, warning_text
from hiermod.inference.fit import MissingDependencyError
from hiermod.warnings import FitWarning, SamplingWarning

SIM = hm.datasets.correlated_slopes(n_groups=6, per_group=12, seed=3)
REAL_FIND_MAP = fit_module.pm.find_MAP


@pytest.fixture(scope="module")
def model() -> hm.Model:
    return hm.Model(SIM.formula, SIM.data)


@pytest.fixture(scope="module")
def nuts(model: hm.Model) -> tuple[xr.DataTree, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        idata = model.fit(draws=40, tune=40, chains=2, random_seed=1, progressbar=False, cores=1)
    return idata, [w for w in caught if issubclass(w.category, SamplingWarning)]


def test_nuts_fit_has_named_dims_and_every_group(model, nuts) -> None:
    idata, _ = nuts
    assert {"posterior", "sample_stats", "log_likelihood", "observed_data"} <= set(idata.children)
    post = idata["posterior"]
    assert post["r_g"].dims == ("chain", "draw", "g", "g_term")
    assert post["b"].dims == ("chain", "draw", "coef")
    assert list(post["coef"].values) == ["x"]
    assert list(post["g_term"].values) == ["Intercept", "x"]
    assert post.sizes["chain"] == 2
    assert post.sizes["draw"] == 40
    assert idata["log_likelihood"]["y"].dims == ("chain", "draw", "obs")
    np.testing.assert_array_equal(idata["observed_data"]["y"].values, SIM.data["y"].to_numpy())


def test_attrs_describe_the_model_and_are_netcdf_safe(model, nuts, tmp_path) -> None:
    idata, _ = nuts
    attrs = idata["posterior"].attrs
    assert attrs["hiermod_formula"] == "y ~ 1 + x + (1 + x | g)"
    assert attrs["hiermod_family"] == "gaussian"
    assert attrs["hiermod_link"] == "identity"
    assert attrs["hiermod_version"] == hm.__version__
    assert attrs["hiermod_method"] == "nuts"
    assert json.loads(attrs["hiermod_model"])["formula"] == attrs["hiermod_formula"]
    if callable(getattr(model, "source", None)):
        assert attrs["hiermod_source"] == model.source()
    # hiermod's own attributes (ArviZ adds its own, e.g. the list `sample_dims`)
    ours = {k: v for k, v in attrs.items() if k.startswith("hiermod_")}
    assert all(isinstance(v, str | int | float) for v in ours.values())
    idata.to_netcdf(tmp_path / "fit.nc")
    loaded = az.from_netcdf(tmp_path / "fit.nc")
    assert loaded["posterior"].attrs["hiermod_model"] == attrs["hiermod_model"]
    np.testing.assert_array_equal(
        loaded["posterior"]["r_g"].values, idata["posterior"]["r_g"].values
    )


def test_short_run_gives_exactly_one_sampling_warning(nuts) -> None:
    _, caught = nuts
    assert len(caught) == 1  # 80 draws cannot reach 200 effective draws: low ESS at least
    text = str(caught[0].message)
    assert "bulk ESS below 200" in text
    assert "target_accept=0.95" in text
    assert "check the priors" in text


def _fake(chains: int = 2, draws: int = 100, *, split: float = 0.0, divergent: int = 0):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(chains, draws)) + split * np.arange(chains)[:, None]
    diverging = np.zeros((chains, draws), dtype=bool)
    diverging.flat[:divergent] = True
    return az.from_dict(
        {
            "posterior": {"a": a, "b": rng.normal(size=(chains, draws, 3))},
            "sample_stats": {"diverging": diverging},
        },
        dims={"b": ["coef"]},
        coords={"coef": ["u", "v", "w"]},
    )


def test_healthy_draws_give_no_warning_text() -> None:
    healthy = _fake(chains=4, draws=500)
    assert warning_text(diagnose(healthy)) is None
    assert "0 divergent transitions" in diagnose(healthy).line()


def test_problems_are_listed_in_one_text() -> None:
    bad = diagnose(_fake(chains=2, draws=300, split=3.0, divergent=7))
    text = warning_text(bad)
    assert text is not None
    assert "7 divergent transitions after tuning" in text
    assert "R-hat above 1.01" in text
    assert "worst: a =" in text
    assert text.count("\n  - ") == len(bad.problems()) + 4  # problems, then four remedies


@pytest.mark.parametrize(
    ("sampler", "module", "install"),
    [("nutpie", "nutpie", "hiermod[nutpie]"), ("numpyro", "numpyro", "hiermod[numpyro]")],
)
def test_missing_optional_sampler_says_how_to_install(
    model, monkeypatch, sampler: str, module: str, install: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    with pytest.raises(MissingDependencyError, match=re.escape(f"pip install '{install}'")) as info:
        model.fit(draws=5, tune=5, chains=1, sampler=sampler)
    assert isinstance(info.value, hm.HiermodError)
    assert isinstance(info.value, ImportError)


def test_missing_pathfinder_says_how_to_install(model, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pymc_extras", None)
    monkeypatch.setitem(sys.modules, "pymc_experimental", None)
    with pytest.raises(MissingDependencyError, match="pip install pymc-extras"):
        model.fit(method="pathfinder")


def test_bad_method_or_sampler(model) -> None:
    with pytest.raises(OptionError, match="method must be 'nuts', 'advi', 'pathfinder' or 'map'"):
        model.fit(method="gibbs")
    with pytest.raises(OptionError, match="sampler must be 'auto', 'pymc', 'nutpie' or 'numpyro'"):
        model.fit(sampler="stan")
    with pytest.raises(OptionError, match="is for method='nuts'"):
        model.fit(method="advi", sampler="nutpie")


def test_map_is_one_chain_one_draw_with_the_same_dims(model, nuts) -> None:
    centred = any(b.centered for p in model.ir.predictors for b in p.blocks)
    expected = pytest.warns(FitWarning, match="centred") if centred else contextlib.nullcontext()
    with expected:
        idata = model.fit(method="map", progressbar=False, random_seed=1)
    post = idata["posterior"]
    assert (post.sizes["chain"], post.sizes["draw"]) == (1, 1)
    reference = nuts[0]["posterior"]
    assert set(post.data_vars) == set(reference.data_vars)
    for name in post.data_vars:
        assert post[name].dims == reference[name].dims, name
    assert "log_likelihood" in idata.children
    assert "observed_data" in idata.children
    assert idata["posterior"].attrs["hiermod_method"] == "map"
    assert model.predict(idata).shape == (1, 1, len(SIM.data))


def test_advi_draws_from_the_approximation(model, nuts) -> None:
    with pytest.warns(FitWarning, match="method='advi' on a model with group-level effects"):
        idata = model.fit(method="advi", draws=30, n=300, progressbar=False, random_seed=1)
    post = idata["posterior"]
    assert (post.sizes["chain"], post.sizes["draw"]) == (1, 30)
    reference = nuts[0]["posterior"]
    for name in reference.data_vars:
        assert post[name].dims[2:] == reference[name].dims[2:], name
    assert {"log_likelihood", "observed_data"} <= set(idata.children)
    assert "0 divergent" not in str(model.summary(idata))


# MAP fits of a model whose mode is inside the parameter space (8 cells, one sd, ~1 at the mode):
# the forum formula's slope sd has its mode at 0, where L-BFGS's stopping depends on rounding
# (row-wise or reduced, one PyMC release or the next: test_map_that_does_not_converge_says_why).
FORUM = hm.datasets.forum_scenario(n_rows=200, n_features=1, n_groups=4, n_colors=2, seed=1)
INTERIOR_MODE = "y ~ x1 + (1 | group:color)"


def test_map_that_does_not_converge_says_why(monkeypatch) -> None:
    def stopped(**kwargs: object) -> object:
        warnings.warn("The optimizer did not converge: ABNORMAL: ", UserWarning, stacklevel=1)
        warnings.warn("another warning", RuntimeWarning, stacklevel=1)
        return REAL_FIND_MAP(**kwargs)

    monkeypatch.setattr(fit_module.pm, "find_MAP", stopped)
    model = hm.Model(INTERIOR_MODE, FORUM.data, centered=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(method="map", progressbar=False)
    messages = [(w.category, str(w.message)) for w in caught]
    assert (RuntimeWarning, "another warning") in messages  # passed through
    (why,) = [m for c, m in messages if c is FitWarning]
    assert why.startswith("method='map': the optimizer stopped before it converged (ABNORMAL)")
    assert not any(c is UserWarning for c, _ in messages)


def test_log_likelihood_can_be_skipped_and_uses_rows_with_suffstats() -> None:
    model = hm.Model(INTERIOR_MODE, FORUM.data, centered=False, suffstats=True)
    assert model.ir.suffstats is not None
    idata = model.fit(method="map", progressbar=False, log_likelihood=False)
    assert "log_likelihood" not in idata.children
    with_ll = model.fit(method="map", progressbar=False)
    assert with_ll["log_likelihood"]["y"].shape == (1, 1, 200)


def test_map_of_centred_effects_says_why_it_may_fail() -> None:
    sim = hm.datasets.forum_scenario(n_rows=200, n_features=1, n_groups=2, n_colors=2, seed=1)
    model = hm.Model(sim.formula, sim.data)  # 50 rows per cell: sigma's block centred by the data
    assert [b.centered for p in model.ir.predictors for b in p.blocks] == [False, True]
    with pytest.raises(
        FitWarning, match=r"method='map' on centred group effects \(group:color in sigma\)"
    ):
        model.fit(method="map", progressbar=False)


@pytest.mark.parametrize("given", [None, {"mode": "FAST_COMPILE"}, {"mode": None}])
def test_nuts_compiles_with_numba_unless_told_otherwise(model, monkeypatch, given) -> None:
    """PyMC's NUTS (sampler="pymc") compiles with Numba (measured fastest:
    hiermod.inference.fit.sampling_mode); a mode the user passes in compile_kwargs wins."""
    seen: dict[str, object] = {}

    def fake_sample(**kwargs: object) -> xr.DataTree:
        seen.update(kwargs)
        raise RuntimeError("stop here")

    monkeypatch.setattr(fit_module.pm, "sample", fake_sample)
    extra = {} if given is None else {"compile_kwargs": dict(given)}
    with pytest.raises(RuntimeError, match="stop here"):
        model.fit(draws=5, tune=5, chains=1, progressbar=False, sampler="pymc", **extra)
    mode = seen["compile_kwargs"]["mode"]  # type: ignore[index]
    if given is None:
        assert type(mode.linker).__name__ == "NumbaLinker"
    else:
        assert mode == given["mode"]


def test_default_log_likelihood_is_skipped_when_too_large(monkeypatch) -> None:
    """rows × chains × draws above the limit: skipped with a FitWarning, unless asked for."""
    model = hm.Model(INTERIOR_MODE, FORUM.data, centered=False, suffstats=True)
    monkeypatch.setattr(fit_module, "MAX_POINTWISE_VALUES", 199)  # MAP: 1 chain × 1 draw
    with pytest.warns(FitWarning, match="200 rows × 1 draws would need"):
        idata = model.fit(method="map", progressbar=False)
    assert "log_likelihood" not in idata.children
    forced = model.fit(method="map", progressbar=False, log_likelihood=True)
    assert forced["log_likelihood"]["y"].shape == (1, 1, 200)
    monkeypatch.setattr(fit_module, "MAX_POINTWISE_VALUES", 200)
    assert "log_likelihood" in model.fit(method="map", progressbar=False).children


@pytest.mark.parametrize(
    ("cpus", "chains", "threads"),
    [(2, 4, 1), (2, 2, 1), (2, 1, 2), (8, 2, 4), (8, 4, 2), (1, 4, 1)],
)
def test_blas_threads_share_the_cpus_between_parallel_chains(
    monkeypatch, cpus: int, chains: int, threads: int
) -> None:
    monkeypatch.setattr(fit_module.os, "cpu_count", lambda: cpus)
    assert fit_module.blas_threads(chains) == threads


def test_threaded_samplers_run_with_limited_blas_threads(model, monkeypatch) -> None:
    """nutpie runs chains as threads: while it samples, each BLAS call uses blas_threads(chains)."""
    from threadpoolctl import threadpool_info

    seen: list[int] = []

    def fake_sample(**kwargs: object) -> xr.DataTree:
        seen.extend(pool["num_threads"] for pool in threadpool_info())
        raise RuntimeError("stop here")

    monkeypatch.setattr(fit_module, "_require", lambda what, **_: what)
    monkeypatch.setattr(fit_module.pm, "sample", fake_sample)
    monkeypatch.setattr(fit_module.os, "cpu_count", lambda: 2)
    with pytest.raises(RuntimeError, match="stop here"):
        model.fit(chains=4, sampler="nutpie", progressbar=False)
    assert seen
    assert set(seen) == {1}


@pytest.mark.parametrize(
    ("method", "kwargs", "family", "chosen"),
    [
        ("nuts", {}, "gaussian", "nutpie"),
        ("nuts", {}, None, "nutpie"),
        ("nuts", {"target_accept": 0.9, "initvals": {"sigma": 1.0}}, "poisson", "nutpie"),
        ("nuts", {"callback": print}, "gaussian", "pymc"),  # a per-draw callback is PyMC's
        ("nuts", {"initvals": [{"sigma": 1.0}, {"sigma": 2.0}]}, None, "pymc"),  # one per chain
        ("nuts", {}, "multinomial", "pymc"),  # mixes worse with nutpie (PYMC_FAMILIES)
        ("nuts", {}, "dirichlet", "pymc"),
        ("advi", {}, "gaussian", "pymc"),
    ],
)
def test_sampler_auto_is_nutpie_where_it_can_run(method, kwargs, family, chosen) -> None:
    pytest.importorskip("nutpie")
    from hiermod.inference.calls import resolve_sampler

    assert resolve_sampler("auto", method, kwargs, family) == chosen
    assert resolve_sampler("pymc", method, kwargs, family) == "pymc"
    assert resolve_sampler("nutpie", method, kwargs, family) == "nutpie"


@pytest.mark.filterwarnings("ignore::hiermod.warnings.SamplingWarning")  # 30 draws
@pytest.mark.parametrize(("family", "ran"), [("gaussian", "nutpie"), ("multinomial", "pymc")])
def test_sampler_auto_is_nutpie_except_where_pymcs_mixes_better(family, ran) -> None:
    """``fit(sampler="auto")`` on a model: the fit records which sampler ran."""
    pytest.importorskip("nutpie")
    rng = np.random.default_rng(3)
    data = pd.DataFrame({"x": rng.normal(size=40), "g": np.repeat(list("abcd"), 10)})
    if family == "multinomial":
        counts = rng.multinomial(10, [0.2, 0.3, 0.5], size=40)
        data[["a", "b", "c"]] = counts
        formula = "cbind(a, b, c) ~ x"
    else:
        data["y"] = data["x"] + rng.normal(size=40)
        formula = "y ~ x + (1 | g)"
    fit = hm.Model(formula, data, family=family).fit(
        sampler="auto", draws=30, tune=30, chains=1, random_seed=1, progressbar=False
    )
    assert fit["posterior"].attrs["hiermod_sampler"] == ran


def test_sampler_auto_without_nutpie_is_pymcs(monkeypatch) -> None:
    import importlib.util

    from hiermod.inference import calls

    real = importlib.util.find_spec
    monkeypatch.setattr(
        calls.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "nutpie" else real(name, *a),
    )
    assert calls.resolve_sampler("auto", "nuts", {}) == "pymc"
