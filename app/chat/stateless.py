"""A stateless channel's turn (the OpenAI API): what it comes to, and the caller's chat grounded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.chat.planning import ReplyPlan
from app.knowledge.reply_facts import ReplyFacts


@dataclass(frozen=True)
class StartedReply:
    """A stateless channel's reply, launched: its job and the knowledge entries it is grounded in."""

    job_id: str
    sources: list[dict[str, Any]]
    conversation_id: str
    plan: ReplyPlan
    notice: str | None = None  # answered with this fixed notice (app.chat.handoff): no job runs
    notice_text: str = ""  # the notice as stored (it may quote a policy); "" for the fixed text


class ConversationWithStaff(RuntimeError):
    """A person holds the conversation (pending, human, closed): the message is stored, no bot reply."""

    def __init__(self, conversation_id: str) -> None:
        super().__init__("a member of staff has this conversation; the message is stored for them")
        self.conversation_id = conversation_id


class ReplyNotStarted(RuntimeError):
    """The reply's job could not be started (busy, engine down); the messages are stored."""


def grounded_chat(messages: list[dict[str, str]], plan: ReplyPlan, facts: ReplyFacts) -> list[dict[str, str]]:
    """The caller's chat with the facts in its system message, or in the intent's system prompt."""
    if messages[0]["role"] == "system":
        system, messages = messages[0]["content"], messages[1:]
    else:
        system = plan.system_prompt
    return [{"role": "system", "content": facts.system_prompt(system)}, *messages]
