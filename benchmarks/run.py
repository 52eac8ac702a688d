"""copytrader benchmarks: ``python benchmarks/run.py [--quick] [--sizes 1000,10000,100000]``.

Against the simulator (with latency and a rate limit), and in the same run against the naive
copier of ``naive.py``, measures:

1. steady state: requests and time of a pass over a converged platform;
2. fan-out: time until every clone carries a master edit, against the ideal client's bound;
3. the pure part of a pass (plan and diff) in a fresh process: CPU and peak RSS; the
   snapshot write of a pass; the load of one policy file;
4. how each figure grows with the number of followers (the summary tables).

Prints one ``name: value unit`` line per figure, then the summary (Markdown tables).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import structlog

from benchmarks import bound, scenarios
from benchmarks import world as world_mod
from benchmarks.report import Report, note, summary

HERE = Path(__file__).resolve().parent


def _sizes(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s.strip()]


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes for CI (under a minute)")
    p.add_argument("--sizes", type=_sizes, help="steady-state and plan sizes (followers)")
    p.add_argument("--fanout-sizes", type=_sizes, help="fan-out sizes (followers)")
    p.add_argument("--rate", type=int, default=100, help="steady-state rate limit, req/min")
    p.add_argument("--fanout-rate", type=int, default=6000, help="fan-out rate limit, req/min")
    p.add_argument("--latency", type=float, default=0.02, help="simulator latency, seconds")
    p.add_argument("--concurrency", type=int, default=8, help="requests in flight, both copiers")
    args = p.parse_args(argv)
    if args.sizes is None:
        args.sizes = [200, 500] if args.quick else [1000, 10_000, 100_000]
    if args.fanout_sizes is None:
        args.fanout_sizes = [200, 500] if args.quick else [100, 1000, 10_000]
    return args


async def steady(r: Report, args: argparse.Namespace, tmp: Path) -> None:
    for n in args.sizes:
        note(f"steady state, {n} followers: copytrader")
        warm, ct = await scenarios.copytrader_steady(
            n, tmp, latency=args.latency, rate=args.rate, concurrency=args.concurrency)
        note(f"steady state, {n} followers: naive copier (rate limit off)")
        nv = await scenarios.naive_steady(n, latency=args.latency, concurrency=args.concurrency)
        r.add(f"steady_requests_copytrader_n{n}", ct.requests, "requests")
        r.add(f"steady_writes_copytrader_n{n}", ct.writes, "requests")
        r.add(f"steady_seconds_copytrader_n{n}", ct.seconds, "s")
        r.add(f"steady_cpu_seconds_copytrader_n{n}", ct.cpu, "s")
        r.add(f"steady_first_pass_requests_copytrader_n{n}", warm.requests, "requests")
        r.add(f"steady_first_pass_seconds_copytrader_n{n}", warm.seconds, "s")
        r.add(f"steady_requests_naive_n{n}", nv.requests, "requests")
        r.add(f"steady_writes_naive_n{n}", nv.writes, "requests")
        r.add(f"steady_seconds_naive_n{n}", nv.seconds, "s")
        r.add(f"steady_request_ratio_n{n}", nv.requests / max(ct.requests, 1), "x")
        r.add(f"steady_rate_seconds_copytrader_n{n}",
              bound.window_only_seconds(ct.requests, args.rate), "s")
        r.add(f"steady_rate_seconds_naive_n{n}",
              bound.window_only_seconds(nv.requests, args.rate), "s")


async def fanout(r: Report, args: argparse.Namespace, tmp: Path) -> None:
    r.add("fanout_rate_limit", args.fanout_rate, "req/min")
    for n in args.fanout_sizes:
        note(f"fan-out, {n} followers: copytrader (first pass, then the master edit)")
        first, ct = await scenarios.copytrader_fanout(
            n, tmp, latency=args.latency, rate=args.fanout_rate, concurrency=args.concurrency)
        note(f"fan-out, {n} followers: naive copier")
        nv = await scenarios.naive_fanout(n, latency=args.latency, rate=args.fanout_rate,
                                          concurrency=args.concurrency)
        r.add(f"first_pass_requests_copytrader_n{n}", first.requests, "requests")
        r.add(f"first_pass_seconds_copytrader_n{n}", first.seconds, "s")
        r.add(f"fanout_seconds_copytrader_n{n}", ct.seconds, "s")
        r.add(f"fanout_last_edit_seconds_copytrader_n{n}", ct.last_write, "s")
        r.add(f"fanout_bound_seconds_n{n}", ct.bound, "s")
        r.add(f"fanout_bound_ratio_copytrader_n{n}", ct.seconds / ct.bound, "x")
        r.add(f"fanout_requests_copytrader_n{n}", ct.requests, "requests")
        r.add(f"fanout_wasted_requests_copytrader_n{n}", ct.requests - ct.needed, "requests")
        r.add(f"fanout_converged_copytrader_n{n}", int(ct.converged), "bool")
        r.add(f"fanout_seconds_naive_n{n}", nv.seconds, "s")
        r.add(f"fanout_bound_seconds_naive_n{n}", nv.bound, "s")
        r.add(f"fanout_bound_ratio_naive_n{n}", nv.seconds / ct.bound, "x")
        r.add(f"fanout_requests_naive_n{n}", nv.requests, "requests")
        r.add(f"fanout_wasted_requests_naive_n{n}", nv.requests - ct.needed, "requests")
        r.add(f"fanout_converged_naive_n{n}", int(nv.converged), "bool")
        r.add(f"fanout_time_ratio_n{n}", nv.seconds / ct.seconds, "x")


def pure(r: Report, args: argparse.Namespace) -> None:
    for n in args.sizes:
        note(f"pure plan, {n} followers (fresh process)")
        for mode in ("plan", "yaml"):
            if mode == "yaml" and n > world_mod.PER_FILE * 10:
                continue
            done = subprocess.run([sys.executable, str(HERE / "pure.py"), str(n), mode],
                                  check=True, capture_output=True, text=True)
            doc = json.loads(done.stdout)
            if mode == "plan":
                r.add(f"plan_cpu_seconds_steady_n{n}", doc["steady_cpu"], "s")
                r.add(f"plan_cpu_seconds_fanout_n{n}", doc["fanout_cpu"], "s")
                r.add(f"plan_peak_rss_mb_n{n}", doc["peak_rss_mb"], "MB")
                r.add(f"plan_input_rss_mb_n{n}", doc["input_rss_mb"], "MB")
                r.add(f"plan_baseline_rss_mb_n{n}", doc["baseline_rss_mb"], "MB")
                r.add(f"snapshot_write_seconds_n{n}", doc["snapshot_seconds"], "s")
            else:
                r.add(f"policy_file_bytes_n{n}", doc["yaml_bytes"], "bytes")
                r.add(f"policy_file_loaded_n{n}", int(doc["yaml_loaded"]), "bool")
                r.add(f"policy_file_load_seconds_n{n}", doc["yaml_load_seconds"], "s")
                r.add(f"policy_compose_python_seconds_n{n}",
                      doc["yaml_compose_python_seconds"], "s")
                r.add(f"policy_compose_libyaml_seconds_n{n}",
                      doc["yaml_compose_libyaml_seconds"], "s")
                if doc["yaml_problem"]:
                    note(f"  the loader refused the {n}-follower file: {doc['yaml_problem']}")


async def main(argv: list[str]) -> int:
    args = parse_args(argv)
    # copytrader's info lines (one per audit event) would swamp the output: warnings only.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
                        logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    r = Report()
    r.add("machine_cpus", os.cpu_count() or 0, "cores")
    r.add("latency", args.latency, "s")
    r.add("concurrency", args.concurrency, "requests")
    r.add("steady_rate_limit", args.rate, "req/min")
    with tempfile.TemporaryDirectory(prefix="copytrader-bench-") as tmp:
        await steady(r, args, Path(tmp))
        await fanout(r, args, Path(tmp))
    pure(r, args)
    print()
    print(summary(r, args.sizes, args.fanout_sizes, args.sizes, args.rate, args.fanout_rate))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
