"""Data → :class:`Design`: an immutable schema plus the arrays a model needs.

The schema (:class:`Schema`) holds every data-dependent decision: column kinds, categorical levels and
reference levels, grouping-factor level tables, the observed cells of each grouping interaction, and
transform state (centring means, polynomial and spline coefficients). It is reused unchanged for new data
in ``predict`` so new rows are encoded exactly like the training rows.

Nothing here builds a rows × levels one-hot of a grouping factor: groupings become integer codes.

This module holds the values: the schema's dataclasses, the :class:`Design` and its parts, and
:func:`term_codings` (R's rule for dummy coding). :func:`~hiermod.data.binder.bind` makes the schema
from the training data and the arrays; :func:`~hiermod.data.binder.apply_schema` encodes new data with
a stored schema (:mod:`hiermod.data.binder`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from hiermod.data.gp import GPDesign
from hiermod.data.runtime import cell_labels, level_labels
from hiermod.formula.terms import Atom, Block, ModelFormula, Term

__all__ = [
    "BlockDesign",
    "ByDesign",
    "ColumnSchema",
    "Contrast",
    "DataMoments",
    "Design",
    "FormulaDesign",
    "GroupingSchema",
    "MonotonicDesign",
    "Schema",
    "SmoothDesign",
    "TransformState",
    "term_codings",
]

Level = Any  # a level value as found in the data: str, int, float or bool
Contrast = Literal["treatment", "sum"]


@dataclass(frozen=True, slots=True)
class ColumnSchema:
    """How one data column (or one ``C()`` call, named by its text) is read.

    ``kind`` is ``"numeric"`` or ``"categorical"``; a categorical column has ``levels`` in code order
    (pandas categories in their order, other values sorted, or the order of ``C(f, levels=…)``) and
    its ``contrast``: ``"treatment"`` leaves out ``reference``; ``"sum"`` (R's ``contr.sum``, written
    ``C(f, sum)``) has no reference and leaves out the last level, which gets -1 in every column.
    """

    name: str
    kind: Literal["numeric", "categorical"]
    levels: tuple[Level, ...] = ()
    reference: Level | None = None
    contrast: Contrast = "treatment"

    def coded_levels(self, full: bool) -> tuple[int, ...]:
        """The positions of the levels that get a column, in order.

        ``full`` (no margin in the model, :func:`term_codings`): every level, one indicator each.
        Else, for levels (a, b, c): treatment with reference a gives (1, 2), the indicators of b
        and c; sum gives (0, 1), the columns of a and b, each its indicator minus c's.
        """
        every = range(len(self.levels))
        if full:
            return tuple(every)
        if self.contrast == "sum":
            return tuple(every)[:-1]
        reference = self.levels.index(self.reference)
        return tuple(j for j in every if j != reference)

    def columns(self, codes: np.ndarray, full: bool) -> np.ndarray:
        """The (n, k) columns of rows with these level ``codes``, k = ``len(coded_levels(full))``.

        For sum coding of levels (a, b, c), rows a, b, c give (1, 0), (0, 1), (-1, -1), as R's
        ``model.matrix(~ C(f, contr.sum))``; otherwise 0/1 indicators.
        """
        kept = np.asarray(self.coded_levels(full), dtype=np.int64)
        values: np.ndarray = (codes[:, None] == kept).astype(np.float64)
        if self.contrast == "sum" and not full:
            values[codes == len(self.levels) - 1, :] = -1.0
        return values


@dataclass(frozen=True, slots=True)
class TransformState:
    """Data-dependent constants of a stateful call, keyed by the call's canonical text.

    ``center(x)``: ``{"mean": m}``; ``scale(x)``: ``{"mean": m, "sd": s}``;
    ``poly(x, 2)``: ``{"alpha": (...), "norm2": (...)}`` (R's three-term recurrence);
    ``bs(x, df=4)``: ``{"knots": (...), "boundary": (lo, hi), "degree": 3}``.
    """

    call: str
    values: tuple[tuple[str, Any], ...]

    def get(self, key: str) -> Any:
        return dict(self.values)[key]


@dataclass(frozen=True, slots=True, eq=False)
class GroupingSchema:
    """The levels of one grouping (``g`` or the interaction ``g1:g2``).

    ``factors`` are the grouping columns; ``levels[i]`` is the level table of ``factors[i]`` (shared by
    every block that uses that column, so a dim called ``group`` means the same thing everywhere).
    ``cells`` lists the observed combinations as rows of level codes, in order of first appearance
    sorted lexicographically by code; for a single factor it is every level that occurs.
    """

    factors: tuple[str, ...]
    levels: tuple[tuple[Level, ...], ...]
    cells: np.ndarray  # (n_cells, n_factors) int64 codes into ``levels``

    @property
    def n_cells(self) -> int:
        return int(self.cells.shape[0])

    @property
    def n_combinations(self) -> int:
        """Size of the full product of the factors' levels (the dense layout)."""
        return int(np.prod([len(lv) for lv in self.levels]))

    def cell_labels(self) -> tuple[str, ...]:
        """Labels of the observed cells: ``"a"`` for one factor, ``"a:red"`` for two, unique
        (:func:`~hiermod.data.runtime.cell_labels`: ``'p:q':r`` and ``p:'q:r'``)."""
        return tuple(cell_labels(tuple(map(tuple, self.cells.tolist())), *self.levels))

    def level_labels(self) -> tuple[tuple[object, ...], ...]:
        """The coords of each factor's levels (:func:`~hiermod.data.runtime.level_labels`):
        the levels when all are ints or all text (308, "HENNEPIN"), else unique text."""
        return tuple(level_labels(levels) for levels in self.levels)


@dataclass(frozen=True, slots=True, eq=False)
class Schema:
    """Every encoding decision made from the training data; reused for new data."""

    formula: ModelFormula
    family: str
    columns: dict[str, ColumnSchema]
    transforms: dict[str, TransformState]
    factor_levels: dict[str, tuple[Level, ...]]  # level table of each grouping column
    groupings: dict[tuple[str, ...], GroupingSchema]  # keyed by the grouping's factors
    response: ColumnSchema | None
    n_rows: int  # rows used (after dropping missing values)
    n_dropped: int  # rows dropped because a used column was missing


@dataclass(frozen=True, slots=True, eq=False)
class ByDesign:
    """The by factor of one ``gr(g, by = f)`` block: its grouping ``g:f`` (cells = the observed
    (level of g, level of f) pairs), the rows' codes and cells of it, and ``of_level[j]``, the
    code of the level of ``f`` that level ``j`` of ``g`` belongs to (-1: no row has level j)."""

    factor: str
    grouping: GroupingSchema
    codes: tuple[np.ndarray, ...]
    cell: np.ndarray
    of_level: np.ndarray  # (levels of g,) int64

    @property
    def levels(self) -> tuple[object, ...]:
        """The levels of the by factor, in code order."""
        return self.grouping.levels[1]


@dataclass(frozen=True, slots=True, eq=False)
class BlockDesign:
    """One group block's arrays.

    ``Z`` has one column per effect (the first is all ones when the block has an intercept), labelled by
    ``term_labels`` (``"Intercept"``, ``"x"``, ``"f[b]"``). ``codes[i]`` are the rows' level codes of
    ``grouping.factors[i]``; ``cell`` the rows' index into ``grouping.cells``.
    """

    block: Block
    grouping: GroupingSchema
    term_labels: tuple[str, ...]
    Z: np.ndarray  # (n, k) float64
    codes: tuple[np.ndarray, ...]  # each (n,) int64
    cell: np.ndarray  # (n,) int64
    by: ByDesign | None = None  # gr(g, by = f): each level's level of f (hiermod.data.grouping_by)


@dataclass(frozen=True, slots=True, eq=False)
class SmoothDesign:
    """The penalised columns of one smooth ``s(x)`` (:mod:`hiermod.data.smooth`); its unpenalised
    columns are population columns of X (``s(x)[1]``). ``Z``'s penalty is the identity."""

    term: str  # the call's canonical text, "s(times)"
    variable: str  # the column smoothed
    Z: np.ndarray  # (n, q) float64
    level: str = ""  # s(x, by = f): "f" and the level's text ("fa"); "" without by
    columns: tuple[int, int] = (0, 0)  # Z's columns among every column of the call
    penalty: int = 1  # t2(x, z): which of its penalised blocks (brms's t2xz_1, t2xz_2, …)


@dataclass(frozen=True, slots=True, eq=False)
class MonotonicDesign:
    """One ``mo(x)`` term: its categories 0..D (``levels``) and each row's code (:mod:`hiermod.data.monotonic`)."""

    term: str  # "mo(x)" or "mo(x):z"; the categories are Schema.columns["mo(x)"]
    column: str
    levels: tuple[Level, ...]
    codes: np.ndarray  # (n,) int64 in 0..D
    covariate: np.ndarray | None = None  # (n,) z of mo(x):z, the product of the other factors

    @property
    def steps(self) -> int:
        """D, the number of steps between the lowest and the highest category."""
        return len(self.levels) - 1


@dataclass(frozen=True, slots=True, eq=False)
class FormulaDesign:
    """The arrays of one formula (the response's, or a distributional parameter's).

    ``X`` holds the population columns *without* the intercept column; ``coef_labels`` name them
    (``"x1"``, ``"x1:x2"``, ``"f[b]"``, ``"poly(x, 2)[1]"``) and ``coef_terms`` give the term each column
    came from (its canonical text).
    """

    dpar: str  # "mu" for the response formula, else the parameter name ("sigma")
    intercept: bool
    X: np.ndarray  # (n, p) float64
    coef_labels: tuple[str, ...]
    coef_terms: tuple[str, ...]
    offset: np.ndarray | None  # (n,) float64, the sum of all offset() terms
    blocks: tuple[BlockDesign, ...]
    terms: tuple[Term, ...] = field(default=())
    gps: tuple[GPDesign, ...] = ()  # gp() terms (hiermod.data.gp), not columns of X
    smooths: tuple[SmoothDesign, ...] = ()  # s(x): the penalised part of each smooth
    monotonic: tuple[MonotonicDesign, ...] = ()  # the mo(x) terms, not in X


@dataclass(frozen=True, slots=True, eq=False)
class Design:
    """Schema plus the arrays of the rows that were kept."""

    schema: Schema
    y: np.ndarray | None  # (n,) the encoded response (float64; 0/1 for two-level categoricals)
    trials: np.ndarray | None  # binomial trials() (n,) int64
    weights: np.ndarray | None  # weights() (n,) float64
    se: np.ndarray | None  # se() known standard errors (n,) float64
    formulas: tuple[FormulaDesign, ...]  # the response's first, then distributional parameters'
    rows: np.ndarray  # (n,) positions of the kept rows in the original data
    cens: np.ndarray | None = None  # cens(): -1 left-, 0 not, 1 right-, 2 interval-censored
    rate: np.ndarray | None = None  # rate(): exposures (their log is in mu's offset)
    cens_upper: np.ndarray | None = None  # cens(c, y2): the upper bounds y2 of the intervals
    truncation: tuple[np.ndarray | None, np.ndarray | None] = (None, None)  # trunc(lb, ub)

    @property
    def n(self) -> int:
        return int(self.rows.shape[0])

    @property
    def main(self) -> FormulaDesign:
        return self.formulas[0]

    def dpar(self, name: str) -> FormulaDesign | None:
        return next((f for f in self.formulas if f.dpar == name), None)


@dataclass(frozen=True, slots=True)
class DataMoments:
    """The data summaries default priors use, for when the rows are not all in memory.

    ``response`` is (mean, sd) of y — of log y for the lognormal family; ``columns`` maps
    ``("X", dpar, -1)`` and ``("Z", dpar, block position)`` to the sds of those design columns.
    Without moments, :func:`~hiermod.plan.lower.lower` computes both from the design's arrays.
    """

    response: tuple[float, float]
    columns: Mapping[tuple[str, str, int], np.ndarray]


def term_codings(
    terms: Sequence[Term], intercept: bool, is_categorical: Callable[[Atom], bool]
) -> list[dict[Atom, bool]]:
    """Per term, which categorical factors get full dummy coding (True) or contrasts (False).

    R's rule: factor F of term T gets treatment contrasts if T without F is in the term set
    (the intercept is the empty term), else one indicator per level:
    ``y ~ f``: f[b], f[c]; ``y ~ x:f``: x:f[a], x:f[b], x:f[c] (no ``x``); ``y ~ f*g``: f[b],
    g[v], f[b]:g[v]. Without an intercept, as R does, the first categorical main effect absorbs
    it and later ones are contrasted again: ``y ~ 0 + f + g``: f[a], f[b], f[c], g[v], g[w]
    (counting the intercept as absent there would make the columns of f and g collinear).
    """
    present, absorbed = set(terms), intercept
    out: list[dict[Atom, bool]] = []
    for term in terms:
        full: dict[Atom, bool] = {}
        for atom in (a for a in term.factors if is_categorical(a)):
            margin = Term(tuple(a for a in term.factors if a is not atom))
            if margin.is_intercept:
                full[atom], absorbed = not absorbed, True
            else:
                full[atom] = margin not in present
        out.append(full)
    return out
