"""centered="auto": centred or non-centred per block, from the levels' information ratio.

The ratio ``kappa = tau² / se²`` (hiermod.plan.centring) is checked against its true value on
simulated data with known ``tau``, ``sigma`` and rows per level (``se² = sigma² / n`` for an
intercept), and the choice against a table of regimes on both sides of ``kappa = 1``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hiermod as hm
from hiermod.plan.centring import information_ratio


def _groups(n_levels: int, per_level: int, tau: float, sigma: float, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_levels), per_level)
    x = rng.normal(size=g.size)
    y = 3.0 + 0.5 * x + rng.normal(0, tau, n_levels)[g] + rng.normal(0, sigma, g.size)
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{i}" for i in g]})


def _ratio(model: hm.Model) -> float:
    fd = model.design.formulas[0]
    return information_ratio(model.design.y, fd, fd.blocks[0])


@pytest.mark.parametrize(
    ("per_level", "tau", "sigma"),
    [(20, 1.0, 1.0), (100, 0.5, 2.0), (8, 2.0, 1.0), (50, 0.3, 1.0)],
)
def test_the_ratio_estimates_tau2_n_over_sigma2(per_level: int, tau: float, sigma: float) -> None:
    model = hm.Model("y ~ x + (1 | g)", _groups(200, per_level, tau, sigma))
    # (n - 1 rows' worth: the level's own fit spends one on its intercept)
    truth = tau**2 * per_level / sigma**2
    assert _ratio(model) == pytest.approx(truth, rel=0.3)


@pytest.mark.parametrize(
    ("per_level", "tau", "sigma", "centred"),
    [
        (100, 1.0, 1.0, True),  # kappa ~ 100: the data pin every level
        (30, 0.5, 1.0, True),  # ~ 7.5
        (3, 0.3, 1.0, False),  # ~ 0.27
        (10, 0.1, 1.0, False),  # ~ 0.1
        (50, 0.0, 1.0, False),  # no spread between levels: tau = 0, the funnel's neck
        (1, 1.0, 1.0, False),  # one row per level: no level can be fitted on its own
    ],
)
def test_the_choice_follows_the_ratio(
    per_level: int, tau: float, sigma: float, centred: bool
) -> None:
    model = hm.Model("y ~ x + (1 | g)", _groups(40, per_level, tau, sigma, seed=1))
    (block,) = model.ir.predictors[0].blocks
    assert block.centered is centred
    assert "information ratio" in block.centered_reason
    assert "hiermod.plan.centring" in block.centered_reason
    start = "each level's data pin" if centred else "the sampler works on standard-normal z"
    assert block.centered_reason.startswith(start)


def test_a_block_with_slopes_takes_its_least_informed_effect() -> None:
    """Intercepts pinned by 40 rows per level, slopes with no spread between levels: kappa is the
    slopes' (about 0), so the block stays non-centred."""
    rng = np.random.default_rng(4)
    g = np.repeat(np.arange(30), 40)
    x = rng.normal(size=g.size)
    y = rng.normal(0, 2.0, 30)[g] + 0.5 * x + rng.normal(0, 1.0, g.size)
    data = pd.DataFrame({"y": y, "x": x, "g": g.astype(str)})
    model = hm.Model("y ~ x + (1 + x | g)", data)
    assert _ratio(model) < 1.0
    assert not model.ir.predictors[0].blocks[0].centered
    intercepts_only = hm.Model("y ~ x + (1 | g)", data)
    assert intercepts_only.ir.predictors[0].blocks[0].centered


@pytest.mark.parametrize("family", ["poisson", "negativebinomial"])
def test_blocks_the_rule_cannot_judge_stay_non_centred(family: str) -> None:
    """The rule needs a mean linear in its coefficients on the data's scale."""
    data = _groups(20, 100, 1.0, 1.0).assign(count=lambda d: np.round(np.exp(d.y / 3)).astype(int))
    (block,) = hm.Model("count ~ x + (1 | g)", data, family=family).ir.predictors[0].blocks
    assert not block.centered
    assert "information ratio" not in block.centered_reason


def _noisy_groups(per_level: int, spread: float, seed: int = 2) -> pd.DataFrame:
    """40 levels with their own intercept and their own noise sd, log sd_l ~ N(0, spread)."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(40), per_level)
    sd = np.exp(rng.normal(0, spread, 40))[g]
    y = rng.normal(0, 1.0, 40)[g] + rng.normal(0, 1.0, g.size) * sd
    return pd.DataFrame({"y": y, "g": [f"g{i}" for i in g]})


@pytest.mark.parametrize(
    ("per_level", "spread", "centred"),
    [
        (200, 0.5, True),  # se² of a log sd ~ 1/400 against 0.25: kappa ~ 100
        (5, 0.1, False),  # ~ 1/8 against 0.01: kappa ~ 0.1
        (100, 0.0, False),  # every level the same sd
    ],
)
def test_sigma_blocks_follow_the_log_sd_information(
    per_level: int, spread: float, centred: bool
) -> None:
    model = hm.Model("y ~ 1 + (1 | g)\nsigma ~ (1 | g)", _noisy_groups(per_level, spread))
    sigma = next(p for p in model.ir.predictors if p.dpar == "sigma")
    (block,) = sigma.blocks
    assert block.centered is centred
    assert "information ratio" in block.centered_reason


def test_the_sigma_ratio_estimates_tau2_over_se2() -> None:
    from hiermod.plan.centring import sigma_information_ratio

    model = hm.Model("y ~ 1 + (1 | g)\nsigma ~ (1 | g)", _noisy_groups(101, 0.3))
    # tau² / se² with se² = 1 / (2 (n - p)); p = 1: the mean's intercept (the block's intercept
    # column is the same column)
    truth = 0.3**2 * 2 * (101 - 1)
    ratio = sigma_information_ratio(
        model.design.y, model.design.formulas[0], model.design.formulas[1].blocks[0]
    )
    assert ratio == pytest.approx(truth, rel=0.35)


def test_the_source_says_what_was_chosen_and_why() -> None:
    model = hm.Model("y ~ x + (1 | g)", _groups(20, 100, 1.0, 1.0))
    source = model.source()
    assert "information ratio" in source
    assert "beta_g = pm.Normal(" in source  # each level's own intercept is the parameter


def test_a_saved_fit_rebuilds_the_same_choice(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fit_support import prior_fit

    data = _groups(20, 100, 1.0, 1.0)
    model = hm.Model("y ~ x + (1 | g)", data)
    fit = prior_fit(model, draws=5)
    again = hm.Model.from_idata(fit, data)
    assert [b.centered for b in again.ir.predictors[0].blocks] == [True]
