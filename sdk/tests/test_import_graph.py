"""The modules of ``_async/`` (and so of the generated ``_sync/``) import each other without a
cycle, counting the imports made only for type checking: the client imports the resources, the
resources import the models, and nothing imports back (models and resources type the client
with protocols)."""

import ast
from pathlib import Path
from typing import Dict, List, Optional, Set

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "moderatelyai_sdk"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(tree: str) -> Dict[str, Path]:
    return {module_name(path): path for path in sorted((PACKAGE / tree).rglob("*.py"))}


def imported(source: str, name: str, package: str, known: Set[str]) -> Set[str]:
    """The modules of ``known`` that module ``name`` (of ``package``) imports anywhere in
    ``source``: at the top, under ``if TYPE_CHECKING:``, inside functions."""
    found: Set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # ``from .pkg import name`` imports the submodule ``pkg.name`` when there is one.
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(target for target in targets if target in known and target != name)
    return found


def find_cycle(graph: Dict[str, Set[str]]) -> Optional[List[str]]:
    """One cycle of ``graph`` (its modules in import order), or ``None``."""
    state: Dict[str, int] = {}  # 1: on the current path, 2: done
    path: List[str] = []

    def visit(node: str) -> Optional[List[str]]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


@pytest.mark.parametrize("tree", ["_async", "_sync"])
def test_client_modules_import_each_other_without_a_cycle(tree: str) -> None:
    known = modules(tree)
    graph = {}
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = imported(path.read_text(), name, package, set(known))
    # The graph is real: the client reaches every resource, the resources their models.
    client = f"moderatelyai_sdk.{tree}._client"
    assert f"moderatelyai_sdk.{tree}.resources.datasets" in graph[client]
    datasets = graph[f"moderatelyai_sdk.{tree}.resources.datasets"]
    assert f"moderatelyai_sdk.{tree}.models.dataset" in datasets
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_a_cycle_is_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_type_checking_and_local_imports_count() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from .. import _io_async\n"
        "if TYPE_CHECKING:\n"
        "    from .._client import AsyncBaseClient\n"
        "def later() -> None:\n"
        "    from ..models import dataset\n"
    )
    known = set(modules("_async"))
    name, package = "x._async.resources.files", "moderatelyai_sdk._async.resources"
    assert imported(source, name, package, known) == {
        "moderatelyai_sdk._async",
        "moderatelyai_sdk._async._client",
        "moderatelyai_sdk._async.models",
        "moderatelyai_sdk._async.models.dataset",
    }
