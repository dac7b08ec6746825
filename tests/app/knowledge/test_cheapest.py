"""cheapest_first: 'the cheaper one' and 'your cheapest phone' put the family's cheapest model first."""

from __future__ import annotations

import dataclasses

from sqlalchemy.orm import Session

from app.knowledge import store
from app.knowledge.cheapest import cheapest_first, cheapest_model, price_of
from app.knowledge.importer import import_path
from app.knowledge.not_sold import CatalogueItem
from app.knowledge.reply_facts import facts_for_reply
from app.knowledge.retrieval import Hit

X2 = CatalogueItem("product.nova-x2", "Nova X2 phone", "Nova X2 smartphone: $699, in stock.")
LITE = CatalogueItem("product.nova-lite", "Nova Lite phone", "Nova Lite smartphone: $349, in stock.")
OVERVIEW = CatalogueItem("plan.nova", "Nova plans", "Nova plans from $5.")
FAMILIES = {"nova": [X2, LITE, OVERVIEW]}


def _hit(item: CatalogueItem, score: float) -> Hit:
    return Hit(item.key, 1, item.title, item.text, item.key.partition(".")[0], score)


def _unchanged(asked: str, hits: list[Hit]) -> bool:
    """True if a message ``asked`` alone (no earlier turn) leaves the hits' order as it is."""
    return cheapest_first(asked, asked, hits, FAMILIES, lambda i: None) == hits


def test_the_price_is_the_first_dollar_figure_and_overviews_are_no_models() -> None:
    assert price_of("Voltbook Pro 15: $1,499, in stock.") == 1499.0
    assert price_of("no price here") is None
    assert cheapest_model([X2, LITE, OVERVIEW]) is LITE  # the overview's $5 is no model's price
    assert cheapest_model([X2]) is None


def test_a_follow_up_asking_for_the_cheaper_one_gets_it_first_and_named() -> None:
    hits = [_hit(X2, 2.0)]
    searched, message = "and the cheaper one? nova x2", "and the cheaper one?"
    out = cheapest_first(searched, message, hits, FAMILIES, lambda i: _hit(i, 1.0))
    assert [h.key for h in out] == ["product.nova-lite", "product.nova-x2"] and out[0].named


def test_no_reorder_without_a_cheap_word_or_when_the_message_names_a_model() -> None:
    hits = [_hit(X2, 2.0), _hit(LITE, 1.9)]
    assert _unchanged("nova x2 price", hits)
    assert _unchanged("is the x2 cheaper than it was last month", hits)


def test_the_family_is_the_one_the_words_point_at(any_db: Session) -> None:
    import_path(any_db)
    facts = facts_for_reply(any_db, "whats your cheapest phone")
    assert facts.hits[0].key == "product.nova-lite"
    assert facts.forced_opening().startswith("Nova Lite")  # the card, as if it were named
    # An operator's price edit changes the answer at once.
    lite = store.get_entry(any_db, "product.nova-lite")
    assert lite is not None
    dearer = dataclasses.replace(store.entry_data(lite), text=lite.text.replace("$349", "$749"))
    store.update_entry(any_db, "product.nova-lite", dearer, actor="olga")
    assert facts_for_reply(any_db, "whats your cheapest phone").hits[0].key == "product.nova-x2"


def test_cheaper_comparing_ways_to_pay_asks_for_no_model() -> None:
    hits = [_hit(X2, 2.0), _hit(LITE, 1.9)]
    assert _unchanged("is it cheaper to pay for nova yearly instead of monthly", hits)


def test_the_most_expensive_model_comes_first_when_asked_for() -> None:
    assert cheapest_model([X2, LITE, OVERVIEW], dearest=True) is X2
    hits = [_hit(LITE, 2.0)]
    asked = "what does the most expensive nova phone cost"
    out = cheapest_first(asked, asked, hits, FAMILIES, lambda i: _hit(i, 1.0))
    assert [h.key for h in out] == ["product.nova-x2", "product.nova-lite"] and out[0].named
    # "expensive" alone asks for no model: "is the lite expensive?"
    assert _unchanged("is the lite expensive", hits)


def test_the_dearest_plan_of_a_family_answers_its_tier_question(any_db: Session) -> None:
    import_path(any_db)
    facts = facts_for_reply(any_db, "how many devices on the most expensive shieldguard tier")
    assert facts.hits[0].key == "plan.shieldguard-premium"
    assert "10 devices" in facts.forced_opening()


def test_the_cheapest_model_with_the_features_asked_for_comes_first() -> None:
    basic = CatalogueItem("plan.guard-basic", "Guard Basic", "Basic: $29.99. No VPN or password manager.")
    plus = CatalogueItem("plan.guard-plus", "Guard Plus", "Guard Plus: $49.99, VPN and password manager.")
    premium = CatalogueItem("plan.guard-premium", "Guard Premium", "Premium: $79.99, VPN, password manager.")
    families = {"guard": [basic, plus, premium]}
    hits = [_hit(basic, 2.0), _hit(plus, 1.9), _hit(premium, 1.8)]

    def first(asked: str) -> str:
        return cheapest_first(asked, asked, hits, families, lambda i: None)[0].key

    # Basic mentions the password manager only to say it has none.
    assert first("which guard is the cheapest one that still has a password manager") == "plan.guard-plus"
    assert first("whats the cheapest guard") == "plan.guard-basic"  # no feature: the cheapest
    assert first("cheapest guard with a fax machine") == "plan.guard-basic"  # no model tells them apart


def test_the_family_a_category_noun_names_wins_over_a_word_of_another_title(any_db: Session) -> None:
    import_path(any_db)
    # "basic" is ShieldGuard Basic's word, "phone" the Novas' noun: the cheapest phone answers.
    facts = facts_for_reply(any_db, "whats the cheapest phone you sell? just need something basic for my mum")
    assert facts.hits[0].key == "product.nova-lite" and facts.forced_opening().startswith("Nova Lite")
