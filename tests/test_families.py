"""The families beyond the classic eleven, against log densities written out by hand.

For every family here the compiled model of ``resp ~ x + (1 | g)`` (and, where it matters, a
formula for the family's own parameter, ``zi ~ x``) is compared with a hand-written PyMC model
whose likelihood is brms's density typed out in PyTensor from its Stan code — ``pm.Potential``
over ``log f(y | mu, …)``, not PyMC's class of that distribution — so the parameter mapping in
:mod:`hiermod.data.families` is checked, not repeated (same logp and gradient at random points).
Then: response checks name the column and a bad value; the exported source runs on a DataFrame;
predicted means equal the family's expectation computed here from the distributional parameters.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import family_oracles
import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import pytest
import xarray as xr
from support import assert_same_model, random_intercept_eta

import hiermod as hm
from hiermod.errors import DataError
from hiermod.output.module import load_module

Tensor = pt.TensorVariable
N_ROWS, GROUPS = 200, tuple(f"g{i}" for i in range(8))


@functools.cache
def frame() -> pd.DataFrame:
    """One response column of each kind, seeded; x drives every mean a little."""
    rng = np.random.default_rng(7)
    g = rng.integers(0, len(GROUPS), N_ROWS)
    x = rng.normal(size=N_ROWS)
    effect = rng.normal(0.0, 0.4, len(GROUPS))[g]
    rate = np.exp(0.6 + 0.4 * x + effect)
    p = 1.0 / (1.0 + np.exp(-(0.2 + 0.5 * x + effect)))
    ntr = rng.integers(1, 15, N_ROWS)
    extra_zero = rng.uniform(size=N_ROWS) < 0.25
    beta = rng.beta(4.0 * p + 0.5, 3.0)
    return pd.DataFrame(
        {
            "g": np.array(GROUPS)[g],
            "x": x,
            "y": 1.0 + x + effect + rng.gumbel(0.0, 1.0, N_ROWS),
            "cnt": np.where(extra_zero, 0, rng.poisson(rate)),
            "ntr": ntr,
            "succ": np.where(extra_zero, 0, rng.binomial(ntr, p)),
            "pos0": np.where(extra_zero, 0.0, rng.gamma(2.0, rate / 2.0)),
            "pos": rng.wald(rate, 4.0),
            "prop0": np.where(extra_zero, 0.0, np.clip(beta, 0.01, 0.99)),
            "prop01": np.where(
                extra_zero,
                (rng.uniform(size=N_ROWS) < 0.4).astype(float),
                np.clip(beta, 0.01, 0.99),
            ),
            "ang": rng.vonmises(0.4 * x, 3.0),
            "rt": 0.25 + rng.lognormal(-1.0 + 0.2 * x, 0.4),
        }
    )


# ---------------------------------------------------------------------------------------------------
# brms's densities, typed out (y is data, the rest PyTensor variables on their natural scales).


def _normal_lcdf(z: Tensor) -> Tensor:
    """log Phi(z), stable in both tails: through erfcx below -1 (log Phi ~ -z^2 / 2 there)."""
    left = np.log(0.5) + pt.log(pt.erfcx(-z / np.sqrt(2.0))) - z**2 / 2.0
    right = pt.log1p(-0.5 * pt.erfc(z / np.sqrt(2.0)))
    return pt.switch(pt.lt(z, -1.0), left, right)


def _lbeta(a: Tensor, b: Tensor) -> Tensor:
    return pt.gammaln(a) + pt.gammaln(b) - pt.gammaln(a + b)


def _poisson(y: np.ndarray, mu: Tensor) -> Tensor:
    return y * pt.log(mu) - mu - pt.gammaln(y + 1.0)


def _negbinomial(y: np.ndarray, mu: Tensor, alpha: Tensor) -> Tensor:
    """brms's neg_binomial_2: variance mu + mu^2 / alpha (hiermod's alpha is brms's shape)."""
    return (
        pt.gammaln(y + alpha)
        - pt.gammaln(alpha)
        - pt.gammaln(y + 1.0)
        + alpha * pt.log(alpha / (alpha + mu))
        + y * pt.log(mu / (alpha + mu))
    )


