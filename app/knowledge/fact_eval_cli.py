"""`switchboard kb eval`: the factual-accuracy eval through the chat path (docs/benchmarks/facts/)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import typer

from app.knowledge.fact_eval import QUESTIONS_PATH, RESULTS_DIR, load_questions, summarise, write_results


def fact_eval_command(
    label: str = typer.Option(..., help="Name of this run: docs/benchmarks/facts/<label>.{json,md}."),
    questions: Path = typer.Option(QUESTIONS_PATH, help="The eval questions (JSONL)."),
    adapters_dir: Path = typer.Option(None, help="Adapters to serve (default: settings.adapters_dir)."),
    ungrounded: bool = typer.Option(False, help="No retrieval, no facts in the prompt (the old chat path)."),
    number_guard: str = typer.Option("", help="decode | check | off (default: the chat path's setting)."),
    greedy: bool = typer.Option(False, help="What-if: greedy decoding for every intent."),
    limit: int = typer.Option(0, help="Only every n-th question so that at most this many run (0 = all)."),
    out: Path = typer.Option(RESULTS_DIR, help="Where the results go."),
) -> None:
    """% of replies stating the right fact (per kind), invented numbers and median reply tokens."""
    from app.config import settings
    from app.knowledge.entries import read_entries
    from app.knowledge.fact_eval_run import run_questions
    from inference.cpu_features import cpu_info

    qs = load_questions(questions)
    if limit and len(qs) > limit:
        step = len(qs) / limit
        qs = [qs[int(i * step)] for i in range(limit)]
    run_settings = settings.model_copy(update={"adapters_dir": adapters_dir}) if adapters_dir else settings
    outcomes, setup = run_questions(
        qs, run_settings, grounded=not ungrounded, number_guard=number_guard, greedy=greedy
    )
    kb_texts = [e.text for e in read_entries()]
    result = {
        "label": label,
        "command": "switchboard " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "cpu": cpu_info().label(),
        "setup": ", ".join(f"{k}={v}" for k, v in setup.items() if k != "wall_s"),
        "wall_s": setup["wall_s"],
        "summary": summarise(outcomes, kb_texts),
        "outcomes": [o.to_json() for o in outcomes],
    }
    json_path, md_path = write_results(result, out)
    s = result["summary"]
    typer.echo(
        f"{s['questions']} questions: {s['right_pct']}% right, {s['invented_numbers']} invented numbers, "
        f"median {s['median_reply_tokens']} reply tokens; wrote {json_path} and {md_path}"
    )
