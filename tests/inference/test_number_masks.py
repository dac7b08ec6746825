"""The bulk-decided masks equal walking every token through the scanner (the slow, obvious answer)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from inference.number_guard import allowed_values, rules_for, token_table
from inference.number_masks import MaskCache, TokenTable
from inference.number_spans import NEVER, START, GuardState, SpanRules, feed, finish

FACTS = [
    "Voltbook Pro 15: $1,499. Refunds within 5-7 business days. 14-day trial.",
    "Support phone 0800 555 0142, 8:00-20:00; email help@voltline.example or business@voltline.example.",
]
EOS = 2


def state_after(text: str) -> GuardState:
    st = START
    for c in text:
        st, _ = feed(st, c)
    return st


def brute_force(
    table: TokenTable, rules: SpanRules, st: GuardState, budget: int, eos: list[int]
) -> torch.Tensor:
    allowed = torch.tensor([rules.text_ok(st, t, budget) for t in table.texts], dtype=torch.bool)
    end = finish(st)
    for i in eos:
        allowed[i] = end is None or rules.ok(end)
    return ~allowed


def assert_same(cache: MaskCache, st: GuardState, budget: int) -> None:
    expected = brute_force(cache.table, cache.rules, st, budget, cache.eos_ids)
    mask, stuck = cache.lookup(st, budget)
    if stuck:
        assert bool(expected.all())
    elif mask is None:
        assert not bool(expected.any())
    else:
        diff = (mask != expected).nonzero().flatten().tolist()
        assert diff == [], [cache.table.texts[i] for i in diff[:10]]


PREFIXES = [
    "",
    "It costs ",
    "It costs $",
    "It costs $1",
    "It costs $1,",
    "It costs $1,4",
    "It costs $1,499",
    "It costs $1,499.",
    "\n1",
    "\n1.",
    "\n12",
    "within 5",
    "within 5-",
    "call 0800",
    "8:0",
    "email help",
    "email help@",
    "email help@voltline.",
    "email help@voltline.example",
    "email help@voltline.example.",
    "model AX",
    "costs 3",
    "We are at 9",
]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_real_tokenizer_masks_match_brute_force(tokenizer, prefix: str) -> None:
    cache = MaskCache(token_table(tokenizer), rules_for(allowed_values(FACTS)), tokenizer.all_special_ids)
    budget = len(prefix) % 4 if len(prefix) % 3 == 0 else NEVER  # some near the length limit
    assert_same(cache, state_after(prefix), budget)


def test_digits_are_constrained_inside_a_price(tokenizer) -> None:
    table = token_table(tokenizer)
    cache = MaskCache(table, rules_for(allowed_values(FACTS)), [tokenizer.eos_token_id])
    mask, _ = cache.lookup(state_after("It costs $1,4"))
    assert mask is not None
    allowed = {table.texts[i] for i in (~mask).nonzero().flatten().tolist()}
    assert allowed == {"9", ""}  # $1,4 can only become $1,499 (special tokens add no text)
    mask, _ = cache.lookup(state_after("It costs $1,499"))
    assert mask is not None and not bool(mask[tokenizer.convert_tokens_to_ids(".")])
    assert not bool(mask[tokenizer.eos_token_id]) and bool(mask[tokenizer.convert_tokens_to_ids("0")])


# A vocabulary with the multi-digit, mixed and spaced tokens other tokenizers have (Llama 3 keeps
# up to three digits together), so the bulk classes are tested beyond SmolLM2's one-digit tokens.
SYNTHETIC = [
    "",
    "<eos>",
    "1",
    "12",
    "499",
    " 30",
    " 5",
    ",",
    ", ",
    ".",
    ".\n",
    "...",
    "5 days",
    "$",
    " $",
    " $1",
    ",4",
    ",49",
    ")",
    ") ",
    "-",
    "-7",
    "/",
    "7",
    ":",
    ":00",
    "help",
    "@",
    " @",
    "@volt",
    "volt",
    "line",
    ".example",
    "example.",
    "example",
    " and",
    "\n",
    " ",
    "0",
    "08",
    "00 ",
    "14-",
    "-day",
    "a",
    "b",
    "@help",
    "he",
    "lp@",
    "x2",
    "AX",
    ".ex",
    "amp",
    "le",
    "le.",
    "le,",
    "5.",
    "99",
    ".99",
    "$5",
    "1.",
]


VALUES = ["$1,499", "5-7", "30", "0800 555 0142", "help@voltline.example", "12", "49.99"]


@settings(max_examples=120, deadline=None)
@given(
    st.lists(st.sampled_from(VALUES), max_size=4),
    st.lists(st.sampled_from(SYNTHETIC[2:]), max_size=6),
    st.sampled_from([0, 1, 2, 3, 5, NEVER]),
)
def test_synthetic_vocab_masks_match_brute_force(values: list[str], prefix: list[str], budget: int) -> None:
    table = TokenTable(SYNTHETIC)
    cache = MaskCache(table, rules_for(allowed_values(values)), eos_ids=[1])
    assert_same(cache, state_after("".join(prefix)), budget)
