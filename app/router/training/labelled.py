"""A labelled customer message and its JSONL files."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from app.router.router import LABELS

ROUTER_DATA = Path(__file__).resolve().parents[1] / "data"
EVAL_SET = ROUTER_DATA / "eval_independent.jsonl"  # the headline set (README: how it was made)
# Test-only sets: the independent set and the older 90 hand-written short / misspelt messages.
EVAL_SETS = (EVAL_SET, ROUTER_DATA / "hard_heldout.jsonl")


@dataclass(frozen=True)
class Labelled:
    """One customer message, its gold label and where it came from.

    ``previous`` is the conversation's intent before this message (follow-ups); ``lang`` its language.
    """

    text: str
    label: str
    source: str
    previous: str | None = None
    lang: str = "en"

    def __post_init__(self) -> None:
        if self.label not in LABELS:
            raise ValueError(f"label must be one of {', '.join(LABELS)}; got {self.label!r}")
        if not self.text.strip():
            raise ValueError("text must not be empty")

    def to_json(self) -> dict[str, str]:
        """Only the fields that differ from the defaults, so training files stay small."""
        return {k: v for k, v in asdict(self).items() if v is not None and not (k == "lang" and v == "en")}


def key(text: str) -> str:
    """The identity of a text for de-duplication and train/eval overlap checks."""
    return " ".join(text.lower().split())


def read_labelled(path: Path) -> list[Labelled]:
    """Read a JSONL file of {text, label, source, ...}; a bad line is a ValueError naming file and line."""
    if not path.is_file():
        raise ValueError(f"router data {path} does not exist (run `switchboard router build-data`)")
    out = []
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip():
            try:
                r = json.loads(line)
                out.append(
                    Labelled(
                        r["text"],
                        r["label"],
                        r.get("source", "unknown"),
                        r.get("previous"),
                        r.get("lang", "en"),
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{n}: {exc}") from exc
    return out


def write_labelled(path: Path, items: list[Labelled]) -> None:
    """Write one JSON object per line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(i.to_json(), ensure_ascii=False) + "\n" for i in items))


def dedupe(items: list[Labelled]) -> list[Labelled]:
    """First occurrence of each text; a text seen again with another label is dropped both times."""
    first: dict[str, Labelled] = {}
    clash: set[str] = set()
    for i in items:
        k = key(i.text)
        if k in first and first[k].label != i.label:
            clash.add(k)
        first.setdefault(k, i)
    return [i for k, i in first.items() if k not in clash]
