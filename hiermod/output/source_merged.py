"""The merged likelihood in the generated source (:mod:`hiermod.plan.merge`).

``cell_data(data)`` groups the prepared rows into cells of identical rows — the same data of every
distributional parameter's formula, the same response (and trials) — and the likelihood is a
``pm.CustomDist`` over the rows whose log-density is ``sum_c n_c log p(y_c | cell c's parameters)``,
written for the family as ``merged_logp`` / ``merged_dist``. Draws are rows (``merged_dist``
indexes each cell's parameters by the row's cell). Example (negative binomial,
``count ~ spp * mined + (1 | site)``)::

    mu_cell = pm.math.exp(eta_cell)
    pm.CustomDist("count", mu_cell, alpha, data["row_cell"], data["cell_first"], data["cell_n"],
                  logp=merged_logp, dist=merged_dist, signature="(c),(),(n),(c),(c)->(n)", …)
"""

from __future__ import annotations

from hiermod.data.families import get_family
from hiermod.output.codegen import Code, Subscript, call, comment, list_of, literal, render
from hiermod.output.source_merged_categories import category_logp_and_dist, merged_categories
from hiermod.output.source_model import INVERSE_LINK, Emitter, predictor_value
from hiermod.plan.ir import MergedIR, ModelIR
from hiermod.plan.merge import merge_keys

__all__ = ["merged_cells", "merged_likelihood"]


def _categories(family: str) -> bool:
    """The response is a category (ordinal, categorical) or a count per category (multinomial)."""
    return get_family(family).ordinal or get_family(family).per_category


def _data(name: str, j: int | None = None) -> Subscript:
    return Subscript("data", literal(name), "" if j is None else f"[:, {j}]")


def _per_cell(ir: ModelIR) -> dict[str, bool]:
    """Which of the family's arguments vary by cell (``"(c)"``) and which are one scalar."""
    family = get_family(ir.likelihood.family)
    varying = [f"{{{p.dpar}}}" for p in ir.predictors] + ["{mu}", "{trials}"]
    return {k: any(v in template for v in varying) for k, template in family.params}


def _logp_and_dist(ir: ModelIR) -> list[str]:
    """``merged_logp`` and ``merged_dist`` of the family, e.g. for the negative binomial
    ``pt.sum(n * pm.logp(pm.NegativeBinomial.dist(mu=mu, alpha=alpha), value[first]))``."""
    family = get_family(ir.likelihood.family)
    per_cell = _per_cell(ir)
    names = list(per_cell)
    args = ", ".join(names)
    dist = family.distribution
    row = {k: f"{k}[row_cell]" if per_cell[k] else k for k in names}
    if family.custom:  # a graph of PyMC's distributions in hiermod.output.distributions
        at_cells: Code = call(f"{dist}_dist", *names, size="None")
        at_rows: Code = call(f"{dist}_dist", *row.values(), size="None")
    else:
        at_cells = call(f"pm.{dist}.dist", **{k: k for k in names})
        at_rows = call(f"pm.{dist}.dist", **row)
    return [
        f"def merged_logp(value, {args}, row_cell, cell_first, cell_n):",
        '    """The rows\' log-likelihood through their cells of identical rows (exact): every row',
        "    of cell c has the response value[cell_first[c]] and cell c's parameters, so the same",
        '    term, counted cell_n[c] times (its rows, times their weight with weights())."""',
        *render(call("pm.logp", at_cells, "value[cell_first]"), 1, "terms = "),
        *_resolved_shapes(family.custom),
        "    return pt.sum(cell_n * terms)",
        "",
        "",
        f"def merged_dist({args}, row_cell, cell_first, cell_n, size):",
        '    """The same rows to draw from: each row with its cell\'s parameters."""',
        *render(at_rows, 1, "return "),
    ]


def _resolved_shapes(custom: bool) -> list[str]:
    """A hiermod mixture (zero_inflated_beta_binomial_dist) broadcasts its weights to the shape
    of a component, a random variable: PyMC's own logp rewrites that shape away in the model, a
    CustomDist's logp must do it itself (else PyMC finds a random variable in the logp graph)."""
    if not custom:
        return []
    return [
        "    # its mixture weights read a component's shape (a random variable): rewritten to the",
        "    # parameters' shape, else PyMC finds a random variable in the logp graph",
        '    terms = pm.pytensorf.rewrite_graph(terms, include=("ShapeOpt", "canonicalize"))',
    ]


