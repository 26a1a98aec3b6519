"""Smooths ``s(x)`` in brms's mixed-model form: the basis fitted once, its constants in the schema.

brms passes ``s(x)`` through ``mgcv::smoothCon(absorb.cons = TRUE, diagonal.penalty = TRUE)`` and
``smooth2random``: the columns the penalty leaves free (``Xf``, the linear column of ``tp`` and
``cr``; none for ``cc``) become population columns, the others (``Zs``) get standard-normal
coefficients times one sd, ``sds``. This module fits the basis once on the training column and
keeps only what evaluates it again (:func:`~hiermod.data.runtime.tprs_basis`,
:func:`~hiermod.data.runtime.cubic_basis`), so new data and the exported source need no formulae.

``tp`` is mgcv's own construction, step by step (:mod:`hiermod.data.tprs`): brms's ``sds`` is a
scale on mgcv's parameterisation of the thin-plate basis, and formulae's is another rotation and
scaling of the same space. ``cr`` and ``cc`` are formulae's splines (``NaturalCubicSpline``,
``CyclicCubicSpline``: cardinal splines on mgcv's knots, the cyclic one's given to it as mgcv
places them, :func:`~hiermod.data.tensor.place_knots`) and their ``to_random()`` split with an
identity penalty, on mgcv's scale: ``smoothCon``'s default ``scale.penalty`` divides the penalty
``S`` by ``norm(S) / norm(X, "I")^2`` (1-norm of S over the squared row-sum norm of the
unconstrained design X) before the constraint is absorbed, so the penalised columns are
formulae's times the square root of that ratio (for mcycle's ``s(times, bs = "cr")``, 0.437).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from formulae.transforms import CyclicCubicSpline, NaturalCubicSpline

from hiermod.data.columns import column_kind, factorize
from hiermod.data.design import SmoothDesign
from hiermod.data.runtime import cubic_basis, level_codes, smooth_by, tprs_basis
from hiermod.data.tensor import Margin, place_knots, t2_basis, t2_fit
from hiermod.data.tprs import MAX_KNOTS, tprs_fit
from hiermod.data.transforms import Evaluator
from hiermod.formula.smooths import smooth_options, smooth_variables
from hiermod.formula.syntax import Call, Name
from hiermod.formula.terms import Block, Formula

__all__ = [
    "MAX_KNOTS",
    "is_smooth",
    "smooth_basis",
    "smooth_columns",
    "smooth_designs",
    "smooth_fit",
    "smooth_label",
    "varying_fit",
]


def is_smooth(atom: object) -> bool:
    """``s(…)`` or ``t2(…)`` (:mod:`hiermod.data.tensor`)."""
    return isinstance(atom, Call) and atom.func in ("s", "t2")


def _tolist(values: np.ndarray) -> Any:
    """Nested tuples of floats (a schema constant, written as a literal in the source)."""
    if values.ndim == 0:
        return float(values)
    return tuple(_tolist(v) for v in values)


def _penalty_scale(basis: np.ndarray, penalty: np.ndarray) -> float:
    """mgcv's ``maS = norm(S) / norm(X, "I")^2`` of an unconstrained basis and its penalty."""
    return float(np.abs(penalty).sum(axis=0).max() / np.abs(basis).sum(axis=1).max() ** 2)


_TABLES = ("shift", "sites", "radial", "poly")


def smooth_fit(x: np.ndarray, call: Call) -> dict[str, Any]:
    """The constants of ``call`` on the training column ``x``: the runtime function's arguments,
    the number of unpenalised columns first (``fixed``) and mgcv's penalty scale."""
    kind, k = smooth_options(call)
    if kind == "tp":  # mgcv's own construction (hiermod.data.tprs)
        fitted = tprs_fit(x, k)
        return {
            key: _tolist(np.asarray(value)) if key in _TABLES else value
            for key, value in fitted.items()
        }
    if kind == "cr":
        spline, raw = NaturalCubicSpline(), NaturalCubicSpline()
        spline(x, df=k - 1)
        raw_basis = raw(x, df=k, center=False)
    else:  # mgcv's cc: the cycle is the data's range, k knots, the two ends one
        lower, period = float(np.min(x)), float(np.ptp(x))
        knots = place_knots(x, k)[1:-1]  # mgcv's, given to formulae (hiermod.data.tensor)
        spline, raw = CyclicCubicSpline(), CyclicCubicSpline()
        spline(x, period=period, knots=knots, lower_bound=lower)
        raw_basis = raw(x, period=period, knots=knots, lower_bound=lower, center=False)
    fixed = spline.null_space_dimension
    scale = _penalty_scale(raw_basis, raw.penalty_matrix)
    # to_random(B) = B @ T; T from the identity, then the centring constraint in front of it.
    # Private state of formulae 0.9 (its eval's pieces): centring matrix, sites, radial map.
    width = spline.penalty_matrix.shape[0]
    transform = spline._centering_matrix @ spline.to_random(np.eye(width))
    transform[:, fixed:] *= np.sqrt(scale)
    state: dict[str, Any] = {"bs": kind, "fixed": fixed, "penalty_scale": scale}
    ppoly = spline._spline  # scipy's CubicSpline of the cardinal basis: c[power, interval, column]
    state["knots"] = _tolist(np.asarray(ppoly.x))
    state["coefs"] = _tolist(np.einsum("pmk,kq->mpq", ppoly.c, transform))
    return state


