"""The chaos run's figures: what customers saw, what the database holds; results.json and results.md."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from app.loadtest.chaos_customer import ChaosCustomer


def summarize(customers: list[ChaosCustomer], check: dict[str, Any]) -> dict[str, Any]:
    """Customer-side counts (outcomes, reconnects, latency) next to the database check."""
    exchanges = [ex for c in customers for ex in c.exchanges]
    latencies = sorted(ex.latency_s for ex in exchanges if ex.latency_s is not None)

    def pct(q: float) -> float | None:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 3) if latencies else None

    return {
        "customers": len(customers),
        "customers_who_walked_away": sum(1 for c in customers if c.left),
        "exchanges": len(exchanges),
        "outcomes": dict(Counter(f"{ex.outcome} ({ex.seen_via or '-'})" for ex in exchanges)),
        "reconnects": sum(ex.reconnects for ex in exchanges),
        "resends": sum(ex.resends for ex in exchanges),
        "exchange_latency_s": {
            "p50": pct(0.5),
            "p99": pct(0.99),
            "mean": round(statistics.fmean(latencies), 3) if latencies else None,
        },
        "database": check,
    }


def write_report(result: dict[str, Any], out_dir: Path) -> None:
    """results.json and a markdown page (timeline, outcomes, invariants)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    r, c, db = result["result"], result["cluster"], result["result"]["database"]
    lat, settled = r["exchange_latency_s"], result["settle"]
    lines = [
        "# Chaos: customers chatting while nodes, workers, Redis and PostgreSQL fail",
        "",
        f"{r['customers']} websocket customers over {c['apis']} API nodes and {c['workers']} workers "
        f"(model: {c['dummy']} random weights, so it runs on a small CPU; max_new_tokens "
        f"{c['max_new_tokens']}), a private redis-server and a fresh PostgreSQL database.",
        "PostgreSQL is shared on this machine, so it is never stopped: the nodes reach it through a TCP "
        "proxy the run controls, and the cut refuses and drops every connection through it.",
        f"CPU: {result['cpu'].get('label', 'not recorded')}; load average at the end "
        f"{' / '.join(str(x) for x in result.get('load_average', []))} (1/5/15 min) on "
        f"{result['cpu'].get('usable_cores', '?')} usable cores: a loaded, shared machine; times are slow.",
        "",
        "| t (s) | event |",
        "| ---: | --- |",
        *[f"| {e['t_s']} | {e['event']} |" for e in result["timeline"]],
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| messages sent / customer rows stored | {db['messages_sent']} / {db['customer_rows']} |",
        f"| customers who walked away at a drop | {r['customers_who_walked_away']} |",
        f"| reconnects / re-sends by customers | {r['reconnects']} / {r['resends']} |",
        f"| exchange time p50 / p99 (s) | {lat['p50']} / {lat['p99']} |",
        f"| rows `streaming` when customers were done | {settled['streaming_when_customers_done']} |",
        f"| rows `streaming` after the sweep ({settled['waited_s']} s) | {settled['streaming_left']} |",
        "",
        "Outcomes as customers saw them (via the live stream or the history after a reconnect):",
        "",
        *[f"- {name}: {n}" for name, n in sorted(r["outcomes"].items())],
        "",
        "Rows by role and status: " + ", ".join(f"{k} {v}" for k, v in db["rows_by_role_status"].items()),
        "",
        "| invariant violations | count |",
        "| --- | ---: |",
        *[f"| {name} | {n} |" for name, n in db["violations"].items()],
    ]
    (out_dir / "results.md").write_text("\n".join(lines) + "\n")
