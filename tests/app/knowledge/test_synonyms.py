"""The store-domain expansion table: everyday words bring the words the entries really use."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.knowledge.entries import SEED_DIR, read_entries
from app.knowledge.importer import import_path
from app.knowledge.query import STOP_WORDS, entity_vocabulary, tokens
from app.knowledge.retrieval import retrieve
from app.knowledge.synonyms import PHRASES, SYNONYMS, concept_groups, expanded_terms, rephrased


def test_groups_keep_the_customers_terms_first_and_each_word_once() -> None:
    groups = concept_groups(["open", "hours", "deliver"])
    assert groups["open"] == ("open", "hours") and groups["hours"] == ("hours",)
    assert expanded_terms(groups) == ["open", "hours", "deliver", "delivery", "shipping"]


def test_every_expansion_is_a_word_the_seed_uses_and_no_name() -> None:
    seed = read_entries(SEED_DIR)
    words = {w for e in seed for w in tokens(" ".join([e.title, e.text, *e.keywords]))}
    names = entity_vocabulary(e.key for e in seed)
    targets = {w for alts in SYNONYMS.values() for w in alts}
    assert targets <= words, sorted(targets - words)
    assert not (targets | set(SYNONYMS)) & names
    assert not (targets | set(SYNONYMS)) & STOP_WORDS  # a stop word never reaches the table


@pytest.fixture()
def seeded(any_db: Session) -> Session:
    import_path(any_db)
    return any_db


# Phrasings written for this test (not from any eval set): the entry's own words are absent.
@pytest.mark.parametrize(
    ("question", "key"),
    [
        ("when is customer service open", "contact.hours"),
        ("what time do you open", "contact.hours"),
        ("are you closed on sundays", "contact.hours"),
        ("is delivery free if i spend 60", "policy.shipping"),
        ("do you ship abroad", "policy.shipping"),
        ("can i ring someone", "contact.phone"),
        ("live chat with a human?", "contact.live-chat"),
        ("my headset wont pair", "article.pair-echomax"),
        ("is there a guarantee on the laptop", "policy.warranty"),
    ],
)
def test_everyday_wording_finds_the_entry(seeded: Session, question: str, key: str) -> None:
    assert retrieve(seeded, question)[0].key == key


@pytest.mark.parametrize(
    ("question", "key"),
    [("number pls", "contact.phone"), ("ur number?", "contact.phone"), ("email?", "contact.email")],
)
def test_a_lone_word_takes_its_store_meaning(seeded: Session, question: str, key: str) -> None:
    assert retrieve(seeded, question)[0].key == key


def test_a_lone_sense_does_not_apply_inside_a_longer_question(seeded: Session) -> None:
    assert concept_groups(["tracking", "number"])["number"] == ("number",)
    first = retrieve(seeded, "where do i find my tracking number")[0].key
    assert first in ("policy.order-tracking", "article.track-order")


def test_how_do_i_reach_you_finds_the_contacts(seeded: Session) -> None:
    keys = [h.key for h in retrieve(seeded, "how do i reach you")]
    assert keys and keys[0].startswith("contact.")


def test_an_expansion_does_not_make_an_unrelated_question_relevant(seeded: Session) -> None:
    # "open" brings "hours", but the question's other words are nothing the store covers.
    assert retrieve(seeded, "open a jar of pickled gherkins quickly") == []


def test_everyday_phrases_are_rewritten_in_the_stores_words() -> None:
    assert rephrased("How long do I have to SEND IT BACK?") == "How long do I have to return it?"
    assert rephrased("set up 2-step login") == "set up two-factor login"
    assert rephrased("i want my money back") == "i want my refund"
    assert rephrased("sending back the parcel") == "sending back the parcel"  # not a listed phrase
    assert rephrased("the background") == "the background"  # whole words only
    assert rephrased("headphone with noise cancel") == "headphone with noise cancelling"  # no policy word


def test_every_phrase_becomes_words_the_seed_uses() -> None:
    seed = read_entries(SEED_DIR)
    words = {w for e in seed for w in tokens(" ".join([e.title, e.text, *e.keywords]))}
    new = {w for phrase in PHRASES.values() for w in tokens(phrase)} - STOP_WORDS
    assert new <= words, sorted(new - words)


def test_ten_units_or_more_of_something_is_a_volume_order() -> None:
    assert rephrased("we want to buy 30 voltbooks for our school").endswith(" volume order")
    for message in ("need 6 of the lumo bulbs", "i need 16 gb of storage", "i ordered 12 days ago"):
        assert rephrased(message) == message


def test_a_price_drop_and_ways_to_pay_are_said_in_the_stores_words() -> None:
    assert "price drops" in rephrased("bought it last week and now its cheaper on your site")
    assert "refund of the difference" in rephrased("can i get the difference back?")
    assert "payment methods" in rephrased("what ways can i pay")
