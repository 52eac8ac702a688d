"""What ``policy backtest FILE`` runs: the file checked as ``policy check`` checks it, the
master read from the platform, each follower's desired settings computed by the planner's
own code, and one backtest request per distinct settings (the master's own first).

Every backtest runs as the master's owner on the master's exchange, so figures differ only
by settings; the window is the last N days ending at the last full hour (UTC), so two runs
within the same hour compare like with like.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from copytrader.backtest.ports import Platform
from copytrader.core import backtest as core
from copytrader.core import desired, normalize
from copytrader.core.model import Bot
from copytrader.core.policy import Policy
from copytrader.policy import check, loader

HOUR, DAY = 3600, 86400


class Refused(Exception):
    """The file cannot be backtested; ``lines``: one per problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines


@dataclass(frozen=True)
class Plan:
    """The backtests of one policy file, the master's own first."""

    policy: Policy
    master: Bot
    jobs: tuple[tuple[core.Variant, core.Request], ...]
    days: int
    start_unix: int
    end_unix: int

    def report(self, outcomes: list[core.Outcome]) -> core.Report:
        return core.Report(
            master=self.policy.master,
            file=self.policy.source.path,
            days=self.days,
            start_unix=self.start_unix,
            end_unix=self.end_unix,
            outcomes=tuple(outcomes),
            order=tuple(f.user for f in self.policy.followers),
            paused=frozenset(f.user for f in self.policy.followers if f.paused),
        )


def window(now_unix: float, days: int) -> tuple[int, int]:
    """The last ``days`` days, ending at the last full hour."""
    end = int(now_unix) // HOUR * HOUR
    return end - days * DAY, end


async def prepare(path: Path, platform: Platform, *, days: int, now_unix: float) -> Plan:
    """The plan of ``policy backtest`` for the file at ``path``. Raises Refused when the
    file is invalid (its problems, as ``policy check`` reports them) and PlatformError when
    the platform cannot be read."""
    policy, problems = await asyncio.to_thread(loader.load_file, path)
    if policy is None:
        raise Refused([str(p) for p in problems])
    view = await check.read_platform(platform, {f.user for f in policy.followers})
    found = view.problems(policy)
    if found:
        located = await asyncio.to_thread(loader.locate, found, path)
        raise Refused([str(p) for p in located])
    master = view.bots[policy.master]  # validated: it exists, its type is in the catalogue
    script = view.catalogue.script(master.type)
    assert script is not None
    compute = desired.Computer(desired.base(policy, master, script))
    wanted = [compute(f) for f in policy.followers]
    start, end = window(now_unix, days)
    jobs = tuple(
        (
            variant,
            core.Request(
                user_id=master.user_id,
                type=master.type,
                exchange_id=master.exchange_id,
                settings=variant.settings,
                start_unix=start,
                end_unix=end,
            ),
        )
        for variant in core.variants(normalize.settings(script, master.settings), wanted)
    )
    return Plan(policy, master, jobs, days, start, end)
