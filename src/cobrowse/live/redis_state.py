"""Live session state in Redis, shared by every node of a cluster.

Each session is one JSON value; every change is an optimistic transaction (WATCH
the session and the agent's entry, let the pure core decide, MULTI/EXEC the
result, start over when another node changed them meanwhile). That is what makes
the cluster-wide rules hold: unique IDs (``SET NX``), one live session per agent,
and each timeout ending its session exactly once however many nodes tick.

Keys, under the configured prefix::

    s:<id>          the session (JSON)
    agent:<name>    the agent's live session ID
    live            set of live session IDs
    deadlines       sorted set: session ID by its next timeout (never later than it)
    activity        hash: session ID -> last activity (written at most once a second
                    per session and node, outside the transaction: it only ever
                    pushes the inactivity timeout later)
    joinfail:<name> sorted set of the agent's recent failed joins
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError, WatchError

from cobrowse.core.ids import new_session_id
from cobrowse.core.registry import Outcome, SessionEvent, joinable_id, no_such_session
from cobrowse.core.session import AgentJoins, AgentReturns, Effect, Refusal, Session, Timeouts
from cobrowse.live.fanout import text_of as _text

if TYPE_CHECKING:
    from redis.asyncio.client import Pipeline

log = logging.getLogger("cobrowse.live")

TOUCH_EVERY_SECONDS = 1.0
"""Activity is written at most this often per session: the inactivity timeout is
minutes long, the relay is thousands of frames a second."""
STATES_REFRESH_SECONDS = 2.0
THROTTLE_WINDOW_SECONDS = 60.0

Change = Callable[[Session], list[Effect]]


class RedisState:
    def __init__(
        self,
        redis: Redis,
        prefix: str,
        timeouts: Timeouts,
        join_attempts_per_minute: int,
        randbelow: Callable[[int], int] = secrets.randbelow,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._timeouts = timeouts
        self._join_limit = join_attempts_per_minute
        self._randbelow = randbelow
        self._live = f"{prefix}:live"
        self._deadlines = f"{prefix}:deadlines"
        self._activity = f"{prefix}:activity"
        self._touched: dict[str, float] = {}
        self._states: list[str] = []
        self._states_read_at = 0.0

    def _session_key(self, session_id: str) -> str:
        return f"{self._prefix}:s:{session_id}"

    def _agent_key(self, agent_id: str) -> str:
        return f"{self._prefix}:agent:{agent_id}"

    # Reading ------------------------------------------------------------------------

    async def get(self, session_id: str) -> Session | None:
        pipe = self._redis.pipeline(transaction=False)
        pipe.get(self._session_key(session_id))
        pipe.hget(self._activity, session_id)
        raw, activity = await pipe.execute()
        return _decode(raw, activity) if raw is not None else None

    async def sessions(self) -> list[Session]:
        ids = sorted(_text(member) for member in await self._redis.smembers(self._live))
        if not ids:
            return []
        raws = await self._redis.mget([self._session_key(session_id) for session_id in ids])
        activity = await self._redis.hmget(self._activity, ids)
        return [_decode(raw, active) for raw, active in zip(raws, activity, strict=True) if raw]

    def states(self) -> Iterable[str]:
        return list(self._states)

    async def due(self, now: float) -> list[str]:
        due = await self._redis.zrangebyscore(self._deadlines, "-inf", now)
        await self._refresh_states(now)
        return [_text(member) for member in due if isinstance(member, bytes | str)]

    async def _refresh_states(self, now: float) -> None:
        if now - self._states_read_at < STATES_REFRESH_SECONDS:
            return
        self._states_read_at = now
        self._states = [session.state.value for session in await self.sessions()]
        # Forget activity marks of sessions that ended (on any node).
        stale = now - 10 * TOUCH_EVERY_SECONDS
        self._touched = {sid: at for sid, at in self._touched.items() if at > stale}

    # Changing -----------------------------------------------------------------------

    async def start(self, site_id: str, now: float, interaction_id: str | None = None) -> Session:
        while True:
            session_id = new_session_id((), self._randbelow)
            session = Session(
                id=session_id,
                site_id=site_id,
                created_at=now,
                timeouts=self._timeouts,
                interaction_id=interaction_id,
            )
            if await self._redis.set(self._session_key(session_id), _encode(session), nx=True):
                break  # the ID was free cluster-wide
        deadline = session.next_deadline()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(self._live, session_id)
            if deadline is not None:
                pipe.zadd(self._deadlines, {session_id: deadline})
            await pipe.execute()
        return session

    async def join(
        self, typed_id: str, agent_id: str, now: float, interaction_id: str | None = None
    ) -> Outcome:
        agent_key = self._agent_key(agent_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(agent_key)
                    current = await self._agents_live_session(pipe, agent_key)
                    session_id = joinable_id(typed_id, current)
                    outcome = await self._change(
                        pipe,
                        session_id,
                        lambda session: session.handle(AgentJoins(agent_id, interaction_id), now),
                    )
                    pipe.set(agent_key, session_id)
                    await pipe.execute()
                    return outcome
                except WatchError:
                    continue

    async def agent_returns(self, agent_id: str, now: float) -> Outcome | None:
        current = await self._redis.get(self._agent_key(agent_id))
        if current is None:
            return None
        try:
            return await self._transact(
                _text(current), lambda session: session.handle(AgentReturns(agent_id), now)
            )
        except Refusal:
            return None  # ended meanwhile, or no longer this agent's

    async def apply(self, session_id: str, event: SessionEvent, now: float) -> Outcome:
        return await self._transact(session_id, lambda session: session.handle(event, now))

    async def touch(self, session_id: str, now: float) -> None:
        if now - self._touched.get(session_id, 0.0) < TOUCH_EVERY_SECONDS:
            return
        self._touched[session_id] = now
        try:
            await self._redis.hset(self._activity, session_id, repr(now))
        except RedisError:
            # Activity only ever pushes the inactivity timeout later: a lost mark
            # costs nothing a later frame will not write again.
            log.warning("could not record activity", extra={"session": session_id})

    # Join throttle ------------------------------------------------------------------

    async def join_allowed(self, agent_id: str, now: float) -> bool:
        key = f"{self._prefix}:joinfail:{agent_id}"
        pipe = self._redis.pipeline(transaction=True)
        pipe.zremrangebyscore(key, "-inf", now - THROTTLE_WINDOW_SECONDS)
        pipe.zcard(key)
        _, failures = await pipe.execute()
        return int(failures) < self._join_limit

    async def join_failed(self, agent_id: str, now: float) -> None:
        key = f"{self._prefix}:joinfail:{agent_id}"
        pipe = self._redis.pipeline(transaction=True)
        pipe.zadd(key, {f"{now!r}:{secrets.token_hex(4)}": now})
        pipe.expire(key, int(THROTTLE_WINDOW_SECONDS) + 1)
        await pipe.execute()

    async def close(self) -> None:
        await self._redis.aclose()

    # Transactions -------------------------------------------------------------------

    async def _transact(self, session_id: str, change: Change) -> Outcome:
        async with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    outcome = await self._change(pipe, session_id, change)
                    await pipe.execute()
                    return outcome
                except WatchError:
                    continue  # another node changed the session first: decide again

    async def _change(self, pipe: Pipeline, session_id: str, change: Change) -> Outcome:
        """Within a WATCH: read the session, let the core decide, queue the writes.
        The caller executes the transaction (and may queue more first)."""
        key = self._session_key(session_id)
        await pipe.watch(key)
        raw = await pipe.get(key)
        if raw is None:
            raise no_such_session(session_id)
        session = _decode(raw, await pipe.hget(self._activity, session_id))
        effects = change(session)
        agent_key = self._agent_key(session.agent_id) if session.agent_id else None
        agents_session = None
        if agent_key is not None:
            await pipe.watch(agent_key)
            agents_session = await pipe.get(agent_key)
        outcome = Outcome(session, effects)
        pipe.multi()  # type: ignore[no-untyped-call]
        if outcome.ended:
            pipe.delete(key)
            pipe.srem(self._live, session_id)
            pipe.zrem(self._deadlines, session_id)
            pipe.hdel(self._activity, session_id)
            if agent_key is not None and agents_session and _text(agents_session) == session_id:
                pipe.delete(agent_key)
        else:
            pipe.set(key, _encode(session))
            deadline = session.next_deadline()
            if deadline is not None:
                pipe.zadd(self._deadlines, {session_id: deadline})
        return outcome

    async def _agents_live_session(self, pipe: Pipeline, agent_key: str) -> str | None:
        current = await pipe.get(agent_key)
        if current is None:
            return None
        session_id = _text(current)
        if not await pipe.exists(self._session_key(session_id)):
            return None  # left behind by a crash between writes; not a live session
        return session_id


def _encode(session: Session) -> bytes:
    return msgspec.json.encode(session)


def _decode(raw: bytes | str, activity: bytes | str | None) -> Session:
    session = msgspec.json.decode(raw, type=Session)
    if activity is not None:
        touched = float(activity)
        if session.last_activity is None or touched > session.last_activity:
            session.last_activity = touched
    return session
