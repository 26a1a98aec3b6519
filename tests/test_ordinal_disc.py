"""brms's discrimination ``disc`` of the ordinal families: 1 unless ``disc ~ …`` models it.

brms 2.18 (``make_stancode(bf(y ~ x, disc ~ x + (1 | g)), family = cumulative())``): disc enters
as ``F(disc * (thres - mu))``, its formula is on the log scale (``disc = exp(disc)``) with a free
intercept whose default prior is normal(0, 1). Checked here: the log probabilities with a per-row
disc against the NumPy oracle (brms's definitions, tests/family_oracles.py) for every family and
link; the compiled model against a hand-written PyMC model (logp and gradient); predictions;
the exported source; and that without a formula disc is no parameter at all.
"""

from __future__ import annotations

import functools

import family_oracles
import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import pytest
from support import assert_same_model, random_intercept_eta
from test_ordinal import FAMILIES, LINKS, PRIORS, _fake_fit, _probabilities, frame

import hiermod as hm
from hiermod.errors import PriorError
from hiermod.output import distributions
from hiermod.output.module import load_module

DISC_PRIORS = PRIORS | {"disc_b": "normal(0, 0.5)"}  # disc_Intercept keeps brms's normal(0, 1)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("link", LINKS)
def test_log_probabilities_with_disc_are_brms(family: str, link: str) -> None:
    rng = np.random.default_rng(5)
    eta = rng.normal(0.0, 2.0, 150)
    disc = np.exp(rng.normal(0.0, 0.7, 150))
    thresholds = np.sort(rng.normal(0.0, 1.5, 4))
    function = getattr(distributions, f"{family}_log_probs")
    ours = function(pt.as_tensor(eta), pt.as_tensor(thresholds), link, disc=pt.as_tensor(disc))
    expected = family_oracles.ordinal_log_probs(eta, thresholds, disc, link, family)
    np.testing.assert_allclose(ours.eval(), expected, rtol=1e-9, atol=1e-12)
    # disc multiplies every step: disc 1 is the model without it, and a larger disc is sharper
    plain = function(pt.as_tensor(eta), pt.as_tensor(thresholds), link).eval()
    ones = function(pt.as_tensor(eta), pt.as_tensor(thresholds), link, disc=pt.ones(150)).eval()
    np.testing.assert_allclose(ones, plain, rtol=1e-12)


@functools.cache
def disc_frame() -> pd.DataFrame:
    """test_ordinal's ratings with ``w = x / 3``, disc's predictor: at the random points of the
    comparison disc stays below ~8, so that the hand-written model's category probabilities
    (multiplied out, not on the log scale) do not underflow to 0 (log 0 = -inf)."""
    return frame().assign(w=frame()["x"] / 3.0)


@functools.cache
def compiled(family: str, link: str) -> hm.Model:
    return hm.Model(
        "rating ~ x + (1 | g)\ndisc ~ w",
        disc_frame(),
        family=family,
        link=link,
        priors=DISC_PRIORS,
        centered=False,
    )


def hand(family: str, link: str) -> pm.Model:
    d = disc_frame()
    coords = {
        "obs": np.arange(len(d)),
        "coef": ["x"],
        "disc_coef": ["w"],
        "g": sorted(d["g"].unique()),
        "rating_threshold": ["1|2", "2|3", "3|4"],
    }
    with pm.Model(coords=coords) as model:
        eta = random_intercept_eta(d, intercept_sd=None, sd_g=1.0)
        disc_X = pm.Data("disc_X", d[["w"]].to_numpy(), dims=("obs", "disc_coef"))
        disc_intercept = pm.Normal("disc_Intercept", 0.0, 1.0)  # brms's default
        disc_b = pm.Normal("disc_b", 0.0, 0.5, dims="disc_coef")
        disc = pt.exp(disc_intercept + disc_X @ disc_b)
        order = (
            {"transform": pm.distributions.transforms.ordered, "initval": [-1.0, 0.0, 1.0]}
            if family == "cumulative"
            else {}
        )
        tau = pm.StudentT("Intercept", nu=3, mu=0.0, sigma=2.5, dims="rating_threshold", **order)
        y = d["rating"].to_numpy() - 1
        p = _probabilities(family, link, eta, tau, disc)
        pm.Potential("loglik", pt.log(p[np.arange(len(y)), y]).sum())
    return model


DISC_CASES = [("cumulative", "logit"), ("cumulative", "cloglog"), ("sratio", "cauchit"),
              ("cratio", "probit"), ("acat", "logit")]  # fmt: skip


@pytest.mark.parametrize(("family", "link"), DISC_CASES)
def test_same_model_as_hand_written(family: str, link: str) -> None:
    # Random points at a third of the usual spread: disc multiplies every step, and where disc (tau -
    # eta) reaches ~40 the hand-written model's probabilities (not logs) underflow to 0; so does
    # pm.Categorical's softmax under FAST_COMPILE, which lacks the log-softmax rewrite of the
    # modes that sample (checked: cumulative cloglog -6999.68 there at a point where FAST_COMPILE
    # and the hand-written model give -inf). The tails themselves are checked by the oracle test.
    rtol = 1e-6 if link == "probit" else 1e-8
    ours, theirs = compiled(family, link).pymc, hand(family, link)
    assert_same_model(ours, theirs, n_points=3, rtol=rtol, scale=0.25)


def test_without_a_formula_disc_is_one_and_takes_no_prior() -> None:
    model = hm.Model("rating ~ x", frame(), family="cumulative")
    assert {v.name for v in model.pymc.free_RVs} == {"b", "Intercept"}
    assert 'cumulative_log_probs(eta, Intercept, link="logit")' in model.source()
    with pytest.raises(PriorError, match="disc is 1 in the cumulative family unless a formula"):
        hm.Model("rating ~ x", frame(), family="cumulative", priors={"disc": "gamma(2, 2)"})
    assert hm.families().loc["sratio", "parameters"] == "mu, disc (1 unless modelled)"
    table = hm.Model("rating ~ x\ndisc ~ x", frame(), family="acat").priors
    assert table.loc["disc_Intercept", "prior"] == "normal(0, 1)"


def test_predictions_use_each_rows_disc() -> None:
    model = compiled("sratio", "cauchit")
    fit = _fake_fit(model, seed=3)
    post = fit["posterior"]
    w = disc_frame()["w"].to_numpy()
    disc = np.exp(post["disc_Intercept"].values[..., None] + post["disc_b"].values[..., :1] * w)
    eta = model.predict(fit, kind="linear").values
    tau = post["Intercept"].values[:, :, None, :]
    expected = family_oracles.ordinal_log_probs(eta, tau, disc, "cauchit", "sratio")
    probs = model.predict(fit, kind="probs")
    np.testing.assert_allclose(probs.values, np.exp(expected), rtol=1e-9)
    mean = model.predict(fit, kind="mean").values
    np.testing.assert_allclose(mean, (np.exp(expected) * np.arange(1, 5)).sum(axis=-1), rtol=1e-9)


def test_exported_source_with_disc_builds_the_same_model() -> None:
    model = compiled("cratio", "probit")
    source = model.source()
    assert 'cratio_log_probs(eta, Intercept, link="probit", disc=disc)' in source
    assert "disc = pm.math.exp(log_disc)" in source
    standalone = load_module(source).build_model(disc_frame())
    point = model.pymc.initial_point()
    ours = model.pymc.compile_logp(mode="FAST_COMPILE")(point)
    assert standalone.compile_logp(mode="FAST_COMPILE")(point) == pytest.approx(ours, rel=1e-12)
