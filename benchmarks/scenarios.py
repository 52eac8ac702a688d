"""The measured scenarios: steady state and fan-out, for copytrader and the naive copier.

Each scenario builds a fresh world (same seed: identical ids for both copiers), runs the
simulator in a background thread with the given latency and rate limit, and returns plain
figures. Requests are counted on the simulator's side (its request log), so both copiers are
counted the same way.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import bound, converge, naive
from benchmarks import world as world_mod
from benchmarks.simthread import SimThread
from copytrader.reconcile import wiring
from copytrader.settings import PlatformSettings, Secret, Settings
from copytrader.sim.haas.state import WRITE_PATHS, RequestRecord

#: A rate limit nobody reaches: "the limit off".
NO_LIMIT = 10**9
PAGE = 10_000


@dataclass
class Figures:
    """One pass (or one fan-out) as measured."""

    requests: int
    writes: int
    seconds: float
    cpu: float = 0.0  # CPU seconds of the copier's thread (the simulator runs in another)
    by_path: dict[str, int] = field(default_factory=dict)
    last_write: float = 0.0  # seconds from the start until the last write was applied
    first_write: float = 0.0  # seconds from the start until the first write arrived
    process_cpu: float = 0.0  # CPU seconds of the process but the simulator's thread
    bound: float = 0.0  # the ideal client's seconds (fan-out)
    needed: int = 0  # requests an ideal client sends (fan-out)
    converged: bool = True


def settings(url: str, folder: Path, db: Path, rate: int, concurrency: int) -> Settings:
    """copytrader's settings for a benchmark run."""
    return Settings(
        platform=PlatformSettings(api_url=url, api_key=Secret(world_mod.KEY),
                                  rate_limit_per_minute=rate, concurrency=concurrency,
                                  timeout_seconds=120.0),
        database_url=f"sqlite:///{db}",
        policy_dir=folder,
    )


def _count(records: list[RequestRecord]) -> tuple[int, int, dict[str, int]]:
    by_path: dict[str, int] = {}
    for r in records:
        by_path[r.path] = by_path.get(r.path, 0) + 1
    writes = sum(n for p, n in by_path.items() if p in WRITE_PATHS)
    return len(records), writes, by_path


def _since(sim: SimThread, start: int) -> list[RequestRecord]:
    return sim.run(lambda: list(sim.state.requests[start:]))


def sweep_pages(w: world_mod.World) -> int:
    """Pages of /bots/list a sweep of ``w`` reads (every clone plus the masters)."""
    return max(1, math.ceil((w.followers + len(w.groups)) / PAGE))


async def copytrader_pass(svc: wiring.Service, sim: SimThread) -> Figures:
    """One copytrader pass, measured."""
    start = sim.run(lambda: len(sim.state.requests))
    s0, p0 = sim.cpu(), time.process_time()
    t0, c0 = time.perf_counter(), time.thread_time()
    result = await svc.reconciler.run_pass()
    seconds, cpu = time.perf_counter() - t0, time.thread_time() - c0
    # The process's CPU but the simulator's thread: copytrader's own threads (the event
    # loop's and the SQLite driver's) only.
    process_cpu = time.process_time() - p0 - (sim.cpu() - s0)
    records = _since(sim, start)
    n, writes, by_path = _count(records)
    edits = [r.ts for r in records if r.path in WRITE_PATHS]
    last = (max(edits) + sim.state.latency - records[0].ts) if edits and records else 0.0
    first = (min(edits) - records[0].ts) if edits and records else 0.0
    return Figures(n, writes, seconds, cpu, by_path, last, first, process_cpu,
                   converged=result.converged)


def clones_have(sim: SimThread, key: str, value: object, exclude: set[str]) -> bool:
    """True when every bot but ``exclude`` (the masters) has ``key`` equal to ``value``."""
    def check() -> bool:
        state = sim.state
        return all(b["settings"].get(key) == value
                   for b in state.bots_json(state.bot_ids()) if b["botId"] not in exclude)
    return sim.run(check)


async def copytrader_steady(n: int, tmp: Path, *, latency: float, rate: int,
                            concurrency: int) -> tuple[Figures, Figures]:
    """(first pass of a fresh daemon over a converged platform, the pass after it)."""
    w = world_mod.build(n, latency=latency)
    rows = converge.apply_first_pass(w)
    folder = tmp / f"steady-{n}"
    world_mod.write_policies(w, folder / "policies")
    w.state.rate_limit_per_minute = rate
    with SimThread(w.state) as sim:
        cfg = settings(sim.url, folder / "policies", folder / "ct.db", rate, concurrency)
        async with wiring.open_writer(cfg, daemon=True) as svc:
            await converge.store_links(svc.store, rows)
            warm = await copytrader_pass(svc, sim)
            steady = await copytrader_pass(svc, sim)
    return warm, steady


