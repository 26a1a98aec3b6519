"""One error hierarchy for every hiermod stage.

Formula errors carry the formula text and the span of the offending part and render it with a caret
underneath, so the user sees *where* the problem is::

    >>> from hiermod.errors import FormulaSyntaxError, Span
    >>> print(FormulaSyntaxError("unexpected ')'", "y ~ x + )", Span(8, 9), hint="a term is missing"))
    unexpected ')'
      y ~ x + )
              ^
    hint: a term is missing
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ArgumentError",
    "DataError",
    "DependencyError",
    "FamilyError",
    "FitMismatchError",
    "FormulaError",
    "FormulaSyntaxError",
    "HiermodError",
    "OptionError",
    "PriorError",
    "Span",
    "StorageError",
    "UnseenLevelError",
    "render_caret",
]


@dataclass(frozen=True, slots=True)
class Span:
    """Half-open character range ``[start, end)`` into the formula text."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"invalid span ({self.start}, {self.end})")

    def cover(self, other: Span | None) -> Span:
        """The smallest span holding both spans."""
        if other is None:
            return self
        return Span(min(self.start, other.start), max(self.end, other.end))


def render_caret(text: str, span: Span) -> str:
    """Show the line of ``text`` that holds ``span`` with carets under the span.

    Multi-line texts (several formulas) show only the line where the span starts; a span that runs
    past the end of that line is cut at the line's end. An empty span (end of input) gets one caret.
    """
    line_start = text.rfind("\n", 0, span.start) + 1
    line_end = text.find("\n", span.start)
    if line_end == -1:
        line_end = len(text)
    line = text[line_start:line_end]
    column = span.start - line_start
    width = max(1, min(span.end, line_end) - span.start)
    # Tabs keep their width in the caret line so the caret stays aligned.
    pad = "".join("\t" if ch == "\t" else " " for ch in line[:column])
    return f"  {line}\n  {pad}{'^' * width}"


class HiermodError(Exception):
    """Base class of every error hiermod raises on purpose."""


class _LocatedError(HiermodError):
    """An error about a place in the formula text."""

    def __init__(
        self,
        message: str,
        text: str | None = None,
        span: Span | None = None,
        *,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.text = text
        self.span = span
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [self.message]
        if self.text is not None and self.span is not None:
            parts.append(render_caret(self.text, self.span))
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)

    def __str__(self) -> str:
        return self._render()

    def __reduce__(self) -> tuple[object, ...]:  # keep errors picklable (multiprocessing, xdist)
        return (_rebuild, (type(self), self.message, self.text, self.span, self.hint))


def _rebuild(
    cls: type[_LocatedError], message: str, text: str | None, span: Span | None, hint: str | None
) -> _LocatedError:
    return cls(message, text, span, hint=hint)


class FormulaSyntaxError(_LocatedError, ValueError):
    """The formula text is not in the formula language (a parse error)."""


class FormulaError(_LocatedError, ValueError):
    """The formula parses but means nothing valid (unknown function, bad grouping, …)."""


class DataError(_LocatedError, ValueError):
    """The data cannot be used with the formula (unknown column, NaNs, wrong type, …)."""


class UnseenLevelError(DataError):
    """New data have levels the fit never saw (a grouping factor's, with ``new_levels="error"``,
    or a categorical predictor's): the message lists them, the hint the closest existing level."""


class PriorError(_LocatedError, ValueError):
    """A prior specification is malformed or names no parameter of the model."""

    unknown_keys: tuple[str, ...] = ()  # the prior keys that matched no parameter, if that is why


class FamilyError(_LocatedError, ValueError):
    """An unknown family or link, or a distributional parameter the family does not have."""


class OptionError(HiermodError, ValueError):
    """An argument of a call has a value it does not take; the message lists the ones it does."""


class StorageError(HiermodError, ValueError):
    """A saved fit cannot be read back: a ``hiermod_*`` attribute of its posterior group is missing or
    malformed (the message names it), or the file is not a hiermod fit at all."""


class FitMismatchError(HiermodError, ValueError):
    """A fit given to a model is another model's: the message says what differs (formula, family,
    coefficients, group levels)."""


class ArgumentError(HiermodError, TypeError):
    """An argument of a call has the wrong Python type, or a keyword the call does not take: the
    message names the argument and what it accepts (``priors=["normal(0, 1)"]``: a dict is needed;
    ``prior=``: did you mean 'priors'?)."""


class DependencyError(HiermodError, ImportError):
    """An optional dependency is missing: the message names it and how to install it."""
