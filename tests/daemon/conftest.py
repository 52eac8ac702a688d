"""The daemon as a real subprocess against an in-process simulator, a tmp SQLite file and a tmp
policy folder (copies of the example policies for the demo world).

The simulator's event loop is the test's: it keeps answering while a test awaits the
subprocess. ``EXPECTED`` is an oracle written out by hand from ``policies/*.yaml`` and
``copytrader.sim.haas.seed`` (not computed with copytrader's own code).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from copytrader.sim.haas.seed import DEMO
from copytrader.sim.haas.server import SimServer
from copytrader.sim.haas.state import SimState
from tests.world import demo_sim

ROOT = Path(__file__).resolve().parents[2]
KEY = "daemon-test-key-7c1d2e"
GRID, FGRID, DCA = DEMO.spot_grid_master, DEMO.futures_grid_master, DEMO.spot_dca_master
F1, F2, F3, F4 = DEMO.spot_followers
G1, G2, G3 = DEMO.futures_followers

# (master, follower) -> (status, settings the clone must have), from the example policies.
EXPECTED: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {
    (GRID, F1): (
        "running",
        {
            "stopCondition": "Price",
            "stopValue": 3200,
            "investmentAmount": 1000,
            "symbol": "BITMEXSPOT_ETH_USDT_",
        },
    ),
    (GRID, F2): ("running", {"stopValue": 3500, "investmentAmount": 500}),
    (GRID, F3): ("stopped", {"stopValue": 3500, "investmentAmount": 1000}),
    (FGRID, G1): ("running", {"maxLoss": 15, "investmentAmount": 1000, "maxWin": 50}),
    (FGRID, G2): (
        "running",
        {"maxLoss": 15, "maxWin": 80, "stopExit": True, "investmentAmount": 1000},
    ),
    (FGRID, G3): ("running", {"maxLoss": 15, "investmentAmount": 750}),
    (DCA, F4): ("running", {"takeProfit": 3, "investmentAmount": 100}),
    (DCA, F1): ("running", {"stopLoss": 8, "investmentAmount": 50}),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or str(a).lower() == str(b).lower()
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return bool(a == b)


def clone_of(state: SimState, master: str, follower: str) -> dict[str, Any] | None:
    """The follower's bot of the master's type (the demo masters have three distinct types)."""
    kind = state.bot(master)["type"]
    bots = [b for b in state.bots_of(follower) if b["type"] == kind]
    return bots[-1] if bots else None


def mismatches(
    state: SimState, expected: dict[tuple[str, str], tuple[str, dict[str, Any]]]
) -> list[str]:
    """What differs from ``expected`` on the platform (empty: converged)."""
    out = []
    for (master, follower), (status, settings) in expected.items():
        bot = clone_of(state, master, follower)
        if bot is None:
            out.append(f"{follower} has no clone of {master}")
            continue
        if bot["status"] != status:
            out.append(f"{bot['botId']} is {bot['status']}, want {status}")
        for key, want in settings.items():
            if not same(bot["settings"].get(key), want):
                out.append(f"{bot['botId']}.{key} = {bot['settings'].get(key)!r}, want {want!r}")
    return out


async def wait_for(
    check: Callable[[], Any], what: str, within: float = 60.0, every: float = 0.2
) -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy; fail after ``within``
    seconds. ``within`` is a hang guard, never a measure: keep it generous (a loaded
    machine runs everything several times slower)."""
    deadline = time.monotonic() + within
    last: Any = None
    while True:
        value = check()
        if isinstance(value, Awaitable):
            value = await value
        if value:
            return value
        last = value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {within} s waiting for {what} (last: {last!r})")
        await asyncio.sleep(every)


