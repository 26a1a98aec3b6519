"""Helper functions of the generated source, as formatted text: emitted only when the model uses them.

Each is plain NumPy/pandas/SciPy that replicates one hiermod rule, so the generated module runs without
hiermod: ``level_codes`` (:func:`hiermod.data.columns.encode`), ``cell_index``
(:func:`~hiermod.data.columns.lookup_cells`), ``poly_basis`` (:func:`~hiermod.data.transforms.poly_apply`),
``bspline_basis`` (:func:`~hiermod.data.transforms.bs_apply`), ``complete_rows``
(:func:`~hiermod.data.columns.kept_rows`), and the weighted likelihood of ``weights()``.
"""

from __future__ import annotations

from hiermod.output.codegen import EmitError, call, render

__all__ = ["HELPER_NAMES", "IMPORTS", "complete_rows_source", "helper_source", "weighted_source"]

_LEVEL_CODES = '''
def level_codes(values: pd.Series, levels: tuple) -> np.ndarray:
    """Each row's position in ``levels``, a level table of the training data."""
    codes = pd.Index(levels, dtype=object).get_indexer(values)
    if (codes < 0).any():
        unseen = pd.unique(values[codes < 0])[:5].tolist()
        raise ValueError(f"{values.name!r} has levels unseen in training: {unseen}")
    return codes
'''

_CELL_INDEX = '''
def cell_index(codes: tuple, cells: tuple) -> np.ndarray:
    """Each row's position among the observed ``cells`` (rows of level codes)."""
    rows = pd.MultiIndex.from_arrays(codes)
    index = pd.MultiIndex.from_tuples(cells).get_indexer(rows)
    if (index < 0).any():
        raise ValueError("some rows are in a combination of levels unseen in training")
    return index
'''

_CELL_LABELS = '''
def cell_labels(cells: tuple, *levels: tuple) -> list[str]:
    """Labels of observed cells ("a:red"): the coordinates of their dim."""
    labels = (":".join(str(levels[j][c]) for j, c in enumerate(cell)) for cell in cells)
    return list(labels)
'''

_POLY_BASIS = '''
def poly_basis(x: np.ndarray, alpha: tuple, norm2: tuple) -> np.ndarray:
    """R's ``predict(poly(x, degree))``: orthogonal polynomials with the training constants.

    Three-term recurrence: Z0 = 1, Z1 = x - alpha[0],
    Z[i + 1] = (x - alpha[i]) Z[i] - norm2[i + 1] / norm2[i] Z[i - 1]; unit norm on the training x.
    """
    degree = len(alpha)
    z = np.empty((x.shape[0], degree + 1))
    z[:, 0] = 1.0
    z[:, 1] = x - alpha[0]
    for i in range(1, degree):
        z[:, i + 1] = (x - alpha[i]) * z[:, i] - (norm2[i + 1] / norm2[i]) * z[:, i - 1]
    return z[:, 1:] / np.sqrt(np.asarray(norm2[2:]))
'''

_BSPLINE_BASIS = '''
def bspline_basis(x: np.ndarray, knots: tuple, boundary: tuple, degree: int):
    """R's ``predict(bs(x, df, degree))``: the B-spline basis without its first column.

    Outside the boundary knots the basis is extrapolated as R does it: a Taylor polynomial
    around a pivot a quarter of the way from the boundary to the next knot.
    """
    lo, hi = boundary
    t = np.sort(np.r_[[lo] * (degree + 1), knots, [hi] * (degree + 1)])
    n_basis = t.shape[0] - degree - 1
    spline = BSpline(t, np.eye(n_basis), degree, extrapolate=False)
    below, above = x < lo, x > hi
    basis = np.empty((x.shape[0], n_basis))
    inside = ~(below | above)
    basis[inside] = spline(x[inside])
    factorials = np.array([math.factorial(d) for d in range(degree + 1)])[:, None]
    for side, pivot in (
        (below, 0.75 * lo + 0.25 * t[degree + 1]),
        (above, 0.75 * hi + 0.25 * t[-degree - 2]),
    ):
        if side.any():
            derivs = np.stack([spline(pivot, nu=d) for d in range(degree + 1)])
            powers = (x[side] - pivot)[:, None] ** np.arange(degree + 1)
            basis[side] = powers @ (derivs / factorials)
    return basis[:, 1:]
'''

_HELPERS = {
    "level_codes": _LEVEL_CODES,
    "cell_index": _CELL_INDEX,
    "cell_labels": _CELL_LABELS,
    "poly_basis": _POLY_BASIS,
    "bspline_basis": _BSPLINE_BASIS,
}

HELPER_NAMES = tuple(_HELPERS)

IMPORTS = {  # the extra imports a helper needs
    "bspline_basis": ("import math", "from scipy.interpolate import BSpline"),
    "complete_rows": ("import warnings",),
}


def helper_source(name: str) -> str:
    """The source of one helper (``level_codes``, ``cell_index``, …)."""
    try:
        return _HELPERS[name].strip("\n")
    except KeyError:
        raise EmitError(f"no helper called {name!r}") from None


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


def weighted_source(dist: str, params: tuple[str, ...]) -> str:
    """``weighted_logp`` and ``weighted_random``: a ``weights()`` likelihood as a ``pm.CustomDist``.

    Each row's log-likelihood is multiplied by its weight; draws ignore the weights.
    """
    args = ", ".join(params)
    dist_call = call(f"pm.{dist}.dist", **{p: p for p in params})
    logp = call("pm.logp", dist_call, "value")
    draw = call(
        "pm.draw", call(f"pm.{dist}.dist", **{p: p for p in params}, size="size"), random_seed="rng"
    )
    return "\n".join(
        [
            f"def weighted_logp(value, {args}, weights):",
            f'    """Each row\'s {dist} log-likelihood times its weight (``weights()``)."""',
            *render(logp, 1, "return weights * "),
            "",
            "",
            f"def weighted_random({args}, weights, rng=None, size=None):",
            '    """Draws ignore the weights: a weight scales a row\'s log-likelihood only."""',
            *render(draw, 1, "return "),
        ]
    )
