"""Training-only phrasings built from parts (thing x ask x opener), so short and odd messages are covered."""

from __future__ import annotations

import random

from adapters.datasets.noise import vary
from app.router.dataset import Labelled

THINGS = (
    "laptop",
    "voltbook",
    "phone",
    "nova",
    "earbuds",
    "headphones",
    "echobuds",
    "router",
    "meshwave",
    "wifi",
    "mesh node",
    "smart bulb",
    "lumo hub",
    "homecam",
    "camera",
    "cloudkeep",
    "backup",
    "shieldguard",
    "antivirus",
    "vpn",
    "security suite",
    "app",
    "tablet",
    "charger",
    "smart plug",
    "printer",
)
PROBLEMS = (
    "not working",
    "wont turn on",
    "keeps disconnecting",
    "error",
    "broken",
    "stopped working",
    "won't connect",
    "crashes",
    "frozen",
    "no sound",
    "overheating",
    "very slow",
    "won't update",
    "won't install",
    "update failed",
    "not charging",
    "keeps restarting",
    "can't pair",
    "offline",
    "setup help",
    "how to set up",
    "how to reset",
    "is dead",
    "screen flickering",
    "lost connection",
    "license key invalid",
    "sync stuck",
    "restore not working",
    "login error",
    "dropping signal",
)
SALES_ASKS = (
    "how much is the {t}",
    "price of {t}",
    "{t} price",
    "cost of the {t}",
    "is the {t} in stock",
    "do you have the {t}",
    "discount on {t}?",
    "any deals on the {t}",
    "which {t} should i buy",
    "recommend a {t}",
    "cheapest {t}",
    "best {t} for the money",
    "{t} on sale?",
    "buy {t}",
    "{t} plans and prices",
    "upgrade to a better {t}",
    "compare {t} models",
    "{t} for business, 20 units",
    "is the {t} worth it",
    "when will the {t} be available",
)
GENERAL_ASKS = (
    "where is my {t} order",
    "return my {t}",
    "refund for the {t}",
    "{t} not delivered yet",
    "invoice for my {t}",
    "cancel my {t} order",
    "change delivery address for the {t}",
    "track the {t} i ordered",
    "wrong {t} delivered",
    "exchange the {t}",
)
OPENERS = ("", "hi ", "hey, ", "help ", "my ", "pls ", "hello, my ", "urgent: ", "question: ")


def augmented(seed: int = 0, per_intent: int = 600) -> list[Labelled]:
    """Deterministic compositional messages for the three intents (training split only)."""
    rng = random.Random(seed)
    out: list[Labelled] = []
    for _ in range(per_intent):
        text = f"{rng.choice(OPENERS)}{rng.choice(THINGS)} {rng.choice(PROBLEMS)}"
        out.append(Labelled(vary(text, rng, 0.6), "tech_support", "router-augment"))
        out.append(
            Labelled(
                vary(rng.choice(SALES_ASKS).format(t=rng.choice(THINGS)), rng, 0.6), "sales", "router-augment"
            )
        )
        if rng.random() < 0.5:
            out.append(
                Labelled(
                    vary(rng.choice(GENERAL_ASKS).format(t=rng.choice(THINGS)), rng, 0.6),
                    "general",
                    "router-augment",
                )
            )
    return out
