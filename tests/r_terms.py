"""R's ``terms()`` as an oracle for hiermod's formula algebra (a helper of ``test_r_terms.py``).

Three parts:

* :func:`random_formulas` — seeded random formulas over the factors a, b, c, d with ``+ - : * / ^
  %in%``, nested parentheses, ``0``/``1`` anywhere and a leading unary ``-``/``+``, rendered with R's
  precedence so that the text means, in R, the tree that was drawn;
* :func:`r_outcomes` — one ``Rscript`` process for all formulas: R's ``term.labels`` and
  ``intercept`` per formula, or R's error text;
* :func:`hiermod_outcome` and :func:`differences` — the same answer from hiermod, and the comparison:
  the intercept flag and the *set* of terms, each term a frozenset of variable names.

The formula texts are ours (generated here), but the R side still never evaluates them: R parses
each line with ``str2lang`` and marks the call as a formula without running it.
"""

from __future__ import annotations

import random
import subprocess
import tempfile
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hiermod.errors import FormulaError, FormulaSyntaxError
from hiermod.formula.expand import expand
from hiermod.formula.parser import parse_syntax
from hiermod.formula.terms import ModelFormula

FACTORS = ("a", "b", "c", "d")
R_TIMEOUT_SECONDS = 300

# R's precedence, loosest first (?Syntax): binary + -, then * /, then %in% (all %op%), then ':',
# then unary - +, then ^. Unary minus binds *tighter* than ':' in R, so R reads `-a:b` as `(-a):b`
# (hiermod's grammar reads it as `-(a:b)`); the generated text means what R reads.
SUM, PRODUCT, WITHIN, COLON, UNARY, POWER, ATOM = range(7)
BINARY_LEVEL = {"+": SUM, "-": SUM, "*": PRODUCT, "/": PRODUCT, "%in%": WITHIN, ":": COLON}
BINARY_WEIGHTS = {"+": 4, "-": 3, ":": 3, "*": 3, "/": 2, "%in%": 2}
BINARY_SPELLING = {"+": " + ", "-": " - ", "*": " * ", "/": " / ", "%in%": " %in% ", ":": ":"}


@dataclass(frozen=True, slots=True)
class Rendered:
    """A generated sub-expression: its text and the precedence level of its outermost operator."""

    text: str
    level: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """One engine's answer for one formula: intercept and terms, or an error message.

    ``terms`` is sorted, and a multiset: a term listed twice (``a:b`` and ``b:a``) is a difference.
    """

    intercept: bool = False
    terms: tuple[frozenset[str], ...] = ()
    error: str | None = None

    def __str__(self) -> str:
        if self.error is not None:
            return f"error: {self.error.splitlines()[0] if self.error else ''}"
        labels = [":".join(sorted(term)) for term in self.terms]
        return " + ".join(["1" if self.intercept else "0", *labels])


def outcome_of(intercept: bool, terms: Sequence[frozenset[str]]) -> Outcome:
    return Outcome(intercept, tuple(sorted(terms, key=lambda t: (len(t), sorted(t)))))


# ---------------------------------------------------------------------------------------------------
# The generator.


