"""A small `switchboard bench chaos`: real processes, real faults, and the database checked after.

20 customers over 2 API nodes and 2 workers (tiny random model) while an API node is killed and
restarted, a worker is killed and restarted, the private Redis restarts empty and PostgreSQL is
cut for 3 s through our TCP proxy. Every message must be stored once and no reply row may stay
`streaming`. Without the orphan sweep (its age set beyond the run) rows are left `streaming`,
which is what the second test shows: the check can fail.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from app.loadtest.chaos import ChaosSpec, run_chaos
from app.loadtest.chaos_check import held
from app.loadtest.cluster import ClusterSpec

pytestmark = pytest.mark.slow

SMALL = ChaosSpec(
    customers=20, think_s=0.0, walk_away_every=5, gap_s=2.0, api_down_s=1.0, worker_down_s=1.0,
    pg_cut_s=3.0, stall_s=10.0, deadline_s=120.0, settle_s=20.0,
)  # fmt: skip


def _run(
    tmp_path: Path, sweep_min_age_s: float, spec: ChaosSpec = SMALL, max_new_tokens: int = 8
) -> dict[str, Any]:
    (tmp_path / "logs").mkdir()
    cluster = ClusterSpec(
        apis=2, workers=2, max_new_tokens=max_new_tokens, claim_idle_ms=2000, database_via_proxy=True,
        sweep_min_age_s=sweep_min_age_s, sweep_interval_s=1.0, log_dir=tmp_path / "logs",
    )  # fmt: skip
    return run_chaos(cluster, spec, tmp_path / "out", log=lambda _: None)


def test_every_message_is_stored_once_and_no_reply_is_left_streaming(tmp_path: Path) -> None:
    result = _run(tmp_path, sweep_min_age_s=2.0)
    r, db = result["result"], result["result"]["database"]
    assert db["messages_sent"] >= 20 and db["customer_rows"] == db["messages_sent"]
    assert held(db), db["problems"]
    assert db["violations"]["streaming"] == 0 and result["settle"]["streaming_left"] == 0
    assert r["reconnects"] > 0  # the faults did reach the customers
    events = " / ".join(e["event"] for e in result["timeline"])
    assert "api1 killed" in events and "worker1 killed" in events and "postgres cut" in events
    assert "| streaming | 0 |" in (tmp_path / "out" / "results.md").read_text()


def test_without_the_orphan_sweep_rows_stay_streaming(tmp_path: Path) -> None:
    # A reply is orphaned only when its node dies mid-reply *and* its customer never comes back
    # (a returning customer's reply is finished by the other node). So here every customer walks
    # away at its first drop and replies are long enough that some are mid-stream when api1 dies;
    # with 8-token replies and one walker in five the kill could land between them and leave none.
    spec = dataclasses.replace(SMALL, walk_away_every=1)
    result = _run(tmp_path, sweep_min_age_s=1e6, spec=spec, max_new_tokens=96)  # sweep off
    db = result["result"]["database"]
    assert not held(db) and db["violations"]["streaming"] > 0, db["violations"]
