"""A question only a person can answer gets the chat page's honest notice over the API, not a guess."""

from __future__ import annotations

import openai
from sqlalchemy.orm import Session

from app.chat.handoff import ACCOUNT_LOOKUP_TEXT, POLICY_BRIDGE
from app.chat.reply_notes import NOTICE
from app.knowledge.importer import import_path
from tests.app.openai.support import api_rows

LOOKUP = [{"role": "user", "content": "Where is my order #4411? It still has not arrived."}]


def test_an_account_lookup_is_answered_with_the_notice(client: openai.OpenAI, db: Session) -> None:
    raw = client.chat.completions.with_raw_response.create(model="auto", messages=LOOKUP, max_tokens=8)
    reply = raw.parse()
    assert reply.choices[0].message.content == ACCOUNT_LOOKUP_TEXT
    assert reply.choices[0].finish_reason == "stop" and reply.usage is not None
    assert reply.usage.completion_tokens == 0  # nothing was generated
    assert "notice=account_lookup" in raw.headers["x-switchboard-route"]
    body = raw.http_response.json()
    assert body["notice"] == "account_lookup" and body["handoff_offer"] is True
    customer, notice = api_rows(db)[-2:]
    assert customer.text == LOOKUP[0]["content"] and notice.reply_to_id == customer.id
    assert notice.text == ACCOUNT_LOOKUP_TEXT and notice.adapter is None
    assert notice.decoding["strategy"] == NOTICE and notice.status == "done"


def test_a_lookup_a_policy_answers_quotes_it_with_its_sources(client: openai.OpenAI, db: Session) -> None:
    import_path(db)  # the package's server outlives each test's tables: the knowledge base is this test's
    asked = [{"role": "user", "content": "has my refund gone through yet? you got the parcel on monday"}]
    raw = client.chat.completions.with_raw_response.create(model="auto", messages=asked, max_tokens=8)
    text = raw.parse().choices[0].message.content or ""
    assert text.startswith(ACCOUNT_LOOKUP_TEXT.split(" Choose ")[0]) and POLICY_BRIDGE in text
    assert "within 5-7 business days" in text and text.endswith("look it up for you.")
    body = raw.http_response.json()
    assert body["notice"] == "account_lookup" and body["sources"][0]["key"] == "policy.refunds"
    assert api_rows(db)[-1].text == text


def test_an_explicit_adapter_gets_the_notice_too_and_so_does_a_stream(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="sales", messages=LOOKUP, stream=True, stream_options={"include_usage": True}
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == ACCOUNT_LOOKUP_TEXT
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 0


def test_a_how_to_question_is_still_generated(client: openai.OpenAI, db: Session) -> None:
    how_to = [{"role": "user", "content": "How do I cancel my subscription?"}]
    reply = client.chat.completions.create(model="general", messages=how_to, max_tokens=3)
    assert reply.choices[0].message.content != ACCOUNT_LOOKUP_TEXT
    assert api_rows(db)[-1].adapter == "general"
