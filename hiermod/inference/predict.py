"""Predictions from posterior draws, in NumPy, following the IR exactly (no PyMC recompilation).

For each distributional parameter with a formula the linear predictor is rebuilt as
:mod:`hiermod.output.build` builds it::

    eta = Intercept + X @ b + sum over blocks and effects j of r_j[flat index] * Z[:, j] + offset

where ``r`` comes from the posterior draws (``r_<stem>``) and the flat index is the row's level
(``single`` layout), its position in the (g1, g2, …) product (``dense``) or its observed cell
(``observed``). New data are encoded with the training schema (:func:`hiermod.data.binder.apply_schema`):
same dummy columns, centring constants, spline bases and level codes.

**New group levels** (a level, or a cell of an ``observed`` interaction, the fit never saw) get effects
drawn from the population, per posterior draw: ``z ~ N(0, I)`` and ``r = z @ chol.T`` (a correlated
block, with the posterior Cholesky factor) or ``r = z * sd`` — one draw per new level, shared by all
of its rows. ``new_levels="error"`` raises :class:`~hiermod.errors.DataError` instead. Unseen levels of
a categorical *predictor* are always an error (there is no population to draw a contrast from).

``kind="mean"`` is the expected response (brms's ``posterior_epred``): the inverse link of ``eta`` —
a probability (bernoulli), a rate (poisson) — times ``trials`` for the binomial, and
``exp(mu + sigma²/2)`` for the lognormal. ``kind="response"`` draws new responses from the likelihood
(posterior predictive); known ``se()`` and ``trials()`` come from the data.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr

from hiermod.data.binder import apply_schema
from hiermod.data.design import BlockDesign, Design, FormulaDesign
from hiermod.errors import DataError
from hiermod.inference.fit_groups import read_group
from hiermod.plan.ir import BlockIR, ConstantIR, ModelIR, PredictorIR

__all__ = ["distributional_parameters", "predict"]

Kind = Literal["mean", "response"]
NewLevels = Literal["population", "error"]


def _inverse_link(link: str, eta: np.ndarray) -> np.ndarray:
    """NumPy twin of :func:`hiermod.output.build.inverse_link`."""
    out: np.ndarray
    if link == "identity":
        out = eta
    elif link == "log":
        out = np.exp(eta)
    elif link == "logit":
        out = 1.0 / (1.0 + np.exp(-eta))
    elif link == "probit":
        from scipy.special import ndtr

        out = np.asarray(ndtr(eta))
    elif link == "cloglog":
        out = -np.expm1(-np.exp(eta))
    else:
        raise ValueError(f"unknown link {link!r}")  # pragma: no cover - families check links
    return out


def _draws(idata: xr.DataTree, name: str) -> np.ndarray:
    """A posterior variable as a NumPy array (chain, draw, …)."""
    posterior = read_group(idata)
    if name not in posterior:
        raise DataError(
            f"the posterior has no variable {name!r}: this DataTree is not a fit of this model",
            hint="use the model the fit was made with (hm.Model.from_idata rebuilds it)",
        )
    return np.asarray(posterior[name].values, dtype=float)


def _cholesky(block: BlockIR, idata: xr.DataTree) -> np.ndarray:
    """The posterior Cholesky factor of the block's covariance, (chain, draw, k, k).

    From the packed ``chol_<stem>`` draws (lower triangle in row-major order, as PyMC packs it), or
    from ``sd`` and ``corr`` when the packed factor was not kept.
    """
    k = block.size
    if block.chol is not None and block.chol.name in read_group(idata):
        packed = _draws(idata, block.chol.name)
        chol = np.zeros((*packed.shape[:2], k, k))
        rows, cols = np.tril_indices(k)
        chol[..., rows, cols] = packed
        return chol
    assert block.corr is not None
    sd = _draws(idata, block.sd.name)
    pairs = _draws(idata, block.corr.name)  # (chain, draw, pair): the upper triangle
    corr = np.broadcast_to(np.eye(k), (*pairs.shape[:2], k, k)).copy()
    rows, cols = np.triu_indices(k, 1)
    corr[..., rows, cols] = corr[..., cols, rows] = pairs
    return sd[..., :, None] * np.linalg.cholesky(corr)


def _population_draws(
    block: BlockIR, idata: xr.DataTree, n_new: int, rng: np.random.Generator
) -> np.ndarray:
    """Effects of ``n_new`` unseen levels drawn from the population: (chain, draw, n_new, k)."""
    posterior = read_group(idata)
    shape = (int(posterior.sizes["chain"]), int(posterior.sizes["draw"]), n_new, block.size)
    z = rng.standard_normal(shape)
    if block.correlated:
        chol = _cholesky(block, idata)
        correlated: np.ndarray = np.einsum("cdnk,cdjk->cdnj", z, chol)
        return correlated
    sd = _draws(idata, block.sd.name).reshape((*shape[:2], 1, block.size))
    independent: np.ndarray = z * sd
    return independent


def _flat_index(block: BlockIR, bd: BlockDesign) -> np.ndarray:
    """Each row's position among the block's levels, as the build indexes them; -1 when unseen."""
    if block.layout == "single":
        return bd.codes[0]
    if block.layout == "observed":
        return bd.cell
    sizes = tuple(len(levels) for levels in bd.grouping.levels)
    codes = np.stack(bd.codes)
    known = (codes >= 0).all(axis=0)
    flat = np.full(codes.shape[1], -1, dtype=np.int64)
    if known.any():
        flat[known] = np.ravel_multi_index(tuple(codes[:, known]), sizes)
    return flat


def _unseen_labels(bd: BlockDesign, unseen: np.ndarray, frame: pd.DataFrame) -> list[str]:
    """The raw level text of each ``unseen`` row: ``"g07"`` or ``"g07:red"`` for an interaction."""
    parts = [frame[f].to_numpy()[unseen].astype(str) for f in bd.grouping.factors]
    return [":".join(values) for values in zip(*parts, strict=True)]


def _unseen_error(block: BlockIR, labels: list[str]) -> DataError:
    values = list(dict.fromkeys(labels))
    shown = ", ".join(repr(v) for v in values[:5]) + (
        f" and {len(values) - 5} more" if len(values) > 5 else ""
    )
    return DataError(
        f"the grouping of {block.block} has levels the fit never saw: {shown} ({len(labels)} rows)",
        hint="pass new_levels='population' to draw their effects from the population distribution",
    )


def _block_part(
    block: BlockIR,
    bd: BlockDesign,
    idata: xr.DataTree,
    frame: pd.DataFrame | None,
    new_levels: NewLevels,
    rng: np.random.Generator,
) -> np.ndarray:
    """The block's contribution to each row's linear predictor: (chain, draw, n)."""
    r = _draws(idata, block.r.name)
    chains, draws = r.shape[:2]
    effects = r.reshape(chains, draws, block.n_levels, block.size)
    index = _flat_index(block, bd)
    unseen = index < 0
    if unseen.any():
        assert frame is not None  # the training rows have no unseen levels
        labels = _unseen_labels(bd, unseen, frame)
        if new_levels == "error":
            raise _unseen_error(block, labels)
        ids = np.asarray(pd.factorize(np.asarray(labels, dtype=object))[0], dtype=np.int64)
        extra = _population_draws(block, idata, int(ids.max()) + 1, rng)
        effects = np.concatenate([effects, extra], axis=2)
        index = index.copy()
        index[unseen] = block.n_levels + ids
    total = np.zeros((chains, draws, index.shape[0]))
    for j in range(block.size):
        total += effects[:, :, index, j] * bd.Z[:, j]
    return total


def _eta(
    predictor: PredictorIR,
    fd: FormulaDesign,
    idata: xr.DataTree,
    frame: pd.DataFrame | None,
    new_levels: NewLevels,
    rng: np.random.Generator,
) -> np.ndarray:
    """``Intercept + X @ b + blocks + offset`` for every draw and row: (chain, draw, n)."""
    posterior = read_group(idata)
    n = fd.X.shape[0]
    eta = np.zeros((int(posterior.sizes["chain"]), int(posterior.sizes["draw"]), n))
    pop = predictor.population
    if pop.intercept is not None:
        eta += _draws(idata, pop.intercept.name)[..., None]
    if pop.coefficients is not None:
        eta += _draws(idata, pop.coefficients.name) @ fd.X.T
    for block, bd in zip(predictor.blocks, fd.blocks, strict=True):
        eta += _block_part(block, bd, idata, frame, new_levels, rng)
    if predictor.offset is not None and fd.offset is not None:
        eta += fd.offset
    return eta


def _design(
    ir: ModelIR,
    training: Design,
    data: pd.DataFrame | None,
    new_levels: NewLevels,
    streamed: bool,
) -> tuple[Design, pd.DataFrame | None, np.ndarray]:
    """The design of the rows to predict, the frame of raw values, and the ``obs`` coordinate."""
    if new_levels not in ("population", "error"):
        raise ValueError(f"new_levels must be 'population' or 'error', not {new_levels!r}")
    if data is None:
        if streamed:
            raise DataError(
                "a streamed model keeps no training rows to predict",
                hint="pass the rows to predict: m.predict(idata, data=df)",
            )
        return training, None, np.asarray(ir.coords["obs"])
    # Unseen group levels are always let through here; _block_part draws them or raises.
    design = apply_schema(training.schema, data, new_levels="allow")
    frame = data.iloc[design.rows] if design.rows.shape[0] != len(data) else data
    return design, frame.reset_index(drop=True), np.asarray(data.index[design.rows])


def _dpars(
    ir: ModelIR,
    idata: xr.DataTree,
    design: Design,
    frame: pd.DataFrame | None,
    obs: np.ndarray,
    new_levels: NewLevels,
    rng: np.random.Generator,
) -> dict[str, xr.DataArray]:
    posterior = read_group(idata)
    coords = {"chain": posterior["chain"].values, "draw": posterior["draw"].values, "obs": obs}
    shape = (posterior.sizes["chain"], posterior.sizes["draw"], obs.shape[0])
    out: dict[str, xr.DataArray] = {}
    for name, source in ir.likelihood.dpars:
        if isinstance(source, PredictorIR):
            fd = design.dpar(name)
            assert fd is not None
            value = _inverse_link(source.link, _eta(source, fd, idata, frame, new_levels, rng))
        elif isinstance(source, ConstantIR):
            value = np.broadcast_to(_draws(idata, source.param.name)[..., None], shape)
        else:  # a data container: se()
            if design.se is None:
                raise DataError("the new data need the se() column of the formula to predict")
            value = np.broadcast_to(design.se, shape)
        out[name] = xr.DataArray(value, dims=("chain", "draw", "obs"), coords=coords, name=name)
    return out


def distributional_parameters(
    ir: ModelIR,
    training: Design,
    idata: xr.DataTree,
    data: pd.DataFrame | None = None,
    *,
    streamed: bool = False,
    new_levels: NewLevels = "population",
    random_seed: int | None = None,
) -> dict[str, xr.DataArray]:
    """Every distributional parameter per draw and row, on its natural scale: ``mu``, ``sigma``, …

    ``mu`` is the inverse link of the mean's linear predictor (a probability, a rate; for the
    lognormal the mean of ``log y``). Constants (``sigma`` without a formula) are broadcast to rows;
    a known ``se()`` comes from the data. ``ir`` and ``training`` are the model's plan and design
    (``streamed``: the design keeps no training rows, so ``data`` is needed). Example: per-row noise
    sd of a ``sigma ~ (1 | g)`` model, through :func:`hiermod.model.distributional_parameters`::

        hiermod.model.distributional_parameters(m, idata)["sigma"].mean(("chain", "draw"))
    """
    design, frame, obs = _design(ir, training, data, new_levels, streamed)
    rng = np.random.default_rng(random_seed)
    return _dpars(ir, idata, design, frame, obs, new_levels, rng)


def _trials(design: Design) -> np.ndarray:
    if design.trials is None:
        raise DataError(
            "binomial predictions need the number of trials: the new data lack the trials() column",
            hint=f"add the column used in {design.schema.formula.main.response}",
        )
    return design.trials


def predict(
    ir: ModelIR,
    training: Design,
    idata: xr.DataTree,
    data: pd.DataFrame | None = None,
    *,
    streamed: bool = False,
    kind: Kind = "mean",
    new_levels: NewLevels = "population",
    random_seed: int | None = None,
) -> xr.DataArray:
    """Expected responses (``kind="mean"``) or new responses (``"response"``): dims (chain, draw, obs).

    ``ir`` and ``training`` are the model's plan and design; ``data=None`` predicts the rows the
    model was fitted to (a ``streamed`` model keeps none). See the module docstring for new levels.

    Example:
        >>> p = m.predict(idata, data=new_df)              # doctest: +SKIP
        >>> p.mean(("chain", "draw"))                      # doctest: +SKIP
    """
    if kind not in ("mean", "response"):
        raise ValueError(f"kind must be 'mean' or 'response', not {kind!r}")
    rng = np.random.default_rng(random_seed)
    design, frame, obs = _design(ir, training, data, new_levels, streamed)
    dpars = _dpars(ir, idata, design, frame, obs, new_levels, rng)
    mu = dpars["mu"]
    family = ir.likelihood.family
    values = mu.values
    if kind == "mean":
        if family == "binomial":
            values = values * _trials(design)
        elif family == "lognormal":
            values = np.exp(values + dpars["sigma"].values ** 2 / 2.0)
    else:
        values = _draw_response(family, dpars, rng, design)
    name = ir.likelihood.name
    return xr.DataArray(
        values, dims=mu.dims, coords=mu.coords, name=name, attrs={"kind": kind, "family": family}
    )


def _draw_response(
    family: str, dpars: dict[str, xr.DataArray], rng: np.random.Generator, design: Design
) -> np.ndarray:
    return np.asarray(_draw(family, dpars, rng, design), dtype=float)


def _draw(
    family: str, dpars: dict[str, xr.DataArray], rng: np.random.Generator, design: Design
) -> Any:
    """One draw from the likelihood per posterior draw and row (NumPy generators, PyMC's params)."""
    mu = dpars["mu"].values
    value = {k: v.values for k, v in dpars.items()}
    if family == "gaussian":
        return rng.normal(mu, value["sigma"])
    if family == "student_t":
        return mu + value["sigma"] * rng.standard_t(value["nu"])
    if family == "bernoulli":
        return rng.binomial(1, mu).astype(float)
    if family == "binomial":
        return rng.binomial(_trials(design), mu).astype(float)
    if family == "poisson":
        return rng.poisson(mu).astype(float)
    if family == "negativebinomial":  # PyMC's NegativeBinomial(mu, alpha): a gamma–Poisson mixture
        alpha = value["alpha"]
        return rng.poisson(rng.gamma(alpha, mu / alpha)).astype(float)
    if family == "gamma":  # Gamma(alpha, beta = alpha / mu): scale mu / alpha
        return rng.gamma(value["alpha"], mu / value["alpha"])
    if family == "lognormal":
        return rng.lognormal(mu, value["sigma"])
    if family == "beta":
        phi = value["phi"]
        return rng.beta(mu * phi, (1.0 - mu) * phi)
    raise ValueError(f"unknown family {family!r}")  # pragma: no cover - families are checked