async def naive_pass(copier: naive.NaiveCopier, w: world_mod.World, sim: SimThread) -> Figures:
    """One naive pass, measured."""
    start = sim.run(lambda: len(sim.state.requests))
    t0, c0 = time.perf_counter(), time.thread_time()
    await copier.sync(w)
    seconds, cpu = time.perf_counter() - t0, time.thread_time() - c0
    records = _since(sim, start)
    n, writes, by_path = _count(records)
    edits = [r.ts for r in records if r.path in WRITE_PATHS]
    last = (max(edits) + w.state.latency - records[0].ts) if edits and records else 0.0
    return Figures(n, writes, seconds, cpu, by_path, last)


async def naive_steady(n: int, *, latency: float, concurrency: int) -> Figures:
    """A naive pass over a converged platform, with the rate limit off (see module doc)."""
    w = world_mod.build(n, latency=latency)
    clones = naive.seed_converged(w)
    with SimThread(w.state) as sim:
        async with naive.NaiveCopier(sim.url, world_mod.KEY, rate=None,
                                     concurrency=concurrency) as copier:
            copier.clones = clones
            return await naive_pass(copier, w, sim)


def edit_masters(sim: SimThread, w: world_mod.World, value: float) -> None:
    """Every master's fan-out key set to ``value``, as its owner would in the platform's UI."""
    def edit() -> None:
        for g in w.groups:
            sim.state.edit_out_of_band(g.master, {world_mod.FANOUT_KEY: value})
    sim.run(edit)


def _prior(sim: SimThread, start: int, t0: float) -> list[float]:
    return [r.ts - t0 for r in _since(sim, start) if r.ts > t0 - 60.0]


PolicyWriter = Callable[[world_mod.World, Path], object]


async def copytrader_fanout(n: int, tmp: Path, *, latency: float, rate: int,
                            concurrency: int, edits: int | None = None,
                            policies: PolicyWriter = world_mod.write_policies,
                            ) -> tuple[Figures, Figures]:
    """(the first pass, cloning everything with the limit off; the fan-out of a master edit
    under ``rate``, with its lower bound). ``edits``: the edits the fan-out needs (default
    one per follower); ``policies`` writes the policy files."""
    w = world_mod.build(n, latency=latency)
    folder = tmp / f"fanout-{n}-{policies.__name__}"
    policies(w, folder / "policies")
    db = folder / "ct.db"
    with SimThread(w.state) as sim:
        async with wiring.open_writer(
            settings(sim.url, folder / "policies", db, NO_LIMIT, concurrency), daemon=True
        ) as svc:
            first = await copytrader_pass(svc, sim)
        sim.run(lambda: setattr(sim.state, "rate_limit_per_minute", rate))
        async with wiring.open_writer(
            settings(sim.url, folder / "policies", db, rate, concurrency), daemon=True
        ) as svc:
            mark = sim.run(lambda: len(sim.state.requests))
            warm = await copytrader_pass(svc, sim)
            assert warm.writes == 0, f"a converged platform got {warm.writes} writes"
            edit_masters(sim, w, 2.5)
            t0 = time.monotonic()
            prior = _prior(sim, mark, t0)
            fan = await copytrader_pass(svc, sim)
            fan.converged = fan.converged and clones_have(
                sim, world_mod.FANOUT_KEY, 2.5, {g.master for g in w.groups})
    writes = n if edits is None else edits
    fan.needed = sweep_pages(w) + writes
    fan.bound = bound.ideal_seconds(sweep_pages(w), writes, rate=rate, concurrency=concurrency,
                                    latency=latency, prior=prior)
    return first, fan


async def naive_fanout(n: int, *, latency: float, rate: int, concurrency: int) -> Figures:
    """The naive copier's pass after a master edit, under ``rate``."""
    w = world_mod.build(n, latency=latency)
    w.state.rate_limit_per_minute = rate
    clones = naive.seed_converged(w)
    with SimThread(w.state) as sim:
        async with naive.NaiveCopier(sim.url, world_mod.KEY, rate=rate,
                                     concurrency=concurrency) as copier:
            copier.clones = clones
            edit_masters(sim, w, 2.5)
            fan = await naive_pass(copier, w, sim)
            fan.converged = clones_have(sim, world_mod.FANOUT_KEY, 2.5,
                                        {g.master for g in w.groups})
    # What it needs: the master, each clone, one edit each (it has no cheaper way to know).
    fan.needed = len(w.groups) + 2 * n
    fan.bound = bound.ideal_seconds(len(w.groups), 2 * n, rate=rate, concurrency=concurrency,
                                    latency=latency)
    return fan
