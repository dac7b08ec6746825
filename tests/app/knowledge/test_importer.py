"""Import is idempotent, reports what changed, never deletes; export round-trips; start-up seeds once."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.knowledge import store
from app.knowledge.entries import SEED_DIR, EntryData, read_entries
from app.knowledge.importer import export_entries, import_path, seed_if_empty

SEED = read_entries(SEED_DIR)


def test_import_twice_adds_then_changes_nothing(any_db: Session) -> None:
    first = import_path(any_db)
    assert len(first.added) == len(SEED) and not first.updated and not first.unchanged
    revision = store.knowledge_revision(any_db)
    second = import_path(any_db)
    assert (len(second.added), len(second.updated), len(second.unchanged)) == (0, 0, len(SEED))
    assert store.knowledge_revision(any_db) == revision  # no new version rows at all


def test_import_updates_changed_text_and_keeps_operator_entries(any_db: Session, tmp_path: Path) -> None:
    import_path(any_db)
    extra = store.add_entry(
        any_db, EntryData("offer.operator-only", "offer", "Flash sale", "10% off today."), actor="olga"
    )
    lines = (SEED_DIR / "products.jsonl").read_text().splitlines()
    changed = json.loads(lines[0])
    changed["text"] = changed["text"].replace("$899", "$849")
    edited = tmp_path / "products.jsonl"
    edited.write_text("\n".join([json.dumps(changed), *lines[1:]]) + "\n")
    report = import_path(any_db, edited)
    assert report.updated == [changed["key"]] and len(report.unchanged) == len(lines) - 1
    assert "$849" in store.get_entry(any_db, changed["key"]).text  # type: ignore[union-attr]
    assert store.get_entry(any_db, extra.key) is not None


def test_export_round_trips(any_db: Session) -> None:
    import_path(any_db)
    exported = export_entries(any_db)
    assert sorted(exported, key=lambda e: e.key) == sorted(SEED, key=lambda e: e.key)


def test_seed_if_empty_runs_once_and_respects_deletes(any_db: Session) -> None:
    assert seed_if_empty(any_db) is not None
    store.delete_entry(any_db, "offer.student", actor="olga")
    assert seed_if_empty(any_db) is None
    assert store.get_entry(any_db, "offer.student").deleted  # type: ignore[union-attr]


def test_cli_import_and_export(tmp_path: Path) -> None:
    from app.cli import cli

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    result = runner.invoke(cli, ["kb", "import", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert f"{len(SEED)} added, 0 updated, 0 unchanged" in result.output
    result = runner.invoke(cli, ["kb", "import", "--database-url", url])
    assert f"0 added, 0 updated, {len(SEED)} unchanged" in result.output
    out = tmp_path / "export.jsonl"
    result = runner.invoke(cli, ["kb", "export", str(out), "--database-url", url])
    assert result.exit_code == 0, result.output
    assert len(read_entries(out)) == len(SEED)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"key": "x"}\n')
    result = runner.invoke(cli, ["kb", "import", str(bad), "--database-url", url])
    assert result.exit_code == 1 and "bad.jsonl:1" in result.output
