"""hiermod's gp() against brms on mcycle: the figure of docs/terms.md and the numbers it quotes.

Fits ``accel ~ gp(times, k = 20, c = 5/4)`` as the brms reference (4 chains of 1000 draws after
1000, target_accept 0.95, default priors; benchmarks/reference/mcycle_brms/, made by
benchmarks/reference/mcycle_brms.R), prints the posterior means next to brms's and how far the mean
curve lies from brms's at the 50 times, and draws docs/img/terms-gp-mcycle.png: the data, brms's
mean curve and 90% band, and hiermod's mean curve and 90% band.

Run: ``.venv/bin/python benchmarks/gp_mcycle.py`` (about 2 minutes on 2 cores).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

import hiermod as hm
from hiermod.warnings import SamplingWarning

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "benchmarks" / "reference" / "mcycle_brms"
SHARED = Path(os.environ.get("HIERMOD_SHARED_DATA", ROOT.parent / "shared" / "data"))


def main() -> None:
    data = pd.read_csv(SHARED / "mcycle.csv")
    curve = pd.read_csv(REFERENCE / "gp_curve.csv")
    summary = pd.read_csv(REFERENCE / "gp_summary.csv").set_index("parameter")
    m = hm.Model("accel ~ gp(times, k = 20, c = 5/4)", data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SamplingWarning)
        idata = m.fit(
            draws=1000, tune=1000, chains=4, random_seed=11, progressbar=False, target_accept=0.95
        )
    for warning in caught:
        print("warning:", str(warning.message).splitlines()[:2])
    post = idata.posterior
    names = {"b_Intercept": "Intercept", "sdgp_gptimes": "sdgp_gptimes"}
    names |= {"lscale_gptimes": "lscale_gptimes", "sigma": "sigma"}
    for theirs, ours in names.items():
        mean = float(post[ours].mean())
        print(f"{ours:16s} hiermod {mean:9.4f}  brms {summary.loc[theirs, 'mean']:9.4f}")
    mean = m.predict(idata, data=curve[["times"]], kind="mean")
    ours = mean.mean(("chain", "draw")).values
    low, high = (mean.quantile(q, ("chain", "draw")).values for q in (0.05, 0.95))
    inside = ((ours >= curve["q05"]) & (ours <= curve["q95"])).sum()
    gap = ((ours - curve["mean"]).abs() / curve["sd"]).max()
    print(f"mean curve inside brms's 90% band at {inside} of 50 times; largest gap {gap:.3f} sd")

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.scatter(data["times"], data["accel"], s=8, color="0.5", label="mcycle")
    ax.fill_between(curve["times"], curve["q05"], curve["q95"], color="C0", alpha=0.25,
                    label="brms 90%")  # fmt: skip
    ax.plot(curve["times"], curve["mean"], color="C0", label="brms mean")
    ax.plot(curve["times"], low, color="C1", ls=":", lw=1)
    ax.plot(curve["times"], high, color="C1", ls=":", lw=1, label="hiermod 90%")
    ax.plot(curve["times"], ours, color="C1", ls="--", label="hiermod mean")
    ax.set(xlabel="times (ms)", ylabel="accel (g)", title="accel ~ gp(times, k = 20, c = 5/4)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(ROOT / "docs" / "img" / "terms-gp-mcycle.png", dpi=110)


if __name__ == "__main__":
    main()
