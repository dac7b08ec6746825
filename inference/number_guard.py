"""No invented numbers: the values a reply may state, the post-check, and the decode-time constraint.

- ``allowed_values(fact_texts)``: every number, phone number and email in the retrieved facts, with
  the forms a reply may write them in (``$1,499`` also allows ``1,499``, ``$1499`` and ``1499``;
  ``5-7`` also allows ``5`` and ``7``; ``0800 555 0142`` also ``0800-555-0142``; ``two`` allows ``2``).
- ``unverified_numbers(reply, allowed)``: the spans of a finished reply that are not allowed.
- ``NumberGuard``: per-request decode-time constraint; once a sequence is inside a number or an
  email, only tokens that keep it a prefix of an allowed value (or end it on a complete one) stay
  possible. The engine builds one when ``GenerationRequest.allowed_values`` is set.

What a span is (and why list markers and counting words are not) is in ``inference.number_spans``.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import torch

from inference.number_masks import MaskCache, TokenTable
from inference.number_spans import CHAR_MAP, NUM, START, GuardState, SpanRules, feed, scan

_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_UNGROUPED = re.compile(r"([1-9]\d{3,})(\.\d+)?")
_HOUR = re.compile(r"(\d{1,2}):00")
# Digit groups split by single blanks, dots or dashes, or an area code in brackets: a phone number.
_PHONE = re.compile(r"(?<![\w$])\+?(?:\(\d{2,5}\)|\d{2,5})(?:[ .-]\d{2,5}){1,4}(?![\w])")
MIN_PHONE_DIGITS = 7
_UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()  # noqa: E501
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}  # noqa: E501
_WORDS = {w: n for n, w in enumerate(_UNITS)} | _TENS
_NUMBER_WORD = re.compile(
    r"\b(" + "|".join(_TENS) + r")[- ](" + "|".join(_UNITS[1:10]) + r")\b|\b(" + "|".join(_WORDS) + r")\b",
    re.IGNORECASE,
)


def _forms(body: str) -> set[str]:
    """Ways to write one plain number: with or without thousands commas, ``.00``, ``:00``."""
    forms = {body}
    if _GROUPED.fullmatch(body):
        forms.add(body.replace(",", ""))
    plain = _UNGROUPED.fullmatch(body)
    if plain:
        forms.add(f"{int(plain[1]):,}{plain[2] or ''}")
    forms |= {f[:-3] for f in forms if f.endswith(".00")}
    hour = _HOUR.fullmatch(body)
    if hour:
        forms.add(hour[1])
    return forms


def span_variants(span: str) -> set[str]:
    """The forms a reply may use for one number span of a fact (money keeps and drops its ``$``)."""
    money = span.startswith("$")
    body = span.removeprefix("$")
    # Ranges, fractions, phone groups and lists split into their parts (and contiguous runs of
    # them); a thousands comma or a single decimal point does not.
    seps = "-/" + ("" if _GROUPED.fullmatch(body) else ",") + ("." if body.count(".") > 1 else "")
    pieces = re.split("([" + re.escape(seps) + "])", body)
    groups = len(pieces) // 2 + 1
    out: set[str] = set()
    for i in range(groups):
        for j in range(i, groups):
            run = "".join(pieces[2 * i : 2 * j + 1])
            for form in _forms(run):
                out.add(form)
                if money and i == 0:
                    out.add("$" + form)
                    if form.replace(",", "").isdigit():
                        out |= {f"${form}.00", f"{form}.00"}
    return {v for v in out if v}


def allowed_values(texts: Iterable[str]) -> frozenset[str]:
    """Every number/phone/email in the fact texts, in every form a faithful reply may write it."""
    values: set[str] = set()
    for raw in texts:
        text = raw.translate(CHAR_MAP)
        for event in scan(text):
            values |= span_variants(event.span) if event.mode == NUM else {event.span}
        for phone in _PHONE.finditer(text):
            groups = re.findall(r"\d+", phone[0])
            if sum(map(len, groups)) >= MIN_PHONE_DIGITS:
                values |= {"-".join(groups), ".".join(groups), "".join(groups)}
        for match in _NUMBER_WORD.finditer(text):
            if match[3]:
                values.add(str(_WORDS[match[3].lower()]))
            else:
                values.add(str(_TENS[match[1].lower()] + _WORDS[match[2].lower()]))
    return frozenset(values)


@lru_cache(maxsize=256)
def rules_for(allowed: frozenset[str]) -> SpanRules:
    """The scanner's rules for an allowed set; values given raw (``$1,499``) get their forms too."""
    expanded: set[str] = set()
    for value in allowed:
        value = value.translate(CHAR_MAP).strip()
        spans = scan(value)
        expanded.add(value)
        if len(spans) == 1 and spans[0].mode == NUM and spans[0].span == value:
            expanded |= span_variants(value)
    return SpanRules.from_values(frozenset(expanded))


def unverified_numbers(reply: str, allowed: frozenset[str]) -> list[str]:
    """The numbers/emails of ``reply`` that are not in ``allowed`` (each once, in reply order)."""
    rules = rules_for(frozenset(allowed))
    seen: dict[str, None] = {}
    for event in scan(reply):
        if not rules.ok(event):
            seen.setdefault(event.span, None)
    return list(seen)


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
