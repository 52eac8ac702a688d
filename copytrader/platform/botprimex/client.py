"""The BotPrimeX client: the ``Platform`` port over one client per account.

:class:`BotPrimeXClient` satisfies :class:`copytrader.reconcile.ports.Platform`. The master
account (``COPYTRADER_API_KEY``) holds the masters; each follower account
(``COPYTRADER_ACCOUNTS_FILE``) is a user named by its account name. Every account has its
own :class:`~copytrader.platform.botprimex.account.Account` (key, rate limit, Retry-After
block), so the sweep reads every account concurrently and hands each over as a part the
moment it is read: the master account first (every master), then each follower account as
it arrives. A follower account that cannot be read is a part with ``error`` set; the others
go on.

A clone is ``POST /bots`` in the follower's account with the desired fields, named with
copytrader's tag (:mod:`copytrader.core.tags`); no request of BotPrimeX ties it to the master.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Collection, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

from copytrader.core.model import Bot, Catalogue, Scalar, SweepPart, User
from copytrader.core.tags import clone_tag
from copytrader.errors import AuthError, ConfigError, CopytraderError, PermanentError
from copytrader.platform.backoff import Backoff
from copytrader.platform.botprimex import parse
from copytrader.platform.botprimex.account import Account
from copytrader.platform.botprimex.catalogue import CATALOGUE, CREATE_FIELDS
from copytrader.platform.capabilities import Capability
from copytrader.platform.ratelimit import Clock, Sleep
from copytrader.platform.transport import RequestObserver
from copytrader.settings import PlatformSettings, Secret

__all__ = ["MASTER", "BotPrimeXClient"]

#: The user id of the master account's bots (no account name can be it: names have no "@").
MASTER = "@master"
#: Seconds added to the 60-second rate window (the platform counts arrivals, a little later).
RATE_WINDOW_MARGIN = 0.5
#: Connections every account shares, beyond one account's own concurrency.
POOL = 100


class BotPrimeXClient:
    """Talks to BotPrimeX with the master account's key and each follower account's.

    BotPrimeX has no backtests: it declares no capability beyond the reconcile port."""

    name = "botprimex"
    capabilities: frozenset[Capability] = frozenset()

    def __init__(
        self,
        base_url: str,
        master_key: Secret,
        accounts: Mapping[str, Secret],
        *,
        rate_limit_per_minute: int | None = 100,
        concurrency: int = 8,
        timeout: float = 30.0,
        write_timeout: float | None = None,
        max_attempts: int = 5,
        observer: RequestObserver | None = None,
        backoff: Backoff | None = None,
        rate_window: float = 60.0,
        accounts_file: Path | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """Nothing is sent until the first call. ``rate_limit_per_minute`` is the ceiling of
        every account's limit (None: each account's plan alone); ``accounts_file`` is named
        in the error when the file turns out to list the master account."""
        shared = backoff or Backoff(max_attempts=max_attempts)

        def account(name: str, key: Secret) -> Account:
            return Account(
                name,
                base_url,
                key,
                ceiling=rate_limit_per_minute,
                concurrency=concurrency,
                timeout=timeout,
                write_timeout=write_timeout,
                backoff=shared,
                observer=observer,
                rate_window=rate_window,
                clock=clock,
                sleep=sleep,
                connector=self._pool,
            )

        # One pool of connections for every account: the accounts' requests go to one host,
        # and a deployment of many accounts must not hold a connection (a file, a TLS
        # session) per account.
        self._connections: aiohttp.TCPConnector | None = None
        self._pool_limit = POOL + concurrency
        self.base_url = base_url
        self.accounts_file = accounts_file
        self.master = account(MASTER, master_key)
        self.followers = {name: account(name, key) for name, key in accounts.items()}
        #: The account and tag of every bot seen (start, stop and delete name a bot only).
        self._owner: dict[str, str] = {}
        self._marks: dict[str, str] = {}

    @classmethod
    def from_settings(
        cls, settings: PlatformSettings, *, observer: RequestObserver | None = None
    ) -> BotPrimeXClient:
        """A client configured from ``settings.platform`` (its accounts included)."""
        return cls(
            settings.api_url,
            settings.api_key,
            settings.accounts,
            rate_limit_per_minute=settings.rate_limit_per_minute,
            concurrency=settings.concurrency,
            timeout=settings.timeout_seconds,
            write_timeout=settings.write_timeout_seconds,
            observer=observer,
            rate_window=60.0 + RATE_WINDOW_MARGIN,
            accounts_file=settings.accounts_file,
        )

    # -- lifecycle ----------------------------------------------------------------------

    def _all(self) -> list[Account]:
        return [self.master, *self.followers.values()]

    def guard_writes(self, guard: Callable[[], str] | None) -> None:
        """Check ``guard`` just before each write attempt of any account is sent (the writer
        lease): it returns the writer's stamp, sent with the write, or raises."""
        for acc in self._all():
            acc.transport.write_guard = guard

    async def __aenter__(self) -> BotPrimeXClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _pool(self) -> aiohttp.BaseConnector:
        """The connection pool every account's session shares (made on first use, inside
        the event loop)."""
        if self._connections is None or self._connections.closed:
            self._connections = aiohttp.TCPConnector(limit=self._pool_limit)
        return self._connections

    async def aclose(self) -> None:
        """Close every account's HTTP session, then the shared pool."""
        await asyncio.gather(*(acc.close() for acc in self._all()))
        if self._connections is not None:
            await self._connections.close()
            self._connections = None

    def __repr__(self) -> str:
        return f"BotPrimeXClient({self.base_url!r}, {len(self.followers)} follower accounts)"

    @property
    def requests_sent(self) -> int:
        """Requests sent by every account (every attempt counts)."""
        return sum(acc.limiter.sent for acc in self._all())

    @property
    def rate_limit_wait_seconds(self) -> float:
        """Seconds requests of every account spent waiting for a rate window or a block."""
        return sum(acc.limiter.waited for acc in self._all())

    def account(self, user_id: str) -> Account:
        """The client of ``user_id``'s account; PermanentError for a name not in the file."""
        if user_id == MASTER:
            return self.master
        found = self.followers.get(user_id)
        if found is None:
            raise PermanentError(
                f"no account {user_id!r} in the accounts file",
                endpoint="accounts",
                code="unknown_account",
            )
        return found

    def _of(self, bot_id: str) -> Account:
        owner = self._owner.get(bot_id)
        if owner is None:
            raise PermanentError(
                f"bot {bot_id} was not seen in any account's sweep",
                endpoint="accounts",
                code="unknown_bot",
            )
        return self.account(owner)

    def _seen(self, bots: list[Bot]) -> dict[str, Bot]:
        for b in bots:
            self._owner[b.bot_id] = b.user_id
            self._marks[b.bot_id] = b.mark
        return {b.bot_id: b for b in bots}

    # -- reads --------------------------------------------------------------------------

    async def catalogue(self) -> Catalogue:
        """The bot fields as a catalogue (no request: BotPrimeX has no catalogue to read)."""
        return CATALOGUE

    async def _follower_part(self, name: str) -> SweepPart:
        acc = self.followers[name]
        try:
            await self._not_master(acc)
            bots = await acc.bots()
        except CopytraderError as exc:
            return SweepPart({}, frozenset({name}), error=str(exc))
        return SweepPart(self._seen(bots), frozenset({name}))

    async def _not_master(self, acc: Account) -> None:
        """ConfigError naming the accounts file when ``acc`` is the master account."""
        mine, master = await asyncio.gather(acc.info(), self.master.info())
        if mine.account_id == master.account_id:
            where = self.accounts_file or "the accounts file"
            raise ConfigError(
                f"COPYTRADER_ACCOUNTS_FILE: {where}: account {acc.name} is the master account "
                f"({master.account_id}): the master account may not be a follower"
            )

    async def sweep(self, *, masters_only: bool = False) -> AsyncGenerator[SweepPart, None]:
        """The master account's bots (every master; raises PlatformError when they cannot be
        read), then each follower account's as soon as it is read, every account read at
        once, each under its own rate limit. ``masters_only``: the master account alone."""
        master = asyncio.create_task(self.master.bots())
        tasks = (
            []
            if masters_only
            else [asyncio.create_task(self._follower_part(name)) for name in self.followers]
        )
        try:
            yield SweepPart(self._seen(await master), frozenset({MASTER}))
            for next_done in asyncio.as_completed(tasks):
                yield await next_done
        finally:
            pending = [t for t in (master, *tasks) if not t.done()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def iter_users(self, page_size: int = -1) -> AsyncIterator[User]:
        """Every follower account of the accounts file (no request; their exchanges are
        read by :meth:`verified_users` only)."""
        for name in self.followers:
            yield User(name, "")

    async def verified_users(self, user_ids: Collection[str]) -> Mapping[str, User]:
        """Each of ``user_ids`` in the accounts file, with its connected exchanges
        (``GET /exchanges``), or with ``refused`` when its key is refused. Every account of
        the file is read (``GET /account``): ConfigError naming the file when one is the
        master account; PlatformError when an account cannot be read for another reason."""
        names = [n for n in user_ids if n in self.followers]
        others = [a for n, a in self.followers.items() if n not in names]
        # Every account of the file is checked against the master account: the file is
        # invalid when it lists it, whether a policy names that account or not.
        found: list[User | None] = await asyncio.gather(
            *(self._verified(n) for n in names), *(self._other(a) for a in others)
        )
        return {u.user_id: u for u in found if u is not None}

    async def _other(self, acc: Account) -> None:
        try:
            await self._not_master(acc)
        except AuthError:
            return  # not named by any policy: its key matters to no follower

    async def _verified(self, name: str) -> User:
        acc = self.followers[name]
        try:
            await self._not_master(acc)
            connected = await acc.exchanges()
        except AuthError as exc:
            return User(name, "", refused=f"its API key was refused ({exc})")
        return User(name, "", exchanges=connected)

    async def get_bot(self, user_id: str, bot_id: str) -> Bot:
        """One bot of ``user_id``'s account (``GET /bots/:id``)."""
        return self._seen([await self.account(user_id).bot(bot_id)])[bot_id]

    async def get_user(self, user_id: str) -> User:
        """The follower account ``user_id`` (PermanentError when not in the accounts file)."""
        self.account(user_id)
        return User(user_id, "")

    # -- writes -------------------------------------------------------------------------

    async def clone_bot(
        self,
        user_id: str,
        bot_id: str,
        settings: Mapping[str, Scalar],
        *,
        follow_updates: bool = False,
    ) -> Bot:
        """Create ``user_id``'s clone of master ``bot_id`` (stopped) with ``settings`` (the
        desired fields), named with copytrader's tag. ``follow_updates`` has no meaning on
        BotPrimeX (no master link). Sent once: a lost answer is adopted by its tag."""
        fields: dict[str, Any] = {key: settings[key] for key in CREATE_FIELDS if key in settings}
        fields["name"] = parse.tagged(str(settings.get("name", "")), clone_tag(bot_id, user_id))
        made = await self.account(user_id).create(fields)
        self._seen([made])
        return made

    async def edit_bot(self, user_id: str, bot_id: str, settings: Mapping[str, Scalar]) -> None:
        """Change the given fields; a new ``name`` keeps the bot's tag."""
        fields: dict[str, Any] = dict(settings)
        mark = self._marks.get(bot_id, "")
        if "name" in fields and mark:
            fields["name"] = parse.tagged(str(fields["name"]), mark)
        await self.account(user_id).edit(bot_id, fields)

    async def start_bot(self, bot_id: str) -> None:
        """Start a bot; one already running (a lost answer) counts as started."""
        await self._of(bot_id).start(bot_id)

    async def stop_bot(self, bot_id: str) -> None:
        """Stop a bot; one already stopped counts as stopped."""
        await self._of(bot_id).stop(bot_id)

    async def delete_bot(self, bot_id: str) -> None:
        """Delete a stopped bot for good. Sent once."""
        await self._of(bot_id).delete(bot_id)
        self._owner.pop(bot_id, None)
