"""Simulated data sets with known true parameters, for examples, the demo and recovery tests.

:func:`forum_scenario` generates the problem from the PyMC forum thread the project grew from
(``shared/context/forum-thread-multilevel-groups.md``): rows in groups × colours, several features,
a separate intercept and slope vector for every (group, colour) cell drawn from a correlated
population, and per-cell noise. Its formula is::

    y ~ x1 + x2 + x3 + (1 + x1 + x2 + x3 | group:color)
    sigma ~ (1 | group:color)

The true values are keyed by the names hiermod gives the parameters (``Intercept``, ``b``,
``sd_group__color``, ``sigma_r_group__color`` …), so a fit can be compared with them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Simulated", "correlated_slopes", "forum_scenario"]

_COLORS = ("red", "blue", "green", "yellow", "purple", "orange", "black", "white")


@dataclass(frozen=True)
class Simulated:
    """A simulated data set: the data, the formula that generated it, and the true parameters."""

    data: pd.DataFrame
    formula: str
    truth: dict[str, Any] = field(repr=False)
    family: str = "gaussian"


def _random_correlation(k: int, rng: np.random.Generator, strength: float = 0.4) -> np.ndarray:
    """A random correlation matrix with moderate correlations (from a random factor model)."""
    loadings = rng.uniform(-strength, strength, size=(k, 1))
    cov = loadings @ loadings.T + np.diag(1 - (loadings**2).ravel())
    d = np.sqrt(np.diag(cov))
    corr: np.ndarray = cov / np.outer(d, d)
    return corr


def forum_scenario(
    n_rows: int = 2_000,
    n_features: int = 3,
    n_groups: int = 4,
    n_colors: int = 2,
    *,
    seed: int = 0,
    noise_sd: float = 0.5,
    noise_spread: float = 0.3,
) -> Simulated:
    """Rows in ``n_groups × n_colors`` cells, ``n_features`` features, per-cell coefficients and noise.

    Every cell has its own intercept and slopes, drawn from a correlated population around the
    population values; every cell has its own noise sd, ``exp(log(noise_sd) + u_cell)`` with
    ``u_cell ~ normal(0, noise_spread)``. Rows are spread evenly over cells (every cell observed).
    """
    if n_colors > len(_COLORS):
        raise ValueError(f"at most {len(_COLORS)} colours")
    rng = np.random.default_rng(seed)
    k = n_features + 1
    groups = np.array([f"g{i:02d}" for i in range(1, n_groups + 1)])
    colors = np.array(_COLORS[:n_colors])
    features = [f"x{j}" for j in range(1, n_features + 1)]

    intercept = 1.0
    b = rng.normal(0.0, 1.0, size=n_features).round(2)
    sd = np.concatenate([[0.8], rng.uniform(0.2, 0.6, size=n_features)]).round(2)
    corr = _random_correlation(k, rng)
    cov = corr * np.outer(sd, sd)
    r = rng.multivariate_normal(np.zeros(k), cov, size=(n_groups, n_colors))  # (g, c, k)

    sigma_intercept = float(np.log(noise_sd))
    sigma_r = rng.normal(0.0, noise_spread, size=(n_groups, n_colors))

    cell = rng.permutation(np.arange(n_rows) % (n_groups * n_colors))
    g_idx, c_idx = np.unravel_index(cell, (n_groups, n_colors))
    x = rng.normal(0.0, 1.0, size=(n_rows, n_features))
    design = np.column_stack([np.ones(n_rows), x])
    coefs = np.concatenate([[intercept], b]) + r[g_idx, c_idx]  # (n, k)
    mu = np.sum(design * coefs, axis=1)
    sigma = np.exp(sigma_intercept + sigma_r[g_idx, c_idx])
    y = rng.normal(mu, sigma)

    data = pd.DataFrame(x, columns=features)
    data.insert(0, "color", colors[c_idx])
    data.insert(0, "group", groups[g_idx])
    data["y"] = y
    terms = " + ".join(features)
    formula = f"y ~ {terms} + (1 + {terms} | group:color)\nsigma ~ (1 | group:color)"
    truth = {
        "Intercept": intercept,
        "b": b,
        "sd_group__color": sd,
        "corr_group__color": corr,
        "r_group__color": r,
        "sigma_Intercept": sigma_intercept,
        "sigma_sd_group__color": noise_spread,
        "sigma_r_group__color": sigma_r,
    }
    return Simulated(data, formula, truth)


def correlated_slopes(
    n_groups: int = 30,
    per_group: int = 20,
    *,
    seed: int = 0,
    intercept: float = 2.0,
    slope: float = -1.0,
    sd: tuple[float, float] = (1.0, 0.5),
    corr: float = 0.5,
    sigma: float = 0.7,
) -> Simulated:
    """``y ~ x + (1 + x | g)`` with correlated group intercepts and slopes (the classic random-slope model)."""
    rng = np.random.default_rng(seed)
    cov = np.array([[sd[0] ** 2, corr * sd[0] * sd[1]], [corr * sd[0] * sd[1], sd[1] ** 2]])
    r = rng.multivariate_normal(np.zeros(2), cov, size=n_groups)
    g = np.repeat(np.arange(n_groups), per_group)
    x = rng.normal(0.0, 1.0, size=g.size)
    y = intercept + r[g, 0] + (slope + r[g, 1]) * x + rng.normal(0.0, sigma, size=g.size)
    data = pd.DataFrame({"g": [f"s{i:02d}" for i in g], "x": x, "y": y})
    truth = {
        "Intercept": intercept,
        "b": np.array([slope]),
        "sd_g": np.array(sd),
        "corr_g": np.array([[1.0, corr], [corr, 1.0]]),
        "r_g": r,
        "sigma": sigma,
    }
    return Simulated(data, "y ~ x + (1 + x | g)", truth)
