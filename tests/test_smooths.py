"""Smooths ``s(x)``: the formula, the basis (against formulae and mgcv), the model against a
hand-written PyMC model, prediction at new x, the exported source, and what is refused.

The hand-written models build the basis with formulae's splines and their ``to_random()``
directly. ``cr`` and ``cc``: the penalised columns scaled by mgcv's ``scale.penalty`` rule,
computed here: ``sqrt(norm(S, "O") / norm(X, "I")^2)`` of the unconstrained basis ``X`` and its
penalty ``S``. ``tp``: hiermod builds mgcv's own parameterisation (checked against mgcv's columns
below), another rotation and scale of formulae's; formulae's columns are mapped onto hiermod's by
least squares on the training x (:func:`_tp_map`, which checks they span the same space).
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr
from formulae.transforms import CyclicCubicSpline, NaturalCubicSpline, ThinPlateRegressionSpline
from support import assert_same_model

import hiermod as hm
from hiermod.errors import DataError, FormulaError, HiermodError
from hiermod.output.module import load_module
from hiermod.warnings import SamplingWarning

REFERENCE = Path(__file__).resolve().parents[1] / "benchmarks" / "reference" / "mgcv_smooth"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "mcycle.csv"


@functools.cache
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(515)
    n = 150
    x = rng.uniform(0.0, 10.0, n)
    x2 = rng.normal(0.0, 1.0, n)
    y = np.sin(x) + 0.5 * x2**2 + rng.normal(0.0, 0.3 + 0.05 * x, n)
    return pd.DataFrame({"x": x, "x2": x2, "y": y, "g": rng.choice(["a", "b", "c"], n)})


@functools.cache
def mcycle() -> pd.DataFrame:
    if not SHARED.exists():  # pragma: no cover - the shared data sit beside the repository
        pytest.skip("shared/data/mcycle.csv is not beside the repository")
    return pd.read_csv(SHARED)


def _spline(x: np.ndarray, bs: str, k: int) -> tuple[object, int, float]:
    """formulae's fitted spline of s(x, bs, k), its unpenalised columns and mgcv's factor."""
    if bs == "tp":
        spline, raw = ThinPlateRegressionSpline(), ThinPlateRegressionSpline()
        spline(x, df=k - 1)
        basis = raw(x, df=k, center=False)
    elif bs == "cr":
        spline, raw = NaturalCubicSpline(), NaturalCubicSpline()
        spline(x, df=k - 1)
        basis = raw(x, df=k, center=False)
    else:
        lo, period = float(x.min()), float(np.ptp(x))
        # mgcv's place.knots: quantiles of the distinct values (formulae's, of the values wrapped
        # into the cycle, are not mgcv's)
        knots = np.quantile(np.unique(x), np.linspace(0.0, 1.0, k))[1:-1]
        spline, raw = CyclicCubicSpline(), CyclicCubicSpline()
        spline(x, period=period, knots=knots, lower_bound=lo)
        basis = raw(x, period=period, knots=knots, lower_bound=lo, center=False)
    penalty = raw.penalty_matrix
    scale = np.abs(penalty).sum(axis=0).max() / np.abs(basis).sum(axis=1).max() ** 2
    return spline, spline.null_space_dimension, float(np.sqrt(scale))


@functools.cache
def _tp_map(x: tuple[float, ...], k: int) -> np.ndarray:
    """The matrix taking formulae's tp mixed-model columns of s(x, k) to hiermod's: a scalar on
    the linear column and a scaled rotation of the penalised ones (same penalty up to a factor)."""
    values = np.asarray(x)
    spline, fixed, _ = _spline(values, "tp", k)
    theirs = spline.to_random(None)  # type: ignore[attr-defined]
    m = hm.Model(f"y ~ s(x, k={k})", data=pd.DataFrame({"x": values, "y": 0.0}))
    ours = np.column_stack([m.ir.data_values["X"], m.ir.data_values["Zs_sx_1"]])
    coef, *_ = np.linalg.lstsq(theirs, ours, rcond=None)
    assert np.abs(theirs @ coef - ours).max() < 1e-8 * np.abs(ours).max()
    np.testing.assert_allclose(coef[:fixed, fixed:], 0.0, atol=1e-8)
    singular = np.linalg.svd(coef[fixed:, fixed:], compute_uv=False)
    np.testing.assert_allclose(singular, singular[0], rtol=1e-8)
    return np.asarray(coef)


def _scaled(x: np.ndarray, bs: str, k: int, at: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """formulae's mixed-model columns of s(x, bs, k) at ``at`` (default: x), on mgcv's scale
    (tp: in hiermod's rotation too), and the number of unpenalised columns."""
    spline, fixed, factor = _spline(x, bs, k)
    columns = spline.to_random(None if at is None else spline.eval(at))  # type: ignore[attr-defined]
    if bs == "tp":
        return columns @ _tp_map(tuple(x), k), fixed
    columns[:, fixed:] *= factor
    return columns, fixed


# ---------------------------------------------------------------------------------------------------
# The formula.

ROUND_TRIPS = [
    ("y ~ s(x)", "y ~ 1 + s(x)"),
    ("y ~ s(x, k = 5)", "y ~ 1 + s(x, k=5)"),
    ('y ~ s(x, bs = "cr")', 'y ~ 1 + s(x, bs="cr")'),
    ('y ~ x2 + s(x, bs="cc", k=12)', 'y ~ 1 + x2 + s(x, bs="cc", k=12)'),
    ("y ~ s(x); sigma ~ s(x)", "y ~ 1 + s(x); sigma ~ 1 + s(x)"),
    ("y ~ s(x) + (1 | g)", "y ~ 1 + s(x) + (1 | g)"),
    ('y ~ g + s(x, by = g, bs = "cr")', 'y ~ 1 + g + s(x, by=g, bs="cr")'),
]


@pytest.mark.parametrize(("text", "canonical"), ROUND_TRIPS)
def test_formula_round_trips(text: str, canonical: str) -> None:
    formula = hm.parse(text)
    assert str(formula) == canonical
    assert hm.parse(str(formula)) == formula


REFUSED = [
    ("y ~ s(x, x2, g)", "more than two columns"),
    ('y ~ s(x, x2, bs = "cc")', "thin-plate spline"),
    ("y ~ s(x, by = log(x2))", "categorical column"),
    ("y ~ s(x, k = 2)", "at least 3"),
    ('y ~ s(x, bs = "ps")', "bs must be one of"),
    ('y ~ t2(x, x2, bs = "tp", k = 2)', "k of x (tp) must be at least 3"),
    ("y ~ te(x, x2)", "brms cannot fit either"),
    ("y ~ ti(x, x2)", "brms cannot fit either"),
    ("y ~ s(log(x))", "column name"),
    ("y ~ s(x, k = 4.5)", "whole number"),
]


@pytest.mark.parametrize(("text", "words"), REFUSED)
def test_refused_at_parse(text: str, words: str) -> None:
    with pytest.raises(FormulaError) as info:
        hm.parse(text)
    assert words in str(info.value)


def test_by_level_not_seen_is_an_error() -> None:
    m = hm.Model("y ~ g + s(x, by = g)", data=frame())
    new = frame().iloc[:3].assign(g=["a", "b", "z"])
    with pytest.raises(ValueError, match="unseen in training"):  # the exported module's words
        load_module(m.source()).prepare(new)
    with pytest.raises(HiermodError, match="not seen when the model was fitted"):
        m.predict(_posterior(m), data=new)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("y ~ s(x):x2", "interaction"),
        ("y ~ s(x) + (s(x) | g)", "group-level"),
        ("y ~ s(x, k = 200)", "distinct values"),
        ("y ~ s(x, by = one)", "the numeric by one is constant"),
    ],
)
def test_refused_at_bind(text: str, words: str) -> None:
    with pytest.raises(DataError, match=words):
        hm.Model(text, data=frame().assign(one=1.0))


