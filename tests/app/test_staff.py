"""Staff console: search and filters, transcripts, export, take-over with a pushed reply, inert text."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import REPO_ROOT
from app.db.models import Conversation, Message, utcnow
from app.decoding.policy import DecodingPolicy
from app.decoding.store import save_policy
from app.staff.filters import ConversationFilter
from app.staff.search import search_conversations
from tests.app.chat_support import make_engine, read_until
from tests.app.console_support import add_conversation, add_user, console_app, sign_in


@pytest.fixture()
def client(pg_url: str, db: Session, tokenizer: Any) -> Iterator[TestClient]:
    app = console_app(pg_url, engine=make_engine(tokenizer, {}))
    with TestClient(app) as test_client:  # lifespan runs: the hub and the portal are live
        yield test_client


@pytest.fixture()
def staff(client: TestClient, db: Session) -> dict[str, str]:
    return sign_in(client, add_user(db, "sam", "staff"))


def _ids(client: TestClient, **params: Any) -> list[str]:
    response = client.get("/api/staff/conversations", params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_full_text_search_finds_stemmed_words(client: TestClient, staff: dict, db: Session) -> None:
    backup = add_conversation(
        db, [("customer", "My cloud backups keep failing"), ("assistant", "Let us check.")]
    )
    add_conversation(db, [("customer", "What does the Premium plan cost?")])
    assert _ids(client, q="backup failed") == [backup.id]  # stemming: backups/failing
    assert _ids(client, q='"cloud backups"') == [backup.id]
    assert _ids(client, q="backup -cloud") == []
    assert _ids(client, q=backup.id) == [backup.id]  # a pasted conversation id finds it


def test_filters_combine(client: TestClient, staff: dict, db: Session) -> None:
    old = utcnow() - timedelta(days=10)
    a = add_conversation(db, [("assistant", "one")], status="pending", intent="sales", rating=1)
    b = add_conversation(db, [("assistant", "two")], status="human", intent="tech_support", rating=-1)
    c = add_conversation(db, [("assistant", "three")], status="closed", intent="general", created_at=old)
    assert _ids(client, intent="sales") == [a.id]
    assert _ids(client, adapter="tech_support") == [b.id]
    assert _ids(client, status="closed") == [c.id]
    assert _ids(client, feedback="up") == [a.id]
    assert _ids(client, feedback="down") == [b.id]
    assert _ids(client, feedback="none") == [c.id]
    day = old.date().isoformat()
    assert _ids(client, date_from=day, date_to=day) == [c.id]
    assert set(_ids(client, date_from=(utcnow() - timedelta(days=1)).date().isoformat())) == {a.id, b.id}
    assert _ids(client, intent="", status="", q="") != []  # empty form fields mean "any"


def test_bad_filters_name_the_field(client: TestClient, staff: dict) -> None:
    response = client.get("/api/staff/conversations", params={"status": "lost", "per_page": 1000})
    assert response.status_code == 422
    fields = {err["loc"][-1] for err in response.json()["detail"]}
    assert {"status", "per_page"} <= fields
    page = client.get("/staff", params={"date_from": "2026-02-02", "date_to": "2026-01-01"})
    assert page.status_code == 422 and "date_from must not be after date_to" in page.text


def test_pagination_is_stable_and_complete(client: TestClient, staff: dict, db: Session) -> None:
    made = {add_conversation(db, [("customer", f"hello {i}")]).id for i in range(7)}
    seen: list[str] = []
    for page in (1, 2, 3):
        body = client.get("/api/staff/conversations", params={"per_page": 3, "page": page}).json()
        assert body["total"] == 7 and body["pages"] == 3
        seen += [item["id"] for item in body["items"]]
    assert len(seen) == 7 and set(seen) == made


@pytest.mark.parametrize(
    "q", ["'; DROP TABLE messages; --", "%", "_", "'", '"', "\\", "a%b_c", "!!!", "&|!:*"]
)
def test_sql_metacharacters_are_only_text(client: TestClient, staff: dict, db: Session, q: str) -> None:
    add_conversation(db, [("customer", "plain words only")])
    percent = add_conversation(db, [("customer", "is there 50% off? use code a%b_c")])
    response = client.get("/api/staff/conversations", params={"q": q})
    assert response.status_code == 200
    ids = [item["id"] for item in response.json()["items"]]
    # A wildcard must match itself, never everything; other junk matches nothing.
    if q in ("%", "_", "a%b_c"):
        assert ids == [percent.id]
    else:
        assert ids == []
    assert db.scalar(select(func.count()).select_from(Message)) == 2  # the table is still there


def test_like_fallback_escapes_wildcards(tmp_path: Any) -> None:
    from app.db.session import session_factory, upgrade_database

    url = f"sqlite:///{tmp_path / 'sb.db'}"
    upgrade_database(url)
    with session_factory(url)() as session:
        add_conversation(session, [("customer", "backup failed at 100%")])
        add_conversation(session, [("customer", "nothing here")])
        for q, hits in (("BACKUP failed", 1), ("%", 1), ("_", 0), ("'; DROP TABLE messages; --", 0)):
            assert search_conversations(session, ConversationFilter(q=q)).total == hits, q


def test_transcript_shows_how_each_reply_was_made(client: TestClient, staff: dict, db: Session) -> None:
    conv = add_conversation(
        db, [("customer", "price of Plus?"), ("assistant", "Plus is $4.99")], intent="sales"
    )
    body = client.get(f"/api/staff/conversations/{conv.id}").json()
    bot = body["messages"][1]
    assert bot["intent"] == "sales" and bot["router_confidence"] == 0.87 and bot["adapter"] == "sales"
    assert bot["strategy"] == "top_k" and bot["decoding"]["top_k"] == 40 and bot["decoding_version"] == 3
    assert bot["completion_tokens"] == 20 and bot["latency_ms"] == 500.0 and bot["tokens_per_s"] == 40.0
    page = client.get(f"/staff/conversations/{conv.id}")
    assert page.status_code == 200
    for fragment in ("sales", "0.87", "top_k", "top_k=40", "v3", "20 out", "500 ms", "40.0 tok/s"):
        assert fragment in page.text
    after = client.get(f"/api/staff/conversations/{conv.id}", params={"after": bot["id"] - 1}).json()
    assert [m["id"] for m in after["messages"]] == [bot["id"]]
    assert client.get("/api/staff/conversations/nope").status_code == 404


def test_export_one_and_filtered_as_csv_and_json(client: TestClient, staff: dict, db: Session) -> None:
    conv = add_conversation(db, [("customer", '=HYPERLINK("http://x")'), ("assistant", 'ok, "quoted"')])
    add_conversation(db, [("customer", "other")], intent="tech_support")
    reply = db.scalars(
        select(Message).where(Message.conversation_id == conv.id, Message.role == "assistant")
    ).one()
    reply.ttft_ms = 123.5
    db.commit()
    one = client.get(f"/api/staff/conversations/{conv.id}/export", params={"format": "csv"})
    assert (
        one.headers["content-type"].startswith("text/csv")
        and "attachment" in one.headers["content-disposition"]
    )
    rows = list(csv.DictReader(io.StringIO(one.text)))
    assert [r["role"] for r in rows] == ["customer", "assistant"]
    assert rows[0]["text"].startswith("'=")  # a formula is neutralised for spreadsheets
    assert rows[1]["text"] == 'ok, "quoted"' and rows[1]["strategy"] == "top_k"
    assert rows[1]["message_id"] == str(reply.id) and rows[0]["message_id"] == str(reply.id - 1)
    assert rows[1]["ttft_ms"] == "123.5" and rows[0]["ttft_ms"] == ""
    data = json.loads(client.get("/api/staff/export", params={"intent": "general", "format": "json"}).text)
    assert [c["id"] for c in data["conversations"]] == [conv.id]
    assert data["conversations"][0]["messages"][1]["decoding"]["top_k"] == 40
    everything = json.loads(client.get("/api/staff/export").text)
    assert len(everything["conversations"]) == 2
    assert client.get("/api/staff/export", params={"format": "xml"}).status_code == 422


def test_take_over_reply_and_hand_back(client: TestClient, staff: dict, db: Session) -> None:
    conv = add_conversation(db, [("customer", "I want a person")], status="pending")
    hub = client.app.state.hub  # type: ignore[attr-defined]
    base = f"/api/staff/conversations/{conv.id}"
    assert (
        client.post(f"{base}/reply", json={"text": "hi"}, headers=staff).status_code == 409
    )  # not taken yet
    taken = client.post(f"{base}/take-over", headers=staff)
    assert taken.status_code == 200 and taken.json() == {
        "id": conv.id,
        "status": "human",
        "assigned_to": "sam",
    }

    async def reply_and_listen() -> list[dict]:
        async with hub.subscribe(conv.id) as events:
            import asyncio

            reply = await asyncio.to_thread(
                client.post, f"{base}/reply", json={"text": "Hi, Sam here."}, headers=staff
            )
            assert reply.status_code == 200, reply.text
            return [await asyncio.wait_for(anext(events), 5)]

    pushed = client.portal.call(reply_and_listen)  # type: ignore[attr-defined]
    assert pushed[0]["type"] == "staff_message" and pushed[0]["text"] == "Hi, Sam here."
    db.expire_all()
    row = db.scalars(select(Message).where(Message.conversation_id == conv.id, Message.role == "staff")).one()
    assert row.text == "Hi, Sam here." and row.staff_id is not None
    assert client.post(f"{base}/reply", json={"text": "   "}, headers=staff).json()["detail"]["errors"][
        "text"
    ]
    assert client.post(f"{base}/hand-back", headers=staff).json()["status"] == "active"
    conv_row = db.get(Conversation, conv.id)
    db.refresh(conv_row)
    assert conv_row.status == "active" and conv_row.assigned_staff_id is None


def test_someone_elses_conversation_cannot_be_taken(client: TestClient, db: Session) -> None:
    conv = add_conversation(db, [("customer", "help")], status="pending")
    base = f"/api/staff/conversations/{conv.id}"
    alice = sign_in(client, add_user(db, "alice"))
    assert client.post(f"{base}/take-over", headers=alice).status_code == 200
    bob = sign_in(client, add_user(db, "bob"))
    assert client.post(f"{base}/take-over", headers=bob).status_code == 409
    assert client.post(f"{base}/reply", json={"text": "x"}, headers=bob).status_code == 409
    assert client.post(f"{base}/hand-back", headers=bob).status_code == 409
    closed = add_conversation(db, [("customer", "bye")], status="closed")
    assert client.post(f"/api/staff/conversations/{closed.id}/take-over", headers=bob).status_code == 409


def test_message_markup_is_inert_on_the_pages(client: TestClient, staff: dict, db: Session) -> None:
    evil = 'refund please <script>alert(1)</script><img src=x onerror="alert(2)">'
    conv = add_conversation(db, [("customer", evil), ("assistant", evil)])
    for url in ("/staff", f"/staff/conversations/{conv.id}", "/staff?q=refund"):
        page = client.get(url)
        assert page.status_code == 200
        assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]


def test_take_over_stops_the_bot_mid_reply(client: TestClient, staff: dict, db: Session) -> None:
    save_policy(db, "general", DecodingPolicy(strategy="greedy", max_new_tokens=1500), None)
    with client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"type": "hello", "token": None})
        cid = ws.receive_json()["conversation_id"]
        ws.send_json({"type": "message", "text": "tell me a long story"})
        read_until(ws, "token")
        assert client.post(f"/api/staff/conversations/{cid}/take-over", headers=staff).status_code == 200
        frames = read_until(ws, "done")
    assert frames[-1]["finish_reason"] == "cancelled"
    assert any(f["type"] == "status" and f["status"] == "human" for f in frames)


def test_a_nul_in_the_search_is_no_server_error(client: TestClient, staff: dict, db: Session) -> None:
    add_conversation(db, [("customer", "refund for my laptop")])
    for params in ({"q": "refund\x00"}, {"q": "\x00"}, {"adapter": "a\x00b"}):
        response = client.get("/api/staff/conversations", params=params)
        assert response.status_code == 200, (params, response.text)
    assert client.get("/api/staff/export", params={"q": "ref\x00und"}).status_code == 200


def test_thumbs_are_drawn_not_emoji(client: TestClient, staff: dict, db: Session) -> None:
    # Without an emoji font (a bare Linux desktop, many kiosks) 👍/👎 show as empty boxes.
    emoji = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")
    conv = add_conversation(db, [("customer", "hi"), ("assistant", "hello")], rating=1)
    for url in ("/staff", f"/staff/conversations/{conv.id}"):
        page = client.get(url)
        assert page.status_code == 200 and not emoji.search(page.text), url
        assert '<span class="thumb thumb-up"><svg' in page.text
    scripts = [(REPO_ROOT / "web/static" / name).read_text() for name in ("staff.js", "console.js")]
    assert not any(emoji.search(s) for s in scripts)  # the live refresh draws the same icons
