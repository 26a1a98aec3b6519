"""brms's ``gr()`` grouping (issue 15): ``(e | gr(g))`` is ``(e | g)`` and ``gr(g, cor = FALSE)``
is ``(e || g)``; its other options are refused (tests/test_errors.py has the messages)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hiermod as hm
from hiermod.formula.expand import expand
from hiermod.formula.parser import parse_syntax
from tests.support import assert_same_model

SAME = [
    ("y ~ x + (1 + x | gr(g))", "y ~ x + (1 + x | g)"),
    ("y ~ x + (1 + x | gr(g, cor = FALSE))", "y ~ x + (1 + x || g)"),
    ("y ~ x + (1 + x | gr(g, cor = F))", "y ~ x + (1 + x || g)"),
    ("y ~ x + (1 + x | gr(g, cor = TRUE))", "y ~ x + (1 + x | g)"),
    ("y ~ x + (1 + x || gr(g, cor = TRUE))", "y ~ x + (1 + x || g)"),  # || stays independent
    ("y ~ (1 | gr(g)) + (0 + x | gr(h, cor = FALSE))", "y ~ (1 | g) + (0 + x || h)"),
    ("y ~ x\nsigma ~ (1 | gr(g))", "y ~ x\nsigma ~ (1 | g)"),
    ("y ~ x + diag(1 + x | gr(g))", "y ~ x + (1 + x || g)"),
]


@pytest.mark.parametrize(("written", "meaning"), SAME)
def test_gr_is_the_grouping_it_names(written: str, meaning: str) -> None:
    ours = expand(parse_syntax(written))
    assert ours == expand(parse_syntax(meaning))
    assert expand(parse_syntax(str(ours))) == ours  # str() round-trips, in the plain spelling


def test_the_model_of_gr_cor_false_is_the_model_of_double_bar() -> None:
    rng = np.random.default_rng(4)
    g = np.repeat(np.arange(8), 10)
    x = rng.normal(size=g.size)
    df = pd.DataFrame({"y": 1.0 + x + rng.normal(0, 1, 8)[g] + rng.normal(size=g.size), "x": x})
    df["g"] = [f"s{i}" for i in g]
    written = hm.Model("y ~ x + (1 + x | gr(g, cor = FALSE))", df)
    plain = hm.Model("y ~ x + (1 + x || g)", df)
    assert (
        written.source().split("def build_model")[1] == plain.source().split("def build_model")[1]
    )
    assert_same_model(written.pymc, plain.pymc)
