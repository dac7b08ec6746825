"""Token masks for the number guard: which next tokens keep every span a prefix of an allowed value.

The exact answer for a token is ``SpanRules.text_ok(state, token_text)``; running it over the
whole vocabulary every step would cost ~50k string walks. Instead the vocabulary is split once per
tokenizer into classes that are decided in bulk with tensor ops, and only a few tokens are walked:

- outside a span, a token can only break a rule if it holds a digit, ``$`` or ``@`` (for
  SmolLM2: 32 of 49,152 tokens); all others stay allowed;
- inside a span, a token whose first character cannot continue it ends the span at once, so it is
  allowed exactly when the span so far is a complete allowed value (one bool for the whole class);
  of the tokens that *do* continue it, only those whose leading run is a prefix of some allowed
  remainder can be allowed: they are found by dictionary look-ups of those prefixes and walked.

Masks depend only on (state, last step or not), so each is built once per allowed set and reused.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch

from inference.number_spans import (
    ALNUM,
    ASCII_LOWER,
    CHAR_MAP,
    CURRENCY,
    DIGITS,
    DOMAIN_SEPS,
    EMAIL,
    MARKER_DIGITS,
    NEVER,
    NUM,
    NUM_SEPS,
    OUT,
    GuardState,
    SpanRules,
    finish,
)


def _lead(text: str, body: frozenset[str], seps: str) -> str:
    """The leading part of ``text`` a span would absorb: body chars, separators followed by one,
    and at most one trailing separator (pending: it may still be punctuation)."""
    i = 0
    while i < len(text):
        c = text[i]
        if c in body:
            i += 1
        elif c in seps:
            if i + 1 < len(text) and text[i + 1] in body:
                i += 1
            else:
                return text[: i + 1]
        else:
            break
    return text[:i]


class TokenTable:
    """Per-tokenizer text of every token id and the classes the mask builder decides in bulk."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.texts = [t.translate(CHAR_MAP) for t in texts]
        self.size = len(self.texts)
        firsts = [t[:1] for t in self.texts]
        lows = [f.translate(ASCII_LOWER) for f in firsts]

        def flags(values: list[bool]) -> torch.Tensor:
            return torch.tensor(values, dtype=torch.bool)

        self.cont_first = {  # (mode, pending?) -> tokens whose first char continues the span
            (NUM, False): flags([f in DIGITS or (f != "" and f in NUM_SEPS) for f in firsts]),
            (NUM, True): flags([f in DIGITS for f in firsts]),
            (EMAIL, False): flags([f in ALNUM or (f != "" and f in DOMAIN_SEPS) for f in lows]),
            (EMAIL, True): flags([f in ALNUM for f in lows]),
        }
        # "@" tokens depend on the local part typed before them, so they are walked every step.
        self.at_ids = [i for i, t in enumerate(self.texts) if "@" in t]
        self.trigger_ids = [
            i
            for i, t in enumerate(self.texts)
            if "@" not in t and (CURRENCY in t or any(c in DIGITS for c in t))
        ]
        self.close_ids = [i for i, f in enumerate(firsts) if f == ")"]
        self.empty_ids = [i for i, t in enumerate(self.texts) if t == ""]
        self.num_leads = _index(self.texts, lambda t: _lead(t, DIGITS, NUM_SEPS))
        self.email_leads = _index(self.texts, lambda t: _lead(t.translate(ASCII_LOWER), ALNUM, DOMAIN_SEPS))

    @classmethod
    def from_tokenizer(cls, tokenizer: Any, vocab_size: int | None = None) -> TokenTable:
        """Each id's text as it adds to a decoded reply (special tokens add nothing)."""
        n = len(tokenizer)
        pieces = tokenizer.convert_ids_to_tokens(list(range(n)))
        texts = [str(tokenizer.convert_tokens_to_string([p])) for p in pieces]
        for i, piece in enumerate(pieces):
            if isinstance(piece, str) and piece.startswith("\u2581") and not texts[i].startswith(" "):
                texts[i] = " " + texts[i]  # SentencePiece drops a word's space when decoded alone
        for i in set(getattr(tokenizer, "all_special_ids", [])):
            if 0 <= i < n:
                texts[i] = ""
        size = max(n, vocab_size or 0)
        return cls(texts + [""] * (size - n))  # padded ids (model vocab > tokenizer) add nothing


def _index(texts: list[str], lead: Any) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, t in enumerate(texts):
        key = lead(t)
        if key:
            out.setdefault(key, []).append(i)
    return out


