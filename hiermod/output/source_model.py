"""The body of ``build_model(df)`` in the generated source: one small emitter per IR piece.

One small function per IR piece writes it (``_population``, ``_block``,
``_constant``, ``_predictor``, ``_likelihood``), found through a table built once (:func:`emit_node`);
a piece without an emitter is an :class:`~hiermod.output.codegen.EmitError`. Each writes the piece's
random variables and deterministics with a comment saying which term it implements, how it pools and
why (:mod:`hiermod.output.source_text`). :class:`Emitter` is the state of one emission;
:mod:`hiermod.output.source` writes the rest of the module around these pieces.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hiermod.data.families import get_family
from hiermod.output.codegen import (
    Chain,
    Code,
    EmitError,
    Subscript,
    Term,
    assign,
    call,
    comment,
    list_of,
    literal,
    render,
    tuple_of,
)
from hiermod.output.emitter import INVERSE_LINK, Emitter, Piece, dims_code
from hiermod.output.source_by import by_block_lines
from hiermod.output.source_categories import by_row, categorical_likelihood
from hiermod.output.source_gp import gp_piece, gp_term
from hiermod.output.source_helpers import custom_distribution, weighted_draws
from hiermod.output.source_joint import joint_lines
from hiermod.output.source_monotonic import monotonic_piece, monotonic_terms
from hiermod.output.source_ordinal import ordinal_likelihood
from hiermod.output.source_ordinal import ordinal_thresholds as _ordinal_thresholds
from hiermod.output.source_pair import pair_block_lines
from hiermod.output.source_smooth import smooth_piece, smooth_term
from hiermod.output.source_text import (
    block_notes,
    constant_note,
    population_note,
    predictor_note,
)
from hiermod.plan.ir import (
    GPIR,
    BlockIR,
    ConstantIR,
    LikelihoodIR,
    MonotonicIR,
    ParamSpec,
    PopulationIR,
    PredictorIR,
    SmoothIR,
)
from hiermod.plan.priors import Prior

__all__ = [
    "INVERSE_LINK",
    "Emitter",
    "Piece",
    "dims_code",
    "effect",
    "emit_node",
    "ordinal_thresholds",
    "population_terms",
    "predictor_terms",
    "predictor_value",
]


def _value(value: Any) -> Code:
    """A prior parameter: a float, or ``np.array([...])`` for a vector."""
    if isinstance(value, tuple):
        return call("np.array", list_of(literal(float(v)) for v in value))
    return literal(float(value))


def _prior_call(prior: Prior, func: str, *args: Code, **extra: Code) -> Code:
    kwargs = {k: _value(v) for k, v in prior.params}
    return call(func, *args, **kwargs, **extra)


def _random_variable(e: Emitter, spec: ParamSpec, **more: Code) -> list[str]:
    """``name = pm.<Dist>("name", **prior, dims=..., **more)``."""
    if spec.prior is None:  # pragma: no cover - lower attaches every prior
        raise EmitError(f"{spec.name} has no prior")
    extra = ({"dims": dims_code(spec.dims)} if spec.dims else {}) | more
    value = _prior_call(spec.prior, f"pm.{spec.prior.pymc_class}", literal(spec.name), **extra)
    return render(value, 2, f"{e.local(spec.name)} = ")


# ---------------------------------------------------------------------------------------------------
# One emitter per IR piece.


def _population(e: Emitter, pop: PopulationIR) -> Piece:
    lines = comment(population_note(pop), 2) if pop.intercept or pop.coefficients else []
    if pop.intercept is not None:
        lines += _random_variable(e, pop.intercept)
    if pop.coefficients is not None and pop.X is not None:
        lines += _random_variable(e, pop.coefficients)
    return Piece(lines, population_terms(e, pop))


def population_terms(e: Emitter, pop: PopulationIR) -> tuple[str, ...]:
    """``Intercept`` and ``X @ b`` as terms of a linear predictor (``X`` as ``e`` names it)."""
    terms = []
    if pop.intercept is not None:
        terms.append(e.local(pop.intercept.name))
    if pop.coefficients is not None and pop.X is not None:
        terms.append(f"{e.local(pop.X)} @ {e.local(pop.coefficients.name)}")
    return tuple(terms)


def _block(e: Emitter, block: BlockIR) -> Piece:
    assert e.predictor is not None
    lines = [line for note in block_notes(block, e.predictor) for line in comment(note, 2)]
    r = e.local(block.r.name)
    if block.joint is not None:  # brms's (1 | p | g) across formulas
        lines += joint_lines(e, block, _random_variable)
    elif block.by_dim is not None:  # brms's gr(g, by = f)
        lines += by_block_lines(e, block, _random_variable, _centred)
    elif block.two_terms:  # (1 + x | g): no LKJ factor
        lines += pair_block_lines(e, block, _random_variable, _centred)
    elif block.correlated:
        assert block.chol is not None
        assert block.corr is not None
        assert block.sd.prior is not None
        k = block.size
        chol, corr, sd = (e.local(p.name) for p in (block.chol, block.corr, block.sd))
        lkj = call(
            "pm.LKJCholeskyCov",
            literal(block.chol.name),
            n=str(k),
            eta=literal(float(block.lkj_eta)),
            sd_dist=_prior_call(
                block.sd.prior, f"pm.{block.sd.prior.pymc_class}.dist", shape=str(k)
            ),
            compute_corr="True",
            store_in_trace="False",
        )
        lines += assign([chol, corr, sd], lkj, 2)
        pairs = f"{corr}[np.triu_indices({k}, 1)]"  # each pair of terms once (not the diagonal)
        for spec, value in ((block.sd, sd), (block.corr, pairs)):
            det = call("pm.Deterministic", literal(spec.name), value, dims=dims_code(spec.dims))
            lines += render(det, 2)
        if block.centered:
            lines += _centred(e, block, "pm.MvNormal", chol=chol)
        else:
            lines += _non_centred(e, block, "@", f"{chol}.T")
    else:
        lines += _random_variable(e, block.sd)
        sd = e.local(block.sd.name)
        if block.centered:
            lines += _centred(e, block, "pm.Normal", sigma=sd)
        else:
            lines += _non_centred(e, block, "*", sd)

    if block.term_dim is not None and len(block.level_dims) > 1:
        rows = e.names.claim(f"{block.r.name}_cells")
        e.cells[block.r.name] = rows
        lines += comment(f"one row per cell, in the order of {block.index}", 2)
        shape = tuple_of([str(block.n_levels), str(block.size)])
        lines += render(call(f"{r}.reshape", shape), 2, f"{rows} = ")
    return Piece(lines, block_terms(e, block))


def effect(e: Emitter, block: BlockIR, j: int, index: str) -> Subscript:
    """Effect ``j`` of the block at the flat level (cell) positions ``index``: a 1-D gather of a
    1-D vector (DESIGN.md §3), e.g. ``r_g__c_cells[:, 1][group__color_idx]``."""
    r = e.local(block.r.name)
    if block.term_dim is None:
        return Subscript(f"{r}.flatten()" if len(block.level_dims) > 1 else r, index)
    return Subscript(f"{e.cells.get(block.r.name, r)}[:, {j}]", index)


def block_terms(e: Emitter, block: BlockIR) -> tuple[Term, ...]:
    """The block's terms of a linear predictor: each effect gathered per row, times its column."""
    idx = e.local(block.index)
    terms: list[Term] = []
    for j in range(block.size):
        gathered = effect(e, block, j, idx)
        if block.intercept and j == 0:
            terms.append(gathered)
        elif block.term_dim is None:
            assert block.Z is not None
            terms.append(Chain(gathered, (("*", e.local(block.Z)),)))
        else:
            assert block.Z is not None
            terms.append(Chain(gathered, (("*", f"{e.local(block.Z)}[:, {j}]"),)))
    return tuple(terms)


