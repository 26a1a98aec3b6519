"""The likelihood of the families with one linear predictor per category (categorical,
multinomial, Dirichlet; :mod:`hiermod.data.families.categorical`) in the generated source.

The log-odds of the categories after the first (``mub``, ``muc``, …; the reference's own is 0)
are stacked into one (obs, category) array; its softmax is the categories' probabilities::

    log_odds = pt.stack([reference, mub, muc], axis=-1)
    pm.Categorical("y", logit_p=log_odds, observed=..., dims="obs")        # categorical
    p = pm.math.softmax(log_odds, axis=-1)
    pm.Multinomial("y", n=trials, p=p, observed=..., dims=("obs", "y_category"))
    pm.Dirichlet("y", a=phi * p, observed=..., dims=("obs", "y_category"))  # brms's alpha
"""

from __future__ import annotations

from hiermod.data.families import get_family
from hiermod.output.codegen import (
    Code,
    EmitError,
    Subscript,
    call,
    comment,
    list_of,
    literal,
    render,
)
from hiermod.output.emitter import Emitter, Piece, dims_code
from hiermod.plan.ir import LikelihoodIR, PredictorIR

__all__ = ["by_row", "categorical_likelihood", "category_response"]

_WHAT = {
    "categorical": "one category per row",
    "multinomial": "the counts of every category per row, out of its trials",
    "dirichlet": "the shares of every category per row (alpha = phi * p, brms's)",
}


def categorical_likelihood(e: Emitter, lik: LikelihoodIR) -> Piece:
    """The stacked log-odds and the response over their softmax (see the module docstring)."""
    family = get_family(lik.family)
    sources = dict(lik.dpars)
    predictors = [p for n, p in lik.dpars if n.startswith("mu") and isinstance(p, PredictorIR)]
    observed = Subscript("data", literal(lik.observed))
    # one value per row: of the response's first column when it has a column per category
    first = (
        Subscript("data", literal(lik.observed), "[:, 0]") if family.columns_response else observed
    )
    reference, log_odds = e.names.claim("reference"), e.names.claim("log_odds")
    names = ", ".join(p.dpar for p in predictors)
    lines = comment(
        f"Likelihood: {family.name}, {_WHAT[family.name]}; {names}: the log-odds of the other "
        "categories against the first, whose own is 0 (the reference)",
        e.indent,
    )
    lines += render(
        call("pm.math.zeros_like", first, dtype=literal("float64")), e.indent, f"{reference} = "
    )
    # A formula without row terms (muc ~ 1) gives one number: the reference makes it a column.
    columns = [e.values[p.dpar] if by_row(p) else f"{reference} + {e.values[p.dpar]}"
               for p in predictors]  # fmt: skip
    stored = e.data.schema.response
    labels = [repr(c) for c in (stored.levels if stored is not None else ())]
    stack = call("pt.stack", list_of([reference, *columns], labels), axis=literal(-1))
    lines += render(stack, e.indent, f"{log_odds} = ")
    dims = next(spec.dims for spec in e.ir.data if spec.name == lik.observed)
    where: dict[str, Code] = {"observed": observed, "dims": dims_code(dims)}
    if family.name == "categorical":
        return Piece(lines + category_response(e, lik, log_odds, where))
    p = e.names.claim("p")
    lines += render(call("pm.math.softmax", log_odds, axis=literal(-1)), e.indent, f"{p} = ")
    if family.name == "multinomial":
        if lik.trials is None:  # pragma: no cover - the binder sets them (the row sums)
            raise EmitError("a multinomial likelihood needs its trials")
        params: dict[str, Code] = {"n": e.local(lik.trials), "p": p}
    else:
        phi, source = e.values["phi"], sources["phi"]
        # phi ~ x gives one precision per row: a column, to scale that row's probabilities
        scale = f"{phi}[:, None]" if isinstance(source, PredictorIR) and by_row(source) else phi
        params = {"a": f"{scale} * {p}"}
    distribution = family.distribution  # "Multinomial", "Dirichlet"
    if lik.weights is None:
        response = call(f"pm.{distribution}", literal(lik.name), **params, **where)
        return Piece(lines + render(response, e.indent))
    # weights(): a row's log-likelihood (of its whole vector of counts or shares) times its weight
    e.weighted = (distribution, tuple(params), False)
    lines += comment("weights(): each row's log-likelihood is multiplied by its weight", e.indent)
    weighted = call(
        "pm.CustomDist", literal(lik.name), *params.values(), e.local(lik.weights),
        logp="weighted_logp", dist="weighted_dist", ndim_supp=literal(1), **where,
    )  # fmt: skip
    return Piece(lines + render(weighted, e.indent))


def category_response(
    e: Emitter, lik: LikelihoodIR, log_p: str, where: dict[str, Code]
) -> list[str]:
    """The response as one category per row over the (obs, category) log-probabilities ``log_p``
    (categorical, ordinal): ``pm.Categorical``, or with ``weights()`` a ``pm.CustomDist`` whose
    log-likelihood of each row is the categorical one times its weight (brms's weights)::

        pm.CustomDist("y", log_p, data["weights"], logp=weighted_logp, dist=weighted_dist, ...)
    """
    if lik.weights is None:
        response = call("pm.Categorical", literal(lik.name), logit_p=log_p, **where)
        return render(response, e.indent)
    e.weighted = ("Categorical", ("logit_p",), False)
    lines = comment("weights(): each row's log-likelihood is multiplied by its weight", e.indent)
    weighted = call(
        "pm.CustomDist", literal(lik.name), log_p, e.local(lik.weights),
        logp="weighted_logp", dist="weighted_dist", **where,
    )  # fmt: skip
    return lines + render(weighted, e.indent)


def by_row(predictor: PredictorIR) -> bool:
    """Whether ``predictor`` has a value per row (population columns, group effects, an offset)."""
    pop = predictor.population
    return pop.X is not None or bool(predictor.blocks) or predictor.offset is not None
