"""Bounding how fast an agent may guess session IDs (PRODUCT.md §8), purely from ``now``."""

from __future__ import annotations

from collections import deque


class JoinThrottle:
    """At most ``limit`` failed joins per agent in any ``window`` seconds.

    Only failures count: an agent who types IDs correctly is never slowed down.
    """

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}

    def allows(self, agent_id: str, now: float) -> bool:
        recent = self._failures.get(agent_id)
        if recent is None:
            return True
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if not recent:
            del self._failures[agent_id]
            return True
        return len(recent) < self.limit

    def failed(self, agent_id: str, now: float) -> None:
        self._failures.setdefault(agent_id, deque()).append(now)
