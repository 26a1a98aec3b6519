"""The package's layout: stages in order, no import cycle, modules and classes of readable size.

hiermod is one subpackage per pipeline stage, in this order::

    formula → data → plan → output → inference → interpret

``hiermod.errors``, ``hiermod.warnings``, ``hiermod.datasets`` and ``hiermod._version`` are shared
leaves any stage may import; ``hiermod.model`` composes the stages; ``hiermod`` itself (its
``__init__``), ``hiermod.cli`` and ``hiermod.__main__`` sit above it. A module may import from its
own stage and from lower layers only — never a later stage, and no stage ever imports
``hiermod.model`` — counting every import: module-level, inside functions and under
``if TYPE_CHECKING:``.

The checks read the source with :mod:`ast` (nothing is imported), and each prints its offenders.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "hiermod"
MAX_MODULE_LINES = 500
MAX_CLASS_LINES = 200

STAGES = ("formula", "data", "plan", "output", "inference", "interpret")
LEAVES = frozenset(
    {
        "hiermod.errors",
        "hiermod.warnings",
        "hiermod.arguments",
        "hiermod.datasets",
        "hiermod._version",
    }
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> tuple[int, str]:
    """The layer of a module (imports go to lower layers, or within a stage) and its name."""
    if module in LEAVES:
        return 0, "shared leaves"
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in STAGES:
        return 1 + STAGES.index(parts[1]), f"stage {parts[1]}"
    above = {
        "hiermod.updating": "Model.update's rules",
        "hiermod.multivariate": "the multivariate model (composes univariate models)",
        "hiermod.model": "the composing model",
        "hiermod": "hiermod's __init__",
    }
    if module in above:
        return len(STAGES) + 1 + list(above).index(module), above[module]
    if parts[1:2] == ["cli"]:
        return len(STAGES) + 4, "the command line"
    if module == "hiermod.__main__":
        return len(STAGES) + 5, "python -m hiermod"
    raise AssertionError(f"{module} has no place in the layout: add it to a stage or to LEAVES")


def _imports(module: str, text: str, *, package: bool) -> Iterator[tuple[int, str]]:
    """(line, imported hiermod module) for every import in ``text``, the source of ``module``
    (``package``: an ``__init__.py``), wherever the import sits: module level, in a function, under
    ``if TYPE_CHECKING:``. ``from hiermod.data import design`` imports the module ``design``."""
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "hiermod":
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's package, one level up per extra dot
                base = (module if package else module.rpartition(".")[0]).split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            if source.split(".")[0] != "hiermod":
                continue
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                yield node.lineno, submodule if submodule in MODULES else source


def _graph() -> dict[str, dict[str, int]]:
    """module -> {imported module: first line}, for hiermod's own modules."""
    graph: dict[str, dict[str, int]] = {}
    for module, path in MODULES.items():
        edges = graph.setdefault(module, {})
        text = path.read_text(encoding="utf-8")
        for line, target in _imports(module, text, package=path.name == "__init__.py"):
            assert target in MODULES, f"{module}:{line} imports {target}, which does not exist"
            if target != module:
                edges.setdefault(target, line)
    return graph


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One cycle through each strongly connected group of modules (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in graph:
        if node not in index:
            visit(node)
    return [_cycle_in(graph, set(group)) for group in groups]


def _cycle_in(graph: dict[str, dict[str, int]], group: set[str]) -> list[str]:
    """A path inside ``group`` from its first module back to itself."""
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        node = frontier.pop(0)
        for target in graph[node]:
            if target == start:
                return [*paths[node], start]
            if target in group and target not in paths:
                paths[target] = [*paths[node], target]
                frontier.append(target)
    raise AssertionError("a strongly connected group always holds a cycle")  # pragma: no cover


def _report(title: str, offenders: list[str]) -> str:
    text = f"{title}:\n" + "\n".join(f"  {line}" for line in offenders)
    if offenders:
        print(text)
    return text


def test_every_module_has_a_place_in_the_layout() -> None:
    offenders = []
    for module in MODULES:
        try:
            _layer(module)
        except AssertionError as error:
            offenders.append(str(error))
    assert not offenders, _report("modules outside the layout", offenders)


def test_no_import_cycle() -> None:
    graph = _graph()
    offenders = [
        " -> ".join(f"{a} (line {graph[a][b]})" for a, b in itertools.pairwise(cycle))
        + f" -> {cycle[-1]}"
        for cycle in _cycles(graph)
    ]
    assert not offenders, _report("import cycles (module (line of the import) -> …)", offenders)


def test_stages_import_only_their_own_stage_and_earlier_ones() -> None:
    offenders = []
    for module, edges in _graph().items():
        layer, name = _layer(module)
        for target, line in edges.items():
            target_layer, target_name = _layer(target)
            if target_layer > layer:
                offenders.append(f"{module}:{line} ({name}) imports {target} ({target_name})")
    assert not offenders, _report("imports against the stage order", offenders)


def test_no_stage_imports_the_model() -> None:
    offenders = [
        f"{module}:{line} imports hiermod.model"
        for module, edges in _graph().items()
        if _layer(module)[1].startswith(("stage", "shared"))
        for target, line in edges.items()
        if target == "hiermod.model"
    ]
    assert not offenders, _report("stage modules importing hiermod.model", offenders)


def test_no_module_is_over_500_lines() -> None:
    sizes = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in MODULES.items()}
    offenders = [f"{m}: {n} lines" for m, n in sizes.items() if n > MAX_MODULE_LINES]
    assert not offenders, _report(f"modules over {MAX_MODULE_LINES} lines", offenders)


def test_no_class_is_over_200_lines() -> None:
    offenders = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                assert node.end_lineno is not None
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_CLASS_LINES:
                    offenders.append(f"{module}.{node.name} (line {node.lineno}): {lines} lines")
    assert not offenders, _report(f"classes over {MAX_CLASS_LINES} lines", offenders)


def test_the_checks_see_imports_of_every_kind() -> None:
    """The import reader finds relative, function-level and TYPE_CHECKING imports too."""
    text = """
from typing import TYPE_CHECKING
from . import design
from ..plan import ir
from .transforms import Evaluator
import hiermod.errors
if TYPE_CHECKING:
    from hiermod.model import Model
def later():
    from hiermod.output.module import build
"""
    found = [target for _, target in _imports("hiermod.data.stream", text, package=False)]
    assert found == [
        "hiermod.data.design",
        "hiermod.plan.ir",
        "hiermod.data.transforms",
        "hiermod.errors",
        "hiermod.model",
        "hiermod.output.module",
    ]
    inside = [t for _, t in _imports("hiermod.data", "from . import design", package=True)]
    assert inside == ["hiermod.data.design"]
    cycle = _cycles({"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}})
    assert cycle == [["a", "b", "c", "a"]]
