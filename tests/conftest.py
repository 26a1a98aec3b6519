"""Test isolation shared by every test module."""

from __future__ import annotations

import pytest

from hiermod.inference import compiled


@pytest.fixture(autouse=True)
def _no_lifted_compile_from_another_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no structure compiled with lifted data (hiermod.inference.lifted).

    A fit reusing a lifted compile samples other (equally valid) draws for the same seed than a
    fit of the same data through its own frozen compile: the two functions round differently. Kept
    across tests, whether a test's fit reuses one would depend on which tests ran before it in the
    same worker. The compiled models kept per source and data (``_KEPT``) are the same function
    for the same model, so they stay shared: they only save compile time.
    """
    monkeypatch.setattr(compiled, "_STRUCTURES", type(compiled._STRUCTURES)())
