"""Fields the API cannot honour are a 400 naming them; neutral values and bookkeeping are accepted."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from sqlalchemy.orm import Session

from tests.app.openai.support import api_rows

HI = [{"role": "user", "content": "hi"}]
TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}


@pytest.mark.parametrize(
    ("kwargs", "param", "words"),
    [
        ({"tools": [TOOL]}, "tools", "tool calling"),
        ({"tool_choice": "auto"}, "tool_choice", "tool calling"),
        ({"response_format": {"type": "json_object"}}, "response_format", "JSON mode"),
        ({"logprobs": True}, "logprobs", "logprobs"),
        ({"top_logprobs": 2}, "top_logprobs", "logprobs"),
        ({"n": 3}, "n", "n=1"),
        ({"frequency_penalty": 0.5}, "frequency_penalty", "not supported"),
        ({"logit_bias": {"42": 5}}, "logit_bias", "not supported"),
        ({"extra_body": {"guided_json": {}}}, "guided_json", "Unrecognized request argument"),
    ],
)
def test_unsupported_fields_are_a_400_not_ignored(
    client: openai.OpenAI, db: Session, kwargs: dict[str, Any], param: str, words: str
) -> None:
    with pytest.raises(openai.BadRequestError, match=words) as info:
        client.chat.completions.create(model="general", messages=HI, max_tokens=2, **kwargs)
    body = info.value.body
    assert isinstance(body, dict) and body["param"] == param and body["type"] == "invalid_request_error"
    assert body["code"] in ("unsupported_parameter", "unknown_parameter")
    assert api_rows(db) == []


def test_neutral_values_and_bookkeeping_fields_are_accepted(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="general",
        messages=HI,
        max_tokens=2,
        n=1,
        logprobs=False,
        tool_choice="none",
        response_format={"type": "text"},
        frequency_penalty=0,
        metadata={"ticket": "T-1"},
        store=True,
    )
    assert reply.choices[0].finish_reason == "length"


def test_stream_options_without_stream_is_a_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="stream_options"):
        client.chat.completions.create(model="general", messages=HI, stream_options={"include_usage": True})


def test_a_reply_passed_back_with_empty_fields_is_fine_but_tool_calls_are_not(client: openai.OpenAI) -> None:
    passed_back = {"role": "assistant", "content": "Hello!", "refusal": None, "tool_calls": None}
    chat: list[Any] = [*HI, passed_back, {"role": "user", "content": "thanks"}]
    assert client.chat.completions.create(model="general", messages=chat, max_tokens=2).choices
    call = {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
    chat[1] = {"role": "assistant", "content": None, "tool_calls": [call]}
    with pytest.raises(openai.BadRequestError, match="tool_calls is not supported") as info:
        client.chat.completions.create(model="general", messages=chat, max_tokens=2)
    assert isinstance(info.value.body, dict) and info.value.body["param"] == "messages[1].tool_calls"
