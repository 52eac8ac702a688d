"""Fixtures: the BotPrimeX simulator on a real loopback port, a fake clock, and plain
aiohttp clients holding one account's key each."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from copytrader.sim.botprimex.seed import seed_demo
from copytrader.sim.botprimex.server import BpxServer
from copytrader.sim.botprimex.state import BpxState
from tests.bpx_world import KEYS, MASTER_KEY
from tests.sim.conftest import FakeClock


@dataclass
class Bpx:
    """Sends requests with one account's key; returns (HTTP status, decoded body)."""

    session: aiohttp.ClientSession
    url: str
    key: str

    async def call(self, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.key}"}
        async with self.session.request(
            method, self.url + path, json=body, headers=headers, **kw
        ) as resp:
            raw = await resp.read()
            return resp.status, (await resp.json() if raw else None)

    async def ok(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        status, doc = await self.call(method, path, body, **kw)
        assert 200 <= status < 300, (status, doc)
        return doc

    async def error(self, method: str, path: str, body: Any = None) -> tuple[int, str]:
        status, doc = await self.call(method, path, body)
        assert set(doc) == {"error"} and set(doc["error"]) == {"code", "message"}, doc
        return status, doc["error"]["code"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def bpx_state(clock: FakeClock) -> BpxState:
    state = BpxState(seed=7, clock=clock, trade_seconds=10)
    seed_demo(state, MASTER_KEY, KEYS)
    return state


@pytest.fixture
async def bpx_server(bpx_state: BpxState) -> AsyncIterator[BpxServer]:
    async with BpxServer(bpx_state, tick=3600) as server:
        yield server


@pytest.fixture
async def as_account(bpx_server: BpxServer) -> AsyncIterator[Callable[[str], Bpx]]:
    """``as_account("alice")``: a client with alice's key (``"master"``: the master's)."""
    async with aiohttp.ClientSession() as session:
        yield lambda name: Bpx(
            session, bpx_server.url, MASTER_KEY if name == "master" else KEYS.get(name, name)
        )
