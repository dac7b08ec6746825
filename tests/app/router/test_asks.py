"""An explicit request for a person is a hand-off; a request for the store's number or email is answered."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.router import IntentRouter
from app.router.asks import CONTACT, PERSON, asked_for
from app.router.router import decide

SCORES_HANDOFF = {"general": 0.30, "handoff": 0.58, "out_of_scope": 0.02, "sales": 0.05, "tech_support": 0.05}
SCORES_TECH = {"general": 0.05, "handoff": 0.04, "out_of_scope": 0.01, "sales": 0.05, "tech_support": 0.85}


# Phrasings written for this test (none is in the router's data sets).
@pytest.mark.parametrize(
    "text",
    [
        "connect me to support staff",
        "get me a human now",
        "i want to speak with a member of your team",
        "put me through to someone please",
        "can I chat with a real person",
        "human please",
        "operator",
    ],
)
def test_explicit_requests_for_a_person(text: str) -> None:
    assert asked_for(text) == PERSON


@pytest.mark.parametrize(
    "text",
    [
        "number pls",
        "ur number?",
        "what number do i call",
        "number to call pls",
        "is there a support hotline",
        "your email pls",
        "contact details please",
        "can i call you about a delivery",
        "i need to call someone, number pls",
        "what hours can i call?",
        "what are your opening hours",
        "when can i ring you",
        "is there a live chat with a human?",  # whether the channel exists, not a request for one
        "what times can i talk to an actual human on the chat",  # when, not "put me through"
        "which days can i speak to someone on the phone?",
        "do you have phone support",
        "ok can i just call someone, whats the number",
    ],
)
def test_requests_for_the_stores_contact_details(text: str) -> None:
    assert asked_for(text) == CONTACT


@pytest.mark.parametrize(
    "text",
    [
        "you can call me sam",  # small talk, not a call-back
        "my phone number changed, how do i update it",  # the customer's own details
        "tracking number doesnt work",
        "my phone wont charge",
        "my manager needs an invoice",
        "the person who delivered it was rude",
        "how much is the nova x2",
        "what time does my order arrive",
        "which days are you closed for christmas deliveries",
        "what is the number of devices on shieldguard plus",
    ],
)
def test_other_messages_ask_for_neither(text: str) -> None:
    assert asked_for(text) is None


def test_rules_override_the_classifier_but_not_a_pin_or_the_language() -> None:
    args = (True, None, None, 0.5, 0.1, 0.7)
    contact = decide(SCORES_HANDOFF, *args, asked=CONTACT)
    assert (contact.intent, contact.reason, contact.overridden_from) == (
        "general",
        "contact_details",
        "handoff",
    )
    person = decide(SCORES_TECH, *args, asked=PERSON)
    assert (person.intent, person.reason, person.overridden_from) == (
        "handoff",
        "asks_for_person",
        "tech_support",
    )
    assert decide(SCORES_HANDOFF, *args).intent == "handoff"  # without the rule: the classifier's choice
    sticky = decide(SCORES_TECH, True, "sales", None, 0.5, 0.1, 0.99, asked=PERSON)
    assert sticky.intent == "handoff"  # a person request leaves any conversation
    assert decide(SCORES_TECH, True, None, "sales", 0.5, 0.1, 0.7, asked=PERSON).intent == "sales"
    assert decide(SCORES_HANDOFF, False, None, None, 0.5, 0.1, 0.7, asked=CONTACT).reason == "non_english"


def test_the_trained_router_answers_number_pls_and_hands_off_a_person_request() -> None:
    from app.config import settings

    router = IntentRouter.load(Path(settings.router_path))  # the committed model file
    for text in ("number pls", "number to call pls", "what number do i call"):
        assert router.route(text).intent == "general", text
    for text in ("live chat with a human?", "connect me to support staff", "get me a human now"):
        assert router.route(text, previous_intent="sales").intent == "handoff", text
