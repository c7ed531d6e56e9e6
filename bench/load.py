"""Benchmark (c): many live sessions at once, each sending at a steady rate.

Simulated clients, no browser. A session is a customer socket that sends small
``stream`` frames (the frames of :mod:`bench.relay_throughput`, ``frame_bytes`` long)
at ``rate`` per second, and an agent socket that reads them. Each customer starts at
a random phase and draws every gap from 0.5-1.5x the period, so the sessions do not
fire together; the schedule is open-loop (a late send does not push the next ones
back), so a slow server cannot hide by slowing the senders. Every frame carries the
time it was handed to the socket, from ``time.monotonic_ns()`` (CLOCK_MONOTONIC,
one clock for every process on the machine); the agent side's time of receipt minus
that is the customer -> agent latency.

Configurations, one after another in the same run, under the same load:

* **bare relay**: ``python -m bench.bare_relay``, sender ``/in/<n>`` -> receiver
  ``/out/<n>`` (uvicorn + Starlette with cobrowse's uvicorn settings, nothing else);
* **cobrowse, 1 node**: ``cobrowse serve`` on a fresh SQLite store with one
  signed-in agent per session; each customer starts a session and its agent joins;
* **cobrowse, 2 nodes + Redis**: two ``cobrowse serve`` on the same store, both with
  ``COBROWSE_REDIS_URL``; customers on node A, agents on node B, so every frame
  crosses Redis.

Servers run in processes of their own. The load generator is ``workers`` processes
(each a uvloop event loop with an equal share of the sessions) so one Python
process does not cap the message rate; each reports its CPU time and how late its
sends left against their schedule, which says whether the generator kept up.

Per configuration: open every session (``connect_concurrency`` at a time per
worker) and read the server's resident memory (VmRSS) before and after; send for
``warmup_seconds``, then measure for ``seconds`` (server CPU from /proc, RSS at the
end); wait for the frames still in flight; close everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Literal

import redis
import uvloop
from tests.support import free_port
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from bench import servers
from bench.relay_throughput import POOL, PREFIX, TS_DIGITS, TS_END, TS_START, frame_tails
from bench.stats import percentile

Kind = Literal["bare", "cobrowse"]
DRAIN_SECONDS = 5.0
"""How long to wait after the window for frames still in flight; later ones count as lost."""


@dataclass(frozen=True)
class LoadPlan:
    sessions: int = 1000
    rate: float = 10.0
    """Frames per second each customer sends."""
    seconds: float = 25.0
    """The measured window."""
    warmup_seconds: float = 3.0
    frame_bytes: int = 200
    workers: int = 2
    """Load generator processes."""
    deflate: bool = True
    """Whether the clients offer permessage-deflate (browsers do)."""
    connect_concurrency: int = 50
    """Sessions being opened at once, per worker."""


@dataclass(frozen=True)
class Endpoints:
    """Where a worker's sockets connect: ws:// bases of the customer's and agent's node."""

    kind: Kind
    customer_ws: str
    agent_ws: str
    agent_origin: str = ""


@dataclass(frozen=True)
class WorkerJob:
    plan: LoadPlan
    endpoints: Endpoints
    first_session: int
    count: int
    tokens: list[str]
    """The agents' sign-in tokens, one per session (cobrowse only)."""


@dataclass
class Opened:
    """A worker's answer once its sessions are open."""

    held: int
    failures: list[str]
    extensions: str


@dataclass
class WorkerReport:
    sent: int = 0
    """Frames sent in the measured window."""
    received: int = 0
    """Of those, frames the agent side received."""
    latencies_ms: list[float] = field(default_factory=list)
    send_lag_ms: list[float] = field(default_factory=list)
    """How late each send in the window left against its schedule (generator health)."""
    held: int = 0
    dropped: int = 0
    """Sessions open at the start whose customer or agent socket closed during the run."""
    drop_reasons: dict[str, int] = field(default_factory=dict)
    """How the first socket of each dropped session closed, and how many times."""
    cpu_seconds: float = 0.0
    """This worker's CPU time during the measured window."""
    run_queue_seconds: float = 0.0
    """How long it waited for a CPU during the window (the machine is shared)."""


