"""Time the dashboard's pages and JSON on a SQLite database holding 90 days of snapshots.

    python benchmarks/dashboard.py [--followers 10000] [--small 10] [--days 90]
        [--interval-minutes 60] [--repeat 21] [--db PATH] [--keep]

One database holds two masters with the same history: a big one with ``--followers``
followers and a small one with ``--small`` (the baseline of the same run), a pass every
``--interval-minutes`` for ``--days`` days (the default is 2,160 passes, 21.6 million snapshot
rows), the audit trail of those followers (clones, starts, one fan-out edit a week) and each
master's recorded settings. The fill writes rows with the stdlib sqlite3 module straight into
the migrated schema and, like a real install, runs no ANALYZE (the planner has no statistics).

Then the dashboard is served exactly as ``copytrader web`` serves it (the daemon's listener
with the dashboard mounted, in this process) and each URL is fetched ``--repeat`` times over
loopback; a figure is the median wall time of the whole request (server-side render included,
nothing cached between requests but SQLite's own page cache). The line that matters is
``master page, 10,000 followers`` against ``master page, 10 followers``, and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from copytrader.core.model import Script, SettingSpec, SettingType
from copytrader.daemon.http import HttpEndpoint
from copytrader.store import engine, states
from copytrader.web.dashboard import Dashboard

# The history ends now (to the hour): the pages' ranges count back from the present.
END = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
BIG, SMALL = "master-big-00000000000000000000000", "master-small-000000000000000000000"
SCRIPT = Script("spot_grid", "Spot Grid Bot", tuple(
    SettingSpec(k, t, d, e) for k, t, d, e in (
        ("symbol", SettingType.STRING, "", False),
        ("investmentAmount", SettingType.NUMBER, 100, False),
        ("stopValue", SettingType.NUMBER, 0, True),
        ("stopExit", SettingType.BOOLEAN, False, True),
    )))


def _ts(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S.%f")  # how SQLAlchemy keeps a DATETIME in SQLite


def followers_of(master: str, n: int) -> list[str]:
    return [f"{master[7:10]}-user-{i:05d}" for i in range(n)]


def snapshot_rows(args: argparse.Namespace, passes: int) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(1)
    start = END - timedelta(minutes=args.interval_minutes * passes)
    masters = ((BIG, followers_of(BIG, args.followers)),
               (SMALL, followers_of(SMALL, args.small)))
    for p in range(passes):
        ts = _ts(start + timedelta(minutes=args.interval_minutes * p))
        run = f"run-{p:07d}"
        for master, people in masters:
            roi = 0.002 * p
            yield (run, ts, master, None, master, "running", roi, 1.0, len(people), 1, 0, 0, 0)
            for i, f in enumerate(people):
                in_sync = rng.random() > 0.01
                yield (run, ts, master, f, f"bot-{f}", "running", roi - rng.random(), 1.0, 0,
                       int(in_sync), int(not in_sync), 0, int(i % 40 == 0))


def event_rows(args: argparse.Namespace) -> Iterator[tuple[Any, ...]]:
    start = END - timedelta(days=args.days)
    for master, n in ((BIG, args.followers), (SMALL, args.small)):
        people = followers_of(master, n)
        moments = [("clone", start), ("start", start + timedelta(seconds=1))]
        moments += [("edit", start + timedelta(days=d, hours=1))
                    for d in range(7, int(args.days), 7)]
        for action, at in moments:
            for i, f in enumerate(people):
                changes = '{"stopValue": [3500, 3600]}' if action == "edit" else "{}"
                yield (_ts(at + timedelta(milliseconds=i)), "run", action, master, f,
                       f"bot-{f}", changes, "ok", None, "policies/x.yaml", "ab" * 32, "{}",
                       None)


def fill(path: Path, args: argparse.Namespace, passes: int) -> tuple[int, int, float]:
    started = time.perf_counter()
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=OFF")  # a bulk load into a fresh file: no WAL of it
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-1000000")
    index_sql = [row[0] for row in db.execute(
        "SELECT sql FROM sqlite_master WHERE type='index' AND tbl_name IN "
        "('snapshots', 'audit_events') AND sql IS NOT NULL")]
    with db:  # bulk load without the indexes, then build exactly the migrated ones
        for sql in index_sql:
            db.execute("DROP INDEX " + sql.split()[2 if "UNIQUE" not in sql else 3])
        db.executemany(
            "INSERT INTO snapshots (run_id, ts, master, follower, bot_id, status, roi, profit,"
            " followers, in_sync, drifted, failed, paused) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            snapshot_rows(args, passes))
        db.executemany(
            "INSERT INTO audit_events (ts, run_id, action, master, follower, bot, changes,"
            " outcome, error, policy_file, policy_sha256, layers, detail)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", event_rows(args))
        for sql in index_sql:
            db.execute(sql)
        for master in (BIG, SMALL):
            db.execute(
                "INSERT INTO master_states (master, name, bot_type, status, settings, script, "
                "seen_at) VALUES (?, 'Spot Grid Bot · ETH', 'spot_grid', 'running', ?, ?, ?)",
                (master, json.dumps({"symbol": "BINANCE_ETH_USDT_", "investmentAmount": 1000,
                                     "stopValue": 3500, "stopExit": False}),
                 json.dumps(states.script_json(SCRIPT)), _ts(END)))
    snaps = db.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0]
    events = db.execute("SELECT COUNT(*) FROM audit_events").fetchone()[0]
    db.execute("PRAGMA journal_mode=WAL")  # as copytrader runs it
    db.close()
    return snaps, events, time.perf_counter() - started


async def timed(session: aiohttp.ClientSession, base: str, name: str, path: str,
                repeat: int, results: dict[str, float], expect: str | None = None) -> None:
    times, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        async with session.get(base + path) as resp:
            body = await resp.read()
            assert resp.status == 200, (path, resp.status, body[:300])
        times.append(time.perf_counter() - started)
        size = len(body)
        if expect is not None:
            assert expect.encode() in body, (path, expect)
    results[name] = statistics.median(times)
    print(f"{name:<52} {results[name] * 1000:8.1f} ms median  (best "
          f"{min(times) * 1000:6.1f}, {size / 1024:7.1f} KiB)", flush=True)


async def measure(url: str, folder: Path, args: argparse.Namespace) -> dict[str, float]:
    store = await engine.open_store(url)
    board = Dashboard(store, folder)

    async def health() -> tuple[bool, dict[str, Any]]:
        return True, {}

    endpoint = HttpEndpoint("127.0.0.1", 0, None, health=health, dashboard=board)
    await endpoint.start()
    r: dict[str, float] = {}
    n, rep = args.followers, args.repeat
    try:
        async with aiohttp.ClientSession() as s:
            base = endpoint.url
            row = f"{BIG[7:10]}-user-00000"
            await timed(s, base, "warm-up (overview)", "/", 3, {})
            await timed(s, base, f"master page, {args.small} followers", f"/masters/{SMALL}",
                        rep, r, "Followers")
            await timed(s, base, f"master page, {n:,} followers", f"/masters/{BIG}", rep, r,
                        row)
            await timed(s, base, f"master page, {n:,}, sorted by ROI desc",
                        f"/masters/{BIG}?sort=roi&dir=desc", rep, r)
            await timed(s, base, f"master page, {n:,}, sorted by tracking gap",
                        f"/masters/{BIG}?sort=gap", rep, r)
            await timed(s, base, f"master page, {n:,}, sorted by last write",
                        f"/masters/{BIG}?sort=last_write&dir=desc", rep, r)
            await timed(s, base, f"master page, {n:,}, page 400 of 400",
                        f"/masters/{BIG}?page={max(1, n // 25)}", rep, r)
            await timed(s, base, "masters overview", "/", rep, r, "Spot Grid Bot")
            page = f"/api/masters/{BIG}/clones?limit=100"
            await timed(s, base, f"JSON clones, {n:,} followers, 100 a page", page, rep, r,
                        '"next"')
            await timed(s, base, f"JSON clones, {n:,} followers, 500 a page (the most)",
                        f"/api/masters/{BIG}/clones?limit=500", rep, r)
            following = "&".join(f"follower={f}" for f in followers_of(BIG, 20))
            for span in ("1d", "90d"):
                await timed(s, base, f"JSON ROI series {span}, master + 20 followers",
                            f"/api/masters/{BIG}/series?range={span}&{following}", rep, r)
            await timed(s, base, "audit page, newest 50", "/audit", rep, r)
            await timed(s, base, "audit page, one follower",
                        f"/audit?follower={row}", rep, r)
            async with s.get(base + f"/api/masters/{BIG}/clones?limit=100000") as resp:
                refused = resp.status
            async with s.get(base + page) as resp:
                doc = await resp.json()
            print(f"JSON stays paginated: total {doc['total']:,}, {len(doc['items'])} items in a "
                  f"page, next {doc['next']}; limit=100000 answers {refused}", flush=True)
    finally:
        await endpoint.stop()
        await store.close()
    return r


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--followers", type=int, default=10_000)
    p.add_argument("--small", type=int, default=10)
    p.add_argument("--days", type=float, default=90)
    p.add_argument("--interval-minutes", type=float, default=60)
    p.add_argument("--repeat", type=int, default=21)
    p.add_argument("--db", type=Path, help="database file (default: a temporary one)")
    p.add_argument("--keep", action="store_true", help="keep the temporary database")
    args = p.parse_args(argv)

    tmp = None if args.db else tempfile.TemporaryDirectory(prefix="ct-dash-")
    path = args.db or Path(tmp.name) / "dash.db"  # type: ignore[union-attr]
    fresh = not path.exists()
    url = f"sqlite:///{path}"
    passes = int(args.days * 24 * 60 / args.interval_minutes)
    if fresh:
        print(f"filling {path}: {args.days:g} days, a pass every {args.interval_minutes:g} min "
              f"({passes:,} passes) x ({args.followers:,} + {args.small}) followers", flush=True)
        asyncio.run(_migrate(url))
        snaps, events, took = fill(path, args, passes)
        print(f"filled {snaps:,} snapshots and {events:,} audit events in {took:.0f} s "
              f"({path.stat().st_size / 1e6:,.0f} MB), no ANALYZE", flush=True)
    else:
        print(f"reusing {path}", flush=True)
    results = asyncio.run(measure(url, path.parent, args))
    big = results[f"master page, {args.followers:,} followers"]
    small = results[f"master page, {args.small} followers"]
    verdict = "well under" if big < 0.1 else ("under" if big < 0.3 else "NOT under")
    print(f"summary: master page {args.followers:,} followers {big * 1000:.1f} ms vs "
          f"{args.small} followers {small * 1000:.1f} ms: ratio {big / small:.2f}x; "
          f"{verdict} 300 ms (median of {args.repeat})")
    if tmp is not None and not args.keep:
        tmp.cleanup()
    elif tmp is not None:
        print(f"kept {path}")
    return 0


async def _migrate(url: str) -> None:
    store = await engine.open_store(url)
    await store.close()


if __name__ == "__main__":
    sys.exit(main())
