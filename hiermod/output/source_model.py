"""The body of ``build_model(df)`` in the generated source: one small emitter per IR piece.

As in :mod:`hiermod.output.build`, one small function per IR piece writes it (``_population``, ``_block``,
``_constant``, ``_predictor``, ``_likelihood``), found through a table built once (:func:`emit_node`);
a piece without an emitter is an :class:`~hiermod.output.codegen.EmitError`. Each writes the piece's
random variables and deterministics with a comment saying which term it implements, how it pools and
why (:mod:`hiermod.output.source_text`). :class:`Emitter` is the state of one emission;
:mod:`hiermod.output.source` writes the rest of the module around these pieces.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hiermod.output.codegen import (
    Chain,
    Code,
    EmitError,
    Names,
    assign,
    call,
    comment,
    list_of,
    literal,
    render,
    tuple_of,
)
from hiermod.output.source_data import DataEmitter
from hiermod.output.source_text import (
    block_notes,
    constant_note,
    population_note,
    predictor_note,
    reduction_notes,
)
from hiermod.plan.ir import (
    BlockIR,
    ConstantIR,
    LikelihoodIR,
    ModelIR,
    ParamSpec,
    PopulationIR,
    PredictorIR,
)
from hiermod.plan.priors import Prior

__all__ = ["Emitter", "Piece", "dims_code", "emit_node"]

_INVERSE_LINK = {
    "identity": "{}",
    "log": "pm.math.exp({})",
    "logit": "pm.math.invlogit({})",
    "probit": "pm.math.invprobit({})",
    "cloglog": "1.0 - pm.math.exp(-pm.math.exp({}))",
}


@dataclass
class Emitter:
    """State of one emission: names, the data emitter, the current predictor, the lines written."""

    ir: ModelIR
    names: Names
    data: DataEmitter
    locals: dict[str, str] = field(default_factory=dict)  # PyMC name -> Python name
    predictor: PredictorIR | None = None
    values: dict[str, str] = field(default_factory=dict)  # dpar (or "eta mu") -> its code
    weighted: tuple[str, tuple[str, ...]] | None = None  # (distribution, parameters) of weights()

    def local(self, pymc_name: str) -> str:
        if pymc_name not in self.locals:
            self.locals[pymc_name] = self.names.claim(pymc_name)
        return self.locals[pymc_name]


@dataclass(frozen=True, slots=True)
class Piece:
    """What one emitter writes: lines, and the terms it adds to a linear predictor."""

    lines: list[str]
    terms: tuple[str | Chain, ...] = ()


def dims_code(dims: tuple[str, ...]) -> Code:
    """A ``dims=`` value: the one dim's name, or a tuple of the names."""
    return literal(dims[0]) if len(dims) == 1 else tuple_of(literal(d) for d in dims)


def _value(value: Any) -> Code:
    """A prior parameter: a float, or ``np.array([...])`` for a vector."""
    if isinstance(value, tuple):
        return call("np.array", list_of(literal(float(v)) for v in value))
    return literal(float(value))


def _prior_call(prior: Prior, func: str, *args: Code, **extra: Code) -> Code:
    kwargs = {k: _value(v) for k, v in prior.params}
    return call(func, *args, **kwargs, **extra)


def _random_variable(e: Emitter, spec: ParamSpec) -> list[str]:
    """``name = pm.<Dist>("name", **prior, dims=...)``."""
    if spec.prior is None:  # pragma: no cover - lower attaches every prior
        raise EmitError(f"{spec.name} has no prior")
    extra = {"dims": dims_code(spec.dims)} if spec.dims else {}
    value = _prior_call(spec.prior, f"pm.{spec.prior.pymc_class}", literal(spec.name), **extra)
    return render(value, 2, f"{e.local(spec.name)} = ")


# ---------------------------------------------------------------------------------------------------
# One emitter per IR piece.


