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
"""

from __future__ import annotations

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

__all__ = ["MAX_KEPT", "data_key", "lkj_starts", "reusing_nutpie_compile"]

MAX_KEPT = 4
_KEPT: OrderedDict[tuple[str, str], Any] = OrderedDict()
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


def _options_key(kwargs: Mapping[str, Any]) -> str:
    """The compile options as text; options PyMC adds per call (``var_names`` …) included."""
    return repr(sorted((k, repr(v)) for k, v in kwargs.items()))


@contextlib.contextmanager
def reusing_nutpie_compile(model: pm.Model, key: str | None) -> Iterator[None]:
    """While active, ``nutpie.compile_pymc_model(model, ...)`` — the call ``pm.sample(...,
    nuts_sampler="nutpie")`` makes — returns the compiled model an earlier fit with the same ``key``
    and options compiled, or compiles and keeps it. Calls for any other model pass through.

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
        kept = (key, _options_key(kwargs))
        with _LOCK:
            if kept in _KEPT:
                _KEPT.move_to_end(kept)
                return _KEPT[kept]
        compiled = original(pymc_model, **kwargs)
        with _LOCK:
            _KEPT[kept] = compiled
            while len(_KEPT) > MAX_KEPT:
                _KEPT.popitem(last=False)
        return compiled

    nutpie.compile_pymc_model = compile_pymc_model
    try:
        yield
    finally:
        nutpie.compile_pymc_model = original
