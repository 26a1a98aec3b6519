"""The graph of a multivariate model: each response's words, under the names the module gives them.

A univariate model's graph takes its words from the plan (:func:`~hiermod.output.graph_labels.graph_labels`:
"Days slope", "sd of the intercept by Subject", one cluster per group block). A multivariate model's
PyMC model is the responses' parts side by side with their names tagged (``b`` → ``y1_b``,
:func:`~hiermod.output.source_multivariate.model_names`), so each response's labels are its plan's
with the names tagged and the response in front ("y1: x slope"), its clusters keyed and labelled
per response ("y1: (1 | g)"). What no single response owns gets words here: the union of an ID
shared by the responses (``chol_g_id_p``, ``z_g_id_p``, ``corr_g_id_p``) and the residual
correlation (``Lrescor``, ``rescor``, the joint response ``Y``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pymc as pm

from hiermod.formula.multivariate import MultivariateFormula, shared_ids
from hiermod.output.graph import Graph, GraphParts, labelled_parts
from hiermod.output.graph_labels import BlockCluster, Label, graph_labels, inner_dims
from hiermod.output.source_multivariate import model_names
from hiermod.plan.ir import ModelIR

__all__ = ["multivariate_graph", "multivariate_graph_parts"]

# the union of an ID shared across responses: its variables' words, by name prefix
_UNION = {
    "chol": "Cholesky factor of the effects by {g} across the responses",
    "corr": "correlations of the effects by {g} across the responses",
    "z": "standardised effects by {g} (every response's)",
}  # (its sds and effects r are locals of the module, not model variables)
_RESCOR = {
    "Lrescor": "Cholesky factor of the residual correlation",
    "rescor": "residual correlations of the responses",
    "Y": "the responses, multivariate normal",
}


def _tagged(label: Label, name: str, tagged: str, response: str, key: str | None) -> Label:
    detail = label.detail
    if detail.startswith(name):  # "b ~ normal(0, 2)" -> "y1_b ~ normal(0, 2)"
        detail = tagged + detail[len(name) :]
    return Label(f"{response}: {label.title}", detail, key)


def _shared(model: pm.Model, block_ids: Sequence[str]) -> dict[str, Label]:
    """Words of the unions of IDs shared by the responses, and of the residual correlation."""
    labels = {n: Label(title, n) for n, title in _RESCOR.items() if n in model.named_vars}
    for name in model.named_vars:
        for block_id in block_ids:
            if name.endswith(f"_id_{block_id}"):
                kind, _, grouping = name[: -len(f"_id_{block_id}")].partition("_")
                if kind in _UNION:
                    labels[name] = Label(_UNION[kind].format(g=grouping), name)
    return labels


def multivariate_graph_parts(
    model: pm.Model,
    parts: Sequence[tuple[str, ModelIR]],
    name: str,
    block_ids: Sequence[str] = (),
) -> GraphParts:
    """The graph of the multivariate ``model`` composed of the responses' ``parts`` (response,
    plan), with their words (see the module docstring)."""
    labels = _shared(model, block_ids)
    clusters: list[BlockCluster] = []
    inner: set[str] = set()
    for response, ir in parts:
        names = model_names(ir, response)
        own, own_clusters = graph_labels(ir)
        keys = {c.key: f"{response}_{c.key}" for c in own_clusters}
        clusters += [BlockCluster(keys[c.key], f"{response}: {c.label}") for c in own_clusters]
        for variable, label in own.items():
            tagged = names.get(variable, variable)
            key = keys.get(label.cluster) if label.cluster is not None else None
            labels.setdefault(tagged, _tagged(label, variable, tagged, response, key))
        inner |= {names.get(d, d) for d in inner_dims(ir)}
    return labelled_parts(model, name, labels, clusters, frozenset(inner))


def multivariate_graph(
    model: pm.Model, models: Mapping[str, Any], formula: MultivariateFormula, format: str | None
) -> Any:
    """``MultivariateModel.graph``: the graph of ``model`` from the responses' ``models``
    (``hm.Model`` each, for its plan), in ``format`` as ``Model.graph``."""
    parts = [(response, m.ir) for response, m in models.items()]
    graph = multivariate_graph_parts(model, parts, str(formula), shared_ids(formula))
    return Graph(graph).to(format)
