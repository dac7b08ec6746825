"""A reply that must begin with a given text: the chat path's way to quote a contact entry exactly.

Asked "email address for support?" with the support-email entry first and a how-to-change-your-
email article beside it, the adapters copied the article; asked "what time does the phone line
open?", they copied the entry's "Closed on Sundays" and left out the hours. Contact details are
the facts a customer acts on at once, so when retrieval ranks a contact entry first
(app.knowledge.reply_facts.ReplyFacts.forced_opening) the reply opens with that entry's text, token
for token. Then either the model continues freely or (``end_after_opening``, what the chat path asks
for a contact quote) the reply ends there: left to go on, the model once repeated the entry's last
sentence until the length limit. Applied after the number guard and the copy bias, so it always has
the last word: the opening's numbers are the facts' own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class ForcedOpening:
    """The token ids a reply must start with, and the end-of-sequence id to take after them (None:
    the model continues freely)."""

    ids: tuple[int, ...]
    end_id: int | None = None

    def next_token(self, generated: Sequence[int]) -> int | None:
        """The token the reply must take next, or None once the opening (and its end) is written."""
        n = len(generated)
        if n < len(self.ids):
            return self.ids[n]
        return self.end_id if n == len(self.ids) else None

    def apply(self, logits: torch.Tensor, generated: Sequence[int]) -> None:
        """Leave only the opening's next token possible (in place), while the opening is unwritten."""
        token = self.next_token(generated)
        if token is None or token >= logits.shape[-1]:
            return
        with torch.inference_mode():  # the runner's logits are inference tensors
            logits.fill_(float("-inf"))
            logits[token] = 0.0  # finite whatever the guard or the bias did to it


def forced_opening_for(tokenizer: Any, opening: str, end_id: int | None = None) -> ForcedOpening | None:
    """The opening in this tokenizer's ids (as a reply's first tokens), or None for no opening;
    ``end_id``: the end-of-sequence token to force right after it (None: no end forced)."""
    ids = tuple(tokenizer.encode(opening, add_special_tokens=False)) if opening else ()
    return ForcedOpening(ids, end_id) if ids else None
