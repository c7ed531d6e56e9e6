"""The live layer taking the parties of a dead node as gone (in memory, fake peers)."""

from __future__ import annotations

import json

from cobrowse.core.session import Timeouts
from cobrowse.live.fanout import LocalFanout
from cobrowse.live.sessions import LiveSessions
from cobrowse.live.state import MemoryState


class RecordingPeer:
    def __init__(self) -> None:
        self.frames: list[str] = []
        self.closed: tuple[int, str] | None = None

    async def send(self, frame: str) -> None:
        self.frames.append(frame)

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


class NoAudit:
    async def record(
        self, kind: str, actor: str, session_id: str | None = None, **detail: str | int | None
    ) -> None:
        return None


class DeadNodeFanout(LocalFanout):
    """A fan-out that reports the given targets as left behind by a dead node once."""

    def __init__(self) -> None:
        self.left_behind: list[str] = []

    async def orphans(self) -> list[str]:
        claimed, self.left_behind = self.left_behind, []
        return claimed


async def test_a_customer_of_a_dead_node_is_away_then_gone_after_its_grace() -> None:
    now = [100.0]
    fanout = DeadNodeFanout()
    live = LiveSessions(
        NoAudit(),
        MemoryState(Timeouts(customer_grace=5, agent_grace=7), 10),
        fanout,
        clock=lambda: now[0],
    )
    console = RecordingPeer()
    await live.console_connected("alice", console)
    # The customer's socket was on the dead node: nothing is held here for it.
    session = await live.start("shop", RecordingPeer())
    await live.join("alice", session.id)
    live._customers.clear()  # as if its socket had been on the node that died

    fanout.left_behind = [f"c:{session.id}", f"a:{session.id}"]
    await live.sweep()
    assert {"v": 1, "t": "customer_away"} in [json.loads(frame) for frame in console.frames]
    stored = await live.state.get(session.id)
    assert stored is not None
    assert stored.customer_away_since == 100.0
    assert stored.agent_away_since == 100.0

    now[0] = 105.0
    await live.tick()
    assert await live.state.get(session.id) is None
    assert json.loads(console.frames[-1])["reason"] == "customer_left"