# ---------------------------------------------------------------------------------------------------
# The basis.


@pytest.mark.parametrize(("bs", "k"), [("tp", 10), ("cr", 10), ("cc", 10), ("tp", 5), ("cr", 4)])
def test_basis_is_formulaes_with_mgcvs_penalty_scale(bs: str, k: int) -> None:
    """The stored basis reproduces formulae's at the training x and at new x (beyond the range
    too: linear tails for cr, wrapped for cc); tp's in hiermod's rotation and scale (the map
    fitted on the training x holds at new x)."""
    d = frame()
    m = hm.Model(f'y ~ s(x, bs="{bs}", k={k})', data=d)
    columns, fixed = _scaled(d["x"].to_numpy(), bs, k)
    X = m.ir.data_values["X"] if fixed else np.empty((len(d), 0))
    stem = "Zs_sx_1"
    np.testing.assert_allclose(X, columns[:, :fixed], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(m.ir.data_values[stem], columns[:, fixed:], rtol=1e-10, atol=1e-12)
    new = pd.DataFrame({"x": np.linspace(-3.0, 14.0, 23), "y": 0.0})
    prepared = load_module(m.source()).prepare(new)
    spline_new, _ = _scaled(d["x"].to_numpy(), bs, k, at=new["x"].to_numpy())
    np.testing.assert_allclose(prepared[stem], spline_new[:, fixed:], rtol=1e-9, atol=1e-10)


def test_by_against_mgcv() -> None:
    """s(times, by = f, bs = "cr"): each level's mgcv columns are hiermod's level columns up to a
    rotation (singular values 1): the basis of all rows times the level's indicator, own sds."""
    d = mcycle()
    reference = pd.read_csv(REFERENCE / "by_cr.csv")
    data = d.assign(f=reference["f"].to_numpy())
    m = hm.Model('accel ~ f + s(times, by = f, bs = "cr")', data=data)
    assert m.ir.coords["coef"] == (
        "f[b]",
        's(times, by=f, bs="cr")[1]:f[a]',
        's(times, by=f, bs="cr")[1]:f[b]',
    )
    for j, level in enumerate("ab"):
        ours = np.column_stack(
            [m.ir.data_values["X"][:, 1 + j], m.ir.data_values[f"Zs_stimesf{level}_1"]]
        )
        theirs = reference.filter(like=f"_{level}_").to_numpy()
        coef, *_ = np.linalg.lstsq(ours, theirs, rcond=None)
        assert np.abs(ours @ coef - theirs).max() < 1e-8 * np.abs(theirs).max()
        np.testing.assert_allclose(np.linalg.svd(coef[1:, 1:], compute_uv=False), 1.0, rtol=1e-8)


@pytest.mark.parametrize("bs", ["tp", "cr", "cc"])
def test_basis_against_mgcv(bs: str) -> None:
    """mgcv's smooth2random columns (brms's Xs, Zs) of mcycle's s(times) lie in hiermod's column
    space, and the penalised ones are an orthogonal rotation of hiermod's (singular values 1):
    mgcv's penalty scale reproduced exactly, for tp on mgcv's own parameterisation of the basis
    (hiermod.data.tprs; formulae's, rescaled by the same rule, would give 0.9013 on mcycle), for cc
    on mgcv's knots (formulae's own gave singular values 0.98 to 1.08 on mcycle)."""
    d = mcycle()
    reference = pd.read_csv(REFERENCE / f"{bs}.csv")
    np.testing.assert_allclose(reference["times"], d["times"])
    m = hm.Model(f'accel ~ s(times, bs="{bs}")', data=d)
    free = m.ir.data_values.get("X", np.empty((len(d), 0)))  # none for cc
    ours = np.column_stack([np.ones(len(d)), free, m.ir.data_values["Zs_stimes_1"]])
    assert free.shape[1] == reference.filter(like="Xf_").shape[1]
    for prefix in ("Xf_", "Z_") if free.shape[1] else ("Z_",):
        theirs = reference.filter(like=prefix).to_numpy()
        coef, *_ = np.linalg.lstsq(ours, theirs, rcond=None)
        assert np.abs(ours @ coef - theirs).max() < 1e-6 * np.abs(theirs).max()
    theirs = reference.filter(like="Z_").to_numpy()
    coef, *_ = np.linalg.lstsq(ours, theirs, rcond=None)
    start = 1 + free.shape[1]
    rotation = coef[start:]  # the penalised part: theirs = ours @ rotation (plus nothing else)
    np.testing.assert_allclose(np.abs(coef[:start]).max(), 0.0, atol=1e-6)
    singular = np.linalg.svd(rotation, compute_uv=False)
    np.testing.assert_allclose(singular, 1.0, rtol=1e-6)


# ---------------------------------------------------------------------------------------------------
# The model against a hand-written one.

PRIORS = {
    "Intercept": "normal(0, 2)",
    "b": "normal(0, 1)",
    "sds": "half_student_t(3, 1.5)",
    "sigma_Intercept": "normal(0, 1)",
    "sigma_sds": "half_normal(0.7)",
}
FORMULA = 'y ~ s(x) + s(x2, bs="cr", k=5); sigma ~ s(x, bs="cc", k=6)'


def hand_smooths() -> pm.Model:
    """``FORMULA`` by hand: brms's Stan program in PyMC (``s_1_1 = sds_1_1 * zs_1_1``)."""
    d = frame()
    x, x2, y = (d[c].to_numpy() for c in ("x", "x2", "y"))
    tp, _ = _scaled(x, "tp", 10)
    cr, _ = _scaled(x2, "cr", 5)
    cc, _ = _scaled(x, "cc", 6)
    coefs = ["s(x)[1]", 's(x2, bs="cr", k=5)[1]']
    coords = {
        "obs": np.arange(len(d)),
        "coef": coefs,
        "sx_1_basis": [str(j) for j in range(1, 9)],
        "sx2_1_basis": [str(j) for j in range(1, 4)],
        "sigma_sx_1_basis": [str(j) for j in range(1, 5)],
    }
    with pm.Model(coords=coords) as model:
        X = np.column_stack([tp[:, 0], cr[:, 0]])
        intercept = pm.Normal("Intercept", 0.0, 2.0)
        b = pm.Normal("b", 0.0, 1.0, dims="coef")
        sds_x = pm.HalfStudentT("sds_sx_1", nu=3.0, sigma=1.5)
        zs_x = pm.Normal("zs_sx_1", 0.0, 1.0, dims="sx_1_basis")
        sds_x2 = pm.HalfStudentT("sds_sx2_1", nu=3.0, sigma=1.5)
        zs_x2 = pm.Normal("zs_sx2_1", 0.0, 1.0, dims="sx2_1_basis")
        sigma_intercept = pm.Normal("sigma_Intercept", 0.0, 1.0)
        sigma_sds = pm.HalfNormal("sigma_sds_sx_1", 0.7)
        sigma_zs = pm.Normal("sigma_zs_sx_1", 0.0, 1.0, dims="sigma_sx_1_basis")
        mu = intercept + X @ b + tp[:, 1:] @ (sds_x * zs_x) + cr[:, 1:] @ (sds_x2 * zs_x2)
        sigma = pm.math.exp(sigma_intercept + cc @ (sigma_sds * sigma_zs))
        pm.Normal("y", mu, sigma, observed=y, dims="obs")
    return model


def hand_by() -> pm.Model:
    """``y ~ g + s(x, by = g, bs = "cr", k = 5)`` by hand: one smooth per level of g, the basis
    of all rows times the level's indicator (mgcv's factor by)."""
    d = frame()
    cr, _ = _scaled(d["x"].to_numpy(), "cr", 5)
    levels = ["a", "b", "c"]
    ind = {lv: (d["g"] == lv).to_numpy(dtype=float)[:, None] for lv in levels}
    label = 's(x, by=g, bs="cr", k=5)[1]'
    coords = {
        "obs": np.arange(len(d)),
        "coef": ["g[b]", "g[c]", *(f"{label}:g[{lv}]" for lv in levels)],
    }
    coords |= {f"sxg{lv}_1_basis": [str(j) for j in range(1, 4)] for lv in levels}
    with pm.Model(coords=coords) as model:
        X = np.column_stack([ind["b"], ind["c"], *(cr[:, :1] * ind[lv] for lv in levels)])
        mu = pm.Normal("Intercept", 0.0, 2.0) + X @ pm.Normal("b", 0.0, 1.0, dims="coef")
        for lv in levels:
            sds = pm.HalfStudentT(f"sds_sxg{lv}_1", nu=3.0, sigma=1.5)
            zs = pm.Normal(f"zs_sxg{lv}_1", 0.0, 1.0, dims=f"sxg{lv}_1_basis")
            mu = mu + (cr[:, 1:] * ind[lv]) @ (sds * zs)
        pm.Normal("y", mu, pm.Exponential("sigma", 1.0), observed=d["y"].to_numpy(), dims="obs")
    return model


def test_by_same_model_as_hand_written() -> None:
    priors = {
        "Intercept": "normal(0, 2)",
        "b": "normal(0, 1)",
        "sds": "half_student_t(3, 1.5)",
        "sigma": "exponential(1)",
    }
    m = hm.Model('y ~ g + s(x, by = g, bs = "cr", k = 5)', data=frame(), priors=priors)
    assert_same_model(m.pymc, hand_by(), n_points=3, rtol=1e-8)


def test_same_model_as_hand_written() -> None:
    m = hm.Model(FORMULA, data=frame(), priors=PRIORS)
    assert_same_model(m.pymc, hand_smooths(), n_points=3, rtol=1e-8)


def test_parameters_priors_and_describe() -> None:
    m = hm.Model("y ~ s(x); sigma ~ s(x)", data=frame())
    roles = {p.name: p.role for p in m.ir.parameters()}
    assert roles["sds_sx_1"] == "smooth_sd"
    assert roles["zs_sx_1"] == "smooth_offsets"
    assert roles["sigma_sds_sx_1"] == "smooth_sd"
    table = m.priors
    # brms's default: student_t(3, 0, 2.5 * the response's scale), half; on sigma's log scale 2.5
    scale = float(np.std(frame()["y"], ddof=1))
    assert table.loc["sds_sx_1", "prior"] == f"half_student_t(3, {float(f'{2.5 * scale:.4g}'):g})"
    assert table.loc["sigma_sds_sx_1", "prior"] == "half_student_t(3, 2.5)"
    assert {"sds_sx_1", "zs_sx_1"} <= set(m.describe().index)
    by_class = hm.Model("y ~ s(x)", data=frame(), priors={"sds": "half_normal(3)"})
    assert by_class.priors.loc["sds_sx_1", "prior"] == "half_normal(3)"


def test_source_exports_and_runs() -> None:
    """The exported module imports no formulae and no hiermod, and builds the same model."""
    m = hm.Model(FORMULA, data=frame(), priors=PRIORS)
    source = m.source()
    assert "formulae" not in source
    assert "hiermod" not in source.split('"""', 2)[2]  # past the module docstring
    assert "def tprs_basis" in source
    assert "def cubic_basis" in source
    assert "# fmt: off" in source
    module = load_module(source)
    exported = module.build_model(module.prepare(frame()))
    assert_same_model(exported, m.pymc, n_points=2, rtol=1e-10)


def _posterior(m: hm.Model, draws: int = 5) -> xr.DataTree:
    """A posterior of 1 chain of random values for every free parameter of ``m``."""
    rng = np.random.default_rng(8)
    data = {}
    for rv in m.pymc.free_RVs:
        dims = m.pymc.named_vars_to_dims.get(rv.name, ())
        shape = tuple(len(m.pymc.coords[dim]) for dim in dims)
        values = rng.normal(size=(1, draws, *shape))
        positive = rv.name.startswith(("sds_", "sigma"))
        data[rv.name] = xr.DataArray(
            np.abs(values) if positive else values, dims=("chain", "draw", *dims)
        )
    return xr.DataTree.from_dict({"posterior": xr.Dataset(data)})


def test_predict_at_new_x() -> None:
    """The mean at new x from hiermod's predict equals the hand computation with formulae's
    basis at those x (its eval with the training constants), inside and beyond the range."""
    d = frame()
    m = hm.Model("y ~ s(x)", data=d)
    fit = _posterior(m)
    new = pd.DataFrame({"x": np.array([0.5, 2.0, 7.5, 11.0])})
    predicted = np.asarray(m.predict(fit, data=new, kind="mean")).reshape(5, len(new))
    columns, _ = _scaled(d["x"].to_numpy(), "tp", 10, at=new["x"].to_numpy())
    a, b, sds, zs = (
        fit["posterior"][k].to_numpy()[0] for k in ("Intercept", "b", "sds_sx_1", "zs_sx_1")
    )
    expected = a[:, None] + b[:, 0:1] * columns[:, 0] + (sds[:, None] * zs) @ columns[:, 1:].T
    np.testing.assert_allclose(predicted, expected, rtol=1e-8)


def test_reductions_decline_smooths() -> None:
    assert not hm.Model("y ~ s(x) + (1 | g)", data=frame()).ir.reducible
    with pytest.raises(HiermodError, match=r"s\(x\) is a smooth: each row has its own basis"):
        hm.Model("y ~ s(x) + (1 | g)", data=frame(), suffstats=True).ir  # noqa: B018
    counts = frame().assign(n=np.arange(150) % 4)
    with pytest.raises(HiermodError, match=r"s\(x\) is a smooth"):
        hm.Model("n ~ s(x)", data=counts, family="poisson", suffstats=True).ir  # noqa: B018


def test_streaming_refuses_smooths() -> None:
    from hiermod.data.partial import StreamError, stateful_calls

    with pytest.raises(StreamError, match="all rows at once"):
        stateful_calls(hm.parse("y ~ s(x)"))


def test_every_error_is_hiermods() -> None:
    with pytest.raises(HiermodError):
        hm.Model("y ~ s(x, k = 500)", data=frame())


# ---------------------------------------------------------------------------------------------------
# Against brms on mcycle (benchmarks/reference/mcycle_brms.R: brms 2.18 defaults, 4 x 1000 draws).

BRMS = Path(__file__).resolve().parents[1] / "benchmarks" / "reference" / "mcycle_brms"


@pytest.mark.slow
def test_mcycle_curve_and_sds_agree_with_brms() -> None:
    """``accel ~ s(times); sigma ~ s(times)``: the fitted mean at brms's 50 times lies in brms's
    90% band, and each sds is within 25% of brms's. hiermod's default prior of sigma's sds is
    half_student_t(3, 2.5) on the log scale where brms 2.18's is student_t(3, 0, 35.6) (mad of
    accel, as for the mean's): the fit takes brms's, so the comparison is of the same model (with
    hiermod's own the posterior mean of sigma's sds is 5.1 against brms's 11.7)."""
    d = mcycle()
    curve = pd.read_csv(BRMS / "smooth_sigma_curve.csv")
    brms = pd.read_csv(BRMS / "smooth_sigma_summary.csv").set_index("parameter")
    priors = {"sigma_sds": "half_student_t(3, 35.6)"}
    m = hm.Model("accel ~ s(times); sigma ~ s(times)", data=d, priors=priors)
    with warnings.catch_warnings():
        # a few divergences and tree-depth hits; the checks below are the test. 2 chains of 1000
        # (as many draws as 4 of 500, half the tuning: 330 s beside the rest of the suite before)
        warnings.simplefilter("ignore", SamplingWarning)
        fit = m.fit(
            draws=1000, tune=1000, chains=2, random_seed=1, progressbar=False, target_accept=0.95
        )
    mean = np.asarray(m.predict(fit, data=pd.DataFrame({"times": curve["times"]}), kind="mean"))
    fitted = mean.reshape(-1, len(curve)).mean(axis=0)
    outside = curve["times"][(fitted < curve["q05"]) | (fitted > curve["q95"])]
    assert outside.empty, f"outside brms's 90% band at times {outside.tolist()}"
    post = fit["posterior"]
    # tp: hiermod's penalised columns are mgcv's up to a rotation (test_basis_against_mgcv), so
    # sds is brms's sds
    for ours, theirs in (
        ("sds_stimes_1", "sds_stimes_1"),
        ("sigma_sds_stimes_1", "sds_sigma_stimes_1"),
    ):
        ratio = float(post[ours].mean()) / brms.loc[theirs, "mean"]
        print(
            f"{ours}: {float(post[ours].mean()):.4g} (brms {brms.loc[theirs, 'mean']:.4g}), {ratio:.3f}"
        )
        assert abs(ratio - 1.0) <= 0.25, (ours, ratio)


def test_summary_has_a_row_per_smooth_sd() -> None:
    from hiermod.inference.summaries import smooth_sds

    m = hm.Model("y ~ s(x) + s(x2, bs='cr'); sigma ~ s(x)", data=frame())
    fit = _posterior(m)
    table = smooth_sds(m.ir, fit)
    assert list(table.index) == ["sds_sx_1", "sds_sx2_1", "sigma_sds_sx_1"]
    draws = fit["posterior"]["sds_sx2_1"].to_numpy()
    np.testing.assert_allclose(table.loc["sds_sx2_1", "mean"], draws.mean())
    assert "Smooth terms" in m.summary(fit).text
