"""What NUTS compiles for a fit, and what a process keeps of it for the next fit.

Three rules, each measured with ``benchmarks/compile_overhead.py`` (see docs/performance.md):

* **LKJ starts as values** (:func:`lkj_starts`). PyMC's default start of a ``pm.LKJCholeskyCov`` is
  a graph of the variable itself (zeros with ones on the diagonal: the identity Cholesky factor),
  which keeps the prior's random-draw scan and its random-number update in the initial-point
  function; PyTensor runs that scan in Python mode, whose loop it compiles in C once per cache
  (about 6 s on an empty PyTensor cache) and which costs about 0.1 s per initial-point function
  on a warm one. Giving the same identity as a value starts the sampler at the same point without
  the scan: PyMC's sampler then compiles no scan at all; nutpie still builds one initial-point
  function of its own from PyMC's default (for the shapes of the draws).
* **Data frozen for nutpie** (``freeze_model=True``). nutpie passes each ``pm.Data`` container to
  its compiled callback through a table of pointers that Numba compiles an accessor for, in every
  process (its callbacks cannot be cached); frozen, the containers are constants of the compiled
  function: about 1 s less per compile on sleepstudy, radon and cbpp. A frozen function is not
  reused across data anyway: the observed response is a constant of the generated source. PyMC
  cannot freeze a model with starting values of its own (an ordinal model's thresholds): those
  keep their containers.
* **One compile per model and data in a process** (:func:`reusing_nutpie_compile`). A second fit
  of the same source on the same data (``fit`` again with other draws or seeds, the same
  ``hm.Model`` built again, ``update()`` keeping the structure and data) reuses nutpie's compiled
  model: no PyTensor rewriting and no Numba compile. Keyed by the source text, the data arrays'
  bytes and the compile options; at most :data:`MAX_KEPT` models are kept, the most recently used.
* **One more compile per structure for new data** (:mod:`hiermod.inference.lifted`). The second
  time a process fits a model of the same structure (:func:`structure_key`: the source without
  its docstring and number literals) to other data, the structure is compiled again with its data
  lifted out as inputs, and kept (up to :data:`MAX_KEPT`); every later fit of it swaps its data
  in (``with_data``) after checking that the graphs are equal. Only the second compile pays for the
  lifted inputs (about 5 s more than a frozen compile on sleepstudy); a single fit pays nothing.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pymc as pm
from pymc.distributions.multivariate import _LKJCholeskyCovRV
from pytensor.graph.basic import Constant

from hiermod.inference.lifted import LiftedCompile

__all__ = ["MAX_KEPT", "data_key", "lkj_starts", "reusing_nutpie_compile", "structure_key"]

MAX_KEPT = 4
_KEPT: OrderedDict[tuple[str, str], Any] = OrderedDict()
# Per structure and options: ``None`` once compiled with frozen data, then its lifted compile.
_STRUCTURES: OrderedDict[tuple[str, str], LiftedCompile | None] = OrderedDict()
_LOCK = threading.Lock()


def lkj_starts(model: pm.Model) -> dict[str, np.ndarray]:
    """PyMC's own start of each ``pm.LKJCholeskyCov`` of ``model``, as a value: the packed
    identity Cholesky factor, ones at the diagonal positions ``i (i + 3) / 2`` of the packed
    vector (n = 2: ``[1, 0, 1]``; n = 3: ``[1, 0, 1, 0, 0, 1]``)."""
    starts = {}
    for rv in model.free_RVs:
        size = rv.owner.inputs[1] if isinstance(rv.owner.op, _LKJCholeskyCovRV) else None
        if not isinstance(size, Constant) or rv.ndim != 1:
            continue
        n = int(size.data)  # the number of effects
        packed = np.zeros(n * (n + 1) // 2)
        packed[[i * (i + 3) // 2 for i in range(n)]] = 1.0
        starts[rv.name] = packed
    return starts


def data_key(source: str, arrays: Mapping[str, np.ndarray]) -> str:
    """A digest of the generated source and the arrays ``build_model`` reads: two fits with the
    same key sample the same compiled model."""
    digest = hashlib.sha256(source.encode("utf-8"))
    for name in sorted(arrays):
        value = np.ascontiguousarray(arrays[name])
        digest.update(f"\0{name}\0{value.dtype.str}\0{value.shape}\0".encode())
        if value.dtype.hasobject:
            digest.update(repr(value.tolist()).encode("utf-8"))
        else:
            digest.update(value.tobytes())
    return digest.hexdigest()


class _Numbers(ast.NodeTransformer):
    """Number literals replaced by one placeholder (data-scaled prior scales differ per data)."""

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, float):
            return ast.copy_location(ast.Constant(value="<number>"), node)
        return node


def structure_key(source: str) -> str:
    """A digest of what the generated ``source`` builds, whatever data it is given: its syntax tree
    without the module docstring (which states the number of rows) and comments (the centring
    rule's numbers), with float literals as one placeholder. Two models with the same key may
    share a lifted compile; :class:`~hiermod.inference.lifted.LiftedCompile` checks the graphs."""
    tree = ast.parse(source)
    body = tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        tree.body = body[1:]
    text = ast.dump(_Numbers().visit(tree), annotate_fields=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _remember[K, V](table: OrderedDict[K, V], key: K, value: V) -> None:
    table[key] = value
    table.move_to_end(key)
    while len(table) > MAX_KEPT:
        table.popitem(last=False)


def _options_key(kwargs: Mapping[str, Any]) -> str:
    """The compile options as text; options PyMC adds per call (``var_names`` …) included."""
    return repr(sorted((k, repr(v)) for k, v in kwargs.items()))


@contextlib.contextmanager
def reusing_nutpie_compile(
    model: pm.Model, key: str | None, structure: str | None = None
) -> Iterator[None]:
    """While active, ``nutpie.compile_pymc_model(model, ...)`` — the call ``pm.sample(...,
    nuts_sampler="nutpie")`` makes — returns the compiled model an earlier fit with the same ``key``
    and options compiled, or the lifted compile of the same ``structure`` with ``model``'s data
    swapped in, or compiles (see the module docstring) and keeps it. Calls for any other model pass
    through.

    ``pm.sample`` is kept as the one way hiermod samples with nutpie (its seeds, options and
    conversion of the draws), so the reuse wraps the one call inside it that compiles.
    """
    if key is None:
        yield
        return
    import nutpie

    original = nutpie.compile_pymc_model

    def compile_pymc_model(pymc_model: pm.Model, **kwargs: Any) -> Any:
        if pymc_model is not model:
            return original(pymc_model, **kwargs)
        options = _options_key(kwargs)
        kept = (key, options)
        with _LOCK:
            if kept in _KEPT:
                _KEPT.move_to_end(kept)
                return _KEPT[kept]
            seen = structure is not None and (structure, options) in _STRUCTURES
            lifted = _STRUCTURES.get((structure, options)) if structure is not None else None
        compiled = lifted.reuse(model) if lifted is not None else None
        if compiled is None and seen:
            # A second data set of this structure: compile it with the data as inputs, once.
            lifted = LiftedCompile.compile(model, original, kwargs)
            compiled = lifted.reuse(model) if lifted is not None else None
            if lifted is not None and structure is not None:
                with _LOCK:
                    _remember(_STRUCTURES, (structure, options), lifted)
        if compiled is None:
            compiled = original(pymc_model, **kwargs)
            if structure is not None and not seen:
                with _LOCK:
                    _remember(_STRUCTURES, (structure, options), None)
        with _LOCK:
            _remember(_KEPT, kept, compiled)
        return compiled

    nutpie.compile_pymc_model = compile_pymc_model
    try:
        yield
    finally:
        nutpie.compile_pymc_model = original