def query(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    if not db.exists():
        return []
    with contextlib.closing(sqlite3.connect(db, timeout=5)) as conn:
        try:
            return list(conn.execute(sql, args).fetchall())
        except sqlite3.OperationalError:  # the schema is not there yet
            return []


class NotifySocket:
    """A real AF_UNIX datagram socket standing in for systemd's notify socket."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.setblocking(False)
        self.messages: list[dict[str, str]] = []

    def drain(self) -> list[dict[str, str]]:
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return self.messages
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            self.messages.append(fields)

    def seen(self, key: str, value: str | None = None) -> list[dict[str, str]]:
        return [m for m in self.drain() if key in m and (value is None or m[key] == value)]

    def close(self) -> None:
        self.sock.close()


class Daemon:
    """``python -m copytrader.cli.main run`` in a subprocess; logs to a JSON file."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.log = workdir / "daemon.log"
        self.db = Path(env["COPYTRADER_DATABASE_URL"].removeprefix("sqlite:///"))
        self.url = "http://" + env["COPYTRADER_HTTP_LISTEN"]
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> Daemon:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "copytrader.cli.main",
            "run",
            env=self.env,
            cwd=self.workdir,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return self

    def send(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    async def stop(
        self, sig: signal.Signals = signal.SIGTERM, within: float = 60.0
    ) -> tuple[int, float]:
        """Send ``sig`` and wait; (exit code, seconds it took). ``within`` is a hang guard;
        the seconds are for messages, never for an assertion (a loaded machine is slow)."""
        assert self.proc is not None
        started = time.monotonic()
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        try:
            code = await asyncio.wait_for(self.proc.wait(), within)
        except TimeoutError:
            pytest.fail(f"the daemon did not exit within {within} s of {sig.name}\n" + self.tail())
        return code, time.monotonic() - started

    async def output(self) -> tuple[str, str]:
        assert self.proc is not None
        out, err = await self.proc.communicate()
        return out.decode(), err.decode()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        found = []
        for line in self.log.read_text(encoding="utf-8").splitlines():
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if name is None or event.get("event") == name:
                found.append(event)
        return found

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return "(no log)"
        return "\n".join(self.log.read_text(encoding="utf-8").splitlines()[-lines:])

    async def get(self, path: str, token: str | None = None) -> tuple[int, str]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                self.url + path, headers=headers, timeout=aiohttp.ClientTimeout(total=30)
            ) as resp,
        ):
            return resp.status, await resp.text()

    async def get_or_none(self, path: str) -> tuple[int, str] | None:
        try:
            return await self.get(path)
        except (aiohttp.ClientError, TimeoutError):
            return None

    def runs(self, state: str | None = None) -> list[tuple[Any, ...]]:
        sql = "SELECT run_id, state, finished_at, started_at FROM runs"
        if state is None:
            return query(self.db, sql + " ORDER BY started_at")
        return query(self.db, sql + " WHERE state = ? ORDER BY started_at", state)

    def audit(self, action: str) -> list[tuple[Any, ...]]:
        return query(
            self.db,
            "SELECT run_id, master, follower, error, policy_file FROM "
            "audit_events WHERE action = ? ORDER BY id",
            action,
        )


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with demo_sim(KEY, seed=3) as server:
        yield server


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    for path in sorted((ROOT / "policies").glob("*.yaml")):
        shutil.copy(path, folder / path.name)
    return folder


def daemon_env_for(sim: SimServer, policy_dir: Path, database_url: str) -> dict[str, str]:
    """The environment of a ``copytrader`` subprocess against ``sim``: nothing inherited
    from the caller's copytrader or systemd variables; a fast interval, JSON logs."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("COPYTRADER_", "NOTIFY_SOCKET", "WATCHDOG_", "CREDENTIALS_"))
    }
    env.update(
        {
            "COPYTRADER_API_URL": sim.url,
            "COPYTRADER_API_KEY": KEY,
            "COPYTRADER_DATABASE_URL": database_url,
            "COPYTRADER_POLICY_DIR": str(policy_dir),
            "COPYTRADER_INTERVAL_SECONDS": "1",
            "COPYTRADER_LOG_FORMAT": "json",
            "COPYTRADER_SHUTDOWN_TIMEOUT_SECONDS": "5",
            "COPYTRADER_TIMEOUT_SECONDS": "2",
            "COPYTRADER_RATE_LIMIT_PER_MINUTE": "10000",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


@pytest.fixture
def daemon_env(sim: SimServer, tmp_path: Path, policy_dir: Path) -> dict[str, str]:
    env = daemon_env_for(sim, policy_dir, f"sqlite:///{tmp_path / 'ct.db'}")
    env["COPYTRADER_HTTP_LISTEN"] = f"127.0.0.1:{free_port()}"
    env["COPYTRADER_LOG_FILE"] = str(tmp_path / "daemon.log")
    return env


@pytest.fixture
async def start_daemon(
    daemon_env: dict[str, str], tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[Daemon]]]:
    started: list[Daemon] = []

    async def start(**extra: str) -> Daemon:
        d = await Daemon({**daemon_env, **extra}, tmp_path).start()
        started.append(d)
        return d

    yield start
    for d in started:  # a test that failed half-way must not leave a daemon behind
        if d.proc is not None and d.proc.returncode is None:
            d.proc.kill()
        if d.proc is not None:
            await d.proc.communicate()


@pytest.fixture
def notify(tmp_path: Path) -> Iterator[NotifySocket]:
    sock = NotifySocket(tmp_path / "notify.sock")
    yield sock
    sock.close()
