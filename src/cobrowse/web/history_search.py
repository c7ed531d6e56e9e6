"""The session history search over HTTP, shared by the REST API (API keys) and the
admin console (sign-in cookie): one set of filters, checked one way, one answer shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field

from cobrowse.core.session import EndReason
from cobrowse.store.history import MAX_SEARCH_LIMIT, HistoryRecord, SessionHistory
from cobrowse.store.sites import SITE_NAME_PATTERN


class SessionRecord(BaseModel):
    """One co-browse session's metadata. Never page content or URLs."""

    session_id: str = Field(
        description="The 9-digit session ID. IDs are reused once a session has ended.",
        examples=["123456789"],
    )
    site: str = Field(description="The site the session was started on.")
    agent: str | None = Field(description="The agent who joined; null if none did.")
    started_at: datetime = Field(description="When the customer started the session (UTC).")
    joined_at: datetime | None = Field(description="When the agent joined; null if none did.")
    ended_at: datetime | None = Field(description="When it ended; null while it is live.")
    end_reason: EndReason | None = Field(description="Why it ended; null while it is live.")
    duration_seconds: float | None = Field(
        description="From start to end, in seconds; null while it is live."
    )
    write_mode_requests: int = Field(description="How often the agent asked for write mode.")
    write_mode_declined: int = Field(description="How often the customer declined it.")
    mode_changes: int = Field(description="How often the mode changed (pointer or write).")
    interaction_id: str | None = Field(
        description="The primary interaction (chat or call) the session belonged to; null "
        "if it was bound to none.",
        examples=["int_3mfq5bxk2wzt7hn4rj6dyca5"],
    )

    @classmethod
    def of(cls, record: HistoryRecord) -> SessionRecord:
        duration = record.duration
        return cls(
            session_id=record.session_id,
            site=record.site,
            agent=record.agent,
            started_at=record.started_at,
            joined_at=record.joined_at,
            ended_at=record.ended_at,
            end_reason=EndReason(record.end_reason) if record.end_reason else None,
            duration_seconds=duration.total_seconds() if duration is not None else None,
            write_mode_requests=record.write_mode_requests,
            write_mode_declined=record.write_mode_declined,
            mode_changes=record.mode_changes,
            interaction_id=record.interaction_id,
        )


@dataclass(frozen=True)
class HistoryFilters:
    """What to search for; every filter left out matches every session."""

    since: datetime | None
    until: datetime | None
    agent: str | None
    site: str | None
    end_reason: EndReason | None
    limit: int

    async def search(self, history: SessionHistory) -> list[SessionRecord]:
        records = await history.search(
            since=self.since,
            until=self.until,
            agent=self.agent,
            site=self.site,
            end_reason=self.end_reason.value if self.end_reason is not None else None,
            limit=self.limit,
        )
        return [SessionRecord.of(record) for record in records]


def history_filters(
    since: Annotated[
        datetime | None,
        Query(
            description="Only sessions started at or after this ISO 8601 time "
            "(without a UTC offset: UTC).",
            examples=["2026-12-01T00:00:00Z"],
        ),
    ] = None,
    until: Annotated[
        datetime | None,
        Query(
            description="Only sessions started before this ISO 8601 time "
            "(without a UTC offset: UTC).",
            examples=["2026-12-02T00:00:00Z"],
        ),
    ] = None,
    agent: Annotated[
        str | None, Query(description="Only sessions this agent joined.", max_length=64)
    ] = None,
    site: Annotated[
        str | None,
        Query(description="Only sessions of this site.", pattern=SITE_NAME_PATTERN.pattern),
    ] = None,
    end_reason: Annotated[
        EndReason | None, Query(description="Only sessions that ended for this reason.")
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_SEARCH_LIMIT, description="At most this many sessions.")
    ] = 100,
) -> HistoryFilters:
    """The filters of a history search, from the query string (a FastAPI dependency)."""
    return HistoryFilters(since, until, agent, site, end_reason, limit)
