"""Draw docs/img/terms-smooth-mcycle.png: hiermod's fit of mcycle's ``accel ~ s(times); sigma ~
s(times)`` against brms's (benchmarks/reference/mcycle_brms/smooth_sigma_curve.csv).

The model and settings are those of ``tests/test_smooths.py::test_mcycle_curve_and_sds_agree_with_brms``
(4 chains x 500 draws, brms's prior of sigma's sds). Needs ../shared/data/mcycle.csv; a few minutes.

Run: ``.venv/bin/python tools/plot_smooth_mcycle.py [FIT.nc]`` (a saved fit of that model skips
the sampling).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

import hiermod as hm
from hiermod.warnings import SamplingWarning

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img" / "terms-smooth-mcycle.png"


def main(saved: str | None = None) -> None:
    data = pd.read_csv(ROOT.parent / "shared" / "data" / "mcycle.csv")
    brms = pd.read_csv(ROOT / "benchmarks" / "reference" / "mcycle_brms" / "smooth_sigma_curve.csv")
    priors = {"sigma_sds": "half_student_t(3, 35.6)"}
    m = hm.Model("accel ~ s(times); sigma ~ s(times)", data=data, priors=priors)
    if saved is not None:
        fit = xr.open_datatree(saved)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SamplingWarning)
            fit = m.fit(draws=500, tune=1000, chains=4, random_seed=1, progressbar=False,
                        target_accept=0.95)  # fmt: skip
    grid = pd.DataFrame({"times": brms["times"]})
    draws = np.asarray(m.predict(fit, data=grid, kind="mean")).reshape(-1, len(grid))
    low, high = np.quantile(draws, [0.05, 0.95], axis=0)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.scatter(data["times"], data["accel"], s=10, color="0.55", label="mcycle")
    ax.fill_between(brms["times"], brms["q05"], brms["q95"], color="tab:orange", alpha=0.25,
                    label="brms 2.18: 90% band")  # fmt: skip
    ax.plot(brms["times"], brms["mean"], color="tab:orange", lw=1.5, ls="--", label="brms mean")
    ax.fill_between(grid["times"], low, high, color="tab:blue", alpha=0.25, label="hiermod: 90%")
    ax.plot(grid["times"], draws.mean(axis=0), color="tab:blue", lw=1.5, label="hiermod mean")
    ax.set_xlabel("times (ms)")
    ax.set_ylabel("accel (g)")
    ax.set_title("accel ~ s(times); sigma ~ s(times)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT, dpi=110)
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
