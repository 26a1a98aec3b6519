"""Regenerate the figures and tables of docs/after-the-fit.md from real fits.

Fits lme4's sleepstudy (``Reaction ~ Days + (Days | Subject)``) and the Minnesota radon data
(``log_radon ~ floor * log_uranium + (1 | county)``) from ``../shared/data`` with NUTS (2 chains ×
500 draws, seeded), then writes each figure to ``docs/img/after-the-fit-*.png`` and each table into
the page between its ``<!-- table:NAME -->`` and ``<!-- /table:NAME -->`` markers.

Run from the repository root: ``OPENBLAS_NUM_THREADS=1 .venv/bin/python docs/img/make_after_the_fit.py``
(about a minute on two cores).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

import hiermod as hm

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
PAGE = ROOT / "docs" / "after-the-fit.md"
IMAGES = ROOT / "docs" / "img"
DPI = 90


def _fit(model: hm.Model) -> xr.DataTree:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a short run's sampler notes; the figures are the point
        return model.fit(draws=500, tune=500, chains=2, cores=1, random_seed=1, progressbar=False)


def _table(name: str, frame: pd.DataFrame, page: str) -> str:
    """``page`` with the text between the markers of ``name`` replaced by ``frame`` as text."""
    text = frame.to_string(index=False, float_format=lambda v: f"{v:.3g}")
    block = f"<!-- table:{name} -->\n```text\n{text}\n```\n<!-- /table:{name} -->"
    pattern = re.compile(rf"<!-- table:{name} -->.*?<!-- /table:{name} -->", re.DOTALL)
    if not pattern.search(page):
        raise SystemExit(f"{PAGE.name} has no markers for the table {name!r}")
    return pattern.sub(lambda _: block, page)


def _save(name: str, draw: Callable[[], object]) -> None:
    figure = draw()
    path = IMAGES / f"after-the-fit-{name}.png"
    figure.savefig(path, dpi=DPI)  # type: ignore[attr-defined]
    print(f"wrote {path.relative_to(ROOT)}")


def main() -> None:
    sleep_data = pd.read_csv(DATA / "sleepstudy.csv")
    sleep = hm.Model("Reaction ~ Days + (Days | Subject)", sleep_data)
    sleep_fit = _fit(sleep)
    radon_data = pd.read_csv(DATA / "radon.csv")
    radon = hm.Model("log_radon ~ floor * log_uranium + (1 | county)", radon_data)
    radon_fit = _fit(radon)
    page = PAGE.read_text(encoding="utf-8")

    days = sleep.conditional_effects(sleep_fit, "Days")
    page = _table("days", days.frame.iloc[::11], page)
    _save("days", lambda: days.plot(points=True))
    predictive = sleep.conditional_effects(sleep_fit, "Days", kind="response", random_seed=2)
    _save("days-response", lambda: predictive.plot(points=True))
    subjects = sleep.conditional_effects(
        sleep_fit, "Days", by="Subject", at={"Subject": [308, 309, 330, 337]}
    )
    _save("days-by-subject", lambda: subjects.plot(points=True))

    slopes = sleep.slopes(sleep_fit, "Days", by="Subject")
    page = _table("slopes", slopes.frame.head(4), page)
    _save("slopes", slopes.plot)
    population = sleep.slopes(sleep_fit, "Days", groups=False)
    page = _table("slope", population.frame, page)

    floor = radon.comparisons(radon_fit, "floor")
    page = _table("floor", floor.frame, page)
    grid = pd.DataFrame({"floor": 0, "log_uranium": np.linspace(-0.9, 0.5, 15)})
    by_uranium = radon.comparisons(radon_fit, "floor", by="log_uranium", data=grid)
    _save("floor-by-uranium", by_uranium.plot)
    means = radon.marginal_means(
        radon_fit, "floor", by="log_uranium", at={"log_uranium": [-0.5, 0.5]}
    )
    page = _table("means", means.frame, page)
    _save("means", means.plot)
    PAGE.write_text(page, encoding="utf-8")
    print(f"rewrote the tables of {PAGE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
