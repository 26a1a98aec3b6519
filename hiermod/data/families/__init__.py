"""Response families: each one defined once, as data every stage reads.

A family is one :class:`Family` entry and nothing else: its distributional parameters (``mu``
first) with their meaning, links and default priors, the links ``mu`` allows, what a valid
response looks like, its PyMC distribution with the parameter mapping as code templates (or a
distribution of :mod:`hiermod.output.distributions` where PyMC has none), the default priors' data
scale, its mean where PyMC's ``mean()`` does not give it, and which likelihood reductions it
admits. The lowering (default priors), the source emitter (the likelihood line, the comments), the
PyMC model (which *is* the emitted module, :mod:`hiermod.output.module`), prediction and the graph
all read it from here. Adding a family is adding an entry and its tests (worked example in
docs/architecture.md; every family is listed in docs/families.md).

The entries are grouped by kind: :mod:`.classic` (gaussian, student_t, bernoulli, binomial,
poisson, negativebinomial, gamma, lognormal, beta, exponential, weibull), :mod:`.counts`
(beta_binomial, geometric, the zero-inflated and hurdle counts), :mod:`.continuous` (skew_normal,
exgaussian, shifted_lognormal, asym_laplace, laplace, wald, von_mises, the hurdle gamma and
lognormal, the zero(-one)-inflated beta), :mod:`.ordinal` (cumulative, sratio, cratio, acat)
and :mod:`.categorical` (categorical).

``mu`` is the mean of the response (of its count or continuous part, for zero-inflated and hurdle
families) for every family but the lognormal kinds (the mean of ``log y``), asym_laplace (a
quantile) and von_mises (a mean direction), as in brms. Auxiliary parameters are positive
(log link when they have a formula) unless their entry says otherwise: probabilities such as
``zi``, ``hu``, ``zoi``, ``coi`` and ``quantile`` are logit-linked, the skew-normal ``alpha`` is
real (identity).
"""

from __future__ import annotations

import pandas as pd

from hiermod.data.families.categorical import CATEGORICAL
from hiermod.data.families.classic import CLASSIC
from hiermod.data.families.continuous import CONTINUOUS
from hiermod.data.families.counts import COUNTS
from hiermod.data.families.family import LINKS, Dpar, Family
from hiermod.data.families.ordinal import ORDINAL
from hiermod.errors import FamilyError
from hiermod.formula.functions import closest

__all__ = ["FAMILIES", "LINKS", "Dpar", "Family", "families", "get_family"]

FAMILIES: dict[str, Family] = {
    f.name: f for f in (*CLASSIC, *COUNTS, *CONTINUOUS, *ORDINAL, *CATEGORICAL)
}

_ALIASES = {alias: f for f in FAMILIES.values() for alias in (f.name, *f.aliases)}


def get_family(name: str | Family) -> Family:
    """Look a family up by name or alias (case-insensitive); an unknown name suggests the closest."""
    if isinstance(name, Family):
        return name
    key = str(name).lower().replace("-", "_")
    family = _ALIASES.get(key) or _ALIASES.get(key.replace("_", ""))
    if family is None:
        suggestion = closest(key, _ALIASES)
        raise FamilyError(
            f"unknown family {name!r}",
            hint=(f"did you mean {suggestion!r}? " if suggestion else "")
            + f"families: {', '.join(FAMILIES)}",
        )
    return family


def _parameter(d: Dpar) -> str:
    """``zi (logit)``, ``sigma``, ``disc (1 unless modelled)``: a parameter for the table."""
    if d.fixed is not None:
        return f"{d.name} ({d.fixed:g} unless modelled)"
    return f"{d.name} ({d.link})" if d.link != "log" else d.name


def families() -> pd.DataFrame:
    """Every family, one row each: its parameters (with their links), links of ``mu``, response,
    the PyMC distribution (or hiermod's, where PyMC has none), brms's name and other spellings.

    Example:
        >>> hm.families().loc["zero_inflated_poisson", "parameters"]
        'mu, zi (logit)'
    """
    rows = []
    for f in FAMILIES.values():
        parameters = ["mu<category> per category after the first" if f.per_category else "mu",
                      *(_parameter(d) for d in f.auxiliary_params)]  # fmt: skip
        rows.append(
            {
                "family": f.name,
                "parameters": ", ".join(parameters),
                "links": ", ".join(f.links),
                "response": _RESPONSES[f.response],
                "pymc": f"hiermod {f.distribution}" if f.custom else f"pm.{f.distribution}",
                "brms": f.brms,
                "aliases": ", ".join(f.aliases),
            }
        )
    return pd.DataFrame(rows).set_index("family")


_RESPONSES = {
    "real": "real",
    "binary": "0/1, booleans, two levels",
    "count": "counts 0, 1, 2, …",
    "bounded_count": "counts, with | trials(n)",
    "positive": "positive",
    "nonnegative": "non-negative (zeros allowed)",
    "unit": "in (0, 1)",
    "unit_with_zero": "in [0, 1)",
    "unit_closed": "in [0, 1]",
    "angle": "angles in [-pi, pi]",
    "ordinal": "ordered categories",
    "categorical": "unordered categories",
    "count_matrix": "counts, a column per category: cbind(a, b, c)",
    "simplex": "shares adding up to 1, a column per category: cbind(a, b, c)",
}
