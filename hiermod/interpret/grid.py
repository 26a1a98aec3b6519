"""The rows an interpretation predicts: reference grids, typical values, and the model's variables.

Every table of :mod:`hiermod.interpret` is a summary of :meth:`hiermod.Model.predict` on rows made
here, so each number is exactly a prediction (or a difference of two) the user could make by hand.

**Typical values** hold every variable an analysis does not vary (for predictors, brms's
``conditional_effects`` rule; ``at={"x2": 1.0}`` overrides any):

- a numeric predictor: its mean over the training rows (``center(x)`` is then 0);
- a categorical predictor: its reference level (the level its dummy coding leaves out; the first
  level for a full or sum coding), e.g. ``f`` with levels a, b, c is held at a;
- ``trials(n)``: 1 (the binomial mean is then the probability of success); ``se(s)``: its mean;
- a grouping factor: no value, so the prediction leaves its group effects out (brms's
  ``re_formula = NA``) — unless the analysis names it (``"Days:Subject"``, ``by="Subject"``, ``at``).

**Values of a variable that is shown** (:func:`shown_values`): every level of a categorical or a
grouping factor; for a numeric one on the x axis ``resolution`` points evenly spaced over its
training range; for a numeric one that separates lines or panels its mean − sd, mean, mean + sd (as
brms does for the second variable of an interaction); for a numeric one whose means are averaged
(:func:`~hiermod.interpret.effects.marginal_means`) its distinct values when there are at most
:data:`MAX_DISTINCT` (a 0/1 ``floor``, ``Days`` 0 to 9). ``at`` gives them instead: ``at={"Days": [0, 9]}``.

**Group effects** (``groups=``): ``None`` (default) includes exactly the groupings whose factors the
rows hold; ``False`` none; ``True`` every grouping, a grouping factor the rows lack taking a new level
drawn from the population (the prediction for a new subject); or the groupings named.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from hiermod.arguments import check_type
from hiermod.data.columns import column_kind, factorize
from hiermod.data.design import ColumnSchema, Level, Schema
from hiermod.errors import ArgumentError, DataError
from hiermod.formula.syntax import Call, Name
from hiermod.formula.terms import Term

__all__ = [
    "MAX_DISTINCT",
    "GroupsChoice",
    "ModelView",
    "Predict",
    "listed",
    "names_of",
    "reference_grid",
    "shown_values",
    "with_groups",
]

MAX_DISTINCT = 12
GroupsChoice = bool | str | Sequence[str] | None
Predict = Callable[[pd.DataFrame, str, bool | tuple[str, ...], str], xr.DataArray]
"""``predict(rows, kind, groups, new_levels)``: :meth:`hiermod.Model.predict` of a fit, dims
(chain, draw, obs)."""


@dataclass(frozen=True, eq=False)
class ModelView:
    """What an interpretation reads from a model and its fit: the schema, the training rows (for
    typical values and points), the encoded response, and a ``predict`` bound to the fit."""

    schema: Schema
    training: pd.DataFrame
    response: np.ndarray
    trials: np.ndarray | None
    predict: Predict

    @cached_property
    def groupings(self) -> dict[str, tuple[str, ...]]:
        """Each grouping as written (``"Subject"``, ``"g:h"``) and its factor columns."""
        return {str(b.grouping): b.factors for f in self.schema.formula.formulas for b in f.blocks}

    @cached_property
    def predictors(self) -> tuple[str, ...]:
        """The columns population terms, offsets and group-level effects read (not groupings)."""
        pieces: list[Term] = []
        for formula in self.schema.formula.formulas:
            pieces += [*formula.terms, *(Term((o,)) for o in formula.offsets)]
            pieces += [t for block in formula.blocks for t in block.terms]
        return tuple(dict.fromkeys(n for term in pieces for n in term.names()))

    @cached_property
    def grouping_factors(self) -> tuple[str, ...]:
        every = (f for factors in self.groupings.values() for f in factors)
        return tuple(dict.fromkeys(f for f in every if f not in self.predictors))

    @cached_property
    def additions(self) -> dict[str, str]:
        """Columns of the response's additions by their function: ``{"n": "trials"}``."""
        response = self.schema.formula.response
        calls = response.additions if response is not None else ()
        return {n: call.func for call in calls for n in Term((call,)).names()}

    @cached_property
    def _coded(self) -> dict[str, ColumnSchema]:
        """The categorical coding of each column: its own, or that of the first ``C()`` or ``mo()``
        reading it (``C(year)`` makes the numbers of ``year`` levels, with reference its first)."""
        coded = {n: c for n, c in self.schema.columns.items() if c.kind == "categorical"}
        for formula in self.schema.formula.formulas:
            atoms = [a for t in formula.terms for a in t.factors]
            atoms += [a for b in formula.blocks for t in b.terms for a in t.factors]
            for atom in atoms:
                # mo(k) too: integers 1..4 are its categories, not numbers to average
                if not (isinstance(atom, Call) and atom.func in ("C", "mo") and atom.args):
                    continue
                column, first = self.schema.columns.get(str(atom)), atom.args[0]
                if column is not None and isinstance(first, Name):
                    coded.setdefault(first.name, column)
        return coded

    def check(self, name: str) -> str:
        """``name`` if it is a variable of the model, else a :class:`DataError` with the closest."""
        known = [*self.predictors, *self.grouping_factors, *self.additions]
        if name in known:
            return name
        guess = difflib.get_close_matches(name, known, n=1)
        raise DataError(
            f"{name!r} is not a variable of the model",
            hint=f"did you mean {guess[0]!r}?" if guess else f"its variables: {', '.join(known)}",
        )

    def is_numeric(self, name: str) -> bool:
        if name in self._coded or name in self.grouping_factors:
            return False
        if name in self.schema.columns:
            return self.schema.columns[name].kind == "numeric"
        return column_kind(self.training[name]) == "numeric"

    def levels(self, name: str) -> tuple[Level, ...]:
        """A categorical's levels in code order (a grouping factor's level table)."""
        if name in self._coded:
            return self._coded[name].levels
        if name in self.schema.factor_levels:
            return self.schema.factor_levels[name]
        return factorize(self.training[name])[1]

    def typical(self, name: str) -> Level:
        """The value that holds ``name`` when it is not shown (see the module docstring)."""
        if self.additions.get(name) == "trials":
            return 1
        if self.is_numeric(name):
            return float(np.mean(self.training[name].to_numpy(dtype=float)))
        coding = self._coded.get(name)
        if coding is not None and coding.reference is not None:
            return coding.reference
        return self.levels(name)[0]


