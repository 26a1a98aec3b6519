"""Shared test helpers: compare two PyMC models variable by variable and at random points."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

if TYPE_CHECKING:
    import hiermod as hm


def _free_by_value_name(model: pm.Model) -> dict[str, object]:
    return {model.rvs_to_values[rv].name: rv for rv in model.free_RVs}


def random_points(
    model: pm.Model, n_points: int, seed: int, scale: float = 0.7
) -> list[dict[str, np.ndarray]]:
    """Points in the unconstrained (value-variable) space with moderate random values."""
    rng = np.random.default_rng(seed)
    initial = model.initial_point()
    return [
        {name: rng.normal(0.0, scale, size=np.shape(value)) for name, value in initial.items()}
        for _ in range(n_points)
    ]


def assert_same_model(
    compiled: pm.Model,
    hand: pm.Model,
    *,
    n_points: int = 3,
    rtol: float = 1e-8,
    seed: int = 1,
    check_dims: bool = True,
    scale: float = 0.7,
) -> None:
    """Same free variables (names, shapes, dims and coords) and the same logp and gradient.

    The gradient is compared per variable, in a fixed order, at ``n_points`` random points of the
    unconstrained space (transforms and Jacobians included, as NUTS sees them).
    """
    ours, theirs = _free_by_value_name(compiled), _free_by_value_name(hand)
    assert sorted(ours) == sorted(theirs), (sorted(ours), sorted(theirs))
    if check_dims:
        for rv in compiled.free_RVs:
            dims = compiled.named_vars_to_dims.get(rv.name)
            assert hand.named_vars_to_dims.get(rv.name) == dims, rv.name
            for dim in dims or ():
                assert tuple(compiled.coords[dim]) == tuple(hand.coords[dim]), dim
    names = sorted(ours)
    # FAST_COMPILE skips C compilation: the same float64 maths, a fraction of the compile time
    # (these functions run a handful of times; sampling tests keep the default mode).
    fast = {"mode": "FAST_COMPILE"}
    logp_ours = compiled.compile_logp(**fast)
    logp_theirs = hand.compile_logp(**fast)
    dlogp_ours = compiled.compile_dlogp(vars=[ours[n] for n in names], **fast)
    dlogp_theirs = hand.compile_dlogp(vars=[theirs[n] for n in names], **fast)
    for point in random_points(compiled, n_points, seed, scale):
        a, b = logp_ours(point), logp_theirs(point)
        assert np.isfinite(a), f"logp is {a} at a random point"
        np.testing.assert_allclose(a, b, rtol=rtol, err_msg="logp differs")
        np.testing.assert_allclose(
            dlogp_ours(point), dlogp_theirs(point), rtol=rtol, atol=1e-9, err_msg="gradient differs"
        )


# Subprocess timeouts in the tests are hang guards, not speed checks: on a shared, loaded 2-core
# machine the demo alone once took longer than 300 s. Speed is measured in benchmarks/.
HANG_GUARD_SECONDS = 1800


def random_intercept_eta(
    data: pd.DataFrame, *, intercept_sd: float | None, sd_g: float
) -> pt.TensorVariable:
    """Inside a ``pm.Model`` (with coords obs, coef = ("x",), g): ``x + (1 | g)`` written as a
    careful PyMC user would — ``pm.Data`` X and g_idx, b ~ Normal(0, 1), sd_g ~ HalfNormal(sd_g),
    non-centred r_g = z_g * sd_g — plus Intercept ~ Normal(0, intercept_sd) unless that is
    ``None`` (an ordinal model's thresholds take its place). Returns the linear predictor."""
    codes = pd.factorize(data["g"], sort=True)[0]
    X = pm.Data("X", data[["x"]].to_numpy(), dims=("obs", "coef"))
    g = pm.Data("g_idx", codes, dims="obs")
    b = pm.Normal("b", 0.0, 1.0, dims="coef")
    sd = pm.HalfNormal("sd_g", sd_g)
    z_g = pm.Normal("z_g", 0.0, 1.0, dims="g")
    r_g = pm.Deterministic("r_g", z_g * sd, dims="g")
    eta = X @ b + r_g[g]
    return eta if intercept_sd is None else pm.Normal("Intercept", 0.0, intercept_sd) + eta


def hand_t2(
    columns: np.ndarray, widths: tuple[int, ...], stem: str, term: str, y: np.ndarray
) -> pm.Model:
    """A Gaussian model with one ``t2()`` by hand, brms's Stan program in PyMC: ``columns`` are the
    unpenalised ones (coefficients ``b``, labels ``term[1]``, …) and then the penalised blocks of
    ``widths`` (``Zs_<stem>_j @ (sds_<stem>_j * zs_<stem>_j)``); priors Intercept normal(0, 2),
    b normal(0, 1), sds half_student_t(3, 1.5), sigma exponential(2)."""
    free = columns.shape[1] - sum(widths)
    coords: dict[str, object] = {
        "obs": np.arange(len(y)),
        "coef": [f"{term}[{j}]" for j in range(1, free + 1)],
    }
    coords |= {
        f"{stem}_{j}_basis": [str(i) for i in range(1, w + 1)] for j, w in enumerate(widths, 1)
    }
    with pm.Model(coords=coords) as model:
        b = pm.Normal("b", 0.0, 1.0, dims="coef")
        mu = pm.Normal("Intercept", 0.0, 2.0) + columns[:, :free] @ b
        start = free
        for j, width in enumerate(widths, 1):
            sds = pm.HalfStudentT(f"sds_{stem}_{j}", nu=3.0, sigma=1.5)
            zs = pm.Normal(f"zs_{stem}_{j}", 0.0, 1.0, dims=f"{stem}_{j}_basis")
            mu = mu + columns[:, start : start + width] @ (sds * zs)
            start += width
        sigma = pm.Exponential("sigma", 2.0)
        pm.Normal("y", mu, sigma, observed=y, dims="obs")
    return model


def assert_block_map(
    ours: np.ndarray, theirs: np.ndarray, free: int, widths: tuple[int, ...]
) -> None:
    """``theirs`` (mgcv's unpenalised columns, then its penalised blocks of ``widths``) is
    ``ours`` (the same layout) times a map by least squares (residual below 1e-8 of the largest
    value) that takes the unpenalised columns into the unpenalised ones (``free`` of them) and
    each block onto the block of the same place only, by an orthogonal map (singular values 1 to
    1e-8): the same penalties, each on the same scale."""
    assert ours.shape == theirs.shape
    coef, *_ = np.linalg.lstsq(ours, theirs, rcond=None)
    assert np.abs(ours @ coef - theirs).max() < 1e-8 * np.abs(theirs).max()
    np.testing.assert_allclose(coef[free:, :free], 0.0, atol=1e-8)
    start = free
    for width in widths:
        block = slice(start, start + width)
        others = np.delete(coef[:, block], np.arange(start, start + width), axis=0)
        np.testing.assert_allclose(others, 0.0, atol=1e-8)
        singular = np.linalg.svd(coef[block, block], compute_uv=False)
        np.testing.assert_allclose(singular, 1.0, rtol=1e-8)
        start += width


def random_draws(m: hm.Model, n: int) -> xr.DataTree:
    """``n`` random draws of every free variable of ``m`` (one chain)."""
    rng = np.random.default_rng(4)
    variables = {}
    for rv in m.pymc.free_RVs:
        dims = m.pymc.named_vars_to_dims.get(rv.name) or ()
        shape = tuple(len(m.pymc.coords[d]) for d in dims)
        value = rng.normal(size=(1, n, *shape))
        value = np.abs(value) if rv.name.startswith(("sds_", "sigma")) else value
        variables[rv.name] = xr.DataArray(value, dims=("chain", "draw", *dims))
    return xr.DataTree.from_dict({"posterior": xr.Dataset(variables)})


def smooth_mean(post: xr.DataTree, columns: np.ndarray, free: int, stems: list[str]) -> np.ndarray:
    """The expected ``y`` of a smooth model at rows whose columns are ``columns`` (the ``free``
    population columns first, then each penalised block's, in ``stems``' order), from the first
    chain's draws: ``Intercept + b @ X + sum_j (sds_j * zs_j) @ Z_j``."""
    expected = post["Intercept"].values[0][:, None] + post["b"].values[0] @ columns[:, :free].T
    start = free
    for stem in stems:
        s = post[f"sds_{stem}"].values[0][:, None] * post[f"zs_{stem}"].values[0]
        expected = expected + s @ columns[:, start : start + s.shape[1]].T
        start += s.shape[1]
    assert start == columns.shape[1]
    return np.asarray(expected)
