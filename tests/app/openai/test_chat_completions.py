"""The OpenAI-compatible API, driven by the official `openai` client against a live uvicorn server."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from sqlalchemy.orm import Session

from tests.app.openai.support import api_rows


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
    customer, assistant = api_rows(db)
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
    assistant = api_rows(db)[-1]
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
    rows = [r for r in api_rows(db) if r.role == "assistant"]
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


def test_auto_names_the_adapter_that_answered_and_the_route_header(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": "What is the price?"}], max_tokens=4
    )
    reply = raw.parse()
    assert reply.model == "sales"  # not "auto": the caller learns which adapter answered
    route = raw.headers["x-switchboard-route"]
    assert route == "intent=sales; confidence=0.800; adapter=sales; reason=classified"
    assert len(raw.headers["x-switchboard-conversation-id"]) == 32
    base = client.chat.completions.create(
        model="smollm2-135m-instruct", messages=[{"role": "user", "content": "hi"}], max_tokens=2
    )
    assert base.model == "smollm2-135m-instruct"


def test_stream_include_usage_ends_with_a_usage_chunk(client: openai.OpenAI, db: Session) -> None:
    chunks = list(
        client.chat.completions.create(
            model="auto",
            messages=[{"role": "user", "content": "My laptop is slow"}],
            max_tokens=6,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    *content, last = chunks
    assert last.choices == [] and last.usage is not None and last.usage.completion_tokens == 6
    assert last.usage.total_tokens == last.usage.prompt_tokens + 6 and last.usage.prompt_tokens > 0
    assert all(c.usage is None and c.model == "tech_support" for c in content)
    assistant = api_rows(db)[-1]
    assert assistant.text == "".join(c.choices[0].delta.content or "" for c in content)
    assert assistant.completion_tokens == 6


def test_stream_without_include_usage_has_no_usage_chunk(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="general", messages=[{"role": "user", "content": "hi"}], max_tokens=3, stream=True
        )
    )
    assert all(c.choices and c.usage is None for c in chunks)


def test_content_parts_and_the_developer_role(client: openai.OpenAI, db: Session) -> None:
    reply = client.chat.completions.create(
        model="auto",
        messages=[
            {"role": "developer", "content": "Answer in one sentence."},
            {
                "role": "user",
                "content": [{"type": "text", "text": "Reset"}, {"type": "text", "text": "my router"}],
            },  # noqa: E501
        ],
        max_tokens=4,
    )
    assert reply.model == "tech_support"  # routed on the joined text parts
    system, customer, assistant = api_rows(db)
    assert (system.role, system.text) == ("system", "Answer in one sentence.")
    assert (customer.role, customer.text) == ("customer", "Reset\nmy router")
    assert assistant.text == reply.choices[0].message.content


def test_non_text_content_parts_are_a_400_naming_the_part(client: openai.OpenAI, db: Session) -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/x.png"}}
    with pytest.raises(openai.BadRequestError, match="only text parts") as info:
        client.chat.completions.create(
            model="general",
            messages=[{"role": "user", "content": [{"type": "text", "text": "what is this?"}, image]}],
        )
    assert isinstance(info.value.body, dict) and info.value.body["param"] == "messages[0].content[1].type"
    with pytest.raises(openai.BadRequestError, match="'tool' is not supported"):
        client.chat.completions.create(
            model="general", messages=[{"role": "tool", "content": "42", "tool_call_id": "x"}]
        )  # type: ignore[list-item]
    assert api_rows(db) == []  # refused as sent: nothing half-stored
