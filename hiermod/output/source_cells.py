"""The reduced likelihood in the generated source: ``cell_data(data)`` and the ``if reduce:`` branch.

A reducible model (:mod:`hiermod.plan.suffstats` for Gaussian models, :mod:`hiermod.plan.collapse`
for counts) gets a generated ``cell_data(data)`` that groups the prepared rows into cells — rows
that share every group-effect index (and sigma's design), or every predictor value — and the
likelihood as a ``pm.CustomDist`` over the rows whose log-density is computed through the cells
(:mod:`hiermod.output.likelihoods`): the same posterior as row by row, O(cells) per evaluation,
and prior and posterior predictive draws that are rows. A streamed model has no rows, only the
cell sums: its likelihood is a ``pm.Potential`` of them.

Example (the forum model, 18 cells): ``theta = pm.math.stack([Intercept + r[:, 0][g_cell], …])``,
then ``pm.CustomDist("y", theta, sigma_cell, data["row_cell"], data["row_features"], …,
logp=gaussian_cells_logp, dist=gaussian_cells_dist, …)``.
"""

from __future__ import annotations

from hiermod.output.codegen import (
    Chain,
    Code,
    Item,
    Seq,
    Subscript,
    call,
    comment,
    flat,
    list_of,
    literal,
    render,
)
from hiermod.output.source_merged import merged_cells, merged_likelihood
from hiermod.output.source_model import INVERSE_LINK, Emitter, effect, predictor_value
from hiermod.plan.ir import (
    CollapsedIR,
    ConstantIR,
    LikelihoodIR,
    ModelIR,
    PredictorIR,
    SuffStatsIR,
)
from hiermod.plan.suffstats import reduction_plan

__all__ = ["LIKELIHOODS", "cell_data_function", "likelihood_names", "reduced_likelihood"]

# The functions of hiermod.output.likelihoods each reduced family writes into the module.
LIKELIHOODS = {
    "gaussian": ("gaussian_cells_logp", "gaussian_cells_dist"),
    "gaussian streamed": ("gaussian_cells_loglik",),
    "poisson": ("poisson_cells_logp", "poisson_cells_dist"),
    "bernoulli": ("binomial_cells_logp", "binomial_cells_dist"),
    "binomial": ("binomial_cells_logp", "binomial_cells_dist"),
}


def _data(name: str) -> Subscript:
    return Subscript("data", literal(name))


def _column(name: str, j: int | None) -> Subscript:
    return Subscript("data", literal(name), "" if j is None else f"[:, {j}]")


def _dict(entries: list[tuple[str, Code]]) -> Seq:
    return Seq("{", tuple(Item(v, f"{literal(k)}: ") for k, v in entries), "}")


def _sum(parts: list[str | Subscript]) -> Chain:
    """``a + b + c``: the parts of one column of the cells' coefficients."""
    return Chain(parts[0], tuple(("+", p) for p in parts[1:]))


def _shared(parts: list[str | Subscript], ones: str) -> str:
    """A coefficient every cell shares, once per cell: ``b[0] * one_per_cell``."""
    return f"{' + '.join(flat(p) for p in parts) or '0.0'} * {ones}"


def _copies(original: PredictorIR, copy: PredictorIR) -> list[tuple[str, str]]:
    """(cell-level copy, row container) for each container a cell-level predictor reads."""
    return list(zip(copy.data_names(), original.data_names(), strict=True))


def likelihood_names(ir: ModelIR) -> tuple[str, ...]:
    """The reduced-likelihood functions the generated module of ``ir`` needs."""
    if ir.suffstats is not None:
        return LIKELIHOODS["gaussian" if ir.suffstats.rows else "gaussian streamed"]
    if ir.collapsed is not None:
        return LIKELIHOODS[ir.likelihood.family]
    return ()


def cell_data_function(e: Emitter) -> list[str]:
    """The generated ``cell_data(data)``: the cells of the prepared rows, and their data."""
    ir = e.ir
    if ir.merged is not None:
        return merged_cells(e, ir, ir.merged)
    if ir.suffstats is not None:
        return _suffstats_cells(e, ir, ir.suffstats)
    assert ir.collapsed is not None
    return _collapsed_cells(e, ir, ir.collapsed)


def _head(doc: list[str]) -> list[str]:
    return [
        "def cell_data(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:",
        *doc,
        '    n = len(data["rows"])',
    ]


