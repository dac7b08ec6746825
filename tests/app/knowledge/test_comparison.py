"""compared_entries: a message naming two or three products/plans with a comparing word compares them."""

from __future__ import annotations

import pytest

from app.knowledge.comparison import compared_entries
from app.knowledge.quotes import cues_of
from app.knowledge.retrieval import Hit

AIR = Hit("product.voltbook-air-13", 1, "Voltbook Air 13", "Voltbook Air 13 laptop: $899.", "product", 9.0)
PRO = Hit("product.voltbook-pro-15", 1, "Voltbook Pro 15", "Voltbook Pro 15 laptop: $1,499.", "product", 8.0)
GUIDE = Hit("article.voltbook-reset", 1, "Reset a Voltbook", "1. Hold the power key.", "article", 8.5)
BASIC = Hit("plan.shieldguard-basic", 1, "ShieldGuard Basic", "ShieldGuard Basic: $29.99/year.", "plan", 7.0)
PLUS = Hit("plan.shieldguard-plus", 1, "ShieldGuard Plus", "ShieldGuard Plus: $49.99/year.", "plan", 6.9)
PREMIUM = Hit("plan.shieldguard-premium", 1, "ShieldGuard Premium", "Premium: $79.99/year.", "plan", 6.8)
X2 = Hit("product.nova-x2", 1, "Nova X2 phone", "Nova X2 smartphone: $699, 256 GB.", "product", 5.0, True)
LITE = Hit("product.nova-lite", 1, "Nova Lite phone", "Nova Lite smartphone: $349.", "product", 4.9, True)
FAMILY = Hit("plan.shieldguard", 1, "ShieldGuard plans", "ShieldGuard comes in three plans.", "plan", 6.7)
BRANDS = frozenset({"voltbook", "shieldguard"})


def compared(message: str, hits: list[Hit]) -> tuple[Hit, ...]:
    return cues_of(message, hits, BRANDS).compared


@pytest.mark.parametrize(
    "message",
    ["which has more RAM, the Air or the Pro?", "difference between the voltbook air and pro", "air vs pro"],
)
def test_two_named_entries_with_a_comparing_word_are_compared_best_ranked_first(message: str) -> None:
    assert compared(message, [AIR, GUIDE, PRO]) == (AIR, PRO)  # the article is skipped


@pytest.mark.parametrize(
    "message",
    [
        "how much is the voltbook air?",  # one entry named
        "which voltbook is cheaper?",  # a comparison, but neither model is named by its own word
    ],
)
def test_no_comparison_without_two_named_entries_and_a_comparing_word(message: str) -> None:
    assert compared(message, [AIR, PRO]) == ()


def test_one_catalogue_hit_is_no_comparison() -> None:
    assert compared("air or the reset guide?", [AIR, GUIDE]) == ()


def test_three_plans_are_compared_but_a_family_entry_named_by_the_brand_alone_is_not() -> None:
    hits = [BASIC, PREMIUM, FAMILY, PLUS]
    assert compared("sheildguard basic vs plus vs premium", hits) == (BASIC, PREMIUM, PLUS)


def test_categories_compared_name_their_products() -> None:
    buds = Hit("product.echobuds-pro", 1, "EchoBuds Pro earbuds", "EchoBuds Pro: $179.", "product", 2.0)
    cans = Hit("product.echomax-anc", 1, "EchoMax ANC headphones", "EchoMax ANC: $299.", "product", 1.9)
    assert compared("earbuds vs the over ear headphones, which lasts longer?", [buds, cans]) == (buds, cans)
    assert compared("earbuds or the big ones?", [buds, cans]) == ()  # one named


def test_an_entry_retrieval_found_named_by_its_category_is_one_side_of_a_comparison() -> None:
    mesh = Hit("product.meshwave-ax3000", 1, "MeshWave AX3000 mesh router", "$199.", "product", 0.9, True)
    mini = Hit("product.meshwave-mini", 1, "MeshWave Mini compact router", "Mini: $89.", "product", 2.0, True)
    assert compared("mesh router vs the mini one", [mini, mesh]) == (mini, mesh)
    # Named by a word of its key ("voltbook"), it must be that word the other lacks: no comparison.
    named_pro = Hit(PRO.key, 1, PRO.title, PRO.text, "product", 8.0, True)
    assert compared("is the voltbook air better than a macbook?", [AIR, named_pro]) == ()


def test_two_models_of_one_family_named_by_their_own_words_are_both_quoted() -> None:
    # No comparing word, but the message relates them: each card answers its half.
    assert compared("The Nova Lite has 256 GB like the X2 right?", [X2, LITE]) == (X2, LITE)
    assert compared("the air and the pro, screen sizes", [AIR, PRO]) == (AIR, PRO)
    # Not for a how-to ("hook the mini into my ax3000": the guide answers), nor two brands, nor plans.
    assert compared_entries(frozenset({"lite", "x2", "reset"}), [X2, LITE], siblings=False) == ()
    assert compared("the air and the basic plan", [AIR, BASIC]) == ()
    assert compared("plus to premium", [PLUS, PREMIUM]) == ()
