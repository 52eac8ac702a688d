"""A real webhook receiver for the tests: an aiohttp server on a free loopback port that
checks every request as a careful receiver would (signature over the timestamp and the raw
body, event id header equal to the body's id, a fresh timestamp) and can be taken down,
brought back on the same port, or made to answer errors. It also takes Apprise's ``json://``
posts at ``/apprise``."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Received:
    """One request as received."""

    at: float
    event_id: str
    body: dict[str, Any]
    status: int  # what the receiver answered


@dataclass
class Receiver:
    secret: str
    path: str = "/hook"
    #: event id -> how many requests for it to answer 500 before 200
    fail_first: int = 0
    answer: Callable[[str], int] | None = None
    got: list[Received] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    apprise: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def delivered(self) -> set[str]:
        """The event ids answered 2xx."""
        return {r.event_id for r in self.got if 200 <= r.status < 300}

    def attempts(self, event_id: str) -> list[Received]:
        return [r for r in self.got if r.event_id == event_id]

    async def _hook(self, request: web.Request) -> web.Response:
        raw = await request.read()
        event_id = request.headers.get("X-Copytrader-Event-Id", "")
        stamp = request.headers.get("X-Copytrader-Timestamp", "")
        signature = request.headers.get("X-Copytrader-Signature", "")
        want = (
            "sha256="
            + hmac.new(
                self.secret.encode(), stamp.encode() + b"." + raw, hashlib.sha256
            ).hexdigest()
        )
        if not hmac.compare_digest(signature, want):
            self.problems.append(f"bad signature for {event_id}")
        try:
            body = json.loads(raw)
        except ValueError:
            self.problems.append(f"body of {event_id} is not JSON")
            return web.Response(status=400)
        if body.get("id") != event_id:
            self.problems.append(f"header id {event_id} != body id {body.get('id')}")
        if not stamp.isdigit() or abs(int(stamp) - time.time()) > 300:
            self.problems.append(f"stale or bad timestamp {stamp!r} for {event_id}")
        if request.content_type != "application/json":
            self.problems.append(f"content type {request.content_type}")
        keys = ["id", "ts", "action", "master", "follower", "bot", "changes", "outcome",
                "error", "detail"]  # fmt: skip
        if list(body) != keys:
            self.problems.append(f"body keys {list(body)}")
        status = 200
        if self.answer is not None:
            status = self.answer(event_id)
        elif len(self.attempts(event_id)) < self.fail_first:
            status = 500
        self.got.append(Received(time.monotonic(), event_id, body, status))
        return web.Response(status=status, text="ok" if status < 300 else "no")

    async def _apprise(self, request: web.Request) -> web.Response:
        self.apprise.append(await request.json())
        return web.Response(status=200)

    async def start(self) -> Receiver:
        """Listen (again on the same port after :meth:`stop`)."""
        app = web.Application()
        app.router.add_post(self.path, self._hook)
        app.router.add_post("/apprise", self._apprise)
        app.router.add_post("/apprise/{tail:.*}", self._apprise)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
