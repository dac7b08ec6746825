"""Operator console: validated, versioned per-intent policies that apply to the next message,
a "try it" panel that generates with the draft, and live figures from the message rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Conversation, Feedback, Message
from app.decoding.policy import DecodingPolicy
from app.decoding.store import live_policy
from app.generation.backend import GenerationJob
from app.operator.stats import intent_figures, percentile
from tests.app.chat_support import make_adapters, make_engine, read_until
from tests.app.console_support import add_user, console_app, sign_in


@pytest.fixture(scope="module")
def adapters(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_adapters(tmp_path_factory.mktemp("operator-adapters"))


@pytest.fixture()
def client(pg_url: str, db: Session, tokenizer: Any, adapters: dict[str, Path]) -> Iterator[TestClient]:
    app = console_app(pg_url, engine=make_engine(tokenizer, adapters), messages_per_minute=1000)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture()
def operator(client: TestClient, db: Session) -> dict[str, str]:
    return sign_in(client, add_user(db, "olga", "operator"))


SALES_BEAM = {"strategy": "beam", "num_beams": 3, "length_penalty": 0.8, "max_new_tokens": 12}


def test_page_and_api_show_every_intent(client: TestClient, operator: dict) -> None:
    page = client.get("/operator")
    assert page.status_code == 200
    for intent in ("general", "tech_support", "sales"):
        assert f'data-intent="{intent}"' in page.text
    policies = client.get("/api/operator/policies").json()
    assert policies["sales"]["version"] == 0 and policies["sales"]["policy"]["strategy"] == "top_k"


def test_invalid_policy_gets_422_with_field_messages(client: TestClient, operator: dict, db: Session) -> None:
    bad = {"strategy": "beam", "num_beams": 1, "top_p": 0, "max_new_tokens": "lots"}
    response = client.put("/api/operator/policies/sales", json={"policy": bad}, headers=operator)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["num_beams"] == "beam search needs num_beams >= 2"
    assert "greater than 0" in errors["top_p"] and "integer" in errors["max_new_tokens"]
    assert live_policy(db, "sales")[1] == 0  # nothing saved
    unknown = client.put("/api/operator/policies/billing", json={"policy": SALES_BEAM}, headers=operator)
    assert unknown.status_code == 404 and "unknown intent" in unknown.json()["detail"]


def test_save_history_and_one_click_rollback(client: TestClient, operator: dict, db: Session) -> None:
    url = "/api/operator/policies/sales"
    saved = client.put(url, json={"policy": SALES_BEAM, "comment": "beams for sales"}, headers=operator)
    assert saved.status_code == 200 and saved.json()["version"] == 1
    greedy = {"strategy": "greedy", "max_new_tokens": 30}
    assert client.put(url, json={"policy": greedy}, headers=operator).json()["version"] == 2
    history = client.get(f"{url}/history").json()
    assert [(h["version"], h["created_by"]) for h in history] == [(2, "olga"), (1, "olga")]
    assert history[1]["comment"] == "beams for sales" and history[1]["policy"]["num_beams"] == 3
    back = client.post(f"{url}/rollback", json={"version": 1}, headers=operator)
    assert back.status_code == 200 and back.json()["version"] == 3
    policy, version = live_policy(db, "sales")
    assert version == 3 and policy.strategy == "beam" and policy.num_beams == 3
    assert client.post(f"{url}/rollback", json={"version": 99}, headers=operator).status_code == 404


def test_saved_policy_applies_to_the_very_next_message(
    client: TestClient, operator: dict, db: Session
) -> None:
    client.put("/api/operator/policies/sales", json={"policy": SALES_BEAM}, headers=operator)
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "hello", "token": None})
        cid = ws.receive_json()["conversation_id"]
        ws.send_json({"type": "message", "text": "what is the price of the Plus plan?"})
        read_until(ws, "done")
    db.expire_all()
    reply = db.scalars(
        select(Message).where(Message.conversation_id == cid, Message.role == "assistant")
    ).one()
    assert reply.intent == "sales" and reply.adapter == "sales"
    assert reply.decoding is not None and reply.decoding["strategy"] == "beam"
    assert reply.decoding["num_beams"] == 3 and reply.decoding_version == 1


def test_try_it_generates_with_the_draft_without_saving(
    client: TestClient, operator: dict, db: Session
) -> None:
    draft = {"strategy": "greedy", "max_new_tokens": 6, "system_prompt": "Be brief."}
    body = {"intent": "tech_support", "policy": draft, "message": "My laptop will not boot"}
    response = client.post("/api/operator/try", json=body, headers=operator)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["adapter"] == "tech_support" and result["decoding"]["strategy"] == "greedy"
    assert 1 <= result["completion_tokens"] <= 6 and result["error"] is None
    # The same job submitted directly (same adapter, messages, SamplingParams) gives the same greedy text.
    backend = client.app.state.backend  # type: ignore[attr-defined]
    params = DecodingPolicy.model_validate(draft).to_sampling_params().to_dict()
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "My laptop will not boot"},
    ]
    job = GenerationJob("direct-1", "x", messages, "tech_support", params)

    async def direct() -> str:
        await backend.submit(job)
        return "".join([event.text async for event in backend.events(job.job_id)])

    assert client.portal.call(direct) == result["text"]  # type: ignore[attr-defined]
    assert live_policy(db, "tech_support")[1] == 0


def test_try_it_validates_the_draft_and_the_message(client: TestClient, operator: dict) -> None:
    bad = {"intent": "sales", "policy": {"strategy": "nucleus", "top_p": 1.0}, "message": "hi"}
    response = client.post("/api/operator/try", json=bad, headers=operator)
    assert response.status_code == 422 and "top_p < 1" in response.json()["errors"]["top_p"]
    empty = {"intent": "sales", "policy": {}, "message": "   "}
    assert client.post("/api/operator/try", json=empty, headers=operator).json()["errors"]["message"]


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0 and percentile(values, 95) == 95.0


def test_live_figures_from_message_rows(client: TestClient, operator: dict, db: Session) -> None:
    now = datetime.now(UTC)
    conv = Conversation()
    db.add(conv)
    db.flush()
    rows = []
    for i, latency in enumerate([100.0, 200.0, 300.0, 400.0]):
        rows.append(
            Message(
                conversation_id=conv.id,
                role="assistant",
                intent="sales",
                status="done",
                latency_ms=latency,
                completion_tokens=10,
                created_at=now - timedelta(minutes=i),
            )
        )
    rows.append(
        Message(
            conversation_id=conv.id,
            role="assistant",
            intent="sales",
            status="error",
            created_at=now - timedelta(minutes=1),
        )
    )
    rows.append(
        Message(
            conversation_id=conv.id,
            role="assistant",
            intent="general",
            status="done",
            latency_ms=50.0,
            completion_tokens=5,
            created_at=now - timedelta(hours=3),
        )
    )  # outside
    db.add_all(rows)
    db.flush()
    db.add_all([Feedback(message_id=rows[0].id, rating=1), Feedback(message_id=rows[1].id, rating=-1)])
    db.commit()
    figures = client.get("/api/operator/stats", params={"window_s": 3600, "buckets": 6}).json()
    sales = figures["intents"]["sales"]
    assert sales["requests"] == 5 and sales["errors"] == 1
    assert sales["p50_latency_ms"] == 200.0 and sales["p95_latency_ms"] == 400.0
    assert sales["tokens_per_s"] == 40.0  # 40 tokens over 1.0 s of generation
    assert sales["feedback_rate"] == 0.4 and sales["thumbs_up_share"] == 0.5
    assert len(sales["series"]) == 6 and sum(b["requests"] for b in sales["series"]) == 5
    assert figures["intents"]["general"]["requests"] == 0
    direct = intent_figures(db, now - timedelta(hours=2, minutes=30), window_s=3600)
    assert direct["intents"]["general"]["requests"] == 1
    with pytest.raises(ValueError, match="window_s"):
        intent_figures(db, now, window_s=1)
