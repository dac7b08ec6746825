"""`switchboard admin`: retention counts then deletes (bad days refused), the audit trail prints,
and CLI key changes are audited as "cli"."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.admin.cli import admin_app
from app.db.models import Conversation, utcnow
from app.users_cli import users_app
from tests.app.console_support import add_conversation

runner = CliRunner()


def test_retention_and_audit(db: Session, pg_url: str) -> None:
    old = add_conversation(db, [("customer", "hi")], created_at=utcnow() - timedelta(days=40))
    fresh = add_conversation(db, [("customer", "hello")])
    url = ["--database-url", pg_url]
    dry = runner.invoke(admin_app, ["retention", "--days", "30", "--dry-run", *url])
    assert dry.exit_code == 0 and "1 conversation(s) would be deleted" in dry.output
    assert old.id in set(db.scalars(select(Conversation.id)))
    done = runner.invoke(admin_app, ["retention", "--days", "30", *url])
    assert done.exit_code == 0 and "deleted 1 conversation(s)" in done.output
    db.expire_all()
    assert set(db.scalars(select(Conversation.id))) == {fresh.id}
    bad = runner.invoke(admin_app, ["retention", "--days", "0", *url])
    assert bad.exit_code == 1 and "days must be" in bad.output and "Traceback" not in bad.output
    assert runner.invoke(users_app, ["api-key", "create", "--name", "crm", *url]).exit_code == 0
    trail = runner.invoke(admin_app, ["audit", *url]).output.splitlines()
    assert [line.split("\t")[1:3] for line in trail] == [["cli", "api_key.create"], ["cli", "retention.run"]]