@dataclass
class ConfigurationResult:
    name: str
    sessions: int
    failure: str | None = None
    """Why this configuration was not measured (then nothing else is filled in)."""
    opened: int = 0
    """Sessions open once the ramp-up was over (memory per session is per these)."""
    held: int = 0
    """Sessions still open at the end of the run."""
    dropped: int = 0
    drop_reasons: dict[str, int] = field(default_factory=dict)
    setup_failures: list[str] = field(default_factory=list)
    ramp_seconds: float = 0.0
    sent: int = 0
    received: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    send_lag_ms: list[float] = field(default_factory=list)
    server_rss_idle: int = 0
    server_rss_held: int = 0
    server_rss_loaded: int = 0
    server_cpu_s: float = 0.0
    server_run_queue_s: float = 0.0
    generator_cpu_s: float = 0.0
    generator_run_queue_s: float = 0.0
    load_average: tuple[float, float] = (0.0, 0.0)
    """1-minute load average just before and just after the measured window."""
    extensions: str = ""

    def summary(self) -> dict[str, object]:
        """The figures without the samples (for bench/results/latest.json)."""
        figures: dict[str, object] = {
            key: value
            for key, value in vars(self).items()
            if key not in ("latencies_ms", "send_lag_ms")
        }
        for fraction in (0.5, 0.99, 1.0):
            figures[f"latency_p{fraction * 100:g}_ms"] = percentile(self.latencies_ms, fraction)
            figures[f"send_lag_p{fraction * 100:g}_ms"] = percentile(self.send_lag_ms, fraction)
        return figures


@dataclass
class LoadRun:
    plan: LoadPlan
    results: list[ConfigurationResult]


# The load generator (worker processes) ----------------------------------------------


@dataclass
class _Window:
    """Monotonic ns; all zero until the run starts, so nothing counts during ramp-up."""

    send_from: int = 0
    start: int = 0
    end: int = 0
    sending_over: bool = False
    caught_up: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once sending is over and every frame sent in the window has arrived."""


@dataclass
class _Session:
    number: int
    customer: ClientConnection
    agent: ClientConnection


async def _open(job: WorkerJob, offset: int, gate: asyncio.Semaphore) -> _Session:
    number = job.first_session + offset
    compression = "deflate" if job.plan.deflate else None
    where = job.endpoints
    async with gate, asyncio.timeout(60):
        if where.kind == "bare":
            customer, agent = await servers.open_bare_pair(
                where.customer_ws, str(number), compression
            )
        else:
            customer, agent = await servers.open_cobrowse_pair(
                f"{where.customer_ws}/ws/customer",
                f"{where.agent_ws}/ws/agent",
                where.agent_origin,
                job.tokens[offset],
                compression,
            )
    return _Session(number, customer, agent)


async def _send(
    session: _Session, plan: LoadPlan, tails: list[str], window: _Window, report: WorkerReport
) -> None:
    rng = random.Random(session.number)
    period_ns = 1e9 / plan.rate
    due = window.send_from + rng.uniform(0, period_ns)
    count = session.number
    while due < window.end:
        delay = (due - time.monotonic_ns()) / 1e9
        if delay > 0:
            await asyncio.sleep(delay)
        now = time.monotonic_ns()
        try:
            await session.customer.send(PREFIX + f"{now:0{TS_DIGITS}d}" + tails[count % POOL])
        except ConnectionClosed:
            return  # the customer's watcher counts the drop
        if window.start <= now < window.end:
            report.sent += 1
            report.send_lag_ms.append((now - due) / 1e6)
        count += 1
        due += period_ns * rng.uniform(0.5, 1.5)


def _note_drop(session: _Session, side: str, dropped: dict[int, str]) -> None:
    """The session's socket on ``side`` closed while the run still needed it."""
    socket = session.agent if side == "agent" else session.customer
    reason = f"{side} socket closed: {socket.close_code} {socket.close_reason or ''}".strip()
    dropped.setdefault(session.number, reason)


