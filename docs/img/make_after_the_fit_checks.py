"""Draw the pictures of docs/after-the-fit.md (its sections Hypotheses, Model checking and Comparing models) and print the tables shown there.

    .venv/bin/python docs/img/make_after_the_fit_checks.py [DATA_DIR]

``DATA_DIR`` holds ``sleepstudy.csv`` and ``epilepsy_brms.csv`` (default: ``../shared/data`` beside
the checkout, where the test suite reads them). Three small NUTS fits (2 chains × 500 draws), then
``after-the-fit-pp-check.png``, ``after-the-fit-pp-check-counts.png`` and
``after-the-fit-compare.png`` are written next to this script; the printed tables are the ones the
page shows. About 25 seconds on two cores once PyTensor's compile cache is warm.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import arviz_plots as azp
import pandas as pd

import hiermod as hm
from hiermod.interpret.checks import compare
from hiermod.warnings import SamplingWarning

HERE = Path(__file__).resolve().parent
DATA = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / "shared" / "data"

Model = hm.Model


def _fit(model: hm.Model, seed: int) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)  # short chains, for pictures
        return model.fit(draws=500, tune=500, chains=2, random_seed=seed, progressbar=False)


def _show(title: str, value: object) -> None:
    print(f"\n## {title}\n")
    print(value.to_string() if isinstance(value, pd.DataFrame) else value)


def main() -> None:
    pd.set_option("display.width", 120)
    pd.set_option("display.precision", 3)
    sleep = pd.read_csv(DATA / "sleepstudy.csv")
    slopes = Model("Reaction ~ Days + (Days | Subject)", sleep)
    intercepts = Model("Reaction ~ Days + (1 | Subject)", sleep)
    fit = _fit(slopes, 1)
    fit0 = _fit(intercepts, 2)

    _show(
        "hypotheses",
        slopes.hypothesis(
            fit, ["Days > 8", "Intercept + Days * 5 = 300", "Days = 0"], random_seed=3
        ),
    )
    by_subject = slopes.hypothesis(fit, "Days > 8", group="Subject")
    _show("Days > 8 per subject (first five)", by_subject.head())
    _show("coef: Subject (first five)", slopes.coef(fit)["Subject"].head())
    _show("Bayes R2", slopes.bayes_r2(fit))
    _show("LOO", slopes.loo(fit))
    ranking = compare({"slopes": (slopes, fit), "intercepts": (intercepts, fit0)})
    _show("compare", ranking)

    figure = slopes.pp_check(fit, num_samples=50, random_seed=4)
    figure.set_size_inches(7, 3.2)
    figure.savefig(HERE / "after-the-fit-pp-check.png", dpi=110, bbox_inches="tight")

    collection = azp.plot_compare(ranking, backend="matplotlib")
    compared = collection.viz["figure"].item()
    compared.set_size_inches(7, 2.2)
    compared.savefig(HERE / "after-the-fit-compare.png", dpi=110, bbox_inches="tight")

    epilepsy = pd.read_csv(DATA / "epilepsy_brms.csv")
    counts = Model("count ~ zAge + zBase * Trt + (1 | patient)", epilepsy, family="poisson")
    fit_counts = _fit(counts, 5)
    figure = counts.pp_check(fit_counts, random_seed=6)
    axes = figure.axes[0]
    axes.set_xlim(-0.7, 40.7)  # a few counts above 40 (up to 102) would squeeze the bars
    figure.set_size_inches(7, 3.2)
    figure.savefig(HERE / "after-the-fit-pp-check-counts.png", dpi=110, bbox_inches="tight")
    _show("epilepsy: Bayes R2", counts.bayes_r2(fit_counts))


if __name__ == "__main__":
    main()
