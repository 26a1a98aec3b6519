"""The model's graph: a cluster per group block, a plate per set of dims, an edge from each parent.

``Model.graph()`` returns a :class:`Graph`, built once per model and cached, which a notebook shows
as SVG. Its parts come from PyMC's :class:`~pymc.model_graph.ModelGraph` (the variables, their plates
from the dims, the edges), its words from the plan (:mod:`hiermod.output.graph_labels`): for
``Reaction ~ Days + (Days | Subject)`` a cluster labelled ``(1 + Days | Subject)`` holds the block's
sd, Cholesky factor, correlation and per-Subject coefficients, each named for what it is ("sd of the
intercept and Days slope by Subject", with ``sd_Subject`` and its prior beneath), and the Subject
index and ``Days`` column the block reads.

The DOT text (``Graph.source``, ``format="dot"``) is ``graphviz.Digraph``'s, built with the
``graphviz`` package; SVG, PNG and PDF are rendered by graphviz's ``dot`` program. Mermaid text
(``format="mermaid"``, which GitHub renders) is written here, from the same parts: PyMC's
``model_to_mermaid`` has no clusters or labels of our own. Everything is laid out in the model's
variable order, so the text is the same from run to run.

Nested and additive pooling are visible as plates: ``(1 | g/c)`` puts ``r_g`` on a ``g`` plate and
``r_g__c`` on a ``g x c`` plate (dense layout) or a ``g__c`` plate (observed cells), each in its
block's cluster; ``(1 | g) + (1 | c)`` gives two clusters, ``(1 | g)`` and ``(1 | c)``, feeding the
same mean.

``to_dot``, ``to_mermaid``, ``model_graph`` and ``write_graph`` take a bare ``pm.Model`` (no plan):
the same graph with PyMC's names and distributions as labels and no block clusters.
"""

from __future__ import annotations

import functools
import html
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymc as pm
from pymc.model_graph import ModelGraph, NodeType, random_variable_symbol

from hiermod.errors import DependencyError
from hiermod.output.graph_labels import BlockCluster, Label, graph_labels, inner_dims
from hiermod.plan.ir import ModelIR

__all__ = [
    "Graph",
    "GraphNode",
    "GraphParts",
    "build_graph",
    "graph_nodes",
    "graph_parts",
    "model_graph",
    "to_dot",
    "to_mermaid",
    "write_graph",
]

_TEXT_ONLY = "format='dot' or format='mermaid' give the graph as text"
_RENDERED = {"svg": "svg", "png": "png", "pdf": "pdf"}
_SUFFIXES = {".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid"}
_FORMATS = "None, 'dot', 'mermaid', 'svg', 'png' or 'pdf'"


@dataclass(frozen=True, slots=True)
class GraphNode:
    """One variable: its name, kind (``free``, ``observed``, ``deterministic``, ``data``), PyMC's
    symbol for it (``Normal``, ``Deterministic``), plate (``"group (3) x color (2)"``, or ``""``
    for a scalar), and from the plan its title ("Days slope"), detail (``b ~ normal(0, 48.89)``)
    and block cluster (``block0``, or None)."""

    name: str
    kind: str
    label: str
    plate: str
    title: str = ""
    detail: str = ""
    cluster: str | None = None


@dataclass(frozen=True, slots=True)
class GraphParts:
    """Everything the graph shows: nodes in model order, ``(parent, child)`` edges, block clusters."""

    name: str
    nodes: tuple[GraphNode, ...]
    edges: tuple[tuple[str, str], ...]
    clusters: tuple[BlockCluster, ...] = ()


_KINDS = {
    NodeType.FREE_RV: "free",
    NodeType.OBSERVED_RV: "observed",
    NodeType.DETERMINISTIC: "deterministic",
    NodeType.DATA: "data",
    NodeType.POTENTIAL: "potential",
}


