"""``copytrader policy check``: every policy file checked, against the platform too.

The platform is only read: the script catalogue, the first part of its sweep (every master:
HaasOnline's one ``/bots/list`` sweep, BotPrimeX's master account) and the followers
(HaasOnline: one ``/users/list`` sweep; BotPrimeX: each follower account's ``/account`` and
``/exchanges``), for all files together.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Collection, Mapping
from pathlib import Path
from typing import Protocol

from copytrader.core import policy as core
from copytrader.core.model import Catalogue, SweepPart, User
from copytrader.core.policy import Problem
from copytrader.policy import loader


class PlatformReader(Protocol):
    """The read side of the reconcile service's ``Platform`` port (structurally the same)."""

    def sweep(self, *, masters_only: bool = False) -> AsyncGenerator[SweepPart, None]: ...
    async def verified_users(self, user_ids: Collection[str]) -> Mapping[str, User]: ...
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
    if loaded.policies:
        catalogue = await platform.catalogue()
        sweep = platform.sweep(masters_only=True)
        try:
            bots = (await anext(sweep)).bots
        finally:
            await sweep.aclose()
        users = await platform.verified_users(
            {f.user for p in loaded.policies for f in p.followers}
        )
        for policy in loaded.policies:
            master = bots.get(policy.master)
            script = catalogue.script(master.type) if master is not None else None
            found = core.validate(policy, master=master, script=script, users=users)
            if found:
                path = Path(policy.source.path)
                problems.extend(await asyncio.to_thread(loader.locate, found, path))
    return sorted(problems, key=lambda p: (p.file, p.line, p.col, p.message))
