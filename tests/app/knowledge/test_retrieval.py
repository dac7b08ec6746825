"""Retrieval on PostgreSQL and SQLite: names first, nothing for unrelated questions, edits seen at once."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from adapters.grounding import FactSnippet
from app.knowledge import store
from app.knowledge.entries import EntryData
from app.knowledge.importer import import_path
from app.knowledge.reply_facts import facts_for_reply
from app.knowledge.retrieval import hits_to_snippets, retrieve, retrieve_for_message
from app.knowledge.unlisted import UNLISTED_LEAD


@pytest.fixture()
def seeded(any_db: Session) -> Session:
    import_path(any_db)
    return any_db


def _keys(session: Session, query: str, k: int = 4) -> list[str]:
    return [h.key for h in retrieve(session, query, k=k)]


@pytest.mark.parametrize(
    ("question", "key"),
    [
        ("How much are the EchoMax headphones?", "product.echomax-anc"),
        ("echo max price", "product.echomax-anc"),
        ("echomx in stock?", "product.echomax-anc"),
        ("how do I pair my echomax", "article.pair-echomax"),
        ("ShieldGuard Premium price", "plan.shieldguard-premium"),
        ("voltbook pro 15 ram", "product.voltbook-pro-15"),
        ("I forgot my password", "article.reset-password"),
        ("what is your phone number", "contact.phone"),
        ("how long does shipping take", "policy.shipping"),
        ("how fast do you reply to emails", "contact.email"),  # reply -> "We answer within ..."
        ("are you open in the evening", "contact.hours"),
    ],
)
def test_the_entry_that_answers_comes_first(seeded: Session, question: str, key: str) -> None:
    assert _keys(seeded, question)[0] == key


def test_a_hit_says_whether_the_question_named_it(seeded: Session) -> None:
    top = retrieve(seeded, "lumo smart bulb price?")[0]
    assert (top.key, top.named) == ("product.lumo-smart-bulb", True)
    unnamed = retrieve(seeded, "how long does shipping take")
    assert unnamed and not any(h.named for h in unnamed)
    # A category noun said with a synonym ("cam" for camera) names its product too.
    top = retrieve(seeded, "indoor security cam price?")[0]
    assert (top.key, top.named) == ("product.homecam-2k", True)
    # ... and stays when it holds one word of many ("living room" is in no entry).
    top = retrieve(seeded, "bulbs r how much each? want to do my whole living room")[0]
    assert (top.key, top.named) == ("product.lumo-smart-bulb", True)
    # "the air": a model word only one product has, said with "the", names it as "air 13" does.
    top = retrieve(seeded, "i walk to campus every day, how heavy is the air? dont want to break my back")[0]
    assert (top.key, top.named) == ("product.voltbook-air-13", True)


@pytest.mark.parametrize(
    "question",
    ["what's the weather in paris tomorrow", "can you write me a poem about love", "tell me a joke"],
)
def test_unrelated_questions_retrieve_nothing(seeded: Session, question: str) -> None:
    assert retrieve(seeded, question) == []


@pytest.mark.parametrize(
    "hostile",
    [
        'price" OR "1',
        "NEAR(echomax headphones) AND NOT price*",
        "title: echomax ^ {} [] ( ) ' ; --",
        "echomax & | ! <-> :* ''",
        "'; DROP TABLE knowledge_entries; --",
        "",
        "    ",
        "?!",
    ],
)
def test_customer_text_is_never_query_syntax(seeded: Session, hostile: str) -> None:
    hits = retrieve(seeded, hostile)  # must neither raise nor change anything
    assert all(h.key for h in hits)
    assert store.get_entry(seeded, "product.echomax-anc") is not None


def test_an_edit_or_delete_is_seen_by_the_next_retrieval(seeded: Session) -> None:
    before = retrieve(seeded, "EchoMax price")[0]
    assert "$299" in before.text
    old = store.get_entry(seeded, "product.echomax-anc")
    assert old is not None
    new_text = old.text.replace("$299", "$249")
    store.update_entry(
        seeded, old.key, EntryData(old.key, old.kind, old.title, new_text, tuple(old.keywords)), actor="olga"
    )
    after = retrieve(seeded, "EchoMax price")[0]
    assert (after.key, after.version) == (before.key, before.version + 1) and "$249" in after.text
    store.delete_entry(seeded, "product.echomax-anc", actor="olga")
    assert "product.echomax-anc" not in _keys(seeded, "EchoMax price")


def test_a_new_product_name_is_boosted_as_soon_as_it_is_added(seeded: Session) -> None:
    entry = EntryData("product.zenpad-7", "product", "ZenPad 7 tablet", "ZenPad 7 tablet: $249, in stock.")
    store.add_entry(seeded, entry, actor="olga")
    assert _keys(seeded, "how much is the zenpad")[0] == "product.zenpad-7"


def test_follow_up_and_k(seeded: Session) -> None:
    query, hits = retrieve_for_message(seeded, "and is it in stock?", ["I like the Nova Lite"])
    assert hits[0].key == "product.nova-lite" and "nova" in query.lower()
    assert len(retrieve(seeded, "shieldguard", k=2)) == 2
    with pytest.raises(ValueError):
        retrieve(seeded, "shieldguard", k=0)


def test_hits_become_prompt_snippets(seeded: Session) -> None:
    hits = retrieve(seeded, "EchoMax price", k=1)
    assert hits_to_snippets(hits) == [FactSnippet(hits[0].key, hits[0].title, hits[0].text)]


def test_distractors_far_below_the_best_hit_are_dropped(seeded: Session) -> None:
    from app.knowledge.retrieval import SCORE_GAP

    hits = retrieve(seeded, "how do i factory reset my meshwave router", k=4)
    assert hits[0].key == "article.reset-meshwave"
    assert all(h.score >= hits[0].score - SCORE_GAP for h in hits)
    assert len(hits) < 4  # the other MeshWave articles share the name, not the task
    # A comparison keeps both of the products it names.
    pair = _keys(seeded, "EchoBuds Pro vs EchoMax ANC, which is cheaper?")
    assert {"product.echobuds-pro", "product.echomax-anc"} <= set(pair)


ESSAY = (
    "Yesterday my grandmother told a long story about her childhood garden, the summer storms, the "
    "neighbours' goats and a trip by train to the seaside, and the price of ice cream back then."
)


def test_a_long_message_about_something_else_retrieves_nothing(seeded: Session) -> None:
    # With the relevance gates capped at 6 terms (tried for long polite letters) this retrieved
    # the refunds policy ("price", "back", "long"): the gates count every term.
    assert _keys(seeded, ESSAY) == []


@pytest.mark.parametrize(
    ("letter", "key"),
    [
        (
            "Good afternoon,\n\nCould you kindly provide the e-mail address to which I may send written "
            "correspondence regarding a recent purchase?\n\nYours faithfully,\nH. Okafor",
            "contact.email",
        ),
        (
            "Hello,\n\nI run a small design studio and we are looking to purchase approximately 12 "
            "laptops for the team. Could you tell me whom I should contact to obtain a quotation?\n\n"
            "Best regards,\nPriya",
            "contact.business",
        ),
    ],
)
def test_a_formal_letter_finds_what_its_question_asks(seeded: Session, letter: str, key: str) -> None:
    # Both retrieved nothing: their courtesies outnumbered the question's words at the gates.
    assert _keys(seeded, letter)[0] == key


def test_a_misspelt_word_is_searched_as_the_store_spells_it(seeded: Session) -> None:
    assert _keys(seeded, "how long is the garantee on laptops")[0] == "policy.warranty"
    assert _keys(seeded, "when do i recieve my refund")[:1] in (["policy.refunds"], ["policy.returns"])


def test_a_policy_asked_for_a_named_product_is_retrieved_beside_it(seeded: Session) -> None:
    keys = _keys(seeded, "the screen on my nova x2 cracked when i dropped it, is that covered under warranty")
    assert "policy.warranty" in keys
    # A question about both keeps both.
    assert {"policy.returns", "product.echomax-anc"} <= set(_keys(seeded, "echomax price and return policy"))


def test_a_model_designation_without_the_brand_names_the_product(seeded: Session) -> None:
    top = retrieve(seeded, "hw much is the pro 15")[0]
    assert (top.key, top.named) == ("product.voltbook-pro-15", True)


def test_a_category_noun_names_the_only_product_of_that_kind(seeded: Session) -> None:
    top = retrieve(seeded, "redoing the lights in my living room, how much is one bulb")[0]
    assert (top.key, top.named) == ("product.lumo-smart-bulb", True)
    compared = _keys(seeded, "earbuds vs the over ear headphones, which one lasts longer on a charge?")
    assert {"product.echobuds-pro", "product.echomax-anc"} <= set(compared)


def test_a_compared_model_stays_beside_one_its_designation_ranked_first(seeded: Session) -> None:
    # "ax3000" names the AX3000 (a name bonus); the Mini, named by its plain model word, fell out
    # under the score gap and the comparison quoted one router.
    keys = _keys(seeded, "mini router or the ax3000, how much each? (just one unit)")
    assert {"product.meshwave-ax3000", "product.meshwave-mini"} <= set(keys)


def test_a_chatty_fault_report_naming_the_product_by_its_category_finds_the_guide(seeded: Session) -> None:
    # "camera" names the HomeCam; "saying", "since", "monday" are no entry's words and no longer
    # count against the guide's share of the message.
    keys = _keys(seeded, "my camera has been saying offline since monday, anything i can do")
    assert keys[:1] == ["article.homecam-offline"]


@pytest.mark.parametrize(
    "question", ["who won the football match last night", "is it going to rain in london this weekend"]
)
def test_one_shared_word_per_entry_is_no_match(seeded: Session, question: str) -> None:
    assert _keys(seeded, question) == []


def test_policy_words_in_a_how_to_or_a_product_name_rank_no_policy(seeded: Session) -> None:
    assert _keys(seeded, "how do i start a return for my powercell")[0] == "article.start-return"
    # "noise cancelling" is no cancellation question.
    assert _keys(seeded, "noise cancelling headphones price")[0] == "product.echomax-anc"


@pytest.mark.parametrize(
    ("question", "key"),
    [
        # The EchoBuds reset guide (named, holding neither "start" nor "return") was first and quoted.
        ("how do i start a return for my echobuds", "article.start-return"),
        ("how do i claim the warranty on my echomax", "article.warranty-claim"),
        ("how do i pair my echomax", "article.pair-echomax"),  # the brand's own guide to the task
        ("how do i put the echomax in pairing mode", "article.pair-echomax"),  # not the EchoBuds guide
    ],
)
def test_a_how_to_naming_a_product_ranks_the_guide_to_its_task(
    seeded: Session, question: str, key: str
) -> None:
    assert _keys(seeded, question)[0] == key


@pytest.mark.parametrize(
    ("question", "key"),
    [
        # "send it back" is a return; "how long" alone ranked shipping (its keyword) level with it.
        ("if i buy a laptop and end up hating it how long do i have to send it back", "policy.returns"),
        ("how do i set up the 2 step login thing with codes on my phone", "article.two-factor"),
        ("do you guys sell my personal info to advertisers or whatever", "policy.privacy"),
        ("if i email you how long until someone gets back to me", "contact.email"),
        # A crushed box is a damaged delivery, whatever the "cracked" item inside is.
        ("parcel came today, the box is totally crushed and the dock inside is cracked. how long do i "
         "have to report it", "policy.damaged-delivery"),
    ],
)  # fmt: skip
def test_everyday_phrases_and_chat_filler_find_the_entry_that_answers(
    seeded: Session, question: str, key: str
) -> None:
    assert _keys(seeded, question)[:1] == [key]


def test_a_product_named_by_its_category_stays_beside_a_brand_that_outscores_it(seeded: Session) -> None:
    keys = _keys(seeded, "how many times will the power bank fill up my nova x2")
    assert keys[:1] == ["product.nova-x2"] and "product.powercell-20000" in keys


def test_a_follow_up_naming_another_model_carries_the_question_but_not_the_old_model(seeded: Session) -> None:
    earlier = ["how much ram does the pro 15 have"]
    query, hits = retrieve_for_message(seeded, "and what about the air", earlier)
    assert "ram" in query and "15" not in query
    assert [h.key for h in hits][:1] == ["product.voltbook-air-13"]
    # Naming no model, the follow-up still takes the earlier one along.
    query, hits = retrieve_for_message(seeded, "and how much is it?", earlier)
    assert "15" in query and [h.key for h in hits][:1] == ["product.voltbook-pro-15"]
    # "pro" alone is the EchoBuds' word too; of the Voltbooks asked about it is the Pro 15's.
    query, hits = retrieve_for_message(seeded, "and in the pro?", ["how big is the ssd in the voltbook air"])
    assert "air" not in query and [h.key for h in hits][:1] == ["product.voltbook-pro-15"]


def test_a_noun_two_products_share_names_one_with_its_model_word_and_both_when_compared(
    seeded: Session,
) -> None:
    # The chat around it ("premiere", "chokes") is no entry's: the shared noun keeps it on topic.
    question = "how much ram does the pro laptop have? i do a lot of 4k editing in premiere and mine chokes"
    hits = retrieve(seeded, question)
    assert [h.key for h in hits][:1] == ["product.voltbook-pro-15"] and hits[0].named
    compared = retrieve(seeded, "whats the price difference between ur two laptops")
    assert {h.key for h in compared if h.named} == {"product.voltbook-air-13", "product.voltbook-pro-15"}
    # "cheaper" alone compares no models: the customer's own laptop got cheaper.
    drop = "I BOUGHT THE 15 INCH LAPTOP LAST WEEK AND NOW ITS CHEAPER ON YOUR SITE. do i get anything back"
    assert "product.voltbook-air-13" not in _keys(seeded, drop)
    if seeded.get_bind().dialect.name == "sqlite":  # PostgreSQL's ts_rank keeps the price match out
        assert "within 14 days" in facts_for_reply(seeded, drop).forced_opening()


@pytest.mark.parametrize(
    ("question", "key"),
    [
        # A deal word beside a named product ranks the offer holding it level with the product.
        ("does the student discount also work on phones? want the x2", "offer.student"),
        ("where do i find the code for the free antivirus with my voltbook air?",
         "offer.voltbook-shieldguard"),
        # Of a named product's guides, the one whose title names the task.
        ("just got my echobuds pro!! how do i connect them to my iphone", "article.pair-echobuds"),
        ("got a meshwave mini for the garden, how do i hook it into my ax3000 network?",
         "article.meshwave-add-node"),
    ],
)  # fmt: skip
def test_an_offer_or_guide_asked_about_a_named_product_ranks_first(
    seeded: Session, question: str, key: str
) -> None:
    assert _keys(seeded, question)[:1] == [key]


def test_free_alone_asks_no_offer(seeded: Session) -> None:
    assert _keys(seeded, "is shipping free for the x2")[:1] == ["policy.shipping"]


def test_the_stores_own_product_is_named_by_its_category_and_its_whole_title(seeded: Session) -> None:
    # "Voltline USB-C Dock" has no brand word: its noun and its title name it.
    assert [(h.key, h.named) for h in retrieve(seeded, "how much is the dock")][:1] == [
        ("product.voltline-usb-c-dock", True)
    ]
    letter = ("Dear Voltline team, I would like to order a docking station for my Voltbook. Could you kindly "
              "confirm the current price of the Voltline USB-C Dock?")  # fmt: skip
    assert _keys(seeded, letter)[:1] == ["product.voltline-usb-c-dock"]


def test_a_contact_asked_for_beside_a_named_product_ranks_first(seeded: Session) -> None:
    assert _keys(seeded, "we want to buy 30 voltbooks for our school, who do i talk to")[:1] == [
        "contact.business"
    ]


def test_a_follow_up_asks_the_property_its_earlier_turn_asked(seeded: Session) -> None:
    # The Pro 15's card lists no weight: "and the pro 15?" after "how heavy" gets the lead.
    facts = facts_for_reply(seeded, "and the pro 15?", ["how heavy is the voltbook air"])
    assert facts.cues.properties == ("weight",)
    assert facts.forced_opening().startswith(UNLISTED_LEAD)
    assert facts_for_reply(seeded, "and the pro 15?", ["how much is the voltbook air"]).cues.properties == ()
