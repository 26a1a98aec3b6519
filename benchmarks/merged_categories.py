"""One logp+gradient of the merged likelihood against the row-wise one, for the families of
categories (ordinal, categorical, multinomial; :mod:`hiermod.plan.merge`).

Realistic cases: ratings 1..5 of 20,000 survey rows with three categorical predictors and 30
interviewers; a choice among four brands of 10,000 rows; counts of three outcomes out of 6 trials
of 5,000 rows. Timed as :mod:`suffstats_rule` times (Numba, the sampler's mode, the fastest of 5
loops at the initial point, one BLAS thread).

Run: ``.venv/bin/python benchmarks/merged_categories.py`` (about 20 minutes on a shared 2-core machine: Numba compiles each model); prints a Markdown table.
"""

from __future__ import annotations

import os
import sys

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from suffstats_rule import microseconds_per_gradient  # noqa: E402

import hiermod as hm  # noqa: E402


def survey(rows: int, seed: int = 0) -> pd.DataFrame:
    """Three categorical predictors, 30 interviewers, ratings 1..5, a brand of 4, counts of 3."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.choice(["18-34", "35-54", "55+"], rows),
            "region": rng.choice(["north", "south", "east", "west"], rows),
            "sex": rng.choice(["f", "m"], rows),
            "interviewer": rng.choice([f"i{k:02d}" for k in range(30)], rows),
        }
    )
    effect = rng.normal(0, 0.4, 30)[frame.interviewer.str[1:].astype(int)]
    eta = 0.5 * (frame.age == "55+") - 0.4 * (frame.sex == "m") + effect
    latent = eta.to_numpy() + rng.logistic(size=rows)
    frame["rating"] = 1 + (latent[:, None] > np.array([-1.5, -0.5, 0.5, 1.5])).sum(axis=1)
    frame["brand"] = rng.choice(["A", "B", "C", "D"], rows, p=[0.4, 0.3, 0.2, 0.1])
    counts = rng.multinomial(6, [0.5, 0.3, 0.2], rows)
    frame["yes"], frame["no"], frame["unsure"] = counts.T
    return frame


CASES = [
    ("cumulative logit", "rating ~ age + region + sex + (1 | interviewer)", "cumulative", 20_000),
    ("acat probit, disc ~ sex", "rating ~ age + region + sex", "acat", 20_000),
    ("categorical", "brand ~ age + region + (1 | interviewer)", "categorical", 10_000),
    ("multinomial", "cbind(yes, no, unsure) ~ age + sex", "multinomial", 5_000),
]


def main() -> None:
    wanted = sys.argv[1:]  # labels' first words (cumulative, acat, categorical, multinomial)
    print("| model | rows | cells | merged µs | row-wise µs | speed-up |")
    print("|---|---|---|---|---|---|")
    for label, formula, family, rows in CASES:
        if wanted and label.split()[0] not in wanted:
            continue
        extra = {"link": "probit", "disc": "~ sex"} if family == "acat" else {}
        model = hm.Model(formula, survey(rows), family=family, **extra)
        merged = model.ir.merged
        assert merged is not None, label
        cells = len(merged.coords[merged.cell_dim])
        fast = microseconds_per_gradient(model.pymc)
        slow = microseconds_per_gradient(model.pymc_rows)
        print(f"| {label}: `{formula}` | {rows:,} | {cells:,} | {fast:,.0f} | {slow:,.0f} "
              f"| {slow / fast:.1f}× |")  # fmt: skip


if __name__ == "__main__":
    main()
