"""The rules the arguments of every public call follow, checked at the call before any work.

Each kind of argument has one rule here, used by every stage (the model's options, fitting,
prediction, the summaries and the interpretation functions):

* a choice among values (``kind="mean"``): :func:`check_choice`, an
  :class:`~hiermod.errors.OptionError` listing the allowed values;
* a whole number (``draws=1000``), a probability (``prob=0.95``), a positive number (``eps``), a
  flag (``show=True``), a random seed: :func:`check_count`, :func:`check_probability`,
  :func:`check_positive`, :func:`check_flag`, :func:`check_seed` (``OptionError`` as well);
* a value of the wrong Python type (``priors=["normal(0, 1)"]``) or a keyword the call does not
  take (``prior=``): :func:`check_type` and :func:`unexpected_keyword`, an
  :class:`~hiermod.errors.ArgumentError` (a ``TypeError``) naming what the argument accepts, with
  the closest keyword::

      >>> print(unexpected_keyword("Model.fit()", "draw", ("draws", "tune", "chains")))
      Model.fit() got an unexpected keyword argument 'draw'; did you mean 'draws'?
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterable, Sequence

import numpy as np

from hiermod.errors import ArgumentError, OptionError

__all__ = [
    "alternatives",
    "check_choice",
    "check_count",
    "check_flag",
    "check_positive",
    "check_probability",
    "check_seed",
    "check_type",
    "did_you_mean",
    "unexpected_keyword",
]


def _is_bool(value: object) -> bool:
    return isinstance(value, bool | np.bool_)


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def alternatives(allowed: Iterable[object]) -> str:
    """``('a', 'b', 'c')`` as ``"'a', 'b' or 'c'"``."""
    *rest, last = [repr(a) for a in allowed]
    return f"{', '.join(rest)} or {last}" if rest else last


def check_choice(name: str, value: object, allowed: Sequence[object]) -> None:
    """``value`` is one of ``allowed`` (``True`` is not ``1`` here: booleans match booleans only).

    ``check_choice("kind", "men", ("mean", "response"))`` raises
    ``OptionError: kind must be 'mean' or 'response', not 'men'``.
    """
    if not _hashable(value) or not any(
        value == a and _is_bool(value) == _is_bool(a) for a in allowed
    ):
        raise OptionError(f"{name} must be {alternatives(allowed)}, not {value!r}")


def _is_whole(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not _is_bool(value)


def check_count(name: str, value: object, least: int) -> None:
    """``value`` is a whole number ``>= least`` (``draws=-5``, ``draws=2.5`` and ``draws=True`` are
    refused: a count is never a float or a flag)."""
    if not _is_whole(value) or value < least:  # type: ignore[operator]
        raise OptionError(f"{name} must be a whole number >= {least}, not {value!r}")


def _real(value: object) -> float | None:
    """``value`` as a float when it is a real number (not a flag), else None."""
    if _is_bool(value) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def check_probability(name: str, value: object, example: str = "0.95") -> float:
    """``value`` as a float strictly between 0 and 1 (``target_accept=7``, ``prob=1`` are refused)."""
    number = _real(value)
    if number is None or not 0.0 < number < 1.0:
        raise OptionError(
            f"{name} must be a probability between 0 and 1 (e.g. {example}), not {value!r}"
        )
    return number


def check_positive(name: str, value: object) -> float:
    """``value`` as a finite float > 0 (a step size, a scale)."""
    number = _real(value)
    if number is None or not math.isfinite(number) or number <= 0:
        raise OptionError(f"{name} must be a positive finite number, not {value!r}")
    return number


def check_flag(name: str, value: object) -> None:
    """``value`` is ``True`` or ``False`` (``show="no"`` would read as true)."""
    if not _is_bool(value):
        raise OptionError(f"{name} must be True or False, not {value!r}")


def check_seed(name: str, value: object) -> None:
    """``value`` seeds NumPy: None, a whole number >= 0, a sequence of them (one per chain), or a
    ``numpy.random.Generator`` / ``RandomState`` (``random_seed="a"`` and ``-1`` are refused)."""
    if value is None or isinstance(value, np.random.Generator | np.random.RandomState):
        return
    seeds = value if isinstance(value, list | tuple) and value else [value]
    if not all(_is_whole(s) and s >= 0 for s in seeds):  # type: ignore[operator]
        raise OptionError(
            f"{name} must be None, a whole number >= 0, a list of them (one per chain) or a "
            f"numpy.random.Generator, not {value!r}"
        )


def check_type(name: str, value: object, types: type | tuple[type, ...], accepts: str) -> None:
    """``value`` is an instance of ``types``; else an ArgumentError saying what ``name`` accepts."""
    if not isinstance(value, types):
        raise ArgumentError(f"{name} must be {accepts}, not {type(value).__name__}")


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    """``"did you mean 'priors'?"`` for the known name closest to ``name`` (difflib), if any is."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.7)
    return f"did you mean {close[0]!r}?" if close else None


def unexpected_keyword(call: str, name: str, known: Iterable[str], hint: str = "") -> ArgumentError:
    """The error for a keyword ``call`` does not take: the closest of ``known`` when one is close,
    else ``hint`` (what the call does take)."""
    suggestion = did_you_mean(name, known) or hint
    tail = f"; {suggestion}" if suggestion else ""
    return ArgumentError(f"{call} got an unexpected keyword argument {name!r}{tail}")