def _population(e: Emitter, pop: PopulationIR) -> Piece:
    lines = comment(population_note(pop), 2) if pop.intercept or pop.coefficients else []
    terms: list[str | Chain] = []
    if pop.intercept is not None:
        lines += _random_variable(e, pop.intercept)
        terms.append(e.local(pop.intercept.name))
    if pop.coefficients is not None and pop.X is not None:
        lines += _random_variable(e, pop.coefficients)
        terms.append(f"{e.local(pop.X)} @ {e.local(pop.coefficients.name)}")
    return Piece(lines, tuple(terms))


def _block(e: Emitter, block: BlockIR) -> Piece:
    assert e.predictor is not None
    lines = [line for note in block_notes(block, e.predictor) for line in comment(note, 2)]
    r = e.local(block.r.name)
    if block.correlated:
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

    idx = e.local(block.index)
    multi = len(block.level_dims) > 1
    if block.term_dim is None:
        gathered = f"{r}.flatten()[{idx}]" if multi else f"{r}[{idx}]"
        if block.Z is None:
            return Piece(lines, (gathered,))
        return Piece(lines, (Chain(gathered, (("*", e.local(block.Z)),)),))
    rows = r
    if multi:
        rows = e.names.claim(f"{block.r.name}_cells")
        lines += comment(f"one row per cell, in the order of {block.index}", 2)
        shape = tuple_of([str(block.n_levels), str(block.size)])
        lines += render(call(f"{r}.reshape", shape), 2, f"{rows} = ")
    terms: list[str | Chain] = []
    for j in range(block.size):
        gathered = f"{rows}[:, {j}][{idx}]"
        if block.intercept and j == 0:
            terms.append(gathered)
        else:
            assert block.Z is not None
            terms.append(Chain(gathered, (("*", f"{e.local(block.Z)}[:, {j}]"),)))
    return Piece(lines, tuple(terms))


def _non_centred(e: Emitter, block: BlockIR, op: str, scale: str) -> list[str]:
    """``z ~ normal(0, 1)`` and ``r = z @ chol.T`` (``op="@"``) or ``r = z * sd``."""
    assert block.z is not None
    effects = Chain(e.local(block.z.name), ((op, scale),))
    det = call("pm.Deterministic", literal(block.r.name), effects, dims=dims_code(block.r.dims))
    return _random_variable(e, block.z) + render(det, 2, f"{e.local(block.r.name)} = ")


def _centred(e: Emitter, block: BlockIR, dist: str, **spread: Code) -> list[str]:
    """``beta ~ dist(means, ·)`` and ``r = beta - means``; or ``r ~ dist(0, ·)`` (no population
    parameter to centre on)."""
    r, r_dims = e.local(block.r.name), dims_code(block.r.dims)
    if block.beta is None:
        return render(
            call(dist, literal(block.r.name), mu="0.0", **spread, dims=r_dims), 2, f"{r} = "
        )
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
    lines += render(
        call(dist, literal(block.beta.name), mu=mean, **spread, dims=dims_code(block.beta.dims)),
        2,
        f"{beta} = ",
    )
    difference = Chain(beta, (("-", mean),))
    lines += render(
        call("pm.Deterministic", literal(block.r.name), difference, dims=r_dims), 2, f"{r} = "
    )
    return lines


def _predictor(e: Emitter, predictor: PredictorIR) -> Piece:
    """``eta = Intercept + X @ b + group effects + offset``; a positive parameter gets exp(eta)."""
    e.predictor = predictor
    lines = comment(predictor_note(predictor, e.data.schema.formula), 2)
    pop = emit_node(e, predictor.population)
    lines += pop.lines
    terms = list(pop.terms)
    for block in predictor.blocks:
        piece = emit_node(e, block)
        lines += ["", *piece.lines]
        terms += piece.terms
    if predictor.offset is not None:
        terms.append(e.local(predictor.offset))
    if not terms:
        observed = e.local(e.ir.likelihood.observed)
        terms = [render(call("pm.math.zeros_like", observed, dtype=literal("float64")), 0)[0]]
    eta = e.names.claim(
        predictor.dpar if predictor.link == "identity" else f"{predictor.link}_{predictor.dpar}"
    )
    lines += [""] if predictor.blocks else []
    lines += render(Chain(terms[0], tuple(("+", t) for t in terms[1:])), 2, f"{eta} = ")
    e.values[f"eta {predictor.dpar}"] = eta
    if predictor.dpar != "mu":
        value = e.names.claim(predictor.dpar)
        lines += render(_INVERSE_LINK[predictor.link].format(eta), 2, f"{value} = ")
        e.values[predictor.dpar] = value
    e.predictor = None
    return Piece(lines)


