"""Who may import whom: the layering rules of the README's "What is inside", checked over the import graph.

Every ``import`` in every project module counts, including imports inside functions and under
``TYPE_CHECKING``: a rule that holds only at run time still tangles the design.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "inference", "adapters")
# Training and evaluation code: the server must run without it (and never import its data).
TRAINING = (
    "adapters.cli",
    "adapters.data",
    "adapters.datasets",
    "adapters.encoding",
    "adapters.evaluate",
    "adapters.examples",
    "adapters.train",
    "app.router.training",
)
# Command-line composition and whole-system harnesses: they wire training and serving together.
NOT_SERVING = (*TRAINING, "app.cli", "app.bench_cli", "app.loadtest")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    """Every project module by dotted name."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The project module ``name`` refers to (a module, or the package holding a name), if any."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


@cache
def graph() -> dict[str, frozenset[str]]:
    """Module -> the project modules it imports."""
    known = modules()
    edges: dict[str, frozenset[str]] = {}
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                # `from pkg import mod` imports the module pkg.mod; `from mod import name` imports mod.
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.add(sub if sub in known else base)
        resolved = {_resolve(t, known) for t in targets}
        edges[name] = frozenset(t for t in resolved if t is not None and t != name)
    return edges


def _in(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _violations(sources: tuple[str, ...], allowed: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{src} imports {dst}"
        for src, targets in graph().items()
        if _in(src, sources)
        for dst in targets
        if not _in(dst, allowed)
    )


def test_the_graph_sees_every_package() -> None:
    names = modules()
    assert {"inference.engine", "adapters.intents", "app.main", "app.chat.service"} <= set(names)
    assert "inference.engine" in graph()["inference.async_engine"]


def test_inference_imports_nothing_of_the_project() -> None:
    assert _violations(("inference",), ("inference",)) == []


def test_adapters_import_only_inference() -> None:
    assert _violations(("adapters",), ("adapters", "inference")) == []


def test_serving_code_never_imports_training_code() -> None:
    serving = tuple(m for m in modules() if not _in(m, NOT_SERVING))
    bad = sorted(f"{src} imports {dst}" for src in serving for dst in graph()[src] if _in(dst, TRAINING))
    assert bad == []


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    edges = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_between_modules() -> None:
    assert _cycles() == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from inference import SamplingParams", "inference"),
        ("from inference.loading import dummy", "inference.loading.dummy"),
        ("import app.chat.service", "app.chat.service"),
    ],
)
def test_imports_resolve_to_modules(source: str, expected: str, tmp_path: Path) -> None:
    known = modules()
    node = ast.parse(source).body[0]
    if isinstance(node, ast.ImportFrom):
        name = f"{node.module}.{node.names[0].name}"
        target = name if name in known else node.module or ""
    else:
        assert isinstance(node, ast.Import)
        target = node.names[0].name
    assert _resolve(target, known) == expected
