"""Benchmark (b): how fast the server relays customer stream frames to the agent.

Both servers run as subprocesses of their own, so they do not share this process's
GIL with the load generator:

* cobrowse: ``python -m cobrowse serve`` on a fresh SQLite database (through
  ``COBROWSE_DATABASE_URL``), with one signed-in agent and one registered site
  (:mod:`bench.servers`). The agent opens ``/ws/agent`` and joins the session a
  customer socket started on ``/ws/customer``.
* bare relay: ``python -m bench.bare_relay`` (uvicorn + Starlette with cobrowse's
  uvicorn settings, ``/in/<pair>`` forwarded to ``/out/<pair>``, no validation).

One load generator (the ``websockets`` asyncio client on uvloop) drives both the
same way. The sender keeps at most ``window`` frames in flight: it waits whenever
sent - received reaches the window, and the receiver's count is what opens it again.
Every frame is an rrweb text mutation, ``{"v":1,"t":"stream","e":{"ts":"<send time,
ns>","type":3,"data":{"source":0,"texts":[{"id":7,"value":"<padding>"}],...}}}``
padded to exactly the frame size (the server's stream filter decodes and checks
it like a real one); the padding is words from a random vocabulary
(compressible like page text, never the same frame twice in a row). The receiver
reads the send time back, so latency is one clock in one process.

Per size and server: a throughput phase (``window`` frames in flight; messages/s,
MB/s of frame payload, latency under that load, server CPU per message) and an
unloaded latency phase (one frame in flight at a time). Rounds alternate which
server goes first.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import uvloop
from tests.support import free_port
from websockets.asyncio.client import ClientConnection

from bench import servers

PREFIX = '{"v":1,"t":"stream","e":{"ts":"'
TS_DIGITS = 19
TS_START = len(PREFIX)
TS_END = TS_START + TS_DIGITS
# An rrweb text mutation (the customer typing into a text node): a frame the
# server's stream filter decodes, checks and encodes again, like most real ones.
PAD_OPEN = '","type":3,"data":{"source":0,"texts":[{"id":7,"value":"'
CLOSE = '"}],"attributes":[],"removes":[],"adds":[]}}}'
POOL = 256


def frame_tails(size: int, seed: int) -> list[str]:
    """POOL different frame tails (everything after the timestamp) for ``size``-byte frames."""
    rng = random.Random(seed)
    vocabulary = [
        "".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 10))) for _ in range(400)
    ]
    pad_length = size - TS_END - len(PAD_OPEN) - len(CLOSE)
    if pad_length < 1:
        raise ValueError(f"frames of {size} bytes are too small")
    tails = []
    for _ in range(POOL):
        words: list[str] = []
        length = 0
        while length < pad_length:
            word = rng.choice(vocabulary)
            words.append(word)
            length += len(word) + 1
        tails.append(PAD_OPEN + " ".join(words)[:pad_length] + CLOSE)
    return tails


@dataclass
class Link:
    """A sending socket and a receiving socket joined through one relay server."""

    name: str
    sender: ClientConnection
    receiver: ClientConnection
    process: subprocess.Popen[bytes]
    extras: list[asyncio.Task[None]] = field(default_factory=list)

    async def close(self) -> None:
        for task in self.extras:
            task.cancel()
        await self.sender.close()
        await self.receiver.close()


@dataclass
class Measurement:
    """One server at one frame size, accumulated over the rounds."""

    rates: list[float] = field(default_factory=list)
    """Messages per second of each throughput phase."""
    messages: int = 0
    seconds: float = 0.0
    loaded_ms: list[float] = field(default_factory=list)
    unloaded_ms: list[float] = field(default_factory=list)
    server_cpu_s: float = 0.0
    generator_cpu_s: float = 0.0


@dataclass
class RelayResult:
    sizes: list[int]
    results: dict[tuple[str, int], Measurement]
    window: int
    rounds: int
    messages: dict[int, int]
    unloaded_messages: int
    deflate: bool
    extensions: dict[str, str]


async def phase(link: Link, tails: list[str], count: int, window: int) -> tuple[float, list[float]]:
    """Send ``count`` frames with at most ``window`` in flight; (seconds, latencies in ms)."""
    latencies: list[float] = []
    room = asyncio.Event()
    received = 0

    async def receive() -> None:
        nonlocal received
        while received < count:
            message = await link.receiver.recv()
            now = time.perf_counter_ns()
            if not isinstance(message, str) or not message.startswith(PREFIX):
                continue
            latencies.append((now - int(message[TS_START:TS_END])) / 1e6)
            received += 1
            room.set()

    receiver = asyncio.create_task(receive())
    started = time.perf_counter_ns()
    try:
        for number in range(count):
            while number - received >= window:
                room.clear()
                await room.wait()
            stamp = f"{time.perf_counter_ns():0{TS_DIGITS}d}"
            await link.sender.send(PREFIX + stamp + tails[number % POOL])
        await asyncio.wait_for(receiver, timeout=60)
    finally:
        receiver.cancel()
    return (time.perf_counter_ns() - started) / 1e9, latencies


async def start_cobrowse(
    data: Path, compression: str | None, processes: list[subprocess.Popen[bytes]]
) -> Link:
    """Start cobrowse and connect a joined customer/agent pair (``processes`` gets the server)."""
    (token,) = await servers.prepare_store(servers.sqlite_url(data), agents=1)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process, log = servers.spawn_cobrowse(data, "cobrowse", port)
    processes.append(process)
    await servers.wait_healthy(base, process, log)
    ws = base.replace("http://", "ws://")
    customer, agent = await servers.open_cobrowse_pair(
        f"{ws}/ws/customer", f"{ws}/ws/agent", base, token, compression
    )
    drain = asyncio.create_task(servers.drain(customer))  # agent_joined, snapshot requests
    return Link("cobrowse", customer, agent, process, [drain])


async def start_bare(
    data: Path, compression: str | None, processes: list[subprocess.Popen[bytes]]
) -> Link:
    """Start the bare relay and connect /out then /in (``processes`` gets the server)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = data / "bare.log"
    process = servers.spawn(["-m", "bench.bare_relay", "--port", str(port)], {}, log)
    processes.append(process)
    await servers.wait_healthy(base, process, log)
    sender, receiver = await servers.open_bare_pair(
        base.replace("http://", "ws://"), "throughput", compression
    )
    return Link("bare", sender, receiver, process)