def _non_centred(e: Emitter, block: BlockIR, op: str, scale: str) -> list[str]:
    """``z ~ normal(0, 1)`` and ``r = z @ chol.T`` (``op="@"``) or ``r = z * sd``."""
    assert block.z is not None
    effects = Chain(e.local(block.z.name), ((op, scale),))
    det = call("pm.Deterministic", literal(block.r.name), effects, dims=dims_code(block.r.dims))
    return _random_variable(e, block.z) + render(det, 2, f"{e.local(block.r.name)} = ")


def _centred(
    e: Emitter, block: BlockIR, distribution: str, params: list[Code] | None = None, **spread: Code
) -> list[str]:
    """``beta ~ distribution(means, ·)`` and ``r = beta - means``; or ``r ~ distribution(0, ·)``
    (no population parameter to centre on). With ``params``, the means and they are its positional
    arguments (a ``pm.CustomDist``'s), not ``mu=``."""

    def draw(name: str, mean: Code, dims: Code) -> Code:
        if params is None:
            return call(distribution, literal(name), mu=mean, **spread, dims=dims)
        return call(distribution, literal(name), mean, *params, **spread, dims=dims)

    r, r_dims = e.local(block.r.name), dims_code(block.r.dims)
    if block.beta is None:
        zero = "0.0" if params is None else f"np.zeros({block.size})"
        return render(draw(block.r.name, zero, r_dims), 2, f"{r} = ")
    means = []
    for term in block.means:
        if term is None:
            means.append("0.0")
        elif term.element is None:
            means.append(e.local(term.param))
        else:
            means.append(f"{e.local(term.param)}[{term.element}]")
    lines: list[str] = []
    if block.term_dim is None:
        mean: str = means[0]
    else:
        mean = e.names.claim(
            f"mean_{block.stem}"
            if block.beta.dpar == "mu"
            else f"{block.beta.dpar}_mean_{block.stem}"
        )
        lines += render(call("pm.math.stack", list_of(means)), 2, f"{mean} = ")
    beta = e.local(block.beta.name)
    lines += render(draw(block.beta.name, mean, dims_code(block.beta.dims)), 2, f"{beta} = ")
    difference = Chain(beta, (("-", mean),))
    lines += render(
        call("pm.Deterministic", literal(block.r.name), difference, dims=r_dims), 2, f"{r} = "
    )
    return lines


