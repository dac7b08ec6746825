"""`switchboard bench retrieval`: recall@1/@4 on the labelled questions and p99 latency at 10,000 entries.

Runs the real `retrieve` on a fresh SQLite file and a fresh PostgreSQL database: first with the seed
alone (recall), then with synthetic entries added up to ``entries`` (recall under distractors, and
latency: every question timed end to end, including the per-message revision read).
"""

from __future__ import annotations

import json
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from app.knowledge.entries import SEED_DIR, read_entries
from app.knowledge.importer import import_entries
from app.knowledge.retrieval import retrieve_for_message
from app.knowledge.synthetic import bulk_insert, synthetic_entries, vocabulary

EVAL_PATH = Path(__file__).parent / "eval" / "questions.jsonl"


@dataclass(frozen=True)
class Question:
    """One labelled question: any (or, for comparisons, all) of ``keys`` answer it; none = off-topic."""

    id: int
    question: str
    keys: tuple[str, ...]
    history: tuple[str, ...]
    need: str


def load_questions(path: Path = EVAL_PATH) -> list[Question]:
    """The labelled question set."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [
        Question(r["id"], r["question"], tuple(r["keys"]), tuple(r.get("history", ())), r.get("need", "any"))
        for r in rows
    ]


def cpu_description() -> str:
    """CPU model and the vector flags that matter, for every committed figure."""
    model, flags = platform.processor() or "unknown", ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model in ("unknown", "", "x86_64"):
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                present = set(line.split(":", 1)[1].split())
                wanted = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile")
                flags = " ".join(f for f in wanted if f in present)
    except OSError:
        pass
    return f"{model} ({flags})" if flags else model


def evaluate(session: Session, questions: Sequence[Question], k: int = 4) -> dict[str, Any]:
    """recall@1 and recall@k over answerable questions; share of off-topic questions given no facts."""
    at1 = atk = rejected = 0
    misses: list[dict[str, Any]] = []
    answerable = [q for q in questions if q.keys]
    for q in questions:
        _query, hits = retrieve_for_message(session, q.question, q.history, k=k)
        got = [h.key for h in hits]
        if not q.keys:
            rejected += not got
            if got:
                misses.append({"id": q.id, "question": q.question, "expected": [], "got": got})
            continue
        top1 = bool(got) and got[0] in q.keys
        within = set(q.keys) <= set(got) if q.need == "all" else bool(set(q.keys) & set(got))
        at1 += top1
        atk += within
        if not within or not top1:
            misses.append({"id": q.id, "question": q.question, "expected": list(q.keys), "got": got})
    negatives = len(questions) - len(answerable)
    return {
        "questions": len(answerable),
        "off_topic_questions": negatives,
        "recall@1": round(at1 / len(answerable), 4),
        f"recall@{k}": round(atk / len(answerable), 4),
        "off_topic_rejected": round(rejected / negatives, 4) if negatives else None,
        "misses": misses,
    }


def _percentiles(values: list[float], prefix: str) -> dict[str, float]:
    values = sorted(values)
    return {
        f"{prefix}p50_ms": round(statistics.median(values), 3),
        f"{prefix}p95_ms": round(values[int(0.95 * (len(values) - 1))], 3),
        f"{prefix}p99_ms": round(values[int(0.99 * (len(values) - 1))], 3),
        f"{prefix}max_ms": round(values[-1], 3),
    }


def latency(session: Session, questions: Sequence[Question], rounds: int) -> dict[str, float]:
    """Milliseconds per reply's retrieval over ``rounds`` passes of the questions (after one warm-up).

    Wall time, and this thread's CPU time beside it: on a shared machine the difference is time
    spent waiting for a core (and, on PostgreSQL, the server's own work, which runs elsewhere).
    """
    for q in questions:
        retrieve_for_message(session, q.question, q.history)
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(rounds):
        for q in questions:
            start, start_cpu = time.perf_counter(), time.thread_time()
            retrieve_for_message(session, q.question, q.history)
            wall.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
    return {"calls": len(wall), **_percentiles(wall, ""), **_percentiles(cpu, "client_cpu_")}


@contextmanager
def _database(dialect: str, pg_admin_url: str) -> Iterator[str]:
    if dialect == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    name = f"sb_kbbench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        from app.db.session import get_engine

        get_engine.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_backend(dialect: str, entries: int, rounds: int, pg_admin_url: str) -> dict[str, Any]:
    """Seed-only recall, then recall and latency with synthetic entries up to ``entries``."""
    from app.db.session import session_factory, upgrade_database

    questions = load_questions()
    seed = read_entries(SEED_DIR)
    with _database(dialect, pg_admin_url) as url:
        upgrade_database(url)
        with session_factory(url)() as session:
            import_entries(session, seed, actor="bench")
            seed_only = evaluate(session, questions)
            extra = max(0, entries - len(seed))
            bulk_insert(session, synthetic_entries(extra, vocabulary(seed)))
            if dialect == "postgresql":
                session.execute(text("ANALYZE knowledge_entries"))
                session.commit()
            full = evaluate(session, questions)
            timing = latency(session, questions, rounds)
    return {"entries": len(seed) + extra, "seed_only": seed_only, "with_synthetic": full, "latency": timing}


def write_results(results: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """results.json and a short results.md (figures, CPU, command) under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "results.json", out / "results.md"
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "# Retrieval benchmark",
        "",
        f"CPU: {results['cpu']}  ",
        f"Command: `{results['command']}`  ",
        f"Questions: {results['question_set']} ({results['questions']} answerable, "
        f"{results['off_topic_questions']} off-topic)",
        "",
        "| backend | entries | recall@1 seed | recall@4 seed | off-topic rejected "
        "| recall@1 full | recall@4 full | p50 ms | p99 ms | client CPU p99 ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in results["backends"].items():
        s, f, t = r["seed_only"], r["with_synthetic"], r["latency"]
        lines.append(
            f"| {name} | {r['entries']} | {s['recall@1']:.3f} | {s['recall@4']:.3f} | "
            f"{s['off_topic_rejected']:.3f} | {f['recall@1']:.3f} | {f['recall@4']:.3f} | "
            f"{t['p50_ms']:.2f} | {t['p99_ms']:.2f} | {t['client_cpu_p99_ms']:.2f} |"
        )
    lines += [
        "",
        "Latency: one `retrieve_for_message` call per question (revision read, names, FTS, re-score),",
        f"{results['rounds']} passes over the question set on the {results['entries']}-entry base.",
        "",
    ]
    md_path.write_text("\n".join(lines))
    return json_path, md_path
