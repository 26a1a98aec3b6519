"""Multivariate responses: brms's ``mvbind(y1, y2) ~ …``, split into one formula per response.

The spelling, in one formula text (docs/grammar.md, docs/terms.md "Multivariate responses")::

    mvbind(y1, y2) ~ x + (1 | g)      the same right-hand side for every response
    mu_y2 ~ z + (1 | g)               y2's own mean formula (brms: bf(y1 ~ x) + bf(y2 ~ z))
    sigma_y1 ~ x                      a distributional formula of one response (brms's sigma_y1)

A later formula's left side is ``<parameter>_<response>``, as brms names the distributional
parameters of a multivariate model (``mu_y2``, ``sigma_y1``), in the way a categorical model's
per-category formulas are ``mu<category> ~ …``. Each response then gets an ordinary
:class:`~hiermod.formula.terms.ModelFormula` (``y2 ~ z + (1 | g)`` with ``sigma ~ …``), expanded by
the same passes as a univariate formula; its blocks stay ordinary blocks tagged by the response, so
blocks of several responses could share a correlation later (brms's ``(1 | p | g)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hiermod.formula.checks import Context
from hiermod.formula.expand import expand
from hiermod.formula.syntax import Call, FormulaSyntax, Name, Response, SyntaxTree
from hiermod.formula.terms import ModelFormula

__all__ = ["MultivariateFormula", "is_multivariate", "shared_ids", "split_responses"]


def is_multivariate(tree: SyntaxTree) -> bool:
    """Whether the first formula's left side is ``mvbind(…)``."""
    first = tree.formulas[0] if tree.formulas else None
    lhs = first.lhs if first is not None else None
    return lhs is not None and isinstance(lhs.value, Call) and lhs.value.func == "mvbind"


@dataclass(frozen=True, slots=True)
class MultivariateFormula:
    """The formulas of a multivariate model: one :class:`ModelFormula` per response, in order.

    Equality compares the expanded formulas; ``text`` is what the user typed.
    """

    responses: tuple[str, ...]
    formulas: tuple[ModelFormula, ...]
    text: str = field(default="", compare=False, repr=False)

    def __str__(self) -> str:
        """The canonical text: ``mvbind(…) ~`` with the first response's right side, then
        ``mu_<response> ~`` for each response whose mean formula differs, then the distributional
        formulas ``<parameter>_<response> ~``; parsing it gives an equal formula."""
        first = _rhs(self.formulas[0].main)
        lines = [f"mvbind({', '.join(self.responses)}) ~ {first}"]
        for response, formula in zip(self.responses, self.formulas, strict=True):
            if _rhs(formula.main) != first:
                lines.append(f"mu_{response} ~ {_rhs(formula.main)}")
        for response, formula in zip(self.responses, self.formulas, strict=True):
            lines += [f"{dpar}_{response} ~ {_rhs(f)}" for dpar, f in formula.dpars.items()]
        return "; ".join(lines)

    def tree(self) -> str:
        """Each response's term tree (:meth:`ModelFormula.tree`) under its name."""
        parts = [
            f"response  {r}\n{f.tree()}" for r, f in zip(self.responses, self.formulas, strict=True)
        ]
        return "\n".join(parts)

    def of(self, response: str) -> ModelFormula:
        """The formula of one response."""
        return self.formulas[self.responses.index(response)]


def _rhs(formula: object) -> str:
    return str(formula).split(" ~ ", 1)[1]


def _responses(first: FormulaSyntax, ctx: Context) -> tuple[Name, ...]:
    lhs = first.lhs
    assert lhs is not None
    assert isinstance(lhs.value, Call)
    call = lhs.value
    hint = "write mvbind(y1, y2) ~ …, one column name per response"
    if call.kwargs:
        raise ctx.error("mvbind() takes column names only", call.kwargs[0].span, hint)
    if lhs.additions:
        raise ctx.error(
            "addition terms (| weights(), | cens(), …) are not supported with mvbind() yet",
            lhs.additions[0].span,
            "fit the responses one at a time to use addition terms",
        )
    names: list[Name] = []
    for arg in call.args:
        if not isinstance(arg, Name):
            raise ctx.error(f"mvbind() takes column names, not {arg}", arg.span, hint)
        if any(n.name == arg.name for n in names):
            raise ctx.error(f"mvbind() names the column {arg.name!r} twice", arg.span, hint)
        names.append(arg)
    if len(names) < 2:
        raise ctx.error(
            f"mvbind() needs at least two responses, not {len(names)}",
            call.span,
            "a model of one response is written y ~ …",
        )
    return tuple(names)


