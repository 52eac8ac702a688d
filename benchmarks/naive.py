"""The baseline: the copier a partner would write first, with plain aiohttp.

Per pass it reads the master (``/bots/bot``), then for each follower reads its clone
(``/bots/bot``), computes the desired settings (master, then overrides, scale, limits: the
same rules as copytrader's, see ``world.desired_settings``), edits the keys that differ
(``/bots/edit``) and clones (and starts) a missing clone. It keeps its follower -> clone map
in memory. Requests go through the same limits copytrader uses: at most ``concurrency`` in
flight and at most ``rate`` in any 60-second window; a 429's Retry-After is honoured.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from benchmarks import world as world_mod

WINDOW = 60.0


class NaiveError(Exception):
    """A request the naive copier could not get through."""


@dataclass
class Counts:
    """Requests sent by path, and the writes among them."""

    by_path: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_path.values())

    @property
    def writes(self) -> int:
        return sum(n for p, n in self.by_path.items() if p != "/bots/bot")


class NaiveCopier:
    """One partner script instance: an aiohttp session, a limiter, the clone map."""

    def __init__(self, url: str, key: str, *, rate: int | None, concurrency: int) -> None:
        self.url = url
        self.key = key
        self.rate = rate
        self.concurrency = concurrency
        self.clones: dict[str, str] = {}  # follower user id -> clone bot id
        self.counts = Counts()
        self._slots = asyncio.Semaphore(concurrency)
        self._sends: deque[float] = deque()
        self._gate = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> NaiveCopier:
        self._session = aiohttp.ClientSession(
            headers={"X-API-Key": self.key},
            connector=aiohttp.TCPConnector(limit=0),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def _admit(self) -> None:
        async with self._gate:
            while self.rate is not None:
                now = time.monotonic()
                while self._sends and self._sends[0] <= now - WINDOW:
                    self._sends.popleft()
                if len(self._sends) < self.rate:
                    break
                await asyncio.sleep(self._sends[0] + WINDOW - now)
            self._sends.append(time.monotonic())

    async def call(self, path: str, body: dict[str, Any]) -> Any:
        """POST ``body`` to ``path``; the envelope's data. Retries a 429 after Retry-After."""
        assert self._session is not None, "use NaiveCopier as an async context manager"
        for _ in range(10):
            async with self._slots:
                await self._admit()
                self.counts.by_path[path] = self.counts.by_path.get(path, 0) + 1
                async with self._session.post(self.url + path, json=body) as resp:
                    doc = await resp.json()
                    retry = resp.headers.get("Retry-After")
            if resp.status == 429:
                await asyncio.sleep(float(retry or 1))
                continue
            if not doc.get("isSuccess"):
                raise NaiveError(f"{path}: {doc.get('message')}")
            return doc.get("data")
        raise NaiveError(f"{path}: still rate limited after 10 attempts")

    async def sync_group(self, group: world_mod.Group) -> None:
        """One pass over one master's followers."""
        master = await self.call("/bots/bot", {"userId": group.owner, "botId": group.master})
        settings = master["settings"]

        async def one(index: int, user: str) -> None:
            want = world_mod.desired_settings(settings, index)
            bot_id = self.clones.get(user)
            if bot_id is None:
                made = await self.call("/bots/clone", {
                    "userId": user, "botId": group.master, "followUpdates": False,
                    "settings": want,
                })
                self.clones[user] = made["botId"]
                await self.call("/bots/start", {"botId": made["botId"]})
                return
            clone = await self.call("/bots/bot", {"userId": user, "botId": bot_id})
            have = clone["settings"]
            changed = {k: v for k, v in want.items() if have.get(k) != v}
            if changed:
                await self.call("/bots/edit", {"userId": user, "botId": bot_id,
                                               "settings": changed})

        # A pool of ``concurrency`` workers over the follower list (one task per follower
        # would hold 100,000 coroutines for nothing).
        todo = iter(enumerate(group.followers))

        async def worker() -> None:
            for index, user in todo:
                await one(index, user)

        await asyncio.gather(*(worker() for _ in range(self.concurrency)))

    async def sync(self, w: world_mod.World) -> Counts:
        """One pass over every master; returns the requests this pass sent."""
        before = dict(self.counts.by_path)
        for group in w.groups:
            await self.sync_group(group)
        return Counts({p: n - before.get(p, 0) for p, n in self.counts.by_path.items()
                       if n - before.get(p, 0)})


def seed_converged(w: world_mod.World) -> dict[str, str]:
    """Make every follower's clone directly in the simulator's state, as the naive copier's
    first pass would; returns its follower -> clone map (a converged naive deployment)."""
    state = w.state
    clones: dict[str, str] = {}
    for g in w.groups:
        master = state.bot(g.master)["settings"]
        for i, user in enumerate(g.followers):
            made = state.clone(user, g.master, False, world_mod.desired_settings(master, i))
            state.start(made["botId"])
            clones[user] = made["botId"]
    return clones
