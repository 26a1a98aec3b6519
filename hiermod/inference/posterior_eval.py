"""Evaluating outputs of a row-wise PyMC model over every posterior draw at once.

:func:`evaluate` is the last step of a prediction (:mod:`hiermod.inference.predict`): the model's
free variables take their posterior draws through :func:`pymc.sampling.forward.vectorize_over_posterior`,
the new levels of a group block keep their random variable (the population distribution given each
draw), and the effects of a left-out grouping become zeros; then one function, compiled in
PyTensor's ``FAST_COMPILE`` mode, returns (chain, draw, obs) arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from pymc.distributions.distribution import SymbolicRandomVariable
from pymc.pytensorf import compile as compile_pymc
from pymc.sampling.forward import vectorize_over_posterior
from pytensor.compile.sharedvalue import shared
from pytensor.graph.replace import graph_replace
from pytensor.graph.traversal import ancestors
from pytensor.tensor import get_vector_length
from pytensor.tensor.random.op import RandomVariable
from pytensor.tensor.type_other import NoneTypeT

from hiermod.errors import DataError
from hiermod.inference.belongs import check_fit
from hiermod.inference.fit_groups import read_group
from hiermod.output.distributions import bivariate_normal_dist
from hiermod.plan.ir import BlockIR, ModelIR, ParamSpec

__all__ = [
    "broadcast_params",
    "evaluate",
    "level_parameter",
    "posterior_draws",
    "rv_on",
    "spliced_levels",
    "vectorized",
]

Tensor = Any  # a PyTensor variable


def level_parameter(block: BlockIR) -> ParamSpec | None:
    """The block's free variable with one entry per level: ``z`` (non-centred), ``beta`` (centred on
    population parameters) or ``r`` itself (centred, no population parameter); ``None`` for a
    member of a block ID other than the first (its effects are the first's ``z``'s columns)."""
    return next((p for p in (block.z, block.beta, block.r) if p is not None and p.free), None)


def posterior_draws(posterior: xr.Dataset, name: str) -> xr.DataArray:
    if name not in posterior:
        raise DataError(
            f"the posterior has no variable {name!r}: this DataTree is not a fit of this model",
            hint="use the model the fit was made with (hm.Model.from_idata rebuilds it)",
        )
    return posterior[name]


def evaluate(
    ir: ModelIR,
    new: ModelIR,
    model: pm.Model,
    outputs: list[Tensor],
    idata: xr.DataTree,
    random_seed: int | None,
    left_out: frozenset[str] = frozenset(),
    truncate: tuple[float | np.ndarray | None, float | np.ndarray | None] | None = None,
    gp_draws: bool = False,
) -> list[np.ndarray]:
    """``outputs`` of ``model`` for every posterior draw, in one vectorised, compiled call.

    ``ir`` is the fitted plan, ``new`` the row-wise plan ``model`` was built from. A level variable
    whose dims were extended is spliced: its training levels are a placeholder that takes the
    posterior draws, its new levels stay the model's random variable (drawn from the prior given
    the posterior hyperparameters, with the (chain, draw) batch shape). The effects ``r`` of a block
    whose grouping is ``left_out`` (its text, ``"Subject"``, ``"g:h"``) are zeros: the prediction of
    the population-level terms alone for that grouping, as brms's ``re_formula = NA``.
    ``truncate``: the (lower, upper) bounds of ``trunc()`` (numbers or one per row, ``None`` for no
    bound) that a response drawn among the outputs is truncated to, after its vectorisation (a
    truncated variable cannot be vectorised itself). An exact GP's values at new points
    (``GPIR.conditional``, :mod:`hiermod.output.source_gp_exact`) are drawn from their conditional
    distribution given each draw (``gp_draws``), or are its mean (``K*' K^-1 f``).
    """
    check_fit(ir, idata)  # another model's fit: say so, not a NumPy shape error
    posterior = read_group(idata)
    old = {p.name: p for p in ir.parameters()}
    spliced: dict[Tensor, Tensor] = {}
    holes: list[Tensor] = []
    for block in (b for p in new.predictors for b in p.blocks):
        if str(block.block.grouping) in left_out:
            effects = model[block.r.name]
            spliced[effects] = pt.zeros(block.r.shape, dtype=effects.dtype)
            continue
        spec = level_parameter(block)
        if spec is None:
            continue
        trained = old[spec.name].shape
        if spec.shape == trained:
            continue
        draws = posterior_draws(posterior, spec.name)
        if draws.shape[2:] != trained:
            raise DataError(f"the posterior draws of {spec.name!r} do not fit this model's levels")
        rv = model[spec.name]
        spliced[rv], hole = spliced_levels(rv, trained)
        holes.append(hole)
    for name in (n for p in new.predictors for gp in p.gps for n in gp.conditional):
        if name in model.named_vars:  # an exact GP at new points: drawn per draw, or its mean
            rv = model[name]
            mu, cov = rv.owner.op.dist_params(rv.owner)
            spliced[rv] = rv_on(rv, [mu, cov]) if gp_draws else mu
    shape = (posterior.sizes["chain"], posterior.sizes["draw"], len(new.coords["obs"]))
    return vectorized(model, outputs, posterior, spliced, holes, shape, random_seed, truncate)


def spliced_levels(rv: Tensor, trained: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """A level variable ``rv`` whose level dims were extended past its ``trained`` shape, as
    (its replacement, a placeholder): the placeholder stands for the training levels and takes
    their posterior draws; the new levels after them stay ``rv``'s distribution, drawn from the
    population given each draw's hyperparameters. E.g. ``z_g`` (5,) fitted, (7,) at the new rows:
    ``z_g[:5]`` are the draws, ``z_g[5:]`` two draws of Normal(0, 1) per posterior draw."""
    hole = pt.tensor(name=rv.name, shape=trained, dtype=rv.dtype)
    params = broadcast_params(rv)  # see broadcast_params
    op = rv.owner.op
    if isinstance(op, SymbolicRandomVariable) and not hasattr(op, "rv_op"):
        # A pm.CustomDist made from a function, which PyMC cannot rebuild on other parameters.
        # The one among level variables is the pair of a centred two-term block, (mean, sd,
        # corr): drawn by the function the module carries (hiermod.output.source_pair).
        if len(params) != 3 or op.ndim_supp != 1:  # pragma: no cover - hiermod writes no other
            raise NotImplementedError(f"new levels of {rv.name} cannot be drawn")
        mean, sd, corr = params
        new_levels = bivariate_normal_dist(mean, sd, corr, size=None)
    else:
        new_levels = rv_on(rv, params)
    return pt.set_subtensor(new_levels[tuple(slice(0, k) for k in trained)], hole), hole


def vectorized(
    model: pm.Model,
    outputs: list[Tensor],
    posterior: xr.Dataset,
    spliced: dict[Tensor, Tensor],
    holes: list[Tensor],
    shape: tuple[int, int, int],
    random_seed: int | None,
    truncate: tuple[float | np.ndarray | None, float | np.ndarray | None] | None = None,
) -> list[np.ndarray]:
    """``outputs`` of ``model`` at every draw of ``posterior``, after the ``spliced`` replacements
    (whose ``holes`` take posterior draws too), as (chain, draw, obs, …) arrays of ``shape`` in
    front (see :func:`evaluate`)."""
    free = [rv for rv in model.free_RVs if rv not in spliced]
    for rv in free:
        posterior_draws(posterior, rv.name)
    if spliced:
        outputs = list(graph_replace(outputs, spliced, strict=False))
        used = set(ancestors(outputs))  # a left-out block's level variables are no longer read
        free = [rv for rv in free if rv in used]
        holes = [hole for hole in holes if hole in used]
    # A response to draw is vectorised through its parameters and rebuilt on them afterwards:
    # PyTensor cannot vectorise every random variable itself (PyMC's Weibull is a symbolic one).
    # (A free variable among the outputs, e.g. a constant sigma, takes its posterior draws.)
    parts = [
        broadcast_params(out) if _is_random(out) and out not in free else None for out in outputs
    ]
    flat = [t for out, params in zip(outputs, parts, strict=True) for t in (params or [out])]
    # Each free variable is cut from the graph above it (a placeholder of its name takes its
    # draws): PyMC would otherwise resize every random variable it finds above, those inside a
    # pm.CustomDist's graph too, which it cannot (a centred two-term block's pair).
    cut = {rv: rv.type(name=rv.name) for rv in free}
    flat = list(graph_replace(flat, cut, strict=False))
    results = iter(vectorize_over_posterior(flat, posterior, [*cut.values(), *holes]))
    rebuilt = [
        next(results) if params is None else rv_on(out, [next(results) for _ in params])
        for out, params in zip(outputs, parts, strict=True)
    ]
    if truncate is not None:
        lower, upper = truncate
        rebuilt = [
            # size: PyMC's truncated normal would infer a wrong one from vectorised parameters
            r if params is None else pm.Truncated.dist(r, lower=lower, upper=upper, size=r.shape)
            for r, params in zip(rebuilt, parts, strict=True)
        ]
    function = compile_pymc([], rebuilt, random_seed=random_seed, mode="FAST_COMPILE")
    values = [np.asarray(v, dtype=float) for v in function()]
    # (an ordinal model's category probabilities keep their last dim: (chain, draw, obs, category))
    return [
        v if v.shape[:3] == shape else np.broadcast_to(v.reshape(_batch(v)), shape) for v in values
    ]


def _is_random(variable: Tensor) -> bool:
    op = variable.owner.op if variable.owner is not None else None
    return isinstance(op, RandomVariable | SymbolicRandomVariable)


def broadcast_params(rv: Tensor) -> list[Tensor]:
    """The parameters of the random variable ``rv``, each broadcast to ``rv``'s batch shape.

    Vectorised over the draws, each then has the (chain, draw) dims in front of the rows', so a
    variable rebuilt on them without a size (:func:`rv_on`) draws one value per chain, draw and
    row. E.g. a Weibull over 5 rows with a constant shape: ``shape`` () becomes (5,), then
    (chain, draw, 5), as ``beta`` (5,) does. With the size kept instead, PyTensor would extend it
    by the batch dims of the *first* parameter only: a Binomial whose ``n`` comes from the data, or
    a centred ``Normal(0, sd)``, would lose the (chain, draw) dims.
    """
    node = rv.owner
    op = node.op
    size = op.size_param(node)
    if size is None or isinstance(size.type, NoneTypeT):  # the parameters' own batch shape
        batch = list(pt.broadcast_shape(*op.dist_params(node)))
    else:  # not rv.shape: that graph holds rv itself, which is what cannot be vectorised
        batch = [size[i] for i in range(get_vector_length(size))]
    return [
        pt.broadcast_to(p, (*batch, *(p.shape[i] for i in range(p.ndim - core, p.ndim))))
        for p, core in zip(op.dist_params(node), op.ndims_params, strict=True)
    ]


def rv_on(rv: Tensor, params: list[Tensor]) -> Tensor:
    """``rv``'s distribution on new ``params``, without a size: its shape follows them."""
    op = rv.owner.op
    rng = shared(np.random.default_rng())  # seeded by compile_pymc(random_seed=...)
    if isinstance(op, SymbolicRandomVariable):
        out: Tensor = op.rebuild_rv(*params, rng=rng)
    else:
        out = op.make_node(rng, None, *params).default_output()
    out.name = rv.name
    return out


def _batch(value: np.ndarray) -> tuple[int, ...]:
    """``value``'s shape with length-1 axes where a draw-constant or row-constant value lacks one."""
    if value.ndim == 2:  # (chain, draw): a constant parameter
        return (*value.shape, 1)
    return (1, 1, *value.shape)  # (obs,) from the data, or a scalar
