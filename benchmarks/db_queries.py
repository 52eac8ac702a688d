"""Time the read-side queries on a SQLite database holding a long history.

    python benchmarks/db_queries.py [--followers 1000] [--masters 10] [--days 365]
        [--interval-minutes 60] [--events-per-day 2000] [--db PATH] [--keep]

The default is a year of hourly passes for 1,000 followers over 10 masters (about 8.8
million snapshot rows) plus a year of audit events. A pass a minute for a year would be
525 million rows; the daemon keeps per-pass snapshots only for COPYTRADER_RETENTION_DAYS,
so use e.g. ``--days 90 --interval-minutes 10`` to model that instead.

The fill writes rows with the stdlib sqlite3 module straight into the migrated schema (the
bulk load is not what is measured); the queries then go through copytrader's own
``SqlStore`` and ``queries`` exactly as the CLI calls them. One figure per line, then a
summary.
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
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from copytrader.core.model import Status
from copytrader.core.records import BotSnapshot
from copytrader.store import engine, queries
from copytrader.store.repo import SqlStore

END = datetime(2025, 6, 1, tzinfo=UTC)
ACTIONS = ["edit"] * 6 + ["drift"] * 2 + ["start", "stop", "clone", "adopt"]


def _sqlite_ts(ts: datetime) -> str:
    # SQLAlchemy's SQLite DATETIME text form; UTCDateTime stores UTC wall-clock time.
    return ts.strftime("%Y-%m-%d %H:%M:%S.%f")


def snapshot_rows(args: argparse.Namespace) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(1)
    passes = int(args.days * 24 * 60 / args.interval_minutes)
    start = END - timedelta(minutes=args.interval_minutes * passes)
    per_master = args.followers // args.masters
    for p in range(passes):
        ts = _sqlite_ts(start + timedelta(minutes=args.interval_minutes * p))
        run = f"run-{p:07d}"
        for m in range(args.masters):
            master = f"master-{m:03d}"
            master_roi = 0.0001 * p + m / 100
            yield (run, ts, master, None, f"mbot-{m}", "running", master_roi, 10.0,
                   per_master, 1, 0, 0, 0)
            for f in range(per_master):
                follower = f"user-{m * per_master + f:05d}"
                in_sync = rng.random() > 0.02
                yield (run, ts, master, follower, f"bot-{m}-{f}", "running",
                       master_roi + rng.uniform(-0.01, 0.01), 1.0, 0, int(in_sync),
                       int(not in_sync), 0, int(f % 50 == 0))


def event_rows(args: argparse.Namespace) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(2)
    total = int(args.days * args.events_per_day)
    step = timedelta(days=args.days) / max(total, 1)
    start = END - timedelta(days=args.days)
    per_master = args.followers // args.masters
    for i in range(total):
        m = rng.randrange(args.masters)
        follower = f"user-{m * per_master + rng.randrange(per_master):05d}"
        changes = json.dumps({"investmentAmount": [100.0, 50.0 + rng.random()]})
        yield (_sqlite_ts(start + step * i), f"run-{i // 20:07d}", rng.choice(ACTIONS),
               f"master-{m:03d}", follower, f"bot-{m}", changes, "ok", None,
               f"policies/master-{m:03d}.yaml", "ab" * 32, '{"investmentAmount": "scale"}',
               None)


def fill(path: Path, args: argparse.Namespace) -> tuple[int, int, float]:
    started = time.perf_counter()
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-1000000")
    # Bulk load without the snapshot indexes, then rebuild exactly the migrated ones.
    index_sql = [row[0] for row in db.execute(
        "SELECT sql FROM sqlite_master WHERE type='index' AND tbl_name='snapshots'"
        " AND sql IS NOT NULL")]
    with db:
        for sql in index_sql:
            db.execute("DROP INDEX " + sql.split()[2])
        db.executemany(
            "INSERT INTO snapshots (run_id, ts, master, follower, bot_id, status, roi, profit,"
            " followers, in_sync, drifted, failed, paused) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            snapshot_rows(args))
        db.executemany(
            "INSERT INTO audit_events (ts, run_id, action, master, follower, bot, changes,"
            " outcome, error, policy_file, policy_sha256, layers, detail)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", event_rows(args))
        for sql in index_sql:
            db.execute(sql)
    db.execute("ANALYZE")
    snaps = db.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0]
    events = db.execute("SELECT COUNT(*) FROM audit_events").fetchone()[0]
    db.close()
    return snaps, events, time.perf_counter() - started


async def timed(name: str, call: Callable[[], Awaitable[Any]], results: dict[str, float],
                repeat: int = 3) -> None:
    times, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        out = await call()
        times.append(time.perf_counter() - started)
        size = out if isinstance(out, int) else len(out.get("masters", out)
                                                     if isinstance(out, dict) else out)
    best = min(times)
    results[name] = best
    print(f"{name:<44} {best * 1000:9.1f} ms  ({size} rows)", flush=True)


async def measure(url: str, args: argparse.Namespace) -> dict[str, float]:
    store: SqlStore = await engine.open_store(url)
    r: dict[str, float] = {}
    now = END
    day = timedelta(days=1)
    try:
        await timed("status", lambda: queries.status(store), r)
        await timed("audit --limit 100", lambda: queries.audit(store, limit=100), r)
        await timed("audit --since 1d", lambda: queries.audit(store, since=now - day), r)
        await timed("audit --master M --since 7d",
                    lambda: queries.audit(store, master="master-003", since=now - 7 * day), r)
        await timed("audit --master M --limit 50",
                    lambda: queries.audit(store, master="master-003", limit=50), r)
        await timed("audit --follower U (whole history)",
                    lambda: queries.audit(store, follower="user-00042"), r)
        await timed("audit --action drift --since 7d",
                    lambda: queries.audit(store, action="drift", since=now - 7 * day), r)
        await timed("audit --action adopt --limit 100",
                    lambda: queries.audit(store, action="adopt", limit=100), r)
        await timed("audit --since 30d --until 29d",
                    lambda: queries.audit(store, since=now - 30 * day, until=now - 29 * day), r)
        await timed("history master, last 7 days per pass",
                    lambda: queries.history(store, master="master-003", since=now - 7 * day), r)
        await timed("history master, last 30 days per pass",
                    lambda: queries.history(store, master="master-003",
                                            since=now - 30 * day), r)
        await timed("history master, whole history, 1d buckets",
                    lambda: queries.history(store, master="master-003", bucket="1d"), r, 1)
        await timed("history follower, whole history per pass",
                    lambda: queries.history(store, follower="user-00042"), r)
        await timed("history follower, whole history, 1d buckets",
                    lambda: queries.history(store, follower="user-00042", bucket="1d"), r)
        oldest = END - timedelta(days=args.days)
        await timed("prune one day (the daemon's daily prune)",
                    lambda: store.prune(oldest + day), r, 1)
        one_pass = [BotSnapshot("bench", END, "master-000", f"user-{i:05d}", f"b{i}",
                                Status.RUNNING, 0.1, 1.0) for i in range(args.followers)]
        await timed(f"add_snapshots one pass ({args.followers} rows)",
                    lambda: _add(store, one_pass), r, 1)
    finally:
        await store.close()
    return r


async def _add(store: SqlStore, rows: list[BotSnapshot]) -> int:
    await store.add_snapshots(rows)
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--followers", type=int, default=1000)
    p.add_argument("--masters", type=int, default=10)
    p.add_argument("--days", type=float, default=365)
    p.add_argument("--interval-minutes", type=float, default=60)
    p.add_argument("--events-per-day", type=int, default=2000)
    p.add_argument("--db", type=Path, help="database file (default: a temporary one)")
    p.add_argument("--keep", action="store_true", help="keep the temporary database")
    args = p.parse_args(argv)

    tmp = None if args.db else tempfile.TemporaryDirectory(prefix="ct-bench-")
    path = args.db or Path(tmp.name) / "bench.db"  # type: ignore[union-attr]
    if path.exists():
        sys.exit(f"{path} exists: give a new --db path")
    url = f"sqlite:///{path}"
    passes = int(args.days * 24 * 60 / args.interval_minutes)
    print(f"filling {path}: {args.days:g} days, a pass every {args.interval_minutes:g} min "
          f"({passes} passes) x {args.followers} followers over {args.masters} masters, "
          f"{args.events_per_day} audit events a day", flush=True)
    asyncio.run(_migrate(url))
    snaps, events, took = fill(path, args)
    size_mb = path.stat().st_size / 1e6
    print(f"filled {snaps:,} snapshots and {events:,} audit events in {took:.0f} s "
          f"({size_mb:,.0f} MB)", flush=True)
    results = asyncio.run(measure(url, args))
    slowest = max(results, key=results.__getitem__)
    median = statistics.median(results.values())
    verdict = "all" if results[slowest] < 1 else "NOT all"
    print(f"summary: {len(results)} timings, median {median * 1000:.1f} ms, slowest "
          f"{slowest!r} {results[slowest] * 1000:.1f} ms; {verdict} under 1 s")
    if tmp is not None and not args.keep:
        tmp.cleanup()
    elif tmp is not None:
        print(f"kept {path}")
    return 0


async def _migrate(url: str) -> None:
    store = await engine.open_store(url)
    await store.close()


if __name__ == "__main__":
    raise SystemExit(main())