def _lchoose(n: np.ndarray, k: np.ndarray) -> Tensor:
    return pt.gammaln(n + 1.0) - pt.gammaln(k + 1.0) - pt.gammaln(n - k + 1.0)


def _binomial(y: np.ndarray, n: np.ndarray, p: Tensor) -> Tensor:
    return _lchoose(n, y) + y * pt.log(p) + (n - y) * pt.log1p(-p)


def _beta_binomial(y: np.ndarray, n: np.ndarray, mu: Tensor, phi: Tensor) -> Tensor:
    a, b = mu * phi, (1.0 - mu) * phi
    return _lchoose(n, y) + _lbeta(y + a, n - y + b) - _lbeta(a, b)


def _beta(y: np.ndarray, mu: Tensor, phi: Tensor) -> Tensor:
    a, b = mu * phi, (1.0 - mu) * phi
    return (a - 1.0) * pt.log(y) + (b - 1.0) * pt.log1p(-y) - _lbeta(a, b)


def _gamma(y: np.ndarray, mu: Tensor, shape: Tensor) -> Tensor:
    rate = shape / mu
    return shape * pt.log(rate) + (shape - 1.0) * pt.log(y) - rate * y - pt.gammaln(shape)


def _lognormal(y: np.ndarray, mu: Tensor, sigma: Tensor) -> Tensor:
    z = (np.log(y) - mu) / sigma
    return -0.5 * z**2 - pt.log(sigma) - 0.5 * np.log(2.0 * np.pi) - np.log(y)


def _zero_inflated(y: np.ndarray, zi: Tensor, zero: Tensor, rest: Tensor) -> Tensor:
    """An extra zero with probability zi: log(zi + (1 - zi) f(0)) at 0, log(1 - zi) + log f(y) else."""
    return pt.switch(pt.eq(y, 0), pt.log(zi + (1.0 - zi) * pt.exp(zero)), pt.log1p(-zi) + rest)


def _hurdle(y: np.ndarray, hu: Tensor, rest: Tensor, zero: Tensor | None = None) -> Tensor:
    """A zero with probability hu, else f(y) truncated at 0 (divided by 1 - f(0), if discrete)."""
    above = pt.log1p(-hu) + rest - (pt.log1p(-pt.exp(zero)) if zero is not None else 0.0)
    return pt.switch(pt.eq(y, 0), pt.log(hu), above)


def _safe(y: np.ndarray, *bad: float) -> np.ndarray:
    """``y`` with the values where a branch is not used replaced by 0.5 (no NaN in the gradient)."""
    return np.where(np.isin(y, bad), 0.5, y)


def _skew_normal(y: np.ndarray, mu: Tensor, sigma: Tensor, alpha: Tensor) -> Tensor:
    # brms: mu the mean, sigma the sd; delta = alpha / sqrt(1 + alpha^2),
    # omega = sigma / sqrt(1 - 2 delta^2 / pi), xi = mu - omega delta sqrt(2 / pi).
    delta = alpha / pt.sqrt(1.0 + alpha**2)
    omega = sigma / pt.sqrt(1.0 - 2.0 / np.pi * delta**2)
    xi = mu - omega * delta * np.sqrt(2.0 / np.pi)
    z = (y - xi) / omega
    return (
        np.log(2.0) - 0.5 * z**2 - 0.5 * np.log(2 * np.pi) - pt.log(omega) + _normal_lcdf(alpha * z)
    )


def _exgaussian(y: np.ndarray, mu: Tensor, sigma: Tensor, beta: Tensor) -> Tensor:
    # Stan's exp_mod_normal(y | mu - beta, sigma, lambda = 1 / beta)
    lam, m = 1.0 / beta, mu - beta
    return (
        pt.log(lam)
        + lam * (m + 0.5 * lam * sigma**2 - y)
        + _normal_lcdf((y - m - lam * sigma**2) / sigma)
    )


