"""No invented numbers, at decode time: ``NumberGuard`` keeps a reply's numbers to the allowed ones.

Once a sequence is inside a number or an email, only tokens that keep it a prefix of an allowed
value (or end it on a complete one) stay possible. The engine builds one when
``GenerationRequest.allowed_values`` is set. The allowed values and the post-check over a
finished reply are ``inference.number_values`` (re-exported here).

What a span is (and why list markers and counting words are not) is in ``inference.number_spans``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch

from inference.number_masks import MaskCache, TokenTable
from inference.number_spans import START, GuardState, feed
from inference.number_values import allowed_values, rules_for, span_variants, unverified_numbers

__all__ = [
    "NumberGuard", "allowed_values", "clear_mask_caches", "guard_for", "mask_cache", "mask_caches",
    "rules_for", "span_variants", "token_table", "unverified_numbers",
]  # fmt: skip

_tables: dict[int, tuple[Any, int, TokenTable]] = {}
_caches: OrderedDict[tuple[int, frozenset[str], tuple[int, ...]], MaskCache] = OrderedDict()
_lock = threading.Lock()
MAX_ALLOWED_SETS = 64  # mask caches kept (one per distinct allowed set, most recent first)


def token_table(tokenizer: Any, vocab_size: int | None = None) -> TokenTable:
    """The token table of a tokenizer, built once (~0.2 s for SmolLM2) and kept for the process."""
    with _lock:
        hit = _tables.get(id(tokenizer))
        if hit is not None and hit[0] is tokenizer and hit[1] == (vocab_size or 0):
            return hit[2]
    table = TokenTable.from_tokenizer(tokenizer, vocab_size)
    with _lock:
        _tables[id(tokenizer)] = (tokenizer, vocab_size or 0, table)  # holds the tokenizer: ids stay unique
    return table


def mask_cache(table: TokenTable, allowed: frozenset[str], eos_ids: Sequence[int]) -> MaskCache:
    """The shared mask cache for an allowed set: requests with the same facts reuse built masks."""
    key = (id(table), frozenset(allowed), tuple(eos_ids))
    with _lock:
        cache = _caches.get(key)
        if cache is not None and cache.table is table:
            _caches.move_to_end(key)
            return cache
        cache = _caches[key] = MaskCache(table, rules_for(key[1]), eos_ids)
        if len(_caches) > MAX_ALLOWED_SETS:
            _caches.popitem(last=False)
        return cache


def mask_caches() -> list[MaskCache]:
    """The mask caches alive now (the benchmark counts the masks they built)."""
    with _lock:
        return list(_caches.values())


def clear_mask_caches() -> None:
    """Forget every built mask (the benchmark measures the constraint with cold caches)."""
    with _lock:
        _caches.clear()


class NumberGuard:
    """Decode-time constraint for one request: a scanner state per live sequence, masks from a cache."""

    def __init__(self, masks: MaskCache) -> None:
        self.masks = masks
        self.states: dict[int, GuardState] = {}
        self.unconstrained_steps = 0  # steps where no token could satisfy the rules

    def state(self, seq_id: int) -> GuardState:
        """The scanner state after the sequence's generated text (the reply starts a line)."""
        return self.states.get(seq_id, START)

    def constrain(self, logits: torch.Tensor, seq_id: int, budget: int) -> None:
        """Set the scores of disallowed next tokens to -inf in place (``logits``: one row [V]).

        ``budget``: how many tokens may follow this one (0: it is the last), so that no number is
        begun that cannot be finished before the length limit.
        """
        mask, stuck = self.masks.lookup(self.state(seq_id), budget, logits.device)
        self.unconstrained_steps += stuck
        if mask is None:
            return
        width = min(mask.shape[0], logits.shape[-1])
        with torch.inference_mode():  # the runner's logits are inference tensors
            logits[..., :width].masked_fill_(mask[:width], float("-inf"))

    def advance(self, seq_id: int, token: int) -> None:
        """Move a sequence's scanner past the token it just took."""
        self.states[seq_id] = self._after(self.state(seq_id), token)

    def branch(self, moves: Sequence[tuple[int, int, int]]) -> None:
        """Beam step: ``(parent_seq_id, child_seq_id, token)`` for each new live beam; others dropped."""
        self.states = {child: self._after(self.state(parent), token) for parent, child, token in moves}

    def _after(self, st: GuardState, token: int) -> GuardState:
        texts = self.masks.table.texts
        for c in texts[token] if 0 <= token < len(texts) else "":
            st, _ = feed(st, c)
        return st


def guard_for(
    tokenizer: Any, allowed: frozenset[str], eos_ids: Sequence[int], vocab_size: int | None = None
) -> NumberGuard:
    """A fresh guard for one request (tables and masks shared with earlier requests)."""
    return NumberGuard(mask_cache(token_table(tokenizer, vocab_size), allowed, eos_ids))
