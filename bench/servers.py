"""The servers the benchmarks run in processes of their own, and the pairs they connect.

Shared by the relay throughput benchmark (one pair) and the load benchmark (many):

* starting ``python -m cobrowse serve`` or ``python -m bench.bare_relay`` as a
  subprocess, waiting for ``/healthz``, stopping it, and reading its CPU time and
  resident memory from /proc;
* a fresh cobrowse store with agents who are already signed in: their sign-in rows
  are written directly with known tokens, because signing in a thousand agents
  through argon2 would take about a minute of the benchmark's time;
* one customer/agent pair joined through cobrowse (start, then join), or one
  sender/receiver pair through the bare relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import msgspec
from argon2 import PasswordHasher
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

from cobrowse.core.ids import new_token, token_digest
from cobrowse.store.db import Database
from cobrowse.store.models import AgentLogin, User
from cobrowse.store.sites import SiteStore
from cobrowse.store.users import UserRole

REPO = Path(__file__).resolve().parent.parent
SITE_ORIGIN = "http://shop.bench.test"
AGENT_COOKIE = "cobrowse_agent"


class ServerFailed(RuntimeError):
    """A benchmark server exited or did not answer; the message ends with its log."""


class PairRefused(RuntimeError):
    """cobrowse did not start or join a session for a pair; the message says what it sent."""


# Processes ------------------------------------------------------------------------


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``python <args>`` in the repository, its output in ``log``."""
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, *args],
            cwd=REPO,
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


async def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient() as http:
        while True:
            if process.poll() is not None:
                raise ServerFailed(f"{url} exited early:\n{log_tail(log)}")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise ServerFailed(f"{url} did not start:\n{log_tail(log)}")
            await asyncio.sleep(0.05)


def stop(processes: Iterable[subprocess.Popen[bytes]]) -> None:
    """Stop the servers a benchmark started (and only those)."""
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc (10 ms resolution)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


def run_queue_seconds(pid: int) -> float:
    """How long the process's main thread has waited for a CPU while ready to run.

    The second field of /proc/<pid>/schedstat. On a shared machine this says whether a
    slow figure was the process's own work or other processes holding the cores.
    """
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9


def resident_bytes(pid: int) -> int:
    """The process's resident memory now (VmRSS of /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024  # reported in kB
    raise ServerFailed(f"process {pid} has no VmRSS (it exited)")


# cobrowse -------------------------------------------------------------------------


def sqlite_url(data: Path) -> str:
    return f"sqlite+aiosqlite:///{data / 'cobrowse.db'}"


async def prepare_store(database_url: str, agents: int) -> list[str]:
    """A migrated store with the bench site and ``agents`` signed-in agents.

    Returns each agent's sign-in token (the ``cobrowse_agent`` cookie). The agents
    share one password hash: nobody signs in with it, the rows only need one.
    """
    db = Database(database_url)
    try:
        await db.migrate()
        await SiteStore(db).add("bench", [SITE_ORIGIN])
        password_hash = PasswordHasher().hash(new_token())
        now = datetime.now(UTC)
        tokens = [new_token() for _ in range(agents)]
        async with db.sessions.begin() as tx:
            users = [
                User(
                    username=f"bench-agent-{number}",
                    password_hash=password_hash,
                    role=UserRole.AGENT.value,
                    created_at=now,
                )
                for number in range(agents)
            ]
            tx.add_all(users)
            await tx.flush()
            tx.add_all(
                AgentLogin(
                    token_digest=token_digest(token),
                    user_id=user.id,
                    expires_at=now + timedelta(days=1),
                )
                for user, token in zip(users, tokens, strict=True)
            )
        return tokens
    finally:
        await db.close()


def spawn_cobrowse(
    data: Path, name: str, port: int, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], Path]:
    """``cobrowse serve`` on the store in ``data``; returns the process and its log."""
    log = data / f"{name}.log"
    # The benchmarks measure the relay: agents join by ID, with no call to bind to.
    env = {
        "COBROWSE_DATABASE_URL": sqlite_url(data),
        "COBROWSE_REQUIRE_INTERACTION": "false",
        **(extra_env or {}),
    }
    return spawn(["-m", "cobrowse", "serve", "--port", str(port)], env, log), log


async def _connect(
    url: str, compression: str | None, origin: str | None = None, cookie: str | None = None
) -> ClientConnection:
    # No client pings: browsers send none, and at thousands of sockets they would be
    # load the real clients do not make. max_size=None: the server limits frames.
    return await connect(
        url,
        origin=Origin(origin) if origin else None,
        additional_headers={"Cookie": cookie} if cookie else None,
        compression=compression,
        max_size=None,
        ping_interval=None,
        proxy=None,
    )


async def open_cobrowse_pair(
    customer_url: str, agent_url: str, agent_origin: str, token: str, compression: str | None
) -> tuple[ClientConnection, ClientConnection]:
    """A customer socket that started a session and an agent socket that joined it.

    ``customer_url`` and ``agent_url`` are the two ``/ws/...`` endpoints (on the same
    node or on two). The caller drains the customer socket (``agent_joined``, the
    snapshot request) and closes both.
    """
    agent = await _connect(agent_url, compression, agent_origin, f"{AGENT_COOKIE}={token}")
    customer: ClientConnection | None = None
    try:
        hello = msgspec.json.decode(await agent.recv())
        if hello.get("t") != "hello":
            raise PairRefused(f"the agent socket answered {hello!r} instead of hello")
        customer = await _connect(customer_url, compression, SITE_ORIGIN)
        await customer.send('{"v":1,"t":"start"}')
        started = msgspec.json.decode(await customer.recv())
        if started.get("t") != "session":
            raise PairRefused(f"the customer socket answered {started!r} to start")
        join = {"v": 1, "t": "join", "id": started["session"]["id"]}
        await agent.send(msgspec.json.encode(join).decode())
        joined = msgspec.json.decode(await agent.recv())
        if joined.get("t") != "joined":
            raise PairRefused(f"the agent's join was answered {joined!r}")
    except BaseException:
        await agent.close()
        if customer is not None:
            await customer.close()
        raise
    return customer, agent


async def open_bare_pair(
    relay_ws: str, pair: str, compression: str | None
) -> tuple[ClientConnection, ClientConnection]:
    """A sender on the bare relay's ``/in/<pair>`` and a receiver on ``/out/<pair>``."""
    receiver = await _connect(f"{relay_ws}/out/{pair}", compression)
    try:
        sender = await _connect(f"{relay_ws}/in/{pair}", compression)
    except BaseException:
        await receiver.close()
        raise
    return sender, receiver


async def drain(socket: ClientConnection) -> None:
    """Read and drop what a socket receives (a customer's notices) until it closes."""
    with contextlib.suppress(Exception):
        async for _ in socket:
            pass


def negotiated_extensions(socket: ClientConnection) -> str:
    names = [extension.name for extension in socket.protocol.extensions]
    return ", ".join(names) or "none"
