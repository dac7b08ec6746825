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

    strength: float = 6.0
    rank_decay: float = 0.25

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= 20.0:
            raise ValueError("copy bias strength must be within [0, 20]")
        if not 0.0 < self.rank_decay <= 1.0:
            raise ValueError("copy bias rank_decay must be within (0, 1]")


@dataclass
class CopyBias:
    """The n-gram index of one request's facts: suffix -> {next token: rank weight}.

    One per request (one sequence: beam search does not use it), so it also keeps the
    MAX_NGRAM-grams the reply has written, updated as the reply grows, and the bonus tensors of each
    suffix it has used: a decode step costs a dict lookup, not a rebuild.
    """

    config: CopyBiasConfig
    index: dict[tuple[int, ...], dict[int, float]] = field(default_factory=dict)
    _written: set[tuple[int, ...]] = field(default_factory=set)
    _counted: int = 0  # n-gram start positions of the reply already in _written
    _tensors: dict[tuple[int, ...], tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)

    @classmethod
    def build(cls, sources: Sequence[Sequence[int]], config: CopyBiasConfig) -> CopyBias:
        """Index every fact's token ids (best first): each suffix of up to MAX_NGRAM tokens inside
        one fact maps to the tokens that follow it there, weighted by that fact's rank."""
        bias = cls(config)
        for rank, ids in enumerate(sources):
            weight = config.strength * config.rank_decay**rank
            ids = list(ids)
            for end in range(1, len(ids)):
                nxt = ids[end]
                for n in range(1, min(MAX_NGRAM, end) + 1):
                    followers = bias.index.setdefault(tuple(ids[end - n : end]), {})
                    if followers.get(nxt, 0.0) < weight:
                        followers[nxt] = weight
        return bias

    def _match(self, generated: Sequence[int]) -> tuple[tuple[int, ...], dict[int, float]] | None:
        for n in range(min(MAX_NGRAM, len(generated)), 0, -1):
            suffix = tuple(generated[-n:])
            followers = self.index.get(suffix)
            if followers:
                return suffix, followers
        return None

    def _update_written(self, generated: Sequence[int]) -> None:
        if len(generated) < self._counted:  # a different (shorter) reply: start over
            self._written.clear()
            self._counted = 0
        for i in range(self._counted, len(generated) - MAX_NGRAM + 1):
            self._written.add(tuple(generated[i : i + MAX_NGRAM]))
        self._counted = max(self._counted, len(generated) - MAX_NGRAM + 1)

    def bonuses(self, generated: Sequence[int]) -> dict[int, float]:
        """The next-token bonuses after ``generated`` (the reply so far): those of its longest
        suffix found in a fact, less any token that would repeat a MAX_NGRAM-gram already written;
        {} when no suffix occurs in any fact."""
        match = self._match(generated)
        return {} if match is None else self._not_repeating(match[1], generated)

    def _not_repeating(self, followers: dict[int, float], generated: Sequence[int]) -> dict[int, float]:
        if len(generated) < MAX_NGRAM - 1:
            return followers
        self._update_written(generated)
        tail = tuple(generated[-(MAX_NGRAM - 1) :])
        return {t: w for t, w in followers.items() if (*tail, t) not in self._written}

    def apply(self, logits: torch.Tensor, generated: Sequence[int]) -> None:
        """Add the bonuses to one row of logits in place (ids beyond the row are ignored)."""
        match = self._match(generated)
        if match is None:
            return
        found = self._not_repeating(match[1], generated)
        ids = [t for t in found if 0 <= t < logits.shape[-1]]
        if not ids:
            return
        if len(found) == len(match[1]):  # nothing filtered: the suffix's tensors can be reused
            cached = self._tensors.get(match[0])
            if cached is None or cached[0].device != logits.device or cached[1].dtype != logits.dtype:
                cached = self._make(ids, found, logits)
                self._tensors[match[0]] = cached
            index, values = cached
        else:
            index, values = self._make(ids, found, logits)
        with torch.inference_mode():  # the runner's logits are inference tensors
            logits.index_add_(-1, index, values)

    @staticmethod
    def _make(
        ids: list[int], found: dict[int, float], logits: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.tensor(ids, device=logits.device)
        values = torch.tensor([found[t] for t in ids], dtype=logits.dtype, device=logits.device)
        return index, values


def copy_bias_for(tokenizer: object, texts: Sequence[str], config: CopyBiasConfig) -> CopyBias | None:
    """The bias for facts given as text (best first), tokenized as they appear mid-prompt; None when
    there is nothing to copy or the strength is 0."""
    if config.strength == 0 or not texts:
        return None
    encode = tokenizer.encode  # type: ignore[attr-defined]
    sources = [encode(" " + t.strip(), add_special_tokens=False) for t in texts if t.strip()]
    return CopyBias.build(sources, config) if sources else None
