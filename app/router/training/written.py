"""Project-written training messages: per-topic phrases (data/written/*.txt) x product names x noise.

Each topic of the inventory (data/topics.json) has its own phrases, so the data varies the *topic*
(what is asked about), and slots ({laptop}, {sub}, ...) plus openers and keyboard noise vary the
wording. Every message carries its topic in ``source`` ("written:<topic>") so coverage is testable.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from adapters.datasets.noise import vary
from app.router.training.labelled import ROUTER_DATA, Labelled

WRITTEN = ROUTER_DATA / "written"
_FILES = {
    "general.txt": "general",
    "tech_support.txt": "tech_support",
    "sales.txt": "sales",
    "other.txt": None,
}
SLOTS: dict[str, tuple[str, ...]] = {
    "laptop": ("Voltbook Air 13", "Voltbook Pro 15", "voltbook", "laptop", "Voltbook Air", "notebook"),
    "phone": ("Nova X2", "Nova Lite", "nova", "phone", "smartphone", "nova x2"),
    "buds": ("EchoBuds Pro", "EchoBuds", "earbuds", "buds", "echobuds"),
    "headphones": ("EchoMax ANC", "EchoMax", "headphones", "headset", "echomax"),
    "router": ("MeshWave AX3000", "MeshWave Mini", "MeshWave", "router", "mesh router", "wifi router"),
    "lumo": ("Lumo Smart Bulb", "Lumo Hub", "Lumo bulb", "smart plug", "Lumo plug", "smart bulbs"),
    "cam": ("HomeCam 2K", "HomeCam", "camera", "security camera", "homecam"),
    "cloudkeep": (
        "CloudKeep",
        "CloudKeep Personal",
        "CloudKeep Family",
        "CloudKeep Business",
        "cloud backup",
    ),
    "shieldguard": (
        "ShieldGuard",
        "ShieldGuard Basic",
        "ShieldGuard Plus",
        "ShieldGuard Premium",
        "antivirus",
    ),
}
SLOTS["audio"] = SLOTS["buds"] + SLOTS["headphones"]
SLOTS["sub"] = SLOTS["cloudkeep"] + SLOTS["shieldguard"]
SLOTS["device"] = tuple(
    x for k in ("laptop", "phone", "buds", "headphones", "router", "lumo", "cam") for x in SLOTS[k]
)
OPENERS = ("", "", "", "hi, ", "hello ", "hey ", "quick question: ", "pls ", "help! ", "hi there, ", "um ")
CLOSERS = ("", "", "", "", " please", " thanks", "?", " asap", " - can you help?", " thx")
_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Topic:
    """One topic's phrases and the label they carry."""

    label: str
    topic: str
    phrases: tuple[str, ...]


def read_topics(folder: Path = WRITTEN) -> list[Topic]:
    """Parse `topic: phrase | phrase` lines; in other.txt the topic is `label:topic`."""
    topics = []
    for name, label in _FILES.items():
        for n, line in enumerate((folder / name).read_text().splitlines(), start=1):
            if not line.strip() or line.startswith("#"):
                continue
            head, _, body = line.partition(": ")
            phrases = tuple(p.strip() for p in body.split("|") if p.strip())
            lab, topic = (label, head) if label else head.split(":", 1)
            if not phrases:
                raise ValueError(f"{folder / name}:{n}: topic {head!r} has no phrases")
            topics.append(Topic(lab, topic, phrases))
    return topics


def fill(phrase: str, rng: random.Random) -> str:
    """Replace each {slot} with a product name of that kind and {n} with an order number."""

    def one(m: re.Match[str]) -> str:
        slot = m.group(1)
        if slot == "n":
            return str(rng.randrange(10000, 99999))
        if slot not in SLOTS:
            raise ValueError(f"unknown slot {{{slot}}} in {phrase!r}")
        return rng.choice(SLOTS[slot])

    return _SLOT.sub(one, phrase)


def written(seed: int = 0, per_phrase: int = 6) -> list[tuple[str, Labelled]]:
    """(group, message) pairs: every phrase as written, then noisy slot-filled variants of it.

    The group names the phrase, so all variants of one phrase land in the same split.
    """
    rng = random.Random(seed)
    out: list[tuple[str, Labelled]] = []
    for t in read_topics():
        source = f"written:{t.topic}"
        for n, phrase in enumerate(t.phrases):
            group = f"{source}#{n}"
            out.append((group, Labelled(fill(phrase, rng), t.label, source)))
            for _ in range(per_phrase):
                text = f"{rng.choice(OPENERS)}{fill(phrase, rng)}{rng.choice(CLOSERS)}"
                noisy = vary(text, rng, 0.7)
                # Noise can strip a punctuation-only message ("...") to nothing: keep it as written.
                out.append((group, Labelled(noisy if noisy.strip() else text, t.label, source)))
    return out
