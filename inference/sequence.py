"""Per-sequence token/KV state and the per-request group of sequences (one per live beam)."""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass, field
from typing import Any

from inference.request import GenerationRequest

_seq_ids = itertools.count()


class Status(enum.Enum):
    """Where a request is: queued (new or preempted), holding KV and computing, or done."""

    WAITING = "waiting"
    RUNNING = "running"
    FINISHED = "finished"


@dataclass
class Sequence:
    """Token ids (prompt + generated) and where their keys/values live in the block pool."""

    token_ids: list[int]
    prompt_len: int
    seq_id: int = field(default_factory=lambda: next(_seq_ids))
    # Tokens whose K/V are in the cache; the rest (at least the last token) still need a forward.
    num_computed: int = 0
    block_table: list[int] = field(default_factory=list)
    # Chain hashes of the leading full blocks that are registered in the prefix cache.
    block_hashes: list[int] = field(default_factory=list)
    # Shared K/V below this position is still being computed by the request's first sequence.
    wait_for: int = 0

    @property
    def num_uncomputed(self) -> int:
        """Tokens that still need a forward pass before the next token can be sampled."""
        return len(self.token_ids) - self.num_computed

    @property
    def generated(self) -> list[int]:
        """Tokens produced after the prompt."""
        return self.token_ids[self.prompt_len :]

    def fork(self) -> Sequence:
        """A copy of the token state; the caller shares the KV blocks (see KVBlockPool.fork)."""
        return Sequence(
            token_ids=list(self.token_ids),
            prompt_len=self.prompt_len,
            num_computed=self.num_computed,
        )


@dataclass
class RequestState:
    """Everything the engine tracks for one request between submit and its last event."""

    request: GenerationRequest
    adapter: Any  # LoraAdapter | None, resolved at submit so unloading later cannot break it
    seqs: list[Sequence]
    detokenizer: Any = None
    generator: Any = None  # torch.Generator | None for seeded sampling
    beam: Any = None  # BeamSearch | None
    guard: Any = None  # NumberGuard | None: the request's decode-time number constraint
    copy: Any = None  # CopyBias | None: the nudge towards copying the request's facts
    opening: Any = None  # OpeningBan | None: openings the reply may not start with
    forced: Any = None  # ForcedOpening | None: the text the reply must start with
    status: Status = Status.WAITING
    events_sent: int = 0
    first_token_time: float | None = None
    first_scheduled_time: float | None = None  # end of its queue time (vllm:request_queue_time_seconds)
    num_preemptions: int = 0

    @property
    def request_id(self) -> str:
        """The id callers know the request by."""
        return self.request.request_id

    @property
    def arrival_time(self) -> float:
        """When the request reached the engine (set at submit)."""
        assert self.request.arrival_time is not None
        return self.request.arrival_time

    @property
    def prompt_len(self) -> int:
        """Prompt length in tokens."""
        return len(self.request.prompt_ids)

    @property
    def num_generated(self) -> int:
        """Tokens generated so far by the leading sequence."""
        return len(self.seqs[0].generated) if self.seqs else 0
