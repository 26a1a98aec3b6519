"""hiermod.data.runtime: the data rules that hiermod runs and every generated module carries.

Each helper's text in a generated module is the function's own source, and it runs on the names a
generated module has (numpy, pandas, math, scipy's BSpline) and nothing of hiermod's: executed in
such a bare namespace it gives exactly what hiermod's function gives.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pandas as pd
import pytest
from scipy.interpolate import BSpline

from hiermod.data import runtime
from hiermod.output import likelihoods
from hiermod.output.source_helpers import HELPER_NAMES, helper_sources

RNG = np.random.default_rng(3)
X = RNG.normal(size=50)
CALLS = {
    "level_codes": (pd.Series(["b", "a", "z", "b", "308"], name="g"), ("a", "b", 308)),
    "level_labels": ((308, "308", "a", 1.5),),
    "unique_labels": (["1", "1", "'1'"], ["1", "'1'", "\"'1'\""]),
    "known_codes": (pd.Series([310, 308, 308], name="Subject"), (308, 309, 310)),
    "cell_positions": ((np.array([0, 1, 1]), np.array([1, 0, 1])), ((0, 1), (1, 0))),
    "cell_index": ((np.array([0, 1]), np.array([1, 0])), ((0, 1), (1, 0))),
    "cell_labels": (((0, 1), (1, 0)), ("a", "b:c"), (1, 2)),
    "cell_codes": ([np.array([1, 0, 1, 2]), np.array([5, 7, 5, 5])], 4),
    "cell_gram": (np.array([0, 1, 0]), RNG.normal(size=(3, 2)), 2),
    "cell_moments": (np.array([0, 1, 0]), RNG.normal(size=(3, 2)), RNG.normal(size=3), 2),
    "poly_basis": (X, (0.1, 0.2), (1.0, 50.0, 40.0, 30.0)),
    "bspline_basis": (np.linspace(-1, 4, 30), (1.0, 2.0), (0.0, 3.0), 3),
    "censoring_codes": (pd.Series(["none", "Right", "left", "none"], name="censored"),),
    "gp_basis": (RNG.normal(size=(6, 2)), (0.1, -0.2), 3.0, (1.25, 1.5), 3),
    "gp_eigenvalues": ((1.25, 1.5), 3),
    "monotonic_codes": (pd.Series([5, 2, 3.0, 4], name="x"), (2, 3, 4, 5)),
    # s(x, z): 2-D sites (a row on a site: r = 0), 3 radial and 3 polynomial rows, 2 columns
    "tprs_basis": (np.column_stack([X, X**2]), (0.1, 2.0), ((-1.0, 0.5), (0.0, 0.0), (1.5, -2.0)),
                   ((1.0, 0.5), (0.2, -1.0), (0.3, 0.1)), ((0.0, 1.0), (1.0, 0.5), (0.2, -0.3))),
    # two exact GPs (by = f): known points scaled by dmax, rows on known and on new points
    "gp_points": (np.array([[0.0], [2.0], [3.0], [2.0], [8.0], [1.0]]), np.array([0, 0, 0, 1, 1, 1]),
                  (((0.0,), (1.0,)), ((0.5,),)), (2.0, 4.0)),
    "gp_sq_distances": (RNG.normal(size=(4, 2)), RNG.normal(size=(3, 2))),
    "cubic_basis": (X, (-1.0, 0.0, 1.0), (((1.0, 0.0), (0.5, 1.0), (0.2, 0.0), (0.0, 1.0)),) * 2,
                    False),
    "smooth_by": (RNG.normal(size=(4, 3)), np.array([1, 0, 1, 2]), 3, 1),
    # t2(x, z): margins of 4 (rank 2) and 3 (rank 2) columns, the null-null product onto 1 column
    "tensor_basis": ((RNG.normal(size=(5, 4)), RNG.normal(size=(5, 3))), (2, 2),
                     ((1.0,), (0.5,), (-2.0,), (0.25,))),
}  # fmt: skip


def test_every_helper_has_a_case() -> None:
    assert set(CALLS) == set(HELPER_NAMES)


@pytest.mark.parametrize("name", HELPER_NAMES)
def test_emitted_text_is_the_function_itself(name: str) -> None:
    emitted = helper_sources([name])[-1]
    assert emitted == inspect.getsource(getattr(runtime, name)).strip("\n")


@pytest.mark.parametrize("name", HELPER_NAMES)
def test_emitted_helper_runs_without_hiermod_and_agrees(name: str) -> None:
    namespace: dict[str, object] = {"np": np, "pd": pd, "math": math, "BSpline": BSpline}
    for source in helper_sources([name]):  # the helper and the ones it calls, in order
        exec(compile(source, f"<{name}>", "exec"), namespace)  # safe: hiermod's own source
    ours, theirs = getattr(runtime, name)(*CALLS[name]), namespace[name](*CALLS[name])  # type: ignore[operator]
    _assert_same(ours, theirs)


def _assert_same(ours: object, theirs: object) -> None:
    """Equal values, arrays compared element by element, tuples item by item."""
    if isinstance(ours, tuple) and isinstance(theirs, tuple) and len(ours) == len(theirs):
        for a, b in zip(ours, theirs, strict=True):
            _assert_same(a, b)
    elif isinstance(ours, np.ndarray):
        np.testing.assert_array_equal(ours, theirs)
        assert isinstance(theirs, np.ndarray)
        assert ours.dtype == theirs.dtype
    else:
        assert ours == theirs


@pytest.mark.parametrize("module", [runtime, likelihoods])
def test_copied_modules_are_formatted_as_generated_modules_are(module: object) -> None:
    """ruff's default line length (88), which the generated modules are checked against, gives
    the same text as the project's (100): the copies in generated modules stay formatted."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    path = inspect.getsourcefile(module)  # type: ignore[arg-type]
    done = subprocess.run(
        [ruff, "format", "--isolated", "--line-length", "88", "--check", "--diff", str(path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout


def test_level_codes_match_by_text_only_when_one_level_has_it() -> None:
    """The string "308" is the integer level 308 of a table without the string "308"; in a table
    with both 1 and "1" each matches itself only, and case is never folded (tests/test_levels.py
    has the table of cases)."""
    codes = runtime.level_codes(pd.Series(["308", 308, "hennepin"]), (308, 309, "HENNEPIN"))
    assert codes.tolist() == [0, 0, -1]
    both = runtime.level_codes(pd.Series(["1", 1, 1.0, "1.0"], dtype=object), (1, "1"))
    assert both.tolist() == [1, 0, 0, -1]
    with pytest.raises(ValueError, match="unseen in training"):
        runtime.known_codes(pd.Series(["310"], name="Subject"), (308, 309))


def test_cell_index_refuses_unseen_combinations() -> None:
    with pytest.raises(ValueError, match="unseen in training"):
        runtime.cell_index((np.array([0]), np.array([0])), ((0, 1), (1, 0)))


def test_gp_points_share_one_value_per_distinct_point() -> None:
    """Rows at a training point get its index; the rows' other points are new, one each, after
    every GP's training points (3 here), in order of GP then value."""
    x, codes, points, dmax = CALLS["gp_points"]
    index, new = runtime.gp_points(x, codes, points, dmax)
    # GP 0: x/2 = 0, 1, 1.5 -> known 0, known 1, new (index 3); GP 1: x/4 = 0.5, 2, 0.25 -> known
    # 2, new 5 (0.25 < 2 sorted first: 4), new 4
    assert index.tolist() == [0, 1, 3, 2, 5, 4]
    assert [n.tolist() for n in new] == [[[1.5]], [[0.25], [2.0]]]
