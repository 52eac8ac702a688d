"""Webhooks into a real ``copytrader run`` subprocess: a master's event starts a pass within
2 s, a burst makes at most two passes that never overlap, and trades land once each and
show in ``copytrader history``.

The daemon runs with a 600 s interval, so every pass after the first is one a webhook
started. Times come from the daemon's own ``runs`` rows and the test's clock (one host).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from copytrader.sim.haas.server import SimServer
from tests.daemon.conftest import F1, GRID, Daemon, query, wait_for
from tests.reliability.support import run_cli, subprocess_env

TOKEN = "daemon-webhook-token-5f0c9e7a1b"


def _utc(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def event(name: str, bot: str, ts: datetime | None = None, **data: Any) -> bytes:
    when = (ts or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    return json.dumps({"event": name, "timestamp": when, "data": {"bot_id": bot, **data}}
                      ).encode()


def trade(bot: str, trade_id: str, pct: float, ts: datetime) -> bytes:
    return event("trade.closed", bot, ts, trade_id=trade_id, pair="ETH/USDT", side="buy",
                 profit_pct=pct, profit_usd=pct * 4)


async def post(session: aiohttp.ClientSession, d: Daemon, body: bytes) -> int:
    async with session.post(f"{d.url}/webhooks/botprimex/{TOKEN}", data=body,
                            timeout=aiohttp.ClientTimeout(total=30)) as resp:
        await resp.read()
        return resp.status


def finished_runs(d: Daemon) -> list[tuple[Any, ...]]:
    return [r for r in d.runs() if r[2] is not None]


def handled(text: str, result: str) -> float:
    for line in text.splitlines():
        if line.startswith(f'copytrader_webhook_events_handled_total{{result="{result}"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_webhooks_start_passes_and_record_trades(
    sim: SimServer, start_daemon: Any, tmp_path: Path
) -> None:
    d: Daemon = await start_daemon(COPYTRADER_WEBHOOK_TOKEN=TOKEN,
                                   COPYTRADER_INTERVAL_SECONDS="600")
    await wait_for(lambda: finished_runs(d), "the first pass", within=60)
    clone = query(d.db, "SELECT bot_id FROM links WHERE master = ? AND follower = ?", GRID, F1)
    assert clone and clone[0][0], "the first pass made no clone"
    clone_id = str(clone[0][0])

    async with aiohttp.ClientSession() as session:
        # 1. A master's state change starts a pass within 2 s.
        sent = datetime.now(UTC)
        assert await post(session, d, event("bot.stopped", GRID)) == 202
        await wait_for(lambda: len(d.runs()) >= 2, "a pass after the event", within=60)
        started = _utc(d.runs()[1][3])
        assert started - sent < timedelta(seconds=2), (sent, started)
        assert any(e.get("reason") == "webhook" for e in d.events("pass starting"))

        # 2. Trades: duplicated and out of order, recorded once each.
        t0 = datetime.now(UTC)  # after the passes so far: counted from the next on
        reports = [trade(GRID, "m1", 2.0, t0), trade(clone_id, "c1", 1.5, t0),
                   trade(GRID, "m1", 2.0, t0), trade(clone_id, "c2", -0.5, t0),
                   trade(clone_id, "c1", 1.5, t0), trade("not-ours", "x", 9.0, t0)]
        for body in reversed(reports):
            assert await post(session, d, body) == 202
        recorded = "SELECT bot_id, trade_id, follower, profit_pct FROM trades ORDER BY trade_id"
        await wait_for(lambda: len(query(d.db, recorded)) == 3, "three trades recorded")
        await asyncio.sleep(0.5)  # a late duplicate would land now
        assert query(d.db, recorded) == [
            (clone_id, "c1", F1, 1.5), (clone_id, "c2", F1, -0.5), (GRID, "m1", None, 2.0)]

        # 3. A burst of state changes: one pass now and at most one more, never two at once.
        await wait_for(lambda: all(r[2] for r in d.runs()), "no pass running")
        before = len(d.runs())
        burst = [event(n, b) for n in ("bot.started", "bot.stopped", "bot.error")
                 for b in (GRID, clone_id)] * 7
        statuses = await asyncio.gather(*(post(session, d, body) for body in burst))
        assert statuses == [202] * len(burst)

        async def all_handled() -> bool:
            _, text = await d.get("/metrics")
            return handled(text, "pass_requested") >= 1 + len(burst)

        await wait_for(all_handled, "every burst event handled")
        await wait_for(lambda: len(d.runs()) > before and all(r[2] for r in d.runs()),
                       "the burst's pass to finish", within=60)
        await asyncio.sleep(3.0)  # room for a (wrong) third pass to show
        runs = d.runs()
        assert 1 <= len(runs) - before <= 2, runs[before:]
        spans = sorted((_utc(r[3]), _utc(r[2])) for r in runs)
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end, f"two passes overlapped: {spans}"

    code, _ = await d.stop(signal.SIGTERM, within=30)
    assert code == 0, d.tail()
    assert TOKEN not in d.log.read_text(encoding="utf-8")

    # 4. history shows the realized ROI and tracking error of those trades.
    env = subprocess_env(COPYTRADER_DATABASE_URL=f"sqlite:///{d.db}")
    code, out, err = await run_cli("history", "--follower", F1, "--json", env=env)
    assert code == 0, err
    last = [r for r in json.loads(out)["history"] if r["master"] == GRID][-1]
    assert (last["master_trade_roi"], last["follower_trade_roi"]) == (2.0, 1.0)
    assert last["trade_tracking_error"] == -1.0