def _owner(name: str, responses: tuple[str, ...]) -> tuple[str, str] | None:
    """``sigma_y1`` → ``("sigma", "y1")``: the parameter and the response (the longest that fits)."""
    fits = [r for r in responses if name.endswith(f"_{r}") and len(name) > len(r) + 1]
    if not fits:
        return None
    response = max(fits, key=len)
    return name[: -len(response) - 1], response


def split_responses(tree: SyntaxTree, *, strict: bool = True) -> MultivariateFormula:
    """One expanded :class:`ModelFormula` per response of ``mvbind(…) ~ …``.

    ``mvbind(y1, y2) ~ x; mu_y2 ~ z; sigma_y1 ~ x`` gives ``y1 ~ 1 + x; sigma ~ 1 + x`` and
    ``y2 ~ 1 + z``. Errors carry a caret: ``mvbind(y1)`` (one response), ``mvbind(y1, y1)``,
    a later formula naming no response (``sigma ~ x``), two formulas for the same parameter.
    """
    ctx = Context(tree.text)
    first = tree.formulas[0]
    names = _responses(first, ctx)
    responses = tuple(n.name for n in names)
    mains: dict[str, FormulaSyntax] = {}
    dpars: dict[str, list[FormulaSyntax]] = {r: [] for r in responses}
    for syntax in tree.formulas[1:]:
        lhs = syntax.lhs
        owner = (
            _owner(lhs.value.name, responses)
            if lhs is not None and isinstance(lhs.value, Name) and not lhs.additions
            else None
        )
        if owner is None:
            raise ctx.error(
                "in a multivariate model a later formula names its response: "
                f"<parameter>_<response> ~ …, with the responses {', '.join(responses)}",
                lhs.span if lhs is not None else syntax.span,
                f"write e.g. sigma_{responses[0]} ~ … or mu_{responses[-1]} ~ …",
            )
        dpar, response = owner
        assert lhs is not None
        if dpar == "mu":
            if response in mains:
                raise ctx.error(f"two formulas for mu_{response}", lhs.span)
            mains[response] = syntax
            continue
        renamed = Response(Name(dpar, span=lhs.span), span=lhs.span)
        dpars[response].append(FormulaSyntax(renamed, syntax.rhs, span=syntax.span))
    formulas = []
    for name in names:
        main = mains.get(name.name, first)
        lhs = Response(Name(name.name, span=name.span), span=name.span)
        own = FormulaSyntax(lhs, main.rhs, span=main.span)
        sub = SyntaxTree((own, *dpars[name.name]), text=tree.text)
        formulas.append(expand(sub, strict=strict))
    _one_grouping_per_id(responses, formulas, ctx)
    return MultivariateFormula(responses, tuple(formulas), text=tree.text)


def _one_grouping_per_id(
    responses: tuple[str, ...], formulas: list[ModelFormula], ctx: Context
) -> None:
    """brms's ``mvbind(y1, y2) ~ x + (1 | p | g)`` correlates y1's and y2's effects of g (one LKJ
    over them, :mod:`hiermod.output.source_multivariate_ids`); as within one response, one ID
    names one grouping: ``(1 | p | g)`` for y1 with ``(1 | p | h)`` for y2 is an error."""
    owners: dict[str, tuple[str, object]] = {}
    for response, formula in zip(responses, formulas, strict=True):
        for part in (formula.main, *formula.dpars.values()):
            for block in part.blocks:
                if block.block_id is None:
                    continue
                owner, grouping = owners.setdefault(block.block_id, (response, block.grouping))
                if grouping != block.grouping:
                    raise ctx.error(
                        f"the ID {block.block_id} joins the groupings {grouping} ({owner}) and "
                        f"{block.grouping} ({response}): one ID correlates the effects of one "
                        "grouping",
                        block.span,
                        "give the blocks of each grouping their own ID",
                    )


def shared_ids(formula: MultivariateFormula) -> tuple[str, ...]:
    """The block IDs of more than one response, in order of first use: their blocks share one
    correlation across the responses."""
    seen: dict[str, set[str]] = {}
    for response, model in zip(formula.responses, formula.formulas, strict=True):
        for part in (model.main, *model.dpars.values()):
            for block in part.blocks:
                if block.block_id is not None:
                    seen.setdefault(block.block_id, set()).add(response)
    return tuple(i for i, owners in seen.items() if len(owners) > 1)