def _asym_laplace(y: np.ndarray, mu: Tensor, sigma: Tensor, quantile: Tensor) -> Tensor:
    q = quantile
    below = (y < mu) * 1.0
    return pt.log(q * (1.0 - q)) - pt.log(sigma) - (y - mu) / sigma * (q - below)


def _wald(y: np.ndarray, mu: Tensor, shape: Tensor) -> Tensor:
    return 0.5 * pt.log(shape / (2.0 * np.pi * y**3)) - shape * (y - mu) ** 2 / (2.0 * mu**2 * y)


def _von_mises(y: np.ndarray, mu: Tensor, kappa: Tensor) -> Tensor:
    return kappa * pt.cos(y - mu) - np.log(2.0 * np.pi) - pt.log(pt.i0(kappa))


# ---------------------------------------------------------------------------------------------------
# Cases: formula, priors for every parameter, and the hand-written likelihood.

PRIORS = {"Intercept": "normal(0, 2)", "b": "normal(0, 1)", "sd": "half_normal(0.8)"}


@dataclass(frozen=True)
class Case:
    family: str
    response: str  # the column; "succ" gets "| trials(ntr)"
    aux: dict[str, str]  # each auxiliary parameter's prior (as hiermod and by hand)
    likelihood: Callable[..., Tensor]  # (y, mu, **aux, [trials]) -> elementwise log density
    link: str = "log"  # of mu, for the hand-written inverse link
    dpar_formula: str | None = None  # e.g. "zi ~ x": that parameter gets Intercept + x
    extra: dict[str, str] = field(default_factory=dict)  # priors of the dpar formula's terms

    @property
    def id(self) -> str:
        return self.family + (f" + {self.dpar_formula}" if self.dpar_formula else "")

    @property
    def formula(self) -> str:
        lhs = "succ | trials(ntr)" if self.response == "succ" else self.response
        text = f"{lhs} ~ x + (1 | g)"
        return text + (f"\n{self.dpar_formula}" if self.dpar_formula else "")


INVERSE = {
    "log": pt.exp,
    "logit": pt.sigmoid,
    "identity": lambda eta: eta,
    "tan_half": lambda eta: 2.0 * pt.arctan(eta),
}
ZI_BETA, PHI = {"zi": "beta(2, 5)"}, {"phi": "gamma(2, 0.2)"}
ZI_X = {"zi_Intercept": "logistic(0, 1)", "zi_b": "normal(0, 1)"}


def _zip(y, mu, zi):
    return _zero_inflated(y, zi, _poisson(0.0, mu), _poisson(y, mu))


def _zinb(y, mu, alpha, zi):
    return _zero_inflated(y, zi, _negbinomial(0.0, mu, alpha), _negbinomial(y, mu, alpha))


def _zib(y, mu, zi, trials):
    return _zero_inflated(y, zi, _binomial(0.0, trials, mu), _binomial(y, trials, mu))


def _zibb(y, mu, phi, zi, trials):
    zero = _beta_binomial(0.0, trials, mu, phi)
    return _zero_inflated(y, zi, zero, _beta_binomial(y, trials, mu, phi))


def _hurdle_poisson(y, mu, hu):
    return _hurdle(y, hu, _poisson(y, mu), _poisson(0.0, mu))


def _hurdle_nb(y, mu, alpha, hu):
    return _hurdle(y, hu, _negbinomial(y, mu, alpha), _negbinomial(0.0, mu, alpha))


def _zero_inflated_beta(y, mu, phi, zi):
    return pt.switch(pt.eq(y, 0), pt.log(zi), pt.log1p(-zi) + _beta(_safe(y, 0.0), mu, phi))


def _zoib(y, mu, phi, zoi, coi):
    ends = pt.log(zoi) + pt.switch(pt.eq(y, 1), pt.log(coi), pt.log1p(-coi))
    inside = pt.log1p(-zoi) + _beta(_safe(y, 0.0, 1.0), mu, phi)
    return pt.switch(pt.eq(y, 0) | pt.eq(y, 1), ends, inside)


