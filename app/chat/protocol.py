"""Websocket frames: parse and validate what the client sends; shape what the server sends."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from app.chat.customer_errors import GENERATION
from app.generation.backend import JobEvent

MAX_DEPTH = 4
MAX_ID_CHARS = 64
# C0/C1 control characters other than tab and newline: invisible, and break transcripts and logs.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# JSON may escape half of a surrogate pair ("\ud800"): not a character, and not storable as UTF-8.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# The stored/route frames come first, so token events of the backend start at this frame seq.
FIRST_BACKEND_SEQ = 2
# A "continue" frame (the page's button under a reply cut at max_new_tokens) is stored and answered
# as this customer message: the model sees its own cut reply in the context and carries on.
CONTINUE_TEXT = "Please continue."


class ProtocolError(ValueError):
    """A frame the server cannot accept; the message is sent back as an `error` event."""


@dataclass(frozen=True)
class Hello:
    token: str | None
    conversation_id: str | None
    last_seq: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SendMessage:
    text: str
    client_id: str | None


@dataclass(frozen=True)
class Stop:
    pass


@dataclass(frozen=True)
class Feedback:
    message_id: int
    rating: int


@dataclass(frozen=True)
class Handoff:
    pass


@dataclass(frozen=True)
class Resume:
    job_id: str
    after: int


ClientFrame = Hello | SendMessage | Stop | Feedback | Handoff | Resume


def _depth(value: Any, level: int = 1) -> int:
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level


def _opt_str(data: dict[str, Any], name: str, limit: int = MAX_ID_CHARS) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ProtocolError(f"'{name}' must be a string of at most {limit} characters or null")
    if _SURROGATE.search(value):
        raise ProtocolError(f"'{name}' contains an unpaired surrogate (not valid Unicode)")
    return value


def _int(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtocolError(f"'{name}' must be an integer")
    return value


def check_text(text: Any, max_chars: int) -> str:
    """The customer's message, or ProtocolError: a string, not blank, not too long, no control chars."""
    if not isinstance(text, str):
        raise ProtocolError("'text' must be a string")
    if not text.strip():
        raise ProtocolError("message is empty")
    if len(text) > max_chars:
        raise ProtocolError(f"message is too long ({len(text)} characters, limit {max_chars})")
    if _CONTROL.search(text):
        raise ProtocolError("message contains control characters")
    if _SURROGATE.search(text):
        raise ProtocolError("message contains an unpaired surrogate (not valid Unicode)")
    return text.strip()


def parse_frame(raw: str | bytes | None, max_bytes: int, max_chars: int) -> ClientFrame:
    """Decode one client frame; any problem is a ProtocolError with a readable message."""
    if raw is None or isinstance(raw, bytes):
        raise ProtocolError("binary frames are not supported; send JSON text")
    if len(raw.encode("utf-8", "surrogatepass")) > max_bytes:
        raise ProtocolError(f"frame is too large (limit {max_bytes} bytes)")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ProtocolError(f"frame is nested too deeply (limit {MAX_DEPTH} levels)") from None
    except ValueError as exc:
        raise ProtocolError(f"frame is not valid JSON ({exc.msg if hasattr(exc, 'msg') else exc})") from None
    if not isinstance(data, dict):
        raise ProtocolError("frame must be a JSON object with a 'type'")
    if _depth(data) > MAX_DEPTH:
        raise ProtocolError(f"frame is nested too deeply (limit {MAX_DEPTH} levels)")
    kind = data.get("type")
    if kind == "hello":
        last_seq = data.get("last_seq") or {}
        if not isinstance(last_seq, dict) or len(last_seq) > 32:
            raise ProtocolError("'last_seq' must be an object {job_id: seq} with at most 32 entries")
        seqs: dict[str, int] = {}
        for job_id, seq in last_seq.items():
            if len(job_id) > MAX_ID_CHARS or not isinstance(seq, int) or isinstance(seq, bool):
                raise ProtocolError("'last_seq' values must be integers keyed by job id")
            seqs[job_id] = seq
        return Hello(_opt_str(data, "token", 512), _opt_str(data, "conversation_id"), seqs)
    if kind == "message":
        return SendMessage(check_text(data.get("text"), max_chars), _opt_str(data, "client_id"))
    if kind == "continue":
        return SendMessage(CONTINUE_TEXT, _opt_str(data, "client_id"))
    if kind == "stop":
        return Stop()
    if kind == "feedback":
        rating = _int(data, "rating")
        if rating not in (1, -1):
            raise ProtocolError("'rating' must be 1 or -1")
        return Feedback(_int(data, "message_id"), rating)
    if kind == "handoff":
        return Handoff()
    if kind == "resume":
        job_id = _opt_str(data, "job_id")
        if not job_id:
            raise ProtocolError("'job_id' is required")
        return Resume(job_id, _int(data, "after"))
    raise ProtocolError(
        f"unknown frame type {kind!r}; expected hello, message, continue, stop, feedback, handoff, resume"
    )


def job_frame(event: JobEvent, message_id: int | None = None) -> dict[str, Any]:
    """A backend event as a websocket frame (seq shifted past the stored/route frames)."""
    seq = event.seq + FIRST_BACKEND_SEQ
    if event.kind == "token":
        return {"type": "token", "job_id": event.job_id, "seq": seq, "text": event.text}
    if event.kind == "error":
        return {
            "type": "error",
            "job_id": event.job_id,
            "seq": seq,
            # event.error (kept on the row for staff) may name hosts and internals; customers get a sentence.
            "message": GENERATION,
            "message_id": message_id,
        }
    return {
        "type": "done",
        "job_id": event.job_id,
        "seq": seq,
        "message_id": message_id,
        "text": event.text,
        "finish_reason": event.finish_reason,
        "tokens": event.completion_tokens,
        "latency_ms": event.extra.get("elapsed_ms"),
    }


def error_frame(message: str, **extra: Any) -> dict[str, Any]:
    """A protocol or service error for the client (the socket stays open)."""
    return {"type": "error", "message": message, **extra}
