"""A compiled model reused on new data of the same structure: the data lifted out as inputs.

hiermod compiles a model for nutpie with its data frozen in as constants (faster to compile,
:mod:`hiermod.inference.compiled`), so a compiled function serves only the data it was compiled
from. A refit on other rows of the same model (``m.update(data=new)``, a bootstrap or k-fold loop,
the same formula on next month's data) would compile again. When a process fits a second data set
of a structure it has compiled before, this module compiles that structure once more with every
data value as a shared variable, so that each later data set is swapped in with nutpie's
``CompiledPyMCModel.with_data`` instead of compiled (about 0.3 s against 10–20 s on sleepstudy).

What is lifted (the rest stays a constant of the graph and must be equal for a reuse):

* the observed values of each likelihood (``observed=data["Reaction_data"]`` is a constant);
* every floating-point constant: cell sums of a reduced likelihood, and the parameters of the
  priors (``Normal("b", sigma=48.89)``, ``sd_dist=HalfNormal(sigma=[56.33, 19.56])``), whose
  defaults scale with the data.

Integer constants (indices, sizes, the ``n`` of an LKJ prior) stay constants: they fix shapes.
The ``pm.Data`` containers and dim lengths are shared variables already. So a reduced likelihood,
whose row-to-cell index is an integer constant, is reused for a new response on the same rows but
compiled again for other rows.

A fit through a lifted compile is not bit-identical to a fit of the same data through a frozen
compile: the two functions round differently (constants folded or not), so the same seed gives
other, equally valid draws. Which one a fit uses depends on what the process compiled before (the
second data set of a structure is compiled lifted); a fit of the same data in a fresh process
repeats its draws exactly.

Two fits of one structure at the same time in two threads share the compiled model's start-point
function: one may start its chains from the other's data (its prior's support point). The draws
are not affected; each fit's density has its own data.

A reuse is taken only when the new model's graph, with the same values lifted, equals the
compiled one's node for node (:func:`pytensor.graph.basic.equal_computations`, inputs paired in
order) and every sampled or stored variable has the same shape, so the function computes exactly
what a fresh compile of the new model would. Example: ``Reaction ~ Days + (Days | Subject)`` fitted
to sleepstudy and then to sleepstudy with a resampled response: the graphs differ only in the
lifted ``Reaction`` values, the reuse passes them in; fitted again to 17 of the 18 subjects, the
``Subject`` dim (and with it ``beta_Subject``'s shape) differs, so the model is compiled anew.
"""

from __future__ import annotations

import dataclasses
import threading
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
from pymc.distributions.custom import CustomSymbolicDistRV
from pymc.distributions.distribution import _support_point
from pymc.logprob.abstract import _logcdf, _logprob
from pymc.model.fgraph import ModelObservedRV, fgraph_from_model, model_from_fgraph
from pytensor.compile.sharedvalue import SharedVariable, shared
from pytensor.graph.basic import Constant, Variable, equal_computations
from pytensor.graph.fg import FunctionGraph
from pytensor.graph.op import HasInnerGraph
from pytensor.graph.replace import clone_replace
from pytensor.graph.traversal import graph_inputs

__all__ = ["LIFTED_PREFIX", "LiftedCompile", "can_lift"]

LIFTED_PREFIX = "hiermod_data_"


def can_lift(model: pm.Model) -> bool:
    """Whether ``model`` can be compiled with its data lifted: not when a variable has a start
    value of its own (an ordinal model's thresholds), which the rebuilt model would not carry."""
    return all(v is None for v in model.rvs_to_initial_values.values())


def _lifts(node: Any, position: int, value: np.ndarray) -> bool:
    return value.dtype.kind == "f" or (isinstance(node.op, ModelObservedRV) and position == 1)


def _lifted_graph(model: pm.Model) -> tuple[FunctionGraph, dict[str, np.ndarray]]:
    """``model``'s graph with its data constants replaced by shared variables ``hiermod_data_<i>``
    (numbered in the graph's topological order), and the values they hold.

    Every lifted float is float64, and the nodes after it are rebuilt for that type: PyTensor makes
    a number literal float32 when float32 holds it exactly (``298.5``, not ``298.1``), so two data
    sets of one model would otherwise give graphs of different types. Not the inputs of an op with
    an inner graph (the ``eta`` of ``pm.LKJCholeskyCov``), whose types are fixed.
    """
    graph, _ = fgraph_from_model(model, inlined_views=True)
    replacements: dict[Variable[Any, Any], Variable[Any, Any]] = {}
    for node in graph.toposort():
        for position, variable in enumerate(node.inputs):
            if not isinstance(variable, Constant) or variable in replacements:
                continue
            value = np.asarray(variable.data)
            if _lifts(node, position, value):
                if value.dtype.kind == "f" and not isinstance(node.op, HasInnerGraph):
                    value = value.astype(np.float64)  # an inner graph's input types are fixed
                name = f"{LIFTED_PREFIX}{len(replacements)}"
                replacements[variable] = shared(value.copy(), name=name, shape=(None,) * value.ndim)
    outputs = clone_replace(graph.outputs, replace=replacements, rebuild_strict=False)
    lifted = FunctionGraph(outputs=outputs, clone=False)
    lifted._coords = graph._coords  # type: ignore[attr-defined]  # what model_from_fgraph reads
    lifted._dim_lengths = graph._dim_lengths  # type: ignore[attr-defined]
    values = {
        str(v.name): v.get_value() for v in replacements.values() if isinstance(v, SharedVariable)
    }
    return lifted, values


