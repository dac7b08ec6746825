"""Factual-accuracy eval: does a reply state the fact the question needs, and invent no number?

The questions (adapters/eval/facts_questions.jsonl) were written by hand from the knowledge entries
before any grounded training data existed, and are never used for training. This module holds
the scoring and the report; fact_eval_run.py produces the replies through the chat path.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.config import REPO_ROOT

QUESTIONS_PATH = REPO_ROOT / "adapters" / "eval" / "facts_questions.jsonl"
RESULTS_DIR = REPO_ROOT / "docs" / "benchmarks" / "facts"
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3})")
_SPACE_DASH = re.compile(r"[\s\-\u2010-\u2015]+")
# Numbers as a reply writes them: money, decimals, times, ranges' ends, phone groups, percentages.
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")


@dataclass(frozen=True)
class FactQuestion:
    """One eval question: the customer's turns and the strings a correct final reply must contain."""

    id: str
    kind: str
    turns: tuple[str, ...]
    must_contain_any: tuple[str, ...] = ()
    must_contain_all: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.turns or not all(t.strip() for t in self.turns):
            raise ValueError(f"question {self.id}: turns must be non-empty")
        if not self.must_contain_any and not self.must_contain_all:
            raise ValueError(f"question {self.id}: needs must_contain_any or must_contain_all")


def load_questions(path: Path = QUESTIONS_PATH) -> list[FactQuestion]:
    """The eval set; a bad line is a ValueError naming file and line."""
    out = []
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            out.append(
                FactQuestion(
                    r["id"],
                    r["kind"],
                    tuple(r["turns"]),
                    tuple(r.get("must_contain_any", ())),
                    tuple(r.get("must_contain_all", ())),
                    tuple(r.get("keys", ())),
                )
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: {exc}") from exc
    return out


def normalise(text: str) -> str:
    """Lower case, curly quotes straight, thousands commas, spaces and dashes dropped ("$1,499" = "$1499")."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return _SPACE_DASH.sub("", _THOUSANDS.sub("", text))


def states_fact(reply: str, question: FactQuestion) -> bool:
    """True if the reply contains every must_contain_all string and at least one must_contain_any."""
    got = normalise(reply)
    if not all(normalise(s) in got for s in question.must_contain_all):
        return False
    return not question.must_contain_any or any(normalise(s) in got for s in question.must_contain_any)


def _local_unverified(reply: str, texts: Iterable[str]) -> list[str]:
    """Fallback post-check: numbers of the reply that appear in none of the texts (digits compared)."""
    known = {_THOUSANDS.sub("", n) for t in texts for n in _NUMBER.findall(t)}
    known |= {part for n in known for part in re.split(r"[.:]", n)}
    out: dict[str, None] = {}
    for n in _NUMBER.findall(reply):
        value = _THOUSANDS.sub("", n).rstrip(".,")
        if value and value not in known:
            out.setdefault(n, None)
    return list(out)


def unverified(reply: str, texts: Sequence[str]) -> list[str]:
    """Numbers (and emails/phones) in the reply absent from ``texts``: the number guard's post-check."""
    try:
        from inference.number_guard import allowed_values, unverified_numbers
    except ImportError:  # the guard module not yet on this checkout
        return _local_unverified(reply, texts)
    return unverified_numbers(reply, allowed_values(texts))


@dataclass
class Outcome:
    """What one question produced: the final reply, how it was routed and grounded, and its score."""

    question: FactQuestion
    reply: str
    intent: str
    adapter: str | None
    fact_keys: list[str]
    fact_texts: list[str]
    reply_tokens: int
    finish_reason: str | None
    turns_replies: list[str] = field(default_factory=list)

    def correct(self) -> bool:
        return states_fact(self.reply, self.question)

    def invented(self) -> list[str]:
        return unverified(self.reply, self.fact_texts)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.question.id,
            "kind": self.question.kind,
            "turns": list(self.question.turns),
            "replies": self.turns_replies,
            "reply": self.reply,
            "correct": self.correct(),
            "invented_numbers": self.invented(),
            "intent": self.intent,
            "adapter": self.adapter,
            "facts": self.fact_keys,
            "reply_tokens": self.reply_tokens,
            "finish_reason": self.finish_reason,
        }


def summarise(outcomes: Sequence[Outcome], kb_texts: Sequence[str]) -> dict[str, Any]:
    """% right per kind and overall, invented numbers (vs retrieved facts and vs the whole KB), tokens."""
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_kind[o.question.kind].append(o)
    pct = {k: round(100 * sum(o.correct() for o in v) / len(v), 1) for k, v in sorted(by_kind.items())}
    invented = [n for o in outcomes for n in o.invented()]
    not_in_kb = [n for o in outcomes for n in unverified(o.reply, kb_texts)]
    tokens = [o.reply_tokens for o in outcomes]
    return {
        "questions": len(outcomes),
        "right_pct": round(100 * sum(o.correct() for o in outcomes) / max(1, len(outcomes)), 1),
        "right_pct_by_kind": pct,
        "count_by_kind": {k: len(v) for k, v in sorted(by_kind.items())},
        "invented_numbers": len(invented),
        "replies_with_invented_numbers": sum(bool(o.invented()) for o in outcomes),
        "numbers_not_in_knowledge": len(not_in_kb),
        "median_reply_tokens": statistics.median(tokens) if tokens else 0,
        "hit_max_new_tokens": sum(o.finish_reason == "length" for o in outcomes),
    }


def render_markdown(result: dict[str, Any], samples: int = 12) -> str:
    """The summary table and a few sample replies, for docs/benchmarks/facts/<label>.md."""
    s = result["summary"]
    lines = [
        f"# Factual eval: {result['label']}",
        "",
        f"Command: `{result['command']}`  ",
        f"CPU: {result['cpu']}; {result['setup']}; wall {result['wall_s']:.0f} s",
        "",
        f"- questions: {s['questions']}; **right fact: {s['right_pct']}%**",
        f"- invented numbers (not in the facts retrieved for the reply): {s['invented_numbers']} "
        f"in {s['replies_with_invented_numbers']} replies; numbers in no knowledge entry at all: "
        f"{s['numbers_not_in_knowledge']}",
        f"- median reply tokens: {s['median_reply_tokens']}; replies cut at max_new_tokens: "
        f"{s['hit_max_new_tokens']}",
        "",
        "| kind | questions | right % |",
        "| --- | --- | --- |",
    ]
    for kind, value in s["right_pct_by_kind"].items():
        lines.append(f"| {kind} | {s['count_by_kind'][kind]} | {value} |")
    lines += ["", "## Sample replies", ""]
    rows = result["outcomes"]
    step = max(1, len(rows) // samples)
    for row in rows[::step][:samples]:
        mark = "right" if row["correct"] else "wrong"
        extra = f"; invented: {', '.join(row['invented_numbers'])}" if row["invented_numbers"] else ""
        lines.append(f"- **{row['id']}** ({row['kind']}, {row['intent']}) _{' / '.join(row['turns'])}_")
        lines.append(f"  - {mark}{extra}: {row['reply']}")
    return "\n".join(lines) + "\n"


def write_results(result: dict[str, Any], out_dir: Path = RESULTS_DIR) -> tuple[Path, Path]:
    """<out>/<label>.json and .md."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / f"{result['label']}.json", out_dir / f"{result['label']}.md"
    json_path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    md_path.write_text(render_markdown(result))
    return json_path, md_path