CASES = [
    Case("zero_inflated_poisson", "cnt", ZI_BETA, _zip),
    Case("zero_inflated_poisson", "cnt", {}, _zip, dpar_formula="zi ~ x", extra=ZI_X),
    Case("zero_inflated_negbinomial", "cnt", {"alpha": "gamma(2, 0.5)", **ZI_BETA}, _zinb),
    Case("zero_inflated_binomial", "succ", ZI_BETA, _zib, link="logit"),
    Case("zero_inflated_beta_binomial", "succ", {**PHI, **ZI_BETA}, _zibb, link="logit"),
    Case("beta_binomial", "succ", PHI, lambda y, mu, phi, trials: _beta_binomial(y, trials, mu, phi),
         link="logit"),
    Case("geometric", "cnt", {}, lambda y, mu: _negbinomial(y, mu, 1.0)),
    Case("hurdle_poisson", "cnt", {"hu": "beta(2, 5)"}, _hurdle_poisson),
    Case("hurdle_poisson", "cnt", {}, _hurdle_poisson, dpar_formula="hu ~ x",
         extra={"hu_Intercept": "logistic(0, 1)", "hu_b": "normal(0, 1)"}),
    Case("hurdle_negbinomial", "cnt", {"alpha": "gamma(2, 0.5)", "hu": "beta(2, 5)"}, _hurdle_nb),
    Case("hurdle_gamma", "pos0", {"alpha": "gamma(2, 0.5)", "hu": "beta(2, 5)"},
         lambda y, mu, alpha, hu: _hurdle(y, hu, _gamma(_safe(y, 0.0), mu, alpha))),
    Case("hurdle_lognormal", "pos0", {"sigma": "half_normal(1)", "hu": "beta(2, 5)"},
         lambda y, mu, sigma, hu: _hurdle(y, hu, _lognormal(_safe(y, 0.0), mu, sigma)),
         link="identity"),
    Case("zero_inflated_beta", "prop0", {**PHI, **ZI_BETA}, _zero_inflated_beta, link="logit"),
    Case("zero_inflated_beta", "prop0", PHI, _zero_inflated_beta, link="logit",
         dpar_formula="zi ~ x", extra=ZI_X),
    Case("zero_one_inflated_beta", "prop01", {**PHI, "zoi": "beta(2, 5)", "coi": "beta(2, 2)"},
         _zoib, link="logit"),
    Case("skew_normal", "y", {"sigma": "half_normal(2)", "alpha": "normal(0, 4)"}, _skew_normal,
         link="identity"),
    Case("skew_normal", "y", {"sigma": "half_normal(2)"}, _skew_normal, link="identity",
         dpar_formula="alpha ~ x", extra={"alpha_Intercept": "normal(0, 2)", "alpha_b": "normal(0, 1)"}),
    Case("exgaussian", "y", {"sigma": "half_normal(2)", "beta": "half_normal(2)"}, _exgaussian,
         link="identity"),
    Case("asym_laplace", "y", {"sigma": "half_normal(2)", "quantile": "beta(2, 2)"}, _asym_laplace,
         link="identity"),
    Case("laplace", "y", {"sigma": "half_normal(2)"},
         lambda y, mu, sigma: -np.log(2.0) - pt.log(sigma) - pt.abs(y - mu) / sigma, link="identity"),
    Case("wald", "pos", {"shape": "gamma(2, 0.5)"}, _wald),
    Case("von_mises", "ang", {"kappa": "gamma(2, 0.5)"}, _von_mises, link="tan_half"),
    Case("shifted_lognormal", "rt", {"sigma": "half_normal(1)", "ndt": "uniform(0, 0.2)"},
         lambda y, mu, sigma, ndt: _lognormal(y - ndt, mu, sigma), link="identity"),
]  # fmt: skip
BY_ID = {case.id: case for case in CASES}
HAND_FAMILIES = {case.family for case in CASES}  # tests/test_compile.py checks the union


@functools.cache
def compiled(case_id: str) -> hm.Model:
    case = BY_ID[case_id]
    priors = PRIORS | case.aux | case.extra
    return hm.Model(case.formula, frame(), family=case.family, priors=priors, centered=False)