class _Generator:
    """Random expressions with ``operators`` operator nodes (``^``, unary signs and binary operators).

    ``leading`` says the text will stand right after ``~`` or ``(``, where unary signs are most
    common (``-1 + x``); elsewhere they are drawn less often (``a + -b``, ``a:-b``, both valid in R and
    in hiermod's grammar). A left operand inherits ``leading``; a right operand never has it; the
    inside of parentheses always does.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def expression(self, operators: int, *, leading: bool) -> Rendered:
        if self.rng.random() < 0.1:  # redundant parentheses, sometimes nested: ((a + b)):c
            return _parenthesised(self.expression(operators, leading=True))
        if operators == 0:
            return self.leaf()
        kinds = ["binary"] * 12 + ["power"] * 2 + ["unary"] * (2 if leading else 1)
        kind = self.rng.choice(kinds)
        if kind == "power":
            return self.power(operators - 1)
        if kind == "unary":
            sign = self.rng.choice(["-", "-", "+"])
            operand = _at_least(self.expression(operators - 1, leading=False), UNARY)
            return Rendered(f"{sign}{operand.text}", UNARY)
        op = self.rng.choices(list(BINARY_WEIGHTS), weights=list(BINARY_WEIGHTS.values()))[0]
        level = BINARY_LEVEL[op]
        left_operators = self.rng.randint(0, operators - 1)
        # Left-associative: the left operand may sit at the same level (a - b - c is (a - b) - c),
        # the right operand must bind tighter (a - (b - c) keeps its parentheses).
        left = _at_least(self.expression(left_operators, leading=leading), level)
        right = self.expression(operators - 1 - left_operators, leading=False)
        right = _at_least(right, level + 1)
        return Rendered(f"{left.text}{BINARY_SPELLING[op]}{right.text}", level)

    def power(self, inner_operators: int) -> Rendered:
        """``a^2``, ``(a + b + c)^3``; powers 2 and 3 only (R refuses ``^1``), ``**`` sometimes."""
        if inner_operators == 0 and self.rng.random() < 0.8:
            base = Rendered(self.rng.choice(FACTORS), ATOM)
        else:
            base = _parenthesised(self.expression(inner_operators, leading=True))
        spelling = "**" if self.rng.random() < 0.1 else "^"
        return Rendered(f"{base.text}{spelling}{self.rng.choice('23')}", POWER)

    def leaf(self) -> Rendered:
        if self.rng.random() < 0.15:
            return Rendered(self.rng.choice("01"), ATOM)
        return Rendered(self.rng.choice(FACTORS), ATOM)


def _parenthesised(inner: Rendered) -> Rendered:
    return Rendered(f"({inner.text})", ATOM)


def _at_least(rendered: Rendered, level: int) -> Rendered:
    """Parenthesise an operand that binds more loosely than its place needs: (a + b):c."""
    return rendered if rendered.level >= level else _parenthesised(rendered)


def random_formulas(count: int, seed: int, *, max_operators: int = 8) -> list[str]:
    """``count`` distinct formulas ``y ~ …`` with 1 to ``max_operators`` operators, reproducibly."""
    rng = random.Random(seed)
    generator = _Generator(rng)
    out: dict[str, None] = {}
    while len(out) < count:
        operators = rng.randint(1, max_operators)
        out.setdefault("y ~ " + generator.expression(operators, leading=True).text, None)
    return list(out)


# ---------------------------------------------------------------------------------------------------
# R's side: one Rscript process for every formula.

# Reads one formula per line (argument 1) and writes one line per formula (argument 2):
#   OK <tab> intercept (0/1) [<tab> label]...   e.g.  OK	1	a	b	a:b
#   ERROR <tab> R's message                      terms() refused the formula
#   PARSE_ERROR <tab> R's message                R could not parse the text (a generator bug)
# str2lang parses without evaluating; setting the class makes the call a formula without running `~`.
R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
texts <- readLines(args[[1L]], encoding = "UTF-8")
one_line <- function(message) gsub("[\t\r\n]+", " ", message)
answer <- function(text) {
    parsed <- tryCatch(str2lang(text), error = function(e) e)
    if (inherits(parsed, "error"))
        return(paste("PARSE_ERROR", one_line(conditionMessage(parsed)), sep = "\t"))
    if (!is.call(parsed) || !identical(parsed[[1L]], as.name("~")))
        return("PARSE_ERROR\tnot a formula")
    class(parsed) <- "formula"
    attr(parsed, ".Environment") <- globalenv()
    tryCatch({
        tt <- terms(parsed)
        paste(c("OK", attr(tt, "intercept"), attr(tt, "term.labels")), collapse = "\t")
    }, error = function(e) paste("ERROR", one_line(conditionMessage(e)), sep = "\t"))
}
writeLines(vapply(texts, answer, character(1L), USE.NAMES = FALSE), args[[2L]], useBytes = TRUE)
"""


class RParseError(AssertionError):
    """R could not parse a generated text: the generator, not hiermod, is wrong."""


def r_outcomes(texts: Sequence[str], rscript: str = "Rscript") -> list[Outcome]:
    """R's ``terms()`` for every text, in order, from a single ``Rscript`` process."""
    if any("\n" in text for text in texts):
        raise ValueError("one formula per line: a text holds a line break")
    with tempfile.TemporaryDirectory(prefix="hiermod-r-terms-") as tmp:
        script, inputs, outputs = (Path(tmp) / n for n in ("terms.R", "in.txt", "out.txt"))
        script.write_text(R_SCRIPT, encoding="utf-8")
        inputs.write_text("".join(f"{text}\n" for text in texts), encoding="utf-8")
        done = subprocess.run(
            [rscript, "--vanilla", str(script), str(inputs), str(outputs)],
            capture_output=True,
            text=True,
            timeout=R_TIMEOUT_SECONDS,
        )
        if done.returncode != 0:
            raise AssertionError(f"Rscript failed ({done.returncode}):\n{done.stderr}")
        lines = outputs.read_text(encoding="utf-8").splitlines()
    if len(lines) != len(texts):
        raise AssertionError(f"R answered {len(lines)} lines for {len(texts)} formulas")
    return [parse_r_line(text, line) for text, line in zip(texts, lines, strict=True)]


def parse_r_line(text: str, line: str) -> Outcome:
    """One line of the R script's output; R's label ``a:b`` is the term {a, b}."""
    status, *fields = line.split("\t")
    if status == "OK":
        intercept, *labels = fields
        return outcome_of(intercept == "1", [frozenset(label.split(":")) for label in labels])
    if status == "ERROR":
        return Outcome(error="\t".join(fields))
    if status == "PARSE_ERROR":
        raise RParseError(f"R cannot parse the generated formula {text!r}: {fields}")
    raise AssertionError(f"unexpected line from R for {text!r}: {line!r}")


# ---------------------------------------------------------------------------------------------------
# hiermod's side and the comparison.


