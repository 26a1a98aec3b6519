"""The NUTS backends sample the same posterior: PyMC's sampler, nutpie, and NumPyro (where JAX is).

One random-intercept-and-slope model on simulated data; each backend runs 4 chains × 2000 draws
(with 2 × 1000, R-hat's own noise reaches 1.01 on some machines and seeds).
Agreement: for every population parameter, group sd and sigma, the posterior means differ by less
than 4 combined Monte Carlo standard errors, ``|m1 - m2| < 4 sqrt(mcse1² + mcse2²)`` (a false alarm
has probability below 1e-4 per value). Each fit must also have converged (R-hat, bulk ESS), or the
comparison would mean nothing (R-hat below 1.01, bulk ESS above 150).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import warnings
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import hiermod as hm
from hiermod.warnings import SamplingWarning

pytestmark = pytest.mark.slow

CHECKED = ["Intercept", "b", "sd_g", "sigma"]


def _data() -> pd.DataFrame:
    # 30 groups of 6 rows: groups the data inform weakly, where the default non-centred
    # parameterisation mixes well (with 20 rows per group sd_g's R-hat stays near 1.011 after
    # 4 x 1000 draws: slow mixing, which issue 18's parameterisation work is about, not the backends).
    # The slopes' sd is 0.6, well away from 0: with 0.3 the posterior of sd_g["x"] reaches into the
    # funnel at 0, where nutpie's bulk ESS was ~1,000 (against ~3,500 at 0.6, seeds 1-5, both
    # backends, worst R-hat 1.0017) and one CI machine's nutpie run ended at R-hat 1.0127.
    rng = np.random.default_rng(11)
    g = np.repeat(np.arange(30), 6)
    x = rng.normal(size=g.size)
    y = 2.0 + rng.normal(0, 1.0, 30)[g] + (0.7 + rng.normal(0, 0.6, 30)[g]) * x
    return pd.DataFrame({"y": y + rng.normal(0, 0.8, g.size), "x": x, "g": g.astype(str)})


MODEL = hm.Model("y ~ x + (x | g)", _data())


def _fit(sampler: str) -> xr.DataTree:
    # fit() warns when any value's R-hat reaches 1.01, e.g. one of the 60
    # group effects at 1.010. This test's own convergence check (below) covers the values it
    # compares; a borderline group effect elsewhere is not what it is about.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        return _sample(sampler)


def _sample(sampler: str) -> xr.DataTree:
    return MODEL.fit(
        draws=2000,
        tune=1000,
        chains=4,
        sampler=sampler,
        random_seed=7,
        target_accept=0.95,
        progressbar=False,
        log_likelihood=False,
    )


@pytest.fixture(scope="module")
def reference() -> xr.DataTree:
    return _fit("pymc")


def _checked(fit: xr.DataTree) -> xr.Dataset:
    return fit["posterior"].to_dataset()[CHECKED]


def _assert_agree(ours: xr.DataTree, theirs: xr.DataTree) -> None:
    for fit in (ours, theirs):
        assert float(az.rhat(_checked(fit)).to_array().max()) < 1.01
        assert float(az.ess(_checked(fit)).to_array().min()) > 150  # MCSEs are reliable
    mcse_ours, mcse_theirs = az.mcse(_checked(ours)), az.mcse(_checked(theirs))
    for name in CHECKED:
        a = ours["posterior"][name].mean(("chain", "draw")).values.reshape(-1)
        b = theirs["posterior"][name].mean(("chain", "draw")).values.reshape(-1)
        se = np.hypot(mcse_ours[name].values.reshape(-1), mcse_theirs[name].values.reshape(-1))
        assert np.all(np.abs(a - b) < 4 * se), (name, a, b, se)


def test_nutpie_and_pymc_sample_the_same_posterior(reference: xr.DataTree) -> None:
    fit = _fit("nutpie")
    assert fit["posterior"].attrs["hiermod_sampler"] == "nutpie"
    assert fit["posterior"]["r_g"].dims == reference["posterior"]["r_g"].dims
    _assert_agree(fit, reference)


def _fit_in_subprocess(sampler: str, tmp_path: Path) -> xr.DataTree:
    """``_fit(sampler)`` in a fresh interpreter, read back from a netCDF file.

    NumPyro starts JAX's threads; a pytest worker that has them and later forks (PyMC's sampler
    runs one process per chain) gets JAX's "os.fork() ... will likely lead to a deadlock"
    warning. So JAX never runs in the test process: the fit is made in a child and read back.
    """
    path = tmp_path / f"{sampler}.nc"
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import test_samplers; "
        "test_samplers._fit(sys.argv[2]).to_netcdf(sys.argv[3])"
    )
    here = str(Path(__file__).resolve().parent)
    subprocess.run([sys.executable, "-c", script, here, sampler, str(path)], check=True)
    with xr.open_datatree(path) as stored:
        return stored.load()


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="JAX is not installed")
def test_numpyro_and_pymc_sample_the_same_posterior(reference: xr.DataTree, tmp_path: Path) -> None:
    fit = _fit_in_subprocess("numpyro", tmp_path)
    assert fit["posterior"].attrs["hiermod_sampler"] == "numpyro"
    _assert_agree(fit, reference)


def test_the_agreement_check_can_fail(reference: xr.DataTree) -> None:
    """A posterior shifted by 10 Monte Carlo standard errors is told apart."""
    shifted = reference.copy(deep=True)
    mcse = float(az.mcse(_checked(reference))["Intercept"])
    shifted["posterior"]["Intercept"] = reference["posterior"]["Intercept"] + 10 * mcse
    with pytest.raises(AssertionError):
        _assert_agree(shifted, reference)
