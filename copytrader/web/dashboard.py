"""What the dashboard's handlers share: the database, the policy folder, the pass feed and
the token (when the listener demands one)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from copytrader.policy.loader import LoadedPolicies
from copytrader.reconcile.reading import PolicyCache
from copytrader.settings import Secret
from copytrader.store.repo import SqlStore
from copytrader.web import live


@dataclass
class Dashboard:
    """The dashboard of one database. ``policies`` may be the daemon reconciler's own cache
    (its last load of the policy folder is reused while no file changed). ``token`` is the
    listener's token, None when it is open."""

    store: SqlStore
    policy_dir: Path
    token: Secret | None = None
    policies: PolicyCache = field(default_factory=PolicyCache)
    feed: live.PassFeed = field(default_factory=live.PassFeed)
    poll_seconds: float = live.POLL_SECONDS

    async def load_policies(self) -> LoadedPolicies:
        """The policy folder as it is now (ConfigError when it cannot be read)."""
        return await asyncio.to_thread(self.policies.load, self.policy_dir)


KEY: web.AppKey[Dashboard] = web.AppKey("dashboard", Dashboard)


def of(request: web.Request) -> Dashboard:
    """The dashboard serving ``request``."""
    return request.app[KEY]
