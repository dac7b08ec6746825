"""Turn a step's logits into tokens, streamed text and finished requests (sampling and beams)."""

from __future__ import annotations

from typing import Any, Protocol

import torch

from inference.detokenizer import IncrementalDetokenizer
from inference.kv_cache import KVBlockPool
from inference.request import FinishReason
from inference.sampler import select_tokens
from inference.scheduler import ScheduledSeq
from inference.sequence import RequestState


class RequestSink(Protocol):
    """What the output processor needs of the engine: where tokens go and how requests end."""

    tokenizer: Any
    eos_ids: list[int]
    pool: KVBlockPool

    def finish_request(
        self, state: RequestState, reason: FinishReason, token_ids: tuple[int, ...], text: str,
        error: str | None,
    ) -> None: ...

    def emit_event(self, state: RequestState, token_ids: tuple[int, ...], text: str) -> None: ...

    def record_first_token(self, state: RequestState) -> None: ...


class OutputProcessor:
    """Per-step output handling; a failure in one request fails only that request."""

    def __init__(self, engine: RequestSink) -> None:
        self.engine = engine

    def process(self, sampled: list[ScheduledSeq], logits: torch.Tensor) -> int:
        """Handle the rows of ``logits`` (one per sampled chunk, same order); returns tokens made."""
        if sampled and all(_plain_greedy(s) for s in sampled):
            return self._greedy(sampled, logits)
        # One reduction per row: a NaN or +-inf anywhere makes the row sum non-finite.
        finite = torch.isfinite(logits.sum(dim=1)).tolist() if len(sampled) else []
        singles: list[tuple[ScheduledSeq, int]] = []
        beams: dict[int, list[tuple[ScheduledSeq, int]]] = {}
        for row, s in enumerate(sampled):
            if s.state.beam is None:
                singles.append((s, row))
            else:
                beams.setdefault(id(s.state), []).append((s, row))
        bad = {id(s.state) for (s, row) in singles if not finite[row]}
        for s, _ in singles:
            if id(s.state) in bad:
                self.engine.finish_request(s.state, "error", (), "", "model produced non-finite logits")
        singles = [(s, r) for s, r in singles if id(s.state) not in bad]
        made = self._sample(singles, logits)
        for group in beams.values():
            made += self._beam_step(group, logits, all(finite[r] for _, r in group))
        return made

    def _greedy(self, sampled: list[ScheduledSeq], logits: torch.Tensor) -> int:
        # The common serving batch: every row plain greedy. Arg-max and the finiteness check come
        # back in one read, the step's only wait for the device (on CUDA the forward before it is
        # queued work, so reading twice would stall twice).
        finite_rows = torch.isfinite(logits.sum(dim=1)).long()
        tokens, finite = torch.stack((logits.argmax(dim=1), finite_rows)).tolist()
        made = 0
        for s, token, ok in zip(sampled, tokens, finite, strict=True):
            if not ok:
                self.engine.finish_request(s.state, "error", (), "", "model produced non-finite logits")
                continue
            made += 1
            try:
                self._append(s.state, s.seq.token_ids, int(token))
            except Exception as exc:
                self.engine.finish_request(s.state, "error", (), "", f"output processing failed: {exc}")
        return made

    def _sample(self, singles: list[tuple[ScheduledSeq, int]], logits: torch.Tensor) -> int:
        if not singles:
            return 0
        picked = [r for _, r in singles]
        if picked != list(range(logits.shape[0])):
            logits = logits.index_select(0, torch.tensor(picked, device=logits.device))
        for i, (s, _) in enumerate(singles):
            if s.state.copy is not None:  # before the guard, so a forbidden number stays forbidden
                s.state.copy.apply(logits[i], s.seq.token_ids[s.seq.prompt_len :])
            if s.state.opening is not None:
                s.state.opening.apply(logits[i], s.seq.token_ids[s.seq.prompt_len :])
            guard = s.state.guard
            if guard is not None:  # budget: tokens after this one, so no number is left open
                budget = s.state.request.params.max_new_tokens - s.state.num_generated - 1
                guard.constrain(logits[i], s.seq.seq_id, budget)
            if s.state.forced is not None:  # last: the opening is the facts' own text
                s.state.forced.apply(logits[i], s.seq.token_ids[s.seq.prompt_len :])
        args = (
            [s.state.request.params for s, _ in singles],
            [s.state.generator for s, _ in singles],
            [s.seq.token_ids for s, _ in singles],
        )
        try:
            tokens: list[int | None] = list(select_tokens(logits, *args))
        except Exception:
            # Find the culprit(s) row by row so the rest of the batch still gets its tokens.
            tokens = []
            for i, (s, _) in enumerate(singles):
                try:
                    row = logits[i : i + 1]
                    tokens.append(select_tokens(row, [args[0][i]], [args[1][i]], [args[2][i]])[0])
                except Exception as exc:
                    tokens.append(None)
                    self.engine.finish_request(s.state, "error", (), "", f"sampling failed: {exc}")
        made = 0
        for (s, _), token in zip(singles, tokens, strict=True):
            if token is None:
                continue
            made += 1
            try:
                if s.state.guard is not None:
                    s.state.guard.advance(s.seq.seq_id, token)
                self._append(s.state, s.seq.token_ids, token)
            except Exception as exc:
                self.engine.finish_request(s.state, "error", (), "", f"output processing failed: {exc}")
        return made

    def _append(self, state: RequestState, token_ids: list[int], token: int) -> None:
        engine, params = self.engine, state.request.params
        token_ids.append(token)
        self.engine.record_first_token(state)
        is_eos = token in engine.eos_ids and not params.ignore_eos
        # EOS text is never shown; stop strings are cut by the detokenizer.
        text = "" if is_eos else state.detokenizer.push(token)
        if is_eos or state.detokenizer.stopped:
            engine.finish_request(state, "stop", (token,), text + state.detokenizer.flush(), None)
        elif state.num_generated >= params.max_new_tokens:
            engine.finish_request(state, "length", (token,), text + state.detokenizer.flush(), None)
        else:
            engine.emit_event(state, (token,), text)

    def _beam_step(self, group: list[tuple[ScheduledSeq, int]], logits: torch.Tensor, finite: bool) -> int:
        state = group[0][0].state
        live = state.seqs
        if len(group) < len(live):
            # Some beams are still re-prefilling after a preemption: step them all together later,
            # so rewind the finished ones by one token (its K/V is rewritten identically).
            for s, _ in group:
                s.seq.num_computed -= 1
            return 0
        if not finite:
            self.engine.finish_request(state, "error", (), "", "model produced non-finite logits")
            return 0
        order = {s.seq.seq_id: r for s, r in group}
        rows = torch.tensor([order[q.seq_id] for q in live], device=logits.device)
        scores = logits.index_select(0, rows)
        if state.opening is not None:
            for j, q in enumerate(live):
                state.opening.apply(scores[j], q.token_ids[q.prompt_len :])
        if state.guard is not None:
            limit = state.request.params.max_new_tokens
            for j, q in enumerate(live):
                state.guard.constrain(scores[j], q.seq_id, limit - (len(q.token_ids) - q.prompt_len) - 1)
        if state.forced is not None:
            for j, q in enumerate(live):
                state.forced.apply(scores[j], q.token_ids[q.prompt_len :])
        try:
            step = state.beam.step(torch.log_softmax(scores, dim=-1))
        except Exception as exc:
            self.engine.finish_request(state, "error", (), "", f"beam search failed: {exc}")
            return 0
        self.engine.record_first_token(state)
        if step.done:
            self._finish_beams(state)
            return len(live)
        pool, claimed = self.engine.pool, set()
        children = []
        for parent_index, token in zip(step.parents, step.tokens, strict=True):
            parent = live[parent_index]
            if parent.seq_id in claimed:
                child = parent.fork()
                pool.fork(parent, child)
            else:
                claimed.add(parent.seq_id)
                child = parent
            children.append((child, token))
        for seq in live:
            if seq.seq_id not in claimed:
                pool.free(seq)
        if state.guard is not None:
            parents = [live[p].seq_id for p in step.parents]
            state.guard.branch([(p, c.seq_id, t) for p, (c, t) in zip(parents, children, strict=True)])
        for child, token in children:
            child.token_ids.append(token)
        state.seqs = [c for c, _ in children]
        return len(live)

    def _finish_beams(self, state: RequestState) -> None:
        # Beams reorder until the end, so a beam request streams nothing and then its whole answer.
        best = state.beam.best()
        params = state.request.params
        detok = IncrementalDetokenizer(self.engine.tokenizer, params.stop)
        ends_eos = bool(best) and best[-1] in self.engine.eos_ids and not params.ignore_eos
        text = "".join(detok.push(t) for t in (best[:-1] if ends_eos else best))
        text += detok.flush()
        reason: FinishReason = "stop" if ends_eos or detok.stopped else "length"
        self.engine.finish_request(state, reason, tuple(best), text, None)


def _plain_greedy(s: ScheduledSeq) -> bool:
    """Greedy without penalty, beams, number guard or copy bias: the arg-max is the whole choice."""
    state = s.state
    params = state.request.params
    return (
        state.beam is None and state.guard is None and state.copy is None and state.opening is None
        and state.forced is None
        and not params.do_sample and params.repetition_penalty == 1.0
    )  # fmt: skip
