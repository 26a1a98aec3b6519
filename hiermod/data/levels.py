"""New data against the training levels: what an unseen level is called, and which level it was
likely meant to be.

Matching itself is :func:`hiermod.data.runtime.level_codes` (exact, then by text when only one
level has that text: ``"308"`` finds the number 308); the labels of the levels in coords are
:func:`hiermod.data.runtime.level_labels`. This module words the errors about the values that match
no level — the first few and how many (:func:`listing`), and the closest existing level
(:func:`suggestion`: ``"hennepin"`` → ``'HENNEPIN'``, never matched, only suggested) — and gives
unseen values the type of the table they join (:func:`as_table_type`), so that ``"7"`` and ``7``
are one new level of an integer grouping column.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import numpy as np

from hiermod.data.design import Level

__all__ = ["SHOWN", "as_table_type", "listing", "suggestion"]

SHOWN = 5  # how many unseen values an error lists before "and k more"
_FUZZY_LIMIT = (
    20_000  # larger level tables get only the case-insensitive suggestion (difflib is slow)
)


def listing(values: Sequence[object], shown: int = SHOWN) -> str:
    """The first ``shown`` distinct values as written (``repr``) and how many more:
    ``['a', 'b', 3, 'd', 'e', 'f', 'g']`` gives ``'a', 'b', 3, 'd', 'e' and 2 more``."""
    distinct = list(dict.fromkeys(values))
    text = ", ".join(repr(v) for v in distinct[:shown])
    return text + (f" and {len(distinct) - shown} more" if len(distinct) > shown else "")


def suggestion(unseen: Sequence[object], levels: Sequence[Level], tried: int = 3) -> str | None:
    """A hint naming the existing level closest to each of the first ``tried`` unseen values.

    A level equal but for case comes first (``"hennepin"`` → ``'HENNEPIN'``), then the closest
    text (difflib, ratio >= 0.6, for tables up to 20 000 levels). One value: ``did you mean
    'HENNEPIN'?``; several: ``did you mean 'HENNEPIN' for 'hennepin', 'ANOKA' for 'anoka'?``.
    """
    by_text = {str(level): level for level in levels}
    folded: dict[str, Level] = {}
    for text, level in by_text.items():
        folded.setdefault(text.casefold(), level)
    pairs: list[tuple[object, Level]] = []
    for value in list(dict.fromkeys(unseen))[:tried]:
        text = str(value)
        if text.casefold() in folded:
            pairs.append((value, folded[text.casefold()]))
        elif len(by_text) <= _FUZZY_LIMIT:
            match = difflib.get_close_matches(text, list(by_text), n=1, cutoff=0.6)
            if match:
                pairs.append((value, by_text[match[0]]))
    if not pairs:
        return None
    if len(set(unseen)) == 1:
        return f"did you mean {pairs[0][1]!r}?"
    return "did you mean " + ", ".join(f"{level!r} for {value!r}" for value, level in pairs) + "?"


def as_table_type(values: np.ndarray, levels: Sequence[Level]) -> np.ndarray:
    """Unseen values in the type of a table of one type, where their text says which value: in a
    table of whole numbers ``"7"`` is 7, in a table of text 7 is ``"7"``; other values, and values
    joining a table of mixed types (1 and "1"), stay as they are. Object array in, object array out.
    """
    out = np.asarray(values, dtype=object).copy()
    if levels and all(isinstance(v, int) and not isinstance(v, bool) for v in levels):
        for i, value in enumerate(out):
            if (isinstance(value, str) and _is_int_text(value)) or isinstance(value, np.integer):
                out[i] = int(value)
    elif levels and all(isinstance(v, str) for v in levels):
        for i, value in enumerate(out):
            if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
                out[i] = str(value)
    return out


def _is_int_text(text: str) -> bool:
    """``"308"`` and ``"-2"`` are the text of an int; ``"007"``, ``"3.0"`` and ``" 3"`` are not
    (``str(int(text)) == text``, the way a level's text is made)."""
    try:
        return str(int(text)) == text
    except ValueError:
        return False
