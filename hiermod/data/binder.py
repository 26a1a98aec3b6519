"""Binding: data → :class:`~hiermod.data.design.Design`, one code path for training and new data.

:func:`bind` makes the schema from the training data and the arrays; :func:`apply_schema` encodes new
data with a stored schema. Both run the same code (``_Binder``), which only *reads* the schema when it
is given, so applying the schema to the training data reproduces bind's arrays bit for bit.

One bind is a ``_Binder`` (the response and the formulas, in order) with three helpers over the kept
rows: ``Rows`` (the used columns and each column's level codes, computed once), ``TermColumns``
(the population and effect columns of a term set) and ``_Groupings`` (each grouping's level codes
and cells, shared by the blocks over it). Reading columns and missing values live in
:mod:`hiermod.data.columns`, the calls' arithmetic in :mod:`hiermod.data.transforms`.
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import Literal

import numpy as np
import pandas as pd

from hiermod.data.categories import categorical_response, category_formulas, columns_response
from hiermod.data.columns import (
    check_columns,
    check_dtypes,
    column_kind,
    kept_rows,
    lookup_cells,
    observed_cells,
    used_columns,
)
from hiermod.data.design import (
    BlockDesign,
    ColumnSchema,
    Design,
    FormulaDesign,
    GroupingSchema,
    Level,
    Schema,
    TransformState,
)
from hiermod.data.families import Family, get_family
from hiermod.data.gp import gp_design
from hiermod.data.grouping_by import by_design, by_grouping_block
from hiermod.data.identify import warn_unidentifiable
from hiermod.data.monotonic import monotonic_designs
from hiermod.data.names import named_columns
from hiermod.data.ordinal import ordinal_response, response_levels
from hiermod.data.responses import cbind_trials, log_rate
from hiermod.data.row_columns import Rows, TermColumns
from hiermod.data.runtime import level_codes
from hiermod.data.smooth import smooth_designs
from hiermod.data.transforms import Constants, Evaluator
from hiermod.errors import DataError
from hiermod.formula.gp import gp_calls, ordinary_terms, refuse_in_block
from hiermod.formula.syntax import Call, Name
from hiermod.formula.terms import Block, Formula, ModelFormula
from hiermod.warnings import DataWarning, user_stacklevel

__all__ = ["apply_schema", "bind"]


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
    design = _Binder(formula, data, get_family(family), None, na_action, "error", True).run()
    warn_unidentifiable(design)  # aliased population-level columns, as R's lm reports them
    return design


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

    # -- the run --------------------------------------------------------------------------------

    def run(self) -> Design:
        if not isinstance(self.data, pd.DataFrame):
            raise DataError(f"data must be a pandas DataFrame, not {type(self.data).__name__}")
        used = used_columns(self.formula, self.data.columns, self.read_response)
        check_columns(self.data, used, self.text)
        if self.schema is None:  # R's model.frame reads every variable, terms the algebra drops too
            check_columns(self.data, named_columns(self.formula), self.text)
        values = used_columns(self.formula, self.data.columns, self.read_response, values=True)
        # New data read as numbers warn no more: the training data's warning said so once.
        check_dtypes(self.data, used, values, self.text, quiet=() if self.fit else used)
        rows = kept_rows(self.data, used, self.na_action)
        keep_all = rows.shape[0] == len(self.data)
        frame = {k: self.data[k] if keep_all else self.data[k].iloc[rows] for k in used}
        self.rows = Rows(frame, int(rows.shape[0]), self.text)
        self.n = self.rows.n
        if self.fit:
            for name in used:
                kind = column_kind(frame[name])
                levels = self.rows.factor(name, None)[1] if kind == "categorical" else ()
                self.columns[name] = ColumnSchema(name, kind, levels, levels[0] if levels else None)
        self.evaluator = Evaluator(frame, self.n, self.text, self.constants, fit=self.fit)
        self.term_columns = TermColumns(self.rows, self.evaluator, self.columns, self.fit)
        self.group_codes = _Groupings(
            self.rows, self.factor_levels, self.groupings, self.fit, self.new_levels
        )
        y, response, additions = self._response()
        log_exposure = log_rate(self.formula, additions, self.rows.error)
        formulas = tuple(
            self._formula(f, "mu" if i == 0 else f.lhs_name or "", log_exposure if i == 0 else None)
            for i, f in enumerate(self.formula.formulas)
        )
        formulas = category_formulas(formulas, response, self.family)  # categorical: mu<k>
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
            formulas, rows, additions.get("cens"), additions.get("rate"),
            additions.get("cens_upper"), (additions.get("trunc_lb"), additions.get("trunc_ub")),
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
        additions = self.evaluator.additions(calls, self.family)
        if self.family.columns_response and response is not None:  # cbind(a, b, c): multinomial
            numeric = self.evaluator.numeric if self.read_response else None
            args = (response.value, self.family, stored, additions, numeric, self.rows.error)
            return (*columns_response(*args), additions)
        counts = response.value if response is not None else None
        if isinstance(counts, Call) and counts.func == "cbind":
            given = next((call for call in calls if call.func == "trials"), None)
            found = (counts, self.family, self.rows.frame, self.evaluator.numeric, self.rows.error)
            trials = cbind_trials(*found, given)
            if trials is not None:
                additions["trials"] = trials
        else:
            counts = None
        if response is None or not self.read_response:
            return None, stored, additions
        value, family, error = response.value, self.family, self.rows.error
        ordered = response_levels(value, family, error)  # ordered(y, levels = c(…))
        value, listed = ordered if ordered is not None else (value, None)
        label = value.name if isinstance(value, Name) else str(value)
        if family.has_categories:
            if not isinstance(value, Name):
                raise error(f"a {family.name} response is a column, not {value}", value.span)
            series = self.rows.frame[value.name]
            read = (
                partial(ordinal_response, listed=listed) if family.ordinal else categorical_response
            )
            y, stored = read(series, label, family.name, stored, value.span, error)
            if (y < 0).any():
                raise self.rows.unseen(f"response {label!r}", value.name, y, value.span)
            return y.astype(np.float64), stored, additions
        if isinstance(value, Name) and self.columns[value.name].kind == "categorical":
            if family.response != "binary":
                raise error(
                    f"response {label!r} is categorical but the {family.name} family needs numbers",
                    value.span,
                    "for a two-level response use family='bernoulli'",
                )
            series = self.rows.frame[value.name]
            if stored is None:
                # A categorical's two categories count even if one is unobserved.
                is_cat = isinstance(series.dtype, pd.CategoricalDtype)
                cats = tuple(series.cat.categories.tolist()) if is_cat else ()
                levels = cats if len(cats) == 2 else self.columns[value.name].levels
                if len(levels) != 2:
                    raise error(
                        f"response {label!r} must have exactly two levels for the {family.name} "
                        f"family; it has {len(levels)}: {', '.join(map(repr, levels[:5]))}",
                        value.span,
                    )
                stored = ColumnSchema(label, "categorical", levels, levels[0])
            codes = level_codes(series, stored.levels)
            if (codes < 0).any():
                raise self.rows.unseen(f"response {label!r}", value.name, codes, value.span)
            y = codes.astype(np.float64)
        else:
            y = self.evaluator.numeric(value if counts is None else counts.args[0])
            stored = stored or ColumnSchema(label, "numeric")
        if family.needs_trials and "trials" not in additions:
            raise error(
                f"the {family.name} family needs the number of trials",
                response.span,
                f"write the response as {response} | trials(n) ~ …",
            )
        try:
            family.check_response(y, label, additions.get("trials"))
        except DataError as problem:
            raise error(problem.message, value.span, problem.hint) from None
        return y, stored, additions

    def _formula(self, f: Formula, dpar: str, log_rate: np.ndarray | None = None) -> FormulaDesign:
        smooths = smooth_designs(f, self.evaluator)  # s(x): hiermod.data.smooth
        mo = (f.terms, self.rows, self.columns, self.fit, self.evaluator.numeric)
        terms, monotonic = monotonic_designs(*mo)
        matrix, labels, sources = self.term_columns.columns(ordinary_terms(terms), f.intercept)
        levels = {n: c.levels for n, c in self.columns.items() if c.kind == "categorical"}
        read = (self.evaluator.numeric, levels, self.rows.frame.__getitem__, self.constants)
        error = self.rows.error
        gps = tuple(gp_design(c, *read, self.fit, error) for c in gp_calls(f.terms, error))
        offsets = [self.evaluator.numeric(o) for o in f.offsets]
        offsets += [log_rate] if log_rate is not None else []
        return FormulaDesign(
            dpar=dpar,
            intercept=f.intercept,
            X=matrix,
            coef_labels=tuple(labels),
            coef_terms=tuple(sources),
            offset=np.sum(offsets, axis=0) if offsets else None,
            blocks=tuple(self._block(b) for b in f.blocks),
            terms=f.terms,
            smooths=smooths,
            monotonic=monotonic,
            gps=gps,
        )

    def _block(self, block: Block) -> BlockDesign:
        refuse_in_block(block.terms, self.rows.error)  # (gp(x) | g)
        z, labels, _ = self.term_columns.columns(block.terms, block.intercept)
        if block.intercept:
            z = np.hstack([np.ones((self.n, 1)), z])
            labels = ["Intercept", *labels]
        grouping, codes, cell = self.group_codes.grouping(block)
        by = None
        if block.by is not None:  # gr(g, by = f): the cells of g:f pair each level with its f
            if self.fit and block.by.name not in self.factor_levels:  # no one-level warning
                self.factor_levels[block.by.name] = self.rows.factor(block.by.name, None)[1]
            pairs = self.group_codes.grouping(by_grouping_block(block))
            by = by_design(block, pairs, self.rows.error, self.fit)
        return BlockDesign(block, grouping, tuple(labels), z, codes, cell, by)


class _Groupings:
    """Level codes of each grouping factor and the rows' cells, one entry per grouping (shared by
    the blocks over it); ``factor_levels`` and ``groupings`` are the schema's tables, filled in when
    fitting."""

    def __init__(
        self,
        rows: Rows,
        factor_levels: dict[str, tuple[Level, ...]],
        groupings: dict[tuple[str, ...], GroupingSchema],
        fit: bool,
        new_levels: str,
    ) -> None:
        self.rows, self.factor_levels, self.groupings = rows, factor_levels, groupings
        self.fit, self.new_levels = fit, new_levels
        self._blocks: dict[tuple[str, ...], _Grouped] = {}

    def grouping(self, block: Block) -> _Grouped:
        """Level codes of each grouping factor and the rows' cells (shared across blocks)."""
        factors = block.factors
        if factors in self._blocks:
            return self._blocks[factors]
        codes: list[np.ndarray] = []
        for node in (a for a in block.grouping.factors if isinstance(a, Name)):
            stored = self.factor_levels.get(node.name) if not self.fit else None
            code, levels = self.rows.factor(node.name, stored)
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
                raise self.rows.unseen(
                    f"grouping factor {node.name!r}", node.name, code, node.span, hint, levels
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