def _prior(name: str, text: str, **kwargs: object) -> Tensor:
    """A PyMC variable with the prior ``text`` (``"gamma(2, 0.5)"``), written out per kind here."""
    dist, args = text.split("(", 1)
    values = [float(a) for a in args.rstrip(")").split(",")]
    made = {
        "normal": lambda: pm.Normal(name, *values, **kwargs),
        "half_normal": lambda: pm.HalfNormal(name, values[0], **kwargs),
        "gamma": lambda: pm.Gamma(name, alpha=values[0], beta=values[1], **kwargs),
        "beta": lambda: pm.Beta(name, alpha=values[0], beta=values[1], **kwargs),
        "logistic": lambda: pm.Logistic(name, mu=values[0], s=values[1], **kwargs),
        "uniform": lambda: pm.Uniform(name, lower=values[0], upper=values[1], **kwargs),
    }
    return made[dist]()


@functools.cache
def hand(case_id: str) -> pm.Model:
    """``resp ~ x + (1 | g)`` non-centred with PRIORS, the family's parameters, brms's density."""
    case = BY_ID[case_id]
    d = frame()
    levels = sorted(d["g"].unique())
    y = d[case.response].to_numpy(dtype=float)
    coords = {"obs": np.arange(len(d)), "coef": ["x"], "g": list(levels)}
    dpar = case.dpar_formula.split("~")[0].strip() if case.dpar_formula else None
    if dpar:
        coords[f"{dpar}_coef"] = ["x"]
    with pm.Model(coords=coords) as model:
        mu = INVERSE[case.link](random_intercept_eta(d, intercept_sd=2.0, sd_g=0.8))
        values = {name: _prior(name, text) for name, text in case.aux.items()}
        if dpar:
            Xd = pm.Data(f"{dpar}_X", d[["x"]].to_numpy(), dims=("obs", f"{dpar}_coef"))
            eta = _prior(f"{dpar}_Intercept", case.extra[f"{dpar}_Intercept"])
            eta = eta + Xd @ _prior(f"{dpar}_b", case.extra[f"{dpar}_b"], dims=f"{dpar}_coef")
            link = "identity" if dpar == "alpha" else "logit" if dpar in ("zi", "hu") else "log"
            values[dpar] = INVERSE[link](eta)
        trials = {"trials": d["ntr"].to_numpy(dtype=float)} if case.response == "succ" else {}
        pm.Potential("loglik", case.likelihood(y, mu, **values, **trials).sum())
    return model


@pytest.mark.parametrize("case_id", list(BY_ID))
def test_same_model_as_brms_density_by_hand(case_id: str) -> None:
    assert_same_model(compiled(case_id).pymc, hand(case_id), n_points=3, rtol=1e-8)


def test_the_table_holds_every_family_beyond_the_classic_ones() -> None:
    from test_categorical import FAMILIES as CATEGORICAL
    from test_multinomial import FAMILIES as COLUMNS
    from test_ordinal import CASES as ORDINAL_CASES

    from hiermod.data.families import FAMILIES
    from hiermod.data.families.classic import CLASSIC

    ordinal = {family for family, _ in ORDINAL_CASES}
    beyond = HAND_FAMILIES | ordinal | set(CATEGORICAL) | set(COLUMNS)
    assert set(FAMILIES) - {f.name for f in CLASSIC} == beyond
    assert len(FAMILIES) >= 37


# ---------------------------------------------------------------------------------------------------
# Response checks.

BAD_RESPONSES = [
    ("zero_inflated_poisson", "cnt", -1, "negative values"),
    ("zero_inflated_poisson", "cnt", 2.5, "non-integer"),
    ("hurdle_negbinomial", "cnt", -3, "negative values"),
    ("beta_binomial", "succ", 99, "more successes than trials"),
    ("hurdle_gamma", "pos0", -0.1, "must be non-negative"),
    ("wald", "pos", 0.0, "must be positive"),
    ("zero_inflated_beta", "prop0", 1.0, r"must lie in \[0, 1\)"),
    ("zero_one_inflated_beta", "prop01", 1.5, r"must lie in \[0, 1\]"),
    ("von_mises", "ang", 4.0, "angle in radians"),
    ("shifted_lognormal", "rt", -1.0, "must be positive"),
]


