"""Predictive: forecast arrivals (EWMA, optionally per season bin) to hold briefly and reserve KV."""

from __future__ import annotations

from inference.policies.base import Admission, BatchingPolicy, QueueView, register_policy
from inference.policies.capacity import (
    blocks_for,
    by_arrival,
    check_fraction,
    check_positive,
    free_seats,
    oldest_wait,
)


@register_policy
class PredictivePolicy(BatchingPolicy):
    """Holds a small batch only when the forecast says the next arrival is due within ``max_hold_s``
    (so quiet periods pay no window), and keeps KV blocks free for the arrivals it expects."""

    name = "predictive"

    def __init__(
        self, alpha: float = 0.3, max_hold_s: float = 0.05, target_batch: int = 8, horizon_s: float = 0.5,
        reserve_fraction: float = 0.1, season_s: float | None = None, season_bins: int = 12,
    ) -> None:
        check_positive(
            "predictive", max_hold_s=max_hold_s, target_batch=target_batch, horizon_s=horizon_s,
            season_bins=season_bins,
        )
        check_fraction("predictive", alpha=alpha, reserve_fraction=reserve_fraction)
        if season_s is not None:
            check_positive("predictive", season_s=season_s)
        self.alpha, self.max_hold, self.target_batch = float(alpha), float(max_hold_s), int(target_batch)
        self.horizon, self.reserve_fraction = float(horizon_s), float(reserve_fraction)
        self.season_s, self.bins = season_s, int(season_bins)
        self.gap: float | None = None  # EWMA of inter-arrival gaps (s)
        self.season_gap: dict[int, float] = {}
        self.prompt_len = 0.0  # EWMA of prompt lengths, for the KV reserve
        self._last_arrival: float | None = None
        self._seen: set[str] = set()

    def _bin(self, t: float) -> int:
        assert self.season_s is not None
        return int((t % self.season_s) / self.season_s * self.bins)

    def observe(self, view: QueueView) -> None:
        """Fold newly seen arrivals into the gap and prompt-length estimates."""
        new = by_arrival(w for w in view.waiting if w.request_id not in self._seen and not w.preempted)
        self._seen = {w.request_id for w in view.waiting}
        for w in new:
            self.prompt_len += self.alpha * (w.prompt_len - self.prompt_len)
            if self._last_arrival is not None:
                g = max(0.0, w.arrival_time - self._last_arrival)
                self.gap = g if self.gap is None else self.gap + self.alpha * (g - self.gap)
                if self.season_s is not None:
                    # Filed under the bin of the arrival the gap *followed*: the question a hold
                    # asks is how soon the next request comes after one that arrives now. (Filed
                    # under the later arrival, the first request of every cluster found the long
                    # silence before it and was never held.)
                    b = self._bin(self._last_arrival)
                    old = self.season_gap.get(b, g)
                    self.season_gap[b] = old + self.alpha * (g - old)
            self._last_arrival = w.arrival_time

    def forecast_rate(self, now: float) -> float:
        """Expected arrivals per second now (0 before two arrivals were seen)."""
        if self.gap is None:
            return 0.0
        gap = self.gap
        if self.season_s is not None and self._bin(now) in self.season_gap:
            # The seasonal estimate replaces the recent one where it has data: for clustered
            # traffic the EWMA averages in-cluster and between-cluster gaps into one that never
            # occurs, and blending with it hid every in-cluster gap from the hold rule.
            gap = self.season_gap[self._bin(now)]
        # A long silence since the last arrival is evidence the rate dropped: never forecast a
        # gap shorter than the one already running.
        if self._last_arrival is not None:
            gap = max(gap, now - self._last_arrival)
        return 1.0 / max(gap, 1e-6)

    def decide(self, view: QueueView) -> Admission:
        """Hold for a predicted-imminent arrival while the batch is small, else admit oldest first."""
        self.observe(view)
        if not view.waiting:
            return Admission()
        rate = self.forecast_rate(view.now)
        small = len(view.waiting) + len(view.running) < self.target_batch
        due = rate > 0 and oldest_wait(view) + 1.0 / rate <= self.max_hold
        if small and due and not any(w.preempted for w in view.waiting):
            return Admission()
        total = view.free_kv_blocks / max(1e-9, 1.0 - view.kv_usage) if view.kv_usage < 1 else 0
        expected = rate * self.horizon * blocks_for(int(self.prompt_len) + 1, view.block_size)
        reserve = int(min(self.reserve_fraction * total, expected)) if view.running else 0
        budget = view.free_kv_blocks - reserve
        admit: list[str] = []
        for w in by_arrival(view.waiting)[: free_seats(view)]:
            need = blocks_for(w.prompt_len + 1, view.block_size)
            if need > budget and (admit or view.running):
                break
            budget -= need
            admit.append(w.request_id)
        return Admission(admit=tuple(admit))
