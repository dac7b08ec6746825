"""`switchboard users`: accounts with argon2 hashes, clear errors, API keys printed once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.auth.api_keys import verify_api_key
from app.auth.passwords import verify_password
from app.db.models import StaffUser
from app.users_cli import users_app

runner = CliRunner()


def test_create_list_and_duplicate(db: Session, pg_url: str) -> None:
    args = ["create", "--username", "sam", "--role", "operator", "--password", "hunter2hunter2"]
    result = runner.invoke(users_app, [*args, "--database-url", pg_url])
    assert result.exit_code == 0, result.output
    assert "created operator sam" in result.output
    user = db.scalars(select(StaffUser).where(StaffUser.username == "sam")).one()
    assert user.role == "operator"
    assert verify_password(user.password_hash, "hunter2hunter2")

    listing = runner.invoke(users_app, ["list", "--database-url", pg_url])
    assert "sam\toperator\tactive" in listing.output

    again = runner.invoke(users_app, [*args, "--database-url", pg_url])
    assert again.exit_code == 1
    assert "already taken" in again.output
    assert "Traceback" not in again.output


def test_password_from_prompt(db: Session, pg_url: str) -> None:
    result = runner.invoke(
        users_app,
        ["create", "--username", "pat", "--database-url", pg_url],
        input="promptedpass\npromptedpass\n",
    )
    assert result.exit_code == 0, result.output
    user = db.scalars(select(StaffUser).where(StaffUser.username == "pat")).one()
    assert user.role == "staff"
    assert verify_password(user.password_hash, "promptedpass")


def test_bad_role_username_and_password_are_one_line_errors(pg_url: str) -> None:
    cases = [
        (["--username", "ok-name", "--role", "admin", "--password", "longenough1"], "role must be"),
        (["--username", "bad name!", "--password", "longenough1"], "username must be"),
        (["--username", "ok-name", "--password", "short"], "password must be at least"),
    ]
    for args, message in cases:
        result = runner.invoke(users_app, ["create", *args, "--database-url", pg_url])
        assert result.exit_code == 1
        assert message in result.output


def test_api_key_create_prints_a_working_key(db: Session, pg_url: str) -> None:
    result = runner.invoke(users_app, ["api-key", "create", "--name", "crm", "--database-url", pg_url])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[0]
    row = verify_api_key(db, key)
    assert row is not None and row.name == "crm"


def test_api_keys_are_listed_without_the_key_and_revoked(db: Session, pg_url: str) -> None:
    made = runner.invoke(users_app, ["api-key", "create", "--name", "crm", "--database-url", pg_url])
    key = made.stdout.strip().splitlines()[0]
    listed = runner.invoke(users_app, ["api-key", "list", "--database-url", pg_url])
    assert listed.exit_code == 0, listed.output
    line = next(ln for ln in listed.stdout.splitlines() if "\tcrm\t" in ln)
    assert line.endswith("\tlive") and key not in listed.stdout and key.split(".")[1] not in listed.stdout
    key_id = line.split("\t")[0]
    revoked = runner.invoke(users_app, ["api-key", "revoke", key_id, "--database-url", pg_url])
    assert revoked.exit_code == 0, revoked.output
    db.expire_all()
    assert verify_api_key(db, key) is None
    again = runner.invoke(users_app, ["api-key", "list", "--database-url", pg_url])
    assert f"{key_id}\tcrm\t" in again.stdout and again.stdout.strip().endswith("revoked")
    missing = runner.invoke(users_app, ["api-key", "revoke", "999999", "--database-url", pg_url])
    assert missing.exit_code == 1 and "no API key with id 999999" in missing.output
