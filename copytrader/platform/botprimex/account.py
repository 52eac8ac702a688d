"""One BotPrimeX account's client: its key, its rate limiter and its Retry-After block.

On BotPrimeX a key is a whole account, and each key has its own rate limit (its plan's:
standard 100, pro 300, enterprise 1000 requests per minute). Each :class:`Account` has a
transport and a limiter of its own, so a 429 blocks only that account's requests. Until the
account's plan is known (``GET /account``, its first request) it is paced at the lowest
plan's limit; then at its plan's, never above ``COPYTRADER_RATE_LIMIT_PER_MINUTE``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from copytrader.core.model import Bot
from copytrader.errors import MalformedResponseError, PermanentError
from copytrader.platform.backoff import Backoff
from copytrader.platform.botprimex import parse
from copytrader.platform.botprimex.answers import Answers
from copytrader.platform.botprimex.routes import ROUTES
from copytrader.platform.ratelimit import Clock, RateLimiter, Sleep
from copytrader.platform.transport import RequestObserver, Transport
from copytrader.settings import Secret

#: The lowest plan's limit: the pace of an account until its own plan is known.
LOWEST_PLAN_LIMIT = 100
#: Requests per minute of each plan, for an account that names its plan but not its limit.
PLAN_LIMITS = {"standard": 100, "pro": 300, "enterprise": 1000}
#: Items per page of ``GET /bots`` (the API's most).
PAGE_SIZE = 100
#: How long an account's plan is trusted before it is read again (plans change rarely).
INFO_TTL = 3600.0


@dataclass(frozen=True)
class AccountInfo:
    """What ``GET /account`` said: the account's id, plan and requests per minute."""

    account_id: str
    plan: str
    rate_limit_per_minute: int


class Account:
    """Talks to BotPrimeX with one account's key (see the module docstring)."""

    def __init__(
        self,
        name: str,
        base_url: str,
        key: Secret,
        *,
        ceiling: int | None,
        concurrency: int,
        timeout: float,
        write_timeout: float | None,
        backoff: Backoff,
        observer: RequestObserver | None,
        rate_window: float,
        clock: Clock,
        sleep: Sleep,
        connector: Callable[[], aiohttp.BaseConnector] | None = None,
    ) -> None:
        self.name = name
        self.ceiling = ceiling
        self._clock = clock
        first = LOWEST_PLAN_LIMIT if ceiling is None else min(ceiling, LOWEST_PLAN_LIMIT)
        self.limiter = RateLimiter(
            first, window=rate_window, concurrency=concurrency, clock=clock, sleep=sleep
        )
        self.transport = Transport(
            base_url,
            key,
            limiter=self.limiter,
            backoff=backoff,
            timeout=timeout,
            dialect=Answers(),
            observer=observer,
            sleep=sleep,
            connector=connector,
            limiter_name=name,
        )
        self.transport.write_timeout = write_timeout
        self._info: tuple[float, AccountInfo] | None = None
        self._info_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"Account({self.name!r})"

    async def close(self) -> None:
        await self.transport.close()

    async def call(
        self,
        route: str,
        body: Mapping[str, Any] | None = None,
        *,
        bot_id: str | None = None,
        query: Mapping[str, str] | None = None,
    ) -> Any:
        """The decoded answer of any route of the table."""
        params = {"botId": bot_id} if bot_id is not None else None
        return await self.transport.call(route, ROUTES[route], body, params, query)

    # -- the account --------------------------------------------------------------------

    async def info(self) -> AccountInfo:
        """The account's id and plan (``GET /account``, read once an hour); sets the rate
        limit to the plan's, never above the ceiling."""
        async with self._info_lock:
            cached = self._info
            if cached is not None and self._clock() - cached[0] < INFO_TTL:
                return cached[1]
            account_id, plan, limit = parse.account("account", await self.call("account"))
            per_minute = limit or PLAN_LIMITS.get(plan, LOWEST_PLAN_LIMIT)
            fresh = AccountInfo(account_id, plan, per_minute)
            self.limiter.set_limit(
                per_minute if self.ceiling is None else min(per_minute, self.ceiling)
            )
            self._info = (self._clock(), fresh)
            return fresh

    async def exchanges(self) -> frozenset[str]:
        """The exchanges this account has connected (``GET /exchanges``)."""
        return parse.exchanges("exchanges.list", await self.call("exchanges.list"))

    # -- bots ---------------------------------------------------------------------------

    async def bots(self) -> list[Bot]:
        """Every bot of the account (``GET /bots``, cursor pagination, 100 a page); raises
        PlatformError when a page fails or a cursor repeats."""
        await self.info()
        found: list[Bot] = []
        cursor = ""
        seen = {cursor}
        while True:
            query = {"limit": str(PAGE_SIZE), **({"cursor": cursor} if cursor else {})}
            items, cursor_next = parse.page("bots.list", await self.call("bots.list", query=query))
            found.extend(parse.bot("bots.list", item, self.name) for item in items)
            if cursor_next is None:
                return found
            if cursor_next in seen:
                # A platform bug must not make a pass loop forever or read duplicates.
                raise MalformedResponseError(
                    "next_cursor repeated an earlier one", endpoint="bots.list"
                )
            seen.add(cursor_next)
            cursor = cursor_next

    async def bot(self, bot_id: str) -> Bot:
        """One bot (``GET /bots/:id``)."""
        return parse.bot("bots.get", await self.call("bots.get", bot_id=bot_id), self.name)

    async def create(self, fields: Mapping[str, Any]) -> Bot:
        """Create a (stopped) bot. Sent once: after an ambiguous failure the next pass finds
        it by its tag."""
        return parse.bot("bots.create", await self.call("bots.create", fields), self.name)

    async def edit(self, bot_id: str, fields: Mapping[str, Any]) -> None:
        """Change the given editable fields (``PATCH``); idempotent."""
        await self.call("bots.edit", fields, bot_id=bot_id)

    async def start(self, bot_id: str) -> None:
        """Start a bot; ``already_running`` (a lost answer, or someone else) is success."""
        await self._status("bots.start", bot_id, "already_running")

    async def stop(self, bot_id: str) -> None:
        """Stop a bot; ``already_stopped`` is success."""
        await self._status("bots.stop", bot_id, "already_stopped")

    async def _status(self, route: str, bot_id: str, done: str) -> None:
        try:
            await self.call(route, bot_id=bot_id)
        except PermanentError as exc:
            if exc.code != done:
                raise

    async def delete(self, bot_id: str) -> None:
        """Delete a stopped bot for good (``DELETE``). Sent once."""
        await self.call("bots.delete", bot_id=bot_id)
