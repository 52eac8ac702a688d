"""Pass ends reach open pages: the feed fans each pass out once, and a dashboard with no pass of
its own (``copytrader web``) learns of them from the runs table and streams them as
server-sent events."""

from __future__ import annotations

import asyncio
import json

from copytrader.reconcile import wiring
from copytrader.web import live
from tests.web.conftest import SiteFactory


def test_the_feed_sends_each_pass_once_to_every_listener() -> None:
    feed = live.PassFeed()
    feed.publish({"run_id": "r0"})  # nobody listens: nothing kept
    with feed.subscribe() as a, feed.subscribe() as b:
        assert feed.listeners == 2
        feed.publish({"run_id": "r1"})
        feed.publish({"run_id": "r1"})  # learnt of twice (published, then polled)
        feed.publish({"run_id": "r2"})
        assert [a.get_nowait()["run_id"] for _ in range(a.qsize())] == ["r1", "r2"]
        assert [b.get_nowait()["run_id"] for _ in range(b.qsize())] == ["r1", "r2"]
        for i in range(live.QUEUE + 5):  # a page that does not read keeps the newest
            feed.publish({"run_id": f"x{i}"})
        kept = [a.get_nowait()["run_id"] for _ in range(a.qsize())]
        assert len(kept) == live.QUEUE and kept[-1] == f"x{live.QUEUE + 4}"
    assert feed.listeners == 0


async def read_events(resp: object, count: int) -> list[dict[str, object]]:
    events: list[dict[str, object]] = []
    name = None
    while len(events) < count:
        line = (await resp.content.readline()).decode().rstrip("\n")  # type: ignore[attr-defined]
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: ") and name == "pass":
            events.append(json.loads(line.removeprefix("data: ")))
    return events


async def test_passes_in_the_runs_table_stream_to_a_page(svc: wiring.Service,
                                                         serve: SiteFactory) -> None:
    await svc.reconciler.run_pass()  # before the page opened: not news
    site = await serve(poll_seconds=0.05)
    async with site.session.get(site.url + "/api/events") as resp:
        assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
        assert (await resp.content.readline()) == b"retry: 3000\n"
        await asyncio.sleep(0.3)  # the poller has seen the page listening
        done = [await svc.reconciler.run_pass() for _ in range(2)]
        events = await asyncio.wait_for(read_events(resp, 1), 10)
        if events[0]["run_id"] != done[-1].run_id:  # the poller may see both passes
            events += await asyncio.wait_for(read_events(resp, 1), 10)
        assert events[-1]["run_id"] == done[-1].run_id
        assert events[-1]["state"] == "ok"
        assert str(events[-1]["finished_at"]).endswith("Z")
        assert {e["run_id"] for e in events} <= {r.run_id for r in done}


async def test_closing_the_feed_ends_open_streams(svc: wiring.Service,
                                                  serve: SiteFactory) -> None:
    """At shutdown the listener closes the feed: open pages' streams end at once rather than
    holding the stop until aiohttp's shutdown timeout."""
    site = await serve()
    async with site.session.get(site.url + "/api/events") as resp:
        assert (await resp.content.readline()) == b"retry: 3000\n"
        await asyncio.sleep(0.1)
        assert site.board.feed.listeners == 1
        site.board.feed.close()
        rest = await asyncio.wait_for(resp.content.read(), 10)
        assert rest == b"\n"  # the end of the retry line's block, then the end
    assert site.board.feed.listeners == 0
    assert (await site.get("/api/masters"))[0] == 200  # the listener itself goes on
