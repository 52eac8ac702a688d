"""Failover benchmark: ``python benchmarks/failover.py [--postgres URL] [--rounds 5]``.

Two ``copytrader run`` replicas over one PostgreSQL database and the simulator (demo world).
Each round kills the leader with SIGKILL, edits a policy at once, and times how long until the
simulator receives the first write from the other replica: the failover time, reported against
the contract's bound of 2 x ``COPYTRADER_LEASE_SECONDS`` (a ratio below 1 is within it), at a
lease of 5 s and of 15 s. Then the database round trips per minute the lease costs a leader
(renewals) and a standby (looking for a free lease), counted by ``WriterLease`` itself over
a measured span.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from sqlalchemy import make_url

from benchmarks.simthread import SimThread
from copytrader.reconcile.leadership import Leadership
from copytrader.sim.haas.seed import seed_demo
from copytrader.sim.haas.state import SimState
from copytrader.store import engine
from copytrader.store.lease import WriterLease

ROOT = Path(__file__).resolve().parent.parent
KEY = "failover-bench-key"


def _plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(_plain(url), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _replica(env: dict[str, str], folder: Path) -> subprocess.Popen[bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    env = {**env, "COPYTRADER_HTTP_LISTEN": f"127.0.0.1:{_port()}",
           "COPYTRADER_LOG_FILE": str(folder / "daemon.log")}
    return subprocess.Popen([sys.executable, "-m", "copytrader.cli.main", "run"], env=env,
                            cwd=folder, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _writer_pid(stamp: str | None) -> int | None:
    parts = (stamp or "").split("#", 1)[0].split(":")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def _wait(check, what: str, within: float) -> float:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return time.monotonic()
        time.sleep(0.02)
    raise SystemExit(f"failover benchmark: timed out waiting for {what}")


def failover_times(url: str, lease: int, rounds: int, tmp: Path) -> list[float]:
    state = SimState(api_key=KEY, seed=3)
    seed_demo(state)
    policies = tmp / f"policies-{lease}"
    policies.mkdir()
    for path in sorted((ROOT / "policies").glob("*.yaml")):
        shutil.copy(path, policies / path.name)
    grid = policies / "eth-grid.yaml"
    good = grid.read_text(encoding="utf-8")
    times = []
    with SimThread(state) as sim:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COPYTRADER_")}
        env.update(COPYTRADER_API_URL=sim.url, COPYTRADER_API_KEY=KEY,
                   COPYTRADER_DATABASE_URL=url, COPYTRADER_POLICY_DIR=str(policies),
                   COPYTRADER_INTERVAL_SECONDS="60", COPYTRADER_LOG_FORMAT="json",
                   COPYTRADER_LEASE_SECONDS=str(lease), COPYTRADER_RATE_LIMIT_PER_MINUTE="100000",
                   PYTHONPATH=str(ROOT))
        procs = [_replica(env, tmp / f"l{lease}-a"), _replica(env, tmp / f"l{lease}-b")]

        def writers() -> list[tuple[float, int | None]]:
            return sim.run(lambda: [(r.ts, _writer_pid(r.writer)) for r in state.writes()])

        _wait(lambda: len(writers()) >= 15, "the first convergence", 60)
        time.sleep(1.0)
        for k in range(rounds):
            leader = writers()[-1][1]
            victim = next(p for p in procs if p.pid == leader)
            killed = time.monotonic()
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            stop_value = 3500 + 10 * (k + 1)
            grid.write_text(good.replace("stopValue: 3500\n", f"stopValue: {stop_value}\n"),
                            encoding="utf-8")
            def new_write(killed: float = killed, leader: int | None = leader) -> bool:
                return any(t > killed and p not in (None, leader) for t, p in writers())

            first = _wait(new_write, "the new leader's first write", 4 * lease)
            times.append(first - killed)
            procs[procs.index(victim)] = _replica(env, tmp / f"l{lease}-r{k}")
            time.sleep(2.0)  # the new replica is up as a standby before the next kill
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(30)
    return times


async def round_trips(url: str, lease: int, span: float) -> tuple[float, float]:
    """Database round trips per minute of the lease: (leader, standby)."""
    a_store, b_store = await engine.open_store(url), await engine.open_store(url)
    a, b = WriterLease(a_store, lease), WriterLease(b_store, lease)
    try:
        leader, standby = Leadership(a, a_store), Leadership(b, b_store)
        assert await leader.take()
        a.round_trips = 0
        keeper = asyncio.create_task(leader.keep())

        async def stand() -> None:  # what a standby daemon does every poll
            while True:
                if await standby.take():
                    raise SystemExit("failover benchmark: the standby took a held lease")
                await standby.holder()
                await asyncio.sleep(standby.standby_poll)

        watcher = asyncio.create_task(stand())
        await asyncio.sleep(span)
        keeper.cancel()
        watcher.cancel()
        await asyncio.gather(keeper, watcher, return_exceptions=True)
        return a.round_trips * 60 / span, b.round_trips * 60 / span
    finally:
        await a.close()
        await b.close()
        await a_store.close()
        await b_store.close()


def main() -> None:
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get(
        "COPYTRADER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--leases", default="5,15")
    parser.add_argument("--span", type=float, default=30.0, help="seconds of round-trip count")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ct-failover-"))
    rows = []
    for lease in [int(x) for x in args.leases.split(",")]:
        name = f"copytrader_failover_{uuid.uuid4().hex[:10]}"
        asyncio.run(_admin(args.postgres, f'CREATE DATABASE "{name}"'))
        url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
        try:
            times = failover_times(url, lease, args.rounds, tmp)
            lead_rt, stand_rt = asyncio.run(round_trips(url, lease, args.span))
        finally:
            asyncio.run(_admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        med = statistics.median(times)
        bound = 2 * lease
        print(f"failover_median_lease{lease}: {med:.2f} s (rounds: "
              + ", ".join(f"{t:.2f}" for t in times) + ")")
        print(f"failover_max_lease{lease}: {max(times):.2f} s")
        print(f"failover_median_over_bound_lease{lease}: {med / bound:.2f} (bound {bound} s)")
        print(f"lease_round_trips_per_minute_leader_lease{lease}: {lead_rt:.1f}")
        print(f"lease_round_trips_per_minute_standby_lease{lease}: {stand_rt:.1f}")
        rows.append((lease, med, max(times), med / bound, lead_rt, stand_rt))
    print()
    print("| lease | failover median | worst | median / (2 x lease) "
          "| leader round trips/min | standby round trips/min |")
    print("|---|---|---|---|---|---|")
    for lease, med, worst, ratio, lead_rt, stand_rt in rows:
        print(f"| {lease} s | {med:.2f} s | {worst:.2f} s | {ratio:.2f} | {lead_rt:.1f} "
              f"| {stand_rt:.1f} |")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
