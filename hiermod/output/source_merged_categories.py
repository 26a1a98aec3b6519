"""The merged likelihood of the families whose response is a category or a vector of counts:
the ordinal families, ``categorical`` and ``multinomial`` (:mod:`hiermod.plan.merge`).

Rows with the same predictors (of every distributional parameter), the same response (category,
or count vector and trials) and weight share one log-likelihood term, so the categories'
log-probabilities are computed once per cell, an (cell, category) array, and the rows' sum is
``sum_c n_c log p(y_c)``. Draws are rows: each row draws from its cell's probabilities. Example
(``rating ~ dose + (1 | site)``, cumulative logit)::

    eta_cell = X_cell @ b + sd_site * z_site[site_cell]
    log_p_cell = cumulative_log_probs(eta_cell, Intercept, link="logit")
    pm.CustomDist("rating", log_p_cell, data["row_cell"], data["cell_first"], data["cell_n"],
                  logp=merged_logp, dist=merged_dist, signature="(c,k),(n),(c),(c)->(n)", …)
"""

from __future__ import annotations

from hiermod.data.families import get_family
from hiermod.output.codegen import Code, Subscript, call, list_of, literal, render
from hiermod.output.emitter import Emitter, dims_code
from hiermod.output.source_categories import by_row
from hiermod.output.source_model import predictor_value
from hiermod.output.source_ordinal import ordinal_log_probs
from hiermod.plan.ir import MergedIR, ModelIR

__all__ = ["category_logp_and_dist", "merged_categories"]


def category_logp_and_dist(ir: ModelIR) -> list[str]:
    """``merged_logp`` / ``merged_dist`` over the cells' (cell, category) probabilities."""
    if ir.likelihood.family == "multinomial":
        args, at_cells = "p, n", "pm.Multinomial.dist(n=n, p=p)"
        at_rows = "pm.Multinomial.dist(n=n[row_cell], p=p[row_cell])"
    else:  # one category per row, over the log-probabilities (ordinal) or log-odds (categorical)
        args, at_cells = "log_p", "pm.Categorical.dist(logit_p=log_p)"
        at_rows = "pm.Categorical.dist(logit_p=log_p[row_cell])"
    return [
        f"def merged_logp(value, {args}, row_cell, cell_first, cell_n):",
        '    """The rows\' log-likelihood through their cells of identical rows (exact): every row',
        "    of cell c has the response value[cell_first[c]] and cell c's probabilities (a row of",
        "    the (cell, category) array), so the same term, counted cell_n[c] times (its rows,",
        '    times their weight with weights())."""',
        f"    terms = pm.logp({at_cells}, value[cell_first])",
        "    return pt.sum(cell_n * terms)",
        "",
        "",
        f"def merged_dist({args}, row_cell, cell_first, cell_n, size):",
        '    """The same rows to draw from: each row with its cell\'s probabilities."""',
        f"    return {at_rows}",
    ]


def merged_categories(e: Emitter, ir: ModelIR, merged: MergedIR) -> list[str]:
    """The cells' probabilities and the response over them (at ``e.indent``)."""
    indent, lik = e.indent, ir.likelihood
    family = get_family(lik.family)
    cell_n = Subscript("data", literal(merged.n))
    lines: list[str] = []
    for predictor in merged.predictors:
        if family.ordinal and predictor.dpar == "mu" and not by_row(predictor):
            # no term but the thresholds: eta is 0 in every cell
            eta = e.values["eta mu"] = e.names.claim("eta_cell")
            zeros = call("pm.math.zeros_like", cell_n)
            lines += render(zeros, indent, f"{eta} = ")
        else:
            lines += predictor_value(e, predictor, suffix="_cell")
    if family.ordinal:
        log_p = e.names.claim("log_p_cell")
        probs = ordinal_log_probs(e, lik, e.values["eta mu"], e.values.get("disc"))
        lines += render(probs, indent, f"{log_p} = ")
        params: list[Code] = [log_p]
    else:
        params, more = _log_odds(e, merged, cell_n)
        lines += more
    custom = call(
        "pm.CustomDist",
        literal(lik.name),
        *params,
        *(Subscript("data", literal(n)) for n in (merged.row_cell, merged.first, merged.n)),
        logp="merged_logp",
        dist="merged_dist",
        signature=literal(
            "(c,k),(c),(n),(c),(c)->(n,k)"
            if lik.family == "multinomial"
            else "(c,k),(n),(c),(c)->(n)"
        ),
        observed=Subscript("data", literal(lik.observed)),
        dims=dims_code(next(d.dims for d in ir.data if d.name == lik.observed)),
    )
    return lines + render(custom, indent)


def _log_odds(e: Emitter, merged: MergedIR, cell_n: Code) -> tuple[list[Code], list[str]]:
    """The cells' stacked log-odds (categorical), or their softmax and trials (multinomial)."""
    indent, lik = e.indent, e.ir.likelihood
    reference, log_odds = e.names.claim("reference_cell"), e.names.claim("log_odds_cell")
    lines = render(call("pm.math.zeros_like", cell_n), indent, f"{reference} = ")
    predictors = [p for p in merged.predictors if p.dpar.startswith("mu")]
    # A formula without row terms (muc ~ 1) gives one number: the reference makes it a column.
    columns = [e.values[p.dpar] if by_row(p) else f"{reference} + {e.values[p.dpar]}"
               for p in predictors]  # fmt: skip
    stored = e.data.schema.response
    labels = [repr(c) for c in (stored.levels if stored is not None else ())]
    stack = call("pt.stack", list_of([reference, *columns], labels), axis=literal(-1))
    lines += render(stack, indent, f"{log_odds} = ")
    if lik.family != "multinomial":
        return [log_odds], lines
    assert lik.trials is not None  # the binder sets them (the row sums)
    p, trials = e.names.claim("p_cell"), e.names.claim("trials_cell")
    lines += render(call("pm.math.softmax", log_odds, axis=literal(-1)), indent, f"{p} = ")
    first = f"[data[{literal(merged.first)}]]"  # the trials of each cell's first row
    lines += render(Subscript("data", literal(lik.trials), first), indent, f"{trials} = ")
    return [p, trials], lines
