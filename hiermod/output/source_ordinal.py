"""The ordinal likelihood in the generated source (:mod:`hiermod.data.families.ordinal`).

The thresholds (ordered for ``cumulative``, in place of mu's intercept), the log probability of
each category per row (``cumulative_log_probs`` … in :mod:`hiermod.output.distributions`), and
the response as a categorical over them::

    Intercept = pm.Normal("Intercept", ..., transform=pm.distributions.transforms.ordered)
    log_p = cumulative_log_probs(eta, Intercept, link="logit")
    pm.Categorical("y", logit_p=log_p, observed=data["y"], dims="obs")

A merged model (:mod:`hiermod.plan.merge`) writes the thresholds among the parameters, before
``if reduce:``, so that both likelihoods read them (:func:`ordinal_thresholds`).
"""

from __future__ import annotations

from collections.abc import Callable

from hiermod.output.codegen import Code, EmitError, Subscript, call, comment, literal, render
from hiermod.output.emitter import Emitter, Piece
from hiermod.output.source_categories import category_response
from hiermod.plan.ir import LikelihoodIR

__all__ = ["ordinal_likelihood", "ordinal_log_probs", "ordinal_thresholds"]

RandomVariable = Callable[..., list[str]]  # source_model._random_variable(e, spec, **more)


def ordinal_thresholds(e: Emitter, lik: LikelihoodIR, random_variable: RandomVariable) -> list[str]:
    """The thresholds' random variable; sets ``e.values["thresholds"]`` to its Python name."""
    thresholds = lik.thresholds
    if thresholds is None:  # pragma: no cover - lower makes them for every ordinal family
        raise EmitError("an ordinal likelihood needs its thresholds")
    stem, count = lik.family, thresholds.shape[0]
    e.values["thresholds"] = e.local(thresholds.name)
    if stem == "cumulative":  # P(y <= k) must grow with k; the conditional kinds need no order
        lines = comment(
            f"Thresholds: {count} increasing cutpoints between the {count + 1} categories of "
            f"{lik.name}, in place of mu's intercept (an ordered transform keeps them "
            "increasing).",
            2,
        )
        start = call("np.linspace", literal(-1.0), literal(1.0), literal(count))
        transform = "pm.distributions.transforms.ordered"
        return lines + random_variable(e, thresholds, transform=transform, initval=start)
    lines = comment(
        f"Thresholds: {count} cutpoints between the {count + 1} categories of {lik.name}, "
        f"in place of mu's intercept (in {stem} each is a conditional step of its own, so they "
        "need not increase, as in brms).",
        2,
    )
    return lines + random_variable(e, thresholds)


def ordinal_log_probs(e: Emitter, lik: LikelihoodIR, eta: str, disc: str | None) -> Code:
    """``cumulative_log_probs(eta, thresholds, link=..., disc=...)`` (disc when modelled)."""
    e.custom = lik.family  # the stem of <family>_log_probs in hiermod.output.distributions
    given = {"disc": disc} if disc is not None else {}
    cut = e.values["thresholds"]
    return call(f"{lik.family}_log_probs", eta, cut, link=literal(lik.link), **given)


def ordinal_likelihood(e: Emitter, lik: LikelihoodIR, random_variable: RandomVariable) -> Piece:
    """The thresholds (unless already written), the log probabilities, the response."""
    lines = [] if "thresholds" in e.values else ordinal_thresholds(e, lik, random_variable)
    log_p = e.names.claim("log_p")
    probs = ordinal_log_probs(e, lik, e.values["eta mu"], e.values.get("disc"))
    lines += comment(
        f"Likelihood: {lik.family} with {lik.link} link, one category per row (dim obs)", e.indent
    )
    lines += render(probs, e.indent, f"{log_p} = ")
    where: dict[str, Code] = {
        "observed": Subscript("data", literal(lik.observed)),
        "dims": literal("obs"),
    }
    return Piece(lines + category_response(e, lik, log_p, where))
