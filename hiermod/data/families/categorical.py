"""Categories: the categorical, multinomial and Dirichlet families (brms's multinomial logit).

With K categories and the first as reference (brms's default ``refcat``), the model has K - 1
linear predictors ``mu<category>``, the log-odds of each other category against the reference;
the reference's is 0, and P(y = k) = softmax(0, mu2, …, muK)_k. Each predictor has its own
parameters: ``y ~ x + (1 | g)`` with categories (a, b, c) gives ``mub ~ x + (1 | g)`` and
``muc ~ x + (1 | g)``, and a formula of its own (``muc ~ 1``, brms's ``muc ~ 1``) replaces one of
them. The names are brms's (:func:`hiermod.data.categories.category_dpars`); the response is a
``pm.Categorical`` over the codes 0 .. K-1 of the categories.

The multinomial and Dirichlet families have the same predictors over categories that are columns of
the response, ``cbind(a, b, c) ~ x`` (the first column the reference): counts of each category out of
the row's total (``multinomial``: the trials are the row sums, or ``trials(n)``, which must equal
them), or shares of each that add up to 1 per row (``dirichlet``: alpha = phi * softmax(0, mub, …),
brms's ``dirichlet_logit``, with the precision ``phi``).
"""

from __future__ import annotations

from hiermod.data.families.family import Dpar, Family

__all__ = ["CATEGORICAL"]

CATEGORICAL: tuple[Family, ...] = (
    Family(
        "categorical",
        ("logit",),  # the softmax: brms's only link of the categorical family
        "categorical",
        "Categorical",
        (),  # no templates: the emitter stacks the K - 1 log-odds (source_model, categorical)
        aliases=("multinomial_logit",),
        reductions=("merge",),  # identical rows merge into cells (hiermod.plan.merge)
        brms="categorical",
        hint="categories as strings, integers or a pandas categorical (the first is the reference)",
    ),
    Family(
        "multinomial",
        ("logit",),
        "count_matrix",
        "Multinomial",
        (),
        reductions=("merge",),  # the same counts and trials: the same term
        brms="multinomial",
        hint="counts of each category in a column of its own: cbind(a, b, c) ~ …",
    ),
    Family(
        "dirichlet",
        ("logit",),
        "simplex",
        "Dirichlet",
        (),
        (Dpar("phi", "the Dirichlet precision", "gamma(0.01, 0.01)"),),  # brms's default prior
        brms="dirichlet",
        hint="shares of each category in a column of its own, adding up to 1: cbind(a, b, c) ~ …",
    ),
)
