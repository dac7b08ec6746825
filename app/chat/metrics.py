"""App-level Prometheus metrics (messages, replies, errors, sockets, hub failures), one registry per app."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class AppMetrics:
    """Counters the chat service and API update; rendered next to the engine's on /metrics."""

    def __init__(self) -> None:
        # A private registry: several apps in one test process must not share counters.
        self.registry = CollectorRegistry()
        self.messages = Counter(
            "switchboard_messages_total",
            "Messages stored, by role and channel",
            ["role", "channel"],
            registry=self.registry,
        )
        self.replies = Counter(
            "switchboard_replies_total",
            "Bot replies finished, by adapter and final status",
            ["adapter", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "switchboard_errors_total",
            "Errors reported to clients, by kind",
            ["kind"],
            registry=self.registry,
        )
        self.ws_connections = Gauge(
            "switchboard_ws_connections", "Open customer websocket connections", registry=self.registry
        )
        self.unverified_numbers = Counter(
            "switchboard_unverified_numbers_total",
            "Numbers, emails and phones in finished replies that none of the reply's facts hold",
            ["adapter"],
            registry=self.registry,
        )
        self.hub_failures = Counter(
            "switchboard_hub_failures_total",
            "Redis pub/sub hub failures: lost reader connections and failed publishes",
            ["kind"],
            registry=self.registry,
        )
        self.reply_latency = Histogram(
            "switchboard_reply_latency_seconds",
            "Time from submit to the last token, by adapter",
            ["adapter"],
            buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
            registry=self.registry,
        )

    def render(self) -> str:
        """Prometheus text exposition."""
        return generate_latest(self.registry).decode()
