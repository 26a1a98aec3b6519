"""E[y | lb <= y <= ub]: ``predict(kind="mean")`` of a ``trunc()`` response.

PyMC's ``mean()`` of a response is that of the untruncated distribution; the truncated mean is
computed here, per draw and row, from the distribution's parameters (evaluated over the posterior
by :func:`hiermod.inference.posterior_eval.evaluate`) and PyMC's own ``logp`` and ``logcdf`` of the
distribution, so that each family's parameterisation stays defined once. One rule, by kind:

- **normal** (``gaussian``): the closed form, with a = (lb - mu) / sigma, b = (ub - mu) / sigma,
  E = mu + sigma (phi(a) - phi(b)) / (Phi(b) - Phi(a)). E.g. mu 0, sigma 1, lb 0: E = phi(0) /
  (1 - 1/2) = 0.7979 (the half-normal's mean). Computed on the log scale, and for a > 0 through
  the mirror image (E[y | a < y < b] = -E[-y | -b < -y < -a]) so that far tails do not cancel.
- **counts** (an integer response): the sum over the support, E = sum_k k p(k) / Z over
  k = ceil(lb), …, floor(ub), with Z = F(ub) - F(lb - 1) from the CDF. Without an upper bound (or
  a far one) the sum stops once the probability not yet summed is below ``COUNT_TOLERANCE`` of Z
  (a quantile cut-off: the terms left out weigh less than 1e-12 of the range's probability). E.g.
  Poisson(3) with lb 1: (3 - 0 * e^-3) / (1 - e^-3) = 3.157.
- **other continuous families**: double-exponential quadrature of E = c + int (y - c) f(y) dy / Z,
  the range split at c, the untruncated mean moved into [lb, ub] (the mass lies around it): a
  finite piece [u, v] by tanh-sinh, y = (u + v) / 2 + (v - u) / 2 tanh(pi/2 sinh t), an infinite
  one [c, inf) by exp-sinh, y = c + s exp(pi/2 sinh t) (s the distance from c to the finite bound,
  or |c|, or 1), both the trapezoid rule in t on [-T, T] with step h (``DE_STEP``, ``DE_RANGE``:
  2 x 289 evaluations of the log density per value). Z = F(ub) - F(lb) by the same nodes: a
  constant of the density cancels (PyMC's Weibull density is scipy's times 1 - 1e-8). E.g. a
  lognormal(0, 1) above 1: e^(1/2) Phi(1) / (1/2) = 2.7743.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc.pytensorf import compile as compile_pymc
from pytensor.tensor.random.basic import NormalRV
from scipy import special

from hiermod.inference.posterior_eval import rv_on

__all__ = ["COUNT_TOLERANCE", "DE_RANGE", "DE_STEP", "truncated_mean"]

COUNT_TOLERANCE = 1e-12  # the share of Z a count sum may leave out
DE_STEP = 1.0 / 32.0
DE_RANGE = 4.5
_CHUNK = 4096  # values per call of a compiled log density (memory: _CHUNK x nodes)

type Bound = float | np.ndarray | None
type Compiled = Callable[..., np.ndarray]
Tensor = Any


def truncated_mean(
    rv: Tensor, params: list[np.ndarray], centre: np.ndarray, lower: Bound, upper: Bound
) -> np.ndarray:
    """E[y | lower <= y <= upper] per value: ``rv`` is the untruncated response (its distribution),
    ``params`` its parameters' values (arrays of one shape, e.g. (chain, draw, obs)), ``centre``
    its untruncated mean, ``lower``/``upper`` the bounds (numbers, one per row, or ``None``)."""
    shape = np.broadcast_shapes(*(p.shape for p in params), np.shape(centre))
    kinds = [p.dtype for p in rv.owner.op.dist_params(rv.owner)]  # evaluated values are floats
    flat = [
        np.broadcast_to(p, shape).reshape(-1).astype(k) for p, k in zip(params, kinds, strict=True)
    ]
    lo = _bound(lower, shape, -np.inf)
    hi = _bound(upper, shape, np.inf)
    if isinstance(rv.owner.op, NormalRV):
        mu, sigma = flat[-2:]  # NormalRV's parameters: (mu, sigma)
        return _normal_mean(mu, sigma, lo, hi).reshape(shape)
    logp, logcdf = _log_density(rv)
    out = np.empty(lo.shape)
    for start in range(0, lo.size, _CHUNK):
        part = slice(start, start + _CHUNK)
        args = [p[part] for p in flat]
        if rv.dtype.startswith("int"):
            out[part] = _count_mean(logp, logcdf, args, lo[part], hi[part])
        else:
            mid = np.broadcast_to(centre, shape).reshape(-1)[part]
            out[part] = _continuous_mean(logp, args, mid, lo[part], hi[part])
    return out.reshape(shape)


def _bound(bound: Bound, shape: tuple[int, ...], missing: float) -> np.ndarray:
    """A bound per value: rows' bounds are the last axis of ``shape``."""
    value = missing if bound is None else bound
    return np.broadcast_to(np.asarray(value, dtype=float), shape).reshape(-1).copy()


