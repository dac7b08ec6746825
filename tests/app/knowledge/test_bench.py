"""The retrieval benchmark: the question set is well formed and the bench runs end to end on SQLite."""

from __future__ import annotations

import json
from pathlib import Path

from app.knowledge.bench import load_questions, run_backend, write_results
from app.knowledge.entries import SEED_DIR, read_entries


def test_question_set_labels_only_existing_keys() -> None:
    questions = load_questions()
    keys = {e.key for e in read_entries(SEED_DIR)}
    assert sum(1 for q in questions if q.keys) >= 100
    assert sum(1 for q in questions if not q.keys) >= 20
    for q in questions:
        assert set(q.keys) <= keys, q
        assert q.need in ("any", "all")


def test_bench_runs_and_writes_results(tmp_path: Path) -> None:
    result = run_backend("sqlite", entries=300, rounds=1, pg_admin_url="unused")
    seed = result["seed_only"]
    # A floor, not a figure: retrieval this poor would mean it is broken, not tuned differently.
    assert seed["recall@4"] >= 0.85 and seed["off_topic_rejected"] >= 0.7
    assert result["entries"] == 300 and result["latency"]["calls"] == len(load_questions())
    results = {
        "cpu": "test",
        "command": "test",
        "question_set": "q",
        "questions": seed["questions"],
        "off_topic_questions": seed["off_topic_questions"],
        "entries": 300,
        "rounds": 1,
        "backends": {"sqlite": result},
    }
    json_path, md_path = write_results(results, tmp_path)
    assert json.loads(json_path.read_text())["backends"]["sqlite"]["entries"] == 300
    assert "| sqlite | 300 |" in md_path.read_text()
