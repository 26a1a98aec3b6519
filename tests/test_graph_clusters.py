"""Model.graph() in a notebook: a cluster per group block labelled with its term, variables named for
what they are, built once and cached, written as .dot/.mmd/.svg.

The clusters are read back from graphviz's own DOT text (``Graph.source``), one statement a line.
"""

from __future__ import annotations

import functools
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fit_support import sleepstudy_like

import hiermod as hm
import hiermod.output.graph as graph_module


def _data(seed: int = 0) -> pd.DataFrame:
    """Penicillin's shape (plates crossed with samples) and a grouping nested in another."""
    rng = np.random.default_rng(seed)
    plate = np.repeat([f"p{i}" for i in range(6)], 4)
    sample = np.tile(list("ABCD"), 6)
    return pd.DataFrame(
        {
            "y": rng.normal(20, 2, 24),
            "x": rng.normal(size=24),
            "plate": plate,
            "sample": sample,
            "school": np.repeat(["s1", "s2", "s3"], 8),
            "room": np.tile(np.repeat(["c1", "c2"], 4), 3),
            "c": np.tile(list("uvw"), 8),
        }
    )


FORMULAS = {
    "sleepstudy": "Reaction ~ Days + (Days | Subject)",
    "crossed": "y ~ 1 + (1 | plate) + (1 | sample)",
    "nested": "y ~ x + (1 | school/room)",
    "distributional": "y ~ x + (1 | plate)\nsigma ~ (1 | plate)",
}


@functools.cache
def model(name: str) -> hm.Model:
    data = sleepstudy_like() if name == "sleepstudy" else _data()
    return hm.Model(FORMULAS[name], data)


_SUBGRAPH = re.compile(r"^\s*subgraph (\S+) \{$")
_LABEL = re.compile(r'^\s*(?:\S+=\S+ )*label=("(?:[^"\\]|\\.)*"|\S+)')
_NODE = re.compile(r"^\s*([A-Za-z_]\w*) \[label=<(.*)> ")


def clusters(source: str) -> dict[str, tuple[str, set[str]]]:
    """``{subgraph name: (its label, the nodes inside it, nested subgraphs' too)}``."""
    out: dict[str, tuple[str, set[str]]] = {}
    stack: list[str] = []
    for line in source.splitlines():
        if match := _SUBGRAPH.match(line):
            stack.append(match.group(1))
            out[match.group(1)] = ("", set())
        elif line.strip() == "}" and stack:
            stack.pop()
        elif stack and not out[stack[-1]][0] and (match := _LABEL.match(line)):
            out[stack[-1]] = (match.group(1).strip('"'), out[stack[-1]][1])
        elif match := _NODE.match(line):
            for name in stack:
                out[name][1].add(match.group(1))
    return out


def blocks(name: str) -> dict[str, set[str]]:
    """Each block cluster's label and the variables in it."""
    found = clusters(model(name).graph().source)
    return {
        label: nodes
        for key, (label, nodes) in found.items()
        if re.fullmatch(r"cluster_block\d+", key)
    }


def titles(name: str) -> dict[str, str]:
    """Each node's label (its title, then the name and prior in small type)."""
    return {
        m.group(1): m.group(2)
        for line in model(name).graph().source.splitlines()
        if (m := _NODE.match(line))
    }


def test_sleepstudy_has_one_cluster_labelled_with_its_term() -> None:
    found = blocks("sleepstudy")
    assert list(found) == ["(1 + Days | Subject)"]
    # the block's parts, and nothing else: level coefficients (centred) or offsets (non-centred)
    level = "z_Subject" if model("sleepstudy").ir.predictors[0].blocks[0].z else "beta_Subject"
    parts = {"sd_Subject", "corr_unit_Subject", "corr_Subject", level, "r_Subject"}
    assert found["(1 + Days | Subject)"] == parts
    found = clusters(model("sleepstudy").graph().source)
    # the block's level plate sits inside its cluster
    plate = next(nodes for key, (label, nodes) in found.items() if label == "Subject (10)")
    assert plate == {level, "r_Subject"}