async def _receive(
    session: _Session, window: _Window, report: WorkerReport, dropped: dict[int, str]
) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for message in session.agent:
            now = time.monotonic_ns()
            if isinstance(message, str) and message.startswith(PREFIX):
                sent = int(message[TS_START:TS_END])
                if window.start <= sent < window.end:
                    report.received += 1
                    report.latencies_ms.append((now - sent) / 1e6)
                    if window.sending_over and report.received >= report.sent:
                        window.caught_up.set()
    _note_drop(session, "agent", dropped)  # (the end of the run cancels this task instead)


async def _watch_customer(session: _Session, dropped: dict[int, str]) -> None:
    await servers.drain(session.customer)  # agent_joined, snapshot requests
    _note_drop(session, "customer", dropped)


async def _run_worker(job: WorkerJob, pipe: Connection) -> None:
    report = WorkerReport()
    window = _Window()
    dropped: dict[int, str] = {}
    gate = asyncio.Semaphore(job.plan.connect_concurrency)
    opened = await asyncio.gather(
        *(_open(job, offset, gate) for offset in range(job.count)), return_exceptions=True
    )
    sessions = [result for result in opened if isinstance(result, _Session)]
    failures = sorted({_describe(result) for result in opened if isinstance(result, BaseException)})
    watchers = [
        asyncio.create_task(_receive(session, window, report, dropped)) for session in sessions
    ]
    watchers += [asyncio.create_task(_watch_customer(session, dropped)) for session in sessions]
    # The generator must not add pauses of its own to the latencies it measures: a
    # full collection over this many connections stops its event loop for tens of
    # milliseconds or more. What the sending creates is freed by reference counting.
    gc.collect()
    gc.freeze()
    gc.disable()
    extensions = servers.negotiated_extensions(sessions[0].customer) if sessions else "none"
    pipe.send(Opened(len(sessions) - len(dropped), failures[:5], extensions))

    command = await asyncio.to_thread(pipe.recv)
    if command is not None and sessions:
        window.send_from = command
        window.start = window.send_from + int(job.plan.warmup_seconds * 1e9)
        window.end = window.start + int(job.plan.seconds * 1e9)
        tails = frame_tails(job.plan.frame_bytes, seed=job.plan.frame_bytes)
        senders = [
            asyncio.create_task(_send(session, job.plan, tails, window, report))
            for session in sessions
        ]
        await _sleep_until(window.start)
        cpu_before = time.process_time()
        waited_before = servers.run_queue_seconds(os.getpid())
        await _sleep_until(window.end)
        report.cpu_seconds = time.process_time() - cpu_before
        report.run_queue_seconds = servers.run_queue_seconds(os.getpid()) - waited_before
        await asyncio.gather(*senders)
        window.sending_over = True
        if report.received >= report.sent:
            window.caught_up.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(window.caught_up.wait(), DRAIN_SECONDS)
    report.dropped = len(dropped)
    report.held = len(sessions) - len(dropped)
    report.drop_reasons = dict(Counter(dropped.values()))
    for watcher in watchers:
        watcher.cancel()
    pipe.send(report)
    for session in sessions:  # no closing handshakes: the run is over
        session.customer.transport.abort()
        session.agent.transport.abort()


def _describe(problem: BaseException) -> str:
    return f"{type(problem).__name__}: {problem}"[:300]


async def _sleep_until(moment_ns: int) -> None:
    await asyncio.sleep(max(0.0, (moment_ns - time.monotonic_ns()) / 1e9))


def _worker_main(job: WorkerJob, pipe: Connection) -> None:
    """A load generator process: its own event loop, its share of the sessions."""
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(_run_worker(job, pipe))
    except BaseException:
        pipe.send(RuntimeError(f"load generator failed:\n{traceback.format_exc()}"))
        raise


# The orchestrator (this process) ----------------------------------------------------


def raise_open_files_limit(sessions: int) -> None:
    """Each session is two client sockets and two server sockets; the servers and
    workers inherit this process's limit, so raise it here (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4 * sessions + 1024
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new_soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new_soft, hard))


def _expect(pipe: Connection, worker: BaseProcess, timeout: float) -> object:
    """A worker's next answer; its exception if it failed."""
    try:
        if not pipe.poll(timeout):
            raise RuntimeError(f"a load generator did not answer within {timeout:.0f} s")
        answer = pipe.recv()
    except EOFError:
        worker.join(timeout=5)
        raise RuntimeError(f"a load generator exited (code {worker.exitcode})") from None
    if isinstance(answer, Exception):
        raise answer
    return answer


