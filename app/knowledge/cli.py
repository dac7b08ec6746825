"""`switchboard kb`: import the knowledge files into the database and export the database to a file."""

from __future__ import annotations

from pathlib import Path

import typer

from app.knowledge.fact_eval_cli import fact_eval_command

kb_app = typer.Typer(
    help="The store's knowledge base (products, plans, policies, articles).", no_args_is_help=True
)
kb_app.command("eval")(fact_eval_command)
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


def bench_retrieval(
    entries: int = typer.Option(10_000, min=1, help="Knowledge base size for the latency run."),
    rounds: int = typer.Option(5, min=1, help="Passes over the question set when timing."),
    backends: str = typer.Option("sqlite,postgresql", help="Comma-separated: sqlite, postgresql."),
    pg_url: str = typer.Option(
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="An admin URL; a throw-away database is created beside it and dropped afterwards.",
    ),
    out: Path = typer.Option(Path("docs/benchmarks/retrieval"), help="Where results.json/.md go."),
) -> None:
    """Retrieval recall@1/@4 on the labelled questions and p99 latency at ``entries`` entries."""
    import sys

    from app.knowledge.bench import EVAL_PATH, cpu_description, load_questions, run_backend, write_results

    questions = load_questions()
    results: dict[str, object] = {
        "cpu": cpu_description(),
        "command": "switchboard bench retrieval " + " ".join(sys.argv[3:]),
        "question_set": str(EVAL_PATH.relative_to(EVAL_PATH.parents[3])),
        "questions": sum(1 for q in questions if q.keys),
        "off_topic_questions": sum(1 for q in questions if not q.keys),
        "entries": entries,
        "rounds": rounds,
        "backends": {},
    }
    for name in [b.strip() for b in backends.split(",") if b.strip()]:
        if name not in ("sqlite", "postgresql"):
            _fail(f"unknown backend {name!r} (sqlite, postgresql)")
        typer.echo(f"{name}: {entries} entries ...", err=True)
        result = run_backend(name, entries, rounds, pg_url)
        results["backends"][name] = result  # type: ignore[index]
        s, f, t = result["seed_only"], result["with_synthetic"], result["latency"]
        typer.echo(
            f"{name}: recall@1 {s['recall@1']:.3f} recall@4 {s['recall@4']:.3f} "
            f"off-topic rejected {s['off_topic_rejected']:.3f} | at {result['entries']}: "
            f"recall@1 {f['recall@1']:.3f} recall@4 {f['recall@4']:.3f} p50 {t['p50_ms']:.2f} ms "
            f"p99 {t['p99_ms']:.2f} ms (client CPU p99 {t['client_cpu_p99_ms']:.2f} ms)"
        )
    json_path, md_path = write_results(results, out)
    typer.echo(f"wrote {json_path} and {md_path}", err=True)
