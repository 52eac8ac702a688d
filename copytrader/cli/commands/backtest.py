"""``copytrader policy backtest FILE [--days N] [--parallel N] [--timeout MINUTES] [--json]``:
the platform's backtest of each distinct desired settings of the file's followers, beside the
master's own.

Progress goes to stderr (a bar per backtest), the figures to stdout. Read-only on bots: the
only writes are the backtests themselves (and their cancellation). Exit 0 when every
backtest completed; 1 when one failed or was cancelled on the platform (the others are still
shown); 2 when the file is invalid or the platform has no backtests; 130 after Ctrl-C, once
the running backtests are cancelled on the platform (nothing on stdout; a second Ctrl-C
quits at once, naming the backtests that may still run).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from copytrader.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, context, parsers
from copytrader.core import words

if TYPE_CHECKING:
    from copytrader.backtest.ports import Backtester, Platform
    from copytrader.backtest.prepare import Plan
    from copytrader.settings import Settings

EXIT_INTERRUPTED = 130
MAX_DAYS = 366
WHERE = "copytrader policy backtest"


_BACKTEST = """\
Runs the platform's backtest (/bots/backtest, HaasOnline) of each distinct desired settings
of the file's followers over the last N days, beside the master's own, and prints ROI, max
drawdown, profit factor and win rate per follower, each with its difference from the
master's. Progress goes to stderr (a bar per backtest), the figures to stdout. Read-only on
bots: the only writes are the backtests themselves (and their cancellation). Ctrl-C cancels
the running backtests on the platform (a second Ctrl-C quits at once)."""


def register(policy_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = parsers.command(
        policy_sub,
        "backtest",
        summary="backtest the file's followers' settings beside the master's own (read-only "
        "on bots)",
        description=_BACKTEST,
        env=(*parsers.CONFIG, *parsers.PLATFORM, *parsers.LOGS, *parsers.TABLES),
        exits={
            EXIT_OK: "every backtest completed",
            EXIT_FAILED: "a backtest failed or was cancelled on the platform (the others are "
            "still shown)",
            EXIT_USAGE: "the file is invalid, or the platform has no backtests",
            EXIT_INTERRUPTED: "Ctrl-C, once the running backtests are cancelled",
        },
        examples=["copytrader policy backtest policies/eth-grid.yaml --days 7"],
    )
    p.add_argument("file", metavar="FILE", type=Path, help="the policy file")
    p.add_argument(
        "--days", type=_days, default=30, metavar="N",
        help=f"the last N days (1 to {MAX_DAYS}), ending at the last full hour (default 30)",
    )
    p.add_argument(
        "--parallel", type=context.positive_int, default=4, metavar="N",
        help="most backtests running on the platform at once (default 4)",
    )
    p.add_argument(
        "--timeout", type=context.positive_int, default=60, metavar="MINUTES",
        help="cancel a backtest on the platform when it has not finished within MINUTES "
        "(default 60); it is then reported as cancelled",
    )
    parsers.table_options(p)
    p.set_defaults(handler=backtest, needs_platform=True)


def _days(text: str) -> int:
    days = context.positive_int(text)
    if days > MAX_DAYS:
        raise argparse.ArgumentTypeError(f"at most {MAX_DAYS}, got {days}")
    return days


def poll_seconds(rate_limit_per_minute: int | None, parallel: int) -> float:
    """How often each running backtest is polled: at least every second, and so that the
    polls of ``parallel`` backtests use at most half of the rate limit."""
    if not rate_limit_per_minute:
        return 1.0
    return max(1.0, parallel * 60.0 / max(1.0, rate_limit_per_minute / 2))


async def backtest(args: argparse.Namespace, s: Settings) -> int:
    from copytrader.platform import adapters

    async with adapters.from_settings(s.platform) as platform:
        return await run(args, platform, rate_limit=s.platform.rate_limit_per_minute)


async def run(args: argparse.Namespace, platform: Platform, *, rate_limit: int | None) -> int:
    """The command on ``platform`` (any adapter declaring its capabilities)."""
    from copytrader.backtest import ports, prepare

    backtester = ports.backtests_of(platform)
    if backtester is None:
        print(f"{WHERE}: the {platform.name} platform has no backtests", file=sys.stderr)
        return EXIT_USAGE
    try:
        import time

        plan = await prepare.prepare(args.file, platform, days=args.days, now_unix=time.time())
    except prepare.Refused as refused:
        for line in refused.lines:
            print(f"{WHERE}: {line}", file=sys.stderr)
        return EXIT_USAGE
    return await _execute(args, backtester, plan, poll_seconds(rate_limit, args.parallel))


async def _execute(
    args: argparse.Namespace, backtester: Backtester, plan: Plan, poll: float
) -> int:
    import asyncio
    import signal

    from copytrader.backtest.runner import Runner
    from copytrader.cli import backtest_view

    stop = asyncio.Event()
    interrupts = 0
    main = asyncio.current_task()
    loop = asyncio.get_running_loop()
    bars = backtest_view.Bars([v for v, _ in plan.jobs])

    def on_sigint() -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts == 1:
            bars.say(f"{WHERE}: interrupted: cancelling the running backtests on the platform "
                     "(Ctrl-C again to quit at once)")
            stop.set()
        elif main is not None:
            main.cancel()

    runner: Runner | None = None
    loop.add_signal_handler(signal.SIGINT, on_sigint)
    try:
        with bars:
            runner = Runner(
                backtester, parallel=args.parallel, poll=poll, stop=stop,
                on_status=bars.update, timeout=args.timeout * 60.0,
            )
            outcomes = await runner.run(plan.jobs)
    except asyncio.CancelledError:
        if interrupts < 2:
            raise
        left = runner.still_running if runner else []
        print(f"{WHERE}: quit without waiting" + (
            f"; these backtests may still run on the platform: {', '.join(left)}" if left else ""
        ), file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        loop.remove_signal_handler(signal.SIGINT)
    if stop.is_set():
        left = runner.still_running
        print(f"{WHERE}: cancelled {words.plural(len(runner.cancelled), 'backtest')} on the "
              "platform"
              + (f"; these may still run: {', '.join(left)}" if left else ""), file=sys.stderr)
        return EXIT_INTERRUPTED
    report = plan.report(outcomes)
    doc = report.to_json()
    if args.json:
        context.print_json(doc)
    else:
        wide = getattr(args, "wide", False)
        backtest_view.table(doc).render(context.out(wide), wide=wide)
    for o in report.failed:
        print(f"{WHERE}: {o.variant.label}: backtest {o.state.value}: {o.error}", file=sys.stderr)
    return EXIT_FAILED if report.failed else EXIT_OK
