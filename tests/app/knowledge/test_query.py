"""Customer text -> search terms: no query syntax survives, names are found split or misspelt."""

from __future__ import annotations

from app.knowledge.query import (
    conversation_query,
    entity_of,
    entity_vocabulary,
    key_words,
    matched_terms,
    search_terms,
    term_patterns,
    wanted_kinds,
)

NAMES = entity_vocabulary(["product.echomax-anc", "plan.shieldguard-plus", "product.voltline-usb-c-dock"])


def test_entity_names_come_from_product_and_plan_keys() -> None:
    assert NAMES == {"echomax", "shieldguard"}  # the store's own name is in everything: no entity
    assert entity_of("article.pair-echomax") is None


def test_terms_are_plain_lowercase_words_without_stop_words() -> None:
    assert search_terms("How much are the EchoMax headphones??") == ["echomax", "headphones"]
    hostile = 'price" OR 1=1; DROP TABLE knowledge_entries; -- NEAR(a b) title:* (x AND NOT y)'
    terms = search_terms(hostile)
    assert all(t.isalnum() and t.islower() or t.isdigit() for t in terms)
    assert "or" not in terms and '"' not in "".join(terms)


def test_split_and_misspelt_names_are_normalised() -> None:
    assert search_terms("echo max price", NAMES) == ["echomax", "price"]
    assert search_terms("sheildguard plus", NAMES) == ["shieldguard", "plus"]
    assert search_terms("shield guard", NAMES) == ["shieldguard"]


def test_follow_up_borrows_the_name_from_an_earlier_turn() -> None:
    query = conversation_query("and how much is it?", ["tell me about the EchoMax"], NAMES)
    assert "echomax" in search_terms(query, NAMES)
    # A message that names something itself is searched as it is.
    assert conversation_query("ShieldGuard Plus price please", ["EchoMax?"], NAMES) == (
        "ShieldGuard Plus price please"
    )


def test_matched_terms_by_stem_and_prefix() -> None:
    patterns = term_patterns(["deliveries", "pro", "refund"])
    assert matched_terms(patterns, "Free delivery; refunds in 5 days") == {"deliveries", "refund"}
    assert matched_terms(patterns, "protects 5 devices") == set()  # "pro" must be a whole word
    assert matched_terms(patterns, "Voltbook Pro 15") == {"pro"}


def test_kind_cues() -> None:
    assert wanted_kinds("how much is it") == {"product", "plan"}
    assert wanted_kinds("how do I pair my earbuds") == {"article"}
    # A fault described, not a task named, points at the help articles too.
    assert wanted_kinds("left earbud has gone silent") == {"article"}
    assert wanted_kinds("new lumo bulb wont show up") == {"article"}
    assert wanted_kinds("opening hours") == set()


def test_two_names_and_a_comparing_word_want_products_and_plans() -> None:
    names = frozenset({"echobuds", "echomax", "nova"})
    assert {"product", "plan"} <= wanted_kinds("echobuds or echomax, which one lasts longer", names)
    assert {"product", "plan"} <= wanted_kinds("echo buds vs echomax", names)  # a split name counts
    assert "product" not in wanted_kinds("echobuds or echomax pairing guide", frozenset())  # no names known
    assert "product" not in wanted_kinds("does the echomax work with the nova", names)  # no comparing word
    assert "product" not in wanted_kinds("reset or re-pair my echobuds", names)  # one name


def test_key_words_are_the_words_after_the_kind() -> None:
    assert key_words("product.voltbook-air-13") == {"voltbook", "air", "13"}
