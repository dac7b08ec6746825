"""The operator's knowledge-base API: add, edit, delete, list/search, history and rollback, each
change a version; field errors for bad input; the public /kb/<key> page shows live entries only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.api.knowledge import field_of
from app.knowledge import store
from tests.app.console_support import add_user, console_app, sign_in

ECHO = {
    "key": "product.echomax-anc",
    "kind": "product",
    "title": "EchoMax ANC headphones",
    "text": "EchoMax ANC over-ear headphones: $299, in stock. 40-hour battery.",
    "keywords": "headphones, over-ear, noise cancelling",
}
URL = "/api/operator/knowledge"


@pytest.fixture()
def client(pg_url: str, db: Session) -> Iterator[TestClient]:
    # No lifespan: these routes need the database only, not the engine.
    yield TestClient(console_app(pg_url), follow_redirects=False)


@pytest.fixture()
def operator(client: TestClient, db: Session) -> dict[str, str]:
    return sign_in(client, add_user(db, "olga", "operator"))


def _add(client: TestClient, headers: dict[str, str], **changes: Any) -> Any:
    return client.post(URL, json={"entry": {**ECHO, **changes}, "note": "launch"}, headers=headers)


def test_add_edit_history_and_rollback(client: TestClient, operator: dict, db: Session) -> None:
    added = _add(client, operator)
    assert added.status_code == 201, added.text
    assert added.json()["entry"]["version"] == 1 and added.json()["entry"]["keywords"][0] == "headphones"
    cheaper = {**ECHO, "text": "EchoMax ANC over-ear headphones: $249 this week, in stock."}
    edited = client.put(
        f"{URL}/{ECHO['key']}", json={"entry": cheaper, "note": "price drop"}, headers=operator
    )
    assert edited.status_code == 200 and edited.json()["entry"]["version"] == 2
    db.expire_all()
    assert "$249" in store.get_entry(db, ECHO["key"]).text  # live for the next retrieval
    history = client.get(f"{URL}/{ECHO['key']}/history").json()
    assert [(v["version"], v["created_by"], v["note"]) for v in history] == [
        (2, "olga", "price drop"),
        (1, "olga", "launch"),
    ]
    back = client.post(f"{URL}/{ECHO['key']}/rollback", json={"version": 1}, headers=operator)
    assert back.status_code == 200 and back.json()["entry"]["version"] == 3
    one = client.get(f"{URL}/{ECHO['key']}").json()
    assert "$299" in one["entry"]["text"] and one["history"][0]["note"] == "rollback to v1"
    assert (
        client.post(f"{URL}/{ECHO['key']}/rollback", json={"version": 9}, headers=operator).status_code == 404
    )


def test_delete_hides_the_entry_and_a_rollback_restores_it(client: TestClient, operator: dict) -> None:
    _add(client, operator)
    gone = client.delete(f"{URL}/{ECHO['key']}?note=discontinued", headers=operator)
    assert gone.status_code == 200 and gone.json()["entry"]["deleted"] is True
    assert client.get(URL).json()["total"] == 0
    listed = client.get(URL, params={"include_deleted": "true"}).json()
    assert [e["key"] for e in listed["items"]] == [ECHO["key"]]
    assert client.get(f"/kb/{ECHO['key']}").status_code == 404  # customers no longer see it
    assert client.delete(f"{URL}/{ECHO['key']}", headers=operator).status_code == 404
    back = client.post(f"{URL}/{ECHO['key']}/rollback", json={"version": 1}, headers=operator)
    assert back.json()["entry"]["deleted"] is False and back.json()["entry"]["version"] == 3
    assert client.get(f"/kb/{ECHO['key']}").status_code == 200


def test_search_matches_every_word_in_key_title_or_text(client: TestClient, operator: dict) -> None:
    _add(client, operator)
    _add(client, operator, key="policy.returns", kind="policy", title="Returns policy",
         text="Return any item within 30 days for a full refund (100% back).", keywords="")  # fmt: skip
    assert client.get(URL, params={"q": "refund days"}).json()["total"] == 1
    assert client.get(URL, params={"q": "ECHOMAX"}).json()["items"][0]["key"] == ECHO["key"]
    assert client.get(URL, params={"kind": "policy"}).json()["items"][0]["key"] == "policy.returns"
    assert client.get(URL, params={"q": "100%"}).json()["total"] == 1  # % is a character, not a wildcard
    assert client.get(URL, params={"q": "_"}).json()["total"] == 0
    assert client.get(URL, params={"kind": "poetry"}).status_code == 422


def test_bad_input_names_the_field(client: TestClient, operator: dict, db: Session) -> None:
    cases = [
        ({"key": "Not A Key"}, "key"),
        ({"kind": "rumour"}, "kind"),
        ({"title": "  "}, "title"),
        ({"text": "x" * 4001}, "text"),
        ({"keywords": ["ok", ""]}, "keywords"),
    ]
    for change, field in cases:
        response = _add(client, operator, **change)
        assert response.status_code == 422, (change, response.text)
        assert set(response.json()["errors"]) == {field}, response.json()
    assert _add(client, operator).status_code == 201
    taken = _add(client, operator, title="Another")
    assert taken.status_code == 409 and "key" in taken.json()["errors"]
    moved = client.put(f"{URL}/{ECHO['key']}", json={"entry": {**ECHO, "key": "product.x"}}, headers=operator)
    assert moved.status_code == 422 and "cannot change" in moved.json()["errors"]["key"]
    long_note = client.put(f"{URL}/{ECHO['key']}", json={"entry": ECHO, "note": "n" * 300}, headers=operator)
    assert long_note.status_code == 422
    missing = client.put(f"{URL}/product.nothing", json={"entry": {**ECHO, "key": "product.nothing"}},
                         headers=operator)  # fmt: skip
    assert missing.status_code == 404
    db.expire_all()
    assert [v.version for v in store.entry_history(db, ECHO["key"])] == [1]  # nothing else was saved


def test_field_of_reads_the_leading_field_name() -> None:
    assert field_of("keywords: at most 30") == "keywords"
    assert field_of("title must be 1-200 characters") == "title"
    assert field_of("could not save the entry") == "__all__"


def test_public_entry_page_is_escaped_and_read_only(client: TestClient, operator: dict) -> None:
    _add(client, operator, title="<script>alert(1)</script> EchoMax", text="Line one\n<b>bold?</b>")
    page = client.get(f"/kb/{ECHO['key']}")
    assert page.status_code == 200
    assert (
        "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt; EchoMax" in page.text
    )
    assert "&lt;b&gt;bold?&lt;/b&gt;" in page.text
    assert "script-src 'none'" in page.headers["content-security-policy"]
    assert client.get("/kb/product.unknown").status_code == 404
    assert client.post(f"/kb/{ECHO['key']}").status_code == 405


def test_the_console_page_lists_the_kinds(client: TestClient, operator: dict) -> None:
    page = client.get("/operator/knowledge")
    assert page.status_code == 200
    assert '<option value="article">article</option>' in page.text and "/static/knowledge.js" in page.text
    assert 'href="/operator/knowledge"' in client.get("/operator").text


def test_find_entries_on_sqlite_too(any_db: Session) -> None:
    from app.knowledge.browse import find_entries
    from app.knowledge.entries import EntryData

    store.add_entry(any_db, EntryData.from_dict(ECHO), "olga")
    returns = EntryData("policy.returns", "policy", "Returns", "100% refund in 30 days.")
    store.add_entry(any_db, returns, "olga")
    assert [e.key for e in find_entries(any_db, "echomax BATTERY").items] == [ECHO["key"]]
    assert find_entries(any_db, "100%").total == 1 and find_entries(any_db, "_").total == 0
    assert find_entries(any_db, kind="policy").items[0].key == "policy.returns"
