"""Classic mixed models on public data: hiermod's posteriors against the published lme4 estimates.

The data live beside the project in ``../shared/data`` (never committed here); the tests skip when
that folder is absent.

Tolerances, and why they are fair for a Bayesian fit with weakly informative priors:

* **Fixed effects** within 1.5 × max(posterior sd, lme4 standard error) of lme4's estimate. With
  enough data the posterior mean and the (RE)ML estimate agree to a fraction of a standard error;
  1.5 leaves room for the sampling noise of a modest run and for the small pull of the priors.
* **Standard deviations** (group-level and residual) within 25% of lme4's. The posterior of an sd
  with 18 subjects (sleepstudy) is wide and right-skewed, and its mean sits above the REML mode —
  REML estimates the variance at the mode and averages over nothing; 25% is about one posterior sd.
* **Correlations** only need lme4's estimate inside the 90% posterior interval: with 18 subjects the
  posterior of a correlation spans most of (-1, 1).

References: lme4's ``summary(lmer(Reaction ~ Days + (Days | Subject), sleepstudy))`` (REML):
Intercept 251.405 (SE 6.825), Days 10.467 (SE 1.546); Subject sd 24.741 (Intercept), 5.922 (Days),
correlation 0.066; residual sd 25.592 (Bates et al. 2015, J. Stat. Softw. 67(1), section 5).
Gelman & Hill (2007, section 12.4) ``lmer(y ~ x + (1 | county))`` on the Minnesota radon data:
Intercept 1.46 (SE 0.05), floor -0.69 (SE 0.07), county sd 0.33, residual sd 0.76 (lme4 today gives
1.46160, -0.69299, 0.3282, 0.7562). The shared ``radon.csv`` is rstanarm's version of the data, whose
response differs slightly from Gelman & Hill's; REML on this file (the same criterion as lmer,
maximised with NumPy/SciPy for the one-way random-intercept model) gives Intercept 1.4924
(SE 0.0496), floor -0.6629 (SE 0.0677), county sd 0.3154, residual sd 0.7258, which hiermod matches
within 1 posterior sd and a few per cent; both references are checked.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import hiermod as hm
from hiermod.warnings import SamplingWarning

DATA = Path(__file__).parents[2] / "shared" / "data"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DATA.is_dir(), reason=f"real data sets not found at {DATA}"),
]

FIXED_SE_FACTOR = 1.5
SD_RELATIVE = 0.25


def _read(name: str) -> pd.DataFrame:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"{path} not found")
    return pd.read_csv(path)


def _fit(model: hm.Model, **kwargs: object) -> xr.DataTree:
    with warnings.catch_warnings():
        # Judged below by the estimates themselves; a borderline R-hat in a short run is not a failure.
        warnings.simplefilter("ignore", SamplingWarning)
        return model.fit(
            draws=500, tune=500, chains=2, random_seed=2024, progressbar=False, **kwargs
        )


def _check_fixed(table: pd.DataFrame, reference: dict[str, tuple[float, float]]) -> None:
    for label, (estimate, se) in reference.items():
        mean, sd = table.loc[label, "mean"], table.loc[label, "sd"]
        assert abs(mean - estimate) < FIXED_SE_FACTOR * max(sd, se), (label, mean, estimate)


def _check_sd(value: float, reference: float, label: str) -> None:
    assert abs(value - reference) < SD_RELATIVE * reference, (label, value, reference)


def test_sleepstudy_matches_lme4() -> None:
    model = hm.Model("Reaction ~ Days + (Days | Subject)", _read("sleepstudy.csv"))
    idata = _fit(model)
    _check_fixed(model.fixef(idata), {"Intercept": (251.405, 6.825), "Days": (10.467, 1.546)})
    vc = model.varcorr(idata)
    _check_sd(vc.loc[("Subject", "Intercept"), "mean"], 24.741, "sd(Intercept)")
    _check_sd(vc.loc[("Subject", "Days"), "mean"], 5.922, "sd(Days)")
    _check_sd(vc.loc[("Residual", "sigma"), "mean"], 25.592, "sigma")
    corr = model.corr(idata, prob=0.9).loc[("Subject", "Intercept", "Days")]
    assert corr["lower_90"] < 0.066 < corr["upper_90"]
    assert int(idata["sample_stats"]["diverging"].sum()) == 0


def test_radon_matches_lme4() -> None:
    model = hm.Model("log_radon ~ floor + (1 | county)", _read("radon.csv"))
    idata = _fit(model)
    _check_fixed(model.fixef(idata), {"Intercept": (1.46160, 0.05), "floor": (-0.69299, 0.07)})
    vc = model.varcorr(idata)
    _check_sd(vc.loc[("county", "Intercept"), "mean"], 0.3282, "sd(county)")
    _check_sd(vc.loc[("Residual", "sigma"), "mean"], 0.7562, "sigma")
    # REML on this very file (see the module docstring) is closer still: tighter bounds.
    _check_fixed(model.fixef(idata), {"Intercept": (1.4924, 0.0496), "floor": (-0.6629, 0.0677)})
    assert abs(vc.loc[("county", "Intercept"), "mean"] / 0.3154 - 1) < 0.10
    assert abs(vc.loc[("Residual", "sigma"), "mean"] / 0.7258 - 1) < 0.05
    assert len(model.ranef(idata)["county"]) == 85


def test_epilepsy_poisson_fits_without_divergences() -> None:
    data = _read("epilepsy_brms.csv")
    model = hm.Model("count ~ zAge + zBase * Trt + (1 | patient)", data, family="poisson")
    idata = _fit(model)
    assert int(idata["sample_stats"]["diverging"].sum()) == 0
    fixef = model.fixef(idata)
    assert list(fixef.index) == ["Intercept", "zAge", "zBase", "Trt", "zBase:Trt"]
    # brms's README fit of the same model (brm(..., family = poisson()), default priors):
    # Intercept 1.77 (0.12), zAge 0.09 (0.09), zBase 0.70 (0.12), Trt1 -0.27 (0.17),
    # zBase:Trt1 0.06 (0.16), sd(Intercept) 0.58 (0.07); same 1.5-sd rule for the effects.
    reference = {
        "Intercept": (1.77, 0.12),
        "zAge": (0.09, 0.09),
        "zBase": (0.70, 0.12),
        "Trt": (-0.27, 0.17),
        "zBase:Trt": (0.06, 0.16),
    }
    _check_fixed(fixef, reference)
    _check_sd(model.varcorr(idata).loc[("patient", "Intercept"), "mean"], 0.58, "sd(patient)")
    assert np.isfinite(model.predict(idata).values).all()
