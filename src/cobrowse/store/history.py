"""Session history (PRODUCT.md §7 E4): one row of metadata per co-browse session.

Who joined which site's session, when it started, was joined and ended, why it
ended, and how often write mode was asked for, declined, or the mode changed.
Never page content or URLs (PRODUCT.md §8).

A session ID is reused once its session has ended, so every update goes to the
*live* row of an ID: the newest one that has not ended yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, insert, select, update

from cobrowse.store.db import Database, as_utc
from cobrowse.store.models import SessionHistoryRow

MAX_SEARCH_LIMIT = 1000


@dataclass(frozen=True)
class HistoryRecord:
    session_id: str
    site: str
    agent: str | None
    started_at: datetime
    joined_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    write_mode_requests: int
    write_mode_declined: int
    mode_changes: int
    interaction_id: str | None = None
    """The primary interaction the session was bound to, if any."""

    @property
    def duration(self) -> timedelta | None:
        """From start to end; None while the session is live."""
        return self.ended_at - self.started_at if self.ended_at is not None else None


def utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime; a naive one is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class SessionHistory:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def started(self, session_id: str, site: str, at: datetime) -> None:
        async with self._db.sessions.begin() as tx:
            await tx.execute(
                insert(SessionHistoryRow).values(
                    session_id=session_id, site=site, started_at=utc(at)
                )
            )

    async def joined(self, session_id: str, agent: str, at: datetime) -> None:
        await self._update(session_id, agent=agent, joined_at=utc(at))

    async def write_mode_requested(self, session_id: str) -> None:
        await self._update(
            session_id, write_mode_requests=SessionHistoryRow.write_mode_requests + 1
        )

    async def write_mode_answered(self, session_id: str, accepted: bool) -> None:
        if not accepted:
            await self._update(
                session_id, write_mode_declined=SessionHistoryRow.write_mode_declined + 1
            )

    async def mode_changed(self, session_id: str) -> None:
        await self._update(session_id, mode_changes=SessionHistoryRow.mode_changes + 1)

    async def ended(self, session_id: str, reason: str, at: datetime) -> None:
        await self._update(session_id, ended_at=utc(at), end_reason=reason)

    async def search(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        agent: str | None = None,
        site: str | None = None,
        end_reason: str | None = None,
        limit: int = 100,
    ) -> list[HistoryRecord]:
        """Sessions that started in [since, until), newest first, at most ``limit``."""
        if not 1 <= limit <= MAX_SEARCH_LIMIT:
            raise ValueError(f"limit must be from 1 to {MAX_SEARCH_LIMIT}")
        conditions: list[ColumnElement[bool]] = []
        if since is not None:
            conditions.append(SessionHistoryRow.started_at >= utc(since))
        if until is not None:
            conditions.append(SessionHistoryRow.started_at < utc(until))
        if agent is not None:
            conditions.append(SessionHistoryRow.agent == agent)
        if site is not None:
            conditions.append(SessionHistoryRow.site == site)
        if end_reason is not None:
            conditions.append(SessionHistoryRow.end_reason == end_reason)
        async with self._db.sessions() as tx:
            rows = await tx.scalars(
                select(SessionHistoryRow)
                .where(*conditions)
                .order_by(SessionHistoryRow.started_at.desc(), SessionHistoryRow.id.desc())
                .limit(limit)
            )
            return [_record(row) for row in rows.all()]

    async def _update(self, session_id: str, **values: Any) -> None:
        live = (
            select(func.max(SessionHistoryRow.id))
            .where(SessionHistoryRow.session_id == session_id)
            .where(SessionHistoryRow.ended_at.is_(None))
            .scalar_subquery()
        )
        async with self._db.sessions.begin() as tx:
            await tx.execute(
                update(SessionHistoryRow)
                .where(SessionHistoryRow.id == live)
                .values(**values)
                .execution_options(synchronize_session=False)
            )


def _optional(moment: datetime | None) -> datetime | None:
    return as_utc(moment) if moment is not None else None


def _record(row: SessionHistoryRow) -> HistoryRecord:
    return HistoryRecord(
        session_id=row.session_id,
        site=row.site,
        agent=row.agent,
        started_at=as_utc(row.started_at),
        joined_at=_optional(row.joined_at),
        ended_at=_optional(row.ended_at),
        end_reason=row.end_reason,
        write_mode_requests=row.write_mode_requests,
        write_mode_declined=row.write_mode_declined,
        mode_changes=row.mode_changes,
        interaction_id=row.interaction_id,
    )
