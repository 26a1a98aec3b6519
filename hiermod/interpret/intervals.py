"""Posterior intervals of the interpretation tables: equal-tailed, ``prob`` wide, named by it.

Every table of :mod:`hiermod.interpret` summarises draws the same way: ``estimate`` is the posterior
mean and ``lower_<p>`` / ``upper_<p>`` are the equal-tailed interval holding ``prob`` of the draws
(the ``(1 - prob) / 2`` and ``(1 + prob) / 2`` quantiles, as brms's ``Q2.5`` / ``Q97.5``). The
default ``prob`` is 0.95, brms's; the headers say it: ``prob=0.9`` gives ``lower_90``, ``upper_90``;
``prob=0.975`` gives ``lower_97.5``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hiermod.arguments import check_probability

__all__ = ["DEFAULT_PROB", "check_prob", "interval_names", "summarise"]

DEFAULT_PROB = 0.95


def check_prob(prob: float) -> float:
    """``prob`` as a float strictly between 0 and 1, or an ``OptionError`` (a ``ValueError``)."""
    return check_probability("prob", prob)


def interval_names(prob: float) -> tuple[str, str]:
    """The column names of the ``prob`` interval: 0.95 gives ``("lower_95", "upper_95")``."""
    percent = f"{round(100 * check_prob(prob), 6):g}"
    return f"lower_{percent}", f"upper_{percent}"


def summarise(draws: np.ndarray, prob: float) -> pd.DataFrame:
    """One row per column of ``draws`` (chain, draw, k): ``estimate`` and the ``prob`` interval."""
    flat = np.asarray(draws, dtype=float).reshape(-1, draws.shape[-1])
    lower, upper = interval_names(prob)
    tail = (1.0 - check_prob(prob)) / 2.0
    low, high = np.quantile(flat, [tail, 1.0 - tail], axis=0)
    return pd.DataFrame({"estimate": flat.mean(axis=0), lower: low, upper: high})
