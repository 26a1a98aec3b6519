"""formulae (Bambi's formula parser) as an independent oracle for the cases both languages share.

For population terms and lme4-style group terms, the *set* of terms hiermod expands to must match
formulae's ``model_description``: common terms as frozensets of their factors (column names, or the
call's text for transforms), and group terms as ``(expression factors, grouping factors)`` pairs.
formulae splits a block into one group term per effect, so a hiermod block ``(1 + x | g)`` is compared
as ``{((), {g}), ({x}, {g})}``; correlation structure is not part of formulae's description.

Known differences, excluded from the comparison (checked against formulae 0.9):

* ``y ~ a - b`` — formulae (like R) silently ignores removing an absent term; hiermod raises, since
  it is almost always a typo.
* ``y ~ x - 0``, ``y ~ (x - 1 | g)`` — formulae raises ``TypeError``.
* ``y ~ (1 + a):b`` — formulae raises ``AttributeError``.
* ``y ~ (a + b)^2`` — formulae only knows ``**`` for powers.
* ``y ~ a + (b + c - 1)`` — formulae ignores a ``-1`` inside parentheses and keeps the intercept;
  R (and hiermod) remove it.
* ``y ~ (x || g)`` — formulae has no ``||``.
* ``;`` (distributional formulas) and ``y | trials(n)`` (brms addition terms) — not in formulae.
* ``y ~ x1 | group``, ``y ~ x z``, ``y ~ x // z``, ``y ~ x == 1`` — formulae drops the rest of the
  formula silently; hiermod raises a syntax error (see test_formulae_quirks_are_errors_here).
* ``y ~ a:b + b:a`` — formulae keeps both spellings as two terms; as *sets* of factors they agree,
  so the case stays in the table.
"""

from __future__ import annotations

import pytest

import hiermod as hm
from hiermod.formula.syntax import Name
from hiermod.formula.terms import Atom

formulae = pytest.importorskip("formulae")
formulae_terms = pytest.importorskip("formulae.terms.terms")

TermSet = set[frozenset[str]]
GroupSet = set[tuple[frozenset[str], frozenset[str]]]


def _label(atom: Atom) -> str:
    return atom.name if isinstance(atom, Name) else str(atom).replace(" ", "")


def ours(text: str) -> tuple[TermSet, GroupSet, str | None]:
    f = hm.parse(text).main
    common: TermSet = {frozenset()} if f.intercept else set()
    common |= {frozenset(_label(a) for a in t.factors) for t in f.terms}
    common |= {frozenset({_label(o)}) for o in f.offsets}
    groups: GroupSet = set()
    for block in f.blocks:
        grouping = frozenset(block.factors)
        if block.intercept:
            groups.add((frozenset(), grouping))
        groups |= {(frozenset(_label(a) for a in t.factors), grouping) for t in block.terms}
    return common, groups, f.lhs_name


def _components(term: object) -> frozenset[str]:
    if isinstance(term, formulae_terms.Intercept):
        return frozenset()
    assert isinstance(term, formulae_terms.Term), type(term)
    return frozenset(
        c.name.replace(" ", "") if type(c).__name__ == "Call" else c.name for c in term.components
    )


def theirs(text: str) -> tuple[TermSet, GroupSet, str | None]:
    description = formulae.model_description(text)
    common = {_components(t) for t in description.common_terms}
    groups = {
        (_components(t.expr), frozenset(c.name for c in t.factor.components))
        for t in description.group_terms
    }
    response = description.response
    name = None if response is None else response.term.components[0].name
    return common, groups, name


SHARED = [
    # Intercept rules.
    "y ~ x",
    "y ~ 0 + x",
    "y ~ x + 0",
    "y ~ x - 1",
    "y ~ -1 + x",
    "y ~ 1 + 0 + x",
    "y ~ 0 + 1 + x",
    "y ~ 1",
    "y ~ 0 + a:b",
    # Products, nesting, powers, removal, duplicates.
    "y ~ a + b",
    "y ~ a:b",
    "y ~ a*b",
    "y ~ a*b*c",
    "y ~ a*b:c",
    "y ~ (a + b):c",
    "y ~ (a + b)*(c + d)",
    "y ~ (a + b):(c + d)",
    "y ~ a/b",
    "y ~ (a + b)/c",
    "y ~ a/b/c",
    "y ~ a/(b + c)",
    "y ~ (a + b + c)**2",
    "y ~ (a + b + c)**3",
    "y ~ (a + b + c)**2 - a:b",
    "y ~ a*b - a:b",
    "y ~ a*b - a",
    "y ~ a*b*c - a:b:c",
    "y ~ a + a",
    "y ~ a:b + b:a",
    # Transforms and names.
    "y ~ log(x) + center(z)",
    "y ~ scale(x) + I(x**2)",
    "y ~ C(f)",
    'y ~ C(f, ref="b")',
    "y ~ log(x)*C(f)",
    "y ~ poly(x, 2) + bs(z, df=4)",
    "y ~ x + offset(log(n))",
    "y ~ `a b` + x",
    "log(y) ~ x",
    # Group terms.
    "y ~ (1 | g)",
    "y ~ (x | g)",
    "y ~ x + (x | g)",
    "y ~ (0 + x | g)",
    "y ~ (1 | g:h)",
    "y ~ (1 + x | g:h)",
    "y ~ (x | g1/g2)",
    "y ~ (x | g1 + g2)",
    "y ~ (x | g1*g2)",
    "y ~ (1 | f/g/h)",
    "y ~ (a*b | g)",
    "y ~ (1 | g) + (1 | h)",
    "y ~ x + (1 | g) + (0 + x | g)",
    "y ~ 0 + x + (1 | g)",
    "y ~ a*b + (1 + a | g) + (1 | h:g)",
    "y ~ (a + b | f + g + h*i)",
    "y ~ log(x) + (log(x) | g)",
]


@pytest.mark.parametrize("text", SHARED)
def test_same_terms_as_formulae(text: str) -> None:
    our_common, our_groups, our_response = ours(text)
    their_common, their_groups, their_response = theirs(text)
    assert our_common == their_common
    assert our_groups == their_groups
    assert our_response == their_response


@pytest.mark.parametrize("text", ["y ~ x1 | group", "y ~ x z", "y ~ x // z", "y ~ x == 1"])
def test_formulae_quirks_are_errors_here(text: str) -> None:
    # formulae reads these as "y ~ x" (the rest is dropped without a word); hiermod refuses them.
    common, groups, _ = theirs(text)
    assert groups == set()
    assert common == {frozenset(), frozenset({text.split()[2]})}
    with pytest.raises(hm.FormulaSyntaxError):
        hm.parse(text)