class MaskCache:
    """Blocked-token masks for one allowed set over one token table, built lazily per state."""

    def __init__(
        self, table: TokenTable, rules: SpanRules, eos_ids: Sequence[int] = (), max_masks: int = 512
    ) -> None:
        self.table, self.rules = table, rules
        self.eos_ids = [i for i in eos_ids if 0 <= i < table.size]
        self.max_masks = max_masks
        self._masks: OrderedDict[tuple[Any, ...], tuple[torch.Tensor | None, bool]] = OrderedDict()
        self.built = 0  # masks computed (cache misses), for the benchmark
        longest = max(map(len, rules.numbers | rules.emails), default=0)
        self.horizon = longest + MARKER_DIGITS + 1

    def lookup(
        self, st: GuardState, budget: int = NEVER, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor | None, bool]:
        """A bool mask over the vocabulary (True = not allowed next) or None, and whether it is stuck.

        Stuck: every token would be blocked (a span the rules never allowed, e.g. after an
        unconstrained step); an all-blocked row cannot be sampled, so the step goes unconstrained.
        ``budget``: tokens that may follow this one (0: it is the last); beyond the longest allowed
        value every budget gives the same mask, so it is capped for the cache key.
        """
        budget = min(budget, self.horizon)
        at_blocked: tuple[int, ...] = ()
        if st.mode == OUT:
            at_blocked = tuple(i for i in self.table.at_ids if not self._ok(st, i, budget))
            st = st._replace(local="")  # the local part only matters to "@" tokens, walked above
        key = (st, budget, at_blocked, str(device))
        hit = self._masks.get(key)
        if hit is not None:
            self._masks.move_to_end(key)
            return hit
        mask = self._build(st, budget)
        if at_blocked:
            mask = torch.zeros(self.table.size, dtype=torch.bool) if mask is None else mask.clone()
            mask[list(at_blocked)] = True
        stuck = mask is not None and bool(mask.all())
        entry = (None if mask is None or stuck else mask.to(device), stuck)
        self.built += 1
        self._masks[key] = entry
        if len(self._masks) > self.max_masks:
            self._masks.popitem(last=False)
        return entry

    def _ok(self, st: GuardState, token: int, budget: int) -> bool:
        return self.rules.text_ok(st, self.table.texts[token], budget)

    def _build(self, st: GuardState, budget: int) -> torch.Tensor | None:
        table = self.table
        if st.mode == OUT and st.pending == CURRENCY and CURRENCY not in self.rules.numbers:
            # After "$" only a price may follow: tokens opening with a digit are walked; any other
            # (a letter, a blank, EOS) would leave the "$" an unverifiable price (number_spans).
            # A fact with a lone "$" allows one, and the ordinary walk below applies.
            digit_first = table.cont_first[(NUM, True)].nonzero().flatten().tolist()
            walk_ids = sorted(set(digit_first) | set(table.empty_ids))
            oks = [self._ok(st, i, budget) for i in walk_ids]
            allowed = torch.zeros(table.size, dtype=torch.bool)
            if walk_ids:
                allowed[walk_ids] = torch.tensor(oks, dtype=torch.bool)
            allowed[self.eos_ids] = False  # the reply may not end on the "$"
            return ~allowed
        if st.mode == OUT:
            bad = [i for i in table.trigger_ids if not self._ok(st, i, budget)]
            if not bad:
                return None
            mask = torch.zeros(table.size, dtype=torch.bool)
            mask[bad] = True
            return mask
        cont = table.cont_first[(st.mode, bool(st.pending))]
        # Tokens that end the span at once: allowed iff the span is complete (terminator: the
        # pending separator, else a char that is neither "." nor ")", so never a list marker).
        end = finish(st)
        end_ok = end is not None and self.rules.ok(end)
        allowed = ~cont if end_ok else torch.zeros(table.size, dtype=torch.bool)
        walk = set(self._candidates(st)) | set(table.trigger_ids) | set(table.empty_ids)
        walk |= set(table.close_ids) | set(table.at_ids)
        walk_ids = sorted(walk)
        if walk_ids:
            verdict = torch.tensor([self._ok(st, i, budget) for i in walk_ids], dtype=torch.bool)
            allowed[walk_ids] = verdict
        if self.eos_ids:
            allowed[self.eos_ids] = end_ok
        return ~allowed

    def _candidates(self, st: GuardState) -> list[int]:
        """Continuing tokens whose leading run could keep the span a prefix of an allowed value."""
        if st.mode == NUM:
            values, leads, seps = self.rules.numbers, self.table.num_leads, NUM_SEPS
        else:
            values, leads, seps = self.rules.emails, self.table.email_leads, DOMAIN_SEPS
        base = st.span + st.pending
        rests = {v[len(base) :] for v in values if v.startswith(base) and len(v) > len(base)}
        if st.mode == NUM and st.line_start and base.isdigit() and len(base) < MARKER_DIGITS:
            rests |= set(DIGITS)  # "1" may still grow into the list marker "12."
        keys = set() if st.pending else set(seps)
        for rest in rests:
            for n in range(1, len(rest) + 1):
                keys.add(rest[:n])
                keys.update(rest[:n] + s for s in seps)
        return [i for k in keys for i in leads.get(k, ())]
