"""The chat path grounds every reply: the right fact in the prompt, sources stored and sent, edits live.

The tiny random model says nothing useful, so these tests assert on what it was *given* (the
system turn of the submitted job) and on what was recorded — the real-model test below checks
what a trained adapter says.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.grounding import FACTS_HEADER, NO_FACTS_LINE
from app.auth.api_keys import create_api_key
from app.db.models import Message, MessageSource, Retrieval
from app.decoding.policy import DecodingPolicy
from app.decoding.store import save_policy
from app.generation.backend import GenerationJob
from app.generation.embedded import EmbeddedBackend
from app.knowledge import store
from app.knowledge.entries import EntryData
from app.main import create_app
from tests.app.chat_support import KeywordRouter, make_adapters, make_engine, read_until, settings_for


class CapturingBackend(EmbeddedBackend):
    """The real embedded backend, keeping each submitted job so a test can read its prompt."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.jobs: list[GenerationJob] = []

    async def submit(self, job: GenerationJob) -> None:
        self.jobs.append(job)
        await super().submit(job)


@pytest.fixture(scope="module")
def adapters(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_adapters(tmp_path_factory.mktemp("kb-adapters"))


@pytest.fixture()
def app_parts(
    pg_url: str, tokenizer: Any, adapters: dict[str, Path], db: Session
) -> Iterator[tuple[TestClient, CapturingBackend]]:
    for intent in ("general", "tech_support", "sales"):  # short replies: the prompt is what is tested
        save_policy(db, intent, DecodingPolicy(strategy="greedy", max_new_tokens=4), None)
    backend = CapturingBackend(make_engine(tokenizer, adapters))
    app = create_app(settings_for(pg_url, messages_per_minute=1000), backend=backend, router=KeywordRouter())
    with TestClient(app) as client:  # start-up seeds the empty knowledge base from the repo's files
        yield client, backend


def _ask(ws: Any, text: str) -> dict[str, Any]:
    ws.send_json({"type": "message", "text": text})
    stored = ws.receive_json()
    frames = read_until(ws, "done", stored["job_id"])
    return frames[-1]


def _system(job: GenerationJob) -> str:
    assert job.messages[0]["role"] == "system"
    return job.messages[0]["content"]


def _sources(db: Session, message_id: int) -> list[tuple[str, int, int]]:
    db.expire_all()
    rows = db.scalars(select(MessageSource).where(MessageSource.message_id == message_id))
    return sorted((r.key, r.version, r.rank) for r in rows)


def test_reply_prompt_carries_the_fact_and_done_carries_sources(app_parts: Any, db: Session) -> None:
    client, backend = app_parts
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "hello", "token": None})
        ws.receive_json()
        done = _ask(ws, "How much are the EchoMax headphones?")
    system = _system(backend.jobs[-1])
    # The per-intent system prompt stays first (shared prefix), the facts follow it.
    assert FACTS_HEADER in system and "[1] EchoMax ANC headphones: EchoMax ANC" in system
    assert "$299" in system and system.index(FACTS_HEADER) > 0
    assert done["sources"][0] == {
        "key": "product.echomax-anc",
        "title": "EchoMax ANC headphones",
        "kind": "product",
    }
    assert done["finish_reason"] in ("length", "stop") and done["handoff_offer"] is False
    assert ("product.echomax-anc", 1, 1) in _sources(db, done["message_id"])
    retrieval = db.scalars(select(Retrieval).where(Retrieval.message_id == done["message_id"])).one()
    assert retrieval.hits == len(done["sources"]) and retrieval.top_score > 1.0
    assert "EchoMax" in retrieval.query


def test_operator_price_edit_reaches_the_very_next_reply(app_parts: Any, db: Session) -> None:
    client, backend = app_parts
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "hello", "token": None})
        ws.receive_json()
        _ask(ws, "What does the Voltbook Pro 15 cost?")
        assert "$1,499" in _system(backend.jobs[-1])
        old = store.get_entry(db, "product.voltbook-pro-15")
        assert old is not None
        edited = EntryData(
            old.key, old.kind, old.title, old.text.replace("$1,499", "$1,299"), tuple(old.keywords)
        )
        store.update_entry(db, old.key, edited, actor="olga", note="price drop")
        done = _ask(ws, "and the Voltbook Pro 15 price again?")
    system = _system(backend.jobs[-1])
    assert "$1,299" in system and "$1,499" not in system
    assert ("product.voltbook-pro-15", 2, 1) in _sources(db, done["message_id"])


def test_unanswerable_question_gets_no_facts_and_counts_as_a_gap(app_parts: Any, db: Session) -> None:
    client, backend = app_parts
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "hello", "token": None})
        ws.receive_json()
        done = _ask(ws, "what's the weather in paris tomorrow")
    assert NO_FACTS_LINE in _system(backend.jobs[-1]) and done["sources"] == []
    assert done["handoff_offer"] is False  # not about the customer's own order or account
    assert _sources(db, done["message_id"]) == []
    gap = db.scalars(select(Retrieval).where(Retrieval.message_id == done["message_id"])).one()
    assert (gap.hits, gap.top_score) == (0, 0.0)


def test_follow_up_keeps_the_product_of_the_earlier_turn(app_parts: Any) -> None:
    client, backend = app_parts
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "hello", "token": None})
        ws.receive_json()
        _ask(ws, "Tell me about the Nova Lite")
        _ask(ws, "is it in stock?")
    assert "[1] Nova Lite phone:" in _system(backend.jobs[-1])


def test_openai_api_replies_are_grounded_too(app_parts: Any, db: Session) -> None:
    client, backend = app_parts
    key = create_api_key(db, "kb-tests")
    body = {"model": "auto", "messages": [{"role": "user", "content": "ShieldGuard Plus price per year?"}]}
    response = client.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    assert response.json()["sources"][0]["key"] == "plan.shieldguard-plus"
    assert "$49.99/year" in _system(backend.jobs[-1])
    # A client's own system message keeps its text, with the facts after it.
    body["messages"] = [{"role": "system", "content": "Be brief."}, *body["messages"]]
    client.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"})
    system = _system(backend.jobs[-1])
    assert system.startswith("Be brief.\n\n" + FACTS_HEADER)
    reply = db.scalars(select(Message).where(Message.role == "assistant").order_by(Message.id.desc())).first()
    assert reply is not None and _sources(db, reply.id)[0][0].startswith("plan.shieldguard")


def test_the_facts_labels_are_not_numbers_a_reply_may_state() -> None:
    from adapters.grounding import FactSnippet, grounded_system_prompt
    from app.knowledge.reply_facts import allowed_numbers

    facts = [
        FactSnippet("product.a", "EchoMax ANC", "$299, in stock"),
        FactSnippet("policy.b", "Returns", "30 days"),
    ]
    allowed = allowed_numbers(grounded_system_prompt("You are a helpful assistant.", facts))
    assert "299" in allowed and "30" in allowed
    assert "1" not in allowed and "2" not in allowed  # the [1] and [2] labels
