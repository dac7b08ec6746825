"""Transcript export as CSV or JSON: one conversation or every conversation a filter matches."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from itertools import groupby
from typing import Any, Literal

from sqlalchemy.orm import Session

from app.staff.filters import ConversationFilter
from app.staff.search import matching_ids
from app.staff.transcript import message_records

ExportFormat = Literal["csv", "json"]
MAX_EXPORT_CONVERSATIONS = 5000
BATCH = 200
CSV_COLUMNS = (
    "conversation_id", "message_id", "created_at", "role", "text", "status", "intent",
    "router_confidence", "adapter", "strategy", "decoding", "decoding_version", "prompt_tokens",
    "completion_tokens", "latency_ms", "ttft_ms", "tokens_per_s", "staff", "rating",
)  # fmt: skip
# A record calls the message's own id "id" (as the JSON export and the transcript API do); in a
# flat CSV row beside conversation_id it needs its full name.
CSV_NAMES = {"message_id": "id"}


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True)
    # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def iter_records(session: Session, conversation_ids: list[str]) -> Iterator[dict[str, Any]]:
    """Message records of ``conversation_ids`` in that order, fetched in batches."""
    for start in range(0, len(conversation_ids), BATCH):
        chunk = conversation_ids[start : start + BATCH]
        by_conv: dict[str, list[dict[str, Any]]] = {cid: [] for cid in chunk}
        for record in message_records(session, chunk):
            by_conv[record["conversation_id"]].append(record)
        for cid in chunk:
            yield from by_conv[cid]


def to_csv(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """CSV text, header first, streamed a row at a time."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for record in records:
        writer.writerow({k: _cell(record.get(CSV_NAMES.get(k, k))) for k in CSV_COLUMNS})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def to_json(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A JSON object {"conversations": [{"id", "messages"}...]}, streamed a conversation at a time."""
    yield '{"conversations": ['
    for i, (cid, group) in enumerate(groupby(records, key=lambda r: r["conversation_id"])):
        yield ("" if i == 0 else ", ") + json.dumps({"id": cid, "messages": list(group)})
    yield "]}"


def export_ids(session: Session, flt: ConversationFilter) -> list[str]:
    """Every conversation the filter matches (ignoring pagination), capped."""
    return matching_ids(session, flt, limit=MAX_EXPORT_CONVERSATIONS)


def render(session: Session, conversation_ids: list[str], fmt: ExportFormat) -> Iterator[str]:
    """The export body, as chunks."""
    records = iter_records(session, conversation_ids)
    return to_csv(records) if fmt == "csv" else to_json(records)
