"""Template expansion: topics of customer messages and agent replies filled from the store facts."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.datasets.noise import vary
from adapters.datasets.slots import SLOT_FUNCTIONS, SlotFn, Slots
from adapters.examples import DATA_DIR, ChatExample
from adapters.intents import check_intent

TEMPLATES_DIR = DATA_DIR / "templates"


@dataclass(frozen=True)
class Topic:
    """One thing customers ask: ways to ask it, ways to answer it, and how to fill the blanks."""

    name: str
    users: tuple[str, ...]
    replies: tuple[str, ...]
    slots: SlotFn

    def __post_init__(self) -> None:
        if not self.users or not self.replies:
            raise ValueError(f"topic {self.name!r} needs at least one user template and one reply")


def load_topics(intent: str, templates_dir: Path = TEMPLATES_DIR) -> list[Topic]:
    """The topics of ``<templates_dir>/<intent>.json``; an unknown slot filler is a ValueError naming it."""
    check_intent(intent)
    path = templates_dir / f"{intent}.json"
    topics = []
    for t in json.loads(path.read_text())["topics"]:
        if t["slots"] not in SLOT_FUNCTIONS:
            raise ValueError(f"{path}: topic {t['name']!r} has unknown slots {t['slots']!r}")
        topics.append(Topic(t["name"], tuple(t["users"]), tuple(t["replies"]), SLOT_FUNCTIONS[t["slots"]]))
    return topics


def store_slots(facts: dict[str, Any]) -> Slots:
    """Slots every template may use: contact details and policies."""
    s, p = facts["store"], facts["policies"]
    return {
        "store": s["name"],
        "phone": s["support_phone"],
        "email": s["support_email"],
        "hours": s["support_hours"],
        "chat": s["live_chat"],
        "business_email": s["business_email"],
        "free_over": p["free_shipping_over"],
        "standard": p["standard_shipping"],
        "express": p["express_shipping"],
        "return_days": str(p["return_window_days"]),
        "refund_days": p["refund_days"],
        "warranty": p["warranty"],
        "cancellation": p["cancellation"],
        "orders_menu": p["account_menu"],
        "invoice_menu": p["invoice_menu"],
        "settings_menu": p["settings_menu"],
        "payment_methods": p["payment_methods"],
    }


def expand(
    topics: list[Topic],
    intent: str,
    facts: dict[str, Any],
    per_template: int,
    seed: int,
    noise: float = 0.5,
) -> list[ChatExample]:
    """``per_template`` filled, noisy examples for every user template of every topic (deterministic)."""
    check_intent(intent)
    if per_template < 1:
        raise ValueError(f"per_template must be >= 1; got {per_template}")
    rng = random.Random(seed)
    base = store_slots(facts)
    out: list[ChatExample] = []
    for topic in topics:
        for t_index, user_t in enumerate(topic.users):
            for _ in range(per_template):
                slots = {**base, **topic.slots(facts, rng)}
                user = user_t.format(**slots)
                # The first copy stays clean so every phrasing is also seen well written.
                user = vary(user, rng, noise) if rng.random() < 0.7 else user
                reply = rng.choice(topic.replies).format(**slots)
                out.append(
                    ChatExample(
                        intent=intent,
                        user=user,
                        assistant=reply,
                        source="voltline-templates",
                        group=f"{intent}:{topic.name}:{t_index}",
                    )
                )
    return out
