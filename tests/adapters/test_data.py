"""Data builders: deterministic group split, filled placeholders, chat format, noise."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from adapters.data import SHARED_DATA, is_heldout, split
from adapters.datasets.bitext import fill_placeholders, placeholder_values
from adapters.datasets.noise import vary
from adapters.datasets.templates import expand, load_topics
from adapters.encoding import IGNORE, encode
from adapters.examples import DATA_DIR, ChatExample, read_jsonl, store_facts
from adapters.intents import INTENTS


def test_split_is_by_group_and_deterministic() -> None:
    examples = [ChatExample("sales", f"q{i}", "a", "t", f"g{i % 10}") for i in range(100)]
    first, second = split(examples, 0.3), split(examples, 0.3)
    assert [e.user for e in first.heldout] == [e.user for e in second.heldout]
    held_groups = {e.group for e in first.heldout}
    assert held_groups and not held_groups & {e.group for e in first.train}
    assert is_heldout("x", 0.5) == is_heldout("x", 0.5)
    with pytest.raises(ValueError, match="fraction"):
        is_heldout("x", 1.5)


def test_committed_data_keeps_heldout_groups_out_of_training() -> None:
    for intent in INTENTS:
        train = read_jsonl(DATA_DIR / intent / "train.jsonl")
        held = read_jsonl(DATA_DIR / intent / "heldout.jsonl")
        assert len(train) > 200 and len(held) > 50
        assert not {e.group for e in train} & {e.group for e in held}
        assert all("{{" not in e.assistant and "{" not in e.user for e in train + held)


def test_templates_fill_every_slot_from_store_facts() -> None:
    facts = store_facts()
    for intent in INTENTS:
        examples = expand(load_topics(intent), intent, facts, per_template=2, seed=0)
        assert examples and all("{" not in e.assistant for e in examples)
    prices = {p["price"] for p in facts["products"]}
    sales = expand(load_topics("sales"), "sales", facts, per_template=2, seed=0)
    assert any(price in e.assistant for e in sales for price in prices)


def test_bitext_placeholders_become_store_values() -> None:
    values = placeholder_values(store_facts())
    rng = random.Random(0)
    text = "Call {{Customer Support Phone Number}} or use {{Live Chat}} in {{Order History}}."
    filled = fill_placeholders(text, values, rng)
    assert filled == 'Call 0800 555 0142 or use Live Chat in "Order History".'
    assert (
        fill_placeholders("see {{list of circumstances where customers can request refunds}}", values, rng)
        is None
    )


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="public data not on this machine")
def test_bitext_builder_reads_the_public_csv() -> None:
    from adapters.datasets.bitext import build_bitext

    general, router_only = build_bitext(SHARED_DATA, store_facts())
    assert len(general) > 2000 and {label for _, label in router_only} == {"sales", "tech_support"}


def test_noise_is_seeded_and_bounded() -> None:
    text = "Please tell me why my laptop doesn't turn on"
    assert vary(text, random.Random(3), 1.0) == vary(text, random.Random(3), 1.0)
    assert {vary(text, random.Random(s), 1.0) for s in range(20)} != {text}
    with pytest.raises(ValueError, match="level"):
        vary(text, random.Random(0), 2.0)


def test_encode_masks_everything_but_the_reply(tokenizer) -> None:
    ex = ChatExample("general", "where is my order?", "It ships today.", "t", "g")
    enc = encode(tokenizer, ex)
    labelled = [t for t in enc.labels if t != IGNORE]
    assert tokenizer.decode(labelled) == "It ships today.<|im_end|>"
    assert enc.labels[: len(enc.labels) - len(labelled)] == [IGNORE] * (len(enc.labels) - len(labelled))


def test_bad_example_fields_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="intent"):
        ChatExample("billing", "q", "a", "t", "g")
    bad = tmp_path / "x.jsonl"
    bad.write_text('{"intent": "sales"}\n')
    with pytest.raises(ValueError, match="x.jsonl:1"):
        read_jsonl(bad)
