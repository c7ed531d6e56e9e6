"""Websites allowed to embed the customer script, each with its allowed origins, the
hosts its page resources may be fetched from by the resource proxy, and the support
phone numbers its CallUs widget shows."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cobrowse.core.origins import normalize_origin
from cobrowse.core.phones import PhoneNumber, check_phone_label, check_phone_number, dial_form
from cobrowse.core.resource_hosts import HostPattern, ResourcePolicy
from cobrowse.store.db import Database
from cobrowse.store.models import Site, SiteOrigin, SitePhone, SiteResourceHost

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
    resource_hosts: tuple[str, ...] = ()
    """Hosts the resource proxy may fetch from besides the origins (HostPattern form)."""
    allow_private_addresses: bool = False
    """UNSAFE outside a demo or tests (see ResourcePolicy)."""
    phones: tuple[PhoneNumber, ...] = ()
    """Support numbers for the CallUs widget, in the order they were added."""

    @property
    def resource_policy(self) -> ResourcePolicy:
        return ResourcePolicy(
            origins=frozenset(self.origins),
            hosts=tuple(HostPattern.parse(host) for host in self.resource_hosts),
            allow_private_addresses=self.allow_private_addresses,
        )


class SiteStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        name: str,
        origins: list[str],
        resource_hosts: Sequence[str] = (),
        allow_private_addresses: bool | None = None,
    ) -> SiteRecord:
        """Register the site, or add origins to it if it exists (adding is idempotent).

        ``resource_hosts`` are added to the hosts its resources may come from;
        ``allow_private_addresses`` sets the unsafe switch when not None.
        """
        if not SITE_NAME_PATTERN.match(name):
            raise SiteError("a site name is 1 to 64 letters, digits, dots, dashes or underscores")
        if not origins:
            raise SiteError("a site needs at least one --origin")
        try:
            wanted = [normalize_origin(origin) for origin in origins]
        except ValueError as exc:
            raise SiteError(str(exc)) from None
        hosts = _host_patterns(resource_hosts)
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
            await self._change_resources(tx, site, hosts, [], allow_private_addresses)
            await tx.flush()
            return await self._record(tx, site)

    async def change_resources(
        self,
        name: str,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
        allow_private_addresses: bool | None = None,
    ) -> SiteRecord:
        """Add and remove hosts the site's resources may come from; set the unsafe
        switch when ``allow_private_addresses`` is not None. Raises UnknownSite."""
        adding, removing = _host_patterns(add), _host_patterns(remove)
        async with self._db.sessions.begin() as tx:
            site = await tx.scalar(select(Site).where(Site.name == name))
            if site is None:
                raise UnknownSite(name)
            await self._change_resources(tx, site, adding, removing, allow_private_addresses)
            await tx.flush()
            return await self._record(tx, site)

    async def change_phones(
        self,
        name: str,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
        label: str | None = None,
    ) -> SiteRecord:
        """Add support phone numbers (each with ``label`` when given) and remove others.

        Adding a number the site has (the same digits, however spelled) changes its
        spelling and label. Removing one it does not have raises SiteError, so a typo
        is not silently ignored; so does an unknown site (UnknownSite).
        """
        try:
            adding = [check_phone_number(number) for number in add]
            removing = [check_phone_number(number) for number in remove]
            checked_label = check_phone_label(label) if label is not None else None
        except ValueError as exc:
            raise SiteError(str(exc)) from None
        if checked_label is not None and not adding:
            raise SiteError("--label names the numbers being added: give it with --add")
        both = {dial_form(number) for number in adding} & {dial_form(n) for n in removing}
        if both:
            raise SiteError(f"phone number {sorted(both)[0]} is both added and removed")
        async with self._db.sessions.begin() as tx:
            site = await tx.scalar(select(Site).where(Site.name == name))
            if site is None:
                raise UnknownSite(name)
            present = {
                phone.tel: phone
                for phone in await tx.scalars(select(SitePhone).where(SitePhone.site_id == site.id))
            }
            for number in removing:
                phone = present.pop(dial_form(number), None)
                if phone is None:
                    raise SiteError(f"site {site.name} has no phone number {number}")
                await tx.delete(phone)
            for number in adding:
                tel = dial_form(number)
                phone = present.get(tel)
                if phone is None:
                    phone = SitePhone(site_id=site.id, number=number, tel=tel)
                    tx.add(phone)
                    present[tel] = phone
                phone.number = number
                phone.label = checked_label
            await tx.flush()
            return await self._record(tx, site)

    async def site(self, name: str) -> SiteRecord | None:
        """The site with this name, or None."""
        async with self._db.sessions() as tx:
            site = await tx.scalar(select(Site).where(Site.name == name))
            return await self._record(tx, site) if site is not None else None

    async def resource_policy(self, name: str) -> ResourcePolicy | None:
        """What the resource proxy may fetch for the site, or None when there is no
        such site (any more)."""
        site = await self.site(name)
        return site.resource_policy if site is not None else None

    @staticmethod
    async def _change_resources(
        tx: AsyncSession,
        site: Site,
        adding: list[str],
        removing: list[str],
        allow_private_addresses: bool | None,
    ) -> None:
        present = set(
            await tx.scalars(
                select(SiteResourceHost.host).where(SiteResourceHost.site_id == site.id)
            )
        )
        for host in removing:
            if host not in present:
                raise SiteError(f"site {site.name} has no resource host {host}")
            await tx.delete(await tx.get(SiteResourceHost, (site.id, host)))
            present.discard(host)
        for host in adding:
            if host not in present:
                tx.add(SiteResourceHost(site_id=site.id, host=host))
                present.add(host)
        if allow_private_addresses is not None:
            site.allow_private_addresses = allow_private_addresses

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
        hosts = await tx.scalars(
            select(SiteResourceHost.host).where(SiteResourceHost.site_id == site.id)
        )
        phones = await tx.scalars(
            select(SitePhone).where(SitePhone.site_id == site.id).order_by(SitePhone.id)
        )
        return SiteRecord(
            id=site.id,
            name=site.name,
            origins=tuple(sorted(origins)),
            resource_hosts=tuple(sorted(hosts)),
            allow_private_addresses=site.allow_private_addresses,
            phones=tuple(PhoneNumber(phone.number, phone.label) for phone in phones),
        )


def _host_patterns(texts: Sequence[str]) -> list[str]:
    """Administrators' host patterns in canonical form; SiteError names a bad one."""
    try:
        return [str(HostPattern.parse(text)) for text in texts]
    except ValueError as exc:
        raise SiteError(str(exc)) from None
