"""The exponential and weibull families: brms's parameterisation, recovered from simulated data.

brms (``brmsfamily("weibull")``, its Stan code): ``y ~ weibull(shape, mu / tgamma(1 + 1 / shape))``
with ``log(mu)`` the linear predictor, so that ``mu`` is the mean of ``y``; ``exponential``:
``y ~ exponential(rate = 1 / mu)``. The data here are drawn with NumPy from those definitions, not
through hiermod or PyMC; the compiled models' log-densities are checked against hand-written PyMC
models in ``tests/test_compile.py`` and their predictions against PyMC's ``mean()`` in
``tests/test_predict_pymc.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

import hiermod as hm
from hiermod.errors import DataError

TRUE = {"Intercept": 1.2, "b": 0.5, "sd_g": 0.4, "shape": 1.8}
N_GROUPS, PER_GROUP = 30, 12  # weakly informed groups: the non-centred default mixes well


def _simulate(family: str, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(N_GROUPS), PER_GROUP)
    x = rng.normal(size=g.size)
    mu = np.exp(TRUE["Intercept"] + TRUE["b"] * x + rng.normal(0, TRUE["sd_g"], N_GROUPS)[g])
    if family == "exponential":
        y = rng.exponential(scale=mu)
    else:  # numpy's weibull has scale 1: scale it so that the mean is mu
        shape = TRUE["shape"]
        y = mu / special.gamma(1.0 + 1.0 / shape) * rng.weibull(shape, g.size)
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{i}" for i in g]})


def test_weibull_mu_is_the_mean() -> None:
    """The parameterisation itself: Weibull(shape, mu / Γ(1 + 1/shape)) has mean mu (scipy)."""
    for shape in (0.5, 1.0, 1.8, 7.0):
        scale = 3.0 / special.gamma(1.0 + 1.0 / shape)
        assert stats.weibull_min(c=shape, scale=scale).mean() == pytest.approx(3.0)


def test_the_likelihood_line_is_brms_parameterisation() -> None:
    data = _simulate("weibull")
    source = hm.Model("y ~ x + (1 | g)", data, family="weibull").source()
    assert "beta=mu / pt.gamma(1.0 + 1.0 / shape)" in source
    assert "import pytensor.tensor as pt" in source
    exp_source = hm.Model("y ~ x + (1 | g)", data, family="exponential").source()
    assert "pm.Exponential(" in exp_source
    assert "scale=mu" in exp_source


def test_default_priors_are_brms() -> None:
    model = hm.Model("y ~ x + (1 | g)", _simulate("weibull"), family="weibull")
    priors = model.priors["prior"]
    assert priors["shape"] == "gamma(0.01, 0.01)"
    assert model.link == "log"


@pytest.mark.parametrize("family", ["exponential", "weibull"])
def test_a_response_below_zero_is_refused(family: str) -> None:
    data = _simulate(family)
    data.loc[5, "y"] = -1.0
    with pytest.raises(DataError, match=r"must be non-negative .* \(e\.g\. -1\.0\)"):
        hm.Model("y ~ x", data, family=family)
    data.loc[5, "y"] = 0.0  # a zero is in the support of both
    hm.Model("y ~ x", data, family=family)


@pytest.mark.slow
@pytest.mark.parametrize("family", ["exponential", "weibull"])
def test_recovery_from_simulated_data(family: str) -> None:
    """Each true value lies in its central 99% posterior interval, and the posterior mean of the
    population values is within 3 posterior sds (one seeded data set; 360 rows)."""
    model = hm.Model("y ~ x + (1 | g)", _simulate(family), family=family)
    fit = model.fit(draws=1000, tune=1000, chains=4, random_seed=1, progressbar=False)
    posterior = fit["posterior"]
    checked = ["Intercept", "b", "sd_g"] + (["shape"] if family == "weibull" else [])
    for name in checked:
        draws = posterior[name].values.reshape(-1)
        low, high = np.quantile(draws, [0.005, 0.995])
        assert low < TRUE[name] < high, (name, low, high)
        if name != "sd_g":  # 30 groups say little about their sd
            assert abs(draws.mean() - TRUE[name]) < 3 * draws.std(), name
    # mu is the mean: the predicted means of the fitted rows average to the data's mean
    predicted = model.predict(fit).mean(("chain", "draw")).values
    y = model.design.y
    assert abs(predicted.mean() - y.mean()) < 3 * y.std() / np.sqrt(y.size)