def _traced_shapes(model: pm.Model) -> dict[str, tuple[int, ...]] | None:
    """The shape of every sampled and stored variable, from its dims; ``None`` when one has a
    dimension without a dim name and no static length."""
    shapes: dict[str, tuple[int, ...]] = {}
    for variable in [*model.free_RVs, *model.deterministics]:
        dims = model.named_vars_to_dims.get(variable.name) or ()
        static = variable.type.shape
        if len(dims) != len(static):
            dims = (None,) * len(static)
        shape = []
        for dim, length in zip(dims, static, strict=True):
            if dim is not None:
                shape.append(int(model.dim_lengths[dim].eval()))
            elif length is not None:
                shape.append(int(length))
            else:
                return None
        shapes[variable.name] = tuple(shape)
    return shapes


def _named_shared(model: pm.Model) -> dict[str, SharedVariable]:
    """``model``'s named shared variables: its ``pm.Data`` containers and its dim lengths."""
    shared = {v.name: v for v in model.data_vars if isinstance(v, SharedVariable) and v.name}
    for name, length in model.dim_lengths.items():
        if isinstance(length, SharedVariable):
            shared[name] = length
    return shared


@dataclasses.dataclass
class LiftedCompile:
    """A nutpie model compiled from a lifted graph, and what a reuse is checked against."""

    compiled: Any  # nutpie's CompiledPyMCModel
    graph: FunctionGraph  # a copy of the lifted graph it was compiled from
    shared: dict[str, SharedVariable]  # the compiled model's inputs, which its start reads
    shapes: dict[str, tuple[int, ...]]
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    @classmethod
    def compile(
        cls, model: pm.Model, compile_pymc_model: Callable[..., Any], kwargs: dict[str, Any]
    ) -> LiftedCompile | None:
        """Compile ``model`` with its data lifted (``compile_pymc_model`` is nutpie's, called with
        ``kwargs`` but without freezing); ``None`` when the model cannot be lifted."""
        shapes = _traced_shapes(model)
        if shapes is None or not can_lift(model):
            return None
        graph, _ = _lifted_graph(model)
        reference = graph.clone()
        lifted: dict[str, SharedVariable] = {
            str(v.name): v
            for v in graph.inputs
            if isinstance(v, SharedVariable) and (v.name or "").startswith(LIFTED_PREFIX)
        }
        rebuilt = model_from_fgraph(graph, mutate_fgraph=True)  # copies: ``model`` is untouched
        compiled = compile_pymc_model(rebuilt, **{**kwargs, "freeze_model": False})
        inputs = {**_named_shared(rebuilt), **lifted}
        return cls(compiled=compiled, graph=reference, shared=inputs, shapes=shapes)

    def reuse(self, model: pm.Model) -> Any | None:
        """The compiled model with ``model``'s data swapped in, or ``None`` when ``model`` is not the
        same structure (see the module docstring)."""
        if not can_lift(model) or _traced_shapes(model) != self.shapes:
            return None
        graph, lifted_values = _lifted_graph(model)
        if not _same_graph(self.graph, graph):
            return None
        values = {name: v.get_value() for name, v in _named_shared(model).items()}
        values.update(lifted_values)
        if set(values) != set(self.shared):
            return None
        with self.lock:
            # nutpie's start point is a PyTensor function of the compiled model's shared variables:
            # they take the new values, so the chains start where a fresh compile's would.
            for name, variable in self.shared.items():
                variable.set_value(values[name])
            known = {v.name for v in self.compiled.shared_var_keys}
            swapped = self.compiled.with_data(**{k: v for k, v in values.items() if k in known})
        # The level labels stored with the draws are the new model's (the same number of them).
        coords = {
            name: pd.Index(model.coords[name]) if model.coords.get(name) is not None else labels
            for name, labels in swapped.coords.items()
        }
        return dataclasses.replace(swapped, _coords=coords)


