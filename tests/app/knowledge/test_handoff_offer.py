"""The hand-off offer rule: personal order/account questions with no relevant entry, nothing else."""

from __future__ import annotations

import pytest

from app.knowledge.handoff_offer import is_personal_case, offers_handoff

PERSONAL = [
    "Where is my order #4411?",
    "why was I charged twice this month",
    "my parcel says delivered but nothing came",
    "Order 55120 still hasn't shipped",
    "I can't log in to my account",
    "has my refund gone through yet?",
    "can you cancel my subscription today",
]
GENERAL = [
    "What is your returns policy?",
    "How much is the EchoMax ANC?",
    "Do you ship to Canada?",  # about the store, not one customer's case
    "I like the Voltbook Pro",  # personal, but no order or account
    "what plans do you have",
]


@pytest.mark.parametrize("message", PERSONAL)
def test_personal_order_and_account_questions(message: str) -> None:
    assert is_personal_case(message)
    assert offers_handoff(message, hits=0)
    # An entry may answer it, unless it names one order: no entry knows where order #4411 is.
    assert offers_handoff(message, hits=2) is any(c.isdigit() for c in message)


@pytest.mark.parametrize("message", GENERAL)
def test_questions_about_the_store_get_no_offer(message: str) -> None:
    assert not is_personal_case(message)
    assert not offers_handoff(message, hits=0)