def _total(read: Callable[[int], float], pids: Sequence[int]) -> float:
    return sum(read(pid) for pid in pids)


def _sleep_until_ns(moment_ns: int) -> None:
    time.sleep(max(0.0, (moment_ns - time.monotonic_ns()) / 1e9))


def _measure(
    name: str,
    endpoints: Endpoints,
    tokens: list[str],
    server_pids: list[int],
    plan: LoadPlan,
    progress: Callable[[str], None],
) -> ConfigurationResult:
    """Drive the load against running servers and read their CPU and memory."""
    result = ConfigurationResult(name, plan.sessions)
    result.server_rss_idle = int(_total(servers.resident_bytes, server_pids))
    context = multiprocessing.get_context("spawn")
    workers: list[tuple[Connection, BaseProcess]] = []
    started = time.monotonic()
    finished = False
    try:
        for index in range(plan.workers):
            first = plan.sessions * index // plan.workers
            last = plan.sessions * (index + 1) // plan.workers
            job = WorkerJob(plan, endpoints, first, last - first, tokens[first:last])
            ours, theirs = context.Pipe()
            worker = context.Process(target=_worker_main, args=(job, theirs), daemon=True)
            worker.start()
            theirs.close()  # so that a worker's exit reads as end-of-file here
            workers.append((ours, worker))
        ramp_timeout = 60 + plan.sessions / 10
        opened = [_expect(pipe, process, ramp_timeout) for pipe, process in workers]
        result.ramp_seconds = time.monotonic() - started
        for answer in opened:
            assert isinstance(answer, Opened)
            result.opened += answer.held
            result.setup_failures += answer.failures
            result.extensions = answer.extensions
        progress(
            f"(c) {name}: {result.opened}/{plan.sessions} sessions open after "
            f"{result.ramp_seconds:.1f} s; sending for {plan.warmup_seconds + plan.seconds:.0f} s"
        )
        result.server_rss_held = int(_total(servers.resident_bytes, server_pids))
        if result.opened == 0:
            for pipe, _ in workers:
                pipe.send(None)
            finished = True
            result.failure = "no session could be opened: " + "; ".join(result.setup_failures)
            return result
        send_from = time.monotonic_ns() + 200_000_000  # every worker has it before then
        for pipe, _ in workers:
            pipe.send(send_from)
        window_start = send_from + int(plan.warmup_seconds * 1e9)
        window_end = window_start + int(plan.seconds * 1e9)
        _sleep_until_ns(window_start)
        load_before = os.getloadavg()[0]
        cpu_before = _total(servers.cpu_seconds, server_pids)
        waited_before = _total(servers.run_queue_seconds, server_pids)
        _sleep_until_ns(window_end)
        result.server_cpu_s = _total(servers.cpu_seconds, server_pids) - cpu_before
        result.server_run_queue_s = _total(servers.run_queue_seconds, server_pids) - waited_before
        result.load_average = (load_before, os.getloadavg()[0])
        result.server_rss_loaded = int(_total(servers.resident_bytes, server_pids))
        result.seconds = plan.seconds
        for pipe, process in workers:
            report = _expect(pipe, process, DRAIN_SECONDS + 60)
            assert isinstance(report, WorkerReport)
            result.held += report.held
            result.dropped += report.dropped
            for reason, count in report.drop_reasons.items():
                result.drop_reasons[reason] = result.drop_reasons.get(reason, 0) + count
            result.sent += report.sent
            result.received += report.received
            result.latencies_ms += report.latencies_ms
            result.send_lag_ms += report.send_lag_ms
            result.generator_cpu_s += report.cpu_seconds
            result.generator_run_queue_s += report.run_queue_seconds
        finished = True
        return result
    finally:
        for pipe, process in workers:
            process.join(timeout=10 if finished else 0)
            if process.is_alive():
                process.kill()
                process.join()
            pipe.close()


