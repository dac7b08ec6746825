"""`switchboard bench ...`: each benchmark module contributes one command here."""

from __future__ import annotations

import typer

bench_app = typer.Typer(help="Benchmarks: each compares a technique against its baseline in one run.")
