"""Data → :class:`Design`: an immutable schema plus the arrays a model needs.

The schema (:class:`Schema`) holds every data-dependent decision: column kinds, categorical levels and
reference levels, grouping-factor level tables, the observed cells of each grouping interaction, and
transform state (centring means, polynomial and spline coefficients). It is reused unchanged for new data
in ``predict`` so new rows are encoded exactly like the training rows.

Nothing here builds a rows × levels one-hot of a grouping factor: groupings become integer codes.

:func:`bind` makes the schema from the training data and the arrays; :func:`apply_schema` encodes new
data with a stored schema. Both run the same code (``_Binder``), which only *reads* the schema when it
is given, so applying the schema to the training data reproduces bind's arrays bit for bit. Reading
columns, missing values and the calls' arithmetic live in :mod:`hiermod.data.transforms`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from hiermod.data.columns import (
    argument,
    check_columns,
    column_kind,
    encode,
    factorize,
    find_level,
    kept_rows,
    lookup_cells,
    observed_cells,
    used_columns,
)
from hiermod.data.families import Family, get_family
from hiermod.data.transforms import Constants, Evaluator
from hiermod.errors import DataError, Span
from hiermod.formula.syntax import Call, Name
from hiermod.formula.terms import Atom, Block, Formula, ModelFormula, Term
from hiermod.warnings import DataWarning, user_stacklevel

__all__ = [
    "BlockDesign",
    "ColumnSchema",
    "DataMoments",
    "Design",
    "FormulaDesign",
    "GroupingSchema",
    "Schema",
    "TransformState",
    "apply_schema",
    "bind",
    "term_codings",
]

Level = Any  # a level value as found in the data: str, int, float or bool


@dataclass(frozen=True, slots=True)
class ColumnSchema:
    """How one data column is read.

    ``kind`` is ``"numeric"`` or ``"categorical"``; a categorical column has ``levels`` in code order
    (pandas categories in their order, other values sorted) and, where it is coded against a
    reference (treatment coding), ``reference`` is that level.
    """

    name: str
    kind: Literal["numeric", "categorical"]
    levels: tuple[Level, ...] = ()
    reference: Level | None = None


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
        """Labels of the observed cells: ``"a"`` for one factor, ``"a:red"`` for two."""
        return tuple(
            ":".join(str(self.levels[j][code]) for j, code in enumerate(row))
            for row in self.cells.tolist()
        )


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


# ---------------------------------------------------------------------------------------------------
# Binding: one code path for the training data (fit=True) and for new data with a stored schema.


def bind(
    formula: ModelFormula,
    data: pd.DataFrame,
    *,
    family: str | Family = "gaussian",
    na_action: Literal["drop", "raise"] = "drop",
) -> Design:
    """Encode ``data`` for ``formula``: make the schema from the data, then the arrays.

    Example:
        >>> import hiermod as hm, pandas as pd
        >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "f": list("abab"), "g": list("uuvv")})
        >>> d = bind(hm.parse("y ~ f + (1 | g)"), df)
        >>> d.main.coef_labels, d.main.blocks[0].cell.tolist()
        (('f[b]',), [0, 0, 1, 1])
    """
    return _Binder(formula, data, get_family(family), None, na_action, "error", True).run()


def apply_schema(
    schema: Schema,
    data: pd.DataFrame,
    *,
    new_levels: Literal["error", "allow"] = "error",
    with_response: bool = False,
    na_action: Literal["drop", "raise"] = "drop",
) -> Design:
    """Encode new data exactly as the training data: same levels, constants, columns and labels.

    Unseen levels of a grouping factor are an error, or with ``new_levels="allow"`` get code -1 and
    cell -1 (their effects are drawn from the population); so does a new combination of known levels
    of a grouping interaction (its codes stay valid). Unseen levels of a categorical predictor are
    always an error. The response is read only with ``with_response=True``; addition columns
    (``trials()`` …) are read whenever they are present. ``design.schema`` is ``schema`` itself.
    """
    family = get_family(schema.family)
    return _Binder(schema.formula, data, family, schema, na_action, new_levels, with_response).run()


_Grouped = tuple[GroupingSchema, tuple[np.ndarray, ...], np.ndarray]  # schema, codes, cell


class _Binder:
    """The state of one bind or apply: schema tables (filled when fitting) and per-column caches."""

    def __init__(
        self,
        formula: ModelFormula,
        data: pd.DataFrame,
        family: Family,
        schema: Schema | None,
        na_action: str,
        new_levels: str,
        with_response: bool,
    ) -> None:
        self.formula, self.text, self.family, self.schema = formula, formula.text, family, schema
        self.data, self.na_action, self.new_levels = data, na_action, new_levels
        self.fit = schema is None
        if na_action not in ("drop", "raise") or new_levels not in ("error", "allow"):
            raise ValueError(
                f"na_action must be 'drop' or 'raise' (got {na_action!r}) and "
                f"new_levels 'error' or 'allow' (got {new_levels!r})"
            )
        self.read_response = with_response and formula.response is not None
        self.columns: dict[str, ColumnSchema] = {} if schema is None else dict(schema.columns)
        self.constants: Constants = (
            {} if schema is None else {k: dict(v.values) for k, v in schema.transforms.items()}
        )
        self.factor_levels = {} if schema is None else dict(schema.factor_levels)
        self.groupings = {} if schema is None else dict(schema.groupings)
        self._codes: dict[str, tuple[np.ndarray, tuple[Level, ...]]] = {}
        self._blocks: dict[tuple[str, ...], _Grouped] = {}

    def error(self, message: str, span: Span | None, hint: str | None = None) -> DataError:
        return DataError(message, self.text, span, hint=hint)

    def _factor(
        self, name: str, levels: tuple[Level, ...] | None
    ) -> tuple[np.ndarray, tuple[Level, ...]]:
        """A column read as categorical: codes and levels, computed (fit) or in stored ``levels``."""
        if name not in self._codes:
            series = self.frame[name]
            self._codes[name] = (
                factorize(series) if levels is None else (encode(series, levels), levels)
            )
        return self._codes[name]

    def _unseen(
        self, what: str, name: str, codes: np.ndarray, span: Span | None, hint: str | None = None
    ) -> DataError:
        values = pd.unique(self.frame[name].to_numpy()[codes < 0])
        shown = ", ".join(repr(v) for v in values[:5].tolist())
        more = f" and {len(values) - 5} more" if len(values) > 5 else ""
        message = f"{what} has levels not seen when the model was fitted: {shown}{more}"
        return self.error(f"{message} ({int((codes < 0).sum())} rows)", span, hint)

    # -- the run --------------------------------------------------------------------------------

    def run(self) -> Design:
        if not isinstance(self.data, pd.DataFrame):
            raise DataError(f"data must be a pandas DataFrame, not {type(self.data).__name__}")
        used = used_columns(self.formula, self.data.columns, self.read_response)
        check_columns(self.data, used, self.text)
        rows = kept_rows(self.data, used, self.na_action)
        keep_all = rows.shape[0] == len(self.data)
        self.frame = {k: self.data[k] if keep_all else self.data[k].iloc[rows] for k in used}
        self.n = int(rows.shape[0])
        if self.fit:
            for name in used:
                kind = column_kind(self.frame[name])
                levels = self._factor(name, None)[1] if kind == "categorical" else ()
                self.columns[name] = ColumnSchema(name, kind, levels, levels[0] if levels else None)
        self.evaluator = Evaluator(self.frame, self.n, self.text, self.constants, fit=self.fit)
        y, response, additions = self._response()
        formulas = tuple(
            self._formula(f, "mu" if i == 0 else f.lhs_name or "")
            for i, f in enumerate(self.formula.formulas)
        )
        schema = self.schema or Schema(
            formula=self.formula,
            family=self.family.name,
            columns=self.columns,
            transforms={k: TransformState(k, tuple(v.items())) for k, v in self.constants.items()},
            factor_levels=self.factor_levels,
            groupings=self.groupings,
            response=response,
            n_rows=self.n,
            n_dropped=len(self.data) - self.n,
        )
        return Design(
            schema, y, additions.get("trials"), additions.get("weights"), additions.get("se"),
            formulas, rows,
        )  # fmt: skip

    # -- response ---------------------------------------------------------------------------------

    def _response(self) -> tuple[np.ndarray | None, ColumnSchema | None, dict[str, np.ndarray]]:
        """The encoded response, its schema and the addition terms' values.

        For bernoulli a two-level categorical response is 0/1 with the second level as 1, as R's
        ``glm``: ``y`` in {"no", "yes"} gives 0 for "no" and 1 for "yes"; booleans give False 0, True 1.
        """
        stored = self.schema.response if self.schema is not None else None
        response = self.formula.response
        calls = response.additions if response is not None else ()
        additions = self.evaluator.additions(calls, self.family.name)
        if response is None or not self.read_response:
            return None, stored, additions
        value, family = response.value, self.family
        label = value.name if isinstance(value, Name) else str(value)
        if isinstance(value, Name) and self.columns[value.name].kind == "categorical":
            if family.response != "binary":
                raise self.error(
                    f"response {label!r} is categorical but the {family.name} family needs numbers",
                    value.span,
                    "for a two-level response use family='bernoulli'",
                )
            series = self.frame[value.name]
            if stored is None:
                # A categorical's two categories count even if one is unobserved.
                is_cat = isinstance(series.dtype, pd.CategoricalDtype)
                cats = tuple(series.cat.categories.tolist()) if is_cat else ()
                levels = cats if len(cats) == 2 else self.columns[value.name].levels
                if len(levels) != 2:
                    raise self.error(
                        f"response {label!r} must have exactly two levels for the {family.name} "
                        f"family; it has {len(levels)}: {', '.join(map(repr, levels[:5]))}",
                        value.span,
                    )
                stored = ColumnSchema(label, "categorical", levels, levels[0])
            codes = encode(series, stored.levels)
            if (codes < 0).any():
                raise self._unseen(f"response {label!r}", value.name, codes, value.span)
            y = codes.astype(np.float64)
        else:
            y = self.evaluator.numeric(value)
            stored = stored or ColumnSchema(label, "numeric")
        if family.name == "binomial" and "trials" not in additions:
            raise self.error(
                "the binomial family needs the number of trials",
                response.span,
                f"write the response as {response} | trials(n) ~ …",
            )
        try:
            family.check_response(y, label, additions.get("trials"))
        except DataError as problem:
            raise self.error(problem.message, value.span, problem.hint) from None
        return y, stored, additions

    # -- population terms and blocks --------------------------------------------------------------

    def _is_categorical(self, atom: Atom) -> bool:
        if isinstance(atom, Call):
            return atom.func == "C"
        return self.columns[atom.name].kind == "categorical"

    def _atom(self, atom: Atom, full: bool | None) -> tuple[np.ndarray, list[str]]:
        """One factor's columns: a numeric vector, a basis, or a categorical's indicator columns."""
        if full is None:
            if isinstance(atom, Call) and atom.func in ("poly", "bs"):
                basis = self.evaluator.basis(atom)
                return basis, [f"{atom}[{j}]" for j in range(1, basis.shape[1] + 1)]
            return self.evaluator.numeric(atom)[:, None], [str(atom)]
        codes, levels, ref = self._categorical(atom)
        keep = [j for j in range(len(levels)) if full or j != ref]
        if not keep:
            raise self.error(
                f"{atom} has a single level ({levels[0]!r}) and cannot be contrasted",
                atom.span,
                "drop the term, or remove the intercept for an indicator column",
            )
        return (
            (codes[:, None] == np.asarray(keep)).astype(np.float64),
            [f"{atom}[{levels[j]}]" for j in keep],
        )

    def _categorical(self, atom: Atom) -> tuple[np.ndarray, tuple[Level, ...], int]:
        """Codes, levels and the reference level's index of ``f`` or ``C(f, ref=…)``."""
        key = str(atom) if isinstance(atom, Call) else atom.name
        node = atom if isinstance(atom, Name) else argument(atom, 0, "x")
        assert isinstance(node, Name)  # checks.check_calls: C() takes a column name
        stored = None if self.fit else self.columns[key]
        codes, levels = self._factor(node.name, stored.levels if stored else None)
        if stored is None:
            ref = atom.keyword("ref") if isinstance(atom, Call) else None
            index = 0 if ref is None else find_level(levels, ref.value)
            if index is None:
                assert ref is not None
                raise self.error(
                    f"{ref.value} is not a level of {node.name!r}",
                    ref.span,
                    f"its levels are: {', '.join(map(str, levels))}",
                )
            stored = self.columns[key] = ColumnSchema(key, "categorical", levels, levels[index])
        elif (codes < 0).any():
            hint = f"a categorical predictor takes only its fitted levels: {', '.join(map(str, levels))}"
            raise self._unseen(f"column {node.name!r}", node.name, codes, node.span, hint)
        return codes, levels, levels.index(stored.reference)

    def _columns(
        self, terms: Sequence[Term], intercept: bool
    ) -> tuple[np.ndarray, list[str], list[str]]:
        """The columns of a term set (no intercept column): matrix, labels, and source terms.

        An interaction's columns are products of its factors' columns, the first factor varying
        fastest as in R: f:g with f[b], f[c] and g[v], g[w] gives f[b]:g[v], f[c]:g[v], f[b]:g[w], …
        """
        pieces: list[np.ndarray] = []
        labels: list[str] = []
        sources: list[str] = []
        for term, full in zip(
            terms, term_codings(terms, intercept, self._is_categorical), strict=True
        ):
            values, names = self._atom(term.factors[0], full.get(term.factors[0]))
            for atom in term.factors[1:]:
                more, more_names = self._atom(atom, full.get(atom))
                values = (more[:, :, None] * values[:, None, :]).reshape(self.n, -1)
                names = [f"{a}:{b}" for b in more_names for a in names]
            pieces.append(values)
            labels += names
            sources += [str(term)] * len(names)
        matrix = np.hstack(pieces) if pieces else np.empty((self.n, 0))
        return matrix, labels, sources

    def _formula(self, f: Formula, dpar: str) -> FormulaDesign:
        matrix, labels, sources = self._columns(f.terms, f.intercept)
        offsets = [self.evaluator.numeric(o) for o in f.offsets]
        return FormulaDesign(
            dpar=dpar,
            intercept=f.intercept,
            X=matrix,
            coef_labels=tuple(labels),
            coef_terms=tuple(sources),
            offset=np.sum(offsets, axis=0) if offsets else None,
            blocks=tuple(self._block(b) for b in f.blocks),
            terms=f.terms,
        )

    def _block(self, block: Block) -> BlockDesign:
        z, labels, _ = self._columns(block.terms, block.intercept)
        if block.intercept:
            z = np.hstack([np.ones((self.n, 1)), z])
            labels = ["Intercept", *labels]
        grouping, codes, cell = self._grouping(block)
        return BlockDesign(block, grouping, tuple(labels), z, codes, cell)

    # -- grouping factors -------------------------------------------------------------------------

    def _grouping(self, block: Block) -> _Grouped:
        """Level codes of each grouping factor and the rows' cells (shared across blocks)."""
        factors = block.factors
        if factors in self._blocks:
            return self._blocks[factors]
        codes: list[np.ndarray] = []
        for node in (a for a in block.grouping.factors if isinstance(a, Name)):
            stored = self.factor_levels.get(node.name) if not self.fit else None
            code, levels = self._factor(node.name, stored)
            if self.fit and node.name not in self.factor_levels:
                self.factor_levels[node.name] = levels
                if len(levels) == 1:
                    warnings.warn(
                        f"grouping factor {node.name!r} has a single level ({levels[0]!r}); its "
                        "group effects cannot be told apart from the population terms",
                        DataWarning,
                        stacklevel=user_stacklevel(),
                    )
            if self.new_levels == "error" and (code < 0).any():
                hint = "pass new_levels='allow' to draw their effects from the population"
                raise self._unseen(
                    f"grouping factor {node.name!r}", node.name, code, node.span, hint
                )
            codes.append(code)
        if self.fit:
            sizes = [len(self.factor_levels[f]) for f in factors]
            cells, cell = observed_cells(codes, sizes)
            levels_table = tuple(self.factor_levels[f] for f in factors)
            self.groupings[factors] = GroupingSchema(factors, levels_table, cells)
        grouping = self.groupings[factors]
        if not self.fit:
            cell = lookup_cells(grouping.cells, codes)
        self._blocks[factors] = (grouping, tuple(codes), cell)
        return self._blocks[factors]