def varying_fit(x: np.ndarray, call: Call) -> dict[str, Any]:
    """The constants of ``s(x, by = v)`` with a numeric v that is not constant, as
    :func:`smooth_fit`'s: mgcv applies no sum-to-zero constraint (the by's values identify the
    smooth), so the penalty's whole null space stays, population columns (``tp``, ``cr``: 1 and x,
    ``cc``: the constant; each root mean square 1 over the rows), and the penalised columns are
    the eigenvectors of the penalty scaled by ``scale.penalty``, times ``D^-1/2``. The basis is
    the unconstrained margin of ``t2`` (:class:`~hiermod.data.tensor.Margin`), the same rule as
    ``t2``'s numeric by; the by multiplies it where it is evaluated."""
    kind, k = smooth_options(call)
    margin = Margin(x, kind, k)
    scale = _penalty_scale(margin.basis, margin.penalty)
    penalty = margin.penalty / scale
    values, vectors = np.linalg.eigh((penalty + penalty.T) / 2.0)
    rank = penalty.shape[0] - margin.null.shape[1]
    order = np.argsort(-values, kind="stable")[:rank]
    null = margin.null / np.sqrt(((margin.basis @ margin.null) ** 2).mean(axis=0))
    transform = np.column_stack([null, vectors[:, order] / np.sqrt(values[order])])
    state: dict[str, Any] = {"bs": kind, "fixed": null.shape[1], "penalty_scale": scale}
    keys = _TABLES if kind == "tp" else ("knots", "coefs")
    state.update(zip(keys, margin.mapped(transform), strict=True))
    return state


def smooth_basis(state: dict[str, Any], x: np.ndarray) -> np.ndarray:
    """Every column of the smooth at ``x``: the unpenalised ones first."""
    if state["bs"] == "t2":
        return t2_basis(state, x)
    if state["bs"] == "tp":
        return tprs_basis(x, state["shift"], state["sites"], state["radial"], state["poly"])
    return cubic_basis(x, state["knots"], state["coefs"], state["bs"] == "cc")


def _fit(evaluator: Evaluator, call: Call, x: np.ndarray) -> dict[str, Any]:
    """The constants of ``call`` on the training columns, its ``by``'s among them."""
    by = _by_levels(evaluator, call) if call.keyword("by") is not None else None
    if call.func == "t2":  # hiermod.data.tensor; a numeric by leaves it unconstrained (mgcv)
        try:
            state = t2_fit(x, call, centred=by != "numeric")
        except ValueError as problem:
            raise evaluator.error(f"{call}: {problem}", call.span, "lower k") from None
    else:
        distinct = np.unique(x, axis=0).shape[0]
        if distinct < smooth_options(call)[1]:
            what = " and ".join(map(str, smooth_variables(call)))
            raise evaluator.error(
                f"{call} needs at least k = {smooth_options(call)[1]} distinct values of "
                f"{what} ({distinct} found)",
                call.span,
                "lower k, e.g. s(x, k=5)",
            )
        try:  # a numeric by leaves it unconstrained (mgcv), as t2's
            state = varying_fit(x, call) if by == "numeric" else smooth_fit(x, call)
        except ValueError as problem:  # formulae's own checks (a singular penalty, …)
            raise evaluator.error(f"{call}: {problem}", call.span) from None
    if by is not None:
        by_column = call.keyword("by")
        assert by_column is not None
        state["by"] = str(by_column.value)
    if by == "numeric":
        state["by_numeric"] = True
    elif by is not None:
        state["by_levels"] = by
    return state


def _values(evaluator: Evaluator, call: Call) -> tuple[np.ndarray, int, tuple[Any, ...]]:
    """Every column of the smooth over the rows (fitted once), how many are unpenalised, and the
    ``by`` levels (``()`` without by): with by, each level's columns (:func:`smooth_by`); with a
    numeric by, the columns times it."""
    key = str(call)
    variables = smooth_variables(call)  # formula.smooths.check_smooth: one or two columns
    columns = [evaluator.numeric(v) for v in variables]
    x = columns[0] if len(columns) == 1 else np.column_stack(columns)
    if evaluator.fit and key not in evaluator.constants:
        evaluator.constants[key] = _fit(evaluator, call, x)
    state = evaluator.constants[key]
    basis, fixed = smooth_basis(state, x), int(state["fixed"])
    by = call.keyword("by")
    if state.get("by_numeric"):
        assert by is not None
        assert isinstance(by.value, Name)
        return basis * evaluator.numeric(by.value)[:, None], fixed, ()
    levels = tuple(state.get("by_levels", ()))
    if not levels:
        return basis, fixed, ()
    assert by is not None
    assert isinstance(by.value, Name)
    codes = level_codes(evaluator.columns[by.value.name], levels)
    if (codes < 0).any():
        unseen = evaluator.columns[by.value.name][codes < 0].iloc[0]
        raise evaluator.error(
            f"{call}: {by.value} has a level not seen when the model was fitted ({unseen!r})",
            by.span,
            f"its levels are: {', '.join(map(str, levels))}",
        )
    return smooth_by(basis, codes, len(levels), fixed), fixed * len(levels), levels


