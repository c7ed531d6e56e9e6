"""Live sessions as one node serves them: the rules run in the live state, the
effects are carried out here (frames to the parties, audit and history records).

The same code serves the embedded single node (memory state, local fan-out) and
every node of a cluster (Redis state and fan-out): a party connected to this node
is sent to directly, any other through the fan-out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from cobrowse.core import protocol, webhooks
from cobrowse.core.ids import normalize_session_id
from cobrowse.core.registry import Outcome
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
    InteractionEnds,
    Mode,
    ModeChanged,
    PointerModeChosen,
    Refusal,
    Role,
    Session,
    SessionState,
    SnapshotNeeded,
    Tick,
    WriteModeAnswered,
    WriteModeAsked,
    WriteModeDeclined,
    WriteModeRequested,
)
from cobrowse.core.webhooks import WebhookEvent
from cobrowse.live.fanout import ENDED, FRAME, REPLACED, Fanout, LocalFanout
from cobrowse.live.state import LiveState
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


class WebhookEvents(Protocol):
    """Where session events go for webhook subscribers (the dispatcher only queues
    them, so emitting costs one database write, never a network call)."""

    async def emit(self, event_type: str, data: dict[str, object]) -> None: ...


class Bindings(Protocol):
    """Which chat or call a session belongs to (S2): integration.binding."""

    async def for_join(self, agent_id: str, session: Session) -> str | None: ...

    async def bind(self, session_id: str, interaction_id: str) -> bool: ...


class Audit(Protocol):
    async def record(
        self, kind: str, actor: str, session_id: str | None = None, **detail: str | int | None
    ) -> None: ...


class LiveSessions:
    """The live sessions as one node serves them.

    The rules run in :class:`LiveState` (in memory, or shared through Redis); the
    sockets connected to this node are held here, and what must reach a party on
    another node goes through the :class:`Fanout`.
    """

    def __init__(
        self,
        audit: Audit,
        state: LiveState,
        fanout: Fanout | None = None,
        clock: Callable[[], float] = time.time,
        metrics: Metrics | None = None,
        *,
        history: SessionHistory | None = None,
        webhooks: WebhookEvents | None = None,
        bindings: Bindings | None = None,
    ) -> None:
        self.state = state
        self._bindings = bindings
        self._webhooks = webhooks
        self.fanout = fanout or LocalFanout()
        self.metrics = metrics or Metrics()
        self.metrics.watch_sessions(state.states)
        self._audit = audit
        self._history = history
        self._clock = clock
        # The parties connected to this node.
        self._customers: dict[str, LocalCustomer] = {}
        self._consoles: dict[str, Peer] = {}
        self._watching: dict[str, str] = {}
        """agent -> the session its console here is bound to."""
        self._watched_by: dict[str, str] = {}
        """session -> the agent whose console here watches it."""
        self._restrictions_pushed: dict[str, Mapping[str, object]] = {}

    # Customer side ----------------------------------------------------------------

    async def start(
        self, site_name: str, customer: Peer, interaction_id: str | None = None
    ) -> Session:
        """A new session for the customer's page; bound from the start to the chat it
        was asked for from (``interaction_id``), whose openness the caller checked."""
        session = await self.state.start(site_name, self._clock(), interaction_id)
        await self._hold_customer(session.id, site_name, customer)
        log.info("session started", extra={"session": session.id, "site": site_name})
        await self._audit.record("session_started", "customer", session.id, site=site_name)
        if self._history is not None:
            await self._history.started(session.id, site_name, self._now())
        if self._webhooks is not None:
            started = webhooks.session_started(session.id, site_name, interaction_id, self._now())
            await self._webhooks.emit(WebhookEvent.SESSION_STARTED, started)
        if interaction_id is not None:
            await self._bind(session.id, interaction_id)
        return session

    async def restrictions_changed(
        self, site_name: str, restrictions: Mapping[str, object]
    ) -> None:
        """New DOM restrictions reach the site's live sessions without a reload (R5).

        The same restrictions twice (the API's push, then the poll that notices the
        same change) reach the pages once: each change makes them take a snapshot.
        Each node tells the pages connected to it (each node polls for changes).
        """
        if self._restrictions_pushed.get(site_name) == restrictions:
            return
        self._restrictions_pushed[site_name] = dict(restrictions)
        notice = protocol.restrictions(restrictions)
        for held in list(self._customers.values()):
            if held.site_id == site_name:
                await held.peer.send(notice)

    async def customer_frame(self, session_id: str, frame: str) -> None:
        """Forward a stream or pointer frame to the agent, if one is watching."""
        await self._relay(session_id, Role.AGENT, frame)

    async def customer_gone(self, session_id: str, customer: Peer) -> None:
        """The page's socket closed: the session waits for the next page (S9)."""
        held = self._customers.get(session_id)
        if held is None or held.peer is not customer:
            return  # replaced by a newer page, or the session ended
        del self._customers[session_id]
        if await self.fanout.detach(_customer_target(session_id)):
            await self._apply(session_id, CustomerLeaves())
        # else a page of the tab already resumed the session on another node

    async def resume(
        self, session_id: str, resume_token: str, site_name: str, customer: Peer
    ) -> Session:
        """A new page of the same tab (or the same page reconnecting, to any node)
        takes the session over."""
        known = await self.state.get(session_id)
        if known is None or known.site_id != site_name:
            raise Refusal("no_such_session", "This co-browse session has ended.")
        outcome = await self.state.apply(session_id, CustomerReturns(resume_token), self._clock())
        await self._hold_customer(session_id, site_name, customer)
        await self._carry_out(outcome, "customer")
        return outcome.session

    async def tick(self) -> None:
        """End the sessions whose timeouts fell due (the core decides, from now).

        Every node ticks; the state lets exactly one of them end each session.
        """
        for session_id in await self.state.due(self._clock()):
            await self._apply(session_id, Tick(), "server")

    async def sweep(self) -> None:
        """The parties of nodes that died (no goodbye, no closed socket to notice) are
        gone: their sessions wait for them as for any dropped connection."""
        for target in await self.fanout.orphans():
            role, _, session_id = target.partition(":")
            if role == "c":
                await self._apply(session_id, CustomerLeaves(), "server")
            elif role == "a":
                session = await self.state.get(session_id)
                if session is not None and session.agent_id is not None:
                    await self._apply(session_id, AgentLeaves(session.agent_id), "server")

    # Agent side -------------------------------------------------------------------

    async def console_connected(self, agent_id: str, console: Peer) -> Session | None:
        """A console of this agent opened; the newest one wins, on whatever node it
        is. Returns its live session."""
        previous = self._consoles.get(agent_id)
        if previous is not None and previous is not console:
            self._let_console_go(agent_id)
            await previous.close(protocol.CLOSE_REPLACED, "This agent opened another console.")
        self._consoles[agent_id] = console
        await self.fanout.attach(_console_target(agent_id))
        outcome = await self.state.agent_returns(agent_id, self._clock())
        if outcome is None:
            return None
        await self._watch(agent_id, outcome.session.id)
        await self._carry_out(outcome)
        return outcome.session

    async def console_gone(self, agent_id: str, console: Peer) -> None:
        """The console closed: its session waits agent_grace for it to come back."""
        if self._consoles.get(agent_id) is not console:
            return  # replaced by a newer console of the same agent
        watched = self._let_console_go(agent_id)
        await self.fanout.detach(_console_target(agent_id))
        if watched is not None and await self.fanout.detach(_agent_target(watched)):
            await self._apply(watched, AgentLeaves(agent_id))
        # else the agent's console already came back on another node

    async def join(self, agent_id: str, typed_id: str) -> Session:
        now = self._clock()
        if not await self.state.join_allowed(agent_id, now):
            self.metrics.joins_refused.labels("too_many_attempts").inc()
            await self._audit.record("join_throttled", agent_id, None, typed=typed_id[:16])
            raise Refusal(
                "too_many_attempts",
                "Too many failed attempts to join. "
                "Wait a minute and check the ID with the customer.",
            )
        try:
            interaction_id = await self._binding_for_join(agent_id, typed_id)
            outcome = await self.state.join(typed_id, agent_id, now, interaction_id)
        except Refusal as refusal:
            self.metrics.joins_refused.labels(refusal.code).inc()
            if refusal.code in GUESSES:
                await self.state.join_failed(agent_id, now)
            await self._audit.record(
                "join_refused", agent_id, None, typed=typed_id[:16], code=refusal.code
            )
            raise
        await self._watch(agent_id, outcome.session.id)
        await self._audit.record("agent_joined", agent_id, outcome.session.id)
        session = outcome.session
        if self._history is not None:
            await self._history.joined(session.id, agent_id, self._now())
        if self._webhooks is not None:
            joined = webhooks.session_agent_joined(
                session.id, session.site_id, agent_id, session.interaction_id, self._now()
            )
            await self._webhooks.emit(WebhookEvent.SESSION_AGENT_JOINED, joined)
        await self._carry_out(outcome)
        if session.interaction_id is not None and session.interaction_id == interaction_id:
            await self._bind(session.id, session.interaction_id)
        return session

    async def _binding_for_join(self, agent_id: str, typed_id: str) -> str | None:
        """The interaction a join binds its session to (S2); Refusal when the agent may
        not join it. An ID that names no live session is left for the join to refuse
        (and count as a guess)."""
        if self._bindings is None:
            return None
        session_id = normalize_session_id(typed_id)
        session = await self.state.get(session_id) if session_id is not None else None
        if session is None:
            return None
        if session.state is SessionState.ACTIVE and session.agent_id == agent_id:
            return session.interaction_id  # the agent's own session: joining is coming back
        return await self._bindings.for_join(agent_id, session)

    async def _bind(self, session_id: str, interaction_id: str) -> None:
        """Record the binding; a session whose interaction ended meanwhile ends too."""
        if self._bindings is not None and not await self._bindings.bind(session_id, interaction_id):
            await self._apply(session_id, InteractionEnds(), "server")

    async def agent_frame(self, agent_id: str, frame: str) -> None:
        """Forward an agent pointer or click (ripple) frame to the customer of its session."""
        session_id = self._watching.get(agent_id)
        if session_id is not None:
            await self._relay(session_id, Role.CUSTOMER, frame)

    async def agent_action(self, agent_id: str, frame: str) -> None:
        """Forward an agent action to be performed on the page: only in write mode (R7)."""
        session = await self.own_session(agent_id)
        if session.mode is not Mode.WRITE:
            await self.action_refused(agent_id, session.id, "pointer_mode")
            raise Refusal(
                "pointer_mode",
                "The session is in pointer mode: ask the customer for write mode first.",
            )
        await self._relay(session.id, Role.CUSTOMER, frame)

    async def action_refused(self, agent_id: str, session_id: str, code: str) -> None:
        """An agent action was refused (by mode or restriction): counted and audited,
        never with the content the action carried."""
        self.metrics.actions_refused.labels(code).inc()
        await self._audit.record("action_refused", agent_id, session_id, code=code)

    async def request_write_mode(self, agent_id: str) -> None:
        session = await self.own_session(agent_id)
        outcome = await self.state.apply(session.id, WriteModeRequested(agent_id), self._clock())
        await self._audit.record("write_mode_requested", agent_id, session.id)
        if self._history is not None:
            await self._history.write_mode_requested(session.id)
        await self._carry_out(outcome, agent_id)

    async def choose_pointer_mode(self, session_id: str, role: Role, actor: str) -> None:
        outcome = await self.state.apply(session_id, PointerModeChosen(role), self._clock())
        await self._carry_out(outcome, actor)

    async def answer_write_mode(self, session_id: str, accepted: bool) -> None:
        outcome = await self.state.apply(session_id, WriteModeAnswered(accepted), self._clock())
        await self._audit.record(
            "write_mode_answered", "customer", session_id, accepted=int(accepted)
        )
        await self._carry_out(outcome, "customer")

    async def customer_refused(self, session_id: str, code: str, frame: str) -> None:
        """The customer's page refused an agent action: audit it and tell the agent."""
        session = await self.state.get(session_id)
        if session is None or session.agent_id is None:
            return
        await self.action_refused(session.agent_id, session_id, code)
        await self._send(_agent_target(session_id), FRAME, frame)

    async def own_session(self, agent_id: str) -> Session:
        """The live session this agent's console watches; Refusal when it has none."""
        session_id = self._watching.get(agent_id)
        session = await self.state.get(session_id) if session_id else None
        if session is None:
            raise Refusal("no_session", "You are not in a co-browse session.")
        return session

    # Administrators ---------------------------------------------------------------

    async def overview(self) -> list[Session]:
        """Every live session, oldest first, for the admin console."""
        return sorted(await self.state.sessions(), key=lambda session: session.created_at)

    async def force_end(self, session_id: str, admin: str) -> bool:
        """End a live session at once (``admin_ended``); False when it is not live."""
        try:
            outcome = await self.state.apply(session_id, AdminEnds(), self._clock())
        except Refusal:
            return False
        await self._carry_out(outcome, admin)
        return True

    async def interaction_ended(self, interaction_id: str, session_ids: list[str]) -> None:
        """The chat or call ended: so do its live co-browse sessions (P2)."""
        for session_id in session_ids:
            await self._apply(session_id, InteractionEnds(), "server")

    async def to_console(self, agent_id: str, frame: str) -> None:
        """Send a frame to the agent's console, on whatever node it is open (the web
        chat's messages); dropped when the agent has no console open."""
        await self._send(_console_target(agent_id), FRAME, frame)

    # Both -------------------------------------------------------------------------

    async def exit(self, session_id: str, role: Role, actor: str) -> None:
        await self._apply(session_id, Exits(role), actor)

    async def deliver(self, target: str, kind: str, payload: str) -> None:
        """Carry out, for a party connected here, what a node routed to it."""
        role, _, key = target.partition(":")
        if role == "k":
            console = self._consoles.get(key)
            if console is None:
                return
            if kind == FRAME:  # a chat frame for the agent, from another node
                await console.send(payload)
            elif kind == REPLACED:
                self._let_console_go(key)
                await console.close(protocol.CLOSE_REPLACED, "This agent opened another console.")
            return
        peer = self._held(target)
        if peer is None:
            return
        if kind == FRAME:
            await peer.send(payload)
        elif kind == ENDED:
            reason, _, notice = payload.partition("\n")
            await peer.send(notice)
            if role == "c":
                del self._customers[key]
                await peer.close(protocol.CLOSE_ENDED, reason)
            else:
                self._unwatch(key)
            await self.fanout.detach(target)
        elif kind == REPLACED and role == "c":
            del self._customers[key]
            await peer.close(protocol.CLOSE_REPLACED, "Another page took the session over.")

    async def _apply(
        self, session_id: str, event: Ending | AgentLeaves | Tick, actor: str = "customer"
    ) -> None:
        try:
            outcome = await self.state.apply(session_id, event, self._clock())
        except Refusal:
            return  # already ended: nothing left to do
        await self._carry_out(outcome, actor)

    async def _carry_out(self, outcome: Outcome, actor: str = "server") -> None:
        session = outcome.session
        to_customer, to_agent = _customer_target(session.id), _agent_target(session.id)
        for effect in outcome.effects:
            match effect:
                case AgentJoined():
                    joined = protocol.encode(protocol.AgentJoinedNotice(v=1))
                    await self._send(to_customer, FRAME, joined)
                case SnapshotNeeded():
                    snapshot = protocol.encode(protocol.SnapshotRequest(v=1))
                    await self._send(to_customer, FRAME, snapshot)
                case Ended(reason):
                    await self._finish(session, effect, actor)
                    log.info("session ended", extra={"session": session.id, "reason": reason.value})
                case CustomerAway():
                    away = protocol.encode(protocol.CustomerAwayNotice(v=1))
                    await self._send(to_agent, FRAME, away)
                case CustomerBack():
                    back = protocol.encode(protocol.CustomerBackNotice(v=1))
                    await self._send(to_agent, FRAME, back)
                case WriteModeAsked():
                    await self._send(
                        to_customer, FRAME, protocol.encode(protocol.WriteRequest(v=1))
                    )
                case WriteModeDeclined():
                    # Counted here, not where the answer arrives: choosing pointer
                    # mode while asked is a decline too.
                    if self._history is not None:
                        await self._history.write_mode_answered(session.id, accepted=False)
                    declined = protocol.WriteDeclined(v=1, text="The customer declined write mode.")
                    await self._send(to_agent, FRAME, protocol.encode(declined))
                case ModeChanged(mode, by):
                    await self._audit.record("mode_changed", actor, session.id, mode=mode.value)
                    if self._history is not None:
                        await self._history.mode_changed(session.id)
                    if self._webhooks is not None:
                        changed = webhooks.session_mode_changed(
                            session.id,
                            session.site_id,
                            mode.value,
                            by.value,
                            session.interaction_id,
                            self._now(),
                        )
                        await self._webhooks.emit(WebhookEvent.SESSION_MODE_CHANGED, changed)
                    notice = protocol.encode(protocol.ModeNotice(v=1, mode=mode.value, by=by.value))
                    await self._send(to_customer, FRAME, notice)
                    await self._send(to_agent, FRAME, notice)

    async def _finish(self, session: Session, ended: Ended, actor: str) -> None:
        self.metrics.sessions_ended.labels(ended.reason.value).inc()
        await self._audit.record("session_ended", actor, session.id, reason=ended.reason.value)
        if self._history is not None:
            await self._history.ended(session.id, ended.reason.value, self._now())
        if self._webhooks is not None:
            data = webhooks.session_ended(
                session.id, session.site_id, ended.reason.value, session.interaction_id, self._now()
            )
            await self._webhooks.emit(WebhookEvent.SESSION_ENDED, data)
        notice = f"{ended.reason.value}\n{protocol.ended(ended.reason.value, ended.text)}"
        await self._send(_customer_target(session.id), ENDED, notice)
        await self._send(_agent_target(session.id), ENDED, notice)

    async def _relay(self, session_id: str, to: Role, frame: str) -> None:
        """The hot path: one party's frame, as received, to the other party."""
        started = time.perf_counter()
        await self.state.touch(session_id, self._clock())
        target = _agent_target(session_id) if to is Role.AGENT else _customer_target(session_id)
        await self._send(target, FRAME, frame)
        self.metrics.relayed(_RELAY_DIRECTION[to], frame, time.perf_counter() - started)

    async def _send(self, target: str, kind: str, payload: str) -> None:
        """To the party named by ``target``: here when it is connected here, else
        through the fan-out to the node it is connected to."""
        peer = self._held(target)
        if peer is None:
            await self.fanout.route(target, kind, payload)
        elif kind == FRAME:
            await peer.send(payload)  # the hot path: no need to parse the target again
        else:
            await self.deliver(target, kind, payload)

    def _held(self, target: str) -> Peer | None:
        role, _, key = target.partition(":")
        if role == "c":
            held = self._customers.get(key)
            return held.peer if held is not None else None
        if role == "a":
            agent_id = self._watched_by.get(key)
            return self._consoles.get(agent_id) if agent_id is not None else None
        return self._consoles.get(key)

    async def _hold_customer(self, session_id: str, site_id: str, customer: Peer) -> None:
        previous = self._customers.get(session_id)
        self._customers[session_id] = LocalCustomer(customer, site_id)
        if previous is not None and previous.peer is not customer:
            await previous.peer.close(
                protocol.CLOSE_REPLACED, "Another page took the session over."
            )
        await self.fanout.attach(_customer_target(session_id))

    async def _watch(self, agent_id: str, session_id: str) -> None:
        """Bind the agent's console here to the session it joined or returned to."""
        self._unwatch_agent(agent_id)
        self._watching[agent_id] = session_id
        self._watched_by[session_id] = agent_id
        await self.fanout.attach(_agent_target(session_id))

    def _unwatch(self, session_id: str) -> None:
        agent_id = self._watched_by.pop(session_id, None)
        if agent_id is not None:
            self._watching.pop(agent_id, None)

    def _unwatch_agent(self, agent_id: str) -> str | None:
        session_id = self._watching.pop(agent_id, None)
        if session_id is not None:
            self._watched_by.pop(session_id, None)
        return session_id

    def _let_console_go(self, agent_id: str) -> str | None:
        """Forget the agent's console here; returns the session it watched."""
        self._consoles.pop(agent_id, None)
        return self._unwatch_agent(agent_id)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    async def close(self) -> None:
        await self.state.close()
        await self.fanout.close()


@dataclass(frozen=True)
class LocalCustomer:
    peer: Peer
    site_id: str


def _customer_target(session_id: str) -> str:
    return f"c:{session_id}"


def _agent_target(session_id: str) -> str:
    return f"a:{session_id}"


def _console_target(agent_id: str) -> str:
    return f"k:{agent_id}"


TICK_SECONDS = 0.5
"""How often timeouts are checked; a timeout ends at most this much late."""


SWEEP_EVERY_TICKS = 10
"""Dead nodes are looked for every this many ticks (5 s)."""


async def run_timeouts(live: LiveSessions, interval: float = TICK_SECONDS) -> None:
    ticks = 0
    while True:
        await asyncio.sleep(interval)
        ticks += 1
        try:
            await live.tick()
            if ticks % SWEEP_EVERY_TICKS == 0:
                await live.sweep()
        except Exception:  # one failing session must not stop every timeout
            log.exception("timeout check failed")