def _normal_mean(mu: np.ndarray, sigma: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    a, b = (lo - mu) / sigma, (hi - mu) / sigma
    flip = a > 0  # the upper tail: mirror it onto the lower, where log_ndtr is accurate
    a, b = np.where(flip, -b, a), np.where(flip, -a, b)
    log_b, log_a = special.log_ndtr(b), special.log_ndtr(a)
    log_z = log_b + np.log(-np.expm1(log_a - log_b))  # log(Phi(b) - Phi(a))
    log_phi = lambda x: -0.5 * x**2 - 0.5 * np.log(2.0 * np.pi)  # noqa: E731
    ratio = np.exp(log_phi(a) - log_z) - np.exp(log_phi(b) - log_z)  # 0 where a bound is infinite
    return np.asarray(mu + sigma * np.where(flip, -ratio, ratio))


def _log_density(rv: Tensor) -> tuple[Callable[..., np.ndarray], Callable[..., np.ndarray]]:
    """Compiled ``(params..., value) -> log p(value)`` and ``log F(value)`` of ``rv``'s
    distribution, each parameter a vector (one value each) and ``value`` a matrix (a row each)."""
    op = rv.owner.op
    inputs = [pt.vector(dtype=p.dtype) for p in op.dist_params(rv.owner)]
    value = pt.matrix(dtype="int64" if rv.dtype.startswith("int") else "float64")
    dist = rv_on(rv, [pt.broadcast_to(p[:, None], value.shape) for p in inputs])
    functions = []
    for log in (pm.logp, pm.logcdf):
        expr = log(dist, value)
        functions.append(compile_pymc([*inputs, value], expr, mode="FAST_COMPILE"))
    return functions[0], functions[1]


def _log_mass(
    logcdf: Compiled, args: list[np.ndarray], lo: np.ndarray, hi: np.ndarray, dtype: type = float
) -> np.ndarray:
    """log(F(hi) - F(lo)) per value, with F(-inf) = 0 and F(inf) = 1."""
    both = np.nan_to_num(np.stack([lo, hi], axis=1), posinf=0.0, neginf=0.0)
    log_f = logcdf(*args, both.astype(dtype))
    log_lo = np.where(np.isneginf(lo), -np.inf, log_f[:, 0])
    log_hi = np.where(np.isposinf(hi), 0.0, log_f[:, 1])
    with np.errstate(divide="ignore"):
        return log_hi + np.log(-np.expm1(log_lo - log_hi))


def _count_mean(
    logp: Compiled, logcdf: Compiled, args: list[np.ndarray], lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """The sum over k = lo, …, hi in blocks of doubling length, until the probability summed is
    within ``COUNT_TOLERANCE`` of Z = F(hi) - F(lo - 1) (or the block passes hi)."""
    first = np.maximum(np.ceil(lo), 0.0)  # the families' counts start at 0
    last = np.floor(hi)
    big = 2**62  # an unbounded range: the tolerance ends the sum
    log_z = _log_mass(logcdf, args, first - 1.0, np.where(np.isposinf(last), big, last), np.int64)
    z = np.exp(log_z)
    total, mass = np.zeros(first.shape), np.zeros(first.shape)
    start, width = 0, 64
    todo = np.ones(first.shape, dtype=bool)
    while todo.any():
        k = first[:, None] + np.arange(start, start + width)[None, :]
        inside = k <= last[:, None]
        p = np.where(inside, np.exp(logp(*args, np.where(inside, k, 0).astype(np.int64))), 0.0)
        total += (k * p).sum(axis=1)
        mass += p.sum(axis=1)
        start, width = start + width, min(2 * width, 4096)
        todo = (first + start <= last) & (z - mass > COUNT_TOLERANCE * z)
    return total / mass


def _de_nodes() -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(-DE_RANGE, DE_RANGE + DE_STEP / 2, DE_STEP)
    return t, np.full(t.shape, DE_STEP)


def _continuous_mean(
    logp: Compiled, args: list[np.ndarray], centre: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """c + (int_lo^c + int_c^hi) (y - c) f(y) dy / Z by double-exponential quadrature, Z by the
    same nodes (the ratio does not depend on the density's constant)."""
    finite = np.where(np.isfinite(lo), lo, np.where(np.isfinite(hi), hi, 0.0))
    c = np.clip(np.where(np.isfinite(centre), centre, finite), lo, hi)
    t, h = _de_nodes()
    s = np.abs(np.pi / 2 * np.sinh(t))
    total, mass = np.zeros(c.shape), np.zeros(c.shape)
    for u, v in ((lo, c), (c, hi)):  # the pieces below and above c
        inf_side = np.isinf(u) | np.isinf(v)
        # exp-sinh (one infinite end, pointing away from c) or tanh-sinh (both finite)
        direction = np.where(np.isinf(v), 1.0, -1.0)[:, None]
        other = np.where(np.isinf(v), lo, hi)
        scale = np.where(
            np.isfinite(other), np.abs(c - other), np.maximum(np.abs(c), 1.0)
        )  # fmt: skip
        scale = np.where(scale > 0, scale, np.maximum(np.abs(c), 1.0))[:, None]
        d_exp = scale * np.exp(np.pi / 2 * np.sinh(t))[None, :]
        w_exp = d_exp * (np.pi / 2 * np.cosh(t))[None, :] * h
        half = np.where(inf_side, 0.0, (v - u) / 2)[:, None]
        middle = np.where(inf_side, 0.0, (u + v) / 2)[:, None]
        y_tanh = middle + half * np.tanh(np.pi / 2 * np.sinh(t))[None, :]
        w_tanh = half * (np.pi / 2 * np.cosh(t) * h / np.cosh(s) ** 2)[None, :]
        y = np.where(inf_side[:, None], c[:, None] + direction * d_exp, y_tanh)
        w = np.where(inf_side[:, None], w_exp, w_tanh)
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            f = np.exp(logp(*args, y))
            weight = np.where((w > 0) & (f > 0), f * w, 0.0)
        total += (weight * (y - c[:, None])).sum(axis=1)
        mass += weight.sum(axis=1)
    return c + total / mass
