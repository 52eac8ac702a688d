"""``copytrader policy ...``: policy file commands."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from copytrader.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, parsers
from copytrader.cli.commands import backtest

if TYPE_CHECKING:
    from copytrader.settings import Settings

_CHECK = """\
Validates every policy file (*.yaml, *.yml) of the policy folder and reports every problem of
every file in one run, each as PATH:LINE:COL: message: YAML syntax (in plain words, with the
likely cause), unknown or misplaced keys (with the closest valid one), wrong types, and the
checks against the platform (setting keys and option values of the master's bot type, locked
keys, follower users and their exchange). Sends read requests only."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    policy_sub = parsers.group(
        sub,
        "policy",
        summary="policy file commands (policy check, policy backtest)",
        dest="policy_command",
    )
    check = parsers.command(
        policy_sub,
        "check",
        summary="validate every policy file against the platform",
        description=_CHECK,
        env=(*parsers.CONFIG, *parsers.PLATFORM, *parsers.POLICIES, *parsers.LOGS),
        exits={
            EXIT_OK: "every policy file is valid (or the folder has none: it says so)",
            EXIT_FAILED: "the platform could not be read (a check that cannot read it "
            "proves nothing)",
            EXIT_USAGE: "a policy file is invalid (every problem on stdout), or a usage or "
            "configuration error",
        },
        examples=["copytrader policy check", "COPYTRADER_POLICY_DIR=staging copytrader "
                  "policy check"],
    )
    check.set_defaults(handler=check_command, needs_platform=True)
    backtest.register(policy_sub)


async def check_command(args: argparse.Namespace, s: Settings) -> int:
    from copytrader.core import words
    from copytrader.platform import adapters
    from copytrader.policy import check, loader

    async with adapters.from_settings(s.platform) as platform:
        problems = await check.check(s.policy_dir, platform)
    for problem in problems:
        print(problem)
    if problems:
        files = len({p.file for p in problems})
        print(
            f"{words.plural(len(problems), 'problem')} in "
            f"{words.plural(files, 'file')}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    count = len(loader.policy_files(s.policy_dir))
    if count == 0:
        print(f"no policy files in {s.policy_dir} (*.yaml, *.yml)", file=sys.stderr)
    else:
        every = "the policy file is" if count == 1 else f"all {count} policy files are"
        print(f"{every} valid", file=sys.stderr)
    return EXIT_OK
