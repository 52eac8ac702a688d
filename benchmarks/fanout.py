"""Fan-out figures: ``python benchmarks/fanout.py [--quick]``.

Three fan-outs of one master edit, each in a fresh process (so its CPU and peak RSS are its
own), against the simulator (20 ms per request, the rate limit enforced on its side too) and,
in the same run, the naive copier (``naive.py``) and the ideal client's bound (``bound.py``):

1. **carried**: N followers (1,000) of which 80% are platform-carried (``propagation:
   auto``; every 5th follower overrides an editable key, the others differ from the master
   only in ``investmentAmount``, which ``/bots/edit`` refuses): the requests sent (goal: one
   edit per follower copytrader carries, plus the sweep) and the seconds until every follower
   holds the new value, at 6,000 req/min; and what those requests cost at 100 req/min (the
   bound of the requests sent, computed);
2. **binding**: N followers (300) under 100 req/min, every follower edited: seconds from the
   edit until every clone holds it, against the bound of the rate window (goal: 1.05 x);
3. **open**: N followers (1,000) under 6,000 req/min (the limit does not bind), 8 in flight,
   every follower edited: the write phase (first write sent to last write answered) against
   ``ceil(edits / concurrency) x latency`` (goal: 1.3 x), copytrader's CPU per write (goal:
   under 1 ms: the process's CPU without the simulator's thread, over the writes; once with
   logs at warning as the other figures, once with the daemon's JSON audit lines at info to
   /dev/null), and the process's peak RSS (simulator included).

Prints one ``name: value unit`` line per figure, then a summary (Markdown tables).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import structlog

from benchmarks import bound, scenarios
from benchmarks import world as world_mod
from benchmarks.pure import _rss_mb
from benchmarks.report import Report, note, table

HERE = Path(__file__).resolve()
#: Every CARRIED_EVERY-th follower overrides an editable key: copytrader carries it.
CARRIED_EVERY = 5


def carried_yaml(group: world_mod.Group) -> str:
    """A ``propagation: auto`` policy of ``group``: 80% of its followers differ from the
    master only in keys ``/bots/edit`` refuses (the platform carries them)."""
    lo, hi = world_mod.LIMITS["investmentAmount"]
    lines = [f"master: {group.master}", "limits:",
             f"  investmentAmount: {{min: {lo}, max: {hi}}}", "locked: [symbol]", "followers:"]
    for i, user in enumerate(group.followers):
        lines.append(f"  - user: {user}")
        if i % CARRIED_EVERY == 0:
            lines.append("    overrides: {stopLoss: 5}")  # editable: copytrader carries it
        elif i % 3 == 0:
            lines.append("    scale: {investmentAmount: 0.5}")  # not editable: still carried
    lines += ["propagation: auto", "on_immutable_change: recreate", ""]
    return "\n".join(lines)


def write_carried(w: world_mod.World, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for k, group in enumerate(w.groups):
        (folder / f"master-{k:03d}.yaml").write_text(carried_yaml(group), encoding="utf-8")


def copytrader_edits(n: int) -> int:
    """The followers of ``n`` that copytrader carries in the carried world."""
    return math.ceil(n / CARRIED_EVERY)


def _figures(f: scenarios.Figures) -> dict[str, Any]:
    return {"requests": f.requests, "writes": f.writes, "seconds": f.seconds,
            "cpu_thread": f.cpu, "cpu_process": f.process_cpu, "by_path": f.by_path,
            "first_write": f.first_write, "last_write": f.last_write, "bound": f.bound,
            "needed": f.needed, "converged": f.converged}


def configure_logs(logged: bool) -> None:
    """Warnings only (the other figures' setting), or the daemon's: JSON lines at info."""
    if logged:
        from copytrader.observe import logging as ct_logging

        ct_logging.configure("json", level="info", stream=open(os.devnull, "w"))  # noqa: SIM115
        return
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
                        logger_factory=structlog.PrintLoggerFactory(sys.stderr))


async def child(kind: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    """One scenario in this (fresh) process."""
    out: dict[str, Any] = {"n": n, "baseline_rss_mb": _rss_mb()}
    with tempfile.TemporaryDirectory(prefix="copytrader-fanout-") as tmp:
        if kind == "naive":
            fan = await scenarios.naive_fanout(n, latency=args.latency, rate=args.rate,
                                               concurrency=args.concurrency)
        else:
            edits = copytrader_edits(n) if kind == "carried" else n
            writer: scenarios.PolicyWriter = (
                write_carried if kind == "carried" else world_mod.write_policies)
            _, fan = await scenarios.copytrader_fanout(
                n, Path(tmp), latency=args.latency, rate=args.rate,
                concurrency=args.concurrency, edits=edits, policies=writer)
    out.update(_figures(fan))
    out["peak_rss_mb"] = _rss_mb()
    return out


def run_child(kind: str, n: int, rate: int, args: argparse.Namespace,
              *, logged: bool = False) -> dict[str, Any]:
    cmd = [sys.executable, str(HERE), "--child", kind, "--n", str(n), "--rate", str(rate),
           "--latency", str(args.latency), "--concurrency", str(args.concurrency)]
    if logged:
        cmd.append("--logged")
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes, no binding run (CI)")
    p.add_argument("--followers", type=int, help="carried and open fan-outs (default 1000)")
    p.add_argument("--binding-followers", type=int, default=300,
                   help="the fan-out under the binding rate limit")
    p.add_argument("--binding-rate", type=int, default=100, help="req/min that binds")
    p.add_argument("--rate", type=int, default=6000, help="req/min that does not bind")
    p.add_argument("--latency", type=float, default=0.02, help="simulator latency, seconds")
    p.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    p.add_argument("--child", choices=["carried", "edited", "naive"], help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, help=argparse.SUPPRESS)
    p.add_argument("--logged", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.followers is None:
        args.followers = 100 if args.quick else 1000
    return args


def carried(r: Report, args: argparse.Namespace, edited: dict[str, Any],
            naive: dict[str, Any]) -> None:
    n = args.followers
    note(f"carried: {n} followers, 80% platform-carried")
    doc = run_child("carried", n, args.rate, args)
    edits = copytrader_edits(n)
    pages = doc["needed"] - edits
    r.add(f"carried_followers_platform_n{n}", n - edits, "followers")
    r.add(f"carried_requests_n{n}", doc["requests"], "requests")
    r.add(f"carried_requests_goal_n{n}", doc["needed"], "requests")
    r.add(f"carried_edits_n{n}", doc["by_path"].get("/bots/edit", 0), "requests")
    r.add(f"carried_seconds_n{n}", doc["seconds"], "s")
    r.add(f"carried_bound_seconds_n{n}", doc["bound"], "s")
    r.add(f"carried_converged_n{n}", int(doc["converged"]), "bool")
    r.add(f"carried_requests_all_edited_n{n}", edited["requests"], "requests")
    r.add(f"carried_seconds_all_edited_n{n}", edited["seconds"], "s")
    r.add(f"carried_requests_naive_n{n}", naive["requests"], "requests")
    r.add(f"carried_seconds_naive_n{n}", naive["seconds"], "s")
    r.add(f"carried_request_ratio_naive_n{n}", naive["requests"] / doc["requests"], "x")
    # What the same requests take where the rate limit binds (100/min), by the bound.
    at = args.binding_rate
    for name, writes in (("", edits), ("_all_edited", n), ("_naive", 2 * n)):
        reads = pages if name != "_naive" else 1
        seconds = bound.ideal_seconds(reads, writes, rate=at, concurrency=args.concurrency,
                                      latency=args.latency)
        r.add(f"carried_bound_seconds{name}_at{at}_n{n}", seconds, "s")


def binding(r: Report, args: argparse.Namespace) -> None:
    n, rate = args.binding_followers, args.binding_rate
    note(f"binding: {n} followers under {rate} req/min (a few minutes)")
    doc = run_child("edited", n, rate, args)
    r.add(f"binding_seconds_n{n}", doc["seconds"], "s")
    r.add(f"binding_bound_seconds_n{n}", doc["bound"], "s")
    r.add(f"binding_bound_ratio_n{n}", doc["seconds"] / doc["bound"], "x")
    r.add(f"binding_requests_n{n}", doc["requests"], "requests")
    r.add(f"binding_converged_n{n}", int(doc["converged"]), "bool")
    naive = bound.ideal_seconds(1, 2 * n, rate=rate, concurrency=args.concurrency,
                                latency=args.latency)
    r.add(f"binding_bound_seconds_naive_n{n}", naive, "s")  # its floor; not run (minutes)


def open_fanout(r: Report, args: argparse.Namespace, doc: dict[str, Any],
                naive: dict[str, Any], logged: dict[str, Any]) -> None:
    n = args.followers
    writes = doc["writes"]
    ideal = math.ceil(writes / args.concurrency) * args.latency
    phase = doc["last_write"] - doc["first_write"]
    r.add(f"open_writes_n{n}", writes, "requests")
    r.add(f"open_write_phase_seconds_n{n}", phase, "s")
    r.add(f"open_write_phase_bound_seconds_n{n}", ideal, "s")
    r.add(f"open_write_phase_ratio_n{n}", phase / ideal, "x")
    r.add(f"open_seconds_n{n}", doc["seconds"], "s")
    r.add(f"open_bound_seconds_n{n}", doc["bound"], "s")
    r.add(f"open_bound_ratio_n{n}", doc["seconds"] / doc["bound"], "x")
    r.add(f"open_cpu_ms_per_write_n{n}", 1000 * doc["cpu_process"] / writes, "ms")
    r.add(f"open_loop_cpu_ms_per_write_n{n}", 1000 * doc["cpu_thread"] / writes, "ms")
    r.add(f"open_cpu_ms_per_write_logged_n{n}", 1000 * logged["cpu_process"] / logged["writes"],
          "ms")
    r.add(f"open_peak_rss_mb_n{n}", doc["peak_rss_mb"], "MB")
    r.add(f"open_baseline_rss_mb_n{n}", doc["baseline_rss_mb"], "MB")
    r.add(f"open_converged_n{n}", int(doc["converged"]), "bool")
    r.add(f"open_seconds_naive_n{n}", naive["seconds"], "s")
    r.add(f"open_time_ratio_naive_n{n}", naive["seconds"] / doc["seconds"], "x")


def summary(r: Report, args: argparse.Namespace) -> str:
    g, n, b = r.get, args.followers, args.binding_followers

    def cell(name: str, fmt: str = "{:.2f}") -> str:
        value = g(name)
        return "-" if value is None else fmt.format(value)

    at = args.binding_rate
    parts = [f"## Master edit, {n} followers, 80% platform-carried ({args.rate} req/min)",
             table(["copier", "requests", "s to all holding it", f"bound s @{at}/min"], [
                 ["copytrader, propagation: auto", cell(f"carried_requests_n{n}", "{:.0f}"),
                  cell(f"carried_seconds_n{n}"),
                  cell(f"carried_bound_seconds_at{at}_n{n}", "{:.0f}")],
                 ["copytrader, propagation: copytrader",
                  cell(f"carried_requests_all_edited_n{n}", "{:.0f}"),
                  cell(f"carried_seconds_all_edited_n{n}"),
                  cell(f"carried_bound_seconds_all_edited_at{at}_n{n}", "{:.0f}")],
                 ["naive copier", cell(f"carried_requests_naive_n{n}", "{:.0f}"),
                  cell(f"carried_seconds_naive_n{n}"),
                  cell(f"carried_bound_seconds_naive_at{at}_n{n}", "{:.0f}")]])]
    if g(f"binding_seconds_n{b}") is not None:
        parts += [f"## Binding rate limit ({at} req/min), {b} followers", table(
            ["copytrader s", "bound s", "copytrader/bound", "naive bound s"],
            [[cell(f"binding_seconds_n{b}", "{:.1f}"),
              cell(f"binding_bound_seconds_n{b}", "{:.1f}"),
              "**" + cell(f"binding_bound_ratio_n{b}", "{:.3f}") + "**",
              cell(f"binding_bound_seconds_naive_n{b}", "{:.0f}")]])]
    parts += [f"## Rate limit not binding ({args.rate} req/min, {args.latency * 1000:.0f} ms, "
              f"{args.concurrency} in flight), {n} followers", table(
        ["write phase s", "ceil(edits/c) x latency s", "ratio", "pass s", "bound s",
         "CPU ms/write", "logged", "peak RSS MB", "naive s"],
        [[cell(f"open_write_phase_seconds_n{n}"), cell(f"open_write_phase_bound_seconds_n{n}"),
          "**" + cell(f"open_write_phase_ratio_n{n}") + "**", cell(f"open_seconds_n{n}"),
          cell(f"open_bound_seconds_n{n}"),
          "**" + cell(f"open_cpu_ms_per_write_n{n}") + "**",
          cell(f"open_cpu_ms_per_write_logged_n{n}"),
          cell(f"open_peak_rss_mb_n{n}", "{:.0f}"), cell(f"open_seconds_naive_n{n}")]])]
    return "\n\n".join(parts)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.child:
        configure_logs(args.logged)
        print(json.dumps(asyncio.run(child(args.child, args.n, args))))
        return 0
    r = Report()
    n = args.followers
    note(f"open: {n} followers, every one edited by copytrader")
    edited = run_child("edited", n, args.rate, args)
    note(f"open: {n} followers again, with the daemon's JSON logs at info")
    logged = run_child("edited", n, args.rate, args, logged=True)
    note(f"naive copier: {n} followers")
    naive = run_child("naive", n, args.rate, args)
    open_fanout(r, args, edited, naive, logged)
    carried(r, args, edited, naive)
    if not args.quick:
        binding(r, args)
    print()
    print(summary(r, args))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