def _constant(e: Emitter, constant: ConstantIR) -> Piece:
    lines = comment(constant_note(constant, e.ir.likelihood.family), 2)
    lines += _random_variable(e, constant.param)
    e.values[constant.dpar] = e.local(constant.param.name)
    return Piece(lines)


# family -> (PyMC distribution, its parameters as code templates of the distributional parameters).
_FAMILIES: dict[str, tuple[str, dict[str, str]]] = {
    "gaussian": ("Normal", {"mu": "{mu}", "sigma": "{sigma}"}),
    "student_t": ("StudentT", {"nu": "{nu}", "mu": "{mu}", "sigma": "{sigma}"}),
    "poisson": ("Poisson", {"mu": "{mu}"}),
    "negativebinomial": ("NegativeBinomial", {"mu": "{mu}", "alpha": "{alpha}"}),
    "gamma": ("Gamma", {"alpha": "{alpha}", "beta": "{alpha} / {mu}"}),
    "lognormal": ("LogNormal", {"mu": "{mu}", "sigma": "{sigma}"}),
    "beta": ("Beta", {"alpha": "{mu} * {phi}", "beta": "(1.0 - {mu}) * {phi}"}),
    "bernoulli": ("Bernoulli", {"p": "{mu}"}),
    "binomial": ("Binomial", {"n": "{trials}", "p": "{mu}"}),
}


def _likelihood(e: Emitter, lik: LikelihoodIR) -> Piece:
    lines: list[str] = []
    if lik.family not in _FAMILIES:  # pragma: no cover - families are checked on input
        raise EmitError(f"no emitter for the {lik.family} family")
    dist, templates = _FAMILIES[lik.family]
    eta = e.values["eta mu"]
    params = dict(templates)
    if lik.family in ("bernoulli", "binomial") and lik.link == "logit":
        params["logit_p"] = params.pop("p").replace("{mu}", eta)
    elif lik.link != "identity":
        mu = e.names.claim("mu")
        lines += render(_INVERSE_LINK[lik.link].format(eta), 2, f"{mu} = ")
        e.values["mu"] = mu
    else:
        e.values["mu"] = eta
    for name, source in lik.dpars:
        if isinstance(source, str):  # se(): a data container
            e.values[name] = e.local(source)
    if lik.trials is not None:
        e.values["trials"] = e.local(lik.trials)
    args = {k: v.format(**e.values) for k, v in params.items()}
    observed = {"observed": e.local(lik.observed), "dims": literal("obs")}
    lines += comment(
        f"Likelihood: {lik.family} with {lik.link} link, one term per row (dim obs)", 2
    )
    lines += [line for note in reduction_notes(e.ir) for line in comment(note, 2)]
    if lik.weights is None:
        return Piece(lines + render(call(f"pm.{dist}", literal(lik.name), **args, **observed), 2))
    lines += comment("weights(): each row's log-likelihood is multiplied by its weight", 2)
    e.weighted = (dist, tuple(args))
    custom = call(
        "pm.CustomDist",
        literal(lik.name),
        *args.values(),
        e.local(lik.weights),
        logp="weighted_logp",
        random="weighted_random",
        **observed,
    )
    return Piece(lines + render(custom, 2))


_EMITTERS: dict[type, Callable[[Emitter, Any], Piece]] = {
    PopulationIR: _population,
    BlockIR: _block,
    PredictorIR: _predictor,
    ConstantIR: _constant,
    LikelihoodIR: _likelihood,
}


def emit_node(e: Emitter, node: object) -> Piece:
    """Write one IR piece with its emitter from the table."""
    emitter = _EMITTERS.get(type(node))
    if emitter is None:
        raise EmitError(
            f"the source emitter has no rule for {type(node).__name__}",
        )
    return emitter(e, node)
