"""BotPrimeX benchmarks: ``python benchmarks/botprimex.py [--quick]``.

Against the BotPrimeX simulator (in a thread of its own, 20 ms per request), and in the same
run against a naive copier, measures:

1. steady state: the requests of a pass over a converged platform, with A follower accounts
   each following m masters. copytrader reads one ``GET /bots`` page per account (100 bots a
   page) and nothing else; the naive copier reads the masters' page, then each clone
   (``GET /bots/:id``) with its account's key;
2. fan-out of one master edit over A follower accounts, one of them slow (every answer to its
   key takes ``--slow`` seconds): copytrader's time from the edit until every clone carries
   it, against the **per-account bound** (accounts run in parallel, each under its own key,
   so the bound is the slowest account's own requests: its ``GET /bots`` page with the
   master account's, then its one ``PATCH``) and against the **sum** of every account's
   requests (a copier that serves one account after another); and when every account but
   the slow one was done.

Prints one ``name: value unit`` line per figure, then the summary (Markdown tables).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import structlog

from benchmarks.report import Report, note, table
from benchmarks.simthread import SimThread
from copytrader.reconcile import wiring
from copytrader.settings import PlatformSettings, Secret, Settings
from copytrader.sim.botprimex.server import BpxServer
from copytrader.sim.botprimex.state import BpxState

MASTER_KEY = "bench-master-key"
PLANS = ("standard", "pro", "enterprise")
MASTERS = (
    ("bot_00000000000000b1", "BTC/USDT", "dca"),
    ("bot_00000000000000e1", "ETH/USDT", "grid"),
    ("bot_00000000000000a1", "ADA/USDT", "signal"),
)
FANOUT_KEY = "max_open_trades"


def key(name: str) -> str:
    return f"bench-{name}-key"


def names(accounts: int) -> list[str]:
    return [f"a{i:04d}" for i in range(accounts)]


def build(accounts: int, *, latency: float) -> BpxState:
    """The master account with three running masters, and ``accounts`` follower accounts
    (plans in turn) with Binance connected."""
    state = BpxState(seed=1, latency=latency, trade_seconds=3600)
    master = state.add_account("master", MASTER_KEY, plan="enterprise")
    for i, name in enumerate(names(accounts)):
        state.add_account(name, key(name), plan=PLANS[i % len(PLANS)])
    for bot_id, pair, strategy in MASTERS:
        fields = {
            "name": f"{pair} {strategy}",
            "exchange": "binance",
            "pair": pair,
            "strategy": strategy,
            "stake_amount": 100,
            "max_open_trades": 3,
            "stop_loss": -10,
            "dry_run": False,
        }
        state.create_bot(master, fields, bot_id=bot_id, status="running")
    return state


def write_policies(folder: Path, accounts: int, masters: int) -> None:
    """One policy per master; every account follows the first ``masters`` of them."""
    folder.mkdir(parents=True, exist_ok=True)
    for bot_id, pair, _ in MASTERS[:masters]:
        lines = [f"master: {bot_id}", "defaults:", "  scale: {stake_amount: 0.5}", "followers:"]
        lines += [f"  - user: {name}" for name in names(accounts)]
        (folder / f"{pair.replace('/', '-')}.yaml").write_text("\n".join(lines) + "\n")


def settings(url: str, folder: Path, accounts: int) -> Settings:
    return Settings(
        platform=PlatformSettings(
            api_url=url,
            api_key=Secret(MASTER_KEY),
            kind="botprimex",
            accounts={n: Secret(key(n)) for n in names(accounts)},
            rate_limit_per_minute=100_000,
            concurrency=8,
            timeout_seconds=30.0,
        ),
        database_url=f"sqlite:///{folder / 'ct.db'}",
        policy_dir=folder / "policies",
    )


@dataclass
class Pass:
    requests: int
    writes: int
    seconds: float


async def converge(svc: wiring.Service, sim: SimThread) -> Pass:
    """Passes until one converges (the first clones everything; on a loaded machine a pass
    may lose its writer lease midway and leave the rest to the next); the first one's
    figures."""
    first = await copytrader_pass(svc, sim, check=False)
    for _ in range(4):
        result = svc.reconciler.last_result
        if result is not None and result.converged:
            return first
        await copytrader_pass(svc, sim, check=False)
    raise AssertionError("not converged after five passes")


async def copytrader_pass(svc: wiring.Service, sim: SimThread, *, check: bool = True) -> Pass:
    mark = sim.run(lambda: len(sim.state.requests))
    started = time.perf_counter()
    result = await svc.reconciler.run_pass()
    seconds = time.perf_counter() - started
    if check:
        assert result.state == "ok", f"{result.state}: {result.error}"
    sent = sim.run(lambda: sim.state.requests[mark:])
    writes = sum(1 for r in sent if r.method != "GET")
    return Pass(len(sent), writes, seconds)


async def naive_steady_pass(url: str, state: BpxState, accounts: int, masters: int) -> Pass:
    """The naive copier: the masters' page, then every clone, 8 requests in flight."""
    clones = [(b.account, b.bot_id) for b in state.bots.values() if b.account != "master"]
    assert len(clones) == accounts * masters
    slots = asyncio.Semaphore(8)
    sent = 0

    async def get(session: aiohttp.ClientSession, path: str, account_key: str) -> Any:
        nonlocal sent
        async with slots:
            sent += 1
            async with session.get(
                url + path, headers={"Authorization": f"Bearer {account_key}"}
            ) as r:
                assert r.status == 200, r.status
                return await r.json()

    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        page = await get(session, "/bots", MASTER_KEY)
        wanted = {b["id"]: b for b in page["data"]}
        found = await asyncio.gather(
            *(get(session, f"/bots/{bot}", key(acc)) for acc, bot in clones)
        )
    # (compared with the master; converged, so nothing to write)
    assert all(
        f["max_open_trades"] == next(iter(wanted.values()))["max_open_trades"] for f in found
    )
    return Pass(sent, 0, time.perf_counter() - started)


