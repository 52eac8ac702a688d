"""Simulated trades and profit, and webhook delivery of the platform's events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from copytrader.sim.botprimex.seed import DEMO, seed_demo
from copytrader.sim.botprimex.server import BpxServer
from copytrader.sim.botprimex.state import BpxState
from copytrader.sim.botprimex.webhooks import Deliverer
from copytrader.sim.faults import Fault
from tests.bpx_world import KEYS, MASTER_KEY
from tests.sim.conftest import FakeClock

FIELDS: dict[str, Any] = {
    "name": "copy",
    "exchange": "binance",
    "pair": "BTC/USDT",
    "strategy": "dca",
    "stake_amount": 100,
    "max_open_trades": 3,
    "stop_loss": -8,
    "dry_run": False,
}


def test_running_bots_trade_and_a_copy_started_with_its_master_trades_alike(
    bpx_state: BpxState, clock: FakeClock
) -> None:
    master = bpx_state.bots[DEMO.btc_dca]
    alice = bpx_state.accounts["alice"]
    copy = bpx_state.create_bot(alice, FIELDS, status="stopped")
    bpx_state.stop(bpx_state.accounts["master"], master.bot_id)
    bpx_state.start(bpx_state.accounts["master"], master.bot_id)
    bpx_state.start(alice, copy.bot_id)
    clock.advance(95)
    bpx_state.advance()
    closed = [t for t in master.trades or [] if t.status == "closed"]
    assert len(closed) >= 8
    assert master.profit_usd == pytest.approx(sum(t.profit_usd for t in master.trades or []))
    assert master.to_json()["profit_pct"] == pytest.approx(master.profit_usd / 100 * 100, abs=1e-5)
    assert [t.profit_pct for t in copy.trades or []][-8:] == [
        t.profit_pct for t in master.trades or []
    ][-8:]
    before = master.profit_usd
    bpx_state.stop(bpx_state.accounts["master"], master.bot_id)  # the open trade closes
    assert master.open_trade is None and all(t.status == "closed" for t in master.trades or [])
    clock.advance(100)
    bpx_state.advance()
    assert master.profit_usd != before or len(master.trades or []) > len(closed)
    frozen = master.profit_usd
    clock.advance(100)
    bpx_state.advance()
    assert master.profit_usd == frozen  # a stopped bot makes no more trades


def test_a_loss_beyond_stop_loss_closes_as_a_stoploss(
    bpx_state: BpxState, clock: FakeClock
) -> None:
    bot = bpx_state.create_bot(
        bpx_state.accounts["alice"], {**FIELDS, "stop_loss": -0.01}, status="running"
    )
    clock.advance(400)
    bpx_state.advance()
    hit = [t for t in bot.trades or [] if t.stoploss]
    assert hit and all(t.profit_pct == -0.01 for t in hit)
    assert all(t.profit_pct > -0.01 for t in bot.trades or [] if not t.stoploss)


class Receiver:
    """A webhook endpoint that fails its first ``fail`` deliveries with 500."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.got: list[dict[str, Any]] = []
        self.refused = 0

    async def handle(self, request: web.Request) -> web.Response:
        if self.refused < self.fail:
            self.refused += 1
            return web.Response(status=500)
        self.got.append(await request.json())
        return web.Response(status=202)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    rec = Receiver(fail=2)
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield rec, f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    finally:
        await runner.cleanup()


async def _until(check: Any, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while not check():
        assert time.monotonic() < deadline, "not delivered in time"
        await asyncio.sleep(0.05)


async def test_events_are_delivered_at_least_once_duplicated_and_reordered_on_demand(
    receiver: tuple[Receiver, str],
) -> None:
    rec, url = receiver
    state = BpxState(seed=2, trade_seconds=1)
    seed_demo(state, MASTER_KEY, KEYS, webhook_url=url)
    state.faults.add(Fault(path="webhook", kind="duplicate", account="alice"))
    state.faults.add(Fault(path="webhook", kind="reorder", account="alice", after=1))
    async with BpxServer(state, tick=0.1):
        alice = state.accounts["alice"]
        bot = state.create_bot(alice, FIELDS)
        state.start(alice, bot.bot_id)  # bot.started (sent twice)
        state.stop(alice, bot.bot_id)  # trade.opened/closed, bot.stopped: one held back
        state.set_status(bot.bot_id, "error")
        await _until(lambda: sum(e["data"]["bot_id"] == bot.bot_id for e in rec.got) >= 5)
        await _until(
            lambda: any(
                e["event"] == "trade.closed" for e in rec.got if e["data"]["bot_id"] == DEMO.btc_dca
            )
        )
    mine = [e for e in rec.got if e["data"]["bot_id"] == bot.bot_id]
    names = [e["event"] for e in mine]
    assert names.count("bot.started") == 2  # duplicated
    assert {"trade.opened", "trade.closed", "bot.stopped", "bot.error"} <= set(names)
    assert rec.refused == 2  # the first two deliveries failed and were sent again
    for e in rec.got:
        assert set(e) == {"event", "timestamp", "data"} and isinstance(e["data"]["bot_id"], str)
        if e["event"].startswith("trade."):
            assert {"trade_id", "pair", "side", "profit_pct", "profit_usd"} <= set(e["data"])
    retried = [d for d in state.deliveries if d["attempt"] > 1]
    assert retried and all(d["status"] in (0, 202, 500) for d in state.deliveries)


async def test_a_reorder_fault_sends_an_event_after_the_next_one(
    receiver: tuple[Receiver, str],
) -> None:
    rec, url = receiver
    rec.fail = 0
    state = BpxState(seed=2)
    seed_demo(state, MASTER_KEY, KEYS, webhook_url=url)
    state.faults.add(Fault(path="webhook", kind="reorder", account="bob"))
    deliverer = Deliverer(state, concurrency=1)
    task = asyncio.create_task(deliverer.run())
    try:
        bob = state.accounts["bob"]
        bot = state.create_bot(bob, FIELDS)
        state.start(bob, bot.bot_id)
        state.stop(bob, bot.bot_id)
        await _until(lambda: len([e for e in rec.got if e["data"]["bot_id"] == bot.bot_id]) >= 4)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    names = [e["event"] for e in rec.got if e["data"]["bot_id"] == bot.bot_id]
    assert names == ["trade.opened", "bot.started", "trade.closed", "bot.stopped"]
