"""Legacy /v1/completions with the official client: one body or SSE, stored like every reply."""

from __future__ import annotations

import openai
import pytest
from sqlalchemy.orm import Session

from tests.app.openai.support import api_rows


def test_text_completion_is_answered_and_stored(client: openai.OpenAI, db: Session) -> None:
    reply = client.completions.create(model="auto", prompt="What does the Plus plan cost?", max_tokens=5)
    assert reply.object == "text_completion" and reply.model == "sales" and reply.id.startswith("cmpl-")
    choice = reply.choices[0]
    assert choice.finish_reason == "length" and choice.text
    assert reply.usage is not None and reply.usage.completion_tokens == 5
    customer, assistant = api_rows(db)
    assert (customer.role, customer.text) == ("customer", "What does the Plus plan cost?")
    assert assistant.text == choice.text and assistant.adapter == "sales"


def test_default_max_tokens_is_openais_16(client: openai.OpenAI, db: Session) -> None:
    reply = client.completions.create(model="general", prompt="hi", temperature=0)
    assert reply.usage is not None and reply.usage.completion_tokens <= 16
    assert api_rows(db)[-1].decoding["params"]["max_new_tokens"] == 16


def test_streamed_text_completion_with_usage(client: openai.OpenAI, db: Session) -> None:
    chunks = list(
        client.completions.create(
            model="tech_support",
            prompt=["My router drops"],
            max_tokens=4,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    *content, last = chunks
    assert last.choices == [] and last.usage is not None and last.usage.completion_tokens == 4
    assert content[-1].choices[0].finish_reason == "length"
    assert api_rows(db)[-1].text == "".join(c.choices[0].text for c in content)


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [({"echo": True}, "echo"), ({"best_of": 2}, "best_of"), ({"suffix": "end"}, "suffix"),
     ({"logprobs": 2}, "logprobs"), ({"prompt": ["a", "b"]}, "prompt"), ({"prompt": " "}, "prompt")],
)  # fmt: skip
def test_what_legacy_completions_cannot_do_is_a_400(
    client: openai.OpenAI, kwargs: dict[str, object], param: str
) -> None:
    args: dict[str, object] = {"model": "general", "prompt": "hi", "max_tokens": 2, **kwargs}
    with pytest.raises(openai.BadRequestError) as info:
        client.completions.create(**args)  # type: ignore[call-overload]
    assert isinstance(info.value.body, dict) and info.value.body["param"] == param
