"""The model's graph: variables as nodes, a plate per set of dims, an edge from each parent.

``Model.graph()`` returns the ``graphviz.Digraph`` of :func:`pymc.model_to_graphviz`. The text formats
need neither the ``graphviz`` package nor its ``dot`` program: ``format="dot"`` and
``format="mermaid"`` are written here from PyMC's :class:`~pymc.model_graph.ModelGraph` (its plates
and edges), in a fixed order (the model's variable order), so the text is stable from run to run.
``"svg"`` and ``"png"`` are rendered by graphviz.

Nested and additive pooling are visible as plates: ``(1 | g/c)`` puts ``r_g`` on a ``g`` plate and
``r_g__c`` on a ``g x c`` plate (dense layout) or a ``g__c`` plate (observed cells); ``(1 | g) + (1 | c)``
gives two separate plates, ``g`` and ``c``, feeding the same mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymc as pm
from pymc.model_graph import ModelGraph, NodeType, random_variable_symbol

from hiermod.errors import DependencyError

__all__ = ["GraphNode", "graph_nodes", "model_graph", "to_dot", "to_mermaid", "write_graph"]

_TEXT_ONLY = "format='dot' or format='mermaid' give the graph as text without graphviz"
_RENDERED = {"svg": "svg", "png": "png", "pdf": "pdf"}
_SUFFIXES = {".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid"}


@dataclass(frozen=True, slots=True)
class GraphNode:
    """One variable: its name, kind (``free``, ``observed``, ``deterministic``, ``data``), label and
    plate (``"group (3) x color (2)"``, or ``""`` for a scalar)."""

    name: str
    kind: str
    label: str
    plate: str


_KINDS = {
    NodeType.FREE_RV: "free",
    NodeType.OBSERVED_RV: "observed",
    NodeType.DETERMINISTIC: "deterministic",
    NodeType.DATA: "data",
    NodeType.POTENTIAL: "potential",
}


def graph_nodes(model: pm.Model) -> tuple[list[GraphNode], list[tuple[str, str]]]:
    """The nodes in model order and the ``(parent, child)`` edges, from PyMC's ModelGraph."""
    graph = ModelGraph(model)
    order = {name: i for i, name in enumerate(model.named_vars)}
    nodes: list[GraphNode] = []
    for plate in graph.get_plates():
        info = plate.dim_info
        label = " x ".join(
            f"{name} ({length})" if name else str(length)
            for name, length in zip(info.names, info.lengths, strict=True)
        )
        for node in plate.variables:
            kind = _KINDS[node.node_type]
            symbol = {"deterministic": "Deterministic", "data": "Data"}.get(kind)
            name = str(node.var.name)
            nodes.append(GraphNode(name, kind, symbol or random_variable_symbol(node.var), label))
    nodes.sort(key=lambda n: order.get(n.name, len(order)))
    edges = sorted(
        ((parent, child) for child, parent in graph.edges()),
        key=lambda e: (order.get(e[0], -1), order.get(e[1], -1)),
    )
    return nodes, edges


def _plates(nodes: list[GraphNode]) -> list[tuple[str, list[tuple[int, GraphNode]]]]:
    """Nodes grouped by plate (scalars first, then plates in order of their first node), each with
    its number in ``nodes``."""
    plates: dict[str, list[tuple[int, GraphNode]]] = {"": []}
    for i, node in enumerate(nodes):
        plates.setdefault(node.plate, []).append((i, node))
    return list(plates.items())


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_DOT_SHAPES = {
    "free": "shape=ellipse",
    "observed": "shape=ellipse style=filled",
    "deterministic": "shape=box",
    "data": 'shape=box style="rounded, filled"',
    "potential": "shape=octagon",
}


def to_dot(model: pm.Model, name: str = "model") -> str:
    """The graph as Graphviz DOT text (no graphviz needed); a ``cluster`` subgraph per plate."""
    nodes, edges = graph_nodes(model)
    lines = [f"digraph {_dot_string(name)} {{"]
    for number, (plate, members) in enumerate(_plates(nodes)):
        pad = "\t"
        if plate:
            lines.append(f"\tsubgraph cluster_{number} {{")
            lines.append(f"\t\tlabel={_dot_string(plate)} labeljust=r labelloc=b style=rounded")
            pad = "\t\t"
        for _, node in members:
            label = _dot_string(f"{node.name}\n~\n{node.label}").replace("\n", "\\n")
            lines.append(f"{pad}{_dot_string(node.name)} [label={label} {_DOT_SHAPES[node.kind]}]")
        if plate:
            lines.append("\t}")
    lines += [f"\t{_dot_string(parent)} -> {_dot_string(child)}" for parent, child in edges]
    return "\n".join([*lines, "}"]) + "\n"