def graph_nodes(
    model: pm.Model,
    labels: dict[str, Label] | None = None,
    inner: frozenset[str] | None = None,
) -> tuple[list[GraphNode], list[tuple[str, str]]]:
    """The nodes in model order and the ``(parent, child)`` edges, from PyMC's ModelGraph.

    Without ``inner`` a node's plate is all its dims (PyMC's plates); with it, the dims in
    ``inner`` and the unnamed ones are left out of the plate and given as sizes after the name in
    the node's detail: ``beta_Subject[2] ~ mvnormal(mean, chol)`` on the plate ``Subject (18)``.
    """
    graph = ModelGraph(model)
    order = {name: i for i, name in enumerate(model.named_vars)}
    labels = labels or {}
    nodes: list[GraphNode] = []
    for plate in graph.get_plates():
        dims = list(zip(plate.dim_info.names, plate.dim_info.lengths, strict=True))
        within = [n for d, n in dims if inner is not None and (d is None or d in inner)]
        where = " x ".join(
            f"{d} ({n})" if d else str(n)
            for d, n in dims
            if inner is None or (d is not None and d not in inner)
        )
        for node in plate.variables:
            kind = _KINDS[node.node_type]
            symbol = {"deterministic": "Deterministic", "data": "Data"}.get(kind)
            name = str(node.var.name)
            label = labels.get(name)
            title, detail, cluster = (
                (label.title, label.detail, label.cluster) if label else ("", "", None)
            )
            if any(n > 1 for n in within) and detail.startswith(name):
                detail = f"{name}[{', '.join(map(str, within))}]{detail[len(name) :]}"
            nodes.append(
                GraphNode(
                    name,
                    kind,
                    symbol or random_variable_symbol(node.var),
                    where,
                    title,
                    detail,
                    cluster,
                )
            )
    nodes.sort(key=lambda n: order.get(n.name, len(order)))
    edges = sorted(
        ((parent, child) for child, parent in graph.edges()),
        key=lambda e: (order.get(e[0], -1), order.get(e[1], -1)),
    )
    return nodes, edges


def graph_parts(model: pm.Model, ir: ModelIR | None = None, name: str = "model") -> GraphParts:
    """The graph of ``model``; with its plan ``ir``, the words, block clusters and plates of rows
    and levels only (see :func:`graph_nodes`)."""
    if ir is None:
        nodes, edges = graph_nodes(model)
        return GraphParts(name, tuple(nodes), tuple(edges))
    labels, clusters = graph_labels(ir)
    return labelled_parts(model, name, labels, clusters, inner_dims(ir))


def labelled_parts(
    model: pm.Model,
    name: str,
    labels: dict[str, Label],
    clusters: Sequence[BlockCluster],
    inner: frozenset[str],
) -> GraphParts:
    """The graph of ``model`` with these words and block clusters (those some node is in)."""
    nodes, edges = graph_nodes(model, labels, inner)
    used = {node.cluster for node in nodes}
    return GraphParts(name, tuple(nodes), tuple(edges), tuple(c for c in clusters if c.key in used))


def format_of(path: str | Path) -> str:
    """The graph format a file name asks for: ``"dot"`` (``.dot``/``.gv``), ``"mermaid"``
    (``.mmd``), ``"svg"``, ``"png"`` or ``"pdf"``; a ValueError for any other suffix."""
    name = Path(path).name
    suffix = Path(path).suffix.lower()
    fmt = _SUFFIXES.get(suffix) or _RENDERED.get(suffix.lstrip("."))
    if fmt is None:
        raise ValueError(
            f"cannot tell the graph format from {name!r}: use .dot, .mmd, .svg, .png or .pdf"
        )
    return fmt


Plates = list[tuple[str, list[tuple[int, GraphNode]]]]


def _groups(parts: GraphParts) -> list[tuple[BlockCluster | None, Plates]]:
    """Nodes by cluster, then by plate, each group in order of its first node; each node with its
    number in ``parts.nodes``."""
    clusters = {c.key: c for c in parts.clusters}
    groups: dict[str | None, dict[str, list[tuple[int, GraphNode]]]] = {}
    for i, node in enumerate(parts.nodes):
        key = node.cluster if node.cluster in clusters else None
        groups.setdefault(key, {}).setdefault(node.plate, []).append((i, node))
    return [
        (clusters[key] if key is not None else None, list(plates.items()))
        for key, plates in groups.items()
    ]


# -- graphviz ---------------------------------------------------------------------------------------

_FONT = "Helvetica,Arial,sans-serif"
# size: at most 8 x 8 inches (576 pt, about the width of a notebook cell); dot only scales down.
_GRAPH_ATTR = {"size": "8,8", "fontname": _FONT, "fontsize": "11", "nodesep": "0.25"}
_NODE_ATTR = {"fontname": _FONT, "fontsize": "11", "margin": "0.06,0.03"}
_EDGE_ATTR = {"color": "#555555", "arrowsize": "0.6"}
_SHAPES: dict[str, dict[str, str]] = {
    "free": {"shape": "ellipse"},
    "observed": {"shape": "ellipse", "style": "filled", "fillcolor": "#d9d9d9"},
    "deterministic": {"shape": "box"},
    "data": {"shape": "box", "style": "rounded,filled", "fillcolor": "#eeeeee"},
    "potential": {"shape": "octagon"},
}
_BLOCK_ATTR = {
    "labeljust": "l",
    "labelloc": "t",
    "style": "rounded,filled",
    "fillcolor": "#eef3fb",
    "color": "#8da9d4",
    "fontsize": "12",
}
_PLATE_ATTR = {"labeljust": "r", "labelloc": "b", "style": "rounded", "color": "#999999"}


