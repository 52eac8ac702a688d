"""Live pages: pass ends, fanned out to every open page as server-sent events.

The daemon publishes each pass it runs the moment it ends (:meth:`PassFeed.publish`). A
process that runs no pass of its own (``copytrader web``, a standby daemon) learns of passes
from the ``runs`` table instead (:func:`poll_runs`), while a page is listening. A pass is
published once, however it was learnt of. ``GET /api/events`` is the stream: an ``event: pass``
with the pass's ``run_id``, ``state`` and ``finished_at`` per pass, and a comment line every
``heartbeat`` seconds so proxies keep the connection open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from typing import Any

import structlog
from aiohttp import web

from copytrader.errors import CopytraderError
from copytrader.store import queries
from copytrader.store.repo import SqlStore

log = structlog.get_logger("copytrader.web")

HEARTBEAT = 15.0
POLL_SECONDS = 1.0
QUEUE = 16  # pass ends kept for a slow page; older ones are dropped (one refresh covers them)


class PassFeed:
    """Pass ends and the queues of the pages listening for them."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self.last: str | None = None

    @property
    def listeners(self) -> int:
        return len(self._queues)

    def publish(self, event: dict[str, Any]) -> None:
        """Send ``event`` (a pass end: ``run_id``, ``state``, ``finished_at``) to every page,
        unless that pass was published already."""
        if event.get("run_id") == self.last:
            return
        self.last = event.get("run_id")
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)

    def close(self) -> None:
        """End every open stream (the listener is shutting down)."""
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(None)

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[dict[str, Any] | None]]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)


async def stream(request: web.Request, feed: PassFeed, heartbeat: float = HEARTBEAT
                 ) -> web.StreamResponse:
    """``GET /api/events``: the pass ends as server-sent events, until the page goes away."""
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",  # nginx: pass each event on at once
    })
    await response.prepare(request)
    with feed.subscribe() as queue:
        try:
            await response.write(b"retry: 3000\n\n")
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), heartbeat)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                if event is None:
                    break  # shutting down: the page reconnects to whoever serves next
                data = json.dumps(event, separators=(",", ":"))
                await response.write(f"event: pass\ndata: {data}\n\n".encode())
        except (ConnectionResetError, ConnectionError):
            pass  # the page went away
    return response


def pass_event(run_id: str, state: str, finished_at: Any) -> dict[str, Any]:
    return {"run_id": run_id, "state": state,
            "finished_at": queries.iso(finished_at) if finished_at is not None else None}


async def poll_runs(store: SqlStore, feed: PassFeed, every: float = POLL_SECONDS) -> None:
    """Publish each pass that ends, as the ``runs`` table shows it, while a page listens.

    Runs until cancelled; a database error is logged and tried again."""
    while True:
        await asyncio.sleep(every)
        if not feed.listeners:
            feed.last = None  # the next page to listen starts from the newest pass
            continue
        try:
            runs = await store.runs(limit=5)
        except CopytraderError as exc:
            log.warning("dashboard: could not read the passes", error=str(exc))
            continue
        done = next((r for r in runs if r.finished_at is not None), None)
        if done is None:
            continue
        if feed.last is None:
            feed.last = done.run_id  # already on the page: only later passes are news
            continue
        feed.publish(pass_event(done.run_id, done.state, done.finished_at))
