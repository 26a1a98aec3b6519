"""The kept rows of one bind and the columns read from them (:mod:`hiermod.data.binder`'s helpers).

:class:`Rows` holds the used columns of the kept rows and reads each as categorical once;
:class:`TermColumns` turns a term set into columns: numbers, bases (``poly``, ``bs``, ``s``) and a
categorical's indicator columns, by the codings of :func:`hiermod.data.design.term_codings`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from hiermod.data.columns import (
    argument,
    categorical_options,
    factorize,
    find_level,
    ordered_levels,
)
from hiermod.data.design import ColumnSchema, Level, term_codings
from hiermod.data.levels import listing, suggestion
from hiermod.data.runtime import level_codes
from hiermod.data.smooth import smooth_columns
from hiermod.data.transforms import Evaluator
from hiermod.errors import DataError, Span, UnseenLevelError
from hiermod.formula.syntax import Call, Name
from hiermod.formula.terms import Atom, Term

__all__ = ["Rows", "TermColumns"]


class Rows:
    """The kept rows of the used columns, and each column read as categorical (computed once)."""

    def __init__(self, frame: dict[str, pd.Series], n: int, text: str) -> None:
        self.frame, self.n, self.text = frame, n, text
        self._codes: dict[tuple[str, object], tuple[np.ndarray, tuple[Level, ...]]] = {}

    def error(self, message: str, span: Span | None, hint: str | None = None) -> DataError:
        return DataError(message, self.text, span, hint=hint)

    def factor(
        self, name: str, levels: tuple[Level, ...] | None
    ) -> tuple[np.ndarray, tuple[Level, ...]]:
        """A column read as categorical: codes and levels, computed (fit) or in stored ``levels``."""
        # C(f, levels=…) and f itself may order one column's levels differently.
        key = (name, levels)
        if key not in self._codes:
            series = self.frame[name]
            self._codes[key] = (
                factorize(series) if levels is None else (level_codes(series, levels), levels)
            )
        return self._codes[key]

    def unseen(
        self,
        what: str,
        name: str,
        codes: np.ndarray,
        span: Span | None,
        hint: str | None = None,
        levels: tuple[Level, ...] = (),
    ) -> UnseenLevelError:
        """The error for rows whose value is none of ``levels``: the first values, their count,
        and the closest level (``did you mean 'HENNEPIN'?``, :mod:`hiermod.data.levels`)."""
        values = self.frame[name].to_numpy(dtype=object)[codes < 0].tolist()
        message = f"{what} has levels not seen when the model was fitted: {listing(values)}"
        hints = [h for h in (suggestion(values, levels), hint) if h]
        return UnseenLevelError(
            f"{message} ({int((codes < 0).sum())} rows)", self.text, span, hint="; ".join(hints)
        )


class TermColumns:
    """The columns of population terms and block effects: numbers, bases, categoricals' indicators.

    ``columns`` are the column schemas of the bind: read when applying a schema, and filled in for
    ``C()`` calls when fitting.
    """

    def __init__(
        self, rows: Rows, evaluator: Evaluator, columns: dict[str, ColumnSchema], fit: bool
    ) -> None:
        self.rows, self.evaluator, self.schemas, self.fit = rows, evaluator, columns, fit

    def _is_categorical(self, atom: Atom) -> bool:
        if isinstance(atom, Call):
            return atom.func == "C"
        return self.schemas[atom.name].kind == "categorical"

    def _atom(self, atom: Atom, full: bool | None) -> tuple[np.ndarray, list[str]]:
        """One factor's columns: a numeric vector, a basis, or a categorical's indicator columns."""
        if full is None:
            if isinstance(atom, Call) and atom.func in ("s", "t2"):
                return smooth_columns(self.evaluator, atom)
            if isinstance(atom, Call) and atom.func in ("poly", "bs"):
                basis = self.evaluator.basis(atom)
                return basis, [f"{atom}[{j}]" for j in range(1, basis.shape[1] + 1)]
            return self.evaluator.numeric(atom)[:, None], [str(atom)]
        codes, stored = self._categorical(atom)
        kept = stored.coded_levels(bool(full))
        if not kept:
            raise self.rows.error(
                f"{atom} has a single level ({stored.levels[0]!r}) and cannot be contrasted",
                atom.span,
                "drop the term, or remove the intercept for an indicator column",
            )
        # Labels name each column's level: f[b] (treatment, the indicator of b), C(f, sum)[a]
        # (sum coding: the indicator of a minus that of the last level).
        return stored.columns(codes, bool(full)), [f"{atom}[{stored.levels[j]}]" for j in kept]

    def _categorical(self, atom: Atom) -> tuple[np.ndarray, ColumnSchema]:
        """Codes and column schema of ``f`` or ``C(f, …)``: levels in order, reference, contrast."""
        key = str(atom) if isinstance(atom, Call) else atom.name
        node = atom if isinstance(atom, Name) else argument(atom, 0, "x")
        assert isinstance(node, Name)  # checks.check_calls: C() takes a column name
        stored = None if self.fit else self.schemas[key]
        if stored is not None:
            codes, levels = self.rows.factor(node.name, stored.levels)
            if (codes < 0).any():
                hint = f"a categorical predictor takes only its fitted levels: {', '.join(map(str, levels))}"
                raise self.rows.unseen(
                    f"column {node.name!r}", node.name, codes, node.span, hint, levels
                )
            return codes, stored
        options = categorical_options(atom)
        codes, levels = self.rows.factor(node.name, None)
        if options.levels is not None:
            levels = ordered_levels(levels, options.levels, node, atom, self.rows.text)
            codes, levels = self.rows.factor(node.name, levels)
        index = 0 if options.ref is None else find_level(levels, options.ref.value)
        if index is None:
            assert options.ref is not None
            raise self.rows.error(
                f"{options.ref.value} is not a level of {node.name!r}",
                options.ref.span,
                f"its levels are: {', '.join(map(str, levels))}",
            )
        reference = None if options.contrast == "sum" else levels[index]
        stored = ColumnSchema(key, "categorical", levels, reference, options.contrast)
        self.schemas[key] = stored
        return codes, stored

    def columns(
        self, terms: Sequence[Term], intercept: bool
    ) -> tuple[np.ndarray, list[str], list[str]]:
        """The columns of a term set (no intercept column): matrix, labels, and source terms.

        An interaction's columns are products of its factors' columns, the first factor varying
        fastest as in R: f:g with f[b], f[c] and g[v], g[w] gives f[b]:g[v], f[c]:g[v], f[b]:g[w], …
        """
        n = self.rows.n
        pieces: list[np.ndarray] = []
        labels: list[str] = []
        sources: list[str] = []
        for term, full in zip(
            terms, term_codings(terms, intercept, self._is_categorical), strict=True
        ):
            values, names = self._atom(term.factors[0], full.get(term.factors[0]))
            for atom in term.factors[1:]:
                more, more_names = self._atom(atom, full.get(atom))
                values = (more[:, :, None] * values[:, None, :]).reshape(n, -1)
                names = [f"{a}:{b}" for b in more_names for a in names]
            pieces.append(values)
            labels += names
            sources += [str(term)] * len(names)
        matrix = np.hstack(pieces) if pieces else np.empty((n, 0))
        return matrix, labels, sources