def _predictor(e: Emitter, predictor: PredictorIR) -> Piece:
    """A distributional parameter's parameters (population terms, blocks), and its terms."""
    e.predictor = predictor
    lines = comment(predictor_note(predictor, e.data.schema.formula), 2)
    pop = emit_node(e, predictor.population)
    lines += pop.lines
    terms = list(pop.terms)
    for block in (*predictor.blocks, *predictor.monotonic, *predictor.gps, *predictor.smooths):
        piece = emit_node(e, block)
        lines += ["", *piece.lines]
        terms += piece.terms
    e.predictor = None
    return Piece(lines, tuple(terms))


def predictor_terms(e: Emitter, predictor: PredictorIR) -> list[Term]:
    """The terms of ``eta`` (after the predictor's parameters are emitted), offset last."""
    terms: list[Term] = list(population_terms(e, predictor.population))
    for block in predictor.blocks:
        terms += block_terms(e, block)
    terms += [gp_term(e, gp) for gp in predictor.gps]
    terms += [t for m in predictor.monotonic for t in monotonic_terms(e, m)]
    terms += [smooth_term(e, smooth) for smooth in predictor.smooths]
    if predictor.offset is not None:
        terms.append(e.local(predictor.offset))
    return terms


def predictor_value(e: Emitter, predictor: PredictorIR, suffix: str = "") -> list[str]:
    """``eta = Intercept + X @ b + group effects + offset``; a positive parameter gets exp(eta).

    Sets ``e.values[dpar]`` (and ``"eta <dpar>"``) to the names written; ``suffix`` marks a
    cell-level copy (``log_sigma_cell``). A stored predictor is kept as a Deterministic over obs.
    """
    terms = predictor_terms(e, predictor)
    if not terms or (predictor.store and not by_row(predictor)):
        # one value per row: y ~ 1 stores its mu over obs (Intercept + zeros), y ~ 0 is zeros
        observed = Subscript("data", literal(e.ir.likelihood.observed))
        terms += [render(call("pm.math.zeros_like", observed, dtype=literal("float64")), 0)[0]]
    link = predictor.link
    stem = predictor.dpar if link == "identity" else f"{link}_{predictor.dpar}"
    if predictor.dpar == "mu" and get_family(e.ir.likelihood.family).ordinal:
        stem, link = "eta", "identity"  # the latent scale the thresholds cut, not a link of a mean
    eta = e.names.claim(stem + suffix)
    lines = render(Chain(terms[0], tuple(("+", t) for t in terms[1:])), e.indent, f"{eta} = ")
    e.values[f"eta {predictor.dpar}"] = eta
    if predictor.dpar != "mu" or predictor.store:
        value = e.names.claim(predictor.dpar + suffix) if link != "identity" else eta
        if value != eta:
            lines += render(INVERSE_LINK[link].format(eta), e.indent, f"{value} = ")
        e.values[predictor.dpar] = value
        if predictor.store:
            det = call("pm.Deterministic", literal(predictor.name), value, dims=literal("obs"))
            lines += render(det, e.indent)
    return lines


