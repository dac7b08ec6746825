"""Run the factual eval through the chat path: router -> retrieval -> grounded prompt -> engine.

The pieces are the ones a chat reply uses: the trained router and the ReplyPlanner (adapter,
system prompt and the live decoding policy, which on a fresh database is the built-in default
per intent), the knowledge retrieval over a database the seed was imported into, the grounded
system turn of adapters/grounding.py, the backend's prompt truncation, and the continuous-
batching engine with the adapters loaded. Sampled policies get a fixed seed per question so a
re-run gives the same replies. ``grounded=False`` is the path as it was before the knowledge
base (no facts in the prompt): the "before" baseline. ``number_guard`` ("decode", "check", "off";
empty = settings.number_guard, the chat path's mode) decides whether decoding is constrained to the
numbers of the grounded system turn (inference/number_guard.py), as the chat service does.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from sqlalchemy.orm import Session

from app.chat.planning import ReplyPlanner, load_router
from app.config import Settings
from app.generation.prompting import build_prompt_ids
from app.knowledge.fact_eval import FactQuestion, Outcome

K_FACTS = 4
log = logging.getLogger(__name__)


def retrieve_facts(session: Session, message: str, earlier: Sequence[str]) -> Any:
    """What the chat path retrieves for a reply: the message plus the customer's recent turns."""
    from app.knowledge.reply_facts import RECENT_TURNS, facts_for_reply

    return facts_for_reply(session, message, list(earlier)[-RECENT_TURNS:], k=K_FACTS)


def knowledge_session(workdir: Path) -> Session:
    """A fresh SQLite database at head with the seed imported (what a new install starts with)."""
    from app.db.session import session_factory, upgrade_database
    from app.knowledge.importer import import_path

    url = f"sqlite:///{workdir / 'facts_eval.db'}"
    upgrade_database(url)
    session = session_factory(url)()
    import_path(session)
    return session


@dataclasses.dataclass
class _Turn:
    question: FactQuestion
    history: list[dict[str, str]]
    replies: list[str]
    intent: str | None = None


def _notice(session: Session, decision: Any, text: str, earlier: Sequence[str]) -> tuple[str, Any] | None:
    """The text the web chat shows instead of a generated reply (router hand-off, non-English, a
    lookup of the customer's own records, with the policy that answers it in general), and the
    facts it quotes (None when it quotes none); None when the model answers."""
    from app.chat.handoff import ACCOUNT_LOOKUP, HANDOFF_TEXT, notice_reason, notice_text
    from app.router import HANDOFF

    if decision.intent == HANDOFF:
        return HANDOFF_TEXT, None
    reason = notice_reason(decision, text)
    if reason is None:
        return None
    facts = retrieve_facts(session, text, earlier) if reason == ACCOUNT_LOOKUP else None
    policy = facts.lookup_policy() if facts is not None else ""
    return notice_text(reason, policy), (facts if policy else None)


def _generate(engine: Any, requests: dict[str, Any]) -> dict[str, tuple[str, int, str | None]]:
    """Run the requests to completion in one continuous batch: id -> (text, tokens, finish_reason)."""
    texts: dict[str, list[str]] = {rid: [] for rid in requests}
    done: dict[str, tuple[str, int, str | None]] = {}
    for request in requests.values():
        engine.add_request(request)
    steps = 0
    while engine.has_unfinished():
        steps += 1
        if steps % 100 == 0:  # a long CPU run shows that it moves
            log.info(
                "facts eval: %d of %d replies done after %d engine steps", len(done), len(requests), steps
            )
        for event in engine.step():
            texts[event.request_id].append(event.text)
            if event.finished:
                done[event.request_id] = (
                    "".join(texts[event.request_id]).strip(),
                    event.completion_tokens,
                    event.finish_reason,
                )
    return done