def _graphviz() -> Any:
    try:
        import graphviz
    except ImportError:
        raise DependencyError(
            "the graph as DOT or a picture needs the Python package 'graphviz': "
            "pip install graphviz (a dependency of hiermod: reinstall hiermod); "
            "format='mermaid' gives the graph as text without it"
        ) from None
    return graphviz


def _wrap(text: str) -> str:
    """Escaped for an HTML label and broken at spaces into lines of about 26 characters."""
    lines = textwrap.wrap(text, 26, break_long_words=False, break_on_hyphens=False) or [""]
    return "<BR/>".join(html.escape(line, quote=False) for line in lines)


def _html_label(node: GraphNode) -> str:
    """A graphviz HTML label: the title, and beneath it in small grey the name and prior."""
    title = _wrap(node.title or node.name)
    detail = html.escape(node.detail if node.title else f"~ {node.label}", quote=False)
    return f'<{title}<BR/><FONT POINT-SIZE="9" COLOR="#555555">{detail}</FONT>>'


def _add_plates(graph: Any, plates: Plates, prefix: str) -> None:
    for number, (plate, members) in enumerate(plates):
        if not plate:
            for _, node in members:
                graph.node(node.name, label=_html_label(node), **_SHAPES[node.kind])
            continue
        with graph.subgraph(name=f"cluster_{prefix}_plate{number}") as sub:
            sub.attr(label=plate, fontsize="10", **_PLATE_ATTR)
            for _, node in members:
                sub.node(node.name, label=_html_label(node), **_SHAPES[node.kind])


def to_digraph(parts: GraphParts) -> Any:
    """The ``graphviz.Digraph``: a cluster per group block (its term as label) holding its plates,
    the other plates at the top level, then the edges."""
    graphviz = _graphviz()
    graph = graphviz.Digraph(
        parts.name, graph_attr=_GRAPH_ATTR, node_attr=_NODE_ATTR, edge_attr=_EDGE_ATTR
    )
    for cluster, plates in _groups(parts):
        if cluster is None:
            _add_plates(graph, plates, "top")
            continue
        with graph.subgraph(name=f"cluster_{cluster.key}") as sub:
            sub.attr(label=cluster.label, **_BLOCK_ATTR)
            _add_plates(sub, plates, cluster.key)
    kinds = {node.name: node.kind for node in parts.nodes}
    for parent, child in parts.edges:
        if kinds.get(parent) == "data" and parts.clusters:
            # Drawn below what reads it (an arrow up into the likelihood), so the data columns
            # do not widen the top rank beside the priors: the edge is child -> parent, drawn back.
            graph.edge(child, parent, dir="back")
        else:
            graph.edge(parent, child)
    return graph


def _render(digraph: Any, fmt: str) -> Any:
    graphviz = _graphviz()
    try:
        return digraph.pipe(format=fmt, encoding="utf-8" if fmt == "svg" else None)
    except graphviz.ExecutableNotFound:
        raise DependencyError(
            f"rendering the graph as {fmt} needs graphviz's 'dot' program, which is not on the PATH: "
            "apt-get install graphviz (or brew install graphviz, conda install graphviz); "
            f"{_TEXT_ONLY}"
        ) from None


# -- Mermaid ----------------------------------------------------------------------------------------


