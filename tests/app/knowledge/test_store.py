"""Knowledge CRUD: every change is a version, rollback adds one, deleted entries keep their history."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.knowledge import store
from app.knowledge.entries import EntryData

ECHOMAX = EntryData(
    key="product.echomax-anc",
    kind="product",
    title="EchoMax ANC headphones",
    text="EchoMax ANC over-ear headphones: $299, in stock.",
    keywords=("headphones",),
)


def _priced(price: str) -> EntryData:
    return EntryData(ECHOMAX.key, ECHOMAX.kind, ECHOMAX.title, f"EchoMax ANC: {price}, in stock.")


def test_add_edit_delete_rollback_history(any_db: Session) -> None:
    row = store.add_entry(any_db, ECHOMAX, actor="olga")
    assert (row.version, row.deleted, row.updated_by) == (1, False, "olga")
    with pytest.raises(ValueError, match="already exists"):
        store.add_entry(any_db, ECHOMAX, actor="olga")

    row = store.update_entry(any_db, ECHOMAX.key, _priced("$279"), actor="olga", note="black friday")
    assert row.version == 2 and "$279" in row.text
    # The same content again is not a change: no new version.
    assert store.update_entry(any_db, ECHOMAX.key, _priced("$279"), actor="olga").version == 2

    row = store.delete_entry(any_db, ECHOMAX.key, actor="max")
    assert (row.version, row.deleted) == (3, True)
    assert store.list_entries(any_db) == []
    assert [e.key for e in store.list_entries(any_db, include_deleted=True)] == [ECHOMAX.key]
    with pytest.raises(LookupError):
        store.update_entry(any_db, ECHOMAX.key, ECHOMAX, actor="olga")

    row = store.rollback_entry(any_db, ECHOMAX.key, 1, actor="max")
    assert (row.version, row.deleted, row.text) == (4, False, ECHOMAX.text)
    history = store.entry_history(any_db, ECHOMAX.key)
    assert [h.version for h in history] == [4, 3, 2, 1]
    assert [h.note for h in history] == ["rollback to v1", "deleted", "black friday", "added"]
    assert [h.created_by for h in history] == ["max", "max", "olga", "olga"]
    assert history[2].text == _priced("$279").text  # old versions are never rewritten


def test_errors_name_the_problem(any_db: Session) -> None:
    with pytest.raises(LookupError):
        store.delete_entry(any_db, "product.nothing", actor=None)
    with pytest.raises(LookupError, match="no version 7"):
        store.rollback_entry(any_db, "product.nothing", 7, actor=None)
    store.add_entry(any_db, ECHOMAX, actor=None)
    other = EntryData("product.other", "product", "Other", "Other: $1.")
    with pytest.raises(ValueError, match="key of an entry cannot change"):
        store.update_entry(any_db, ECHOMAX.key, other, actor=None)
    with pytest.raises(ValueError, match="note"):
        store.update_entry(any_db, ECHOMAX.key, _priced("$1"), actor=None, note="x" * 300)
    with pytest.raises(ValueError, match="kind"):
        store.list_entries(any_db, kind="rumour")


def test_deleted_key_can_be_added_again(any_db: Session) -> None:
    store.add_entry(any_db, ECHOMAX, actor=None)
    store.delete_entry(any_db, ECHOMAX.key, actor=None)
    row = store.add_entry(any_db, _priced("$199"), actor=None)
    assert (row.version, row.deleted) == (3, False)


def test_list_filters_by_kind_and_revision_grows(any_db: Session) -> None:
    start = store.knowledge_revision(any_db)
    store.add_entry(any_db, ECHOMAX, actor=None)
    store.add_entry(any_db, EntryData("policy.returns", "policy", "Returns", "30 days."), actor=None)
    assert [e.key for e in store.list_entries(any_db, kind="policy")] == ["policy.returns"]
    assert [e.kind for e in store.list_entries(any_db)] == ["policy", "product"]
    middle = store.knowledge_revision(any_db)
    store.update_entry(any_db, ECHOMAX.key, _priced("$1"), actor=None)
    assert start < middle < store.knowledge_revision(any_db)


def test_upsert_reports_what_changed(any_db: Session) -> None:
    assert store.upsert_entry(any_db, ECHOMAX, actor="import") == "added"
    assert store.upsert_entry(any_db, ECHOMAX, actor="import") == "unchanged"
    assert store.upsert_entry(any_db, _priced("$5"), actor="import") == "updated"
    any_db.commit()
    assert [h.version for h in store.entry_history(any_db, ECHOMAX.key)] == [2, 1]
