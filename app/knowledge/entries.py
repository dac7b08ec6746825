"""A knowledge entry as data: the validated value object the seed files, the store and the console share."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KINDS = ("product", "plan", "policy", "contact", "offer", "article")
SEED_DIR = Path(__file__).parent / "seed"
MAX_TITLE_CHARS = 200
MAX_TEXT_CHARS = 4000
MAX_KEYWORDS = 30
MAX_KEYWORD_CHARS = 60
# Keys are stable names (``product.echomax-anc``) that stored sources point at, so they must stay
# readable in URLs and logs: lower-case words joined by dots and dashes.
KEY_PATTERN = re.compile(r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$")
MAX_KEY_CHARS = 120


@dataclass(frozen=True)
class EntryData:
    """The editable content of one knowledge entry; raises ValueError naming the bad field."""

    key: str
    kind: str
    title: str
    text: str
    keywords: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if len(self.key) > MAX_KEY_CHARS or not KEY_PATTERN.match(self.key):
            raise ValueError(f"key must be lower-case words joined by '.' or '-' (got {self.key!r})")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {self.kind!r}")
        if not self.title.strip() or len(self.title) > MAX_TITLE_CHARS:
            raise ValueError(f"title must be 1-{MAX_TITLE_CHARS} characters")
        if not self.text.strip() or len(self.text) > MAX_TEXT_CHARS:
            raise ValueError(f"text must be 1-{MAX_TEXT_CHARS} characters")
        if len(self.keywords) > MAX_KEYWORDS:
            raise ValueError(f"keywords: at most {MAX_KEYWORDS}")
        for word in self.keywords:
            if not isinstance(word, str) or not word.strip() or len(word) > MAX_KEYWORD_CHARS:
                raise ValueError(f"keywords must be non-empty strings of at most {MAX_KEYWORD_CHARS} chars")

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> EntryData:
        """Build from a JSON object (a seed line or a console form); unknown fields are an error."""
        unknown = set(raw) - {"key", "kind", "title", "text", "keywords"}
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
        keywords = raw.get("keywords") or []
        if isinstance(keywords, str):  # a form sends them comma-separated
            keywords = [w.strip() for w in keywords.split(",") if w.strip()]
        if not isinstance(keywords, list | tuple):
            raise ValueError("keywords must be a list of strings")
        return cls(
            key=str(raw.get("key", "")).strip(),
            kind=str(raw.get("kind", "")).strip(),
            title=str(raw.get("title", "")).strip(),
            text=str(raw.get("text", "")).strip(),
            keywords=tuple(keywords),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object written to a seed/export file."""
        return {
            "key": self.key,
            "kind": self.kind,
            "title": self.title,
            "text": self.text,
            "keywords": list(self.keywords),
        }

    def same_content(self, other: EntryData) -> bool:
        """True when an import of ``other`` would change nothing (import idempotence)."""
        return self == other


def read_jsonl(path: Path) -> Iterator[EntryData]:
    """The entries of one JSONL file; a bad line raises ValueError naming the file and line."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield EntryData.from_dict(json.loads(line))
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: {exc}") from exc


def read_entries(path: Path = SEED_DIR) -> list[EntryData]:
    """All entries under ``path`` (a .jsonl file or a folder of them); duplicate keys are an error."""
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    if not files:
        raise ValueError(f"no .jsonl files in {path}")
    seen: dict[str, Path] = {}
    out: list[EntryData] = []
    for file in files:
        for entry in read_jsonl(file):
            if entry.key in seen:
                raise ValueError(f"duplicate key {entry.key!r} in {file} (first in {seen[entry.key]})")
            seen[entry.key] = file
            out.append(entry)
    return out


def write_jsonl(entries: Iterable[EntryData], path: Path) -> int:
    """Write ``entries`` one JSON object a line; returns how many were written."""
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for entry in entries:
            handle.write(json.dumps(entry.to_dict(), ensure_ascii=False) + "\n")
            count += 1
    return count
