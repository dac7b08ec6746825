"""A small `switchboard bench load`: real API and worker processes, customers over websockets."""

from __future__ import annotations

import json
from pathlib import Path

from app.loadtest.cluster import ClusterSpec
from app.loadtest.load_bench import LoadSpec, run_load


def test_every_message_and_reply_is_stored_exactly_once(tmp_path: Path) -> None:
    cluster = ClusterSpec(apis=2, workers=2, max_new_tokens=8, log_dir=tmp_path / "logs")
    (tmp_path / "logs").mkdir()
    result = run_load(
        cluster, LoadSpec(customers=20, messages=2, deadline_s=240), tmp_path / "out", log=lambda _: None
    )
    r = result["result"]
    assert r["messages_sent"] == 40 and r["customer_errors"] == 0, r["error_samples"]
    assert r["replies_ok"] == 40 and r["reply_errors"] == 0, r["error_samples"]
    assert r["checked_messages"] == 40 and r["storage_problems"] == []
    assert r["latency_s"]["p50"] is not None and r["latency_s"]["p99"] >= r["latency_s"]["p50"]
    written = json.loads((tmp_path / "out" / "results.json").read_text())
    assert written["result"]["replies_ok"] == 40
    assert "| replies ok | 40 |" in (tmp_path / "out" / "results.md").read_text()
