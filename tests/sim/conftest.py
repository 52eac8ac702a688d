"""Fixtures: a simulator on a real loopback port and a plain aiohttp client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from copytrader.sim.haas.server import SimServer
from copytrader.sim.haas.state import SimState

KEY = "test-key"


class FakeClock:
    """A wall clock the test moves by hand."""

    def __init__(self, now: float = 1_766_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Api:
    """Sends requests to the simulator and returns (HTTP status, envelope)."""

    session: aiohttp.ClientSession
    url: str

    async def post(self, path: str, body: Any = None, **kw: Any) -> tuple[int, dict[str, Any]]:
        async with self.session.post(self.url + path, json=body if body is not None else {},
                                     **kw) as resp:
            return resp.status, await resp.json()

    async def env(self, path: str, body: Any = None) -> dict[str, Any]:
        """POST and return the envelope, whatever the HTTP status."""
        return (await self.post(path, body))[1]

    async def get(self, path: str, **kw: Any) -> tuple[int, dict[str, Any]]:
        async with self.session.get(self.url + path, **kw) as resp:
            return resp.status, await resp.json()

    async def data(self, path: str, body: Any = None) -> Any:
        """POST (GET when body is ...) and return ``data``, asserting success."""
        status, env = await (self.get(path) if body is ... else self.post(path, body))
        assert status == 200 and env["isSuccess"] is True, (status, env)
        assert env["code"] == 0 and env["message"] == ""
        return env["data"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def state(clock: FakeClock) -> SimState:
    return SimState(api_key=KEY, seed=7, clock=clock)


@pytest.fixture
async def server(state: SimState) -> AsyncIterator[SimServer]:
    async with SimServer(state) as srv:
        yield srv


@pytest.fixture
async def api(server: SimServer) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession(headers={"X-API-Key": KEY}) as session:
        yield Api(session, server.url)
