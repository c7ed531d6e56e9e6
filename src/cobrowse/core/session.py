"""The co-browse session state machine: pure logic, no I/O, no clock of its own.

A session moves ``idle -> active -> ended`` (PRODUCT.md S4). Every input is an
event handed to :meth:`Session.handle` together with ``now``; the answer is a list
of effects for an adapter to carry out (send a message, record the end). Inputs
the rules forbid raise :class:`Refusal`, whose ``code`` is stable for clients and
whose ``text`` is a sentence meant for a person.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from enum import StrEnum

from cobrowse.core.ids import new_token


class SessionState(StrEnum):
    IDLE = "idle"
    """Started by the customer; no agent has joined yet."""
    ACTIVE = "active"
    """An agent joined; the page is being shared."""
    ENDED = "ended"
    """Final. An ended session is never rejoined or reactivated."""


class Mode(StrEnum):
    POINTER = "pointer"
    """Both see each other's pointer; the agent cannot act on the page (M1)."""
    WRITE = "write"
    """The customer accepted: the agent's actions are performed on the page (M2)."""


class Role(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"


class EndReason(StrEnum):
    CUSTOMER_EXIT = "customer_exit"
    AGENT_EXIT = "agent_exit"
    CUSTOMER_LEFT = "customer_left"
    AGENT_LEFT = "agent_left"
    JOIN_TIMEOUT = "join_timeout"
    INACTIVITY = "inactivity"
    ADMIN_ENDED = "admin_ended"
    INTERACTION_ENDED = "interaction_ended"


END_REASON_TEXT: dict[EndReason, str] = {
    EndReason.CUSTOMER_EXIT: "The customer ended the co-browse session.",
    EndReason.AGENT_EXIT: "The agent ended the co-browse session.",
    EndReason.CUSTOMER_LEFT: "The customer left the website or closed the page, "
    "so the co-browse session ended.",
    EndReason.AGENT_LEFT: "The agent closed the console and did not come back, "
    "so the co-browse session ended.",
    EndReason.JOIN_TIMEOUT: "No agent joined in time, so the co-browse session ended.",
    EndReason.INACTIVITY: "Nobody was active for a while, so the co-browse session ended.",
    EndReason.ADMIN_ENDED: "An administrator ended the co-browse session.",
    EndReason.INTERACTION_ENDED: "The chat or call this co-browse session belonged to "
    "ended, so the co-browse session ended too.",
}


class Refusal(Exception):
    """An input the rules do not allow; nothing changed."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


# Events -------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentJoins:
    agent_id: str
    interaction_id: str | None = None
    """The chat or call the join binds an unbound session to (S2); a session bound
    from its start keeps its own."""


@dataclass(frozen=True)
class AgentReturns:
    """The session's own agent connects again (console reload, dropped socket)."""

    agent_id: str


@dataclass(frozen=True)
class Exits:
    """One party pressed Exit."""

    role: Role


@dataclass(frozen=True)
class AdminEnds:
    """An administrator force-ended the session from the admin console."""


@dataclass(frozen=True)
class InteractionEnds:
    """The chat or call the session is bound to ended (P2)."""


@dataclass(frozen=True)
class CustomerLeaves:
    """The customer's page went away without pressing Exit: a page load, a reload, a
    closed tab or a dropped connection. The session waits ``customer_grace`` seconds
    for the customer to come back (S9) before it ends."""


@dataclass(frozen=True)
class CustomerReturns:
    """A page of the same tab resumed the session with its resume token."""

    resume_token: str


@dataclass(frozen=True)
class AgentLeaves:
    """The agent's console went away (closed, navigated elsewhere, lost its connection).
    The session waits ``agent_grace`` seconds for it to come back."""

    agent_id: str


@dataclass(frozen=True)
class Tick:
    """Time passed: end the session if a timeout is due (decided from ``now`` alone)."""


@dataclass(frozen=True)
class WriteModeRequested:
    """The agent asks the customer for write mode."""

    agent_id: str


@dataclass(frozen=True)
class WriteModeAnswered:
    """The customer's answer to the pending request."""

    accepted: bool


@dataclass(frozen=True)
class PointerModeChosen:
    """Either party takes the session back to pointer mode (one click, M2)."""

    role: Role


Ending = Exits | CustomerLeaves | AdminEnds | InteractionEnds
"""The events that end a session, at once or after a grace period."""

ModeEvent = WriteModeRequested | WriteModeAnswered | PointerModeChosen

Event = AgentJoins | AgentReturns | AgentLeaves | Ending | ModeEvent | CustomerReturns | Tick


# Effects ------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentJoined:
    """Tell the customer an agent is here and ask for a fresh snapshot of the page."""

    agent_id: str


@dataclass(frozen=True)
class SnapshotNeeded:
    """The agent's view must be rebuilt: ask the customer's page for a full snapshot."""


@dataclass(frozen=True)
class Ended:
    """The session is over: tell both parties why and forget it."""

    reason: EndReason

    @property
    def text(self) -> str:
        return END_REASON_TEXT[self.reason]


@dataclass(frozen=True)
class WriteModeAsked:
    """Show the customer the write-mode prompt."""


@dataclass(frozen=True)
class WriteModeDeclined:
    """Tell the agent the customer said no."""


@dataclass(frozen=True)
class ModeChanged:
    """Both parties now see ``mode``; ``by`` says who changed it."""

    mode: Mode
    by: Role


@dataclass(frozen=True)
class CustomerAway:
    """Tell the agent the customer's page is gone for now (loading, reconnecting)."""


@dataclass(frozen=True)
class CustomerBack:
    """Tell the agent the customer's page is back; its new snapshot follows."""


Effect = (
    AgentJoined
    | SnapshotNeeded
    | Ended
    | WriteModeAsked
    | WriteModeDeclined
    | ModeChanged
    | CustomerAway
    | CustomerBack
)


@dataclass(frozen=True)
class Timeouts:
    """Every timeout of a session, in seconds (E2, E3); the defaults are documented."""

    join: float = 300.0
    """No agent joined within this long after the customer started."""
    inactivity: float = 1800.0
    """Neither party did anything (page changes, pointer, actions) for this long."""
    customer_grace: float = 30.0
    """The customer's page went away and no page of the tab came back."""
    agent_grace: float = 60.0
    """The agent's console went away and did not come back."""


@dataclass
class Session:
    id: str
    site_id: str
    created_at: float
    state: SessionState = SessionState.IDLE
    agent_id: str | None = None
    joined_at: float | None = None
    ended_at: float | None = None
    end_reason: EndReason | None = None
    mode: Mode = Mode.POINTER
    write_mode_pending: bool = False
    timeouts: Timeouts = field(default_factory=Timeouts)
    customer_away_since: float | None = None
    agent_away_since: float | None = None
    last_activity: float | None = None
    resume_token: str = field(default_factory=new_token, repr=False)
    """Lets the next page of the same tab take the session over; only that tab has it."""
    interaction_id: str | None = None
    """The chat or call this session belongs to (S2), once bound."""
    resource_token: str = field(default_factory=new_token, repr=False)
    """Lets the agent's view of this session load the page's resources through the
    resource proxy while the session is live; nobody else can use it."""

    @property
    def customer_grace(self) -> float:
        return self.timeouts.customer_grace

    def touch(self, now: float) -> None:
        """Someone did something: the inactivity timeout starts over."""
        self.last_activity = now

    @property
    def live(self) -> bool:
        return self.state is not SessionState.ENDED

    def handle(self, event: Event, now: float) -> list[Effect]:
        if self.state is SessionState.ENDED:
            raise Refusal("session_ended", "This co-browse session has already ended.")
        match event:
            case AgentJoins(agent_id, interaction_id):
                return self._agent_joins(agent_id, interaction_id, now)
            case AgentReturns(agent_id):
                return self._agent_returns(agent_id)
            case AgentLeaves(agent_id):
                if self.state is SessionState.ACTIVE and self.agent_id == agent_id:
                    self.agent_away_since = self.agent_away_since or now
                return []
            case Exits(Role.CUSTOMER):
                return self._end(EndReason.CUSTOMER_EXIT, now)
            case Exits(Role.AGENT):
                if self.state is not SessionState.ACTIVE:
                    raise Refusal("no_agent", "No agent has joined this co-browse session.")
                return self._end(EndReason.AGENT_EXIT, now)
            case AdminEnds():
                return self._end(EndReason.ADMIN_ENDED, now)
            case InteractionEnds():
                return self._end(EndReason.INTERACTION_ENDED, now)
            case CustomerLeaves():
                return self._customer_leaves(now)
            case CustomerReturns(resume_token):
                return self._customer_returns(resume_token)
            case Tick():
                return self._tick(now)
            case WriteModeRequested(agent_id):
                return self._write_mode_requested(agent_id)
            case WriteModeAnswered(accepted):
                return self._write_mode_answered(accepted)
            case PointerModeChosen(role):
                return self._pointer_mode_chosen(role)
        raise TypeError(f"Session.handle got {event!r}, which is not a session event")

    def _agent_joins(self, agent_id: str, interaction_id: str | None, now: float) -> list[Effect]:
        if self.state is SessionState.ACTIVE:
            if self.agent_id == agent_id:
                return self._agent_returns(agent_id)
            raise Refusal("session_taken", "Another agent is already in this co-browse session.")
        if self.interaction_id is None:
            self.interaction_id = interaction_id
        self.state = SessionState.ACTIVE
        self.agent_id = agent_id
        self.joined_at = now
        return [AgentJoined(agent_id)]

    def _agent_returns(self, agent_id: str) -> list[Effect]:
        if self.state is not SessionState.ACTIVE or self.agent_id != agent_id:
            raise Refusal("not_your_session", "You are not the agent of this co-browse session.")
        self.agent_away_since = None
        return [SnapshotNeeded()]

    def _write_mode_requested(self, agent_id: str) -> list[Effect]:
        if self.state is not SessionState.ACTIVE or self.agent_id != agent_id:
            raise Refusal("not_your_session", "You are not the agent of this co-browse session.")
        if self.mode is Mode.WRITE:
            raise Refusal("already_write_mode", "The session is already in write mode.")
        if self.write_mode_pending:
            raise Refusal("already_asked", "The customer has not answered the last request yet.")
        self.write_mode_pending = True
        return [WriteModeAsked()]

    def _write_mode_answered(self, accepted: bool) -> list[Effect]:
        if not self.write_mode_pending:
            raise Refusal("nothing_to_answer", "The agent has not asked for write mode.")
        self.write_mode_pending = False
        if not accepted:
            return [WriteModeDeclined()]
        self.mode = Mode.WRITE
        return [ModeChanged(Mode.WRITE, Role.CUSTOMER)]

    def _pointer_mode_chosen(self, role: Role) -> list[Effect]:
        if self.state is not SessionState.ACTIVE:
            raise Refusal("no_agent", "No agent has joined this co-browse session.")
        if self.write_mode_pending and role is Role.CUSTOMER:
            # Taking pointer mode while a request is open is as good as declining it.
            self.write_mode_pending = False
            return [WriteModeDeclined()]
        if self.mode is Mode.POINTER:
            return []
        self.mode = Mode.POINTER
        return [ModeChanged(Mode.POINTER, role)]

    def _customer_leaves(self, now: float) -> list[Effect]:
        if self.customer_away_since is not None:
            return []
        self.customer_away_since = now
        return [CustomerAway()]

    def _customer_returns(self, resume_token: str) -> list[Effect]:
        if not hmac.compare_digest(resume_token, self.resume_token):
            raise Refusal("bad_resume", "This page cannot resume the co-browse session.")
        if self.customer_away_since is None:
            return []  # a new page took over before the old one's socket closed
        self.customer_away_since = None
        return [CustomerBack()]

    def _tick(self, now: float) -> list[Effect]:
        due = self._first_deadline()
        if due is not None and now >= due[0]:
            return self._end(due[1], now)
        return []

    def next_deadline(self) -> float | None:
        """When the next timeout falls due (there is always the inactivity one)."""
        due = self._first_deadline()
        return due[0] if due is not None else None

    def _first_deadline(self) -> tuple[float, EndReason] | None:
        if self.state is SessionState.ENDED:
            return None
        limits = self.timeouts
        deadlines = [
            ((self.last_activity or self.created_at) + limits.inactivity, EndReason.INACTIVITY)
        ]
        if self.state is SessionState.IDLE:
            deadlines.append((self.created_at + limits.join, EndReason.JOIN_TIMEOUT))
        if self.customer_away_since is not None:
            deadlines.append(
                (self.customer_away_since + limits.customer_grace, EndReason.CUSTOMER_LEFT)
            )
        if self.agent_away_since is not None:
            deadlines.append((self.agent_away_since + limits.agent_grace, EndReason.AGENT_LEFT))
        return min(deadlines, key=lambda deadline: deadline[0])

    def _end(self, reason: EndReason, now: float) -> list[Effect]:
        self.state = SessionState.ENDED
        self.ended_at = now
        self.end_reason = reason
        return [Ended(reason)]
