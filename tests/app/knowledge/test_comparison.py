"""compared_entries: a message naming two or three products/plans with a comparing word is quoted."""

from __future__ import annotations

import pytest

from app.knowledge.comparison import compared_entries, comparison_quote, key_words, quoted
from app.knowledge.reply_facts import ReplyFacts
from app.knowledge.retrieval import Hit

AIR = Hit("product.voltbook-air-13", 1, "Voltbook Air 13", "Voltbook Air 13 laptop: $899.", "product", 9.0)
PRO = Hit("product.voltbook-pro-15", 1, "Voltbook Pro 15", "Voltbook Pro 15 laptop: $1,499.", "product", 8.0)
GUIDE = Hit("article.voltbook-reset", 1, "Reset a Voltbook", "1. Hold the power key.", "article", 8.5)
BASIC = Hit("plan.shieldguard-basic", 1, "ShieldGuard Basic", "ShieldGuard Basic: $29.99/year.", "plan", 7.0)
PLUS = Hit("plan.shieldguard-plus", 1, "ShieldGuard Plus", "ShieldGuard Plus: $49.99/year.", "plan", 6.9)
PREMIUM = Hit("plan.shieldguard-premium", 1, "ShieldGuard Premium", "Premium: $79.99/year.", "plan", 6.8)
FAMILY = Hit("plan.shieldguard", 1, "ShieldGuard plans", "ShieldGuard comes in three plans.", "plan", 6.7)
BRANDS = frozenset({"voltbook", "shieldguard"})


def test_key_words_are_the_words_after_the_kind() -> None:
    assert key_words("product.voltbook-air-13") == {"voltbook", "air", "13"}


@pytest.mark.parametrize(
    "message",
    ["which has more RAM, the Air or the Pro?", "difference between the voltbook air and pro", "air vs pro"],
)
def test_two_named_entries_with_a_comparing_word_are_compared_best_ranked_first(message: str) -> None:
    assert compared_entries(message, [AIR, GUIDE, PRO], BRANDS) == (AIR, PRO)  # the article is skipped


@pytest.mark.parametrize(
    "message",
    [
        "how much is the voltbook air?",  # one entry named
        "the air and the pro, screen sizes",  # no comparing word: "and" lists, it does not compare
        "which voltbook is cheaper?",  # a comparison, but neither model is named by its own word
    ],
)
def test_no_comparison_without_two_named_entries_and_a_comparing_word(message: str) -> None:
    assert compared_entries(message, [AIR, PRO], BRANDS) == ()


def test_one_catalogue_hit_is_no_comparison() -> None:
    assert compared_entries("air or the reset guide?", [AIR, GUIDE], BRANDS) == ()


def test_three_plans_are_compared_but_a_family_entry_named_by_the_brand_alone_is_not() -> None:
    hits = [BASIC, PREMIUM, FAMILY, PLUS]
    assert compared_entries("sheildguard basic vs plus vs premium", hits, BRANDS) == (BASIC, PREMIUM, PLUS)


def test_the_quote_is_every_compared_entry_named_once() -> None:
    nameless = Hit("plan.shieldguard-premium", 1, "ShieldGuard Premium", "$79.99/year.", "plan", 1.0)
    assert quoted(nameless) == "ShieldGuard Premium: $79.99/year."
    assert quoted(AIR) == AIR.text  # already starts with its name
    assert comparison_quote((AIR, PRO)) == "Voltbook Air 13 laptop: $899. Voltbook Pro 15 laptop: $1,499."


def test_reply_facts_quote_a_comparison_as_the_whole_reply() -> None:
    steering = ReplyFacts("air or pro?", (AIR, PRO), compared=(AIR, PRO)).steering()
    assert steering.forced_opening == comparison_quote((AIR, PRO)) and steering.end_after_opening
    assert ReplyFacts("air or pro?", (AIR, PRO)).forced_opening() == ""  # nothing compared: no quote
