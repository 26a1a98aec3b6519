"""R's ``update.formula``: a new formula written against an old one, ``.`` standing for its sides.

``update(m, ". ~ . - Days")`` in R (and brms) gives the old formula without ``Days``; ``~ . + (1 | g)``
keeps the response and adds a block; ``log(.) ~ .`` transforms the response. The rule, as R's:

* in a formula of the new text, ``.`` left of ``~`` is the old formula's response (with its
  additions: ``incidence | trials(size)``), and ``.`` right of it the old right-hand side in
  parentheses; a new formula without a left side keeps the old response;
* the result is then expanded by hiermod's algebra (R's ``terms()``), so ``(Days + (Days | Subject))
  - Days`` is ``1 + (1 + Days | Subject)``;
* a distributional formula of the new text (``sigma ~ . + x``) updates the old formula of that
  parameter (its ``.`` is the old ``sigma`` formula's right side, ``1`` when there was none); formulas
  the new text does not mention are kept. The first formula of the text is the response's unless
  its left side names a distributional parameter of the family.

Only a ``.`` standing alone is the placeholder: not inside a number (``.5``), a quoted or backticked
name, or a name. Worked example::

    >>> old = expand(parse_syntax("Reaction ~ Days + (Days | Subject)"))
    >>> updated_text(old, ". ~ . - Days", ("sigma",))
    'Reaction ~ (1 + Days + (1 + Days | Subject)) - Days'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hiermod.errors import FormulaSyntaxError, Span
from hiermod.formula.terms import ModelFormula

__all__ = ["updated_text"]

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


@dataclass(frozen=True, slots=True)
class _Piece:
    """One formula of a multi-formula text: where it starts and, relative to it, its ``~`` and
    the positions of its placeholder dots."""

    text: str
    tilde: int | None
    dots: tuple[int, ...]


def _pieces(text: str) -> list[_Piece]:
    """Split ``text`` into its formulas (at ``;`` and line breaks outside parentheses and quotes),
    finding each formula's top-level ``~`` and its standalone dots."""
    pieces: list[_Piece] = []
    start, depth, quote = 0, 0, ""
    tilde: int | None = None
    dots: list[int] = []

    def close(end: int) -> None:
        nonlocal tilde, dots
        piece = text[start:end]
        if piece.strip():
            pieces.append(_Piece(piece, tilde, tuple(dots)))
        tilde, dots = None, []

    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'`":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "~" and depth == 0 and tilde is None:
            tilde = i - start
        elif char == "." and _standalone(text, i):
            dots.append(i - start)
        elif char in ";\n" and depth == 0:
            close(i)
            start = i + 1
    close(len(text))
    return pieces


def _standalone(text: str, i: int) -> bool:
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return before not in _NAME_CHARS and after not in _NAME_CHARS


def _sides(formula_text: str) -> tuple[str, str]:
    """``"y ~ 1 + x"`` as ``("y", "1 + x")`` (the canonical text has one top-level ``~``)."""
    piece = _pieces(formula_text)[0]
    assert piece.tilde is not None
    return piece.text[: piece.tilde].strip(), piece.text[piece.tilde + 1 :].strip()


def _replace_dots(text: str, dots: list[int], by: str) -> str:
    for pos in reversed(dots):
        text = text[:pos] + by + text[pos + 1 :]
    return text.strip()


def _substitute(piece: _Piece, lhs: str, rhs: str) -> tuple[str, str]:
    """The piece's two sides with its dots replaced: left of ``~`` by ``lhs``, right of it by
    ``(rhs)``; a piece without a left side (``~ . + x`` or ``. + x``) keeps ``lhs``."""
    tilde = piece.tilde if piece.tilde is not None else -1
    left = _replace_dots(piece.text[: max(tilde, 0)], [p for p in piece.dots if p < tilde], lhs)
    right_dots = [p - tilde - 1 for p in piece.dots if p > tilde]
    right = _replace_dots(piece.text[tilde + 1 :], right_dots, f"({rhs})")
    return left or lhs, right


def updated_text(old: ModelFormula, new: str, parameters: Sequence[str]) -> str:
    """The text of ``new`` written against ``old`` (see the module's rule); ``parameters`` are the
    family's distributional parameters (``sigma``…), whose formulas a piece may update."""
    main = _sides(str(old.main))
    kept = {name: _sides(str(f))[1] for name, f in old.dpars.items()}
    for index, piece in enumerate(_pieces(new)):
        left = piece.text[: piece.tilde].strip() if piece.tilde is not None else ""
        if left in parameters:
            kept[left] = _substitute(piece, left, kept.get(left, "1"))[1]
        elif index == 0:
            main = _substitute(piece, *main)
        else:
            where = new.find(piece.text.strip())
            raise FormulaSyntaxError(
                "after the first formula, each formula is for a distributional parameter "
                f"({', '.join(parameters) or 'this family has none'})",
                new,
                Span(where, where + max(1, len(piece.text.strip()))),
            )
    return "\n".join([f"{main[0]} ~ {main[1]}", *(f"{k} ~ {v}" for k, v in kept.items())])