def _constant(e: Emitter, constant: ConstantIR) -> Piece:
    lines = comment(constant_note(constant, e.ir.likelihood.family), 2)
    lines += _random_variable(e, constant.param)
    e.values[constant.dpar] = e.local(constant.param.name)
    return Piece(lines)


def _likelihood(e: Emitter, lik: LikelihoodIR) -> Piece:
    """The observed response, one term per row; its data are a constant (``data[...]``), so
    PyTensor folds the likelihood's data-only terms (log y! of a Poisson, …) once at compile time."""
    indent = e.indent
    lines: list[str] = []
    family = get_family(lik.family)  # its distribution and parameters: hiermod.data.families
    if family.ordinal:
        return ordinal_likelihood(e, lik, _random_variable)
    if family.per_category:
        return categorical_likelihood(e, lik)
    dist = family.distribution
    eta = e.values["eta mu"]
    params = dict(family.params)
    if family.logit_param is not None and lik.link == "logit" and "mu" not in e.values:
        # e.g. pm.Bernoulli(logit_p=eta): the logit link without computing p = sigmoid(eta)
        (taken,) = [k for k, v in params.items() if v == "{mu}"]
        params.pop(taken)
        params[family.logit_param] = eta
    elif "mu" in e.values:  # already computed: a stored mu
        pass
    elif lik.link != "identity":
        mu = e.names.claim("mu")
        lines += render(INVERSE_LINK[lik.link].format(eta), indent, f"{mu} = ")
        e.values["mu"] = mu
    else:
        e.values["mu"] = eta
    for name, source in lik.dpars:
        if isinstance(source, str):  # se(): a data container
            e.values[name] = e.local(source)
    if lik.trials is not None:
        e.values["trials"] = e.local(lik.trials)
    args = {k: v.format(**e.values) for k, v in params.items()}
    observed: dict[str, Code] = {
        "observed": Subscript("data", literal(lik.observed)),
        "dims": literal("obs"),
    }
    lines += comment(
        f"Likelihood: {lik.family} with {lik.link} link, one term per row (dim obs)", indent
    )
    if family.custom:
        e.custom = dist
    if lik.truncated is not None and lik.censoring is None:  # trunc(): renormalised to [lb, ub]
        lines += comment(
            "trunc(): the response lies within its bounds: each row's density is divided by "
            "the probability of that range",
            indent,
        )
        bounds = {
            side: e.local(bound) if isinstance(bound, str) else literal(bound)
            for side, bound in zip(("lower", "upper"), lik.truncated, strict=True)
            if bound is not None
        }
        base = call(f"pm.{dist}.dist", **args)
        truncated = call("pm.Truncated", literal(lik.name), base, **bounds, **observed)
        return Piece(lines + render(truncated, indent))
    if lik.censored is not None:  # cens(): P(y > t) for a right-censored row, P(y < t) left
        lines += comment(
            "cens(): a row censored on the right contributes P(y > its value), on the left "
            "P(y < its value) (bounds -inf/inf where observed)",
            indent,
        )
        dist_call = call(f"pm.{dist}.dist", **args)
        lower, upper = (e.local(b) for b in lik.censored)
        censored = call(
            "pm.Censored", literal(lik.name), dist_call, lower=lower, upper=upper, **observed
        )
        return Piece(lines + render(censored, indent))
    if lik.censoring is not None:  # cens(c, y2) or cens() with weights(): by each row's code
        le = "<=" if family.discrete else "<"  # counts: F(value) = P(y <= value), Stan's lcdf
        response = e.data.schema.formula.response
        if response is not None and any(a.func == "cens" for a in response.additions):
            what = (
                "cens(): each row's term by its code: 0 the density, 1 P(y > value), -1 "
                f"P(y {le} value), 2 P(value < y {le} y2)"
            )
        else:  # trunc() with weights(): pm.Truncated takes no weights
            what = "weights() with trunc(): each row's density (code 0: no row is censored)"
        lines += comment(what + ("; times its weight" if lik.weights else ""), indent)
        given = [b for b in lik.truncated or () if b is not None]  # trunc() bounds
        if given:
            lines += comment(
                "trunc(): each row's term divided by the probability of its range", indent
            )
        low, high = lik.truncated or (None, None)
        e.censored = (
            dist,
            tuple(args),
            lik.weights is not None,
            (low is not None, high is not None),
        )
        weights = [lik.weights] if lik.weights is not None else []
        extra: list[Code] = [e.local(c) for c in (*lik.censoring, *weights)]
        extra += [e.local(b) if isinstance(b, str) else literal(b) for b in given]
        coded = call(
            "pm.CustomDist", literal(lik.name), *args.values(), *extra,
            dist="censored_dist", logp="censored_logp", **observed,
        )  # fmt: skip
        return Piece(lines + render(coded, indent))
    if lik.weights is None:
        if family.custom:  # brms has it, PyMC not: its functions are in this module
            likelihood = custom_distribution(lik.name, dist, list(args.values()), observed)
        else:
            likelihood = call(f"pm.{dist}", literal(lik.name), **args, **observed)
        return Piece(lines + render(likelihood, indent))
    lines += comment("weights(): each row's log-likelihood is multiplied by its weight", indent)
    e.weighted = (dist, tuple(args), family.custom)
    draws = weighted_draws(dist, family.custom)  # dist=weighted_dist, or random=weighted_random
    custom = call(
        "pm.CustomDist",
        literal(lik.name),
        *args.values(),
        e.local(lik.weights),
        logp="weighted_logp",
        **{draws: f"weighted_{draws}"},
        **observed,
    )
    return Piece(lines + render(custom, indent))


def ordinal_thresholds(e: Emitter, lik: LikelihoodIR) -> list[str]:
    """The ordinal thresholds' random variable (:func:`hiermod.output.source_ordinal.ordinal_thresholds`)."""
    return _ordinal_thresholds(e, lik, _random_variable)


_EMITTERS: dict[type, Callable[[Emitter, Any], Piece]] = {
    PopulationIR: _population,
    BlockIR: _block,
    PredictorIR: _predictor,
    ConstantIR: _constant,
    LikelihoodIR: _likelihood,
    GPIR: lambda e, gp: gp_piece(e, gp, _random_variable),
    MonotonicIR: monotonic_piece,
    SmoothIR: smooth_piece,
}


def emit_node(e: Emitter, node: object) -> Piece:
    """Write one IR piece with its emitter from the table."""
    emitter = _EMITTERS.get(type(node))
    if emitter is None:
        raise EmitError(
            f"the source emitter has no rule for {type(node).__name__}",
        )
    return emitter(e, node)
