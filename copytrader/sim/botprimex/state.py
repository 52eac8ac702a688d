"""The simulated BotPrimeX platform's state: accounts, bots, trades, faults, events.

Pure in-memory logic without aiohttp (the HTTP layer is ``app``). Refusals raise
:class:`~copytrader.sim.botprimex.errors.BpxError` with the API's codes. Semantics follow
``botprimex-api.md``: a key is a whole account; bots are created stopped, only on a connected
exchange; start refuses a running bot (``already_running``), stop a stopped one
(``already_stopped``), delete a running one (``bot_running``); exchange, pair and strategy
never change; ``dry_run`` changes only while the bot is not running.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from copytrader.sim.botprimex import fields, trading
from copytrader.sim.botprimex.errors import BpxError, forbidden, invalid, not_found, refused
from copytrader.sim.botprimex.records import AccountRecord, BotRecord, TradeRecord, iso
from copytrader.sim.faults import FaultPlan, RequestRecord
from copytrader.sim.market import Walk
from copytrader.sim.paging import Pager

RATE_WINDOW = 60.0
KEEP_LISTINGS = 256  # open listings remembered; older cursors expire
START_PRICES = {"BTC/USDT": 64_000.0, "ETH/USDT": 3_400.0, "SOL/USD": 150.0, "ADA/USDT": 0.45}
#: Paths whose requests change platform state (as route templates).
WRITE_TEMPLATES = frozenset(
    {
        ("POST", "/bots"),
        ("PATCH", "/bots/{id}"),
        ("DELETE", "/bots/{id}"),
        ("POST", "/bots/{id}/start"),
        ("POST", "/bots/{id}/stop"),
        ("POST", "/exchanges"),
        ("DELETE", "/exchanges/{id}"),
    }
)


@dataclass(frozen=True)
class Event:
    """One webhook event of an account, waiting to be delivered."""

    account: str
    body: dict[str, Any]


class BpxState:
    """Everything the simulated platform knows. One event loop: no locking."""

    def __init__(
        self,
        *,
        seed: int = 0,
        latency: float = 0.0,
        clock: Callable[[], float] = time.time,
        trade_seconds: float = 30.0,
        step_seconds: float = 1.0,
    ) -> None:
        self.latency = latency
        self.clock = clock
        self.faults = FaultPlan()
        self.requests: list[RequestRecord] = []
        self.walk = Walk(seed, clock, START_PRICES, step_seconds)
        self.step_seconds = step_seconds
        self.trade_steps = max(1, round(trade_seconds / step_seconds))
        self.cursors = Pager("cursor", invalid, keep=KEEP_LISTINGS)
        self.accounts: dict[str, AccountRecord] = {}
        self._by_key: dict[str, str] = {}
        self.bots: dict[str, BotRecord] = {}
        self.trades: dict[str, TradeRecord] = {}
        self.events: deque[Event] = deque()
        #: The last webhook delivery attempts: ``{event, account, url, status, attempt}``.
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=10_000)
        #: Called when an event is queued (the webhook deliverer's wake-up).
        self.on_event: Callable[[], None] | None = None
        self._rng = random.Random(seed)

    # -- ids and time -------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        return prefix + f"{self._rng.getrandbits(64):016x}"

    def time_at(self, step: int) -> float:
        """The wall time of walk step ``step``."""
        return self.clock() - (self.walk.index() - step) * self.step_seconds

    # -- accounts -----------------------------------------------------------------------

    def add_account(
        self,
        name: str,
        key: str,
        *,
        plan: str = "standard",
        exchanges: Iterable[str] = ("binance",),
        limit: int | None = None,
        webhook_url: str | None = None,
        account_id: str | None = None,
    ) -> AccountRecord:
        """A new account with ``key`` (unique) and ``exchanges`` connected."""
        if name in self.accounts or key in self._by_key:
            raise ValueError(f"account {name} or its key already exists")
        record = AccountRecord(
            name,
            account_id or self.new_id("acc_"),
            key,
            plan=plan,
            limit=limit,
            webhook_url=webhook_url,
        )
        for exchange in exchanges:
            record.exchanges[self.new_id("exc_")] = (exchange, self.clock())
        self.accounts[name] = record
        self._by_key[key] = name
        return record

    def add_key(self, name: str, key: str) -> None:
        """A second key of an existing account (the same account behind two keys)."""
        self._by_key[key] = name

    def account_of(self, key: str) -> AccountRecord | None:
        """The account a key opens, or None."""
        name = self._by_key.get(key)
        return self.accounts.get(name) if name is not None else None

    def admit(self, account: AccountRecord, now: float) -> float | None:
        """Count one request against the account's limit; seconds to wait when over it."""
        window = account.window
        while window and window[0] <= now - RATE_WINDOW:
            window.popleft()
        if len(window) >= account.rate_limit_per_minute:
            return max(1.0, window[0] + RATE_WINDOW - now)
        window.append(now)
        return None

    # -- bots ---------------------------------------------------------------------------

    def bot(self, account: AccountRecord, bot_id: str) -> BotRecord:
        """The account's bot (404 when there is none, 403 when it is another account's)."""
        found = self.bots.get(bot_id)
        if found is None:
            raise not_found("bot", bot_id)
        if found.account != account.name:
            raise forbidden("bot", bot_id)
        return found

    def create_bot(
        self,
        account: AccountRecord,
        body: Any,
        *,
        bot_id: str | None = None,
        status: str = "stopped",
    ) -> BotRecord:
        """Create a bot (stopped unless ``status`` says otherwise, for seeding)."""
        values = fields.create(body)
        if values["exchange"] not in account.connected():
            raise refused(
                "exchange_not_connected",
                f"exchange {values['exchange']} is not connected to this account",
            )
        now = self.clock()
        bid = bot_id or self.new_id("bot_")
        if bid in self.bots:
            raise BpxError(409, "conflict", f"bot {bid} already exists")
        bot = BotRecord(
            bid, account.name, **values, status="stopped", created_at=now, updated_at=now
        )
        self.bots[bid] = bot
        account.bots[bid] = None
        if status == "running":
            self._start(bot)
        return bot

    def edit(self, account: AccountRecord, bot_id: str, body: Any) -> BotRecord:
        bot = self.bot(account, bot_id)
        self._apply(bot, fields.edit(body, bot.status))
        return bot

    def _apply(self, bot: BotRecord, values: dict[str, Any]) -> None:
        trading.advance(self, bot, self.walk.index())
        for key, value in values.items():
            setattr(bot, key, value)
        bot.updated_at = self.clock()

    def start(self, account: AccountRecord, bot_id: str) -> BotRecord:
        bot = self.bot(account, bot_id)
        if bot.status == "running":
            raise refused("already_running", f"bot {bot_id} is already running")
        self._start(bot)
        return bot

    def _start(self, bot: BotRecord) -> None:
        bot.status = "running"
        bot.updated_at = self.clock()
        trading.started(self, bot)
        self.emit(bot.account, "bot.started", {"bot_id": bot.bot_id, "status": "running"})

    def stop(self, account: AccountRecord, bot_id: str) -> BotRecord:
        bot = self.bot(account, bot_id)
        if bot.status == "stopped":
            raise refused("already_stopped", f"bot {bot_id} is already stopped")
        self._stop(bot, "stopped")
        return bot

    def _stop(self, bot: BotRecord, status: str) -> None:
        trading.stopped(self, bot)
        bot.status = status
        bot.updated_at = self.clock()
        event = "bot.error" if status == "error" else "bot.stopped"
        self.emit(bot.account, event, {"bot_id": bot.bot_id, "status": status})

    def delete(self, account: AccountRecord, bot_id: str) -> None:
        bot = self.bot(account, bot_id)
        if bot.status == "running":
            raise refused("bot_running", f"bot {bot_id} is running: stop it first")
        self._remove(bot)

    def _remove(self, bot: BotRecord) -> None:
        del self.bots[bot.bot_id]
        owner = self.accounts.get(bot.account)
        if owner is not None:
            owner.bots.pop(bot.bot_id, None)

    def bots_of(self, name: str) -> list[dict[str, Any]]:
        """Bot JSON of every bot of account ``name``, in creation order."""
        return [self.bots[b].to_json() for b in self.accounts[name].bots if b in self.bots]

    # -- out of band (what a person does in the platform's own dashboard) ----------------

    def edit_out_of_band(self, bot_id: str, values: dict[str, Any]) -> None:
        """Change any field of a bot, immutable ones included, as the platform's staff
        might (drift); values are checked."""
        bot = self.bots[bot_id]
        self._apply(bot, {k: fields.check(k, v) for k, v in values.items()})

    def set_status(self, bot_id: str, status: str) -> None:
        """Put a bot in ``running``, ``stopped`` or ``error`` (or any other word) as the
        platform might, with its webhook event."""
        bot = self.bots[bot_id]
        if status == "running" and bot.status != "running":
            self._start(bot)
        elif status != "running" and bot.status == "running":
            self._stop(bot, status)
        else:
            bot.status = status
            if status == "error":
                self.emit(bot.account, "bot.error", {"bot_id": bot_id, "status": status})

    def delete_out_of_band(self, bot_id: str) -> None:
        """Delete a bot whatever its status."""
        bot = self.bots[bot_id]
        if bot.status == "running":
            trading.stopped(self, bot)
        self._remove(bot)

    # -- trading and events -------------------------------------------------------------

    def advance(self) -> None:
        """Open and close every running bot's trades up to now (webhook events included)."""
        now = self.walk.index()
        for bot in list(self.bots.values()):
            if bot.status == "running":
                trading.advance(self, bot, now)

    def emit(self, account: str, event: str, data: dict[str, Any]) -> None:
        """Queue a webhook event of ``account`` (only when it has a webhook URL)."""
        record = self.accounts.get(account)
        if record is None or not record.webhook_url:
            return
        body = {"event": event, "timestamp": iso(self.clock()), "data": data}
        self.events.append(Event(account, body))
        if self.on_event is not None:
            self.on_event()

    # -- the request log ----------------------------------------------------------------

    def writes(self, account: str | None = None) -> list[RequestRecord]:
        """Every write request received (successful or not), optionally of one account."""
        return [
            r
            for r in self.requests
            if (r.method, template(r.path)) in WRITE_TEMPLATES
            and (account is None or r.account == account)
        ]


def template(path: str) -> str:
    """The route template of a request path (``/bots/bot_1/start`` -> ``/bots/{id}/start``)."""
    parts = path.strip("/").split("/")
    if len(parts) >= 2 and parts[0] in ("bots", "trades", "exchanges"):
        parts[1] = "{id}"
    return "/" + "/".join(parts)