def _mermaid_text(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


_MERMAID_SHAPES = {
    "free": "([{}])",
    "observed": "([{}])",
    "deterministic": "[{}]",
    "data": "[({})]",
    "potential": "{{{}}}",
}


def to_mermaid(model: pm.Model) -> str:
    """The graph as a Mermaid flowchart (no graphviz needed); a subgraph per plate.

    Node ids are ``v0``, ``v1``, … (a variable could be called ``end``, a Mermaid keyword); the
    labels carry the names.
    """
    nodes, edges = graph_nodes(model)
    ids = {node.name: f"v{i}" for i, node in enumerate(nodes)}
    lines = ["flowchart TD"]
    for number, (plate, members) in enumerate(_plates(nodes)):
        pad = "    "
        if plate:
            lines.append(f"    subgraph plate{number} [{_mermaid_text(plate)}]")
            pad = "        "
        for i, node in members:
            shape = _MERMAID_SHAPES[node.kind].format(_mermaid_text(f"{node.name} ~ {node.label}"))
            lines.append(f"{pad}v{i}{shape}")
        if plate:
            lines.append("    end")
    lines += [f"    {ids[parent]} --> {ids[child]}" for parent, child in edges]
    observed = [ids[n.name] for n in nodes if n.kind in ("observed", "data")]
    if observed:
        lines += [
            "    classDef filled fill:#ddd,stroke:#333",
            f"    class {','.join(observed)} filled",
        ]
    return "\n".join(lines) + "\n"


def _digraph(model: pm.Model) -> Any:
    try:
        import graphviz  # noqa: F401  (pm.model_to_graphviz imports it too; fail here clearly)
    except ImportError:
        raise DependencyError(
            "the graph as a graphviz.Digraph needs the Python package 'graphviz': "
            f"pip install graphviz (or pip install 'hiermod[graph]'); {_TEXT_ONLY}"
        ) from None
    return pm.model_to_graphviz(model)


def _render(model: pm.Model, fmt: str) -> Any:
    graph = _digraph(model)
    import graphviz

    try:
        return graph.pipe(format=fmt, encoding="utf-8" if fmt == "svg" else None)
    except graphviz.ExecutableNotFound:
        raise DependencyError(
            f"rendering the graph as {fmt} needs graphviz's 'dot' program, which is not on the PATH: "
            "apt-get install graphviz (or brew install graphviz, conda install graphviz); "
            f"{_TEXT_ONLY}"
        ) from None


def model_graph(model: pm.Model, format: str | None = None) -> Any:
    """The graph of a PyMC model in ``format``: None (a ``graphviz.Digraph``), ``"dot"``,
    ``"mermaid"`` (text), ``"svg"`` (text) or ``"png"``/``"pdf"`` (bytes)."""
    if format is None:
        return _digraph(model)
    if format == "dot":
        return to_dot(model)
    if format == "mermaid":
        return to_mermaid(model)
    if format in _RENDERED:
        return _render(model, format)
    raise ValueError(
        f"format must be None, 'dot', 'mermaid', 'svg', 'png' or 'pdf', not {format!r}"
    )


def write_graph(model: pm.Model, path: str | Path) -> Path:
    """Write the graph to ``path``, its format from the suffix: ``.dot``/``.gv``, ``.mmd``,
    ``.svg``, ``.png`` or ``.pdf``."""
    path = Path(path)
    suffix = path.suffix.lower()
    fmt = _SUFFIXES.get(suffix) or _RENDERED.get(suffix.lstrip("."))
    if fmt is None:
        raise ValueError(
            f"cannot tell the graph format from {path.name!r}: use .dot, .mmd, .svg, .png or .pdf"
        )
    content = model_graph(model, fmt)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path