def _expand_recording(text: str, *modes: bool) -> list[tuple[object, list[str]]]:
    """Per ``strict`` mode: the expanded formula or the formula error hiermod raised, and the
    warnings it issued. The text is parsed once (the syntax tree is immutable)."""
    try:
        tree = parse_syntax(text)
    except FormulaSyntaxError as error:
        return [(error, []) for _ in modes]
    out: list[tuple[object, list[str]]] = []
    for strict in modes:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result: object = expand(tree, strict=strict)
            except (FormulaError, FormulaSyntaxError) as error:
                result = error
        out.append((result, [f"{w.category.__name__}: {w.message}" for w in caught]))
    return out


def hiermod_outcome(text: str, *, strict: bool) -> Outcome:
    """hiermod's expansion of ``text``; an unexpected exception is recorded as ``crash: …``."""
    try:
        [(result, _)] = _expand_recording(text, strict)  # warnings: see strict_mode_problem
    except Exception as error:  # a crash is a difference whatever R says; keep the formula with it
        return Outcome(error=f"crash: {type(error).__name__}: {error}")
    if isinstance(result, Exception):
        return Outcome(error=f"{type(result).__name__}: {result}")
    assert isinstance(result, ModelFormula)
    formula = result.main
    return outcome_of(formula.intercept, [frozenset(term.names()) for term in formula.terms])


@dataclass(frozen=True, slots=True)
class Difference:
    """A formula on which hiermod and R disagree, with both answers."""

    text: str
    r: Outcome
    hiermod: Outcome

    @property
    def kind(self) -> str:
        """A coarse category for the summary: which part differs, or which side raised."""
        if self.hiermod.error is not None and self.hiermod.error.startswith("crash"):
            return "hiermod crashed"
        if self.r.error is not None:
            return "R raised, hiermod did not"
        if self.hiermod.error is not None:
            if "removes nothing" in self.hiermod.error:
                return "hiermod: 'removes nothing'"
            return f"hiermod raised {self.hiermod.error.partition(':')[0]}"
        parts = [
            name
            for name, differs in (
                ("intercept", self.r.intercept != self.hiermod.intercept),
                ("terms", self.r.terms != self.hiermod.terms),
            )
            if differs
        ]
        return " and ".join(parts) + " differ"

    def __str__(self) -> str:
        return f"{self.text}\n    R:       {self.r}\n    hiermod: {self.hiermod}"


def agrees(r: Outcome, ours: Outcome) -> bool:
    """Same intercept and terms; where R refuses a formula hiermod must raise a formula error."""
    if r.error is not None:
        return ours.error is not None and not ours.error.startswith("crash")
    return ours == r


def differences(
    texts: Sequence[str], r: Sequence[Outcome], ours: Sequence[Outcome]
) -> list[Difference]:
    return [
        Difference(text, r_answer, our_answer)
        for text, r_answer, our_answer in zip(texts, r, ours, strict=True)
        if not agrees(r_answer, our_answer)
    ]


def report(found: Sequence[Difference], total: int, *, shown: int = 12) -> str:
    """Counts per kind, then the shortest differing formulas with both answers."""
    lines = [f"{len(found)} of {total} formulas differ from R's terms():"]
    lines += [f"  {n:5d}  {kind}" for kind, n in Counter(d.kind for d in found).most_common()]
    lines.append(f"the {min(shown, len(found))} shortest:")
    lines += [str(d) for d in sorted(found, key=lambda d: (len(d.text), d.text))[:shown]]
    return "\n".join(lines)


def _removes_nothing(message: str) -> bool:
    return "removes nothing" in message


def strict_mode_problem(text: str) -> str | None:
    """Why strict mode is not "the non-strict result, or a 'removes nothing' error" (None: it is).

    ``strict=True`` only adds hiermod's deliberate check of a removal that removes nothing
    (``y ~ a - b``): a :class:`FormulaError` saying "removes nothing", or the non-strict result
    exactly (same terms in the same order and spelling) with a "removes nothing" warning at most.
    Any other warning must be issued in both modes; ``strict=False`` never says "removes nothing".
    """
    try:
        (lenient, lenient_warnings), (strict, strict_warnings) = _expand_recording(
            text, False, True
        )
    except Exception as error:  # not a formula error: name the formula that crashed
        return f"{text}\n    crash: {type(error).__name__}: {error}"
    if isinstance(strict, FormulaError) and _removes_nothing(strict.message):
        return None
    if isinstance(strict, Exception) or isinstance(lenient, Exception):
        same = type(strict) is type(lenient) and str(strict) == str(lenient)
    else:
        same = strict == lenient and str(strict) == str(lenient)
    other_strict_warnings = [
        w for w in strict_warnings if not w.startswith("FormulaWarning") or not _removes_nothing(w)
    ]
    if (
        same
        and other_strict_warnings == lenient_warnings
        and not any(map(_removes_nothing, lenient_warnings))
    ):
        return None
    return (
        f"{text}\n    strict:     {_brief(strict)} {strict_warnings}"
        f"\n    non-strict: {_brief(lenient)} {lenient_warnings}"
    )


def _brief(result: object) -> str:
    if isinstance(result, Exception):
        return f"{type(result).__name__}: {str(result).splitlines()[0]}"
    return str(result)
