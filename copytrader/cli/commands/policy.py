"""``copytrader policy ...``: policy file commands."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from copytrader.cli import EXIT_OK, EXIT_USAGE
from copytrader.cli.commands import backtest

if TYPE_CHECKING:
    from copytrader.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    policy = sub.add_parser("policy", help="policy file commands")
    policy_sub = policy.add_subparsers(dest="policy_command", required=True, metavar="SUBCOMMAND")
    check = policy_sub.add_parser("check", help="validate every policy file against the platform")
    check.set_defaults(handler=check_command, needs_platform=True)
    backtest.register(policy_sub)


async def check_command(args: argparse.Namespace, s: Settings) -> int:
    from copytrader.platform import adapters
    from copytrader.policy import check

    async with adapters.from_settings(s.platform) as platform:
        problems = await check.check(s.policy_dir, platform)
    for problem in problems:
        print(problem)
    if problems:
        files = len({p.file for p in problems})
        print(f"{len(problems)} problem(s) in {files} file(s)", file=sys.stderr)
        return EXIT_USAGE
    print("all policy files are valid", file=sys.stderr)
    return EXIT_OK
