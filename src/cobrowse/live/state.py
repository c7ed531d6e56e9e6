"""Live session state, shared by every node that serves the sessions.

:class:`LiveState` is the one interface the live layer runs the core's rules
through. Each method is atomic: it reads the session, lets the pure core decide,
and stores the result as one step, so two nodes (or two tasks) can never both end a
session, both take the same ID, or let one agent into two sessions.

:class:`MemoryState` is the embedded single-node implementation (the default);
:class:`cobrowse.live.redis_state.RedisState` shares the state across a cluster.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from cobrowse.core.registry import Outcome, SessionEvent, SessionRegistry
from cobrowse.core.session import Session, Timeouts
from cobrowse.core.throttle import JoinThrottle


class LiveState(Protocol):
    async def start(self, site_id: str, now: float, interaction_id: str | None = None) -> Session:
        """A new idle session with an ID no other live session has, bound to its
        interaction from the start when it has one (a chat's co-browse)."""
        ...

    async def join(
        self, typed_id: str, agent_id: str, now: float, interaction_id: str | None = None
    ) -> Outcome:
        """The agent joins by the ID it typed (one live session per agent), binding an
        unbound session to ``interaction_id``."""
        ...

    async def agent_returns(self, agent_id: str, now: float) -> Outcome | None:
        """The agent's console came back: its own live session, if it has one."""
        ...

    async def apply(self, session_id: str, event: SessionEvent, now: float) -> Outcome:
        """Any event but a join; Refusal when the session is not live."""
        ...

    async def get(self, session_id: str) -> Session | None: ...

    async def sessions(self) -> list[Session]:
        """Every live session."""
        ...

    async def touch(self, session_id: str, now: float) -> None:
        """Someone did something in the session: its inactivity timeout starts over."""
        ...

    async def due(self, now: float) -> list[str]:
        """The sessions whose next timeout may have fallen due by ``now``."""
        ...

    async def join_allowed(self, agent_id: str, now: float) -> bool:
        """Whether the agent may try another join (failed joins are throttled)."""
        ...

    async def join_failed(self, agent_id: str, now: float) -> None: ...

    def states(self) -> Iterable[str]:
        """The state of every live session, read without I/O (for the metrics gauge;
        a shared state answers from its last look)."""
        ...

    async def close(self) -> None: ...


class MemoryState:
    """One node's live state in its own memory. Nothing here awaits, so on the event
    loop every method is atomic."""

    def __init__(self, timeouts: Timeouts, join_attempts_per_minute: int) -> None:
        self.registry = SessionRegistry(timeouts=timeouts)
        self._throttle = JoinThrottle(join_attempts_per_minute)

    async def start(self, site_id: str, now: float, interaction_id: str | None = None) -> Session:
        return self.registry.start(site_id, now, interaction_id)

    async def join(
        self, typed_id: str, agent_id: str, now: float, interaction_id: str | None = None
    ) -> Outcome:
        return self.registry.join(typed_id, agent_id, now, interaction_id)

    async def agent_returns(self, agent_id: str, now: float) -> Outcome | None:
        return self.registry.agent_returns(agent_id, now)

    async def apply(self, session_id: str, event: SessionEvent, now: float) -> Outcome:
        return self.registry.apply(session_id, event, now)

    async def get(self, session_id: str) -> Session | None:
        return self.registry.get(session_id)

    async def sessions(self) -> list[Session]:
        return self.registry.sessions()

    async def touch(self, session_id: str, now: float) -> None:
        session = self.registry.get(session_id)
        if session is not None:
            session.touch(now)

    async def due(self, now: float) -> list[str]:
        return self.registry.due(now)

    async def join_allowed(self, agent_id: str, now: float) -> bool:
        return self._throttle.allows(agent_id, now)

    async def join_failed(self, agent_id: str, now: float) -> None:
        self._throttle.failed(agent_id, now)

    def states(self) -> Iterable[str]:
        return (session.state.value for session in self.registry.sessions())

    async def close(self) -> None:
        return None
