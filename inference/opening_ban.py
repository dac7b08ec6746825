"""Openings a reply may not start with: the chat path's way to stop an unwarranted "I don't know".

The grounded adapters learned to answer "I don't know that ..." when the facts lack the answer, and
a 135M model over-applies it: asked "Lumo smart bulb price?" with the bulb's entry (and its $19) as
the only fact, it said it did not know. When the customer named an entry that retrieval found
(app.knowledge.reply_facts.ReplyFacts.banned_openings) the request carries the refusal openings,
and while the reply so far is a prefix of one of them that opening's next token is masked. The
mask starts at the first token, so with "I don't know" banned no reply can begin with "I": replies
to a named product start with its name, "The", "Yes" or "Here's" (docs/benchmarks/facts/).
Nothing else is constrained; the number guard still decides which numbers are allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class OpeningBan:
    """Token sequences a reply may not begin with."""

    sequences: tuple[tuple[int, ...], ...]

    def banned_next(self, generated: Sequence[int]) -> list[int]:
        """The tokens that would continue ``generated`` (the reply so far) into a banned opening."""
        n = len(generated)
        so_far = tuple(generated)
        return sorted({s[n] for s in self.sequences if len(s) > n and s[:n] == so_far})

    def apply(self, logits: torch.Tensor, generated: Sequence[int]) -> None:
        """Mask, in place, the next token of every banned opening ``generated`` is a prefix of."""
        if len(generated) >= self.longest:
            return
        banned = [t for t in self.banned_next(generated) if t < logits.shape[-1]]
        if banned:
            with torch.inference_mode():  # the runner's logits are inference tensors
                logits[banned] = float("-inf")

    @property
    def longest(self) -> int:
        return max((len(s) for s in self.sequences), default=0)


def opening_ban_for(tokenizer: Any, openings: Sequence[str]) -> OpeningBan | None:
    """The ban for ``openings`` in this tokenizer's ids (as a reply's first tokens), or None if empty."""
    sequences = tuple(
        ids for ids in (tuple(tokenizer.encode(o, add_special_tokens=False)) for o in openings) if ids
    )
    return OpeningBan(sequences) if sequences else None
