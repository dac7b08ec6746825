"""`switchboard kb`: import the knowledge files into the database and export the database to a file."""

from __future__ import annotations

from pathlib import Path

import typer

kb_app = typer.Typer(
    help="The store's knowledge base (products, plans, policies, articles).", no_args_is_help=True
)
DB_OPTION = typer.Option(None, "--database-url", help="Database URL (default: from settings).")


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


@kb_app.command("import")
def import_command(
    path: Path = typer.Argument(None, help="A .jsonl file or a folder of them (default: the repo's seed)."),
    database_url: str = DB_OPTION,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="List the keys added and updated."),
) -> None:
    """Add or update entries from JSONL; unchanged text makes no new version (safe to re-run)."""
    from app.db.session import session_factory, upgrade_database
    from app.knowledge.entries import SEED_DIR
    from app.knowledge.importer import import_path

    source = path or SEED_DIR
    if not source.exists():
        _fail(f"{source} does not exist")
    upgrade_database(database_url)
    with session_factory(database_url)() as session:
        try:
            report = import_path(session, source)
        except ValueError as exc:
            _fail(str(exc))
    if verbose:
        for key in report.added:
            typer.echo(f"added    {key}")
        for key in report.updated:
            typer.echo(f"updated  {key}")
    typer.echo(report.summary())


@kb_app.command("export")
def export_command(
    out: Path = typer.Argument(None, help="Write JSONL here (default: standard output)."),
    database_url: str = DB_OPTION,
    include_deleted: bool = typer.Option(False, help="Also export entries marked deleted."),
) -> None:
    """Write every live entry as JSONL (the import format), ordered by kind then key."""
    import json

    from app.db.session import session_factory, upgrade_database
    from app.knowledge.entries import write_jsonl
    from app.knowledge.importer import export_entries

    upgrade_database(database_url)
    with session_factory(database_url)() as session:
        entries = export_entries(session, include_deleted=include_deleted)
    if out is None:
        for entry in entries:
            typer.echo(json.dumps(entry.to_dict(), ensure_ascii=False))
        return
    count = write_jsonl(entries, out)
    typer.echo(f"{count} entries written to {out}", err=True)
