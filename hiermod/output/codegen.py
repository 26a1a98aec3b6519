"""Building blocks of generated Python source: literals, calls, collections and comments.

:mod:`hiermod.output.source` writes source that is already formatted: ``ruff format`` with its default settings
(line length 88) leaves it unchanged. The layout rules are ruff's, reduced to what the emitter writes:

* an expression that fits on its line stays on one line;
* otherwise a call or collection puts one item per line and ends with a trailing comma, which ruff
  keeps ("magic trailing comma"), and a sum goes in parentheses with one operand per line (a
  product that still does not fit is split at its operators, a subscript around its key);
* a comment counts toward the width; one that does not fit after its item goes on its own line;
* Python names longer than 30 characters are cut (the PyMC names, in strings, stay whole).

Data values (column names, levels, labels) enter the source only through :func:`literal`, which
re-quotes ``repr`` the way ruff does and checks the result with :func:`ast.literal_eval`, and through
:func:`comment_text`, which escapes every non-printable character. So no value can end a string or a
comment early and run as code.
"""

from __future__ import annotations

import ast
import builtins
import math
import re
import textwrap
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hiermod.errors import HiermodError
from hiermod.plan.names import identifier

__all__ = [
    "LINE_LENGTH",
    "Chain",
    "EmitError",
    "Item",
    "Names",
    "Seq",
    "Subscript",
    "Term",
    "assign",
    "call",
    "comment",
    "comment_text",
    "docstring_text",
    "flat",
    "list_of",
    "literal",
    "render",
    "tuple_of",
]

LINE_LENGTH = 88  # ruff's default
MAX_NAME = 30  # longer Python names are cut (the PyMC names, in strings, stay whole)
INDENT = "    "


class EmitError(HiermodError):
    """The model cannot be written as source (a value without a Python literal, an unknown node)."""


# ---------------------------------------------------------------------------------------------------
# Literals and text.


def _string(value: str) -> str:
    """``repr(value)`` in ruff's quotes: double unless the text holds more double than single quotes."""
    quote = '"' if value.count('"') <= value.count("'") else "'"
    out = []
    for token in re.findall(r"\\.|.", repr(value)[1:-1], flags=re.DOTALL):
        if token in ("\\'", '\\"'):
            token = token[1]
        out.append("\\" + token if token == quote else token)
    return quote + "".join(out) + quote


def _float(value: float) -> str:
    if not math.isfinite(value):
        raise EmitError(f"{value!r} has no Python literal")
    return repr(value).replace("e+", "e")  # ruff writes 1e20, not 1e+20


def literal(value: object) -> str:
    """A Python literal of a str, int, float, bool or None (or a flat tuple of them), as ruff prints it.

    >>> print(literal("it's"), literal(1e20), literal(("a", 2)))
    "it's" 1e20 ("a", 2)
    """
    if isinstance(value, tuple):
        return "(" + ", ".join(literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, str):
        text = _string(value)
    elif isinstance(value, bool) or value is None:
        text = repr(value)
    elif isinstance(value, int):
        text = repr(int(value))
    elif isinstance(value, float):
        text = _float(float(value))
    else:
        raise EmitError(
            f"cannot write a value of type {type(value).__name__} ({value!r}) as a Python literal",
        )
    back = ast.literal_eval(text)
    if back != value or type(back) is not type(value):  # pragma: no cover - a bug in the above
        raise EmitError(f"literal {text} does not read back as {value!r}")
    return text


