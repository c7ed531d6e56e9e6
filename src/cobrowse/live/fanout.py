"""Getting a message to a party connected to another node.

A *target* names one party: ``c:<session>`` (the customer's page of a session),
``a:<session>`` (the console watching a session) or ``k:<agent>`` (an agent's
console, joined or not). Each target is held by at most one socket in the whole
deployment. The live layer delivers to the targets it holds itself; for the others
it asks its :class:`Fanout` to route the message to the node that holds them.

:class:`LocalFanout` is the single-node case: every party is local, there is
nowhere else to route. :class:`RedisFanout` keeps a directory of which node holds
each target in a Redis hash and routes with one Lua call (look the holder up and
publish to that node's channel), so a frame costs one round trip and each node
subscribes to one channel only, whatever the number of sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("cobrowse.fanout")

FRAME = "F"
"""Send the payload to the party as it is."""
ENDED = "E"
"""The session ended: the payload is ``<reason>\\n<notice frame>``."""
REPLACED = "R"
"""Another socket took the target over: close this one, without ending anything."""

Deliver = Callable[[str, str, str], Awaitable[None]]
"""``deliver(target, kind, payload)`` on the node that holds the target."""


class Fanout(Protocol):
    async def attach(self, target: str) -> None:
        """This node holds ``target`` now; a node that held it before lets it go."""
        ...

    async def detach(self, target: str) -> bool:
        """This node let ``target`` go; False when another node had taken it over
        (its party is connected there: it has not left)."""
        ...

    async def route(self, target: str, kind: str, payload: str) -> None:
        """Deliver to ``target`` on whichever node holds it; dropped when none does."""
        ...

    async def run(self, deliver: Deliver) -> None:
        """Receive what other nodes route here, until cancelled."""
        ...

    async def orphans(self) -> list[str]:
        """Targets held by nodes that died without letting them go, each claimed by
        exactly one caller cluster-wide (its parties left without saying so)."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class LocalFanout:
    """One node: every party is connected here, so nothing is ever routed."""

    async def attach(self, target: str) -> None:
        return None

    async def detach(self, target: str) -> bool:
        return True

    async def route(self, target: str, kind: str, payload: str) -> None:
        return None

    async def run(self, deliver: Deliver) -> None:
        return None

    async def orphans(self) -> list[str]:
        return []

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


# KEYS[1] the directory hash; ARGV: target, this node, channel prefix.
_ATTACH = """
local previous = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if previous and previous ~= ARGV[2] then
  local message = 'R' .. ARGV[1] .. '\\n'
  redis.call('PUBLISH', ARGV[3] .. previous, #message .. ':' .. message)
end
return previous
"""

# KEYS[1] the directory hash; ARGV: target, this node.
_DETACH = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""

# KEYS[1] the directory hash; ARGV: channel prefix, then target, message, target,
# message... Each message goes to the node holding its target; all the messages for
# one node travel as one publication of length-prefixed parts ("<bytes>:<message>"),
# in the order given.
_ROUTE_MANY = """
local batches = {}
local nodes = {}
for i = 2, #ARGV, 2 do
  local node = redis.call('HGET', KEYS[1], ARGV[i])
  if node then
    local batch = batches[node]
    if not batch then
      batch = {}
      batches[node] = batch
      table.insert(nodes, node)
    end
    table.insert(batch, #ARGV[i + 1] .. ':' .. ARGV[i + 1])
  end
end
for _, node in ipairs(nodes) do
  redis.call('PUBLISH', ARGV[1] .. node, table.concat(batches[node]))
end
return #nodes
"""

RECONNECT_SECONDS = 1.0
OUTBOX_LIMIT = 20_000
"""Messages waiting to be routed beyond which senders wait for Redis to catch up."""
HEARTBEAT_SECONDS = 5.0
NODE_TIMEOUT_SECONDS = 30.0
"""A node that has not said it is alive for this long is dead: another node takes its
parties as gone. Generous, because taking a live node's parties for gone would start
their grace periods while they are still connected."""


