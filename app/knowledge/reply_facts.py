"""The facts one bot reply is grounded in: retrieved per message, put in the prompt, and recorded.

Every channel calls this for every bot reply (the websocket chat through ChatService, the OpenAI
API), reading the knowledge base from the database each time, so an operator's edit reaches the
very next reply on every node.

Prompt placement and budget: the facts go into the *system* turn, after the intent's system prompt
(adapters.grounding.grounded_system_prompt), so requests of one intent still share the system
prompt's tokens in the prefix cache. The prompt builder always keeps the system turn and drops the
oldest conversation turns first when the prompt is over budget, so the facts are never the part
that is cut; they are bounded instead (DEFAULT_K entries of at most MAX_FACT_CHARS each).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.grounding import FactSnippet, facts_block, grounded_system_prompt
from app.db.models import KnowledgeVersion, Message, MessageSource, Retrieval
from app.knowledge.cheapest import cheapest_first
from app.knowledge.not_sold import CatalogueItem, note_for, relatives_to_drop, unsold_model
from app.knowledge.quotes import MessageCues, cues_of, policy_quote, quote_for
from app.knowledge.retrieval import DEFAULT_K, Hit, hits_to_snippets, retrieve, retrieve_for_message
from app.knowledge.snapshot import snapshot
from inference import allowed_values

log = logging.getLogger(__name__)
RECENT_TURNS = 2  # earlier customer messages that may say what "it" is
GUARD_MODES = ("decode", "check", "off")  # settings.number_guard
# How the adapters' "I don't know" replies begin (adapters/datasets/grounded_unknown.py).
REFUSAL_OPENINGS = ("I don't know", "I can't see")
# A top entry holding this share of the question's words answers it even when no name was used
# ("whats ur phone number" -> the support phone entry, every word found).
COVERED = 0.8


@dataclass(frozen=True)
class Steering:
    """How a reply's decoding leans on its facts: the texts the copy bias pulls towards
    (inference/copy_bias.py), the openings it may not use (inference/opening_ban.py) and the one it
    must use (inference/forced_opening.py)."""

    copy_from: tuple[str, ...] = ()
    banned_openings: tuple[str, ...] = ()
    forced_opening: str = ""  # the text the reply must begin with (inference/forced_opening.py)
    end_after_opening: bool = False  # ... and end with: a quote (app.knowledge.quotes)


@dataclass(frozen=True)
class ReplyFacts:
    """What retrieval found for one reply: the query it searched and the hits, best first."""

    query: str
    hits: tuple[Hit, ...] = ()
    failed: bool = False  # retrieval itself broke: nothing is recorded as a knowledge gap
    # "The store does not sell the Voltbook Pro 17 ..." (app.knowledge.not_sold): first of the facts,
    # so the reply says so instead of quoting the nearest model's price as the asked-for one's (the
    # relatives' own entries are left out of ``hits`` unless the customer named them too).
    note: FactSnippet | None = None
    # What the customer's current message says, for the quotes (app.knowledge.quotes).
    cues: MessageCues = MessageCues()

    @cached_property
    def _snippets(self) -> tuple[FactSnippet, ...]:
        # Built once per reply: the prompt, the copy bias and the number guard all read them.
        return (*([self.note] if self.note else []), *hits_to_snippets(self.hits))

    def snippets(self) -> list[FactSnippet]:
        """The facts as the prompt shows them: the note (if any), then the hits in rank order."""
        return list(self._snippets)

    def system_prompt(self, base: str) -> str:
        """The grounded system turn: ``base`` then the numbered facts (or the 'none found' line)."""
        if not base.strip():
            return facts_block(self.snippets())
        return grounded_system_prompt(base, self.snippets())

    def sources(self) -> list[dict[str, str]]:
        """The `done` frame's ``sources``: key, title and kind of each fact, in rank order."""
        return [{"key": h.key, "title": h.title, "kind": h.kind} for h in self.hits]

    def copy_texts(self) -> list[str]:
        """The facts exactly as the prompt shows them (without their numbers), best first: what the
        engine's copy bias (inference/copy_bias.py) nudges the reply to copy from."""
        return [s.body() for s in self.snippets()]

    def banned_openings(self) -> tuple[str, ...]:
        """The refusals this reply may not open with (inference/opening_ban.py): all of them when
        the customer named the entry retrieval ranked first (Hit.named: a product/plan name) or
        that entry holds COVERED of the question's words, and no not-sold note says the named
        model is missing; else none. Asked "Lumo smart bulb price?"
        with the bulb's entry as the fact, the adapters still said "I don't know that" 12 times in
        the 191-question eval; with the bulb named and found, the fact is there to state."""
        if self.note is not None or not self.hits:
            return ()
        top = self.hits[0]
        return REFUSAL_OPENINGS if top.named or top.coverage >= COVERED else ()

    def steering(self) -> Steering:
        """What the engine is told about these facts besides the prompt."""
        quote = self.forced_opening()
        return Steering(tuple(self.copy_texts()), self.banned_openings(), quote, bool(quote))

    def forced_opening(self) -> str:
        """The facts' text the reply quotes as a whole (app.knowledge.quotes), or "": none when a
        not-sold note is the answer."""
        return "" if self.note is not None else quote_for(self.hits, self.cues)

    def lookup_policy(self) -> str:
        """The policy quote an account-lookup notice carries (app.chat.handoff.notice_text), or ""."""
        return "" if self.note is not None else policy_quote(self.hits, self.cues)

    def fact_texts(self) -> list[str]:
        """The fact texts, for the number guard's allowed values."""
        return [s.text for s in self.snippets()]


