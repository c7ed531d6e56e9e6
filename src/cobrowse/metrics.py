"""Prometheus metrics (PRODUCT.md §9), in a registry of the app's own.

A registry per app (not prometheus_client's global one) lets tests and the demo
build several apps in one process. Nothing here carries page content: labels are
directions, states, reasons and refusal codes.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Relaying a frame takes microseconds; a slow socket can take much longer.
_RELAY_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1.0)


class _LiveSessionsByState(Collector):
    def __init__(self, states: Callable[[], Iterable[str]]) -> None:
        self._states = states

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "cobrowse_live_sessions", "Live sessions on this node, by state.", labels=["state"]
        )
        counts = Tally(self._states())
        for state in ("idle", "active"):
            gauge.add_metric([state], counts.get(state, 0))
        yield gauge


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.frames = Counter(
            "cobrowse_frames_relayed",
            "Frames relayed between the parties, by direction.",
            ["direction"],
            registry=self.registry,
        )
        self.bytes = Counter(
            "cobrowse_bytes_relayed",
            "Bytes of frames relayed between the parties, by direction.",
            ["direction"],
            registry=self.registry,
        )
        self.relay_seconds = Histogram(
            "cobrowse_relay_seconds",
            "Time from receiving a frame to handing it to the other party's socket.",
            ["direction"],
            buckets=_RELAY_BUCKETS,
            registry=self.registry,
        )
        self.sessions_ended = Counter(
            "cobrowse_sessions_ended",
            "Sessions ended, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.joins_refused = Counter(
            "cobrowse_joins_refused", "Refused joins, by code.", ["code"], registry=self.registry
        )
        self.actions_refused = Counter(
            "cobrowse_actions_refused",
            "Agent actions refused (pointer mode, restrictions, other sites), by code.",
            ["code"],
            registry=self.registry,
        )

        # Bound once: .labels() on the hot path costs more than the counting itself.
        self._relay = {
            direction: (
                self.frames.labels(direction),
                self.bytes.labels(direction),
                self.relay_seconds.labels(direction),
            )
            for direction in ("to_agent", "to_customer")
        }

    def watch_sessions(self, states: Callable[[], Iterable[str]]) -> None:
        """Report live sessions by state, read when Prometheus scrapes."""
        self.registry.register(_LiveSessionsByState(states))

    def relayed(self, direction: str, frame: str, seconds: float) -> None:
        """``direction`` is "to_agent" or "to_customer"."""
        frames, size, duration = self._relay[direction]
        frames.inc()
        size.inc(len(frame))
        duration.observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