def merged_cells(e: Emitter, ir: ModelIR, merged: MergedIR) -> list[str]:
    """The generated ``cell_data(data)`` of a merged model, then ``merged_logp`` / ``merged_dist``."""
    specs = {d.name: d for d in ir.data}
    columns: list[Code] = []
    for name in merge_keys(ir):
        if len(specs[name].dims) > 1:
            columns += [_data(name, j) for j in range(len(ir.coords[specs[name].dims[1]]))]
        else:
            columns.append(_data(name))
    lik = ir.likelihood
    width = len(specs[lik.observed].dims) > 1  # multinomial: a count per category
    response = range(len(ir.coords[specs[lik.observed].dims[-1]])) if width else [None]
    columns += [_data(lik.observed, j) for j in response]
    columns += [_data(n) for n in (lik.trials, lik.weights) if n is not None]
    # rows per cell; with weights() (part of the key: a cell's rows share it) their summed weights
    weights = {} if lik.weights is None else {"weights": _data(lik.weights)}
    counts = call("np.bincount", "cell", **weights, minlength="len(first)")
    lines = [
        "def cell_data(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:",
        '    """The rows merged into cells of identical rows: the same predictors (of every',
        "    distributional parameter), response, trials and weight give the same log-likelihood",
        '    term, so each cell\'s term is counted once per row of it, times its weight (exact)."""',
        '    n = len(data["rows"])',
        *render(call(e.data.helper("cell_codes"), list_of(columns), "n"), 1, "cell = "),
        "    first = np.unique(cell, return_index=True)[1]",
        "    return {",
        f"        {literal(merged.row_cell)}: cell,",
        f"        {literal(merged.first)}: first,",
    ]
    lines += render(counts, 2, f"{literal(merged.n)}: ")
    lines[-1] += ".astype(float),"
    copies = {c: o for p, q in zip(ir.predictors, merged.predictors, strict=True)
              for c, o in zip(q.data_names(), p.data_names(), strict=True)}  # fmt: skip
    lines += [f"        {literal(c)}: data[{literal(o)}][first]," for c, o in copies.items()]
    if _categories(lik.family):  # ordinal, categorical, multinomial
        return [*lines, "    }", "", "", *category_logp_and_dist(ir)]
    return [*lines, "    }", "", "", *_logp_and_dist(ir)]


def merged_likelihood(e: Emitter, ir: ModelIR, merged: MergedIR) -> list[str]:
    """The merged likelihood's statements (at ``e.indent``), after the parameters."""
    indent, lik = e.indent, ir.likelihood
    saved = dict(e.values)
    lines = comment(
        f"Likelihood: {lik.family} with {lik.link} link, identical rows merged: {merged.reason}. "
        "Rows with the same predictors, response and trials have the same log-likelihood term, "
        "so each cell's term counts once per row"
        + (" times their weight (weights() is part of the key)" if lik.weights else "")
        + ": the same posterior as row by row "
        "(reduce=False); prior and posterior predictive draws are rows.",
        indent,
    )
    names = [n for p in merged.predictors for n in p.data_names()]
    for name in dict.fromkeys(names):
        lines += render(_data(name), indent, f"{e.local(name)} = ")
    if _categories(lik.family):  # the cells' (cell, category) probabilities
        lines += merged_categories(e, ir, merged)
        e.values.clear()
        e.values.update(saved)
        return lines
    for predictor in merged.predictors:
        lines += predictor_value(e, predictor, suffix="_cell")
    eta = e.values["eta mu"]
    if lik.link == "identity":
        e.values["mu"] = eta
    else:
        e.values["mu"] = e.names.claim("mu_cell")
        lines += render(INVERSE_LINK[lik.link].format(eta), indent, f"{e.values['mu']} = ")
    if lik.trials is not None:
        e.values["trials"] = e.names.claim("trials_cell")
        trials = Subscript("data", literal(lik.trials), f"[{e.local(merged.first)}]")
        lines += render(_data(merged.first), indent, f"{e.local(merged.first)} = ")
        lines += render(trials, indent, f"{e.values['trials']} = ")
    params = {k: v.format(**e.values) for k, v in get_family(lik.family).params}
    signature = ",".join("(c)" if v else "()" for v in _per_cell(ir).values())
    custom = call(
        "pm.CustomDist",
        literal(lik.name),
        *params.values(),
        *(_data(n) for n in (merged.row_cell, merged.first, merged.n)),
        logp="merged_logp",
        dist="merged_dist",
        signature=literal(f"{signature},(n),(c),(c)->(n)"),
        observed=_data(lik.observed),
        dims=literal("obs"),
    )
    e.values.clear()
    e.values.update(saved)
    return lines + render(custom, indent)