def _by_levels(evaluator: Evaluator, call: Call) -> tuple[Any, ...] | str:
    """The levels of a categorical ``by``; ``"numeric"`` for a numeric one (a varying-coefficient
    smooth: refused when the column is constant, where mgcv would keep the sum-to-zero
    constraint)."""
    by = call.keyword("by")
    assert by is not None
    assert isinstance(by.value, Name)
    series = evaluator.columns[by.value.name]
    if column_kind(series) == "categorical":
        return factorize(series)[1]
    values = evaluator.numeric(by.value)
    if np.ptp(values) == 0.0:
        raise evaluator.error(
            f"{call}: the numeric by {by.value} is constant (the smooth times a number)",
            by.span,
            f"drop by = {by.value}, or make {by.value} categorical",
        )
    return "numeric"


def smooth_columns(evaluator: Evaluator, call: Call) -> tuple[np.ndarray, list[str]]:
    """The unpenalised columns of ``s(x)`` as population columns (:func:`smooth_label`)."""
    basis, fixed, levels = _values(evaluator, call)
    per_level = fixed // max(1, len(levels))
    return basis[:, :fixed], [smooth_label(call, j, levels, per_level) for j in range(fixed)]


def smooth_label(call: Call, j: int, levels: tuple[Any, ...], per_level: int) -> str:
    """Unpenalised column ``j``: ``s(x)[1]``; with by, level by level, ``s(x, by=f)[1]:f[a]``."""
    if not levels:
        return f"{call}[{j + 1}]"
    by = call.keyword("by")
    assert by is not None
    return f"{call}[{j % per_level + 1}]:{by.value}[{levels[j // per_level]}]"


def smooth_designs(f: Formula, evaluator: Evaluator) -> tuple[SmoothDesign, ...]:
    """The penalised part of each smooth of ``f`` (one per level of a by); a smooth in an
    interaction or in a group block is refused (brms writes ``s(x, by = z)`` for the one, and
    has no such block)."""
    for block in f.blocks:
        _refuse(evaluator, block)
    out = []
    for term in f.terms:
        calls = [a for a in term.factors if is_smooth(a)]
        if calls and len(term.factors) > 1:
            raise evaluator.error(
                f"a smooth cannot be part of an interaction: {term}",
                calls[0].span,
                "s(x, by = f) is one smooth per level of f",
            )
        for call in calls:
            assert isinstance(call, Call)
            basis, fixed, levels = _values(evaluator, call)
            variable = "".join(map(str, smooth_variables(call)))  # s(x, z): brms's sxz_1
            by = call.keyword("by")  # brms's names: t2xzfa_1 (f's level a), t2xzv_1 (numeric v)
            names = [] if by is None else [f"{by.value}{level}" for level in levels or ("",)]
            if call.func == "t2":  # one design per penalty: brms's t2xz_1, …, t2xzfa_1, …
                blocks = evaluator.constants[str(call)]["blocks"]
                out += _blocks(call, variable, basis, fixed, blocks, names or [""])
                continue
            q = (basis.shape[1] - fixed) // max(1, len(levels))
            for i, name in enumerate(names or [""]):
                span = (fixed + i * q, fixed + (i + 1) * q)
                Z = basis[:, span[0] : span[1]]
                out.append(SmoothDesign(str(call), variable, Z, name, span))
    return tuple(out)


def _blocks(
    call: Call,
    variable: str,
    basis: np.ndarray,
    fixed: int,
    widths: tuple[int, ...],
    levels: list[str],
) -> list[SmoothDesign]:
    """The penalised blocks of ``t2(…)``, each its own smooth design (and sd), level by level of
    a by (``levels`` its names, ``[""]`` without)."""
    out, start = [], fixed
    for level in levels:
        for j, width in enumerate(widths):
            span = (start, start + int(width))
            Z = basis[:, span[0] : span[1]]
            out.append(SmoothDesign(str(call), variable, Z, level, span, j + 1))
            start = span[1]
    return out


def _refuse(evaluator: Evaluator, block: Block) -> None:
    for term in block.terms:
        for atom in term.factors:
            if is_smooth(atom):
                raise evaluator.error(
                    "a smooth cannot be a group-level term",
                    atom.span,
                    "write the smooth outside the block: y ~ s(x) + (1 | g)",
                )
