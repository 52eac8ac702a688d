"""BotPrimeX webhooks end to end: the simulator delivers its events (duplicated and
reordered) to a real ``copytrader run`` subprocess. A master stopped on the platform starts a
pass (for the webhook, not the interval) that stops its clones; every closed trade of the
master and the clones is recorded once and shows in ``copytrader history``; a burst of
events makes at most two passes that never overlap.

The daemon runs with a 600 s interval, so every pass after the first is one that a webhook
(or SIGHUP) started. Times come from the daemon's own ``runs`` rows and the test's clock
(one host).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from copytrader.sim.botprimex.server import BpxServer
from copytrader.sim.faults import Fault
from tests.bpx_world import ALICE, BOB, ETH, MASTER_KEY, bpx_sim, write_accounts
from tests.daemon.conftest import ROOT, Daemon, free_port, query, wait_for
from tests.reliability.support import run_cli, subprocess_env
from tests.world import write_policy

TOKEN = "daemon-webhook-token-5f0c9e7a1b"
POLICY = f"""\
master: {ETH}
followers:
  - user: {ALICE}
  - user: {BOB}
on_master_stopped: stop
"""


def _utc(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def bpx_daemon_env(sim: BpxServer, tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    """A BotPrimeX ``copytrader run`` against ``sim`` with webhooks on ``port``."""
    policies = tmp_path / "policies"
    policies.mkdir(exist_ok=True)
    write_policy(policies, "eth.yaml", POLICY)
    return subprocess_env(
        COPYTRADER_PLATFORM="botprimex",
        COPYTRADER_API_URL=sim.url,
        COPYTRADER_API_KEY=MASTER_KEY,
        COPYTRADER_ACCOUNTS_FILE=str(write_accounts(tmp_path)),
        COPYTRADER_DATABASE_URL=f"sqlite:///{tmp_path / 'ct.db'}",
        COPYTRADER_POLICY_DIR=str(policies),
        COPYTRADER_HTTP_LISTEN=f"127.0.0.1:{port}",
        COPYTRADER_LOG_FILE=str(tmp_path / "daemon.log"),
        COPYTRADER_WEBHOOK_TOKEN=TOKEN,
        COPYTRADER_INTERVAL_SECONDS="600",
        COPYTRADER_SHUTDOWN_TIMEOUT_SECONDS="5",
        COPYTRADER_TIMEOUT_SECONDS="5",
        COPYTRADER_RATE_LIMIT_PER_MINUTE="10000",
        PYTHONPATH=str(ROOT),
        **extra,
    )


def finished(d: Daemon) -> list[tuple[Any, ...]]:
    return [r for r in d.runs() if r[2] is not None]


async def quiet(d: Daemon, seconds: float = 2.0) -> int:
    """Wait until no pass has started or run for ``seconds``; the number of passes."""
    stable_since, count = asyncio.get_running_loop().time(), -1

    def settled() -> bool:
        nonlocal stable_since, count
        runs = d.runs()
        now = asyncio.get_running_loop().time()
        if len(runs) != count or any(r[2] is None for r in runs):
            stable_since, count = now, len(runs)
        return now - stable_since >= seconds

    await wait_for(settled, "the daemon to go quiet", within=60)
    return count


async def _deliveries_settled(sim: BpxServer, bots: set[str], seconds: float = 3.0) -> None:
    """Wait until the simulator has made no delivery attempt about ``bots`` for
    ``seconds`` (a held or retried event of theirs would show within that)."""
    loop = asyncio.get_running_loop()
    seen, since = -1, loop.time()

    def settled() -> bool:
        nonlocal seen, since
        count = sum(1 for x in list(sim.state.deliveries)
                    if x["event"]["data"].get("bot_id") in bots)
        if count != seen:
            seen, since = count, loop.time()
        return loop.time() - since >= seconds

    await wait_for(settled, "the simulator's deliveries to settle", within=60)


async def test_the_simulators_webhooks_drive_passes_and_trades(tmp_path: Path) -> None:
    async with bpx_sim(seed=21, trade_seconds=1.0) as sim:
        port = free_port()
        hook = f"http://127.0.0.1:{port}/webhooks/botprimex/{TOKEN}"
        # Delivery is at least once and unordered: make both happen, again and again.
        sim.state.faults.add(Fault(path="webhook", kind="duplicate", times=-1))
        sim.state.faults.add(Fault(path="webhook", kind="reorder", times=-1, after=3))
        d = await Daemon(bpx_daemon_env(sim, tmp_path, port), tmp_path).start()
        try:
            await wait_for(lambda: d.get_or_none("/healthz"), "the daemon listening", within=60)
            # Set in the platform's dashboard once the deployment is up (the platform gives
            # up on a delivery after some attempts, as BotPrimeX may).
            for account in sim.state.accounts.values():
                account.webhook_url = hook
            await _scenario(sim, d, tmp_path)
        finally:
            code, _ = await d.stop(signal.SIGTERM, within=30)
        assert code == 0, d.tail()
    assert TOKEN not in d.log.read_text(encoding="utf-8")


async def _scenario(sim: BpxServer, d: Daemon, tmp_path: Path) -> None:
    state = sim.state

    def clones() -> dict[str, Any]:
        return {a: state.bots_of(a) for a in (ALICE, BOB)}

    await wait_for(lambda: all(len(b) == 1 and b[0]["status"] == "running"
                               for b in clones().values()), "both clones running", within=60)
    clone_ids = {a: b[0]["id"] for a, b in clones().items()}
    # The clones' own bot.started events come back and make a pass: wait for calm.
    before = await quiet(d)
    assert before >= 1

    # 1. The master is stopped on the platform: its bot.stopped starts a pass (the next one
    #    after the event, for the webhook: the interval is 600 s), and that pass stops the
    #    clones (on_master_stopped: stop). How soon a hint makes a pass: test_hints.py.
    sent = datetime.now(UTC)
    state.set_status(ETH, "stopped")
    await wait_for(lambda: len(d.runs()) > before, "a pass after the event", within=60)
    assert _utc(d.runs()[before][3]) >= sent
    assert d.events("pass starting")[before].get("reason") == "webhook"
    await wait_for(lambda: all(b[0]["status"] == "stopped" for b in clones().values()),
                   "the clones stopped", within=60)

    # 2. Every trade whose close the platform reported is recorded, each once: the master's
    #    and both clones' (stopping a bot closes its open trade, so each has one at least).
    ours = {ETH, *clone_ids.values()}
    closes = {"trade.closed", "trade.stoploss"}
    stored = "SELECT bot_id, trade_id, follower, profit_pct FROM trades"

    def reported() -> set[str]:
        return {x["event"]["data"]["trade_id"] for x in list(state.deliveries)
                if x["event"]["event"] in closes and x["event"]["data"]["bot_id"] in ours}

    await _deliveries_settled(sim, ours)
    await wait_for(lambda: reported() <= {r[1] for r in query(d.db, stored)},
                   "every reported trade recorded", within=60)
    closed = {t.trade_id: t for t in state.trades.values() if t.trade_id in reported()}
    assert all(t.status == "closed" for t in closed.values())
    assert {t.bot_id for t in closed.values()} == ours, "some bot reported no closed trade"
    rows = query(d.db, stored)
    assert len(rows) == len(closed)
    owner = {ETH: None, **{bot: account for account, bot in clone_ids.items()}}
    for bot, trade_id, follower, pct in rows:
        t = closed[trade_id]
        assert (bot, follower) == (t.bot_id, owner[t.bot_id])
        assert abs(pct - t.profit_pct) < 1e-5
    bodies = [json.dumps(x["event"], sort_keys=True) for x in state.deliveries
              if 200 <= x["status"] < 300]
    assert len(bodies) > len(set(bodies)), "no event was delivered twice"

    # 3. One more pass (SIGHUP) so that history has a row after the last trade.
    count = await quiet(d)
    d.send(signal.SIGHUP)
    await wait_for(lambda: len(finished(d)) > count, "the SIGHUP pass", within=60)
    env = subprocess_env(COPYTRADER_DATABASE_URL=f"sqlite:///{d.db}")
    code, out, err = await run_cli("history", "--follower", ALICE, "--json", env=env)
    assert code == 0, err
    history = json.loads(out)["history"]
    first = next(r["ts"] for r in history if r["clones"])
    with sqlite3.connect(d.db) as conn:
        rows_sql = ("SELECT SUM(profit_pct) FROM trades WHERE master = ? AND {} "
                    "AND closed_at >= ? AND closed_at <= ?")
        span = (first.replace("T", " ").rstrip("Z"), history[-1]["ts"].replace("T", " ")
                .rstrip("Z") + ".999999")
        master_sum = conn.execute(rows_sql.format("follower IS NULL"), (ETH, *span)).fetchone()
        alice_sum = conn.execute(rows_sql.format("follower = ?"), (ETH, ALICE, *span)).fetchone()
    last = history[-1]
    assert abs(last["master_trade_roi"] - master_sum[0]) < 1e-6
    assert abs(last["follower_trade_roi"] - alice_sum[0]) < 1e-6
    assert abs(last["trade_tracking_error"] - (alice_sum[0] - master_sum[0])) < 1e-6

    # 4. A burst of state events (sent by hand): one pass and at most one more, never two
    #    at once.
    before = await quiet(d)
    burst = [json.dumps({"event": name, "timestamp": datetime.now(UTC).isoformat(),
                         "data": {"bot_id": bot}}).encode()
             for name in ("bot.started", "bot.stopped", "bot.error")
             for bot in (ETH, *clone_ids.values())] * 5
    async with aiohttp.ClientSession() as session:

        async def post(body: bytes) -> int:
            async with session.post(d.url + f"/webhooks/botprimex/{TOKEN}", data=body) as r:
                await r.read()
                return r.status

        assert await asyncio.gather(*(post(b) for b in burst)) == [202] * len(burst)
    after = await quiet(d, seconds=3.0)
    assert 1 <= after - before <= 2, d.runs()[before:]
    spans = sorted((_utc(r[3]), _utc(r[2])) for r in d.runs())
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start >= end, f"two passes overlapped: {spans}"
