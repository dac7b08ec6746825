"""The OpenAI-compatible API, driven by the official `openai` client against a live uvicorn server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.api_keys import create_api_key
from app.db.models import Conversation, Message
from app.main import create_app
from tests.app.chat_support import KeywordRouter, live_server, make_adapters, make_engine, settings_for


@pytest.fixture(scope="module")
def server(pg_url: str, tokenizer: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    adapters = make_adapters(tmp_path_factory.mktemp("api-adapters"))
    app = create_app(settings_for(pg_url), engine=make_engine(tokenizer, adapters), router=KeywordRouter())
    with live_server(app) as url:
        yield f"{url}/v1"


@pytest.fixture()
def client(server: str, db: Session) -> openai.OpenAI:
    return openai.OpenAI(base_url=server, api_key=create_api_key(db, "tests"), max_retries=0)


def _api_rows(db: Session) -> list[Message]:
    db.expire_all()
    stmt = select(Message).join(Conversation).where(Conversation.channel == "api").order_by(Message.id)
    return list(db.scalars(stmt))


def test_models_lists_adapters_base_and_auto(client: openai.OpenAI) -> None:
    ids = {m.id for m in client.models.list()}
    assert ids == {"general", "tech_support", "sales", "smollm2-135m-instruct", "auto"}


def test_non_streaming_completion_is_stored(client: openai.OpenAI, db: Session) -> None:
    reply = client.chat.completions.create(
        model="tech_support",
        messages=[{"role": "user", "content": "Reset my router"}],
        max_tokens=8,
        temperature=0,
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "length" and choice.message.content
    assert reply.usage is not None and reply.usage.completion_tokens == 8
    customer, assistant = _api_rows(db)
    assert (customer.role, customer.text) == ("customer", "Reset my router")
    assert assistant.text == choice.message.content and assistant.status == "done"
    assert assistant.adapter == "tech_support" and assistant.decoding["params"]["temperature"] == 0.0
    assert assistant.decoding["params"]["max_new_tokens"] == 8 and assistant.completion_tokens == 8


def test_streaming_auto_routes_and_ends_with_done(client: openai.OpenAI, db: Session) -> None:
    stream = client.chat.completions.create(
        model="auto",
        messages=[{"role": "user", "content": "What does the Plus plan cost?"}],
        max_tokens=12,
        temperature=0,
        stream=True,
    )
    chunks = list(stream)  # the client stops at `data: [DONE]`
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant" and chunks[-1].choices[0].finish_reason == "length"
    assistant = _api_rows(db)[-1]
    assert assistant.text == text and assistant.intent == "sales" and assistant.adapter == "sales"


def test_seed_makes_sampling_repeatable_and_base_model_has_no_adapter(
    client: openai.OpenAI, db: Session
) -> None:
    def ask() -> str:
        reply = client.chat.completions.create(
            model="smollm2-135m-instruct",
            messages=[{"role": "user", "content": "hi"}],
            max_tokens=10,
            temperature=0.9,
            top_p=0.95,
            seed=7,
            stop=["zzzz"],
        )
        return reply.choices[0].message.content or ""

    assert ask() == ask()
    rows = [r for r in _api_rows(db) if r.role == "assistant"]
    assert all(r.adapter is None and r.decoding["params"]["seed"] == 7 for r in rows)
    assert rows[0].decoding["params"]["stop"] == ["zzzz"]


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"temperature": -1}, "temperature"),
        ({"top_p": 0}, "top_p"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"n": 2}, "n"),
        ({"stop": [""]}, "stop"),
        ({"temperature": "hot"}, "temperature"),
    ],
)
def test_bad_values_are_400_in_openai_format(
    client: openai.OpenAI, kwargs: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model="general", messages=[{"role": "user", "content": "hi"}], **kwargs
        )
    body = info.value.body
    assert isinstance(body, dict) and body["param"] == param and body["type"] == "invalid_request_error"
    assert body["message"]


def test_unknown_model_bad_messages_and_bad_key(client: openai.OpenAI, server: str) -> None:
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.BadRequestError, match="last message"):
        client.chat.completions.create(model="auto", messages=[{"role": "assistant", "content": "hi"}])
    with pytest.raises(openai.BadRequestError, match="empty"):
        client.chat.completions.create(model="auto", messages=[{"role": "user", "content": "  "}])
    stranger = openai.OpenAI(base_url=server, api_key="sb-not-a-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        stranger.models.list()
    with pytest.raises(openai.AuthenticationError):
        stranger.chat.completions.create(model="auto", messages=[{"role": "user", "content": "hi"}])


def test_max_tokens_beyond_the_context_is_a_clear_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="context") as info:
        client.chat.completions.create(
            model="general", messages=[{"role": "user", "content": "hi"}], max_tokens=10**7
        )
    assert isinstance(info.value.body, dict) and info.value.body["param"] == "max_tokens"


def test_every_message_is_length_checked_not_only_the_last(client: openai.OpenAI) -> None:
    huge = "x" * 100_000  # the 2 MB body of issue 14, smaller: earlier turns were never checked
    with pytest.raises(openai.BadRequestError, match=r"messages\[0\].content is too long"):
        client.chat.completions.create(
            model="general",
            messages=[{"role": "user", "content": huge}, {"role": "assistant", "content": "ok"},
                      {"role": "user", "content": "hi"}],
        )  # fmt: skip
