"""Helper functions of the generated source: emitted only when the model uses them.

The data helpers are hiermod's own functions in :mod:`hiermod.data.runtime`, written into the
module verbatim (``inspect.getsource``): ``known_codes`` / ``level_codes``, ``cell_index`` /
``cell_positions``, ``cell_labels``, ``poly_basis``, ``bspline_basis``. So the generated module
runs without hiermod and encodes data exactly as hiermod does. Written here as text, because they
depend on the model's columns: ``complete_rows`` (:func:`~hiermod.data.columns.kept_rows`) and the
weighted likelihood of ``weights()``.
"""

from __future__ import annotations

import inspect
from types import ModuleType

from hiermod.data import runtime
from hiermod.output import distributions, likelihoods
from hiermod.output.codegen import Code, EmitError, Item, Seq, call, literal, render

__all__ = [
    "HELPER_NAMES",
    "IMPORTS",
    "LIKELIHOOD_NAMES",
    "censored_source",
    "complete_rows_source",
    "custom_distribution",
    "distribution_function_sources",
    "helper_sources",
    "likelihood_sources",
    "weighted_draws",
    "weighted_source",
]

HELPER_NAMES = tuple(name for name in runtime.__all__ if name not in ("IMPORTS", "NEEDS"))
LIKELIHOOD_NAMES = tuple(name for name in likelihoods.__all__ if name != "NEEDS")
DISTRIBUTION_NAMES = tuple(name for name in distributions.__all__ if name != "NEEDS")

IMPORTS: dict[str, tuple[str, ...]] = {  # the extra imports a helper needs
    **runtime.IMPORTS,
    "complete_rows": ("import warnings",),
}


def _with_needs(module: ModuleType, names: list[str]) -> list[str]:
    """``names`` with the functions of ``module`` each one calls, each before its first caller."""
    needs: dict[str, tuple[str, ...]] = module.NEEDS
    out: list[str] = []

    def add(name: str) -> None:
        for needed in needs.get(name, ()):
            add(needed)
        if name not in out:
            out.append(name)

    for name in names:
        add(name)
    return out


def _sources(module: ModuleType, known: tuple[str, ...], names: list[str]) -> list[str]:
    sources = []
    for name in _with_needs(module, names):
        if name not in known:
            raise EmitError(f"no helper called {name!r}")
        sources.append(inspect.getsource(getattr(module, name)).strip("\n"))
    return sources


def helper_sources(names: list[str]) -> list[str]:
    """The source of each data helper in ``names`` (and of those they call), as hiermod runs it."""
    return _sources(runtime, HELPER_NAMES, names)


def distribution_sources(stem: str) -> list[str]:
    """The functions of :mod:`~hiermod.output.distributions` a family's ``stem`` names."""
    kinds = ("logp", "random", "support_point", "dist", "log_probs")
    names = [n for n in DISTRIBUTION_NAMES if n in {f"{stem}_{kind}" for kind in kinds}]
    if not names:
        raise EmitError(f"no distribution called {stem!r} in hiermod.output.distributions")
    return _sources(distributions, DISTRIBUTION_NAMES, names)


def distribution_function_sources(names: list[str]) -> list[str]:
    """The source of each function of :mod:`~hiermod.output.distributions` in ``names``."""
    return _sources(distributions, DISTRIBUTION_NAMES, names)


def likelihood_sources(names: list[str]) -> list[str]:
    """The source of each reduced-likelihood function in ``names`` (:mod:`~hiermod.output.likelihoods`)."""
    return _sources(likelihoods, LIKELIHOOD_NAMES, names)


def complete_rows_source(numeric: bool, categorical: bool) -> str:
    """``complete_rows(df)``: rows without a missing value, as :func:`hiermod.data.columns.kept_rows`.

    Numeric columns count NaN and ±inf as missing, the others None/NaN/NA.
    """
    checks = []
    if numeric:
        checks += [
            "    numbers = df[list(NUMERIC_COLUMNS)].to_numpy(dtype=float, na_value=np.nan)",
            "    keep = np.isfinite(numbers).all(axis=1)",
        ]
    if categorical:
        labels = "df[list(CATEGORICAL_COLUMNS)].notna().all(axis=1).to_numpy()"
        checks.append(f"    keep {'&' if numeric else ''}= {labels}")
    return "\n".join(
        [
            "def complete_rows(df: pd.DataFrame) -> np.ndarray:",
            '    """Positions of the rows with a value in every column the model reads."""',
            *checks,
            "    if not keep.all():",
            '        message = f"dropped {np.sum(~keep)} of {len(df)} rows with missing values"',
            "        warnings.warn(message, stacklevel=2)",
            "    return np.flatnonzero(keep)",
        ]
    )


