"""Websites allowed to embed the customer script, each with its allowed origins."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cobrowse.core.origins import normalize_origin
from cobrowse.store.db import Database
from cobrowse.store.models import Site, SiteOrigin

SITE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class SiteError(Exception):
    """A site could not be added or found; the message says why."""


class UnknownSite(SiteError):
    """No site has this name."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"there is no site named {name!r}")


@dataclass(frozen=True)
class SiteRecord:
    id: int
    name: str
    origins: tuple[str, ...]


class SiteStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, name: str, origins: list[str]) -> SiteRecord:
        """Register the site, or add origins to it if it exists (adding is idempotent)."""
        if not SITE_NAME_PATTERN.match(name):
            raise SiteError("a site name is 1 to 64 letters, digits, dots, dashes or underscores")
        if not origins:
            raise SiteError("a site needs at least one --origin")
        try:
            wanted = [normalize_origin(origin) for origin in origins]
        except ValueError as exc:
            raise SiteError(str(exc)) from None
        async with self._db.sessions.begin() as tx:
            site = await tx.scalar(select(Site).where(Site.name == name))
            if site is None:
                site = Site(name=name, created_at=datetime.now(UTC))
                tx.add(site)
                await tx.flush()
            for origin in wanted:
                owner = await tx.get(SiteOrigin, origin)
                if owner is None:
                    tx.add(SiteOrigin(origin=origin, site_id=site.id))
                elif owner.site_id != site.id:
                    raise SiteError(f"origin {origin} already belongs to another site")
            await tx.flush()
            return await self._record(tx, site)

    async def site_for_origin(self, origin: str) -> SiteRecord | None:
        """The site an Origin header belongs to, or None when it is not registered."""
        try:
            normalized = normalize_origin(origin)
        except ValueError:
            return None
        async with self._db.sessions() as tx:
            site = await tx.scalar(
                select(Site)
                .join(SiteOrigin, SiteOrigin.site_id == Site.id)
                .where(SiteOrigin.origin == normalized)
            )
            return await self._record(tx, site) if site is not None else None

    async def all(self) -> list[SiteRecord]:
        """Every registered site, by name."""
        async with self._db.sessions() as tx:
            found = await tx.scalars(select(Site).order_by(Site.name))
            return [await self._record(tx, site) for site in found.all()]

    @staticmethod
    async def _record(tx: AsyncSession, site: Site) -> SiteRecord:
        origins = await tx.scalars(select(SiteOrigin.origin).where(SiteOrigin.site_id == site.id))
        return SiteRecord(id=site.id, name=site.name, origins=tuple(sorted(origins)))