@pytest.mark.parametrize(("family", "column", "value", "message"), BAD_RESPONSES)
def test_a_response_outside_the_support_is_refused_naming_it(
    family: str, column: str, value: float, message: str
) -> None:
    data = frame().copy()
    data[column] = data[column].astype(float)
    data.loc[3, column] = value
    lhs = "succ | trials(ntr)" if column == "succ" else column
    pattern = rf"response {column!r} .*{message}.* family \(e\.g\. {float(value)!r}\)"
    with pytest.raises(DataError, match=pattern):
        hm.Model(f"{lhs} ~ x", data, family=family)


def test_trials_are_required_and_refused_where_they_belong() -> None:
    with pytest.raises(DataError, match="the beta_binomial family needs the number of trials"):
        hm.Model("succ ~ x", frame(), family="beta_binomial")
    with pytest.raises(DataError, match="only used by the binomial family"):
        hm.Model("cnt | trials(ntr) ~ x", frame(), family="zero_inflated_poisson")


def test_a_probability_parameter_takes_a_probability_prior() -> None:
    with pytest.raises(hm.HiermodError, match="zi is a probability"):
        hm.Model("cnt ~ x", frame(), family="zero_inflated_poisson", priors={"zi": "normal(0, 1)"})


def test_default_priors_are_brms() -> None:
    priors = hm.Model("cnt ~ x\nzi ~ x", frame(), family="zero_inflated_poisson").priors["prior"]
    assert priors["zi_Intercept"] == "logistic(0, 1)"
    assert (
        hm.Model("cnt ~ x", frame(), family="hurdle_poisson").priors["prior"]["hu"] == "beta(1, 1)"
    )
    model = hm.Model("rt ~ x", frame(), family="shifted_lognormal")
    lower, upper = model.pymc["ndt"].owner.op.dist_params(model.pymc["ndt"].owner)
    smallest = frame()["rt"].min()  # brms: uniform(0, min_Y), here rounded down to 4 digits
    assert lower.eval() == 0.0
    assert smallest - 1e-4 < upper.eval() <= smallest


# ---------------------------------------------------------------------------------------------------
# The exported source, and predicted means.


@pytest.mark.parametrize("case_id", ["zero_inflated_beta + zi ~ x", "shifted_lognormal",
                                     "zero_inflated_beta_binomial", "hurdle_poisson"])  # fmt: skip
def test_exported_source_builds_the_same_model_from_a_dataframe(case_id: str) -> None:
    model = compiled(case_id)
    module = load_module(model.source())
    standalone = module.build_model(frame())
    point = model.pymc.initial_point()
    ours = model.pymc.compile_logp(mode="FAST_COMPILE")(point)
    assert standalone.compile_logp(mode="FAST_COMPILE")(point) == pytest.approx(ours, rel=1e-12)


# hiermod's names of the parameters brms names otherwise (the oracles take brms's names).
BRMS_NAMES = {"alpha": "shape"}
WITH_TRIALS = {"beta_binomial", "zero_inflated_binomial", "zero_inflated_beta_binomial"}


def _brms(family: str, values: dict[str, np.ndarray]) -> tuple[str, dict[str, np.ndarray]]:
    """brms's family and parameters for hiermod's: laplace(mu, sigma) is brms's asym_laplace with
    quantile 0.5 and scale sigma / 2 (rates 1 / sigma on both sides)."""
    if family == "laplace":
        return "asym_laplace", {"mu": values["mu"], "sigma": values["sigma"] / 2.0, "quantile": 0.5}
    keep = family == "skew_normal"  # its alpha is brms's alpha
    return family, {(k if keep else BRMS_NAMES.get(k, k)): v for k, v in values.items()}


