"""The webhook route on a real aiohttp server of the daemon's endpoint, with a real SQLite
store behind its inbox: token, size, bodies, methods, the 202 that never waits for the
database, duplicates and reordering, and the metrics.

Passes are not run here (tests/daemon/test_webhook_daemon.py runs a real daemon): the inbox's
pass hint is counted instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from copytrader.core.model import Status
from copytrader.core.records import BotSnapshot, Link
from copytrader.daemon.http import HttpEndpoint
from copytrader.daemon.inbox import Inbox
from copytrader.daemon.metrics import CONTENT_TYPE, Metrics
from copytrader.daemon.webhooks import BOTPRIMEX, MAX_BODY, Receiver
from copytrader.settings import Secret
from copytrader.store import engine, trades
from copytrader.store.repo import SqlStore
from tests.daemon.conftest import wait_for

TOKEN = "wh-token-0123456789abcdef"
MASTER, CLONE, STRANGER = "bot_master01", "bot_clone01", "bot_someone_else"
TS = "2026-01-15T10:30:00Z"


@dataclass
class Server:
    endpoint: HttpEndpoint
    receiver: Receiver
    inbox: Inbox
    store: SqlStore
    metrics: Metrics
    hints: list[int]
    db: Path
    task: asyncio.Task[None] | None = None

    @property
    def hook(self) -> str:
        return f"{self.endpoint.url}/webhooks/botprimex/{TOKEN}"

    def consume(self) -> None:
        self.task = asyncio.create_task(self.inbox.run())

    def counter(self, name: str, **labels: str) -> float:
        for family in text_string_to_metric_families(self.metrics.render().decode()):
            for sample in family.samples:
                if sample.name == name and sample.labels == labels:
                    return float(sample.value)
        return 0.0


async def _open(tmp_path: Path, *, bearer: str | None = None, capacity: int = 10_000,
                consume: bool = True, passes: Callable[[], int] = lambda: 0) -> Server:
    db = tmp_path / "ct.db"
    store = await engine.open_store(f"sqlite:///{db}")
    # A pass saw the master (every policy's master is snapshotted) and made one clone.
    await store.add_snapshots([BotSnapshot("r1", datetime(2026, 1, 1, tzinfo=UTC), MASTER,
                                           None, MASTER, Status.RUNNING, 1.0, 0.0)])
    await store.save_link(Link(MASTER, "follower-1", CLONE))
    metrics = Metrics()
    hints: list[int] = []
    inbox = Inbox(store, lambda: hints.append(1), metrics, capacity=capacity, passes=passes)
    receiver = Receiver(BOTPRIMEX, Secret(TOKEN), inbox, metrics)

    async def health() -> tuple[bool, dict[str, Any]]:
        return True, {"status": "ok"}

    endpoint = HttpEndpoint("127.0.0.1", 0, Secret(bearer) if bearer else None, health=health,
                            metrics=metrics.render, content_type=CONTENT_TYPE,
                            extra_routes=receiver.add_to)
    await endpoint.start()
    server = Server(endpoint, receiver, inbox, store, metrics, hints, db)
    if consume:
        server.consume()
    return server


@pytest.fixture
async def open_server(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Server]]]:
    opened: list[Server] = []

    async def start(**kwargs: Any) -> Server:
        server = await _open(tmp_path, **kwargs)
        opened.append(server)
        return server

    yield start
    for server in opened:
        if server.task is not None:
            server.task.cancel()
            await asyncio.gather(server.task, return_exceptions=True)
        await server.endpoint.stop()
        await server.store.close()


async def send(url: str, data: bytes | None = None, *, method: str = "POST",
               headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, data=data, headers=headers,
                        timeout=aiohttp.ClientTimeout(total=30)) as resp,
    ):
        return resp.status, await resp.text(), dict(resp.headers)


def event(name: str, bot: str, **data: Any) -> bytes:
    return json.dumps({"event": name, "timestamp": data.pop("ts", TS),
                       "data": {"bot_id": bot, **data}}).encode()


def trade(bot: str, trade_id: str, pct: float, *, name: str = "trade.closed",
          ts: str = TS) -> bytes:
    return event(name, bot, ts=ts, trade_id=trade_id, pair="BTC/USDT", side="buy",
                 profit_pct=pct, profit_usd=pct * 10)


async def test_a_wrong_token_is_an_unknown_path(open_server: Callable[..., Awaitable[Server]]
                                                ) -> None:
    server = await open_server(bearer="bearer-token-for-healthz")
    base = server.endpoint.url
    unknown = await send(base + "/webhooks/botprimex/nope-nope-nope-nope", event("bot.started",
                                                                                 MASTER))
    assert unknown[0] == 404
    for url in (f"{base}/webhooks/botprimex/{TOKEN[:-1]}", f"{base}/webhooks/botprimex/{TOKEN}x",
                f"{base}/webhooks/botprimex/{TOKEN.upper()}", f"{base}/webhooks/haas/{TOKEN}",
                f"{base}/webhooks/botprimex/{TOKEN}/", f"{base}/webhooks/botprimex/"):
        for method in ("POST", "GET", "PUT", "DELETE"):
            got = await send(url, b"{}" if method != "GET" else None, method=method)
            assert (got[0], got[1], got[2].get("Content-Type")) == (
                unknown[0], unknown[1], unknown[2].get("Content-Type")), (url, method)
    # Too large with a wrong token: still just an unknown path.
    got = await send(f"{base}/webhooks/botprimex/{TOKEN}0", b"x" * (MAX_BODY + 10))
    assert got[0] == 404
    # The route needs no bearer token (the path is its secret); the rest still does.
    assert (await send(server.hook, event("bot.started", MASTER)))[0] == 202
    assert (await send(base + "/healthz", method="GET"))[0] == 401
    assert (await send(base + "/webhooks/../metrics", method="GET"))[0] in (401, 404)
    assert (await send(server.hook, method="GET"))[0] == 405
    # Counted: "nope", three near-misses x four methods, the oversize one (the other paths
    # are not the route's at all).
    assert server.counter("copytrader_webhook_events_rejected_total", reason="token") == 14
    assert server.counter("copytrader_webhook_events_rejected_total", reason="method") == 1


async def test_bodies_over_64_kib_get_413(open_server: Callable[..., Awaitable[Server]]) -> None:
    server = await open_server()
    doc = json.loads(event("bot.started", MASTER))
    doc["pad"] = ""
    doc["pad"] = "p" * (MAX_BODY - len(json.dumps(doc).encode()))
    exact = json.dumps(doc).encode()
    assert len(exact) == MAX_BODY
    assert (await send(server.hook, exact))[0] == 202
    doc["pad"] += "p"
    assert (await send(server.hook, json.dumps(doc).encode()))[0] == 413

    async def chunked() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"x" * 4096

    status, body, _ = await send(server.hook, chunked())  # type: ignore[arg-type]
    assert status == 413 and "65536" in body
    assert server.counter("copytrader_webhook_events_rejected_total", reason="too_large") == 2


async def _raw(port: int, head: bytes, *, read_until: bytes = b"\r\n\r\n") -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head)
        await writer.drain()
        data = b""
        async with asyncio.timeout(20):
            while read_until not in data:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                data += chunk
        return data
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def test_a_declared_oversize_body_is_refused_before_it_is_sent(
    open_server: Callable[..., Awaitable[Server]],
) -> None:
    server = await open_server()
    path = f"/webhooks/botprimex/{TOKEN}"
    # No body byte is ever sent: the answer comes from the headers alone.
    for extra in (b"", b"Expect: 100-continue\r\n"):
        head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Content-Length: {10 * 1024 * 1024}\r\n").encode() + extra + b"\r\n"
        answer = await _raw(server.endpoint.port, head)
        assert answer.startswith(b"HTTP/1.1 413"), answer
        assert b"100 Continue" not in answer
    # A small body with Expect: 100-continue gets its 100 and then its 202.
    body = event("bot.started", MASTER)
    head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
            "Expect: 100-continue\r\nConnection: close\r\n\r\n").encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.endpoint.port)
    writer.write(head)
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 100 Continue")
    writer.write(body)
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 202")
    writer.close()


@pytest.mark.parametrize(("body", "problem"), [
    (b"", "body: empty"),
    (b"{oops", "body: not JSON"),
    (b"[" * 30_000 + b"]" * 30_000, "body: JSON nested too deeply"),
    (json.dumps(["bot.started"]).encode(), "body: expected a JSON object, got an array"),
    (json.dumps({"timestamp": TS, "data": {"bot_id": MASTER}}).encode(), "event: required"),
    (json.dumps({"event": "bot.started", "data": {"bot_id": MASTER}}).encode(),
     "timestamp: required"),
    (json.dumps({"event": "bot.started", "timestamp": "soon", "data": {"bot_id": MASTER}}
                ).encode(), "timestamp: not an ISO 8601 time"),
    (json.dumps({"event": "bot.started", "timestamp": TS, "data": "x"}).encode(),
     "data: expected an object, got a string"),
    (json.dumps({"event": "bot.started", "timestamp": TS, "data": {"bot_id": 7}}).encode(),
     "data.bot_id: expected a string, got a number"),
    (event("trade.closed", CLONE, trade_id="t", pair="BTC/USDT", side="buy", profit_usd=1),
     "data.profit_pct: required"),
    (event("trade.stoploss", CLONE, pair="BTC/USDT", side="sell", profit_pct=1, profit_usd=1),
     "data.trade_id: required"),
])
async def test_a_body_that_is_not_an_event_gets_400_naming_the_problem(
    open_server: Callable[..., Awaitable[Server]], body: bytes, problem: str,
) -> None:
    server = await open_server()
    status, text, headers = await send(server.hook, body)
    assert status == 400 and headers["Content-Type"].startswith("application/json")
    assert json.loads(text)["error"].startswith(problem)
    decoding = problem.startswith(("body: empty", "body: not JSON", "body: JSON"))
    reason = "bad_json" if decoding else "bad_event"
    assert server.counter("copytrader_webhook_events_rejected_total", reason=reason) == 1
    assert server.inbox.size == 0 and server.inbox.handled == 0


async def test_events_are_202_and_only_a_master_or_clone_state_change_asks_for_a_pass(
    open_server: Callable[..., Awaitable[Server]],
) -> None:
    server = await open_server()
    for body, status in [
        (event("payout.processed", STRANGER), "ignored"),
        (event("bot.renamed", MASTER), "ignored"),  # unknown name: accepted, ignored
        (event("trade.opened", CLONE, trade_id="t0"), "ignored"),
        (event("bot.started", STRANGER), "accepted"),  # not copytrader's: dropped later
        (trade(STRANGER, "s1", 1.0), "accepted"),
    ]:
        code, text, _ = await send(server.hook, body)
        assert (code, json.loads(text)) == (202, {"status": status})
    await wait_for(lambda: server.inbox.handled == 5, "the inbox to handle 5 events")
    assert server.hints == []
    assert await trades.of_bots(server.store, [STRANGER, CLONE]) == []
    for name, bot in (("bot.stopped", MASTER), ("bot.error", CLONE), ("bot.started", CLONE)):
        assert (await send(server.hook, event(name, bot)))[0] == 202
    await wait_for(lambda: server.inbox.handled == 8, "the inbox to handle 3 more")
    assert server.hints, "a master's or clone's state change asked for no pass"
    c = server.counter
    assert c("copytrader_webhook_events_accepted_total", event="other") == 1
    assert c("copytrader_webhook_events_accepted_total", event="bot.started") == 2
    # the stranger's bot event is dropped; its trade waits in the park for a pass to know it
    assert c("copytrader_webhook_events_handled_total", result="unknown_bot") == 1
    assert c("copytrader_webhook_events_handled_total", result="trade_parked") == 1
    assert server.inbox.parked == 1
    assert c("copytrader_webhook_events_handled_total", result="ignored") == 3
    assert c("copytrader_webhook_events_handled_total", result="pass_requested") == 3
    assert c("copytrader_webhook_events_received_total") == 8


async def test_duplicated_and_reordered_trades_are_stored_once(
    open_server: Callable[..., Awaitable[Server]],
) -> None:
    server = await open_server()
    reports = [
        trade(CLONE, "t1", 1.5), trade(MASTER, "t9", 2.0), trade(CLONE, "t1", 1.5),
        trade(CLONE, "t1", -4.0, name="trade.stoploss", ts="2026-01-15T10:31:00Z"),
        trade(CLONE, "t2", 0.5), trade(MASTER, "t9", 2.0), trade(CLONE, "t1", 1.5),
    ]
    for order in (reports, list(reversed(reports))):
        results = await asyncio.gather(*(send(server.hook, body) for body in order))
        assert [r[0] for r in results] == [202] * len(order)
    await wait_for(lambda: server.inbox.handled == 2 * len(reports), "all reports handled")
    rows = await trades.of_bots(server.store, [CLONE, MASTER])
    assert [(r["bot_id"], r["trade_id"], r["follower"], r["profit_pct"], r["event"])
            for r in rows] == [
        (CLONE, "t2", "follower-1", 0.5, "trade.closed"),
        (CLONE, "t1", "follower-1", -4.0, "trade.stoploss"),
        (MASTER, "t9", None, 2.0, "trade.closed"),
    ]
    assert server.counter("copytrader_webhook_events_handled_total",
                          result="trade_recorded") <= 4


async def test_a_trade_of_a_bot_not_known_yet_waits_for_the_next_pass(
    open_server: Callable[..., Awaitable[Server]],
) -> None:
    passes = [0]  # the runner's pass count
    server = await open_server(passes=lambda: passes[0])
    # A master whose policy no pass has seen yet (no snapshot): its trade is parked.
    assert (await send(server.hook, trade("bot_new_master", "n1", 3.0)))[0] == 202
    await wait_for(lambda: server.inbox.parked == 1, "the trade parked")
    assert await trades.of_bots(server.store, ["bot_new_master"]) == []
    # The pass that reads its policy snapshots it; after it the trade is recorded, once.
    await server.store.add_snapshots([BotSnapshot(
        "r2", datetime(2026, 1, 2, tzinfo=UTC), "bot_new_master", None, "bot_new_master",
        Status.RUNNING, 0.0, 0.0)])
    passes[0] += 1

    async def recorded() -> bool:
        return len(await trades.of_bots(server.store, ["bot_new_master"])) == 1

    await wait_for(recorded, "the parked trade recorded after the pass")
    assert server.inbox.parked == 0
    assert server.counter("copytrader_webhook_events_handled_total",
                          result="trade_recorded") == 1


async def test_the_answer_never_waits_for_the_database(
    open_server: Callable[..., Awaitable[Server]],
) -> None:
    server = await open_server()
    # Another process holds SQLite's write lock: the inbox cannot write.
    lock = sqlite3.connect(server.db, timeout=1, isolation_level=None)
    try:
        lock.execute("BEGIN EXCLUSIVE")
        for i in range(5):
            assert (await send(server.hook, trade(CLONE, f"x{i}", 1.0)))[0] == 202
        # The write gives up after SQLite's busy timeout (5 s) and is retried; meanwhile
        # deliveries are still answered at once.
        await wait_for(lambda: server.inbox.store_failures >= 1, "a failed write", within=60)
        assert (await send(server.hook, trade(CLONE, "x5", 1.0)))[0] == 202
        # WAL: reads go on, and nothing was written behind the lock.
        assert await trades.of_bots(server.store, [CLONE]) == []
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    # Once the lock is gone the retried batch lands, every trade once.
    await wait_for(lambda: server.inbox.handled == 6, "the inbox to get through", within=60)
    assert len(await trades.of_bots(server.store, [CLONE])) == 6


async def test_a_full_or_closing_inbox_answers_503_retry_after(
    open_server: Callable[..., Awaitable[Server]],
) -> None:
    server = await open_server(capacity=2, consume=False)
    assert (await send(server.hook, event("bot.started", MASTER)))[0] == 202
    assert (await send(server.hook, event("bot.started", MASTER)))[0] == 202
    status, _, headers = await send(server.hook, event("bot.started", MASTER))
    assert status == 503 and headers["Retry-After"] == "5"
    server.consume()
    assert await server.inbox.drain(within=30) == 0
    assert (await send(server.hook, event("bot.started", MASTER)))[0] == 202
    server.receiver.closing = True
    assert (await send(server.hook, event("bot.started", MASTER)))[0] == 503
    assert server.counter("copytrader_webhook_events_rejected_total", reason="overloaded") == 1
    assert server.counter("copytrader_webhook_events_rejected_total", reason="stopping") == 1