def weighted_draws(dist: str, custom: bool) -> str:
    """How a ``weights()`` likelihood's ``pm.CustomDist`` draws: ``dist`` (``weighted_dist``, a graph
    of PyMC's distribution that PyTensor compiles) where there is one, else ``random``
    (``weighted_random``, NumPy draws of a hiermod distribution that has no PyMC graph)."""
    return "random" if custom and f"{dist}_dist" not in distributions.__all__ else "dist"


def weighted_source(dist: str, params: tuple[str, ...], custom: bool = False) -> str:
    """``weighted_logp`` and ``weighted_dist`` (or ``weighted_random``, :func:`weighted_draws`): a
    ``weights()`` likelihood as a ``pm.CustomDist``.

    Each row's log-likelihood is multiplied by its weight; draws ignore the weights. ``custom``:
    ``dist`` is the stem of functions of :mod:`hiermod.output.distributions`, not a PyMC class.
    """
    args = ", ".join(params)
    draws = [
        f"def weighted_dist({args}, weights, size):",
        '    """Draws ignore the weights: a weight scales a row\'s log-likelihood only."""',
    ]
    if not custom:
        logp = call("pm.logp", call(f"pm.{dist}.dist", **{p: p for p in params}), "value")
        draws += render(
            call(f"pm.{dist}.dist", **{p: p for p in params}, size="size"), 1, "return "
        )
    elif weighted_draws(dist, custom) == "dist":
        logp = call("pm.logp", call(f"{dist}_dist", *params, size="None"), "value")
        draws += render(call(f"{dist}_dist", *params, size="size"), 1, "return ")
    else:
        logp = call(f"{dist}_logp", "value", *params)
        draws[0] = f"def weighted_random({args}, weights, rng=None, size=None):"
        draws += render(call(f"{dist}_random", *params, rng="rng", size="size"), 1, "return ")
    return "\n".join(
        [
            f"def weighted_logp(value, {args}, weights):",
            f'    """Each row\'s {dist} log-likelihood times its weight (``weights()``)."""',
            *render(logp, 1, "return weights * "),
            "",
            "",
            *draws,
        ]
    )


def censored_source(
    dist: str, params: tuple[str, ...], weighted: bool, bounds: tuple[bool, bool] = (False, False)
) -> str:
    """``censored_logp`` and ``censored_dist``: ``cens()`` rows by their codes (with ``weights()``,
    each row's term times its weight) as a ``pm.CustomDist`` (:mod:`hiermod.plan.censoring`).

    Draws are of the uncensored response (brms's ``posterior_predict`` ignores censoring too): the
    ``dist`` is PyMC's distribution, a graph PyTensor compiles like any other. ``bounds``: which
    bounds of ``trunc()`` (lower, upper) the model has, arguments ``lb`` and ``ub`` after the others.
    """
    sides = [side for side, given in zip(("lb", "ub"), bounds, strict=True) if given]
    args = ", ".join([*params, "code", "upper", *(["weights"] if weighted else []), *sides])
    loglik = call(
        "censored_loglik", f"pm.{dist}.dist", Seq("{", tuple(Item(p, f"{literal(p)}: ") for p in params), "}"),
        "value", "code", "upper", **{side: side for side in sides},
    )  # fmt: skip
    made = call(f"pm.{dist}.dist", **{p: p for p in params}, size="size")
    what = ("times its weight " if weighted else "") + ("within trunc() " if sides else "")
    return "\n".join(
        [
            f"def censored_logp(value, {args}):",
            f'    """Each row\'s {dist} log-likelihood by its cens() code {what}(see censored_loglik)."""',
            *render(loglik, 1, "return weights * " if weighted else "return "),
            "",
            "",
            f"def censored_dist({args}, size):",
            '    """Draws of the uncensored response: the codes only change the log-likelihood."""',
            *render(made, 1, "return "),
        ]
    )


def custom_distribution(
    name: str, stem: str, params: list[Code], observed: dict[str, Code]
) -> Code:
    """``pm.CustomDist(name, *params, logp=<stem>_logp, random=<stem>_random)``, or with
    ``dist=<stem>_dist`` when the distribution is a graph of PyMC's (:mod:`hiermod.output.distributions`)."""
    if f"{stem}_dist" in distributions.__all__:
        how: dict[str, Code] = {"dist": f"{stem}_dist"}
    else:
        how = {"logp": f"{stem}_logp", "random": f"{stem}_random"}
    return call("pm.CustomDist", literal(name), *params, **how, **observed)
