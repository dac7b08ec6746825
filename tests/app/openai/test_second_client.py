"""The API through a second, independent client: huggingface_hub's InferenceClient.

It has its own request code and response types (no `openai` package underneath), so a reply
shape only the official client tolerates would fail here.
"""

from __future__ import annotations

import pytest
from huggingface_hub import InferenceClient
from huggingface_hub.errors import HfHubHTTPError
from sqlalchemy.orm import Session

from tests.app.openai.support import api_rows


@pytest.fixture()
def hf(server: str, api_key: str) -> InferenceClient:
    return InferenceClient(base_url=server, api_key=api_key, timeout=60)


def test_chat_completion_names_the_adapter_and_is_stored(hf: InferenceClient, db: Session) -> None:
    reply = hf.chat_completion(
        [{"role": "user", "content": "What does the Plus plan cost?"}], model="auto", max_tokens=5
    )
    assert reply.model == "sales" and reply.choices[0].finish_reason == "length"
    assert reply.usage.completion_tokens == 5
    assert api_rows(db)[-1].text == reply.choices[0].message.content


def test_streaming_with_usage_and_a_thread(hf: InferenceClient, db: Session) -> None:
    chat = [{"role": "user", "content": [{"type": "text", "text": "My laptop is slow"}]}]
    chunks = list(
        hf.chat_completion(
            chat,
            model="auto",
            max_tokens=4,
            stream=True,
            stream_options={"include_usage": True},
            extra_body={"user": "hf-user"},
        )
    )
    usage = [c.usage for c in chunks if c.usage]
    assert len(usage) == 1 and usage[0].completion_tokens == 4
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    rows = api_rows(db)
    assert rows[-1].text == text and rows[-1].adapter == "tech_support"
    again = hf.chat_completion(chat + [{"role": "assistant", "content": text},
                                      {"role": "user", "content": "thanks"}], model="auto", max_tokens=2,
                               extra_body={"user": "hf-user"})  # fmt: skip
    assert again.choices[0].message.content is not None
    assert len({r.conversation_id for r in api_rows(db)}) == 1 and len(api_rows(db)) == 4


def test_unsupported_fields_reach_it_as_a_clear_400(hf: InferenceClient) -> None:
    with pytest.raises(HfHubHTTPError, match="tool calling is not supported") as info:
        hf.chat_completion(
            [{"role": "user", "content": "hi"}],
            model="general",
            tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}],
        )
    assert info.value.response is not None and info.value.response.status_code == 400
