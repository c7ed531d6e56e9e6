"""All live sessions of one node, and the rules that span sessions (pure, no I/O).

A :class:`Session` knows its own lifecycle; the registry adds what needs the whole
set: unique IDs among live sessions (S3) and one live session per agent (S5).
Ended sessions leave the registry at once, so an old ID is simply unknown.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from cobrowse.core.ids import new_session_id, normalize_session_id
from cobrowse.core.session import (
    AgentJoins,
    AgentLeaves,
    AgentReturns,
    CustomerReturns,
    Effect,
    Ended,
    Ending,
    ModeEvent,
    Refusal,
    Session,
    Tick,
    Timeouts,
)

SessionEvent = Ending | ModeEvent | CustomerReturns | AgentLeaves | Tick
"""Every event but a join (joins also keep the one-agent rule)."""


@dataclass(frozen=True)
class Outcome:
    session: Session
    effects: list[Effect]

    @property
    def ended(self) -> bool:
        return any(isinstance(effect, Ended) for effect in self.effects)


def joinable_id(typed_id: str, agents_session: str | None) -> str:
    """The session ID an agent may try to join, from what it typed and the live
    session it is already in (S5: one at a time); Refusal otherwise."""
    session_id = normalize_session_id(typed_id)
    if session_id is None:
        raise Refusal("bad_session_id", "A session ID is nine digits.")
    if agents_session is not None and agents_session != session_id:
        raise Refusal(
            "agent_busy",
            f"You are already in co-browse session {agents_session}. "
            "Exit it before joining another.",
        )
    return session_id


def no_such_session(session_id: str) -> Refusal:
    return Refusal("no_such_session", f"There is no live co-browse session {session_id}.")


class SessionRegistry:
    def __init__(
        self,
        randbelow: Callable[[int], int] = secrets.randbelow,
        timeouts: Timeouts | None = None,
    ) -> None:
        self._timeouts = timeouts or Timeouts()
        self._sessions: dict[str, Session] = {}
        self._by_agent: dict[str, str] = {}
        self._randbelow = randbelow

    def __len__(self) -> int:
        return len(self._sessions)

    def sessions(self) -> list[Session]:
        return list(self._sessions.values())

    def of_site(self, site_id: str) -> list[Session]:
        return [session for session in self._sessions.values() if session.site_id == site_id]

    def get(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    def session_of_agent(self, agent_id: str) -> Session | None:
        session_id = self._by_agent.get(agent_id)
        return self._sessions.get(session_id) if session_id else None

    def start(self, site_id: str, now: float, interaction_id: str | None = None) -> Session:
        session_id = new_session_id(self._sessions, self._randbelow)
        session = Session(
            id=session_id,
            site_id=site_id,
            created_at=now,
            timeouts=self._timeouts,
            interaction_id=interaction_id,
        )
        self._sessions[session_id] = session
        return session

    def join(
        self, typed_id: str, agent_id: str, now: float, interaction_id: str | None = None
    ) -> Outcome:
        current = self.session_of_agent(agent_id)
        session_id = joinable_id(typed_id, current.id if current else None)
        session = self._sessions.get(session_id)
        if session is None:
            raise no_such_session(session_id)
        effects = session.handle(AgentJoins(agent_id, interaction_id), now)
        self._by_agent[agent_id] = session.id
        return Outcome(session, effects)

    def agent_returns(self, agent_id: str, now: float) -> Outcome | None:
        """The agent's console connected again: its own live session, if it has one."""
        session = self.session_of_agent(agent_id)
        if session is None:
            return None
        return Outcome(session, session.handle(AgentReturns(agent_id), now))

    def due(self, now: float) -> list[str]:
        """The sessions whose next timeout has fallen due."""
        return [
            session.id
            for session in self._sessions.values()
            if (deadline := session.next_deadline()) is not None and now >= deadline
        ]

    def tick(self, now: float) -> list[Outcome]:
        """Every session whose timeout fell due, ended."""
        return [self.apply(session_id, Tick(), now) for session_id in self.due(now)]

    def apply(self, session_id: str, event: SessionEvent, now: float) -> Outcome:
        """Any event but a join; joins go through :meth:`join`, which keeps the
        one-agent rule."""
        session = self._sessions.get(session_id)
        if session is None:
            raise no_such_session(session_id)
        outcome = Outcome(session, session.handle(event, now))
        if outcome.ended:
            self._forget(session)
        return outcome

    def _forget(self, session: Session) -> None:
        del self._sessions[session.id]
        if session.agent_id is not None and self._by_agent.get(session.agent_id) == session.id:
            del self._by_agent[session.agent_id]
