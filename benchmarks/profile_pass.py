"""Profile copytrader's passes at N followers: ``python benchmarks/profile_pass.py N [TOP]``.

Builds a converged world (as ``run.py`` does), runs a daemon's first pass, then profiles
(cProfile, the copier's thread only: the simulator runs in another) a steady-state pass and
the fan-out pass after a master edit, and prints the ``TOP`` functions of each by
cumulative and by own time. The profiler's clock is the thread's CPU time, not the wall
clock: an awaiting coroutine costs nothing while it waits (with the wall clock, every
function that awaits the platform would look as slow as the latency).
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import logging
import pstats
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import structlog

from benchmarks import converge, scenarios
from benchmarks import world as world_mod
from benchmarks.simthread import SimThread
from copytrader.reconcile import wiring


def _print(title: str, prof: cProfile.Profile, seconds: float, top: int) -> None:
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    print(f"===== {title}: {seconds:.2f} s wall (times below: CPU of the loop's thread) =====")
    print(out.getvalue())


async def main(n: int, top: int) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
                        logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    w = world_mod.build(n, latency=0.02)
    rows = converge.apply_first_pass(w)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        world_mod.write_policies(w, folder / "policies")
        with SimThread(w.state) as sim:
            cfg = scenarios.settings(sim.url, folder / "policies", folder / "ct.db",
                                     scenarios.NO_LIMIT, 8)
            async with wiring.open_writer(cfg, daemon=True) as svc:
                await converge.store_links(svc.store, rows)
                await svc.reconciler.run_pass()
                for title in ("steady-state pass", "fan-out pass"):
                    if title.startswith("fan-out"):
                        scenarios.edit_masters(sim, w, 2.5)
                    prof = cProfile.Profile(time.thread_time)
                    t0 = time.perf_counter()
                    prof.enable()
                    await svc.reconciler.run_pass()
                    prof.disable()
                    _print(f"{title}, {n} followers", prof, time.perf_counter() - t0, top)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 30))
