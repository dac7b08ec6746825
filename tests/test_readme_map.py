"""The README's map of the parts names every package of the tree, so the map cannot drift from it."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _map_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## What is inside")
    return text[start : text.index("\n## ", start + 1)]


def test_every_package_is_on_the_map() -> None:
    section = _map_section()
    packages = sorted(
        str(init.parent.relative_to(ROOT))
        for top in ("app", "inference", "adapters")
        for init in (ROOT / top).rglob("__init__.py")
        if init.parent != ROOT / top
    )
    missing = [p for p in packages if f"`{p}/`" not in section]
    assert packages and missing == []


def test_every_path_on_the_map_exists() -> None:
    section = _map_section()
    named = [part.split("`")[0] for part in section.split("`")[1::2] if "/" in part]
    roots = ("app/", "inference/", "adapters/", "migrations/", "web/")
    paths = [n for n in named if n.startswith(roots) and "<" not in n]  # <intent>: a pattern
    missing = [p for p in paths if not (ROOT / p.rstrip("/")).exists()]
    assert paths and missing == []
