"""Customer text -> search terms: no query syntax survives, names are found split or misspelt."""

from __future__ import annotations

from app.knowledge.query import (
    category_nouns,
    conversation_query,
    designates,
    entity_of,
    entity_vocabulary,
    key_words,
    lone_model_words,
    matched_terms,
    question_focus,
    search_terms,
    term_patterns,
    the_designated,
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
    # A message saying it changes the subject takes nothing along.
    switch = "cool. different question - what ways can i pay"
    assert conversation_query(switch, ["is the echomax in stock?"], NAMES) == switch
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
    assert "article" in wanted_kinds("what do i need to do before updating the software")  # inflected
    assert "article" not in wanted_kinds("the colour changing bulbs, how much is one")  # a feature
    assert wanted_kinds("opening hours") == set()
    assert wanted_kinds("is my cracked screen covered under the warranty") == {"policy"}


def test_two_names_and_a_comparing_word_want_products_and_plans() -> None:
    names = frozenset({"echobuds", "echomax", "nova"})
    assert {"product", "plan"} <= wanted_kinds("echobuds or echomax, which one lasts longer", names)
    assert {"product", "plan"} <= wanted_kinds("echo buds vs echomax", names)  # a split name counts
    assert "product" not in wanted_kinds("echobuds or echomax pairing guide", frozenset())  # no names known
    assert "product" not in wanted_kinds("does the echomax work with the nova", names)  # no comparing word
    assert "product" not in wanted_kinds("reset or re-pair my echobuds", names)  # one name


def test_key_words_are_the_words_after_the_kind() -> None:
    assert key_words("product.voltbook-air-13") == {"voltbook", "air", "13"}


LETTER = (
    "Dear Voltline team,\n\nI am thinking about buying one of your colour smart bulbs for my daughter's "
    "bedroom, she would like to change the colours from her phone. Before I order, could you kindly "
    "tell me what a single bulb costs?\n\nThank you very much in advance,\nMargaret"
)


def test_a_long_message_is_searched_by_its_questions_and_the_sentence_before_each() -> None:
    focus = question_focus(LETTER)
    assert focus.startswith("I am thinking about buying") and focus.endswith("what a single bulb costs?")
    assert "Margaret" not in focus and "Dear" not in focus
    # Names from the rest of the letter come along.
    named = (
        "My EchoMax arrived on Tuesday. The colour is lovely, the sound warm, my brother borrowed "
        "them twice already. Price of a case?"
    )
    assert question_focus(named, NAMES).endswith("Price of a case? echomax")


def test_short_messages_and_long_ones_asking_nothing_are_searched_whole() -> None:
    short = "how much is the echomax? and the case?"
    assert question_focus(short) == short
    story = "Yesterday my grandmother told a long story about her garden, the storms, goats and trains."
    assert question_focus(story * 2) == story * 2


def test_letter_courtesies_are_no_search_terms() -> None:
    assert search_terms("Good afternoon, could you kindly provide the email address? Regards") == [
        "email",
        "address",
    ]


def test_a_model_designation_names_its_product() -> None:
    assert designates("product.voltbook-pro-15", ["hw", "pro", "15"])
    assert designates("product.nova-x2", ["the", "x2"])  # one word, with a digit
    assert not designates("product.voltbook-pro-15", ["pro"])  # part of it
    assert not designates("plan.cloudkeep-personal", ["my", "personal", "info"])  # one plain word
    assert not designates("article.pair-echomax", ["pair", "echomax"])  # not a product or plan


def test_a_category_noun_ending_one_products_title_names_it() -> None:
    nouns = category_nouns(
        [
            ("product.lumo-smart-bulb", "Lumo Smart Bulb"),
            ("product.voltbook-air-13", "Voltbook Air 13 laptop"),
            ("product.voltbook-pro-15", "Voltbook Pro 15 laptop"),
            ("plan.shieldguard-plus", "ShieldGuard Plus plan"),
        ]
    )
    assert nouns.keys == {"bulb": "product.lumo-smart-bulb"}  # two laptops: neither; plans have no category
    routers = category_nouns(
        [
            ("product.powercell-20000", "PowerCell 20000 power bank"),
            ("product.meshwave-ax3000", "MeshWave AX3000 mesh router"),
            ("product.meshwave-mini", "MeshWave Mini router"),
        ]
    )
    assert routers.keys == {"power bank": "product.powercell-20000", "mesh router": "product.meshwave-ax3000"}
    assert routers.named(["pay", "bank", "transfer"]) == set()  # every word of it
    assert routers.named(["powerbank", "power", "banks"]) == {"product.powercell-20000"}


def test_the_lone_model_word_names_its_product_with_the() -> None:
    lone = lone_model_words(
        [
            ("product.voltbook-air-13", "Voltbook Air 13 laptop"),
            ("product.voltbook-pro-15", "Voltbook Pro 15 laptop"),
            ("product.echobuds-pro", "EchoBuds Pro earbuds"),
            ("product.lumo-hub", "Lumo Hub smart-home hub"),
            ("plan.cloudkeep-family", "CloudKeep Family plan"),
        ]
    )
    # Not pro (two), 13 (digits), hub (its noun).
    assert lone == {"air": "product.voltbook-air-13", "family": "plan.cloudkeep-family"}
    assert the_designated("how heavy is the air? my back!", lone) == {"product.voltbook-air-13"}
    assert the_designated("is there air in the box", lone) == set()  # not "the air"
    # A plan's word names it before a plan noun only.
    assert the_designated("how much space on the family backup plan", lone) == {"plan.cloudkeep-family"}
    assert the_designated("the family one?", lone) == {"plan.cloudkeep-family"}
    assert the_designated("a gift for the family", lone) == set()
