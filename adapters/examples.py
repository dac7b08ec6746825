"""Chat examples (system + user + assistant) and the per-intent system prompts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

# INTENTS is re-exported for the router's training data (app/router/dataset.py).
from adapters.intents import INTENTS as INTENTS
from adapters.intents import check_intent, system_prompts

DATA_DIR = Path(__file__).resolve().parent / "data"
FACTS_PATH = DATA_DIR / "store_facts.json"

# Short on purpose: every token of the system prompt is paid on every request and training step.
# The text lives in adapters/<intent>/system_prompt.txt (adapters.intents), shared with serving.
SYSTEM_PROMPTS: dict[str, str] = system_prompts()


@dataclass(frozen=True)
class ChatExample:
    """One training/eval pair: a customer message and a good agent reply for one intent."""

    intent: str
    user: str
    assistant: str
    source: str
    group: str  # examples of one group (template, source row) always land in the same split
    # The whole system turn when it is not the intent's plain prompt (grounded examples carry facts).
    system: str = ""
    # Earlier (customer, agent) turns of the chat, oldest first; only the last reply is trained on.
    history: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        check_intent(self.intent)
        if not self.user.strip():
            raise ValueError("user must not be empty")
        if not self.assistant.strip():
            raise ValueError("assistant must not be empty")
        for turn in self.history:
            if len(turn) != 2 or not all(t.strip() for t in turn):
                raise ValueError("history turns must be non-empty (customer, agent) pairs")

    def messages(self) -> list[dict[str, str]]:
        """The chat-format messages: system turn, earlier turns, user, assistant."""
        earlier = [
            m
            for user, reply in self.history
            for m in ({"role": "user", "content": user}, {"role": "assistant", "content": reply})
        ]
        return [
            {"role": "system", "content": self.system or SYSTEM_PROMPTS[self.intent]},
            *earlier,
            {"role": "user", "content": self.user},
            {"role": "assistant", "content": self.assistant},
        ]

    def to_json(self) -> dict[str, Any]:
        """A JSON-lines record in the usual chat format (other tools can read ``messages`` as is)."""
        return {
            "intent": self.intent,
            "source": self.source,
            "group": self.group,
            "messages": self.messages(),
        }

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> ChatExample:
        """Inverse of to_json; a missing field is a ValueError naming it."""
        try:
            messages = record["messages"]
            system = messages[0]["content"] if messages and messages[0]["role"] == "system" else ""
            turns = [m for m in messages if m["role"] != "system"]
            if len(turns) < 2 or turns[-1]["role"] != "assistant" or turns[-2]["role"] != "user":
                raise KeyError("messages")
            earlier = turns[:-2]
            history = tuple(
                (u["content"], a["content"]) for u, a in zip(earlier[::2], earlier[1::2], strict=True)
            )
            intent = record["intent"]
            return cls(
                intent=intent,
                user=turns[-2]["content"],
                assistant=turns[-1]["content"],
                source=record.get("source", "unknown"),
                group=record.get("group", turns[-2]["content"]),
                system="" if system == SYSTEM_PROMPTS.get(intent) else system,
                history=history,
            )
        except KeyError as exc:
            raise ValueError(f"example record is missing field {exc.args[0]!r}") from exc


@cache
def store_facts(path: Path = FACTS_PATH) -> dict[str, Any]:
    """The store's products, prices and policies, written once and used by every data builder."""
    return json.loads(path.read_text())


def write_jsonl(path: Path, examples: list[ChatExample]) -> None:
    """Write examples as JSON lines (parent folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        for ex in examples:
            fh.write(json.dumps(ex.to_json(), ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[ChatExample]:
    """Read examples written by write_jsonl; a bad line is a ValueError naming file and line."""
    if not path.is_file():
        raise ValueError(f"data file {path} does not exist (run `switchboard adapters build-data`)")
    out: list[ChatExample] = []
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(ChatExample.from_json(json.loads(line)))
        except ValueError as exc:
            raise ValueError(f"{path}:{n}: {exc}") from exc
    return out
