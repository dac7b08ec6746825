"""Build the per-intent chat data sets and their deterministic held-out splits."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

from adapters.datasets.bitext import build_bitext
from adapters.datasets.grounded_build import build_grounded
from adapters.datasets.templates import expand, load_topics
from adapters.examples import DATA_DIR, ChatExample, store_facts, write_jsonl
from adapters.intents import INTENTS

SHARED_DATA = Path("/work/shared/data")
MIXED = "mixed"  # <out>/mixed/train.jsonl: every intent's training examples, for a shared warm start


def is_heldout(group: str, fraction: float) -> bool:
    """Deterministic split by group: same group, same side, on every machine and Python."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"heldout fraction must be in (0, 1); got {fraction}")
    digest = hashlib.sha256(group.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


@dataclass(frozen=True)
class Split:
    """Training and held-out examples of one intent."""

    train: list[ChatExample]
    heldout: list[ChatExample]


def split(examples: list[ChatExample], fraction: float) -> Split:
    """Split by ``group`` so paraphrases of one template never straddle train and held-out."""
    held = [e for e in examples if is_heldout(e.group, fraction)]
    train = [e for e in examples if not is_heldout(e.group, fraction)]
    return Split(train=train, heldout=held)


def build_legacy_examples(data_root: Path = SHARED_DATA, seed: int = 0) -> dict[str, list[ChatExample]]:
    """The ungrounded chat examples: Bitext + project templates (general), templates (others)."""
    facts = store_facts()
    bitext, _ = build_bitext(data_root, facts, seed=seed)
    return {
        "general": bitext + expand(load_topics("general"), "general", facts, per_template=6, seed=seed + 1),
        "tech_support": expand(
            load_topics("tech_support"), "tech_support", facts, per_template=8, seed=seed + 2
        ),
        "sales": expand(load_topics("sales"), "sales", facts, per_template=8, seed=seed + 3),
    }


def build_examples(
    data_root: Path = SHARED_DATA, seed: int = 0, legacy: bool = False
) -> dict[str, list[ChatExample]]:
    """Grounded examples from the knowledge seed (the default), or the older ungrounded sets."""
    return build_legacy_examples(data_root, seed) if legacy else build_grounded(seed)


def build_all(
    out_dir: Path = DATA_DIR,
    data_root: Path = SHARED_DATA,
    fraction: float = 0.2,
    seed: int = 0,
    legacy: bool = False,
) -> dict[str, Split]:
    """Build, shuffle (seeded) and write ``<out>/<intent>/{train,heldout}.jsonl`` (+ mixed/train.jsonl)."""
    splits: dict[str, Split] = {}
    for intent, examples in build_examples(data_root, seed, legacy).items():
        s = split(examples, fraction)
        random.Random(seed).shuffle(s.train)
        write_jsonl(out_dir / intent / "train.jsonl", s.train)
        write_jsonl(out_dir / intent / "heldout.jsonl", s.heldout)
        splits[intent] = s
    assert set(splits) == set(INTENTS)
    mixed = [e for s in splits.values() for e in s.train]
    random.Random(seed + 7).shuffle(mixed)
    write_jsonl(out_dir / MIXED / "train.jsonl", mixed)
    return splits