def recent_customer_turns(
    session: Session, conversation_id: str, before_id: int, limit: int = RECENT_TURNS
) -> list[str]:
    """The customer's previous messages in this conversation, oldest first."""
    rows = session.scalars(
        select(Message.text)
        .where(
            Message.conversation_id == conversation_id,
            Message.role == "customer",
            Message.id < before_id,
        )
        .order_by(Message.id.desc())
        .limit(limit)
    )
    return list(rows)[::-1]


def facts_for_reply(
    session: Session, message: str, earlier_turns: Sequence[str] = (), k: int = DEFAULT_K
) -> ReplyFacts:
    """Retrieve the facts for a reply to ``message``; a failing search means no facts, not no reply."""
    try:
        with session.begin_nested():  # a failed query must not poison the caller's transaction
            view = snapshot(session)  # one revision read for the search and the catalogue
            query, hits = retrieve_for_message(session, message, earlier_turns, k=k, view=view)
            families = view.catalogue(session)

            def hit_for(item: CatalogueItem) -> Hit | None:
                return next((h for h in retrieve(session, item.title, k, view) if h.key == item.key), None)

            hits = cheapest_first(query, message, hits, families, hit_for)[:k]
            note = None
            unsold = unsold_model(message, families)  # found once: the note and what it displaces
            if unsold is not None:
                note = note_for(unsold)
                dropped = relatives_to_drop(message, unsold, [h.key for h in hits], families)
                hits = [h for h in hits if h.key not in dropped]
            # The earlier turn a follow-up took its words from ("and the pro 15?").
            context = earlier_turns[-1] if earlier_turns and query != message.strip() else ""
            cues = cues_of(message, hits, frozenset(families), context)
    except Exception:
        log.exception("knowledge retrieval failed; replying without facts")
        return ReplyFacts(query=message, failed=True)
    return ReplyFacts(query=query, hits=tuple(hits), note=note, cues=cues)


def record_facts(session: Session, message_id: int, facts: ReplyFacts) -> None:
    """Add the reply's `message_sources` rows and its `retrievals` row (the caller commits)."""
    if facts.failed:
        return
    for rank, hit in enumerate(facts.hits, start=1):
        session.add(
            MessageSource(message_id=message_id, key=hit.key, version=hit.version, rank=rank, score=hit.score)
        )
    top = facts.hits[0].score if facts.hits else 0.0
    session.add(
        Retrieval(message_id=message_id, query=facts.query[:2000], hits=len(facts.hits), top_score=top)
    )


# The facts block's own labels ("[2] ") are layout, not knowledge: a reply may not state "2" for them.
_FACT_LABEL = re.compile(r"^\[\d+\] ", re.MULTILINE)


def allowed_numbers(system_turn: str) -> frozenset[str]:
    """The numbers, emails and phones a reply may state: those of its grounded system turn (the
    intent's prompt and the retrieved facts, not the facts' [n] labels), in every form
    inference.number_guard accepts."""
    return allowed_values([_FACT_LABEL.sub("", system_turn)])


def allowed_from_sources(session: Session, message_id: int) -> frozenset[str]:
    """A stored reply's allowed numbers rebuilt from its recorded sources (at the versions used),
    for a node that records a reply it did not plan."""
    texts = session.scalars(
        select(KnowledgeVersion.text)
        .join(
            MessageSource,
            (MessageSource.key == KnowledgeVersion.key) & (MessageSource.version == KnowledgeVersion.version),
        )
        .where(MessageSource.message_id == message_id)
    )
    return allowed_values(list(texts))
