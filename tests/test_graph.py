"""Model.graph(): plates from dims, nested vs additive pooling visible, DOT from graphviz, errors.

The clusters, labels, cache and files are tested in tests/test_graph_clusters.py.
"""

from __future__ import annotations

import functools
import shutil
import sys

import pytest

import hiermod as hm
from hiermod.datasets import forum_scenario
from hiermod.errors import DependencyError, HiermodError
from hiermod.output.graph import graph_nodes, to_dot, to_mermaid


@functools.cache
def models() -> dict[str, hm.Model]:
    data = forum_scenario(n_rows=120, n_features=1, n_groups=3, n_colors=2, seed=1).data
    return {
        "nested": hm.Model("y ~ x1 + (1 | group/color)", data, centered=False),
        "additive": hm.Model("y ~ x1 + (1 | group) + (1 | color)", data),
        "forum": hm.Model(  # the non-centred form's graph: z feeds r
            "y ~ x1 + (1 + x1 | group:color)\nsigma ~ (1 | group:color)", data, centered=False
        ),
    }


def plates(model: hm.Model) -> dict[str, str]:
    """Each variable's plate label."""
    nodes, _ = graph_nodes(model.pymc_rows)
    return {node.name: node.plate for node in nodes}


def test_nested_and_additive_pooling_are_different_plates() -> None:
    nested, additive = plates(models()["nested"]), plates(models()["additive"])
    assert nested["r_group"] == "group (3)"
    assert nested["r_group__color"] == "group (3) x color (2)"  # dense: every cell observed
    assert additive["r_group"] == "group (3)"
    assert additive["r_color"] == "color (2)"
    assert "r_group__color" not in additive


def test_edges_follow_the_model() -> None:
    _, edges = graph_nodes(models()["forum"].pymc_rows)
    # (1 + x1 | group:color): two correlated terms, r from z, the sds and the correlation
    for parent in ("sd_group__color", "corr_group__color", "z_group__color"):
        assert (parent, "r_group__color") in edges
    assert ("corr_unit_group__color", "corr_group__color") in edges
    assert ("r_group__color", "y") in edges
    assert ("sigma_r_group__color", "y") in edges
    # Data containers feed the likelihood; the observed response itself is a constant
    # (data["y"] in the generated module), so it is not a separate node.
    assert ("X", "y") in edges
    assert ("group__color_idx", "y") in edges
    assert not any("y_data" in edge for edge in edges)


def test_dot_text_is_graphviz_and_stable() -> None:
    model = models()["forum"]
    dot = model.graph("dot")
    assert dot == model.graph().digraph.source == model.graph("dot")
    assert dot.startswith('digraph "y ~ 1 + x1 + (1 + x1 | group:color); sigma ~ 1 +')
    # the plate of the level dims (the effects are said in the label: r_group__color[2])
    assert 'label="group (3) x color (2)"' in dot
    assert "z_group__color[2] ~ normal(0, 1)" in dot
    assert "\tr_group__color -> y\n" in dot


def test_mermaid_text() -> None:
    text = models()["forum"].graph("mermaid")
    assert text.startswith("flowchart TD\n")
    assert 'subgraph block0 ["(1 + x1 | group:color)"]' in text
    assert 'subgraph block1 ["sigma ~ (1 | group:color)"]' in text
    assert (
        '(["standard-normal offsets per group:color<br/>sigma_z_group__color ~ normal(0, 1)"])'
        in text
    )
    assert '["intercept and x1 slope deviations per group:color<br/>r_group__color[2]"]' in text
    assert "classDef filled" in text


def test_bare_pymc_model_keeps_pymc_names() -> None:
    """``to_dot``/``to_mermaid`` of a pm.Model (no plan): PyMC's names, a plate per set of dims."""
    pm_model = models()["forum"].pymc_rows
    dot = to_dot(pm_model)
    assert dot.startswith("digraph model {")
    assert 'label="group (3) x color (2) x group__color_term (2)"' in dot
    assert "cluster_block" not in dot
    assert '(["sigma_z_group__color ~ Normal"])' in to_mermaid(pm_model)


def test_rendering() -> None:
    if shutil.which("dot") is None:
        pytest.skip("graphviz's dot program is not installed")
    assert "<svg" in models()["nested"].graph("svg")
    assert models()["nested"].graph("png")[:4] == b"\x89PNG"
    bundle = models()["nested"].graph()._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


def test_missing_graphviz_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "graphviz", None)
    model = hm.Model("y ~ x1 + (1 | group)", models()["nested"].data)  # nothing cached yet
    graph = model.graph()
    assert graph.mermaid.startswith("flowchart TD")  # Mermaid needs no graphviz
    with pytest.raises(DependencyError, match="pip install graphviz") as info:
        model.graph("dot")
    assert isinstance(info.value, HiermodError)
    assert "format='mermaid'" in str(info.value)


def test_missing_dot_program_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # As when graphviz's `dot` is not installed; blanking PATH would also hide the assembler
    # PyTensor's C compiler needs from every later test in this process.
    import graphviz

    def missing(*args: object, **kwargs: object) -> None:
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(graphviz.Digraph, "pipe", missing)
    graph = hm.Model("y ~ x1 + (1 | color)", models()["nested"].data).graph()
    with pytest.raises(DependencyError, match="apt-get install graphviz"):
        graph.pipe("svg")
    bundle = graph._repr_mimebundle_()  # a notebook shows the reason, not a traceback
    assert "image/svg+xml" not in bundle
    assert "needs graphviz's 'dot' program" in bundle["text/plain"]


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="format must be"):
        models()["nested"].graph("jpeg")


def test_repr_shows_formula_blocks_parameters_and_priors() -> None:
    model = models()["nested"]
    text = repr(model)
    lines = text.splitlines()
    assert lines[0] == "hiermod.Model: y ~ 1 + x1 + (1 | group) + (1 | group:color)"
    assert (
        "    (1 | group:color)  mu; grouping group:color; effects Intercept; independent; "
        "non-centred;" in lines
    )
    assert any(
        line.strip().startswith("dense layout (6 of 6 combinations observed")
        and line.endswith("6 levels, 6 observed cells")
        for line in lines
    )
    row = next(line.split() for line in lines if line.strip().startswith("z_group__color "))
    assert row == ["z_group__color", "group,", "color", "(3,", "2)", "True", "normal(0,", "1)"]
    html = model._repr_html_()
    assert "<th>observed cells</th>" in html
    assert "half_normal" in html


def test_repr_says_what_centred_blocks_centre_on() -> None:
    data = models()["nested"].data
    # color (2 levels) is centred on the population terms, group (3 levels) on 0
    model = hm.Model("y ~ 1 + x1 + (1 + x1 | color) + (1 | group)", data, centered=True)
    lines = repr(model).splitlines()
    assert any(line.endswith("correlated; centred on Intercept, b[0];") for line in lines)
    assert any(line.endswith("independent; centred on 0;") for line in lines)
    row = next(line for line in lines if line.strip().startswith("beta_color "))
    # correlated, two terms: one bivariate normal per level (an MvNormal with chol for more terms)
    assert row.endswith("centred: bivariate normal(mean, sd, corr)")
    row = next(line for line in lines if line.strip().startswith("r_group "))
    assert row.endswith("centred: normal(mean, sd)")  # independent, centred on 0
    table = model.describe()
    assert table.loc["beta_color", ["role", "free"]].tolist() == ["group_coefficients", True]
    assert table.loc["r_color", ["role", "free"]].tolist() == ["group_effects", False]
    assert table.loc["r_group", ["role", "free"]].tolist() == ["group_effects", True]  # on 0