def names_of(spec: str | Sequence[str] | None, argument: str = "by") -> tuple[str, ...]:
    """Variable names from ``"Days:Subject"``, ``["Days", "Subject"]``, ``"Days"`` or ``None``."""
    if spec is None:
        return ()
    if isinstance(spec, str):
        return tuple(part.strip() for part in spec.split(":"))
    if not isinstance(spec, Sequence) or not all(isinstance(n, str) for n in spec):
        raise ArgumentError(
            f"{argument} names variables: 'x', 'x:z' or a list of names, not {spec!r}"
        )
    return tuple(spec)


def given_at(at: Mapping[str, object] | None) -> dict[str, object]:
    """``at`` as a dict of values by variable name (``at={"x": 1.0}``); None is no values."""
    if at is None:
        return {}
    check_type("at", at, Mapping, "a dict of values by variable, e.g. {'x': 1.0}")
    if not all(isinstance(name, str) for name in at):
        raise ArgumentError(f"at's keys are variable names, not {list(at)!r}")
    return dict(at)


def listed(value: object) -> list[Any]:
    """``at`` values as a list: ``1.0`` → ``[1.0]``, ``[0, 9]`` → ``[0, 9]``."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        return [value]
    return list(value)


def shown_values(
    view: ModelView, name: str, rule: str, at: Mapping[str, object], resolution: int = 100
) -> list[Any]:
    """The values at which ``name`` is shown, by ``rule``: ``"range"`` (the x axis), ``"spread"``
    (lines or panels) or ``"distinct"`` (averaged means); ``at[name]`` when given."""
    if name in at:
        return listed(at[name])
    if not view.is_numeric(name):
        return list(view.levels(name))
    values = view.training[name].to_numpy(dtype=float)
    if rule == "range":
        return [float(v) for v in np.linspace(values.min(), values.max(), resolution)]
    if rule == "spread":
        mean, sd = values.mean(), values.std(ddof=1)
        return [mean - sd, mean, mean + sd]
    distinct: list[Any] = np.unique(view.training[name].to_numpy()).tolist()  # ints stay ints
    if len(distinct) > MAX_DISTINCT:
        raise DataError(
            f"{name!r} is numeric with {len(distinct)} distinct values",
            hint=f"say where to evaluate it, e.g. at={{{name!r}: [{distinct[0]:g}, {distinct[-1]:g}]}}",
        )
    return distinct


def reference_grid(
    view: ModelView, shown: Mapping[str, list[Any]], at: Mapping[str, object]
) -> pd.DataFrame:
    """Every combination of the ``shown`` values (the last varies fastest), with each other variable
    at ``at`` or its typical value; grouping factors only when shown or in ``at``.

    E.g. ``{"f": ["a", "b"], "x": [0, 1]}`` gives the rows (a, 0), (a, 1), (b, 0), (b, 1), columns
    in the order shown, then the held variables.
    """
    for name in [*shown, *at]:
        view.check(name)
    index = pd.MultiIndex.from_product(list(shown.values()), names=list(shown))
    grid = index.to_frame(index=False)
    held = [n for n in (*view.predictors, *view.additions) if n not in shown]
    held += [n for n in view.grouping_factors if n in at and n not in shown]
    for name in held:
        values = listed(at[name]) if name in at else [view.typical(name)]
        if len(values) != 1:
            raise DataError(
                f"at= gives {len(values)} values of {name!r}, which is not shown",
                hint="to show several values of it, name it in the effect or in by=",
            )
        grid[name] = [values[0]] * len(grid)
    return grid


def with_groups(
    view: ModelView, rows: pd.DataFrame, groups: GroupsChoice
) -> tuple[pd.DataFrame, bool | tuple[str, ...], str]:
    """The rows to predict and the ``groups`` and ``new_levels`` arguments of ``predict`` (see the
    module docstring).

    With ``groups=True`` a factor of a grouping the rows lack gets a new level, ``"new Subject"``
    for ``Subject``, whose effects each posterior draw takes from the population
    (``new_levels="population"``). Levels the rows give (``at={"Subject": 999}``) must be levels
    of the fit: an unseen one is an error, as in ``predict``.
    """
    if groups is None:
        present = set(rows.columns)
        named = tuple(g for g, factors in view.groupings.items() if set(factors) <= present)
        return rows, named, "error"
    if groups is False:
        return rows, False, "error"
    named = tuple(view.groupings) if groups is True else names_of_groupings(groups)
    factors = {f for g in named for f in view.groupings.get(g, ())}
    missing = sorted(f for f in factors if f not in rows.columns)
    if missing:
        rows = rows.assign(**{f: _new_level(view, f) for f in missing})
    return rows, True if groups is True else named, "population" if missing else "error"


def names_of_groupings(groups: str | Sequence[str]) -> tuple[str, ...]:
    return (groups,) if isinstance(groups, str) else tuple(groups)


def _new_level(view: ModelView, factor: str) -> str:
    """A label no level of ``factor`` has: ``"new Subject"`` (``"new Subject 2"`` if taken)."""
    taken = {str(level) for level in view.schema.factor_levels.get(factor, ())}
    label, k = f"new {factor}", 1
    while label in taken:
        k += 1
        label = f"new {factor} {k}"
    return label
