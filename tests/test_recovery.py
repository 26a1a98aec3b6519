"""Parameter recovery: do 90% posterior intervals of compiled models cover the true values 90% of the time?

Design (a small seeded simulation study, run in CI as a ``slow`` test):

* Two scenarios, each with its own data generator from :mod:`hiermod.datasets` and true values keyed by
  hiermod's parameter names:

  - ``forum``: the forum thread's model, ``y ~ x1 + x2 + (1 + x1 + x2 | group:color)`` with
    ``sigma ~ (1 | group:color)``, 4 groups × 2 colours, 2 features, 400 rows
    (:func:`~hiermod.datasets.forum_scenario`). Checked: ``Intercept``, ``b`` (2),
    ``sd_group__color`` (3), ``sigma_Intercept``, ``sigma_sd_group__color`` — 8 values.
  - ``slopes``: correlated random intercepts and slopes, ``y ~ x + (1 + x | g)``, 12 groups × 15 rows
    (:func:`~hiermod.datasets.correlated_slopes`). Checked: ``Intercept``, ``b``, ``sd_g`` (2),
    ``sigma`` — 5 values.

* 8 (forum) and 10 (slopes) data sets, each from its own seed (the forum generator also draws new
  population slopes and sds per seed). Each is compiled with default priors and fitted with
  ``pm.sample(draws=300, tune=300, chains=2)`` on ``model.pymc``, seeded, without progress bars or
  convergence checks (a short run: we test calibration, not the sampler).

* For every checked value, the central 90% interval (5% and 95% quantiles of the pooled draws) covers
  the truth or not. The pooled count of hits over all values and replicates must lie in the central
  99% band of Binomial(n, 0.9) (computed with ``scipy.stats.binom``). Values within a replicate are
  correlated, so this band is a little narrow for a true rate of 0.9; it is meant to catch a wrong
  model (a misnamed or mis-scaled parameter, a wrong link or likelihood, swapped levels), whose
  coverage collapses, not small miscalibrations.

The whole study (18 fits, two chains each in parallel) costs about 5 CPU-minutes, most of it in the
forum fits: with 50 rows per cell the data pin down each cell's effects, so the always non-centred
parameterisation makes NUTS take deep trees there (mean depth ~7.5, ~265 gradients per draw).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytest
from scipy import stats

import hiermod as hm
from hiermod.datasets import Simulated, correlated_slopes, forum_scenario

pytestmark = pytest.mark.slow

LEVEL = 0.90
BAND = 0.99  # the pooled hit count must lie in this central band of Binomial(n, LEVEL)


@dataclass(frozen=True)
class Scenario:
    name: str
    simulate: Callable[[int], Simulated]
    checked: tuple[str, ...]  # parameter names; vectors are checked element by element
    replicates: int
    values: int  # checked values per replicate


SCENARIOS = {
    "forum": Scenario(
        "forum",
        lambda seed: forum_scenario(n_rows=400, n_features=2, n_groups=4, n_colors=2, seed=seed),
        ("Intercept", "b", "sd_group__color", "sigma_Intercept", "sigma_sd_group__color"),
        replicates=8,
        values=8,
    ),
    "slopes": Scenario(
        "slopes",
        lambda seed: correlated_slopes(n_groups=12, per_group=15, seed=seed),
        ("Intercept", "b", "sd_g", "sigma"),
        replicates=10,
        values=5,
    ),
}


@dataclass(frozen=True)
class Hit:
    """One checked value of one replicate: its interval and whether it covers the truth."""

    scenario: str
    seed: int
    parameter: str
    truth: float
    lower: float
    upper: float

    @property
    def covered(self) -> bool:
        return self.lower <= self.truth <= self.upper


def _fit_one(scenario: Scenario, seed: int) -> list[Hit]:
    sim = scenario.simulate(seed)
    model = hm.Model(sim.formula, sim.data, family=sim.family)
    idata = pm.sample(
        draws=300,
        tune=300,
        chains=2,
        random_seed=seed,
        progressbar=False,
        compute_convergence_checks=False,
        nuts_sampler="pymc",  # PyMC 6 would pick nutpie when installed: a Numba compile per fit
        model=model.pymc,
    )
    tail = (1 - LEVEL) / 2
    hits = []
    for name in scenario.checked:
        draws = idata.posterior[name].stack(sample=("chain", "draw")).transpose(..., "sample")
        values = np.asarray(draws).reshape(-1, draws.sizes["sample"])
        truth = np.atleast_1d(np.asarray(sim.truth[name], dtype=float))
        assert values.shape[0] == truth.size, name
        lower, upper = np.quantile(values, [tail, 1 - tail], axis=1)
        for j in range(truth.size):
            label = name if truth.size == 1 else f"{name}[{j}]"
            hits.append(
                Hit(scenario.name, seed, label, float(truth[j]), float(lower[j]), float(upper[j]))
            )
    return hits


@functools.cache
def study(name: str) -> tuple[Hit, ...]:
    scenario = SCENARIOS[name]
    seeds = [1000 + 17 * r for r in range(scenario.replicates)]
    return tuple(hit for seed in seeds for hit in _fit_one(scenario, seed))


def _band(n: int) -> tuple[int, int]:
    tail = (1 - BAND) / 2
    return int(stats.binom.ppf(tail, n, LEVEL)), int(stats.binom.isf(tail, n, LEVEL))


def _report(hits: tuple[Hit, ...]) -> str:
    by_parameter: dict[str, list[bool]] = {}
    for hit in hits:
        by_parameter.setdefault(f"{hit.scenario}:{hit.parameter}", []).append(hit.covered)
    lines = [f"{name}: {sum(v)}/{len(v)}" for name, v in by_parameter.items()]
    misses = [f"  {h}" for h in hits if not h.covered]
    return "\n".join(["coverage per parameter:", *lines, "misses:", *misses])


def test_pooled_and_per_scenario_coverage_of_90_percent_intervals() -> None:
    """One test for the whole study, so that one worker fits it once (the fits are the cost).

    Pooled over both scenarios, the hit count lies in the central 99% band; per scenario, a looser
    check: no worse than the lower end of its own band.
    """
    studies = {name: study(name) for name in SCENARIOS}
    hits = tuple(hit for found in studies.values() for hit in found)
    n, covered = len(hits), sum(h.covered for h in hits)
    low, high = _band(n)
    assert n == sum(s.replicates * s.values for s in SCENARIOS.values())
    assert low <= covered <= high, f"{covered}/{n} covered, band [{low}, {high}]\n{_report(hits)}"
    print(f"\n{covered}/{n} covered ({covered / n:.1%}), band [{low}, {high}]\n{_report(hits)}")
    for name, found in studies.items():
        n, covered = len(found), sum(h.covered for h in found)
        low, _ = _band(n)
        assert covered >= low, f"{name}: {covered}/{n} covered, at least {low} expected"