async def steady(r: Report, accounts: int, masters: int, tmp: Path, latency: float) -> None:
    folder = tmp / f"steady-{accounts}-{masters}"
    write_policies(folder / "policies", accounts, masters)
    state = build(accounts, latency=latency)
    with SimThread(state, BpxServer(state, tick=3600)) as sim:
        async with wiring.open_writer(settings(sim.url, folder, accounts)) as svc:
            first = await converge(svc, sim)
            ct = await copytrader_pass(svc, sim)
        nv = await naive_steady_pass(sim.url, state, accounts, masters)
    tag = f"a{accounts}_m{masters}"
    r.add(f"bpx_first_pass_requests_copytrader_{tag}", first.requests, "requests")
    r.add(f"bpx_steady_requests_copytrader_{tag}", ct.requests, "requests")
    r.add(f"bpx_steady_writes_copytrader_{tag}", ct.writes, "requests")
    r.add(f"bpx_steady_seconds_copytrader_{tag}", ct.seconds, "s")
    r.add(f"bpx_steady_requests_naive_{tag}", nv.requests, "requests")
    r.add(f"bpx_steady_seconds_naive_{tag}", nv.seconds, "s")
    r.add(f"bpx_steady_request_ratio_{tag}", nv.requests / ct.requests, "x")


async def fanout(r: Report, accounts: int, tmp: Path, latency: float, slow: float) -> None:
    folder = tmp / f"fanout-{accounts}"
    write_policies(folder / "policies", accounts, 1)
    state = build(accounts, latency=latency)
    slow_one = names(accounts)[-1]
    with SimThread(state, BpxServer(state, tick=3600)) as sim:
        async with wiring.open_writer(settings(sim.url, folder, accounts)) as svc:
            await converge(svc, sim)  # clones everything
            await copytrader_pass(svc, sim)  # converged: nothing to do
            sim.run(lambda: setattr(state.accounts[slow_one], "latency", slow))
            master = MASTERS[0][0]
            sim.run(lambda: state.edit_out_of_band(master, {FANOUT_KEY: 7}))
            mark = sim.run(lambda: len(state.requests))
            t0, cpu0 = time.monotonic(), time.process_time()
            result = await svc.reconciler.run_pass()
            seconds, cpu = time.monotonic() - t0, time.process_time() - cpu0
        assert result.state == "ok", f"{result.state}: {result.error}"
        sent = sim.run(lambda: state.requests[mark:])
        converged = sim.run(
            lambda: all(
                b.max_open_trades == 7 for b in state.bots.values() if b.account != "master"
            )
        )
    patches = {q.account: q for q in sent if q.method == "PATCH"}
    assert set(patches) == set(names(accounts)) and converged

    def done(account: str) -> float:
        extra = slow if account == slow_one else 0.0
        return patches[account].ts + latency + extra - t0

    own = {a: latency + (slow if a == slow_one else 0.0) for a in names(accounts)}
    per_account = {a: max(latency, t) + t for a, t in own.items()}  # (page ∥ master), edit
    bound = max(per_account.values())
    total = latency + sum(2 * t for t in own.values())
    others = max(done(a) for a in names(accounts) if a != slow_one)
    tag = f"a{accounts}"
    r.add(f"bpx_fanout_seconds_copytrader_{tag}", seconds, "s")
    # The process's CPU time over the pass: copytrader and the simulator's thread together.
    # Near the wall time, the pass is bound by the CPU, not by any account's requests.
    r.add(f"bpx_fanout_cpu_seconds_{tag}", cpu, "s")
    r.add(f"bpx_fanout_bound_seconds_{tag}", bound, "s")
    r.add(f"bpx_fanout_bound_ratio_copytrader_{tag}", seconds / bound, "x")
    r.add(f"bpx_fanout_sum_seconds_{tag}", total, "s")
    r.add(f"bpx_fanout_sum_ratio_{tag}", total / seconds, "x")
    r.add(f"bpx_fanout_others_done_seconds_{tag}", others, "s")
    r.add(f"bpx_fanout_slow_done_seconds_{tag}", done(slow_one), "s")
    r.add(f"bpx_fanout_requests_copytrader_{tag}", len(sent), "requests")
    r.add(f"bpx_fanout_converged_copytrader_{tag}", int(converged), "bool")


