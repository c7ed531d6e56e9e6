"""The append-only audit log (PRODUCT.md §8): metadata only, never page content."""

from __future__ import annotations

from datetime import UTC, datetime

from cobrowse.store.db import Database
from cobrowse.store.models import AuditEvent


class AuditLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self, kind: str, actor: str, session_id: str | None = None, **detail: str | int | None
    ) -> None:
        async with self._db.sessions.begin() as tx:
            tx.add(
                AuditEvent(
                    at=datetime.now(UTC),
                    kind=kind,
                    actor=actor,
                    session_id=session_id,
                    detail=dict(detail),
                )
            )
