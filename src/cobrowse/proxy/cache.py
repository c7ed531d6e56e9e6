"""The resource cache: what the proxy fetched, shared by every session that asks.

Keys are resource URLs (never a session), so two agents watching the same site
fetch each stylesheet once. Entries carry their expiry; :class:`MemoryResourceCache`
keeps one node's entries in a byte-bounded LRU, :class:`RedisResourceCache` shares
them across a cluster. A cache that fails is a cache that misses: the proxy then
fetches again.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

ENTRY_OVERHEAD_BYTES = 256
"""Counted for each memory entry on top of its content: keys, objects, the LRU link."""


class CachedResource(msgspec.Struct, frozen=True):
    """A vetted resource, ready to serve (a stylesheet as a template, see proxy.css)."""

    hops: tuple[str, ...]
    """Every URL fetched to get it: the one asked for, then each redirect's target.
    A site that does not allow all of them does not get the cached copy."""
    media_type: str
    body: bytes
    """The resource; empty for a stylesheet."""
    stylesheet: tuple[str, ...] | None
    """A stylesheet's template pieces: text, absolute URL, text, ..., text."""
    expires_at: float
    """Wall-clock time (seconds since the epoch) after which it is stale."""

    @property
    def size(self) -> int:
        pieces = sum(len(piece) for piece in self.stylesheet or ())
        return len(self.body) + pieces + sum(len(hop) for hop in self.hops)


class ResourceCache(Protocol):
    async def get(self, key: str) -> CachedResource | None:
        """The fresh entry under ``key``, or None."""
        ...

    async def put(self, key: str, resource: CachedResource) -> None:
        """Keep ``resource`` until its expiry (or less, when space runs out)."""
        ...

    async def close(self) -> None: ...


class MemoryResourceCache:
    """Least recently used entries go first once ``max_bytes`` is reached. An entry
    bigger than a quarter of the budget is not kept: one large file must not empty
    the cache of everything else."""

    def __init__(self, max_bytes: int, clock: Callable[[], float] = time.time) -> None:
        self.max_bytes = max_bytes
        self._clock = clock
        self._entries: OrderedDict[str, tuple[CachedResource, int]] = OrderedDict()
        self.bytes = 0

    async def get(self, key: str) -> CachedResource | None:
        found = self._entries.get(key)
        if found is None:
            return None
        resource, _size = found
        if resource.expires_at <= self._clock():
            self._forget(key)
            return None
        self._entries.move_to_end(key)
        return resource

    async def put(self, key: str, resource: CachedResource) -> None:
        size = resource.size + len(key) + ENTRY_OVERHEAD_BYTES
        self._forget(key)
        if size > self.max_bytes // 4 or resource.expires_at <= self._clock():
            return
        self._entries[key] = (resource, size)
        self.bytes += size
        while self.bytes > self.max_bytes:
            oldest = next(iter(self._entries))
            self._forget(oldest)

    def _forget(self, key: str) -> None:
        found = self._entries.pop(key, None)
        if found is not None:
            self.bytes -= found[1]

    def __len__(self) -> int:
        return len(self._entries)

    async def close(self) -> None:
        self._entries.clear()
        self.bytes = 0


class RedisResourceCache:
    """Entries in Redis under ``<prefix>:resource:<sha256 of the key>``, each with
    its expiry as the key's TTL. Entries over ``max_entry_bytes`` are not stored;
    the total is bounded by the TTLs and, as for all of Redis, by its maxmemory."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        max_entry_bytes: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self.max_entry_bytes = max_entry_bytes
        self._clock = clock
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder = msgspec.msgpack.Decoder(CachedResource)

    def storage_key(self, key: str) -> str:
        return f"{self._prefix}:resource:{hashlib.sha256(key.encode()).hexdigest()}"

    async def get(self, key: str) -> CachedResource | None:
        try:
            raw = await self._redis.get(self.storage_key(key))
        except (RedisError, OSError) as problem:
            log.warning("resource cache unreachable", extra={"error": type(problem).__name__})
            return None
        if not isinstance(raw, bytes):
            return None
        try:
            resource = self._decoder.decode(raw)
        except msgspec.DecodeError:
            return None  # written by another version of cobrowse: fetch again
        return resource if resource.expires_at > self._clock() else None

    async def put(self, key: str, resource: CachedResource) -> None:
        milliseconds = int((resource.expires_at - self._clock()) * 1000)
        if milliseconds <= 0 or resource.size > self.max_entry_bytes:
            return
        try:
            await self._redis.set(
                self.storage_key(key), self._encoder.encode(resource), px=milliseconds
            )
        except (RedisError, OSError) as problem:
            log.warning("resource cache unreachable", extra={"error": type(problem).__name__})

    async def close(self) -> None:
        await self._redis.aclose()
