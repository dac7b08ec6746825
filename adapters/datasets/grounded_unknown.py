"""Grounded examples the facts cannot answer: own records, unsold models, off-topic asks, small talk.

The replies say "I don't know" and how to reach a person (from contact facts that are present), or,
for a model the store lacks, state serving's not-sold note when it is among the facts.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from adapters.datasets import grounded_questions as Q
from adapters.datasets.grounded import Builder, handoff, pick_facts
from adapters.datasets.knowledge import Entry, Product
from adapters.grounding import FactSnippet

NOTE_SHARE = 0.6  # unsold-model questions shown with serving's not-sold note (app/knowledge/not_sold.py)


def note_family(name: str, products: Sequence[Product]) -> set[str]:
    """Keys of the products of the asked model's brand (the key's first word: 'voltbook', 'echomax')."""
    brand = name.split()[0].lower()
    return {p.entry.key for p in products if p.entry.key.removeprefix("product.").split("-")[0] == brand}


def not_sold_note(name: str, catalogue: Sequence[Entry]) -> FactSnippet | None:
    """The note serving puts first when a customer names a model the store lacks.

    Mirrors app/knowledge/not_sold.not_sold_note (adapters/ does not import app/; a test compares
    the two): the nearest models are the brand's entries sharing most designator words, then the
    most similar spelling.
    """
    brand, *taken = name.lower().split()
    family = [e for e in catalogue if e.key.removeprefix("product.").split("-")[0] == brand]
    if not family:
        return None

    def nearness(e: Entry) -> tuple[int, float, str]:
        designator = e.key.partition(".")[2].split("-")[1:]
        similar = difflib.SequenceMatcher(None, " ".join(taken), " ".join(designator)).ratio()
        return (-len(set(taken) & set(designator)), -similar, e.key)

    names = ", ".join(e.title for e in sorted(family, key=nearness)[:3])
    text = f"We do not sell the {name}; it is not in our catalogue. The nearest models we sell: {names}."
    return FactSnippet("note.not-sold", "Not sold", text)


def add_unknown_blocks(b: Builder) -> None:
    """Own-account, unsold-model, off-topic and small-talk examples, in this order (seeded RNG)."""
    contacts = [b.by_key[k] for k in ("contact.phone", "contact.live-chat", "contact.email")]
    tracking = [b.by_key[k] for k in ("article.track-order", "policy.order-tracking", "policy.refunds")]
    for q_index, template in enumerate(Q.OWN_ACCOUNT):
        for _ in range(3):
            user = template.format(n=b.rng.randrange(10000, 999999))
            right = [b.rng.choice(tracking)] + ([b.rng.choice(contacts)] if b.rng.random() < 0.6 else [])
            facts = pick_facts(right, b.entries, b.rng)
            reply = f"I don't know that — I can't see your orders or account from here. {handoff(facts)}"
            b.add("general", f"own:{q_index}", user, facts, reply)
    for name in Q.MISSING_PRODUCTS:
        stem = name.lower()[:4]
        family = [p for p in b.products if p.name.lower()[:4] == stem] or b.products
        note = not_sold_note(name, [p.entry for p in b.products])
        for q_index, template in enumerate(Q.MISSING_PRODUCT_QUESTIONS):
            user = template.format(name=name)
            if note is not None and b.rng.random() < NOTE_SHARE:
                # Serving puts the not-sold note first and leaves the model's relatives out.
                others = [e for e in b.entries if e.key not in note_family(name, b.products)]
                facts = pick_facts([b.rng.choice(others)], others, b.rng)[: b.rng.randint(1, 3)]
                first = note.text.split("; ")[0] + "; it is not in our catalogue."
                reply = note.text if b.rng.random() < 0.7 else first
                b.add("sales", f"missing-note:{q_index}", user, facts, reply, note=note)
                continue
            # Without the note the nearest model is what retrieval finds, so it leads the facts,
            # but its price answers another question: the reply says the model is not sold.
            # The asked-for name is not repeated: its digits ("Pro 17") are in no fact.
            near = b.rng.choice(family)
            facts = pick_facts([near.entry], b.entries, b.rng)
            reply = "I don't know of that model — we don't sell it, and it isn't in our catalogue."
            if b.rng.random() < 0.4:
                reply += " Ask me about the models we do have."
            b.add("sales", f"missing:{q_index}", user, facts, reply)
    for q_index, question in enumerate(Q.OFF_TOPIC):
        for _ in range(2):
            facts = [] if b.rng.random() < 0.5 else pick_facts([b.rng.choice(contacts)], b.entries, b.rng)
            reply = (
                "I don't know that — I can only help with Voltline's products, orders and support. "
                + handoff(facts)
            )
            b.add("general", f"off:{q_index}", question, facts, reply)
    for s_index, (user, reply) in enumerate(Q.SMALL_TALK):
        for _ in range(2):
            b.add("general", f"small:{s_index}", user, [], reply)