def test_sleepstudy_variables_are_named_for_what_they_are() -> None:
    labels = titles("sleepstudy")
    assert labels["b"].startswith("Days slope<BR/>")
    assert labels["sd_Subject"].startswith(
        "sds of the intercept and<BR/>Days slope by Subject<BR/>"
    )
    assert labels["Z_Subject"].startswith("effect columns: Intercept,<BR/>Days")
    assert "design matrix: Days" in labels["X"]
    # two correlated terms: the correlation and its LKJ(2) prior written out, no Cholesky factor
    assert labels["corr_unit_Subject"].startswith("(1 + correlation) / 2 of<BR/>the intercept")
    assert "corr_unit_Subject ~ beta(2, 2)" in labels["corr_unit_Subject"]  # name and prior
    assert labels["corr_Subject"].startswith("correlation of the<BR/>intercept and Days slope")
    source = model("sleepstudy").graph().source
    assert "LKJCholeskyCov" not in source
    assert "chol_Subject" not in source
    assert 'size="8,8"' in source  # fits a notebook cell: dot scales a larger graph down


def test_crossed_blocks_are_two_clusters() -> None:
    found = blocks("crossed")
    assert set(found) == {"(1 | plate)", "(1 | sample)"}
    for stem in ("plate", "sample"):
        assert {f"sd_{stem}", f"r_{stem}"} < found[f"(1 | {stem})"]
        assert all(name.endswith(f"_{stem}") for name in found[f"(1 | {stem})"])
    assert titles("crossed")["sd_sample"].startswith("sd of the intercept by<BR/>sample")


def test_nested_blocks_are_two_clusters() -> None:
    found = blocks("nested")
    assert set(found) == {"(1 | school)", "(1 | school:room)"}
    assert "r_school__room" in found["(1 | school:room)"]
    assert "r_school" in found["(1 | school)"]


def test_distributional_block_is_labelled_with_its_parameter() -> None:
    found = blocks("distributional")
    assert set(found) == {"(1 | plate)", "sigma ~ (1 | plate)"}
    assert "sigma_sd_plate" in found["sigma ~ (1 | plate)"]
    assert "sd_plate" in found["(1 | plate)"]
    assert titles("distributional")["sigma_Intercept"].startswith("Intercept of sigma")


def test_a_design_matrix_read_by_several_predictors_is_no_ones() -> None:
    """A categorical's muv and muw read one X: its label names the columns, not one predictor."""
    graph = hm.Model("c ~ x + (1 | plate)", _data(), family="categorical").graph()
    nodes = {node.name: node for node in graph.parts.nodes}
    assert nodes["X"].title == "design matrix: x"
    assert nodes["muv_b"].title == "x slope of muv"
    assert [c.label for c in graph.parts.clusters] == ["muv ~ (1 | plate)", "muw ~ (1 | plate)"]


def test_built_once_and_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    build = graph_module.graph_parts

    def counted(*args: object, **kwargs: object) -> graph_module.GraphParts:
        calls.append(args)
        return build(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(graph_module, "graph_parts", counted)
    fresh = hm.Model(FORMULAS["crossed"], _data())
    first = fresh.graph()
    assert fresh.graph() is first
    assert fresh.graph("dot") == first.source
    assert fresh.graph("mermaid") == first.mermaid
    assert first.digraph is first.digraph  # the Digraph too is built once
    assert len(calls) == 1


def test_rendered_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import graphviz

    renders: list[str] = []

    def pipe(self: object, format: str, encoding: str | None = None) -> str:
        renders.append(format)
        return "<svg/>"

    monkeypatch.setattr(graphviz.Digraph, "pipe", pipe)
    graph = hm.Model(FORMULAS["nested"], _data()).graph()
    assert graph._repr_svg_() == graph.pipe("svg") == "<svg/>"
    assert graph._repr_mimebundle_()["image/svg+xml"] == "<svg/>"
    assert renders == ["svg"]


def test_formats_are_written(tmp_path: Path) -> None:
    graph = model("sleepstudy").graph()
    dot = graph.save(tmp_path / "g.dot")
    assert dot.read_text(encoding="utf-8") == graph.source
    mmd = graph.save(tmp_path / "g.mmd")
    assert 'subgraph block0 ["(1 + Days | Subject)"]' in mmd.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="cannot tell the graph format"):
        graph.save(tmp_path / "g.txt")
    if shutil.which("dot") is None:
        pytest.skip("graphviz's dot program is not installed")
    svg = graph.save(tmp_path / "g.svg").read_text(encoding="utf-8")
    assert "<svg" in svg
    assert "(1 + Days | Subject)" in svg
    assert "Days slope" in svg
