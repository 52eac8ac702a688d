"""The partner platform client: typed calls over the route table.

:class:`PlatformClient` satisfies :class:`copytrader.reconcile.ports.Platform`. One client
owns one aiohttp session and one rate limiter, shared by all its calls; use it as an async
context manager (or call :meth:`PlatformClient.aclose`). Errors are
:class:`copytrader.errors.PlatformError` subclasses, see :mod:`copytrader.platform.transport`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Collection, Mapping
from types import TracebackType
from typing import Any

from copytrader.core.model import (
    Bot,
    Catalogue,
    Exchange,
    Market,
    Scalar,
    Script,
    SweepPart,
    User,
)
from copytrader.errors import MalformedResponseError
from copytrader.platform.backoff import Backoff
from copytrader.platform.capabilities import Capability
from copytrader.platform.haas import parse
from copytrader.platform.haas.backtests import HaasBacktests
from copytrader.platform.haas.envelope import Envelope
from copytrader.platform.haas.routes import ROUTES, Route
from copytrader.platform.ratelimit import Clock, RateLimiter, Sleep
from copytrader.platform.transport import RequestObserver, Transport
from copytrader.settings import PlatformSettings, Secret

__all__ = ["PlatformClient", "RequestObserver"]

MAX_PAGE = 10_000


def _check_page_size(page_size: int) -> None:
    if page_size != -1 and not 1 <= page_size <= MAX_PAGE:
        raise ValueError(f"page size must be -1 or 1..{MAX_PAGE}, got {page_size}")


#: Seconds added to the 60-second rate window (see ``from_settings``).
RATE_WINDOW_MARGIN = 0.5


class PlatformClient:
    """Talks to the partner API: reads, writes, pagination, retries and rate limiting.

    Beyond the reconcile port it offers backtests (``backtests``), declared in
    ``capabilities``."""

    name = "haas"
    capabilities = frozenset({Capability.BACKTESTS})

    def __init__(
        self,
        base_url: str,
        api_key: Secret,
        *,
        rate_limit_per_minute: int | None = 100,
        concurrency: int = 8,
        timeout: float = 30.0,
        write_timeout: float | None = None,
        max_attempts: int = 5,
        observer: RequestObserver | None = None,
        catalogue_ttl: float = 300.0,
        rate_window: float = 60.0,
        backoff: Backoff | None = None,
        routes: Mapping[str, Route] = ROUTES,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """Nothing is sent until the first call. ``rate_window`` (seconds), ``clock``,
        ``sleep`` and ``backoff`` (which replaces ``max_attempts``) exist for tests;
        ``routes`` for a platform whose paths differ from the reference's.
        ``rate_limit_per_minute`` None sends without a rate limit (the simulator's tests)."""
        self._routes = routes
        self._clock = clock
        self.limiter = RateLimiter(
            rate_limit_per_minute,
            window=rate_window,
            concurrency=concurrency,
            clock=clock,
            sleep=sleep,
        )
        self._transport = Transport(
            base_url,
            api_key,
            limiter=self.limiter,
            backoff=backoff or Backoff(max_attempts=max_attempts),
            timeout=timeout,
            dialect=Envelope(),
            observer=observer,
            sleep=sleep,
        )
        self._transport.write_timeout = write_timeout
        self.catalogue_ttl = catalogue_ttl
        self.backtests = HaasBacktests(self)
        self._catalogue: tuple[float, Catalogue] | None = None
        self._catalogue_lock = asyncio.Lock()

    @classmethod
    def from_settings(
        cls, settings: PlatformSettings, *, observer: RequestObserver | None = None
    ) -> PlatformClient:
        """A client configured from ``settings.platform``."""
        return cls(
            settings.api_url,
            settings.api_key,
            rate_limit_per_minute=settings.rate_limit_per_minute,
            concurrency=settings.concurrency,
            timeout=settings.timeout_seconds,
            write_timeout=settings.write_timeout_seconds,
            observer=observer,
            # The platform counts a request when it arrives, a little after we send it; a
            # send that left our window exactly at 60 s could still be inside the server's.
            rate_window=60.0 + RATE_WINDOW_MARGIN,
        )

    def guard_writes(self, guard: Callable[[], str] | None) -> None:
        """Check ``guard`` just before each write attempt is sent (the writer lease): it
        returns the writer's stamp, sent with the write, or raises LeaseLostError."""
        self._transport.write_guard = guard

    async def __aenter__(self) -> PlatformClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP session; the client may not be used afterwards."""
        await self._transport.close()

    def __repr__(self) -> str:
        return f"PlatformClient({self._transport.base_url!r})"

    @property
    def requests_sent(self) -> int:
        """Requests sent to the platform by this client (every attempt counts)."""
        return self.limiter.sent

    @property
    def rate_limit_wait_seconds(self) -> float:
        """Seconds requests spent waiting for the rate window or a Retry-After block."""
        return self.limiter.waited

    async def call(
        self,
        route: str,
        body: Mapping[str, Any] | None = None,
        *,
        path_params: Mapping[str, str] | None = None,
    ) -> Any:
        """The raw ``data`` of any route in the table (backtests, signals, users.create...)."""
        return await self._transport.call(route, self._routes[route], body, path_params)

    # --- reads -------------------------------------------------------------------------

    async def _pages(
        self, route: str, body: Mapping[str, Any], page_size: int
    ) -> AsyncIterator[list[Any]]:
        """Every page's items in order; raises if a page fails or a token repeats."""
        _check_page_size(page_size)
        token = ""
        seen = {token}
        while True:
            data = await self.call(route, {**body, "limit": page_size, "nextPageId": token})
            items, next_token = parse.page(route, data)
            yield items
            if next_token is None:
                return
            if next_token in seen:
                # A platform bug must not make a pass loop forever or read duplicates.
                raise MalformedResponseError("nextPageId repeated an earlier token", endpoint=route)
            seen.add(next_token)
            token = next_token

    async def iter_bots(self, page_size: int = -1) -> AsyncIterator[Bot]:
        """Every bot of the partner (POST /bots/list), all pages."""
        async for items in self._pages("bots.list", {}, page_size):
            for item in items:
                yield parse.bot("bots.list", item)

    async def sweep(self, *, masters_only: bool = False) -> AsyncGenerator[SweepPart, None]:
        """The whole partner's bots in one part covering every user (one paginated
        /bots/list); raises PlatformError when any page fails."""
        bots: dict[str, Bot] = {}
        async for bot in self.iter_bots():
            bots[bot.bot_id] = bot
        yield SweepPart(bots)

    async def verified_users(self, user_ids: Collection[str]) -> Mapping[str, User]:
        """Those of ``user_ids`` among every user (POST /users/list, all pages)."""
        wanted = set(user_ids)
        return {u.user_id: u async for u in self.iter_users() if u.user_id in wanted}

    async def iter_users(self, page_size: int = -1) -> AsyncIterator[User]:
        """Every user of the partner (POST /users/list), all pages."""
        async for items in self._pages("users.list", {}, page_size):
            for item in items:
                yield parse.user("users.list", item)

    async def list_bots_page(
        self, limit: int = -1, next_page_id: str | None = None
    ) -> tuple[list[Bot], str | None]:
        """One page of /bots/list and the token of the next (None on the last page)."""
        _check_page_size(limit)
        data = await self.call("bots.list", {"limit": limit, "nextPageId": next_page_id or ""})
        items, token = parse.page("bots.list", data)
        return [parse.bot("bots.list", item) for item in items], token

    async def user_bots(self, user_id: str, page_size: int = -1) -> list[Bot]:
        """Every bot of one user (POST /bots/user), all pages."""
        bots: list[Bot] = []
        async for items in self._pages("bots.user", {"userId": user_id}, page_size):
            bots.extend(parse.bot("bots.user", item) for item in items)
        return bots

    async def get_bot(self, user_id: str, bot_id: str) -> Bot:
        """One bot (POST /bots/bot)."""
        data = await self.call("bots.bot", {"userId": user_id, "botId": bot_id})
        return parse.bot("bots.bot", data)

    async def get_user(self, user_id: str) -> User:
        """One user (POST /users/user)."""
        return parse.user("users.user", await self.call("users.user", {"userId": user_id}))

    async def catalogue(self) -> Catalogue:
        """Every script (GET /scripts), cached for ``catalogue_ttl`` seconds per client."""
        async with self._catalogue_lock:
            cached = self._catalogue
            if cached is not None and self._clock() - cached[0] < self.catalogue_ttl:
                return cached[1]
            fresh = parse.catalogue("scripts.list", await self.call("scripts.list"))
            self._catalogue = (self._clock(), fresh)
            return fresh

    async def script(self, bot_type: str) -> Script:
        """One script by bot type (POST /scripts/script)."""
        return parse.script("scripts.script", await self.call("scripts.script", {"type": bot_type}))

    async def exchanges(self) -> list[Exchange]:
        """The exchanges enabled for the partner (GET /exchanges)."""
        data = parse.listing("exchanges.list", await self.call("exchanges.list"), "exchanges")
        return [parse.exchange("exchanges.list", item) for item in data]

    async def markets(self) -> list[Market]:
        """Every market of the enabled exchanges (GET /markets)."""
        data = parse.listing("markets.list", await self.call("markets.list"), "markets")
        return [parse.market("markets.list", item) for item in data]

    # --- writes ------------------------------------------------------------------------

    async def create_bot(
        self,
        user_id: str,
        type: str,  # the partner API's name for the bot type (WhiteLabelScriptType)
        settings: Mapping[str, Scalar],
        master_bot_id: str | None = None,
    ) -> Bot:
        """Create (and start) a bot. Sent once: after an ambiguous failure, check, then retry."""
        body = {
            "userId": user_id,
            "type": type,
            "settings": dict(settings),
            "masterBotId": master_bot_id or "",
        }
        return parse.bot("bots.create", await self.call("bots.create", body))

    async def clone_bot(
        self,
        user_id: str,
        bot_id: str,
        settings: Mapping[str, Scalar],
        *,
        follow_updates: bool = False,
    ) -> Bot:
        """Copy ``bot_id`` for ``user_id`` with ``settings`` merged over; the copy is stopped.

        Sent once: a NetworkError or ServerError means the copy may exist (adopt it later).
        """
        body = {
            "userId": user_id,
            "botId": bot_id,
            "followUpdates": follow_updates,
            "settings": dict(settings),
        }
        return parse.bot("bots.clone", await self.call("bots.clone", body))

    async def edit_bot(self, user_id: str, bot_id: str, settings: Mapping[str, Scalar]) -> None:
        """Change only the given keys. Idempotent: resent after an ambiguous failure."""
        body = {"userId": user_id, "botId": bot_id, "settings": dict(settings)}
        await self.call("bots.edit", body)

    async def start_bot(self, bot_id: str) -> None:
        """Start a stopped bot. Sent once (the platform refuses to start a running bot)."""
        await self.call("bots.start", {"botId": bot_id})

    async def stop_bot(self, bot_id: str) -> None:
        """Stop a bot, cancelling its open orders. Idempotent: resent after ambiguity."""
        await self.call("bots.stop", {"botId": bot_id})

    async def delete_bot(self, bot_id: str) -> None:
        """Delete a bot and its history for good. Sent once."""
        await self.call("bots.delete", {"botId": bot_id})
