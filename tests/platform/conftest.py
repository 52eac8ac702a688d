"""Fixtures of the platform client tests: a real simulator on loopback and clients for it."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from copytrader.platform.backoff import Backoff
from copytrader.platform.haas.client import PlatformClient
from copytrader.settings import Secret
from copytrader.sim.haas.server import SimServer
from copytrader.sim.haas.state import SimState
from tests.sends import SendLog

#: A canary: it must never show up in a log line, an exception message or a repr.
KEY = "canary-key-5f1e9b7c-NEVER-LOG-ME"

MakeClient = Callable[..., PlatformClient]


def fast_backoff(max_attempts: int = 5) -> Backoff:
    """Backoff with the production shape but millisecond delays."""
    return Backoff(base=0.005, cap=0.02, max_attempts=max_attempts, rng=random.Random(7))


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    state = SimState(api_key=KEY, seed=1, rate_limit_per_minute=None, latency=0.0)
    async with SimServer(state) as server:
        yield server


@pytest.fixture
async def make_client(sim: SimServer) -> AsyncIterator[MakeClient]:
    """Builds clients for ``sim`` (fast backoff, no rate limit unless asked); closes them all."""
    made: list[PlatformClient] = []

    def build(**overrides: Any) -> PlatformClient:
        url = overrides.pop("url", sim.url)
        options: dict[str, Any] = {
            "rate_limit_per_minute": None,
            "timeout": 2.0,
            "backoff": fast_backoff(),
        }
        options.update(overrides)
        client = PlatformClient(url, Secret(KEY), **options)
        made.append(client)
        return client

    yield build
    for client in made:
        await client.aclose()


@pytest.fixture
def client(make_client: MakeClient) -> PlatformClient:
    return make_client()


class RecordingObserver(SendLog):
    """A RequestObserver that keeps what it was told (the daemon's metrics implement it)."""
