"""Wall time of the read-only commands as a user starts them, on a database with a year of
history, against ``python -c pass`` measured in the same run.

    python benchmarks/cli_startup.py [--db PATH] [--runs 11] [--days 365] [--quick]

Each command is a fresh process of the installed ``copytrader`` console script (stdout to a
pipe, as a script would read it), run ``--runs`` times in turn with the others; the figure
is the median wall time, and the ratio is against the median of ``python -c pass``. Without
``--db`` the database is built first with ``benchmarks/db_queries.py``'s fill (a year of
hourly passes for 1,000 followers over 10 masters, 2,000 audit events a day: about 8.8
million snapshot rows, 730,000 audit events); ``--db PATH`` reuses one (``db_queries.py
--db PATH --keep`` builds it). ``--quick``: two days of history and 2 runs (CI).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import db_queries  # the fill of the year of history

GOAL = 0.5  # seconds


def console_script() -> list[str]:
    """The ``copytrader`` console script beside this interpreter (as installed), else the
    module."""
    beside = Path(sys.executable).with_name("copytrader")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("copytrader")
    return [found] if found else [sys.executable, "-m", "copytrader.cli.main"]


def build(path: Path, days: float) -> None:
    args = argparse.Namespace(
        followers=1000, masters=10, days=days, interval_minutes=60, events_per_day=2000
    )
    asyncio.run(db_queries._migrate(f"sqlite:///{path}"))
    snaps, events, took = db_queries.fill(path, args)
    print(f"built {path}: {snaps:,} snapshots, {events:,} audit events in {took:.0f} s "
          f"({path.stat().st_size / 1e6:,.0f} MB)", flush=True)


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run of ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, check=False)
    took = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return took, cpu


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", type=Path, help="an existing database (default: build one)")
    p.add_argument("--runs", type=int, default=11)
    p.add_argument("--days", type=float, default=365)
    p.add_argument("--quick", action="store_true", help="2 days of history, 2 runs")
    args = p.parse_args(argv)
    if args.quick:
        args.days, args.runs = 2, 2

    tmp = None
    if args.db is None:
        tmp = tempfile.TemporaryDirectory(prefix="ct-startup-")
        args.db = Path(tmp.name) / "year.db"
        build(args.db, args.days)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYTRADER_")}
    env.update(COPYTRADER_DATABASE_URL=f"sqlite:///{args.db}", COLUMNS="100")
    ct = console_script()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "copytrader --version": [*ct, "--version"],
        "copytrader --help": [*ct, "--help"],
        "copytrader status": [*ct, "status"],
        "copytrader audit --limit 20": [*ct, "audit", "--limit", "20"],
        "copytrader history --master M --since 7d": [
            *ct, "history", "--master", "master-003", "--since", "7d"],
    }
    timed(commands["copytrader status"], env)  # a first run: migrations, OS file cache
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():  # interleaved: load affects all alike
            wall, cpu = timed(command, env)
            times[name].append(wall)
            cpus[name].append(cpu)
    base = statistics.median(times["python -c pass"])
    load = os.getloadavg()[0]
    print(f"\n{args.runs} runs each, median wall time (interpreter {sys.version.split()[0]}, "
          f"{os.cpu_count()} cores, load average {load:.1f})")
    print(f"{'command':<44} {'median s':>9} {'min s':>7} {'CPU s':>6} {'vs python -c pass':>18}")
    for name, values in times.items():
        median = statistics.median(values)
        cpu = statistics.median(cpus[name])
        print(f"{name:<44} {median:9.3f} {min(values):7.3f} {cpu:6.3f} {median / base:17.1f}x")
    worst = max(statistics.median(times[n]) for n in ("copytrader status",
                                                       "copytrader audit --limit 20"))
    verdict = "under" if worst < GOAL else "NOT under"
    print(f"status and audit --limit 20: slowest median {worst:.3f} s, {verdict} the "
          f"{GOAL} s goal")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
