"""The store's knowledge entries as training material: read the seed JSONL files and cut them into facts.

adapters/ never imports app/, so the seed files (app/knowledge/seed/*.jsonl, the same files
`switchboard kb import` loads) are read here directly. Every reply the grounded builder writes is
made of fragments of these texts, so a trained reply never needs a number the facts do not hold.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from adapters.grounding import FactSnippet

SEED_DIR = Path(__file__).resolve().parents[2] / "app" / "knowledge" / "seed"
KINDS = ("product", "plan", "policy", "contact", "offer", "article")
# Trailing words of a product title that name the category, not the product ("Nova X2 phone").
_CATEGORY_WORDS = (
    "mesh router",
    "router",
    "laptop",
    "phone",
    "earbuds",
    "headphones",
    "camera",
    "power bank",
)
_SENTENCE = re.compile(r"(?<=[.;])\s+(?=[A-Z0-9])")
_STEP_NUMBER = re.compile(r"\d{1,2}\.")


@dataclass(frozen=True)
class Entry:
    """One knowledge entry as the seed file holds it."""

    key: str
    kind: str
    title: str
    text: str
    keywords: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"entry {self.key!r}: kind must be one of {', '.join(KINDS)}; got {self.kind!r}")
        if not self.key.strip() or not self.text.strip():
            raise ValueError("entry key and text must not be empty")

    def snippet(self) -> FactSnippet:
        """The entry as the grounded prompt shows it."""
        return FactSnippet(self.key, self.title, self.text)

    def body(self) -> str:
        """The text without its leading label ("Shipping: free on ..." -> "free on ...")."""
        head, sep, rest = self.text.partition(": ")
        return rest if sep and len(head) <= 40 else self.text

    def sentences(self) -> list[str]:
        """The text cut into sentences (on '. ' and '; ' before a capital or digit; "1." starts one)."""
        out: list[str] = []
        for part in (s.strip() for s in _SENTENCE.split(self.text) if s.strip()):
            if out and _STEP_NUMBER.fullmatch(out[-1]):
                out[-1] = f"{out[-1]} {part}"
            else:
                out.append(part)
        return out


@cache
def load_entries(seed_dir: Path = SEED_DIR) -> tuple[Entry, ...]:
    """Every entry of every ``*.jsonl`` file in ``seed_dir``, sorted by key (deterministic)."""
    paths = sorted(seed_dir.glob("*.jsonl"))
    if not paths:
        raise ValueError(f"no knowledge seed files (*.jsonl) in {seed_dir}")
    entries: list[Entry] = []
    for path in paths:
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
                entries.append(
                    Entry(r["key"], r["kind"], r["title"], r["text"], tuple(r.get("keywords", ())))
                )
            except (KeyError, ValueError) as exc:
                raise ValueError(f"{path}:{n}: {exc}") from exc
    return tuple(sorted(entries, key=lambda e: e.key))


@dataclass(frozen=True)
class Product:
    """A product entry cut into the parts a short reply states: name, price, stock, specs."""

    entry: Entry
    name: str
    price: str
    stock: str
    specs: str


def product_name(title: str) -> str:
    """'Nova X2 phone' -> 'Nova X2'; titles without a category word stay as they are."""
    for word in _CATEGORY_WORDS:
        if title.lower().endswith(" " + word):
            return title[: -len(word) - 1]
    return title


def parse_product(entry: Entry) -> Product:
    """Split '<Name ...>: $P[, more prices], <stock>. <specs>. 2-year warranty. ...' into its parts."""
    first, *rest = entry.sentences()
    parts = [p.strip() for p in entry.body().split(".")[0].split(", ")]
    prices = [p for p in parts if "stock" not in p]
    stock = ", ".join(p for p in parts if "stock" in p)
    if not prices or not prices[0].startswith("$") or not stock:
        raise ValueError(f"product entry {entry.key!r} does not start with '<name>: $price, <stock>.'")
    specs = [s.rstrip(".") for s in rest if "warranty" not in s.lower() and "Students" not in s]
    return Product(entry, product_name(entry.title), ", ".join(prices), stock, ". ".join(specs))
