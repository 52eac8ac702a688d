"""The dashboard in-process: a real simulator, real reconcile passes into a real SQLite file,
and the dashboard served by the daemon's own listener on a free loopback port.

The browser tests (``test_browser.py``) use a daemon subprocess instead; these fixtures serve
the HTTP-level tests (API shapes, auth, headers, live events), which need no browser.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from copytrader.daemon.http import HttpEndpoint
from copytrader.reconcile import wiring
from copytrader.settings import PlatformSettings, Secret, Settings
from copytrader.sim.haas.server import SimServer
from copytrader.web.dashboard import Dashboard
from tests.world import F1, F2, F3, GRID, demo_sim, write_policy

KEY = "web-test-key-3a9f"
GRID_POLICY = f"""\
master: {GRID}
defaults:
  overrides: {{stopCondition: Price, stopValue: 3500}}
limits:
  investmentAmount: {{min: 100, max: 800}}
locked: [symbol]
followers:
  - user: {F1}
    overrides: {{stopValue: 4200}}
    scale: {{investmentAmount: 0.5}}
  - user: {F2}
  - user: {F3}
    paused: true
"""


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with demo_sim(KEY, seed=11) as server:
        yield server


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    write_policy(folder, "grid.yaml", GRID_POLICY)
    return folder


@pytest.fixture
def settings(sim: SimServer, tmp_path: Path, policy_dir: Path) -> Settings:
    return Settings(
        platform=PlatformSettings(api_url=sim.url, api_key=Secret(KEY),
                                  rate_limit_per_minute=10_000, concurrency=4,
                                  timeout_seconds=5.0),
        database_url=f"sqlite:///{tmp_path / 'ct.db'}",
        policy_dir=policy_dir,
    )


@pytest.fixture
async def svc(settings: Settings) -> AsyncIterator[wiring.Service]:
    async with wiring.open_writer(settings) as service:
        yield service


@dataclass
class Site:
    """The dashboard listening on a loopback port, and a client for it."""

    endpoint: HttpEndpoint
    board: Dashboard
    session: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return self.endpoint.url

    async def get(self, path: str, **kw: Any) -> tuple[int, dict[str, str], str]:
        async with self.session.get(self.url + path, allow_redirects=False, **kw) as resp:
            return resp.status, dict(resp.headers), await resp.text()

    async def json(self, path: str, **kw: Any) -> Any:
        status, _, body = await self.get(path, **kw)
        assert status == 200, (path, status, body)
        import json

        return json.loads(body)


SiteFactory = Callable[..., Awaitable[Site]]


@pytest.fixture
async def serve(svc: wiring.Service, settings: Settings) -> AsyncIterator[SiteFactory]:
    """``await serve(token=None, host="127.0.0.1")``: the dashboard of ``svc``'s database."""
    opened: list[Site] = []

    async def start(token: str | None = None, host: str = "127.0.0.1",
                    poll_seconds: float = 0.1) -> Site:
        secret = Secret(token) if token else None
        board = Dashboard(svc.store, settings.policy_dir, secret, poll_seconds=poll_seconds)

        async def health() -> tuple[bool, dict[str, Any]]:
            return True, {"status": "ok"}

        endpoint = HttpEndpoint(host, 0, secret, health=health, dashboard=board)
        await endpoint.start()
        site = Site(endpoint, board, aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True)))
        opened.append(site)
        return site

    yield start
    for site in opened:
        await site.session.close()
        await site.endpoint.stop()
