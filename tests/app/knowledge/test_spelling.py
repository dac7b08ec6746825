"""respelt: a misspelt everyday word to the store's own spelling, and nothing else."""

from __future__ import annotations

import pytest

from app.knowledge.spelling import known_words, respelt

WORDS = known_words(
    [
        "Warranty: every device has a 2-year warranty against defects.",
        "Cancel a subscription in Account > Settings > Subscriptions.",
        "We refund within 5-7 business days after we receive the item.",
        "Move the bulb closer to the hub.",
    ]
)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("garantee", "guarantee"),  # a synonym-table word (guarantee -> warranty) counts as known
        ("recieve", "receive"),
        ("subscribtion", "subscription"),
        ("warrenty", "warranty"),
    ],
)
def test_a_near_miss_of_a_known_word_is_respelt(typed: str, meant: str) -> None:
    assert respelt(typed, WORDS) == meant


@pytest.mark.parametrize(
    "typed",
    [
        "warranty",  # already known
        "movie",  # short: 0.89 from "move", and meant nothing of the kind
        "grandmother",  # far from every known word
        "x2000",  # not a word
        "handset",  # a synonym-table word, not "headset"
    ],
)
def test_known_short_far_or_non_words_are_left_alone(typed: str) -> None:
    assert respelt(typed, WORDS | {"headset"}) is None


def test_stop_words_and_numbers_are_no_targets() -> None:
    assert "the" not in WORDS and "2" not in WORDS and "warranty" in WORDS


@pytest.mark.parametrize(("typed", "meant"), [("refnd", "refund"), ("retrn", "return"), ("cancl", "cancel")])
def test_a_five_letter_typo_of_a_rule_word_is_respelt(typed: str, meant: str) -> None:
    assert respelt(typed, WORDS) == meant


@pytest.mark.parametrize("typed", ["movie", "funds", "plans", "react"])
def test_other_five_letter_words_are_not(typed: str) -> None:
    assert respelt(typed, WORDS) is None
