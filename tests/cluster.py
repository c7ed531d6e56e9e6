"""Real cobrowse nodes in their own processes, sharing a real Redis and PostgreSQL.

Redis is expected at 127.0.0.1:6379 (override with TEST_REDIS_URL). When nothing
answers there and `redis-server` is installed, a throwaway one is started on a free
port; otherwise the tests fail and say how to start Redis. PostgreSQL: see
tests/databases.py (each cluster gets a database of its own, dropped afterwards).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis

from tests.databases import START_POSTGRES, postgres_url
from tests.support import AGENT_PASSWORD, free_port, run_async, sign_in_cookie

REDIS_URL = "redis://127.0.0.1:6379/0"
SITE_ORIGIN = "http://shop.cluster.test"


@contextmanager
def redis_server() -> Iterator[str]:
    """The URL of a Redis to test against (the machine's, or a throwaway one)."""
    url = os.environ.get("TEST_REDIS_URL", REDIS_URL)
    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.exceptions.ConnectionError as unreachable:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail(
                f"Redis is not reachable at {url} ({unreachable}) and redis-server is not "
                "installed. Start Redis (apt-get install redis-server; redis-server "
                "--daemonize yes) or point TEST_REDIS_URL at one.",
                pytrace=False,
            )
        port = free_port()
        process = subprocess.Popen(
            [binary, "--port", str(port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        try:
            _wait(lambda: redis.Redis(port=port).ping(), "the throwaway redis-server")
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(timeout=10)
        return
    yield url


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one cluster (its nodes share it)."""
    import asyncpg

    base = postgres_url().replace("postgresql+asyncpg://", "postgresql://")
    name = f"cobrowse_cluster_{secrets.token_hex(5)}"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(base, timeout=10)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    try:
        run_async(lambda: admin(f'CREATE DATABASE "{name}"'))
    except OSError as unreachable:
        pytest.fail(
            f"PostgreSQL is not reachable at {base}: {unreachable}\nStart it with:  "
            f"{START_POSTGRES}",
            pytrace=False,
        )
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        run_async(lambda: admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


@dataclass
class Node:
    """One `cobrowse serve` process."""

    port: int
    env: dict[str, str]
    workdir: Path
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.workdir / f"node-{self.port}.log"

    @property
    def url(self) -> str:
        # localhost, not 127.0.0.1: browsers keep the console's Secure cookie there.
        return f"http://localhost:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://localhost:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cobrowse", "serve", "--port", str(self.port)],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait(self._ready, f"node {self.url} (log: {self.log})", process=self.process)

    def _ready(self) -> None:
        httpx.get(f"{self.url}/readyz", timeout=2).raise_for_status()

    def kill(self) -> None:
        """Die at once, as a crashed machine would: no goodbyes to anyone."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> int:
        """Stop gracefully (SIGTERM, as an orchestrator does); returns the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


@dataclass
class Cluster:
    nodes: list[Node]
    env: dict[str, str]
    workdir: Path
    redis_url: str
    prefix: str

    def cobrowse(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "cobrowse", *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def add_agent(self, username: str, role: str = "agent") -> str:
        self.cobrowse("users", "add", username, "--role", role, "--password", AGENT_PASSWORD)
        return username

    def sign_in(self, node: Node, username: str, console: str = "/agent") -> str:
        """The user's cookie for a console (valid on every node: sign-ins live in the
        shared store)."""
        return sign_in_cookie(node, username, console=console)

    def redis_keys(self) -> list[str]:
        client = redis.Redis.from_url(self.redis_url)
        return [key.decode() for key in client.scan_iter(f"{self.prefix}:*")]

    def stop(self) -> None:
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                node.process.kill()
                node.process.wait(timeout=10)


@contextmanager
def cluster(workdir: Path, nodes: int = 2, **settings: str) -> Iterator[Cluster]:
    """``nodes`` cobrowse processes on one Redis (a fresh key prefix) and one database."""
    with redis_server() as redis_url, postgres_database() as database_url:
        prefix = f"cbt{secrets.token_hex(4)}"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("COBROWSE_")}
        env = {
            **clean,
            "COBROWSE_DATABASE_URL": database_url,
            "COBROWSE_REDIS_URL": redis_url,
            "COBROWSE_REDIS_PREFIX": prefix,
            "COBROWSE_LOG_LEVEL": "warning",
            # Binding sessions to calls has tests of its own; the others join by ID.
            "COBROWSE_REQUIRE_INTERACTION": "false",
            **{f"COBROWSE_{key.upper()}": value for key, value in settings.items()},
        }
        running = Cluster(
            [Node(free_port(), env, workdir) for _ in range(nodes)], env, workdir, redis_url, prefix
        )
        try:
            # One at a time: the first applies the migrations to the fresh database.
            for node in running.nodes:
                node.start()
            running.cobrowse("sites", "add", "shop", "--origin", SITE_ORIGIN)
            yield running
        finally:
            running.stop()
            client = redis.Redis.from_url(redis_url)
            for key in client.scan_iter(f"{prefix}:*"):
                client.delete(key)


def _wait(
    probe: Callable[[], object],
    what: str,
    process: subprocess.Popen[bytes] | None = None,
    seconds: float = 20,
) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            probe()
            return
        except Exception as problem:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{what} exited with {process.returncode}") from problem
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} is not up after {seconds} s: {problem}") from problem
            time.sleep(0.1)
