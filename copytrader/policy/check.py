"""``copytrader policy check``: every policy file checked, against the platform too.

The platform is only read: the script catalogue, one sweep of the bots and one of the users,
for all files together.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from copytrader.core import policy as core
from copytrader.core.model import Bot, Catalogue, User
from copytrader.core.policy import Policy, Problem
from copytrader.policy import loader


class PlatformReader(Protocol):
    """The read side of the reconcile service's ``Platform`` port (structurally the same)."""

    def iter_bots(self, page_size: int = -1) -> AsyncIterator[Bot]: ...
    def iter_users(self, page_size: int = -1) -> AsyncIterator[User]: ...
    async def catalogue(self) -> Catalogue: ...


async def check(directory: Path, platform: PlatformReader) -> list[Problem]:
    """Every problem of every policy file in ``directory``, sorted by file, line and column.

    Structurally invalid files report their structural problems; each valid one is checked
    against the platform (:func:`copytrader.core.policy.validate`). An empty list means
    every file is valid. Raises ConfigError for a missing folder and PlatformError when a
    read fails (a check that could not read the platform proves nothing).
    """
    loaded = await asyncio.to_thread(loader.load_dir, directory)
    problems = list(loaded.problems)
    for policy, found in await against_platform(loaded.policies, platform):
        path = Path(policy.source.path)
        problems.extend(await asyncio.to_thread(loader.locate, found, path))
    return sorted(problems, key=lambda p: (p.file, p.line, p.col, p.message))


@dataclass(frozen=True)
class PlatformView:
    """What the policy checks read of the platform: one sweep of bots and users."""

    catalogue: Catalogue
    bots: Mapping[str, Bot]
    users: Mapping[str, User]

    def problems(self, policy: Policy) -> list[Problem]:
        """The platform's problems with ``policy``, without positions."""
        master = self.bots.get(policy.master)
        script = self.catalogue.script(master.type) if master is not None else None
        return core.validate(policy, master=master, script=script, users=self.users)


async def read_platform(platform: PlatformReader) -> PlatformView:
    """The catalogue and one sweep of the bots and of the users."""
    catalogue = await platform.catalogue()
    bots = {bot.bot_id: bot async for bot in platform.iter_bots()}
    users = {user.user_id: user async for user in platform.iter_users()}
    return PlatformView(catalogue, bots, users)


async def against_platform(
    policies: Sequence[Policy], platform: PlatformReader
) -> list[tuple[Policy, list[Problem]]]:
    """The platform's problems with each of ``policies`` (structurally valid ones), without
    positions (:func:`copytrader.policy.loader.locate` adds them): a pair for each policy
    with a problem. Reads the catalogue and one sweep of the bots and of the users."""
    if not policies:
        return []
    view = await read_platform(platform)
    return [(p, found) for p in policies if (found := view.problems(p))]
