"""The chat's limits: per conversation, per client IP and system-wide, for messages and new conversations.

A per-conversation limit alone lets anyone open conversations without end and fill the queue for
everybody, so each message also counts against its sender's address and against the whole
system, and opening a conversation counts too. Counts live in a Window shared through Redis when
nodes share one, so adding nodes does not multiply what one client may send.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.limits.window import Window, make_window

if TYPE_CHECKING:
    from app.config import Settings

MINUTE = 60.0


class RateLimited(Exception):
    """Too many messages; ``retry_after`` seconds until the next one is accepted."""

    def __init__(self, limit: int, retry_after: float) -> None:
        super().__init__(f"too many messages: at most {limit} per minute; try again in {retry_after:.0f} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class ChatLimitConfig:
    """Per-minute budgets; every one must be >= 1."""

    per_conversation: int = 30
    per_ip: int = 120
    system_messages: int = 3000
    conversations_per_ip: int = 10
    system_conversations: int = 600

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if value < 1:
                raise ValueError(f"{name} must be >= 1")


class ChatLimits:
    """Checks one message or one new conversation against every budget that applies."""

    def __init__(self, window: Window, config: ChatLimitConfig) -> None:
        self.window = window
        self.config = config

    def message(self, conversation_id: str, ip: str) -> None:
        """Count a customer message, or raise RateLimited (the message is still stored by the caller)."""
        c = self.config
        for key, limit in (
            (f"msg:conv:{conversation_id}", c.per_conversation),
            (f"msg:ip:{ip}", c.per_ip),
            ("msg:all", c.system_messages),
        ):
            retry = self.window.hit(key, limit, MINUTE)
            if retry is not None:
                raise RateLimited(limit, retry)

    def new_conversation(self, ip: str) -> None:
        """Count opening a conversation, or raise NewConversationLimited."""
        c = self.config
        for key, limit in (("conv:ip:" + ip, c.conversations_per_ip), ("conv:all", c.system_conversations)):
            retry = self.window.hit(key, limit, MINUTE)
            if retry is not None:
                raise NewConversationLimited(retry)


class NewConversationLimited(RateLimited):
    """Too many new conversations from this address (or in total) this minute."""

    def __init__(self, retry_after: float) -> None:
        Exception.__init__(
            self, f"too many new conversations right now; please try again in {max(1, round(retry_after))} s"
        )
        self.retry_after = retry_after


def chat_limits_for(settings: Settings) -> ChatLimits:
    """The limits the settings ask for, counted where every node sees them."""
    config = ChatLimitConfig(
        per_conversation=settings.messages_per_minute,
        per_ip=settings.ip_messages_per_minute,
        system_messages=settings.system_messages_per_minute,
        conversations_per_ip=settings.ip_conversations_per_minute,
        system_conversations=settings.system_conversations_per_minute,
    )
    return ChatLimits(make_window(settings.redis_url, "sb:limit:chat:"), config)
