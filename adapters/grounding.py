"""The grounded-prompt format: how retrieved store facts reach the model, in training and serving alike.

One module so the adapters are trained on exactly the text the server sends them. The facts go
*after* the per-intent system prompt, inside the same system turn, so every request of an intent
still starts with the same tokens and the prefix cache keeps sharing the system prompt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

FACTS_HEADER = "Store facts (answer only from these):"
NO_FACTS_LINE = "Store facts: none found for this question."
# Each fact is cut to this many characters: a help article's first steps fit, a whole page does not.
MAX_FACT_CHARS = 600


@dataclass(frozen=True)
class FactSnippet:
    """One retrieved knowledge entry as the model sees it: a stable key, a title and compact text."""

    key: str
    title: str
    text: str

    def __post_init__(self) -> None:
        if not self.key.strip():
            raise ValueError("key must not be empty")
        if not self.text.strip():
            raise ValueError("text must not be empty")

    def body(self) -> str:
        """``Title: text`` on one line, the text cut to MAX_FACT_CHARS: what the model reads."""
        text = " ".join(self.text.split())
        if len(text) > MAX_FACT_CHARS:
            text = text[: MAX_FACT_CHARS - 3].rstrip() + "..."
        return f"{self.title}: {text}"

    def line(self, number: int) -> str:
        """``[n] Title: text``, the numbered line of the facts block."""
        return f"[{number}] {self.body()}"


def facts_block(facts: Sequence[FactSnippet]) -> str:
    """The facts as numbered lines under a header, or a line saying none were found."""
    if not facts:
        return NO_FACTS_LINE
    return "\n".join([FACTS_HEADER, *(f.line(i) for i, f in enumerate(facts, start=1))])


def grounded_system_prompt(system_prompt: str, facts: Sequence[FactSnippet]) -> str:
    """The system turn: the intent's system prompt, a blank line, then the facts block."""
    return f"{system_prompt.strip()}\n\n{facts_block(facts)}"
