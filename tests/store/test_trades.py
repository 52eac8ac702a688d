"""The trades table on SQLite and PostgreSQL: recorded once, latest report kept, whose bot it
is, and ``history``'s realized ROI and tracking error from the recorded trades."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from pathlib import Path

import pytest

from copytrader.core.events import ClosedTrade
from copytrader.core.records import Link
from copytrader.store import queries, trades
from copytrader.store.repo import SqlStore
from copytrader.store.trades import Owner
from tests.reliability.support import run_cli, subprocess_env
from tests.store.test_queries import T0, history_data

M1 = Owner("m1")
F1 = Owner("m1", "f1")
F2 = Owner("m1", "f2")


def closed(bot: str, trade_id: str, minutes: float, pct: float, usd: float = 1.0,
           event: str = "trade.closed") -> ClosedTrade:
    return ClosedTrade(bot, trade_id, event, T0 + timedelta(minutes=minutes), "BTC/USDT", "buy",
                       pct, usd)


async def test_a_trade_is_recorded_once_and_the_latest_report_wins(store: SqlStore) -> None:
    first = closed("bot-m1", "t1", 10, 1.0)
    later = closed("bot-m1", "t1", 10.5, -2.0, -9.5, event="trade.stoploss")
    other = closed("bot-m1", "t2", 11, 0.5)
    received = T0 + timedelta(hours=1)
    for order in itertools.permutations([first, first, later, other]):
        async with store.transaction("reset") as conn:
            from copytrader.store import tables

            await conn.execute(tables.trades.delete())
        changed = 0
        for i, report in enumerate(order):
            changed += await trades.record(store, [(report, M1)],
                                           received + timedelta(seconds=i))
        rows = await trades.of_bots(store, ["bot-m1"])
        assert len(rows) == 2, order
        kept = next(r for r in rows if r["trade_id"] == "t1")
        assert (kept["event"], kept["profit_pct"], kept["profit_usd"], kept["closed_at"]) == (
            "trade.stoploss", -2.0, -9.5, later.closed_at), order
        assert (kept["master"], kept["follower"]) == ("m1", None)
        # A repeat changes nothing; the superseding report changes the row once at most.
        assert changed in (2, 3), order
        first_seen = order.index(first) if order.index(first) < order.index(later) else \
            order.index(later)
        assert kept["received_at"] == received + timedelta(seconds=first_seen)


async def test_one_batch_with_repeats_and_the_same_id_on_two_bots(store: SqlStore) -> None:
    batch = [(closed("bot-m1", "t1", 1, 1.0), M1), (closed("c-f1", "t1", 2, 3.0), F1),
             (closed("bot-m1", "t1", 1, 1.0), M1)]
    assert await trades.record(store, batch, T0) == 2
    assert await trades.record(store, batch, T0) == 0
    rows = await trades.of_bots(store, ["bot-m1", "c-f1"])
    assert [(r["bot_id"], r["trade_id"], r["follower"]) for r in rows] == [
        ("bot-m1", "t1", None), ("c-f1", "t1", "f1")]


async def test_owners_are_policy_masters_and_link_clones(store: SqlStore) -> None:
    await history_data(store)  # passes of masters m1 and m2 (their snapshots)
    await store.save_link(Link("m1", "f1", "c-f1"))
    await store.save_link(Link("m1", "f2", None, intent_at=T0))  # an intent: no bot yet
    await store.save_link(Link("m2", "f1", "c-f1-m2", removed=True))  # kept after removal
    assert await trades.owners(store) == {
        "m1": Owner("m1"), "m2": Owner("m2"), "c-f1": F1, "c-f1-m2": Owner("m2", "f1")}


async def trade_data(store: SqlStore) -> None:
    """history_data's passes (m1 with f1, f2 at T0 + 0/30/60/90 min; f2's clone gone in the
    last), and closed trades of m1's master bot and both clones between them."""
    await history_data(store)
    await trades.record(store, [
        (closed("bot-m1", "m-a", 10, 2.0), M1), (closed("bot-m1", "m-b", 40, 1.0), M1),
        (closed("bot-m1", "m-c", 70, -0.5), M1),
        (closed("c-f1", "f-a", 12, 1.8), F1), (closed("c-f1", "f-b", 42, 0.9), F1),
        (closed("c-f1", "f-c", 72, -0.6), F1),
        (closed("c-f2", "g-a", 13, 2.2), F2),
    ], T0)


def _trade_columns(rows: list[dict[str, object]]) -> list[tuple[object, object, object]]:
    return [(r["master_trade_roi"], r["follower_trade_roi"], r["trade_tracking_error"])
            for r in rows]


async def test_history_of_a_master_from_trades(store: SqlStore) -> None:
    await trade_data(store)
    rows = await queries.history(store, master="m1")
    got = _trade_columns(rows)
    assert got[0] == (0.0, None, None)
    assert got[1:] == [pytest.approx((2.0, 2.0, 0.0)), pytest.approx((3.0, 2.45, -0.55)),
                       pytest.approx((2.5, 2.15, -0.35))]
    # The platform-reported columns are untouched, and a master without trades has none.
    assert [r["follower_roi"] for r in rows] == pytest.approx([0.01, 0.11, 0.21, 0.29])
    other = await queries.history(store, master="m2")
    assert _trade_columns(other) == [(None, None, None)] * 4


async def test_history_of_a_follower_from_trades_window_and_buckets(store: SqlStore) -> None:
    await trade_data(store)
    rows = await queries.history(store, follower="f1")
    assert _trade_columns(rows) == [
        (0.0, 0.0, 0.0), pytest.approx((2.0, 1.8, -0.2)), pytest.approx((3.0, 2.7, -0.3)),
        pytest.approx((2.5, 2.1, -0.4))]
    # A window counts from its start.
    window = await queries.history(store, follower="f1", since=T0 + timedelta(minutes=30))
    assert _trade_columns(window) == [
        (0.0, 0.0, 0.0), pytest.approx((1.0, 0.9, -0.1)), pytest.approx((0.5, 0.3, -0.2))]
    hourly = await queries.history(store, master="m1", bucket="1h")
    assert [(r["master_trade_roi"], r["follower_trade_roi"]) for r in hourly] == [
        pytest.approx((1.0, 2.0)), pytest.approx((2.75, 2.3))]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_history_command_shows_trade_roi(store: SqlStore, database_url: str,
                                               tmp_path: Path) -> None:
    await trade_data(store)
    env = subprocess_env(COPYTRADER_DATABASE_URL=database_url)
    code, out, err = await run_cli("history", "--follower", "f1", "--json", env=env)
    assert code == 0, err
    rows = json.loads(out)["history"]
    assert [round(r["trade_tracking_error"], 6) for r in rows] == [0.0, -0.2, -0.3, -0.4]
    code, out, err = await run_cli("history", "--master", "m1", "--csv", env=env)
    assert code == 0, err
    header, first, second = out.splitlines()[:3]
    assert header.endswith(",master_trade_roi,follower_trade_roi,trade_tracking_error")
    assert first.endswith(",0,,") and second.endswith(",2,2,0")
    code, out, err = await run_cli("history", "--master", "m1", "--wide", env=env)
    assert code == 0, err
    assert "trade" in out and "-0.55%" in out, out
    code, out, err = await run_cli("history", "--master", "m2", "--wide", env=env)
    assert code == 0, err
    assert "trade" not in out, out  # no recorded trade: no trade columns


def test_trade_columns_follow_the_platform_columns() -> None:
    assert queries.HISTORY_COLUMNS[-3:] == (
        "master_trade_roi", "follower_trade_roi", "trade_tracking_error")