def run_questions(
    questions: Sequence[FactQuestion],
    settings: Settings,
    grounded: bool = True,
    number_guard: str = "",
    greedy: bool = False,
) -> tuple[list[Outcome], dict[str, Any]]:
    """Answer every question (all turns) on the real model; the outcomes and what was run."""
    from app.generation.engine_factory import build_engine
    from app.knowledge.reply_facts import allowed_numbers
    from inference.request import GenerationRequest

    started = time.perf_counter()
    engine = build_engine(settings).core  # the serving construction: threads, dtype, quantization, adapters
    tokenizer = engine.tokenizer
    planner = ReplyPlanner(load_router(settings.router_path), engine.adapters.names())
    # The chat path's guard mode (settings.number_guard) unless the caller names one.
    guard = (number_guard or settings.number_guard) == "decode" and grounded
    outcomes: dict[str, Outcome] = {}
    with tempfile.TemporaryDirectory() as tmp:
        session = knowledge_session(Path(tmp))
        turns = [_Turn(q, [], []) for q in questions]
        for t_index in range(max(len(q.turns) for q in questions)):
            live = [t for t in turns if t_index < len(t.question.turns)]
            requests, meta = {}, {}
            for n, turn in enumerate(live):
                text = turn.question.turns[t_index]
                decision = planner.route(session, text, turn.intent, None)
                notice = _notice(session, decision, text, turn.question.turns[:t_index])
                if notice is not None:  # the chat answers these without the model, as the page does
                    reply, quoted = notice
                    turn.history += [
                        {"role": "user", "content": text},
                        {"role": "assistant", "content": reply},
                    ]
                    turn.replies.append(reply)
                    used = quoted.snippets() if quoted is not None else []
                    outcomes[turn.question.id] = Outcome(
                        turn.question, reply, decision.intent, None,
                        [s.key for s in used], [s.text for s in used], 0, "stop", list(turn.replies),
                    )  # fmt: skip
                    continue
                plan = planner.for_intent(session, decision.intent, decision)
                if grounded:
                    facts = retrieve_facts(session, text, turn.question.turns[:t_index])
                    # The note (app.knowledge.not_sold) is a fact too: "Voltbook Pro 17" is no invention.
                    hits, system = facts.snippets(), facts.system_prompt(plan.system_prompt)
                else:
                    hits, system = [], plan.system_prompt
                messages = [
                    {"role": "system", "content": system},
                    *turn.history,
                    {"role": "user", "content": text},
                ]
                params = dataclasses.replace(plan.params, seed=1000 * t_index + n)
                if greedy:  # a what-if: every intent decodes greedily (temperature 0), the rest as planned
                    params = dataclasses.replace(params, temperature=0.0, top_p=1.0, top_k=0, do_sample=False)
                budget = engine.max_positions - params.max_new_tokens
                prompt = build_prompt_ids(tokenizer, messages, budget)
                extra: dict[str, Any] = {}
                if guard:  # as the chat path: only numbers/emails of the grounded system turn
                    extra["allowed_values"] = allowed_numbers(system)
                if grounded:
                    steering = facts.steering()
                    extra["copy_from"] = steering.copy_from
                    extra["banned_openings"] = steering.banned_openings
                    extra["forced_opening"] = steering.forced_opening
                    extra["end_after_opening"] = steering.end_after_opening
                rid = f"{turn.question.id}:{t_index}"
                requests[rid] = GenerationRequest(
                    tuple(prompt.ids), params, plan.adapter, request_id=rid, **extra
                )
                meta[rid] = (turn, text, plan, hits)
            for rid, (reply, tokens, finish) in _generate(engine, requests).items():
                turn, text, plan, hits = meta[rid]
                turn.intent = plan.intent
                turn.history += [{"role": "user", "content": text}, {"role": "assistant", "content": reply}]
                turn.replies.append(reply)
                outcomes[turn.question.id] = Outcome(
                    turn.question,
                    reply,
                    plan.intent,
                    plan.adapter,
                    [h.key for h in hits],
                    [h.text for h in hits],
                    tokens,
                    finish,
                    list(turn.replies),
                )
        session.close()
    setup = {
        "grounded": grounded,
        "number_guard_while_decoding": guard,
        "greedy_override": greedy,
        "adapters_dir": str(settings.adapters_dir),
        "dtype": str(next(engine.model.parameters()).dtype),
        "threads": torch.get_num_threads(),
        "k_facts": K_FACTS if grounded else 0,
        "wall_s": time.perf_counter() - started,
    }
    return [outcomes[q.id] for q in questions], setup
