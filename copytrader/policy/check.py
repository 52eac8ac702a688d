"""``copytrader policy check``: every policy file checked, against the platform too.

The platform is only read: the script catalogue, the first part of its sweep (every master:
HaasOnline's one ``/bots/list`` sweep, BotPrimeX's master account) and the followers
(HaasOnline: one ``/users/list`` sweep; BotPrimeX: each follower account's ``/account`` and
``/exchanges``), for all files together. ``copytrader follower`` and ``policy backtest``
check a file the same way (:func:`against_platform`, :func:`read_platform`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from copytrader.core import policy_checks
from copytrader.core.model import Bot, Catalogue, SweepPart, User
from copytrader.core.policy import Policy, Problem
from copytrader.policy import loader


class PlatformReader(Protocol):
    """The read side of the reconcile service's ``Platform`` port (structurally the same)."""

    def sweep(self, *, masters_only: bool = False) -> AsyncGenerator[SweepPart, None]: ...
    def iter_users(self, page_size: int = -1) -> AsyncIterator[User]: ...
    async def verified_users(self, user_ids: Collection[str]) -> Mapping[str, User]: ...
    async def catalogue(self) -> Catalogue: ...


async def check(directory: Path, platform: PlatformReader) -> list[Problem]:
    """Every problem of every policy file in ``directory``, sorted by file, line and column.

    Each file is checked structurally and, as far as its structure allows (what is valid of
    a file with problems too), against the platform
    (:func:`copytrader.core.policy_checks.validate`): a file's every problem in one run. An empty
    list means every file is valid. Raises ConfigError for a missing folder and PlatformError when a
    read fails (a check that could not read the platform proves nothing).
    """
    loaded = await asyncio.to_thread(loader.load_dir, directory)
    problems = list(loaded.problems)
    # what is valid of a file with problems too: its every problem in one run
    checked = (*loaded.policies, *loaded.partials)
    for policy, found in await against_platform(checked, platform):
        path = Path(policy.source.path)
        problems.extend(await asyncio.to_thread(loader.locate, found, path))
    return unique(problems)


def unique(problems: list[Problem]) -> list[Problem]:
    """``problems`` sorted by file, line, column and message, each reported once (the
    structural and the platform checks both see a key overridden and scaled at once)."""
    seen: dict[tuple[str, int, int, str], Problem] = {}
    for p in problems:
        seen.setdefault((p.file, p.line, p.col, p.message), p)
    return [seen[k] for k in sorted(seen)]


@dataclass(frozen=True)
class PlatformView:
    """What the policy checks read of the platform: the catalogue, every master bot and the
    followers the policies name."""

    catalogue: Catalogue
    bots: Mapping[str, Bot]
    users: Mapping[str, User]

    def problems(self, policy: Policy) -> list[Problem]:
        """The platform's problems with ``policy``, without positions."""
        master = self.bots.get(policy.master)
        script = self.catalogue.script(master.type) if master is not None else None
        return policy_checks.validate(policy, master=master, script=script, users=self.users)


async def read_platform(platform: PlatformReader, user_ids: Collection[str]) -> PlatformView:
    """The catalogue, the first part of the sweep (every master) and ``user_ids`` verified."""
    catalogue = await platform.catalogue()
    sweep = platform.sweep(masters_only=True)
    try:
        bots = (await anext(sweep)).bots
    finally:
        await sweep.aclose()
    users = await platform.verified_users(user_ids)
    return PlatformView(catalogue, bots, users)


async def against_platform(
    policies: Sequence[Policy], platform: PlatformReader
) -> list[tuple[Policy, list[Problem]]]:
    """The platform's problems with each of ``policies`` (structurally valid ones), without
    positions (:func:`copytrader.policy.loader.locate` adds them): a pair for each policy
    with a problem."""
    if not policies:
        return []
    view = await read_platform(platform, {f.user for p in policies for f in p.followers})
    return [(p, found) for p in policies if (found := view.problems(p))]
