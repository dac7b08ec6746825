"""End to end with the real model: an operator changes a price and the very next reply states it.

Real SmolLM2-135M-Instruct, the committed adapters and router, default decoding except a short,
greedy reply. It can pass only with adapters trained to answer from the facts block (issue #12,
point 4); the prompt itself is checked by test_chat_grounding.py with the tiny model.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.decoding.policy import DecodingPolicy
from app.decoding.store import save_policy
from app.knowledge import store
from app.knowledge.entries import EntryData
from app.main import create_app
from tests.app.chat_support import read_until, settings_for

# With the committed adapters (trained before the facts block existed) and the number guard off,
# the reply after the edit still said "$299"; with the default guard ("decode") the price the
# model can write is the facts' one, and the reply states "$249".
pytestmark = pytest.mark.real_model


@pytest.fixture()
def client(pg_url: str, model_dir: Path, db: Session) -> Iterator[TestClient]:
    for intent in ("general", "tech_support", "sales"):
        save_policy(db, intent, DecodingPolicy(strategy="greedy", max_new_tokens=60), None)
    app = create_app(settings_for(pg_url, model=str(model_dir), messages_per_minute=1000))
    with TestClient(app) as test_client:
        yield test_client


def _reply(ws: Any, text: str) -> str:
    ws.send_json({"type": "message", "text": text})
    stored = ws.receive_json()
    frames = read_until(ws, "done", stored["job_id"], limit=20000)
    return "".join(f.get("text", "") for f in frames if f["type"] in ("token", "done"))


def test_changed_price_is_stated_in_the_next_reply(client: TestClient, db: Session) -> None:
    question = "How much do the EchoMax ANC headphones cost?"
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "hello", "token": None})
        ws.receive_json()
        before = _reply(ws, question)
        old = store.get_entry(db, "product.echomax-anc")
        assert old is not None
        edited = EntryData(
            old.key, old.kind, old.title, old.text.replace("$299", "$249"), tuple(old.keywords)
        )
        store.update_entry(db, old.key, edited, actor="olga", note="sale")
        after = _reply(ws, question)
    print(f"before: {before!r}\nafter: {after!r}")  # shown with -s: the replies, for the record
    assert "299" in before, before
    assert "249" in after and "299" not in after, after