def comment_text(text: str) -> str:
    """Text that is safe inside a ``#`` comment: non-printable characters (line breaks) escaped."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text).rstrip()


def docstring_text(text: str) -> str:
    """Text that is safe inside a triple-quoted docstring: escapes as in a ``"..."`` literal."""
    body = _string(text)
    if body.startswith("'"):  # more double than single quotes: escape the double ones
        body = '"' + body[1:-1].replace("\\'", "'").replace('"', '\\"') + '"'
    return body[1:-1]


def width(text: str) -> int:
    """Display width as ruff measures it: wide East Asian characters count twice."""
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def comment(text: str, indent: int) -> list[str]:
    """``# text`` lines wrapped to the line length at ``indent`` levels."""
    pad = INDENT * indent
    lines = textwrap.wrap(
        comment_text(text),
        LINE_LENGTH - len(pad) - 2,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return [f"{pad}# {line}" for line in lines]


# ---------------------------------------------------------------------------------------------------
# Layout.


@dataclass(frozen=True, slots=True)
class Item:
    """One element of a :class:`Seq`: ``prefix`` (``"dims="``, ``'"key": '``), value, comment."""

    value: Code
    prefix: str = ""
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Seq:
    """``open item, item close``: a call's arguments, a tuple, list or dict."""

    open: str
    items: tuple[Item, ...]
    close: str
    one_tuple: bool = False  # ``(x,)``: a one-element tuple keeps its comma when flat

    def flat(self) -> str:
        inner = ", ".join(item.prefix + flat(item.value) for item in self.items)
        comma = "," if self.one_tuple and len(self.items) == 1 else ""
        return f"{self.open}{inner}{comma}{self.close}"


@dataclass(frozen=True, slots=True)
class Chain:
    """``a + b * c``: a first operand and ``(operator, operand)`` pairs; an operand may be a
    chain of a higher precedence (a product in a sum)."""

    first: Term
    rest: tuple[tuple[str, Term], ...] = ()

    def flat(self) -> str:
        parts = [flat(self.first), *(f"{op} {flat(operand)}" for op, operand in self.rest)]
        return " ".join(parts)

    def lines(self, pad: str) -> list[str]:
        """One operand per line; a product that does not fit is split at its operators too, a
        subscript around its key."""
        out: list[str] = []
        for op, operand in [("", self.first), *self.rest]:
            lead = f"{pad}{op} " if op else pad
            if isinstance(operand, Chain) and width(lead + flat(operand)) > LINE_LENGTH:
                first, *more = operand.lines(pad)
                out += [lead + first.lstrip(), *more]
            elif isinstance(operand, Subscript) and width(lead + flat(operand)) > LINE_LENGTH:
                out += operand.lines(lead, pad)
            else:
                out.append(lead + flat(operand))
        return out


@dataclass(frozen=True, slots=True)
class Subscript:
    """``base[key]``, split as ``base[`` / key / ``]`` when it does not fit (no comma: a trailing
    comma would make the key a tuple)."""

    base: str
    key: str
    after: str = ""  # a further subscript that stays on the closing line: data["x"][first]

    def flat(self) -> str:
        return f"{self.base}[{self.key}]{self.after}"

    def lines(self, lead: str, pad: str, tail: str = "") -> list[str]:
        """``lead + base[`` / the key one level in / ``]`` (ruff splits the first bracket)."""
        return [f"{lead}{self.base}[", f"{pad}{INDENT}{self.key}", f"{pad}]{self.after}{tail}"]


Code = str | Seq | Chain | Subscript
Term = str | Chain | Subscript  # an operand of a sum: a name, a product, a gather


def flat(code: Code) -> str:
    return code if isinstance(code, str) else code.flat()


def _has_comments(code: Code) -> bool:
    return isinstance(code, Seq) and any(
        item.comment or _has_comments(item.value) for item in code.items
    )


def render(
    code: Code, indent: int, lead: str = "", tail: str = "", *, bracketed: bool = False
) -> list[str]:
    """The lines of ``lead + code + tail`` at ``indent`` levels, laid out as ruff does.

    ``bracketed``: the code is an item inside brackets, so a split sum needs no parentheses.
    """
    pad = INDENT * indent
    one_line = f"{pad}{lead}{flat(code)}{tail}"
    if isinstance(code, str) or (width(one_line) <= LINE_LENGTH and not _has_comments(code)):
        return [one_line]
    if isinstance(code, Subscript):
        return code.lines(pad + lead, pad, tail)
    if isinstance(code, Chain):
        if bracketed and not lead:
            *body, last = code.lines(pad)
            return [*body, last + tail]
        inner = INDENT * (indent + 1)
        if width(inner + flat(code)) <= LINE_LENGTH:  # as ruff: in parentheses, on one line
            return [f"{pad}{lead}(", inner + flat(code), f"{pad}){tail}"]
        return [f"{pad}{lead}(", *code.lines(inner), f"{pad}){tail}"]
    lines = [f"{pad}{lead}{code.open}"]
    for item in code.items:
        note = f"  # {comment_text(item.comment)}" if item.comment else ""
        item_lines = render(item.value, indent + 1, item.prefix, ",", bracketed=True)
        if note and len(item_lines) == 1 and width(item_lines[0] + note) <= LINE_LENGTH:
            item_lines = [item_lines[0] + note]
        elif note:
            item_lines = comment(item.comment, indent + 1) + item_lines
        lines += item_lines
    return [*lines, f"{pad}{code.close}{tail}"]


def assign(targets: Sequence[str], value: Code, indent: int) -> list[str]:
    """``a, b, c = value``; targets that do not fit before the value's bracket go one per line."""
    pad = INDENT * indent
    joined = ", ".join(targets)
    opening = value.open if isinstance(value, Seq) else flat(value)
    if len(targets) == 1 or width(f"{pad}{joined} = {opening}") <= LINE_LENGTH:
        return render(value, indent, f"{joined} = ")
    inner = INDENT * (indent + 1)
    return [f"{pad}(", *(f"{inner}{t}," for t in targets), *render(value, indent, ") = ")]


def call(func: str, *args: Code, **kwargs: Code) -> Seq:
    """``func(arg, ..., key=value, ...)``."""
    items = [Item(a) for a in args] + [Item(v, f"{k}=") for k, v in kwargs.items()]
    return Seq(f"{func}(", tuple(items), ")")


def list_of(values: Iterable[Code], comments: Sequence[str] = ()) -> Seq:
    """A list of code, with optional per-item comments."""
    items = tuple_of(values, comments).items
    return Seq("[", items, "]")


def tuple_of(values: Iterable[Code], comments: Sequence[str] = ()) -> Seq:
    """A tuple of code (use :func:`literal` on data values first)."""
    codes = list(values)
    notes = [*comments, *[""] * (len(codes) - len(comments))]
    items = tuple(Item(v, comment=c) for v, c in zip(codes, notes, strict=True))
    return Seq("(", items, ")", one_tuple=True)


# ---------------------------------------------------------------------------------------------------
# Names in the generated module.


class Names:
    """Python names of the generated module: unique, never a builtin or an imported module."""

    def __init__(self, reserved: Iterable[str]) -> None:
        self.taken: set[str] = set(dir(builtins)) | set(reserved)

    def claim(self, wanted: str) -> str:
        """``wanted`` as an identifier if free, else with ``_`` appended until it is.

        A name longer than :data:`MAX_NAME` is cut in the middle, keeping its last word
        (``GROUP_LEVELS``, ``r_g_cells``), so that lines stay short; PyMC names, in strings, stay
        whole.
        """
        name = identifier(wanted)
        if len(name) > MAX_NAME:
            head, _, last = name.rpartition("_")
            keep = last if head and 0 < len(last) <= 10 else ""
            name = name[: MAX_NAME - len(keep) - 1].rstrip("_") + (f"_{keep}" if keep else "")
        while name in self.taken:
            name = f"{name}_"
        self.taken.add(name)
        return name