def _run_bare(data: Path, plan: LoadPlan, progress: Callable[[str], None]) -> ConfigurationResult:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = data / "bare.log"
    process = servers.spawn(["-m", "bench.bare_relay", "--port", str(port)], {}, log)
    try:
        asyncio.run(servers.wait_healthy(base, process, log))
        ws = base.replace("http://", "ws://")
        return _measure("bare relay", Endpoints("bare", ws, ws), [], [process.pid], plan, progress)
    finally:
        servers.stop([process])


def _start_redis(data: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """A throwaway redis-server for the two nodes, so no shared Redis is touched."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise servers.ServerFailed(
            "two nodes need Redis: install redis-server or pass --redis-url redis://host:port/db"
        )
    port = free_port()
    with (data / "redis.log").open("wb") as log:
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise servers.ServerFailed(
                    f"redis-server did not start:\n{servers.log_tail(data / 'redis.log')}"
                ) from None
            time.sleep(0.05)
    client.close()
    return url, process


def _cluster_refusal(problem: servers.ServerFailed) -> str:
    """A clear sentence when this build of cobrowse has no cluster mode yet."""
    text = str(problem)
    if "REDIS_URL" in text.upper() and "unknown configuration key" in text:
        return (
            "this cobrowse build has no cluster mode: `cobrowse serve` refused "
            "COBROWSE_REDIS_URL (unknown configuration key)"
        )
    return f"a node did not start: {text}"


def _run_cobrowse(
    data: Path,
    plan: LoadPlan,
    nodes: int,
    redis_url: str | None,
    progress: Callable[[str], None],
) -> ConfigurationResult:
    name = "cobrowse, 1 node" if nodes == 1 else "cobrowse, 2 nodes + Redis"
    store = data / f"store-{nodes}-nodes"
    store.mkdir()
    tokens = asyncio.run(servers.prepare_store(servers.sqlite_url(store), plan.sessions))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        env: dict[str, str] = {}
        if nodes == 2:
            if redis_url is None:
                redis_url, redis_process = _start_redis(data)
                processes.append(redis_process)
            env["COBROWSE_REDIS_URL"] = redis_url
        bases = []
        for node in range(nodes):
            port = free_port()
            process, log = servers.spawn_cobrowse(store, f"node-{node}", port, env)
            processes.append(process)
            bases.append(f"http://127.0.0.1:{port}")
            # One after the other: both migrate the shared store on start.
            asyncio.run(servers.wait_healthy(bases[-1], process, log))
        customer_base, agent_base = bases[0], bases[-1]
        endpoints = Endpoints(
            "cobrowse",
            customer_base.replace("http://", "ws://"),
            agent_base.replace("http://", "ws://"),
            agent_base,
        )
        # A throwaway Redis is part of what serves the sessions: its CPU and memory count.
        server_pids = [process.pid for process in processes]
        result = _measure(name, endpoints, tokens, server_pids, plan, progress)
        if nodes == 2 and result.failure is not None:
            result.failure = (
                "agents on node B could not join sessions started on node A "
                f"(do the nodes share live state?): {result.failure}"
            )
        return result
    except servers.ServerFailed as problem:
        refusal = _cluster_refusal(problem) if nodes == 2 else str(problem)
        return ConfigurationResult(name, plan.sessions, failure=refusal)
    finally:
        servers.stop(reversed(processes))  # the nodes before their Redis


def run(
    plan: LoadPlan,
    nodes: Sequence[int] = (1, 2),
    redis_url: str | None = None,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> LoadRun:
    """Measure the bare relay, then cobrowse with each number of ``nodes``, under ``plan``."""
    raise_open_files_limit(plan.sessions)
    results = []
    with tempfile.TemporaryDirectory(prefix="cobrowse-load-") as tmp:
        data = Path(tmp)
        results.append(_run_bare(data, plan, progress))
        for count in nodes:
            results.append(_run_cobrowse(data, plan, count, redis_url, progress))
            if results[-1].failure:
                progress(f"(c) {results[-1].name}: not measured: {results[-1].failure}")
    return LoadRun(plan, results)
