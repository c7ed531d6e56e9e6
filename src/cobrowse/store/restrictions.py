"""DOM restrictions of each site (PRODUCT.md R5): one validated document per site.

Every save takes a new version from one counter shared by all sites (the largest
version so far, plus one), so ``latest_version()`` changes whenever any site's
restrictions change. A server process can poll that one cheap number to notice
changes saved by another process (the CLI, another node):

    seen = await store.latest_version()   # read before all(), never after
    current = await store.all()
    ...
    if await store.latest_version() != seen: reload, the same way

Reading the version first means a save that lands in between is picked up again on
the next poll instead of being missed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from cobrowse.core.restrictions import RestrictionError, SiteRestrictions, validate
from cobrowse.store.db import Database
from cobrowse.store.models import Site, SiteRestrictionDocument
from cobrowse.store.sites import UnknownSite

_NEXT_VERSION = select(
    func.coalesce(func.max(SiteRestrictionDocument.version), 0) + 1
).scalar_subquery()


class RestrictionStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, site_name: str) -> SiteRestrictions:
        """The site's restrictions (the defaults if none were saved); UnknownSite if none."""
        async with self._db.sessions() as tx:
            row = (
                await tx.execute(
                    select(Site.id, SiteRestrictionDocument.document)
                    .outerjoin(SiteRestrictionDocument, SiteRestrictionDocument.site_id == Site.id)
                    .where(Site.name == site_name)
                )
            ).first()
        if row is None:
            raise UnknownSite(site_name)
        return _restrictions(site_name, row.document)

    async def all(self) -> dict[str, SiteRestrictions]:
        """Every registered site's restrictions, by site name."""
        async with self._db.sessions() as tx:
            rows = await tx.execute(
                select(Site.name, SiteRestrictionDocument.document)
                .outerjoin(SiteRestrictionDocument, SiteRestrictionDocument.site_id == Site.id)
                .order_by(Site.name)
            )
            return {name: _restrictions(name, document) for name, document in rows.all()}

    async def latest_version(self) -> int:
        """The largest version of any site; 0 while no restrictions were ever saved."""
        async with self._db.sessions() as tx:
            latest = await tx.scalar(
                select(func.coalesce(func.max(SiteRestrictionDocument.version), 0))
            )
        return int(latest or 0)

    async def put(self, site_name: str, restrictions: SiteRestrictions) -> int:
        """Validate and save one site's restrictions; returns their new version."""
        return (await self.replace({site_name: restrictions}))[site_name]

    async def replace(self, changes: Mapping[str, SiteRestrictions]) -> dict[str, int]:
        """Save several sites' restrictions in one transaction: all of them or none.

        Raises UnknownSite for a site that is not registered and RestrictionError
        (naming every problem) for invalid restrictions; returns the new versions.
        """
        async with self._db.sessions.begin() as tx:
            found = await tx.execute(select(Site.name, Site.id).where(Site.name.in_(list(changes))))
            site_ids = {name: site_id for name, site_id in found.all()}
            for name in changes:
                if name not in site_ids:
                    raise UnknownSite(name)
            problems: list[str] = []
            for name, restrictions in changes.items():
                try:
                    validate(restrictions, name)
                except RestrictionError as exc:
                    problems.extend(exc.problems)
            if problems:
                raise RestrictionError(problems)
            await self._one_writer_at_a_time(tx)
            now = datetime.now(UTC)
            return {
                name: await _save(tx, site_ids[name], restrictions, now)
                for name, restrictions in changes.items()
            }

    async def _one_writer_at_a_time(self, tx: AsyncSession) -> None:
        """Make versions follow commit order, or a poller could miss a save.

        Two PostgreSQL transactions could otherwise both read the same largest
        version, or the later version could commit first. The lock still lets
        readers through. SQLite needs nothing: its first write statement (the one
        that reads the largest version) takes the database's single write lock.
        """
        if self._db.engine.dialect.name == "postgresql":
            await tx.execute(text("LOCK TABLE site_restrictions IN SHARE ROW EXCLUSIVE MODE"))


async def _save(
    tx: AsyncSession, site_id: int, restrictions: SiteRestrictions, now: datetime
) -> int:
    values = {"document": restrictions.to_wire(), "version": _NEXT_VERSION, "updated_at": now}
    updated = await tx.scalar(
        update(SiteRestrictionDocument)
        .where(SiteRestrictionDocument.site_id == site_id)
        .values(**values)
        .returning(SiteRestrictionDocument.version)
        .execution_options(synchronize_session=False)
    )
    if updated is not None:
        return int(updated)
    inserted = await tx.scalar(
        insert(SiteRestrictionDocument)
        .values(site_id=site_id, **values)
        .returning(SiteRestrictionDocument.version)
    )
    assert inserted is not None, "INSERT ... RETURNING returns the row it inserted"
    return int(inserted)


def _restrictions(site_name: str, document: Mapping[str, object] | None) -> SiteRestrictions:
    if document is None:
        return SiteRestrictions()
    return SiteRestrictions.from_wire(document, site_name, already_validated=True)
