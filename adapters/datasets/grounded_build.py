"""The grounded training set: every block of examples, mixed across the three intents.

Apart from `grounded.py` (the Builder and its single-fact blocks) so that `grounded_pairs.py`,
which builds on the Builder, and the builder of the whole set do not import each other.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from adapters.datasets.grounded import OTHER_DOMAIN_SHARE, Builder
from adapters.datasets.grounded_pairs import add_pair_blocks
from adapters.datasets.grounded_unknown import add_unknown_blocks
from adapters.datasets.knowledge import Entry, load_entries
from adapters.examples import INTENTS, SYSTEM_PROMPTS, ChatExample


def build_grounded(seed: int = 0, entries: Sequence[Entry] | None = None) -> dict[str, list[ChatExample]]:
    """Grounded examples per intent: its own domain plus OTHER_DOMAIN_SHARE of the other two."""
    builder = Builder(entries if entries is not None else load_entries(), seed)
    builder.products_block()
    builder.plans_block()
    builder.entries_block()
    builder.articles_block()
    add_unknown_blocks(builder)
    add_pair_blocks(builder)
    mix = random.Random(seed + 1)
    out: dict[str, list[ChatExample]] = {intent: [] for intent in INTENTS}
    for domain, ex in builder.out:
        for intent in INTENTS:
            if intent != domain and mix.random() >= OTHER_DOMAIN_SHARE:
                continue
            system = ex.system.replace(SYSTEM_PROMPTS[domain], SYSTEM_PROMPTS[intent], 1)
            out[intent].append(
                ChatExample(intent, ex.user, ex.assistant, ex.source, f"{ex.group}", system, ex.history)
            )
    return out
