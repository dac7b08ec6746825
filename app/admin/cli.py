"""`switchboard admin`: retention from cron, and the audit trail, on the command line (audited as "cli")."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from app.admin.audit import recent_events
from app.admin.retention import count_expired, delete_expired

admin_app = typer.Typer(help="Retention and the audit trail.", no_args_is_help=True)
DB_OPTION = typer.Option(None, "--database-url", help="Database URL (default: from settings).")


@admin_app.command("retention")
def retention(
    days: int = typer.Option(..., help="Delete conversations with no message in the last DAYS days."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only count them."),
    database_url: str | None = DB_OPTION,
) -> None:
    """Delete (or count) conversations older than DAYS; conversations a human is handling stay."""
    from app.db.session import session_factory

    with session_factory(database_url)() as session:
        try:
            now = datetime.now(UTC)
            if dry_run:
                typer.echo(f"{count_expired(session, days, now)} conversation(s) would be deleted")
                return
            typer.echo(f"deleted {delete_expired(session, days, now, None)} conversation(s)")
        except ValueError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(code=1) from None


@admin_app.command("audit")
def audit(
    limit: int = typer.Option(50, min=1, max=1000, help="How many rows, newest first."),
    database_url: str | None = DB_OPTION,
) -> None:
    """Print the audit trail: when, who, action, target."""
    from app.db.session import session_factory

    with session_factory(database_url)() as session:
        for event in recent_events(session, limit):
            typer.echo(f"{event['at']}\t{event['actor']}\t{event['action']}\t{event['target']}")
