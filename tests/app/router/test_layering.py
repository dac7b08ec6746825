"""Serving code never imports training code (issue #11's rule, for the router)."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[3] / "app"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_serving_modules_do_not_import_training() -> None:
    offenders = []
    for path in APP.rglob("*.py"):
        rel = path.relative_to(APP).as_posix()
        if rel.startswith("router/training/") or rel == "cli.py":  # the CLI is where training is started
            continue
        if any(m.startswith("app.router.training") for m in _imports(path)):
            offenders.append(rel)
    assert not offenders


def test_serving_router_imports_no_scikit_learn() -> None:
    for path in (APP / "router").glob("*.py"):
        assert not any(m.startswith("sklearn") for m in _imports(path)), path
