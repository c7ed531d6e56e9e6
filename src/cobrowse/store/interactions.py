"""Primary interactions (PRODUCT.md §6 P1) and the co-browse sessions bound to them.

An interaction is created open, with or without an agent (a chat may wait in a queue),
and ends once. Sessions are bound to it through their row in ``session_history``, so
what co-browse happened during an interaction is read from the same rows as the
session history: nothing is counted twice, nothing can disagree.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cobrowse.core.ids import new_public_id
from cobrowse.core.interactions import (
    INTERACTION_ID_PREFIX,
    InteractionKind,
    InteractionState,
    check_customer_reference,
)
from cobrowse.core.webhooks import json_time
from cobrowse.store.db import Database, as_utc
from cobrowse.store.history import MAX_SEARCH_LIMIT, utc
from cobrowse.store.models import InteractionRow, SessionHistoryRow, Site, User


class InteractionError(Exception):
    """An interaction could not be created, changed or bound; the message says why."""


class InvalidInteraction(InteractionError):
    """A value is not acceptable (a reference too long, say)."""


class UnknownAgent(InteractionError):
    def __init__(self, username: str) -> None:
        self.username = username
        super().__init__(f"there is no user named {username!r} to be the agent")


class UnknownInteractionSite(InteractionError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"there is no site named {name!r}")


class UnknownInteraction(InteractionError):
    def __init__(self, interaction_id: str) -> None:
        self.interaction_id = interaction_id
        super().__init__(f"there is no interaction {interaction_id!r}")


class InteractionAlreadyEnded(InteractionError):
    def __init__(self, interaction_id: str) -> None:
        self.interaction_id = interaction_id
        super().__init__(f"interaction {interaction_id} has ended")


class SessionNotBindable(InteractionError):
    """The session is not live, or belongs to another interaction already."""


@dataclass(frozen=True)
class Interaction:
    id: str
    kind: InteractionKind
    state: InteractionState
    agent: str | None
    customer_reference: str | None
    site: str | None
    created_at: datetime
    ended_at: datetime | None
    ended_by: str | None

    def to_json(self) -> dict[str, object]:
        """The interaction as the API answers it and webhook payloads carry it."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "state": self.state.value,
            "agent": self.agent,
            "customer_reference": self.customer_reference,
            "site": self.site,
            "created_at": json_time(self.created_at),
            "ended_at": json_time(self.ended_at) if self.ended_at is not None else None,
            "ended_by": self.ended_by,
        }


@dataclass(frozen=True)
class Ending:
    """What ``end`` did: ``ended_now`` is False when the interaction had ended before."""

    interaction: Interaction
    ended_now: bool


@dataclass(frozen=True)
class CobrowseSession:
    """One co-browse session of an interaction, as its history row records it."""

    session_id: str
    agent: str | None
    started_at: datetime
    joined_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    write_mode_declined: bool

    @property
    def duration_seconds(self) -> float | None:
        """From start to end; None while the session is live."""
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()

    def to_json(self) -> dict[str, object]:
        return {
            "session_id": self.session_id,
            "agent": self.agent,
            "started_at": json_time(self.started_at),
            "joined_at": json_time(self.joined_at) if self.joined_at is not None else None,
            "ended_at": json_time(self.ended_at) if self.ended_at is not None else None,
            "duration_seconds": self.duration_seconds,
            "end_reason": self.end_reason,
            "write_mode_declined": self.write_mode_declined,
        }


@dataclass(frozen=True)
class CobrowseReport:
    """What co-browse happened during an interaction (issue 4, item 9)."""

    sessions: tuple[CobrowseSession, ...]

    @property
    def co_browsed(self) -> bool:
        """An agent joined at least one session: a session nobody joined showed nothing."""
        return any(session.joined_at is not None for session in self.sessions)

    @property
    def session_count(self) -> int:
        return len(self.sessions)

    def to_json(self) -> dict[str, object]:
        return {
            "co_browsed": self.co_browsed,
            "session_count": self.session_count,
            "sessions": [session.to_json() for session in self.sessions],
        }


class InteractionStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        kind: InteractionKind,
        agent: str | None = None,
        customer_reference: str | None = None,
        site: str | None = None,
        at: datetime | None = None,
    ) -> Interaction:
        """A new open interaction. The agent and the site, when given, must exist."""
        try:
            reference = check_customer_reference(customer_reference)
        except ValueError as exc:
            raise InvalidInteraction(str(exc)) from None
        row = InteractionRow(
            id=new_public_id(INTERACTION_ID_PREFIX),
            kind=InteractionKind(kind).value,
            state=InteractionState.OPEN.value,
            agent=agent,
            customer_reference=reference,
            site=site,
            created_at=utc(at or datetime.now(UTC)),
        )
        async with self._db.sessions.begin() as tx:
            if agent is not None:
                await _check_user(tx, agent)
            if (
                site is not None
                and await tx.scalar(select(Site.id).where(Site.name == site)) is None
            ):
                raise UnknownInteractionSite(site)
            tx.add(row)
        return _interaction(row)

    async def get(self, interaction_id: str) -> Interaction:
        async with self._db.sessions() as tx:
            row = await tx.get(InteractionRow, interaction_id)
            if row is None:
                raise UnknownInteraction(interaction_id)
            return _interaction(row)

    async def list(
        self,
        state: InteractionState | None = None,
        agent: str | None = None,
        kind: InteractionKind | None = None,
        limit: int = 100,
    ) -> builtins.list[Interaction]:
        """Interactions matching every filter given, newest first, at most ``limit``."""
        if not 1 <= limit <= MAX_SEARCH_LIMIT:
            raise ValueError(f"limit must be from 1 to {MAX_SEARCH_LIMIT}")
        conditions: builtins.list[ColumnElement[bool]] = []
        if state is not None:
            conditions.append(InteractionRow.state == state.value)
        if agent is not None:
            conditions.append(InteractionRow.agent == agent)
        if kind is not None:
            conditions.append(InteractionRow.kind == kind.value)
        async with self._db.sessions() as tx:
            rows = await tx.scalars(
                select(InteractionRow)
                .where(*conditions)
                .order_by(InteractionRow.created_at.desc(), InteractionRow.id)
                .limit(limit)
            )
            return [_interaction(row) for row in rows.all()]

    async def open_for_agent(
        self, agent: str, kind: InteractionKind | None = None
    ) -> builtins.list[Interaction]:
        """The agent's open interactions (of one kind if given), newest first: what a
        session the agent joins by its ID can be bound to."""
        return await self.list(state=InteractionState.OPEN, agent=agent, kind=kind)

    async def assign_agent(self, interaction_id: str, agent: str) -> Interaction:
        """Give an open interaction its agent: a queued chat picked up, a call transferred.

        A co-browse session already live keeps the agent who joined it.
        """
        async with self._db.sessions.begin() as tx:
            await _check_user(tx, agent)
            # One conditional write, so an ``end`` at the same moment cannot slip in
            # between a check and the change.
            assigned = await tx.scalar(
                update(InteractionRow)
                .where(InteractionRow.id == interaction_id)
                .where(InteractionRow.state == InteractionState.OPEN.value)
                .values(agent=agent)
                .returning(InteractionRow.id)
                .execution_options(synchronize_session=False)
            )
            row = await tx.get(InteractionRow, interaction_id, populate_existing=True)
            if row is None:
                raise UnknownInteraction(interaction_id)
            if assigned is None:
                raise InteractionAlreadyEnded(interaction_id)
            return _interaction(row)

    async def end(self, interaction_id: str, ended_by: str, at: datetime | None = None) -> Ending:
        """End the interaction. Ending one that has ended already changes nothing and
        says so (``ended_now`` False): a contact-center system may retry."""
        async with self._db.sessions.begin() as tx:
            ended = await tx.scalar(
                update(InteractionRow)
                .where(InteractionRow.id == interaction_id)
                .where(InteractionRow.state == InteractionState.OPEN.value)
                .values(
                    state=InteractionState.ENDED.value,
                    ended_at=utc(at or datetime.now(UTC)),
                    ended_by=ended_by[:80],
                )
                .returning(InteractionRow.id)
                .execution_options(synchronize_session=False)
            )
            row = await tx.get(InteractionRow, interaction_id, populate_existing=True)
            if row is None:
                raise UnknownInteraction(interaction_id)
            return Ending(_interaction(row), ended_now=ended is not None)

    async def bind_session(self, session_id: str, interaction_id: str) -> None:
        """Bind the live session with this ID to an open interaction.

        Binding twice to the same interaction is harmless. Refused when the interaction
        is unknown or has ended, when no session with this ID is live, or when the
        session belongs to another interaction.
        """
        async with self._db.sessions.begin() as tx:
            # A write to the interaction's row, not a read: on PostgreSQL it locks the row
            # and on SQLite it takes the write lock, so an ``end`` running at the same
            # time either comes first (and the binding is refused) or waits for the
            # binding and then finds this session among the live ones it must end.
            still_open = await tx.scalar(
                update(InteractionRow)
                .where(InteractionRow.id == interaction_id)
                .where(InteractionRow.state == InteractionState.OPEN.value)
                .values(state=InteractionRow.state)
                .returning(InteractionRow.id)
                .execution_options(synchronize_session=False)
            )
            if still_open is None:
                if await tx.get(InteractionRow, interaction_id) is None:
                    raise UnknownInteraction(interaction_id)
                raise InteractionAlreadyEnded(interaction_id)
            live_row = await tx.scalar(
                select(func.max(SessionHistoryRow.id))
                .where(SessionHistoryRow.session_id == session_id)
                .where(SessionHistoryRow.ended_at.is_(None))
            )
            if live_row is None:
                raise SessionNotBindable(f"no co-browse session {session_id} is live")
            bound_to = await tx.scalar(
                update(SessionHistoryRow)
                .where(SessionHistoryRow.id == live_row)
                .where(
                    or_(
                        SessionHistoryRow.interaction_id.is_(None),
                        SessionHistoryRow.interaction_id == interaction_id,
                    )
                )
                .values(interaction_id=interaction_id)
                .returning(SessionHistoryRow.id)
                .execution_options(synchronize_session=False)
            )
            if bound_to is None:
                raise SessionNotBindable(
                    f"co-browse session {session_id} belongs to another interaction"
                )

    async def live_session_ids(self, interaction_id: str) -> builtins.list[str]:
        """The IDs of the interaction's sessions that have not ended, oldest first."""
        async with self._db.sessions() as tx:
            ids = await tx.scalars(
                select(SessionHistoryRow.session_id)
                .where(SessionHistoryRow.interaction_id == interaction_id)
                .where(SessionHistoryRow.ended_at.is_(None))
                .order_by(SessionHistoryRow.started_at, SessionHistoryRow.id)
            )
            return list(ids.all())

    async def cobrowse_report(self, interaction_id: str) -> CobrowseReport:
        """The co-browse facts of an interaction, from its sessions' history rows."""
        async with self._db.sessions() as tx:
            if await tx.get(InteractionRow, interaction_id) is None:
                raise UnknownInteraction(interaction_id)
            rows = await tx.scalars(
                select(SessionHistoryRow)
                .where(SessionHistoryRow.interaction_id == interaction_id)
                .order_by(SessionHistoryRow.started_at, SessionHistoryRow.id)
            )
            return CobrowseReport(tuple(_cobrowse_session(row) for row in rows.all()))


async def _check_user(tx: AsyncSession, username: str) -> None:
    if await tx.scalar(select(User.id).where(User.username == username)) is None:
        raise UnknownAgent(username)


def _optional(moment: datetime | None) -> datetime | None:
    return as_utc(moment) if moment is not None else None


def _interaction(row: InteractionRow) -> Interaction:
    return Interaction(
        id=row.id,
        kind=InteractionKind(row.kind),
        state=InteractionState(row.state),
        agent=row.agent,
        customer_reference=row.customer_reference,
        site=row.site,
        created_at=as_utc(row.created_at),
        ended_at=_optional(row.ended_at),
        ended_by=row.ended_by,
    )


def _cobrowse_session(row: SessionHistoryRow) -> CobrowseSession:
    return CobrowseSession(
        session_id=row.session_id,
        agent=row.agent,
        started_at=as_utc(row.started_at),
        joined_at=_optional(row.joined_at),
        ended_at=_optional(row.ended_at),
        end_reason=row.end_reason,
        write_mode_declined=row.write_mode_declined > 0,
    )
