"""Copy bias: a logits nudge towards continuing a span of the retrieved facts, best-ranked first.

A 135M model told "answer only from these facts" still picks the wrong one of two similar help
articles, or drifts mid-copy ("Subscripts" for "Subscriptions"). Grounded replies are mostly
copies of fact spans, so at each step the tokens that would extend the longest run of the reply's
last tokens found in a fact get a bonus, larger for a better-ranked fact. This is the idea behind
prompt-lookup decoding (match the output's suffix against the prompt), used here to steer, not to
speculate. Nothing is forbidden: the model may still write its own words, and the number guard
still decides which numbers are allowed.

Each fact is indexed on its own, so a copy never runs on from the end of one fact into the next,
and a span the reply has already written gets no second bonus, so the nudge cannot start a loop
("3. They accept the invitation. 4. They accept the invitation ...").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

MAX_NGRAM = 4  # suffixes up to this many tokens are matched; longer runs add nothing new


@dataclass(frozen=True)
class CopyBiasConfig:
    """How strongly to nudge: ``strength`` logits for the top fact, times ``rank_decay`` per rank."""

    strength: float = 2.0
    rank_decay: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= 20.0:
            raise ValueError("copy bias strength must be within [0, 20]")
        if not 0.0 < self.rank_decay <= 1.0:
            raise ValueError("copy bias rank_decay must be within (0, 1]")


@dataclass
class CopyBias:
    """The n-gram index of one request's facts: suffix -> {next token: rank weight}."""

    config: CopyBiasConfig
    index: dict[tuple[int, ...], dict[int, float]] = field(default_factory=dict)

    @classmethod
    def build(cls, sources: Sequence[Sequence[int]], config: CopyBiasConfig) -> CopyBias:
        """Index every fact's token ids (best first): each suffix of up to MAX_NGRAM tokens inside
        one fact maps to the tokens that follow it there, weighted by that fact's rank."""
        bias = cls(config)
        for rank, ids in enumerate(sources):
            weight = config.strength * config.rank_decay**rank
            for end in range(1, len(ids)):
                nxt = ids[end]
                for n in range(1, min(MAX_NGRAM, end) + 1):
                    followers = bias.index.setdefault(tuple(ids[end - n : end]), {})
                    if followers.get(nxt, 0.0) < weight:
                        followers[nxt] = weight
        return bias

    def bonuses(self, generated: Sequence[int]) -> dict[int, float]:
        """The next-token bonuses after ``generated`` (the reply so far): those of its longest
        suffix found in a fact, less any token that would repeat a MAX_NGRAM-gram already written;
        {} when no suffix occurs in any fact."""
        for n in range(min(MAX_NGRAM, len(generated)), 0, -1):
            followers = self.index.get(tuple(generated[-n:]))
            if followers:
                return self._not_repeating(followers, generated)
        return {}

    @staticmethod
    def _not_repeating(followers: dict[int, float], generated: Sequence[int]) -> dict[int, float]:
        if len(generated) < MAX_NGRAM:
            return followers
        tail = tuple(generated[-(MAX_NGRAM - 1) :])
        written = {tuple(generated[i : i + MAX_NGRAM]) for i in range(len(generated) - MAX_NGRAM + 1)}
        return {t: w for t, w in followers.items() if (*tail, t) not in written}

    def apply(self, logits: torch.Tensor, generated: Sequence[int]) -> None:
        """Add the bonuses to one row of logits in place (ids beyond the row are ignored)."""
        found = self.bonuses(generated)
        if not found:
            return
        ids = [t for t in found if 0 <= t < logits.shape[-1]]
        if ids:
            index = torch.tensor(ids, device=logits.device)
            values = torch.tensor([found[t] for t in ids], dtype=logits.dtype, device=logits.device)
            with torch.inference_mode():  # the runner's logits are inference tensors
                logits.index_add_(-1, index, values)


def copy_bias_for(tokenizer: object, texts: Sequence[str], config: CopyBiasConfig) -> CopyBias | None:
    """The bias for facts given as text (best first), tokenized as they appear mid-prompt; None when
    there is nothing to copy or the strength is 0."""
    if config.strength == 0 or not texts:
        return None
    encode = tokenizer.encode  # type: ignore[attr-defined]
    sources = [encode(" " + t.strip(), add_special_tokens=False) for t in texts if t.strip()]
    return CopyBias.build(sources, config) if sources else None