def _same_graph(reference: FunctionGraph, candidate: FunctionGraph) -> bool:
    """Whether two lifted graphs compute the same thing: the same inputs in the same order (by name
    and type; random generators by type), then node by node in topological order the same op on
    the corresponding inputs or equal constants.

    Built by the same code, equal graphs list their nodes in the same order. Not
    :func:`pytensor.graph.basic.equal_computations`: PyMC's wrapper of a free variable carries its
    transform (``CholeskyCovPacked`` for an LKJ prior), an object each build makes anew and that
    compares by identity; :func:`_same_op` compares such attributes by their contents.
    """
    if len(reference.inputs) != len(candidate.inputs):
        return False
    matched: dict[Variable[Any, Any], Variable[Any, Any]] = {}
    for a, b in zip(reference.inputs, candidate.inputs, strict=True):
        if a.name != b.name or a.type != b.type:
            return False
        matched[a] = b
    nodes, others = reference.toposort(), candidate.toposort()
    if len(nodes) != len(others):
        return False
    for node, other in zip(nodes, others, strict=True):
        if not _same_op(node.op, other.op) or len(node.inputs) != len(other.inputs):
            return False
        for a, b in zip(node.inputs, other.inputs, strict=True):
            if a in matched:
                if matched[a] is not b:
                    return False
            elif not (isinstance(a, Constant) and isinstance(b, Constant) and a.equals(b)):
                return False
        if len(node.outputs) != len(other.outputs):
            return False
        for a, b in zip(node.outputs, other.outputs, strict=True):
            if a.type != b.type:
                return False
            matched[a] = b
    return all(
        matched.get(a) is b for a, b in zip(reference.outputs, candidate.outputs, strict=True)
    )


def _same_op(a: object, b: object, depth: int = 3) -> bool:
    """``a == b``, or for two objects of one class (not an inner graph) equal attributes, compared
    the same way down to ``depth`` levels; variables (a transform's ``diag_idxs``) by
    :func:`_same_constant_graph`."""
    if a is b:
        return True
    if isinstance(a, Variable) or isinstance(b, Variable):
        return isinstance(a, Variable) and isinstance(b, Variable) and _same_constant_graph(a, b)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)
    try:
        if bool(a == b):
            return True
    except (TypeError, ValueError):
        return False
    if isinstance(a, CustomSymbolicDistRV) and isinstance(b, CustomSymbolicDistRV):
        return _same_custom_dist(a, b)
    if depth == 0 or type(a) is not type(b) or isinstance(a, HasInnerGraph):
        return False
    fields, other = getattr(a, "__dict__", None), getattr(b, "__dict__", None)
    if fields is None or other is None or fields.keys() != other.keys():
        return False
    return all(_same_op(fields[k], other[k], depth - 1) for k in fields)


def _same_custom_dist(a: CustomSymbolicDistRV, b: CustomSymbolicDistRV) -> bool:
    """Two ``pm.CustomDist`` ops of two builds (a reduced likelihood, a weighted one): each build
    makes a class of its own, so they compare by what they compute: the same class name, the
    same graph of draws and the same density, initial point and cdf functions (by code and
    closure; the generated module's globals are the same source by :func:`structure_key`)."""
    if type(a).__name__ != type(b).__name__ or a.extended_signature != b.extended_signature:
        return False
    if not _same_graph(a.fgraph, b.fgraph):
        return False
    return all(
        _same_function(rule.dispatch(type(a)), rule.dispatch(type(b)))
        for rule in (_logprob, _logcdf, _support_point)
    )


def _same_function(f: object, g: object, depth: int = 4) -> bool:
    """The same function: equal code objects (bytecode and constants) and equal closures, whose
    functions compare the same way."""
    if f is g:
        return True
    if _variables(f) and _variables(g):
        # PyMC's density closure holds the op's parameters, and reads only how many there are:
        # the parameters themselves are the node's inputs, compared by the graph walk.
        return len(f) == len(g)  # type: ignore[arg-type]
    if not (isinstance(f, types.FunctionType) and isinstance(g, types.FunctionType)):
        return _same_op(f, g, depth=1) if depth > 0 else False
    if f.__code__ != g.__code__ or f.__defaults__ != g.__defaults__ or depth == 0:
        return False
    cells, others = f.__closure__ or (), g.__closure__ or ()
    return len(cells) == len(others) and all(
        _same_function(c.cell_contents, d.cell_contents, depth - 1)
        for c, d in zip(cells, others, strict=True)
    )


def _same_constant_graph(a: Variable[Any, Any], b: Variable[Any, Any]) -> bool:
    """Whether two graphs of constants have the same value: equal graphs, or equal values.

    ``CholeskyCovPacked.diag_idxs`` is such a graph (``cumsum(arange(1, n + 1)) - 1``) and
    compiling a model folds it in place (to ``cumsum([1 2]) - 1``), so a compiled model's transform
    and a new build's differ as graphs while holding the same indices.
    """
    if a.type != b.type:
        return False
    if equal_computations([a], [b]):
        return True
    roots = [*graph_inputs([a]), *graph_inputs([b])]
    if not all(isinstance(root, Constant) for root in roots):
        return False
    return bool(np.array_equal(a.eval(mode="FAST_COMPILE"), b.eval(mode="FAST_COMPILE")))


def _variables(value: object) -> bool:
    return isinstance(value, tuple) and all(isinstance(v, Variable) for v in value)