def summary(r: Report, steady_sizes: list[tuple[int, int]], fan_sizes: list[int]) -> str:
    g = r.get
    rows = []
    for a, m in steady_sizes:
        t = f"a{a}_m{m}"
        rows.append(
            [
                f"{a:,}",
                str(m),
                f"{a * m:,}",
                f"{int(g(f'bpx_steady_requests_copytrader_{t}') or 0):,}",
                f"{g(f'bpx_steady_seconds_copytrader_{t}') or 0:.2f}",
                f"{int(g(f'bpx_steady_requests_naive_{t}') or 0):,}",
                f"{g(f'bpx_steady_seconds_naive_{t}') or 0:.2f}",
                f"**{g(f'bpx_steady_request_ratio_{t}') or 0:.2f}x**",
            ]
        )
    steady_table = table(
        [
            "accounts",
            "masters each",
            "clones",
            "copytrader requests",
            "pass s",
            "naive requests",
            "naive pass s",
            "naive / copytrader requests",
        ],
        rows,
    )
    rows = []
    for a in fan_sizes:
        t = f"a{a}"
        rows.append(
            [
                f"{a:,}",
                f"{g(f'bpx_fanout_seconds_copytrader_{t}') or 0:.2f}",
                f"{g(f'bpx_fanout_bound_seconds_{t}') or 0:.2f}",
                f"**{g(f'bpx_fanout_bound_ratio_copytrader_{t}') or 0:.2f}**",
                f"{g(f'bpx_fanout_cpu_seconds_{t}') or 0:.2f}",
                f"{g(f'bpx_fanout_others_done_seconds_{t}') or 0:.2f}",
                f"{g(f'bpx_fanout_sum_seconds_{t}') or 0:.2f}",
                f"**{g(f'bpx_fanout_sum_ratio_{t}') or 0:.1f}x**",
            ]
        )
    fan_table = table(
        [
            "accounts",
            "copytrader s",
            "per-account bound s",
            "copytrader / bound",
            "process CPU s (copytrader + simulator)",
            "all but the slow account done s",
            "sum of accounts s",
            "sum / copytrader",
        ],
        rows,
    )
    return "\n".join(
        [
            "",
            "### Steady state (BotPrimeX)",
            "",
            steady_table,
            "",
            "### Fan-out of one master edit (BotPrimeX)",
            "",
            fan_table,
        ]
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes for CI (under a minute)")
    p.add_argument("--latency", type=float, default=0.02, help="seconds per request")
    p.add_argument(
        "--slow",
        type=float,
        default=0.4,
        help="extra seconds per request of the slow account (fan-out)",
    )
    return p.parse_args(argv)


async def main(argv: list[str]) -> int:
    args = parse_args(argv)
    logging.disable(logging.CRITICAL)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    steady_sizes = (
        [(10, 1), (10, 3)]
        if args.quick
        else [(10, 1), (10, 3), (100, 1), (100, 3), (500, 1), (500, 3)]
    )
    fan_sizes = [10, 40] if args.quick else [20, 100, 500]
    r = Report()
    with tempfile.TemporaryDirectory() as tmp:
        for accounts, masters in steady_sizes:
            note(f"steady state, {accounts} accounts following {masters} master(s)")
            await steady(r, accounts, masters, Path(tmp), args.latency)
        for accounts in fan_sizes:
            note(f"fan-out over {accounts} accounts, one slow")
            await fanout(r, accounts, Path(tmp), args.latency, args.slow)
    print(summary(r, steady_sizes, fan_sizes))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
