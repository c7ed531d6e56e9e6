"""Live sessions of one node: the pure registry plus the sockets of each party.

This is the embedded (in-memory) live state. It runs the core's rules and carries
out their effects: frames to the other party, audit records. Each method runs
without awaiting between reading and changing the registry, so the asyncio event
loop makes every rule check atomic.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Protocol

from cobrowse.core import protocol
from cobrowse.core.registry import Outcome, SessionRegistry
from cobrowse.core.session import (
    AdminEnds,
    AgentJoined,
    AgentLeaves,
    CustomerAway,
    CustomerBack,
    CustomerLeaves,
    CustomerReturns,
    Ended,
    Ending,
    Exits,
    Mode,
    ModeChanged,
    PointerModeChosen,
    Refusal,
    Role,
    Session,
    SnapshotNeeded,
    Tick,
    Timeouts,
    WriteModeAnswered,
    WriteModeAsked,
    WriteModeDeclined,
    WriteModeRequested,
)
from cobrowse.core.throttle import JoinThrottle
from cobrowse.metrics import Metrics
from cobrowse.store.history import SessionHistory

log = logging.getLogger("cobrowse.live")

_RELAY_DIRECTION = {Role.AGENT: "to_agent", Role.CUSTOMER: "to_customer"}

GUESSES = frozenset({"bad_session_id", "no_such_session"})
"""Refused joins that look like guessing IDs; only these count toward the throttle."""


def describe(session: Session) -> protocol.SessionInfo:
    return protocol.SessionInfo(session.id, session.state.value, session.mode.value)


class Peer(Protocol):
    """One connected browser, as the live layer sees it."""

    async def send(self, frame: str) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...


class Audit(Protocol):
    async def record(
        self, kind: str, actor: str, session_id: str | None = None, **detail: str | int | None
    ) -> None: ...


class LiveSessions:
    def __init__(
        self,
        audit: Audit,
        join_attempts_per_minute: int,
        clock: Callable[[], float] = time.time,
        timeouts: Timeouts | None = None,
        metrics: Metrics | None = None,
        *,
        history: SessionHistory | None = None,
    ) -> None:
        self.registry = SessionRegistry(timeouts=timeouts)
        self.metrics = metrics or Metrics()
        self.metrics.watch_sessions(
            lambda: (session.state.value for session in self.registry.sessions())
        )
        self._audit = audit
        self._history = history
        self._clock = clock
        self._throttle = JoinThrottle(join_attempts_per_minute)
        self._customers: dict[str, Peer] = {}
        self._consoles: dict[str, Peer] = {}
        self._restrictions_pushed: dict[str, Mapping[str, object]] = {}

    # Customer side ----------------------------------------------------------------

    async def start(self, site_name: str, customer: Peer) -> Session:
        session = self.registry.start(site_name, self._clock())
        self._customers[session.id] = customer
        log.info("session started", extra={"session": session.id, "site": site_name})
        await self._audit.record("session_started", "customer", session.id, site=site_name)
        if self._history is not None:
            await self._history.started(session.id, site_name, self._now())
        return session

    async def restrictions_changed(
        self, site_name: str, restrictions: Mapping[str, object]
    ) -> None:
        """New DOM restrictions reach the site's live sessions without a reload (R5).

        The same restrictions twice (the API's push, then the poll that notices the
        same change) reach the pages once: each change makes them take a snapshot.
        """
        if self._restrictions_pushed.get(site_name) == restrictions:
            return
        self._restrictions_pushed[site_name] = dict(restrictions)
        notice = protocol.restrictions(restrictions)
        for session in self.registry.of_site(site_name):
            await self._to_customer(session.id, notice)

    async def customer_frame(self, session_id: str, frame: str) -> None:
        """Forward a stream or pointer frame to the agent, if one is watching."""
        session = self.registry.get(session_id)
        if session is not None:
            await self._relay(session, Role.AGENT, frame)

    async def customer_gone(self, session_id: str, customer: Peer) -> None:
        """The page's socket closed: the session waits for the next page (S9)."""
        if self._customers.get(session_id) is customer:
            del self._customers[session_id]
            await self._apply(session_id, CustomerLeaves())

    async def resume(self, session_id: str, resume_token: str, customer: Peer) -> Session:
        """A new page of the same tab takes the session over."""
        outcome = self.registry.apply(session_id, CustomerReturns(resume_token), self._clock())
        previous = self._customers.get(session_id)
        self._customers[session_id] = customer
        if previous is not None and previous is not customer:
            await previous.close(protocol.CLOSE_REPLACED, "Another page took the session over.")
        await self._carry_out(outcome, "customer")
        return outcome.session

    async def tick(self) -> None:
        """End the sessions whose timeouts fell due (the core decides, from now)."""
        for outcome in self.registry.tick(self._clock()):
            await self._carry_out(outcome, "server")

    # Agent side -------------------------------------------------------------------

    async def console_connected(self, agent_id: str, console: Peer) -> Session | None:
        """A console of this agent opened; the newest one wins. Returns its live session."""
        previous = self._consoles.get(agent_id)
        self._consoles[agent_id] = console
        if previous is not None and previous is not console:
            await previous.close(protocol.CLOSE_REPLACED, "This agent opened another console.")
        outcome = self.registry.agent_returns(agent_id, self._clock())
        if outcome is None:
            return None
        await self._carry_out(outcome)
        return outcome.session

    async def console_gone(self, agent_id: str, console: Peer) -> None:
        """The console closed: its session waits agent_grace for it to come back."""
        if self._consoles.get(agent_id) is not console:
            return  # replaced by a newer console of the same agent
        del self._consoles[agent_id]
        session = self.registry.session_of_agent(agent_id)
        if session is not None:
            await self._apply(session.id, AgentLeaves(agent_id))

    async def join(self, agent_id: str, typed_id: str) -> Session:
        now = self._clock()
        if not self._throttle.allows(agent_id, now):
            self.metrics.joins_refused.labels("too_many_attempts").inc()
            await self._audit.record("join_throttled", agent_id, None, typed=typed_id[:16])
            raise Refusal(
                "too_many_attempts",
                "Too many failed attempts to join. "
                "Wait a minute and check the ID with the customer.",
            )
        try:
            outcome = self.registry.join(typed_id, agent_id, now)
        except Refusal as refusal:
            self.metrics.joins_refused.labels(refusal.code).inc()
            if refusal.code in GUESSES:
                self._throttle.failed(agent_id, now)
            await self._audit.record(
                "join_refused", agent_id, None, typed=typed_id[:16], code=refusal.code
            )
            raise
        await self._audit.record("agent_joined", agent_id, outcome.session.id)
        if self._history is not None:
            await self._history.joined(outcome.session.id, agent_id, self._now())
        await self._carry_out(outcome)
        return outcome.session

    async def agent_frame(self, agent_id: str, frame: str) -> None:
        """Forward an agent pointer or click (ripple) frame to the customer of its session."""
        session = self.registry.session_of_agent(agent_id)
        if session is not None:
            await self._relay(session, Role.CUSTOMER, frame)

    async def agent_action(self, agent_id: str, frame: str) -> None:
        """Forward an agent action to be performed on the page: only in write mode (R7)."""
        session = self.own_session(agent_id)
        if session.mode is not Mode.WRITE:
            await self.action_refused(agent_id, session.id, "pointer_mode")
            raise Refusal(
                "pointer_mode",
                "The session is in pointer mode: ask the customer for write mode first.",
            )
        await self._relay(session, Role.CUSTOMER, frame)

    async def action_refused(self, agent_id: str, session_id: str, code: str) -> None:
        """An agent action was refused (by mode or restriction): counted and audited,
        never with the content the action carried."""
        self.metrics.actions_refused.labels(code).inc()
        await self._audit.record("action_refused", agent_id, session_id, code=code)

    async def request_write_mode(self, agent_id: str) -> None:
        session = self.own_session(agent_id)
        outcome = self.registry.apply(session.id, WriteModeRequested(agent_id), self._clock())
        await self._audit.record("write_mode_requested", agent_id, session.id)
        if self._history is not None:
            await self._history.write_mode_requested(session.id)
        await self._carry_out(outcome, agent_id)

    async def choose_pointer_mode(self, session_id: str, role: Role, actor: str) -> None:
        outcome = self.registry.apply(session_id, PointerModeChosen(role), self._clock())
        await self._carry_out(outcome, actor)

    async def answer_write_mode(self, session_id: str, accepted: bool) -> None:
        outcome = self.registry.apply(session_id, WriteModeAnswered(accepted), self._clock())
        await self._audit.record(
            "write_mode_answered", "customer", session_id, accepted=int(accepted)
        )
        await self._carry_out(outcome, "customer")

    async def customer_refused(self, session_id: str, code: str, frame: str) -> None:
        """The customer's page refused an agent action: audit it and tell the agent."""
        session = self.registry.get(session_id)
        if session is None or session.agent_id is None:
            return
        await self.action_refused(session.agent_id, session_id, code)
        await self._to_agent(session, frame)

    def own_session(self, agent_id: str) -> Session:
        """The agent's live session; Refusal when it has none."""
        session = self.registry.session_of_agent(agent_id)
        if session is None:
            raise Refusal("no_session", "You are not in a co-browse session.")
        return session

    # Administrators ---------------------------------------------------------------

    async def overview(self) -> list[Session]:
        """Every live session, oldest first, for the admin console."""
        return sorted(self.registry.sessions(), key=lambda session: session.created_at)

    async def force_end(self, session_id: str, admin: str) -> bool:
        """End a live session at once (``admin_ended``); False when it is not live."""
        try:
            outcome = self.registry.apply(session_id, AdminEnds(), self._clock())
        except Refusal:
            return False
        await self._carry_out(outcome, admin)
        return True

    # Both -------------------------------------------------------------------------

    async def exit(self, session_id: str, role: Role, actor: str) -> None:
        await self._apply(session_id, Exits(role), actor)

    async def _apply(
        self, session_id: str, event: Ending | AgentLeaves | Tick, actor: str = "customer"
    ) -> None:
        try:
            outcome = self.registry.apply(session_id, event, self._clock())
        except Refusal:
            return  # already ended: nothing left to do
        await self._carry_out(outcome, actor)

    async def _carry_out(self, outcome: Outcome, actor: str = "server") -> None:
        session = outcome.session
        for effect in outcome.effects:
            match effect:
                case AgentJoined():
                    await self._to_customer(
                        session.id, protocol.encode(protocol.AgentJoinedNotice(v=1))
                    )
                case SnapshotNeeded():
                    await self._to_customer(
                        session.id, protocol.encode(protocol.SnapshotRequest(v=1))
                    )
                case Ended(reason):
                    await self._finish(session, effect, actor)
                    log.info("session ended", extra={"session": session.id, "reason": reason.value})
                case CustomerAway():
                    away = protocol.encode(protocol.CustomerAwayNotice(v=1))
                    await self._to_agent(session, away)
                case CustomerBack():
                    back = protocol.encode(protocol.CustomerBackNotice(v=1))
                    await self._to_agent(session, back)
                case WriteModeAsked():
                    await self._to_customer(session.id, protocol.encode(protocol.WriteRequest(v=1)))
                case WriteModeDeclined():
                    # Counted here, not where the answer arrives: choosing pointer
                    # mode while asked is a decline too.
                    if self._history is not None:
                        await self._history.write_mode_answered(session.id, accepted=False)
                    declined = protocol.WriteDeclined(v=1, text="The customer declined write mode.")
                    await self._to_agent(session, protocol.encode(declined))
                case ModeChanged(mode, by):
                    await self._audit.record("mode_changed", actor, session.id, mode=mode.value)
                    if self._history is not None:
                        await self._history.mode_changed(session.id)
                    notice = protocol.encode(protocol.ModeNotice(v=1, mode=mode.value, by=by.value))
                    await self._to_customer(session.id, notice)
                    await self._to_agent(session, notice)

    async def _finish(self, session: Session, ended: Ended, actor: str) -> None:
        self.metrics.sessions_ended.labels(ended.reason.value).inc()
        await self._audit.record("session_ended", actor, session.id, reason=ended.reason.value)
        if self._history is not None:
            await self._history.ended(session.id, ended.reason.value, self._now())
        notice = protocol.ended(ended.reason.value, ended.text)
        customer = self._customers.pop(session.id, None)
        if customer is not None:
            await customer.send(notice)
            await customer.close(protocol.CLOSE_ENDED, ended.reason.value)
        await self._to_agent(session, notice)

    async def _relay(self, session: Session, to: Role, frame: str) -> None:
        """The hot path: one party's frame, as received, to the other party."""
        started = time.perf_counter()
        session.touch(self._clock())
        if to is Role.AGENT:
            await self._to_agent(session, frame)
        else:
            await self._to_customer(session.id, frame)
        self.metrics.relayed(_RELAY_DIRECTION[to], frame, time.perf_counter() - started)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    async def _to_agent(self, session: Session, frame: str) -> None:
        console = self._consoles.get(session.agent_id) if session.agent_id else None
        if console is not None:
            await console.send(frame)

    async def _to_customer(self, session_id: str, frame: str) -> None:
        customer = self._customers.get(session_id)
        if customer is not None:
            await customer.send(frame)


TICK_SECONDS = 0.5
"""How often timeouts are checked; a timeout ends at most this much late."""


async def run_timeouts(live: LiveSessions, interval: float = TICK_SECONDS) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await live.tick()
        except Exception:  # one failing session must not stop every timeout
            log.exception("timeout check failed")
