"""Noticing restriction changes made by another process (`cobrowse restrictions import`).

Changes through this node's REST API reach live sessions at once; a change written
to the database by the CLI or by another node is noticed here within one interval,
by polling the highest restriction version (one cheap query).
"""

from __future__ import annotations

import asyncio
import logging

from cobrowse.live.sessions import LiveSessions
from cobrowse.store.restrictions import RestrictionStore

log = logging.getLogger("cobrowse.restrictions")


async def poll_restrictions(store: RestrictionStore, live: LiveSessions, interval: float) -> None:
    seen = await store.latest_version()
    # Remember what every site has now, so the first change re-sends only that site's.
    for site_name, restrictions in (await store.all()).items():
        await live.restrictions_changed(site_name, dict(restrictions.to_wire()))
    while True:
        await asyncio.sleep(interval)
        try:
            latest = await store.latest_version()
            if latest == seen:
                continue
            seen = latest
            for site_name, restrictions in (await store.all()).items():
                await live.restrictions_changed(site_name, dict(restrictions.to_wire()))
        except Exception:  # a database hiccup must not stop the polling for good
            log.exception("could not read restriction changes")