async def measure(
    sizes: list[int],
    messages: dict[int, int],
    unloaded_messages: int,
    window: int,
    rounds: int,
    deflate: bool,
    progress: Callable[[str], None],
) -> RelayResult:
    compression = "deflate" if deflate else None
    results = {(name, size): Measurement() for name in ("cobrowse", "bare") for size in sizes}
    with tempfile.TemporaryDirectory(prefix="cobrowse-bench-") as tmp:
        links: list[Link] = []
        processes: list[subprocess.Popen[bytes]] = []
        try:
            links.append(await start_cobrowse(Path(tmp), compression, processes))
            links.append(await start_bare(Path(tmp), compression, processes))
            extensions = {link.name: servers.negotiated_extensions(link.sender) for link in links}
            for size in sizes:
                tails = frame_tails(size, seed=size)
                for link in links:  # warm-up, not counted
                    await phase(link, tails, 1000, window)
                for number in range(rounds):
                    order = links if number % 2 == 0 else links[::-1]
                    for link in order:
                        result = results[(link.name, size)]
                        server_before = servers.cpu_seconds(link.process.pid)
                        generator_before = time.process_time()
                        seconds, loaded = await phase(link, tails, messages[size], window)
                        result.server_cpu_s += servers.cpu_seconds(link.process.pid) - server_before
                        result.generator_cpu_s += time.process_time() - generator_before
                        result.rates.append(messages[size] / seconds)
                        result.messages += messages[size]
                        result.seconds += seconds
                        result.loaded_ms += loaded
                        _, unloaded = await phase(link, tails, unloaded_messages, 1)
                        result.unloaded_ms += unloaded
                    progress(f"(b) {size} B frames: round {number + 1}/{rounds} done")
        finally:
            for link in links:
                with contextlib.suppress(Exception):
                    await link.close()
            servers.stop(processes)  # only the servers this run started
    return RelayResult(
        sizes, results, window, rounds, messages, unloaded_messages, deflate, extensions
    )


def run(
    sizes: tuple[int, ...] = (200, 2048),
    messages: dict[int, int] | None = None,
    unloaded_messages: int = 2000,
    window: int = 64,
    rounds: int = 4,
    deflate: bool = True,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> RelayResult:
    counts = messages or {200: 60_000, 2048: 30_000}
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(
            measure(list(sizes), counts, unloaded_messages, window, rounds, deflate, progress)
        )
