"""``copytrader run`` as a real subprocess: start, wait until it listens, stop or kill -9.

The simulator runs in the test's own event loop, so everything here is async and never
blocks the loop. The daemon's stderr (its JSON logs) goes to a file the test can read.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import time
from collections.abc import Mapping
from pathlib import Path

import aiohttp

from tests.reliability.support import CLI


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DaemonProcess:
    """One ``copytrader run`` subprocess; ``log`` collects its stderr across restarts."""

    def __init__(self, env: Mapping[str, str], log: Path, port: int) -> None:
        self.env = dict(env)
        self.log = log
        self.port = port
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Start the daemon (appending to the log)."""
        with self.log.open("ab") as err:
            self.proc = await asyncio.create_subprocess_exec(
                *CLI,
                "run",
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=err,
            )

    async def wait_listening(self, limit: float = 30.0, token: str | None = None) -> None:
        """Return once ``/healthz`` answers at all; fail if the process exits first."""
        assert self.proc is not None
        deadline = time.monotonic() + limit
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.proc.returncode is not None:
                    code = self.proc.returncode
                    raise AssertionError(f"daemon exited with {code}: {self.tail()}")
                try:
                    async with session.get(
                        self.url + "/healthz",
                        headers=headers,
                        timeout=aiohttp.ClientTimeout(total=2),
                    ) as resp:
                        await resp.read()
                        return
                except (aiohttp.ClientError, TimeoutError):
                    await asyncio.sleep(0.1)
        raise AssertionError(f"daemon did not listen within {limit}s: {self.tail()}")

    async def wait_for_a_pass(self, limit: float = 60.0) -> None:
        """Return once ``/healthz`` reports a pass of this process finished (``limit``: a
        hang guard)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                _, body = await self.get("/healthz")
            except (aiohttp.ClientError, TimeoutError):
                body = "{}"
            if "last_pass" in json.loads(body):
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"no pass finished within {limit}s: {self.tail()}")

    async def get(self, path: str, token: str | None = None) -> tuple[int, str]:
        """GET a path of the daemon's endpoint: status and body."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                self.url + path, headers=headers, timeout=aiohttp.ClientTimeout(total=10)
            ) as resp,
        ):
            return resp.status, await resp.text()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def kill9(self) -> None:
        """SIGKILL: no cleanup of any kind runs in the daemon."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()

    async def terminate(self, limit: float = 30.0) -> int:
        """SIGTERM and wait; the exit code (kill -9 after ``limit`` seconds)."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), limit)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
                raise AssertionError(f"daemon ignored SIGTERM for {limit}s") from None
        assert self.proc.returncode is not None
        return self.proc.returncode

    def tail(self, lines: int = 15) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])