class RedisFanout:
    def __init__(self, redis: Redis, prefix: str, node_id: str | None = None) -> None:
        self._redis = redis
        self.node_id = node_id or secrets.token_hex(8)
        self._directory = f"{prefix}:where"
        self._channels = f"{prefix}:node:"
        self._attach = redis.register_script(_ATTACH)
        self._detach = redis.register_script(_DETACH)
        self._route_many = redis.register_script(_ROUTE_MANY)
        self._outbox: list[tuple[str, str]] = []
        self._flushing: asyncio.Task[None] | None = None
        self._alive = f"{prefix}:alive:"

    async def attach(self, target: str) -> None:
        await self._attach(keys=[self._directory], args=[target, self.node_id, self._channels])

    async def detach(self, target: str) -> bool:
        return bool(await self._detach(keys=[self._directory], args=[target, self.node_id]))

    async def route(self, target: str, kind: str, payload: str) -> None:
        """Queue the message; one task sends what has queued up, in order, as one Redis
        call (a Lua script publishing one message per destination node). Under load
        a call carries dozens of frames: one round trip and one publication per node
        instead of one per frame, which is what lets a node keep up."""
        self._outbox.append((target, f"{kind}{target}\n{payload}"))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        if len(self._outbox) > OUTBOX_LIMIT:
            await asyncio.shield(self._flushing)  # Redis is behind: the senders wait

    async def drain(self) -> None:
        """Return once everything routed so far has been handed to Redis."""
        while self._flushing is not None and not self._flushing.done():
            await asyncio.shield(self._flushing)

    async def _flush(self) -> None:
        while self._outbox:
            batch, self._outbox = self._outbox, []
            args = [self._channels]
            for target, message in batch:
                args += (target, message)
            try:
                await self._route_many(keys=[self._directory], args=args)
            except RedisError:
                # A Redis hiccup loses these messages (as a dropped connection would)
                # but never the senders' sockets: the sessions go on and the agent's
                # view resyncs at the next snapshot.
                log.warning("could not route %d messages", len(batch), exc_info=True)

    async def run(self, deliver: Deliver) -> None:
        heartbeat = asyncio.create_task(self._beat())
        try:
            await self._receive(deliver)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError, RedisError):
                await heartbeat
                await self._redis.delete(self._alive + self.node_id)

    async def _beat(self) -> None:
        while True:
            try:
                await self._redis.set(self._alive + self.node_id, "1", ex=int(NODE_TIMEOUT_SECONDS))
            except RedisError:
                log.warning("could not tell Redis this node is alive")
            await asyncio.sleep(HEARTBEAT_SECONDS)

    async def orphans(self) -> list[str]:
        held = await self._redis.hgetall(self._directory)
        holders = {text_of(node) for node in held.values()}
        alive = (
            {
                node
                for node, flag in zip(
                    holders,
                    await self._redis.mget([self._alive + node for node in holders]),
                    strict=True,
                )
                if flag is not None
            }
            if holders
            else set()
        )
        claimed = []
        for target, node in held.items():
            holder = text_of(node)
            if holder in alive or holder == self.node_id:
                continue
            # Compare-and-delete as the dead node would have: one sweeper wins.
            if await self._detach(keys=[self._directory], args=[text_of(target), holder]):
                claimed.append(text_of(target))
        return claimed

    async def _receive(self, deliver: Deliver) -> None:
        channel = self._channels + self.node_id
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(channel)
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            await self._received(message["data"], deliver)
            except RedisError:
                # Redis restarting or unreachable: what was routed meanwhile is lost,
                # which the parties see as a gap (the agent's view resyncs on the
                # next snapshot); keep trying.
                log.exception("fan-out subscription lost; subscribing again")
                await asyncio.sleep(RECONNECT_SECONDS)

    async def _received(self, data: bytes | str, deliver: Deliver) -> None:
        raw = data.encode() if isinstance(data, str) else data
        for message in _parts(raw):
            kind, rest = message[:1], message[1:]
            target, _, payload = rest.partition("\n")
            try:
                await deliver(target, kind, payload)
            except Exception:  # one failing socket must not stop the node's deliveries
                log.exception("delivery failed", extra={"target": target})

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self.drain()
        await self._redis.aclose()


def _parts(publication: bytes) -> list[str]:
    """The messages of one publication: ``<bytes>:<message>`` after one another."""
    messages = []
    position = 0
    while position < len(publication):
        colon = publication.index(b":", position)
        end = colon + 1 + int(publication[position:colon])
        messages.append(publication[colon + 1 : end].decode())
        position = end
    return messages


def text_of(value: bytes | str) -> str:
    """Redis answers bytes; what we store is text."""
    return value.decode() if isinstance(value, bytes) else value