def _mermaid_text(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


_MERMAID_SHAPES = {
    "free": "([{}])",
    "observed": "([{}])",
    "deterministic": "[{}]",
    "data": "[({})]",
    "potential": "{{{}}}",
}


def _mermaid_node(node: GraphNode) -> str:
    text = f"{node.title}<br/>{node.detail}" if node.title else f"{node.name} ~ {node.label}"
    return _MERMAID_SHAPES[node.kind].format(_mermaid_text(text))


def to_mermaid_text(parts: GraphParts) -> str:
    """The graph as a Mermaid flowchart: a subgraph per block holding a subgraph per plate.

    Node ids are ``v0``, ``v1``, … (a variable could be called ``end``, a Mermaid keyword); the
    labels carry the names.
    """
    ids = {node.name: f"v{i}" for i, node in enumerate(parts.nodes)}
    lines = ["flowchart TD"]
    for cluster, plates in _groups(parts):
        outer = "    "
        if cluster is not None:
            lines.append(f"    subgraph {cluster.key} [{_mermaid_text(cluster.label)}]")
            outer = "        "
        prefix = f"{cluster.key}_" if cluster is not None else ""
        for number, (plate, members) in enumerate(plates, start=0 if cluster else 1):
            pad = outer
            if plate:
                lines.append(f"{outer}subgraph {prefix}plate{number} [{_mermaid_text(plate)}]")
                pad = outer + "    "
            lines += [f"{pad}v{i}{_mermaid_node(node)}" for i, node in members]
            if plate:
                lines.append(f"{outer}end")
        if cluster is not None:
            lines.append("    end")
    lines += [f"    {ids[parent]} --> {ids[child]}" for parent, child in parts.edges]
    observed = [ids[n.name] for n in parts.nodes if n.kind in ("observed", "data")]
    if observed:
        lines += [
            "    classDef filled fill:#ddd,stroke:#333",
            f"    class {','.join(observed)} filled",
        ]
    return "\n".join(lines) + "\n"


# -- the graph object --------------------------------------------------------------------------------


class Graph:
    """A model's graph: shown as SVG in a notebook; ``.source`` (DOT), ``.mermaid``, ``.digraph``
    (the ``graphviz.Digraph``), ``.pipe("png")`` and ``.save(path)``.

    The Digraph, the text and each rendering are made on first use and kept.

    Example:
        >>> m.graph()                           # in a notebook: the picture   # doctest: +SKIP
        >>> m.graph().save("graph.svg")                                        # doctest: +SKIP
    """

    def __init__(self, parts: GraphParts) -> None:
        self.parts = parts
        self._rendered: dict[str, Any] = {}

    @functools.cached_property
    def digraph(self) -> Any:
        """The ``graphviz.Digraph`` (built once; changing it changes this graph)."""
        return to_digraph(self.parts)

    @property
    def source(self) -> str:
        """The DOT text, as graphviz writes it."""
        return str(self.digraph.source)

    @functools.cached_property
    def mermaid(self) -> str:
        """The Mermaid flowchart text (needs no graphviz)."""
        return to_mermaid_text(self.parts)

    def pipe(self, format: str = "svg") -> Any:
        """Rendered by graphviz's ``dot``: ``"svg"`` as text, ``"png"``/``"pdf"`` as bytes."""
        if format not in _RENDERED:
            raise ValueError(f"format must be 'svg', 'png' or 'pdf', not {format!r}")
        if format not in self._rendered:
            self._rendered[format] = _render(self.digraph, format)
        return self._rendered[format]

    def to(self, format: str | None) -> Any:
        """This graph (None), or its ``"dot"``/``"mermaid"`` text, or its rendering."""
        if format is None:
            return self
        if format == "dot":
            return self.source
        if format == "mermaid":
            return self.mermaid
        if format in _RENDERED:
            return self.pipe(format)
        raise ValueError(f"format must be {_FORMATS}, not {format!r}")

    def save(self, path: str | Path) -> Path:
        """Write the graph to ``path``, its format from the suffix: ``.dot``/``.gv``, ``.mmd``,
        ``.svg``, ``.png`` or ``.pdf``."""
        path = Path(path)
        content = self.to(format_of(path))
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    def _repr_svg_(self) -> str:
        return str(self.pipe("svg"))

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, str]:
        """SVG for Jupyter; without graphviz's ``dot``, text saying so (and how to get the text)."""
        try:
            return {"image/svg+xml": self._repr_svg_(), "text/plain": repr(self)}
        except DependencyError as error:
            return {"text/plain": f"{self!r}\n{error}"}

    def __repr__(self) -> str:
        blocks = len(self.parts.clusters)
        return (
            f"<hiermod graph of {self.parts.name}: {len(self.parts.nodes)} variables, "
            f"{blocks} group block{'' if blocks == 1 else 's'}; "
            ".source (DOT), .mermaid, .save(path)>"
        )


def build_graph(ir: ModelIR, model: pm.Model) -> Graph:
    """The graph of a hiermod model: ``model`` (its PyMC model) with the words of its plan ``ir``."""
    return Graph(graph_parts(model, ir, name=ir.formula))


# -- a bare pm.Model ----------------------------------------------------------------------------------


def to_dot(model: pm.Model, name: str = "model") -> str:
    """The graph of a PyMC model as DOT text (graphviz's); a ``cluster`` subgraph per plate."""
    return Graph(graph_parts(model, name=name)).source


def to_mermaid(model: pm.Model) -> str:
    """The graph of a PyMC model as a Mermaid flowchart; a subgraph per plate."""
    return Graph(graph_parts(model)).mermaid


def model_graph(model: pm.Model, format: str | None = None) -> Any:
    """The graph of a PyMC model in ``format``: None (a ``graphviz.Digraph``), ``"dot"``,
    ``"mermaid"`` (text), ``"svg"`` (text) or ``"png"``/``"pdf"`` (bytes)."""
    graph = Graph(graph_parts(model))
    return graph.digraph if format is None else graph.to(format)


def write_graph(model: pm.Model, path: str | Path) -> Path:
    """Write the graph of a PyMC model to ``path``, its format from the suffix."""
    return Graph(graph_parts(model)).save(path)