def _suffstats_cells(e: Emitter, ir: ModelIR, ss: SuffStatsIR) -> list[str]:
    plan = reduction_plan(ir)
    cell_codes, cell_gram = e.data.helper("cell_codes"), e.data.helper("cell_gram")
    keys = list_of([_column(name, j) for name, j in plan.keys])
    features = list_of(
        ["np.ones(n)" if c is None else _column(*c) for c in plan.features], list(ss.features)
    )
    lines = _head(
        [
            '    """The rows in cells for the likelihood through per-cell statistics (exact).',
            "",
            "    A cell is the set of rows that share every group effect (and sigma's design);",
            "    ``w`` holds each row's features, the distinct design columns.",
            '    """',
        ]
    )
    lines += render(call(cell_codes, keys, "n"), 1, "cell = ")
    lines += ["    first = np.unique(cell, return_index=True)[1]"]
    lines += render(call("np.column_stack", features), 1, "w = ")
    lines += ["    n_cells = len(first)"]
    lines += render(call(cell_gram, "cell", "w", "n_cells"), 1, f"{ss.n}, {ss.ww} = ")
    entries: list[tuple[str, Code]] = [
        (ss.row_cell, "cell"),
        (ss.row_features, "w"),
        (ss.n, ss.n),
        (ss.ww, ss.ww),
    ]
    if not ss.rows:
        y = _column(ir.likelihood.observed, None)
        cell_moments = e.data.helper("cell_moments")
        lines += render(call(cell_moments, "cell", "w", y, "n_cells"), 1, f"{ss.yy}, {ss.wy} = ")
        entries += [(ss.yy, ss.yy), (ss.wy, ss.wy)]
    mu = ir.predictors[0]
    maps = {c.cell_map: c.param for c in ss.contributions if c.cell_map is not None}
    blocks = {b.r.name: b for b in mu.blocks}
    for cell_map, r_name in maps.items():
        assert cell_map is not None
        assert r_name is not None
        entries.append((cell_map, Subscript("data", literal(blocks[r_name].index), "[first]")))
    sigma = dict(ir.likelihood.dpars)["sigma"]
    if isinstance(ss.sigma, PredictorIR) and isinstance(sigma, PredictorIR):
        for copy, original in _copies(sigma, ss.sigma):
            entries.append((copy, Subscript("data", literal(original), "[first]")))
    # gr(g, by = f)'s per-level codes are no rows: kept as they are (a streamed model's data)
    entries += [(d.name, Subscript("data", literal(d.name))) for d in ir.data if d.role == "by"]
    return [*lines, *render(_dict(list(dict(entries).items())), 1, "return ")]


def _collapsed_cells(e: Emitter, ir: ModelIR, cl: CollapsedIR) -> list[str]:
    mu = ir.predictors[0]
    specs = {d.name: d for d in ir.data}
    columns: list[Code] = []
    for name in mu.data_names():
        if len(specs[name].dims) > 1:
            width = len(ir.coords[specs[name].dims[1]])
            columns += [_column(name, j) for j in range(width)]
        else:
            columns.append(_column(name, None))
    cell_codes = e.data.helper("cell_codes")
    lines = _head(
        [
            '    """The rows merged into cells of identical predictors, for the likelihood',
            "    through counts (exact): rows of a cell share one mean.",
            '    """',
        ]
    )
    lines += render(call(cell_codes, list_of(columns), "n"), 1, "cell = ")
    lines += ["    first = np.unique(cell, return_index=True)[1]"]
    trials = ir.likelihood.trials
    if trials is None:  # rows per cell
        counts: Code = "np.bincount(cell, minlength=len(first)).astype(float)"
    else:  # summed trials per cell
        counts = call("np.bincount", "cell", weights=_column(trials, None), minlength="len(first)")
    entries: list[tuple[str, Code]] = [(cl.row_cell, "cell"), (cl.n, counts)]
    for copy, original in _copies(mu, cl.mu):
        entries.append((copy, Subscript("data", literal(original), "[first]")))
    return [*lines, *render(_dict(entries), 1, "return ")]


def reduced_likelihood(e: Emitter) -> list[str]:
    """The reduced likelihood's statements (at ``e.indent``), after the parameters."""
    ir = e.ir
    if ir.merged is not None:
        return merged_likelihood(e, ir, ir.merged)
    if ir.suffstats is not None:
        return _gaussian(e, ir, ir.suffstats)
    assert ir.collapsed is not None
    return _counts(e, ir, ir.collapsed)


def _cell_locals(e: Emitter, names: list[str]) -> list[str]:
    """``x_cell = data["x_cell"]`` for each cell-level array the predictor code reads by name."""
    lines: list[str] = []
    for name in dict.fromkeys(names):
        lines += render(_data(name), e.indent, f"{e.local(name)} = ")
    return lines


