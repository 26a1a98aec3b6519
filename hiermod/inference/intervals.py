"""Posterior intervals: equal-tailed, ``prob`` wide and named by it — the one rule of every table.

The lme4-style tables (:mod:`hiermod.inference.summaries`) and the interpretation tables
(:mod:`hiermod.interpret`) summarise draws the same way: the interval holding ``prob`` of the draws
runs from the ``(1 - prob) / 2`` to the ``(1 + prob) / 2`` quantile (as brms's ``Q2.5`` /
``Q97.5``), in the columns ``lower_<p>`` / ``upper_<p>`` with ``p`` the percentage. The default
``prob`` is 0.95, brms's; the headers say it: ``prob=0.9`` gives ``lower_90``, ``upper_90`` and
"90% interval"; ``prob=0.975`` gives ``lower_97.5``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hiermod.arguments import check_probability

__all__ = [
    "DEFAULT_PROB",
    "check_prob",
    "interval_label",
    "interval_names",
    "percent",
    "quantiles",
    "summarise",
]

DEFAULT_PROB = 0.95


def check_prob(prob: object) -> float:
    """``prob`` as a float strictly between 0 and 1, or an ``OptionError`` (a ``ValueError``)."""
    return check_probability("prob", prob)


def percent(prob: object) -> str:
    """``prob`` as the percentage the headers show: 0.95 gives ``"95"``, 0.975 ``"97.5"``."""
    return f"{round(100 * check_prob(prob), 6):g}"


def interval_names(prob: object) -> tuple[str, str]:
    """The column names of the ``prob`` interval: 0.95 gives ``("lower_95", "upper_95")``."""
    p = percent(prob)
    return f"lower_{p}", f"upper_{p}"


def interval_label(prob: object) -> str:
    """The interval as a header says it: 0.95 gives ``"95% interval"``."""
    return f"{percent(prob)}% interval"


def quantiles(flat: np.ndarray, prob: object) -> tuple[np.ndarray, np.ndarray]:
    """The lower and upper ends of the ``prob`` interval of ``flat`` (draws, k), per column:
    ``prob=0.8`` gives the 10% and 90% quantiles."""
    tail = (1.0 - check_prob(prob)) / 2.0
    low, high = np.quantile(np.asarray(flat, dtype=float), [tail, 1.0 - tail], axis=0)
    return low, high


def summarise(draws: np.ndarray, prob: object) -> pd.DataFrame:
    """One row per column of ``draws`` (chain, draw, k): ``estimate`` and the ``prob`` interval."""
    flat = np.asarray(draws, dtype=float).reshape(-1, draws.shape[-1])
    lower, upper = interval_names(prob)
    low, high = quantiles(flat, prob)
    return pd.DataFrame({"estimate": flat.mean(axis=0), lower: low, upper: high})
