"""Adaptive cap: shrink the batch when decode steps get slower than a TPOT target, grow it with demand.

Only decode-only steps are evidence about the batch size: a step that also prefilled new prompts
is slow because of the prompts, and counting it (as this policy once did) collapsed the cap to
``min_batch`` after every admission, so requests queued behind a cap of one.
"""

from __future__ import annotations

import math

from inference.policies.base import Admission, BatchingPolicy, QueueView, register_policy
from inference.policies.capacity import by_arrival, check_fraction, check_positive, free_seats, running_seqs


@register_policy
class AdaptivePolicy(BatchingPolicy):
    """AIMD on the batch cap: multiplicative decrease above the step-time (TPOT) target, additive
    increase below it by the arrivals expected per step (observed arrival rate x step time)."""

    name = "adaptive"

    def __init__(
        self, target_step_s: float = 0.1, min_batch: int = 1, max_batch: int = 64,
        backoff: float = 0.7, smoothing: float = 0.3,
    ) -> None:
        check_positive("adaptive", target_step_s=target_step_s, min_batch=min_batch, max_batch=max_batch)
        check_fraction("adaptive", backoff=backoff, smoothing=smoothing)
        if min_batch > max_batch:
            raise ValueError(f"adaptive policy: min_batch ({min_batch}) must be <= max_batch ({max_batch})")
        self.target = float(target_step_s)
        self.min_batch, self.max_batch = int(min_batch), int(max_batch)
        self.backoff, self.smoothing = float(backoff), float(smoothing)
        self.cap = float(max_batch)
        self.step_s: float | None = None  # EWMA of observed step time
        self.rate = 0.0  # EWMA of arrivals per second
        self._seen: set[str] = set()
        self._last_now: float | None = None

    def _observe(self, view: QueueView) -> None:
        new = [w for w in view.waiting if w.request_id not in self._seen and not w.preempted]
        self._seen = {w.request_id for w in view.waiting}  # bounded: only what still waits
        if self._last_now is not None and view.now > self._last_now:
            inst = len(new) / (view.now - self._last_now)
            self.rate += self.smoothing * (inst - self.rate)
        self._last_now = view.now
        if view.running and view.last_step_seconds > 0 and view.last_step_decoded_only:
            s = view.last_step_seconds
            self.step_s = s if self.step_s is None else self.step_s + self.smoothing * (s - self.step_s)

    def decide(self, view: QueueView) -> Admission:
        """Update the cap from the latest decode-step time and arrival rate, then admit oldest first."""
        self._observe(view)
        seqs = running_seqs(view)
        if self.step_s is not None:
            if self.step_s > self.target:
                # Cut from the batch that was too slow, once per cut: while more run than the cap
                # the last cut has not taken effect yet (a cap only stops admissions), and cutting
                # every step meanwhile drove the cap to min_batch long before the batch shrank.
                if seqs <= self.cap:
                    self.cap = max(float(self.min_batch), max(1, seqs) * self.backoff)
            elif self.step_s < 0.9 * self.target and view.waiting and seqs >= int(self.cap):
                # Grow only while the cap holds requests back: an idle engine keeps what it learnt.
                self.cap = min(float(self.max_batch), self.cap + max(1.0, self.rate * self.step_s))
        cap = int(math.floor(self.cap))
        batch = by_arrival(view.waiting)[: free_seats(view, cap)]
        return Admission(admit=tuple(w.request_id for w in batch), max_running=cap)