def _gaussian(e: Emitter, ir: ModelIR, ss: SuffStatsIR) -> list[str]:
    indent = e.indent
    lik = ir.likelihood
    lines = comment(
        f"Likelihood: gaussian, through per-cell sufficient statistics: {ss.reason}. The same "
        "posterior as row by row (reduce=False)"
        + ("; prior and posterior predictive draws are rows." if ss.rows else "."),
        indent,
    )
    mu = ir.predictors[0]
    blocks = {b.r.name: b for b in mu.blocks}
    maps = [c.cell_map for c in ss.contributions if c.cell_map is not None]
    sigma_names = ss.sigma.data_names() if isinstance(ss.sigma, PredictorIR) else []
    lines += _cell_locals(e, [*maps, *sigma_names])
    columns: list[list[str | Subscript]] = [[] for _ in ss.features]
    varies = [False for _ in ss.features]  # whether a column has a per-cell part
    for c in ss.contributions:
        value: str | Subscript
        if c.kind == "intercept":
            assert c.param is not None
            value = e.local(c.param)
        elif c.kind == "coefficient":
            assert c.param is not None
            value = f"{e.local(c.param)}[{c.element}]"
        elif c.kind == "effect":
            assert c.param is not None
            assert c.element is not None
            assert c.cell_map is not None
            value = effect(e, blocks[c.param], c.element, e.local(c.cell_map))
            varies[c.feature] = True
        else:  # an offset column: its coefficient is 1
            value = "1.0"
        columns[c.feature].append(value)
    ones = e.names.claim("one_per_cell")
    if not all(varies) or isinstance(ss.sigma, ConstantIR):
        lines += render(f"np.ones(len({flat(_data(ss.n))}))", indent, f"{ones} = ")
    theta = e.names.claim("theta")
    # A coefficient shared by all cells (b[0] for x without a group slope) is repeated per cell.
    codes = [
        _sum(parts) if vary else _shared(parts, ones)
        for parts, vary in zip(columns, varies, strict=True)
    ]
    stacked = list_of(codes, list(ss.features))
    lines += comment(
        f"Each cell's coefficients, one column per feature ({', '.join(ss.features)})", indent
    )
    lines += render(call("pm.math.stack", stacked, axis="1"), indent, f"{theta} = ")
    if isinstance(ss.sigma, ConstantIR):
        sigma = e.names.claim("sigma_cell")
        lines += render(f"{e.local(ss.sigma.param.name)} * {ones}", indent, f"{sigma} = ")
    else:
        lines += predictor_value(e, ss.sigma, suffix="_cell")
        sigma = e.values["sigma"]
    if not ss.rows:
        loglik = call(
            "gaussian_cells_loglik", theta, sigma, *(_data(n) for n in (ss.n, ss.yy, ss.wy, ss.ww))
        )
        return lines + render(call("pm.Potential", literal(f"{lik.name}_loglik"), loglik), indent)
    inputs: list[Code] = [
        theta,
        sigma,
        *(_data(n) for n in (ss.row_cell, ss.row_features, ss.n, ss.ww)),
    ]
    return lines + _custom_dist(
        lik, "gaussian", inputs, "(c,f),(c),(n),(n,f),(c),(c,f,f)->(n)", indent
    )


def _counts(e: Emitter, ir: ModelIR, cl: CollapsedIR) -> list[str]:
    indent = e.indent
    lik = ir.likelihood
    lines = comment(
        f"Likelihood: {lik.family} with {lik.link} link, through counts: {cl.reason}. The same "
        "posterior as row by row (reduce=False); prior and posterior predictive draws are rows.",
        indent,
    )
    lines += _cell_locals(e, cl.mu.data_names())
    lines += predictor_value(e, cl.mu, suffix="_cell")
    eta = e.values["eta mu"]
    rows = (_data(cl.row_cell),)
    if lik.family == "poisson":  # log link only (hiermod.plan.collapse)
        inputs: list[Code] = [eta, *rows, _data(cl.n)]
        return lines + _custom_dist(lik, "poisson", inputs, "(c),(n),(c)->(n)", indent)
    log_p, log_q = e.names.claim("log_p_cell"), e.names.claim("log_q_cell")
    if lik.link == "logit":  # log p = -log(1 + exp(-eta)), log(1 - p) = -log(1 + exp(eta))
        lines += render(f"-pm.math.log1pexp(-{eta})", indent, f"{log_p} = ")
        lines += render(f"-pm.math.log1pexp({eta})", indent, f"{log_q} = ")
    else:
        p = e.names.claim("p_cell")
        lines += render(_inverse(lik.link, eta), indent, f"{p} = ")
        lines += render(f"pm.math.log({p})", indent, f"{log_p} = ")
        lines += render(f"pm.math.log1p(-{p})", indent, f"{log_q} = ")
    trials: Code = (
        _data(lik.trials) if lik.trials is not None else f'np.ones(len(data["{cl.row_cell}"]))'
    )
    inputs = [log_p, log_q, *rows, trials, _data(cl.n)]
    return lines + _custom_dist(lik, "binomial", inputs, "(c),(c),(n),(n),(c)->(n)", indent)


def _custom_dist(
    lik: LikelihoodIR, name: str, inputs: list[Code], signature: str, indent: int
) -> list[str]:
    """``pm.CustomDist`` of the response over its rows, with ``{name}_cells_logp`` and
    ``{name}_cells_dist`` of hiermod.output.likelihoods, e.g. ``gaussian_cells_logp``."""
    custom = call(
        "pm.CustomDist",
        literal(lik.name),
        *inputs,
        logp=f"{name}_cells_logp",
        dist=f"{name}_cells_dist",
        signature=literal(signature),
        observed=_data(lik.observed),
        dims=literal("obs"),
    )
    return render(custom, indent)


def _inverse(link: str, eta: str) -> str:
    return INVERSE_LINK[link].format(eta)
