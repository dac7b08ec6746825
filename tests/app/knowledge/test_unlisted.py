"""unlisted: which property questions a product card leaves unanswered, and the lead that says so."""

from __future__ import annotations

import pytest

from app.knowledge.quotes import MessageCues, quote_for
from app.knowledge.retrieval import Hit
from app.knowledge.unlisted import UNLISTED_LEAD, asked_properties, asked_words, lacks_property, lists_none_of

AIR = Hit(
    "product.voltbook-air-13", 1, "Voltbook Air 13 laptop",
    "Voltbook Air 13 laptop: $899, in stock. 16 GB RAM, up to 18-hour battery, weighs 1.2 kg.",
    "product", 2.0, True,
)  # fmt: skip
NAMES = frozenset({"voltbook"})


def _unlisted(message: str) -> bool:
    return lists_none_of(asked_words(message, NAMES), AIR.title, AIR.text)


@pytest.mark.parametrize(
    "message",
    [
        "is the voltbook air waterproof? i spill coffee a lot haha",
        "does the voltbook air support wireless charging?",
        "what colours does the voltbook air come in?",
        "Hello, does the Voltbook Air have a fingerprint reader? I forget passwords.",
    ],
)
def test_a_property_the_card_does_not_hold_is_unlisted(message: str) -> None:
    assert _unlisted(message)


@pytest.mark.parametrize(
    "message",
    [
        "how heavy is the voltbook air",  # "1.2 kg" measures it (SPEC_UNITS)
        "does the voltbook air have a good battery?",  # "battery" is in the card
        "do u guys have the voltbook air in stock?",  # a stock question
        "is the voltbook air avialable?",  # a typo of a card word
        "can i buy the voltbook air today or is it sold out",  # no property asked
        "i have the air and want the pro, do i have to pay full price?",  # an obligation
        "tell me about the voltbook air",
    ],
)
def test_what_the_card_answers_or_no_property_question_is_not_unlisted(message: str) -> None:
    assert not _unlisted(message)


def test_the_card_quote_opens_with_the_lead_only_when_unlisted() -> None:
    words = frozenset({"voltbook", "air", "waterproof"})
    asked = asked_words("is the voltbook air waterproof?", NAMES)
    assert quote_for((AIR,), MessageCues(words, asked=asked)) == UNLISTED_LEAD + AIR.text
    heavy = asked_words("how heavy is the voltbook air?", NAMES)
    assert quote_for((AIR,), MessageCues(words, asked=heavy)) == AIR.text


def test_a_property_question_that_ranked_a_guide_first_gets_the_named_card_with_the_lead() -> None:
    guide = Hit("article.voltbook-reset", 1, "Reset a Voltbook", "1. Hold power.", "article", 2.1, True)
    words = frozenset({"voltbook", "air", "waterproof"})
    asked = asked_words("is the voltbook air waterproof? i spill a lot", NAMES)
    assert quote_for((guide, AIR), MessageCues(words, asked=asked)) == UNLISTED_LEAD + AIR.text
    heavy = asked_words("how heavy is the voltbook air?", NAMES)  # the card answers: the adapters do
    assert quote_for((guide, AIR), MessageCues(words, asked=heavy)) == ""


PRO = Hit(
    "product.voltbook-pro-15", 1, "Voltbook Pro 15 laptop",
    "Voltbook Pro 15 laptop: $1,499, in stock. 15-inch display, 32 GB RAM, 1 TB SSD.", "product", 2.0, True,
)  # fmt: skip


@pytest.mark.parametrize(
    ("message", "properties"),
    [
        ("what processor / cpu is in the voltbook pro 15? intel or amd?", ("processor",)),
        ("and the pro 15, how much does that one weigh", ("weight",)),
        ("whats the battery capacity on the nova x2, how many mah", ("battery capacity",)),
        ("does it have a headphone jack and is it waterproof?", ("water resistance", "ports")),
        ("how much is the pro 15", ()),
        ("light bulbs that change colour. how much is one?", ()),  # "colour" is not in the question
        ("how bright is the lumo bulb, like how many lumens", ("brightness",)),
        ("is my data encrypted and which country are the servers in", ("encryption", "server location")),
    ],
)
def test_the_properties_a_question_names(message: str, properties: tuple[str, ...]) -> None:
    assert asked_properties(message) == properties


def test_a_card_lacks_a_property_unless_it_holds_an_answer_word() -> None:
    assert lacks_property(("weight",), PRO.title, PRO.text)
    assert not lacks_property(("weight",), AIR.title, AIR.text)  # "weighs 1.2 kg"
    assert lacks_property(("processor",), AIR.title, AIR.text)
    assert not lacks_property((), PRO.title, PRO.text)


def test_a_named_property_the_card_lacks_leads_the_quote_whatever_the_question_shape() -> None:
    # "how much does that one weigh" is no ATTRIBUTE_QUESTION shape: asked_words finds nothing.
    message = "and the pro 15, how much does that one weigh"
    words = frozenset({"pro", "15", "weigh"})
    cues = MessageCues(words, asked=asked_words(message, NAMES), properties=asked_properties(message))
    assert cues.asked == ()
    assert quote_for((PRO,), cues) == UNLISTED_LEAD + PRO.text
    air = MessageCues(frozenset({"air", "weigh"}), properties=("weight",))
    assert quote_for((AIR,), air) == AIR.text