@pytest.mark.parametrize("case_id", [c.id for c in CASES if c.dpar_formula is None])
def test_hand_written_density_is_the_oracle(case_id: str) -> None:
    """The densities typed out above equal the oracles' (NumPy/SciPy, checked against SciPy's
    distributions in tests/test_family_oracles.py) at random parameter values."""
    case = BY_ID[case_id]
    rng = np.random.default_rng(5)
    d = frame()
    y = d[case.response].to_numpy(dtype=float)
    eta = rng.normal(0.0, 0.6, y.size)
    values = {"mu": np.asarray(INVERSE[case.link](pt.as_tensor(eta)).eval(), dtype=float)}
    for name in case.aux:
        values[name] = {"quantile": 0.3, "zi": 0.2, "hu": 0.3, "zoi": 0.15, "coi": 0.4,
                        "alpha": 1.7, "ndt": 0.1}.get(name, 1.3)  # fmt: skip
        values[name] = np.float64(values[name])  # a Python float may become a float32 constant
    if case.family == "skew_normal":
        values["alpha"] = np.float64(-2.0)
    trials = {"trials": d["ntr"].to_numpy(dtype=float)} if case.response == "succ" else {}
    ours = case.likelihood(y, **values, **trials).eval()
    family, renamed = _brms(case.family, values)
    expected = family_oracles.ORACLES[family](y, **renamed, **trials)
    np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12)


def _expected(family: str, p: dict[str, np.ndarray], trials: np.ndarray) -> np.ndarray:
    """E[y] as brms's posterior_epred gives it: the oracles' EXPECTATIONS."""
    name, renamed = _brms(family, p)
    extra = {"trials": trials} if family in WITH_TRIALS else {}
    return family_oracles.EXPECTATIONS[name](**renamed, **extra)


def _fake_fit(model: hm.Model, seed: int, draws: int = 2) -> xr.DataTree:
    """A posterior of 1 chain x ``draws`` draws at random points of the unconstrained space."""
    rng = np.random.default_rng(seed)
    pm_model = model.pymc
    free = {rv.name for rv in pm_model.free_RVs}
    outputs = [v for v in pm_model.unobserved_value_vars if v.name in free]
    values = pm_model.compile_fn(outputs, inputs=pm_model.value_vars, mode="FAST_COMPILE")
    start = pm_model.initial_point()
    points = [
        values({k: rng.normal(0, 0.5, np.shape(v)) for k, v in start.items()}) for _ in range(draws)
    ]
    posterior = {}
    for i, variable in enumerate(outputs):
        stacked = np.stack([point[i] for point in points])[None]
        dims = ("chain", "draw", *(f"{variable.name}_dim_{k}" for k in range(stacked.ndim - 2)))
        posterior[variable.name] = xr.DataArray(stacked, dims=dims)
    return xr.DataTree.from_dict({"posterior": xr.Dataset(posterior)})


@pytest.mark.parametrize("case_id", list(BY_ID))
def test_predicted_mean_is_the_family_expectation(case_id: str) -> None:
    case = BY_ID[case_id]
    model = compiled(case_id)
    fit = _fake_fit(model, seed=3)
    mean = model.predict(fit, kind="mean").values
    parameters = hm.model.distributional_parameters(model, fit)
    p = {name: value.values for name, value in parameters.items()}
    expected = _expected(case.family, p, frame()["ntr"].to_numpy(dtype=float))
    np.testing.assert_allclose(mean, expected, rtol=1e-9)


def test_docs_table_lists_every_family() -> None:
    """docs/families.md's table is the family entries' (tools/update_docs_families.py writes it)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    from update_docs_families import PAGE, updated

    page = PAGE.read_text(encoding="utf-8")
    assert updated(page) == page, "run .venv/bin/python tools/update_docs_families.py"
    assert all(f"| `{name}` |" in page for name in hm.families().index)


def test_an_intercept_only_model_predicts_one_value_per_row() -> None:
    """``y ~ 1`` has no term that varies by row: its stored mu is still one value per row."""
    model = hm.Model("y ~ 1", frame())
    fit = _fake_fit(model, seed=1)
    mean = model.predict(fit, kind="mean")
    assert mean.shape == (1, 2, N_ROWS)
    np.testing.assert_allclose(
        mean.values, fit["posterior"]["Intercept"].values[:, :, None] + 0 * mean.values
    )
