"""`switchboard users`: create staff/operator accounts, list them, issue API keys."""

from __future__ import annotations

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.admin.accounts import create_user
from app.admin.keys import issue_key, revoke_key
from app.auth.api_keys import KEY_PREFIX
from app.db.models import ApiKey, StaffUser

users_app = typer.Typer(help="Staff and operator accounts, and API keys.", no_args_is_help=True)
api_key_app = typer.Typer(help="API keys for the OpenAI-compatible API.", no_args_is_help=True)
users_app.add_typer(api_key_app, name="api-key")

DB_OPTION = typer.Option(None, "--database-url", help="Database URL (default: from settings).")


def _session(database_url: str | None) -> Session:
    from app.db.session import session_factory, upgrade_database

    upgrade_database(database_url)  # a fresh install may create its first user before first serve
    return session_factory(database_url)()


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


@users_app.command("create")
def create(
    username: str = typer.Option(..., help="Login name."),
    role: str = typer.Option("staff", help="staff or operator."),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, help="Prompted when omitted."
    ),
    database_url: str | None = DB_OPTION,
) -> None:
    """Create a staff or operator account (argon2-hashed password)."""
    with _session(database_url) as session:
        try:
            user = create_user(session, username, role, password)
        except ValueError as exc:
            _fail(str(exc))
            return
    typer.echo(f"created {user.role} {user.username} (id {user.id})")


@users_app.command("list")
def list_users(database_url: str | None = DB_OPTION) -> None:
    """List accounts: id, username, role, active."""
    with _session(database_url) as session:
        for user in session.scalars(select(StaffUser).order_by(StaffUser.id)):
            state = "active" if user.is_active else "disabled"
            typer.echo(f"{user.id}\t{user.username}\t{user.role}\t{state}")


@api_key_app.command("create")
def api_key_create(
    name: str = typer.Option(..., help="What the key is for (shown in listings)."),
    database_url: str | None = DB_OPTION,
) -> None:
    """Create an API key and print it once; only its hash is stored."""
    with _session(database_url) as session:
        try:
            _, key = issue_key(session, name, None)  # audited as done by "cli"
        except ValueError as exc:
            _fail(str(exc))
            return
    typer.echo(key)
    typer.secho("store it now: it cannot be shown again", err=True)


@api_key_app.command("list")
def api_key_list(database_url: str | None = DB_OPTION) -> None:
    """List keys: id, name, prefix (the clear key is never stored), created, live or revoked."""
    with _session(database_url) as session:
        for row in session.scalars(select(ApiKey).order_by(ApiKey.id)):
            state = "revoked" if row.revoked else "live"
            created = row.created_at.isoformat(timespec="seconds") if row.created_at else "-"
            typer.echo(f"{row.id}\t{row.name}\t{KEY_PREFIX}{row.prefix}.…\t{created}\t{state}")


@api_key_app.command("revoke")
def api_key_revoke(
    key_id: int = typer.Argument(..., help="The key's id (see `api-key list`)."),
    database_url: str | None = DB_OPTION,
) -> None:
    """Revoke a key: every later call with it gets 401."""
    with _session(database_url) as session:
        try:
            revoke_key(session, key_id, None)
        except LookupError as exc:
            _fail(str(exc))
            return
    typer.echo(f"revoked API key {key_id}")
