"""The simulated partner platform's state: users, bots, faults and the request log.

Pure in-memory logic without aiohttp. Refusals raise :class:`SimError`, which the HTTP layer
turns into an ``isSuccess: false`` envelope. Semantics follow ``partner-api.md``: clones start
stopped and are linked only with ``followUpdates``; a linked copy refuses edits and receives
every later edit of its master; created bots start running.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

from copytrader.sim.faults import Fault, FaultPlan, RequestRecord
from copytrader.sim.haas import catalogue
from copytrader.sim.haas.market import PriceWalk
from copytrader.sim.haas.records import BacktestRule, BotRecord, UserRecord
from copytrader.sim.haas.validation import (
    SimError,
    check_settings,
    check_type,
    conflict,
    invalid,
    not_found,
)
from copytrader.sim.paging import Pager

__all__ = ["WRITE_PATHS", "Fault", "FaultPlan", "RequestRecord", "SimError", "SimState"]

#: Paths whose requests change platform state.
WRITE_PATHS = frozenset({
    "/bots/create", "/bots/clone", "/bots/edit", "/bots/start", "/bots/stop", "/bots/delete",
    "/users/create", "/users/delete", "/signals/send",
})
RATE_WINDOW = 60.0
KEEP_LISTINGS = 64  # open listings remembered; older nextPageId tokens expire


class SimState:
    """Everything the simulated platform knows. One event loop: no locking."""

    def __init__(
        self,
        *,
        api_key: str = "sim-key",
        seed: int = 0,
        rate_limit_per_minute: int | None = None,
        latency: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api_key = api_key
        self.latency = latency
        self.rate_limit_per_minute = rate_limit_per_minute
        self.faults = FaultPlan()
        self.requests: list[RequestRecord] = []
        self.clock = clock
        self.walk = PriceWalk(seed, clock)
        self.pager = Pager("nextPageId", invalid, keep=KEEP_LISTINGS)
        self._rng = random.Random(seed)
        self._bots: dict[str, BotRecord] = {}
        self._users: dict[str, UserRecord] = {}
        self._followers: dict[str, dict[str, None]] = {}  # master id -> linked copies
        self._window: deque[float] = deque()
        # Storage for the activity endpoints (logic in activity.py).
        self.backtests: dict[str, dict[str, Any]] = {}
        self.backtest_rules: list[BacktestRule] = []
        self.signals: dict[str, dict[str, Any]] = {}

    # -- ids and time -------------------------------------------------------------------------
    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self._rng.getrandbits(128), version=4)

    def now(self) -> int:
        """Unix seconds of the state's clock."""
        return int(self.clock())

    # -- rate limit ---------------------------------------------------------------------------
    def admit(self, now: float) -> float | None:
        """Count one request against the rate limit; seconds to wait when refused, else None."""
        if self.rate_limit_per_minute is None:
            return None
        while self._window and self._window[0] <= now - RATE_WINDOW:
            self._window.popleft()
        if len(self._window) >= self.rate_limit_per_minute:
            return max(1.0, self._window[0] + RATE_WINDOW - now)
        self._window.append(now)
        return None

    # -- users --------------------------------------------------------------------------------
    def create_user(
        self,
        exchange_id: str,
        *,
        user_id: str | None = None,
        public_key: str = "sim",
        secret_key: str = "sim",  # noqa: S107 - "sim" is the platform's paper-trading marker
        extra_key: str | None = None,
        exchange_user_id: str | None = None,
    ) -> str:
        """Create a user on ``exchange_id`` and return its id (random unless given)."""
        if exchange_id not in catalogue.EXCHANGE_IDS:
            raise invalid(f"unknown exchange {exchange_id!r}")
        uid = user_id or str(self._uuid())
        if uid in self._users:
            raise conflict(f"user {uid} already exists")
        self._users[uid] = UserRecord(
            uid, exchange_id, self.now(), exchange_user_id or None,
            public_key, secret_key, extra_key,
        )
        return uid

    def _user(self, user_id: object) -> UserRecord:
        found = self._users.get(user_id) if isinstance(user_id, str) else None
        if found is None:
            raise not_found("user", user_id)
        return found

    def user(self, user_id: str) -> dict[str, Any]:
        """The User JSON of ``user_id`` (SimError when unknown)."""
        return self._user(user_id).to_json()

    def user_ids(self) -> list[str]:
        """Every user id in creation order."""
        return list(self._users)

    def delete_user(self, user_id: str) -> None:
        """Delete a user; refused while the user has bots."""
        user = self._user(user_id)
        if user.bots:
            raise conflict(f"user {user_id} still has {len(user.bots)} bot(s)")
        del self._users[user_id]

    # -- bots: reads --------------------------------------------------------------------------
    def _bot(self, bot_id: object, user_id: object = None) -> BotRecord:
        found = self._bots.get(bot_id) if isinstance(bot_id, str) else None
        if found is None or (user_id is not None and found.user_id != user_id):
            raise not_found("bot", bot_id)
        return found

    def record(self, bot_id: str) -> BotRecord:
        """The stored record of a bot (for the activity endpoints)."""
        return self._bot(bot_id)

    def bot(self, bot_id: str, user_id: str | None = None) -> dict[str, Any]:
        """The Bot JSON of ``bot_id`` (KeyError when unknown or not ``user_id``'s)."""
        try:
            return self._bot(bot_id, user_id).to_json(self.walk, self.walk.index())
        except SimError as exc:
            raise KeyError(bot_id) from exc

    def bots_json(self, bot_ids: list[str]) -> list[dict[str, Any]]:
        """Bot JSON of each id still present, in order (one clock read for all)."""
        now, bots, walk = self.walk.index(), self._bots, self.walk
        return [bots[b].to_json(walk, now) for b in bot_ids if b in bots]

    def set_roi(self, bot_id: str, roi: float | None) -> None:
        """Pin the ROI ``bot_id`` reports (None: unpin). KeyError when there is no such bot."""
        found = self._bots.get(bot_id)
        if found is None:
            raise KeyError(bot_id)
        found.pinned_roi = roi

    def bot_ids(self) -> list[str]:
        """Every bot id in creation order (one list copy)."""
        return list(self._bots)

    def bots_of(self, user_id: str) -> list[dict[str, Any]]:
        """Bot JSON of every bot of ``user_id`` in creation order."""
        return self.bots_json(list(self._user(user_id).bots))

    def user_bot_ids(self, user_id: str) -> list[str]:
        """Ids of ``user_id``'s bots in creation order (SimError when the user is unknown)."""
        return list(self._user(user_id).bots)

    # -- bots: lifecycle helpers --------------------------------------------------------------
    def _fold(self, bot: BotRecord) -> float:
        """Move the running segment's profit into ``realized`` (settings are about to change)."""
        if bot.run_start is None:
            return 0.0
        now = self.walk.index()
        profit = self.walk.segment_profit(bot.type, bot.settings, bot.run_start, now)
        bot.realized += profit
        bot.run_start = now
        return profit

    def _set_status(self, bot: BotRecord, status: str, *, quiet: bool = False) -> None:
        was_running = bot.status == "running"
        user = self._users.get(bot.user_id)
        if was_running and status != "running":
            start = bot.run_start
            profit = self._fold(bot)
            if bot.closed is None:
                bot.closed = []
            # A stopped run shows as one closed position (for /bots/positions/closed).
            bot.closed.append({"profit": profit, "start": start, "end": bot.run_start,
                               "ts": self.now()})
            bot.run_start = None
            if user is not None:
                user.bots_active -= 1
        elif status == "running" and not was_running:
            bot.run_start = self.walk.index()
            if user is not None:
                user.bots_active += 1
                user.bots_started += 1
        bot.status = status
        if not quiet:
            bot.log(self.now(), "info", f"Bot status: {status}")

    def _apply(self, bot: BotRecord, settings: dict[str, Any], source: str) -> None:
        if bot.run_start is not None:
            self._fold(bot)
        bot.settings.update(settings)
        bot.log(self.now(), "info", f"Settings changed ({source}): {', '.join(settings)}")

    def _insert(self, user: UserRecord, bot: BotRecord, status: str) -> dict[str, Any]:
        self._bots[bot.bot_id] = bot
        user.bots[bot.bot_id] = None
        if bot.master_bot_id:
            self._followers.setdefault(bot.master_bot_id, {})[bot.bot_id] = None
        # Quiet: the log's first line ("created") is derived from the record, which keeps a
        # 100,000-bot platform from holding 100,000 one-line logs.
        self._set_status(bot, status, quiet=True)
        return bot.to_json(self.walk, self.walk.index())

    def _new_id(self, bot_id: str | None) -> str:
        bid = bot_id or self._uuid().hex
        if bid in self._bots:
            raise conflict(f"bot {bid} already exists")
        return bid

    # -- bots: writes -------------------------------------------------------------------------
    def create_bot(
        self,
        user_id: str,
        type: str,
        settings: dict[str, Any],
        *,
        bot_id: str | None = None,
        status: str = "running",
        master_bot_id: str = "",
    ) -> dict[str, Any]:
        """Create a bot (running by default) and return its Bot JSON; SimError when refused.

        Missing settings take the script's defaults; the exchange is the user's.
        """
        bot_type = check_type(type)
        user = self._user(user_id)
        given = check_settings(bot_type, settings)
        master = self._bot(master_bot_id) if master_bot_id else None
        if master is not None:
            master.followers += 1
        full = catalogue.defaults(bot_type)
        full.update(given)
        bot = BotRecord(self._new_id(bot_id), user.user_id, bot_type, user.exchange_id, full,
                        "stopped", self.now(), master_bot_id or "")
        return self._insert(user, bot, status)

    def clone(
        self, user_id: str, bot_id: str, follow_updates: bool, settings: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Copy ``bot_id`` for ``user_id`` (same exchange), ``settings`` merged; starts stopped."""
        source = self._bot(bot_id)
        user = self._user(user_id)
        if user.exchange_id != source.exchange_id:
            raise conflict(
                f"user {user_id} is on {user.exchange_id}, bot {bot_id} on {source.exchange_id}"
            )
        merged = dict(source.settings)
        merged.update(check_settings(source.type, settings))
        source.cloned += 1
        if follow_updates:
            source.followers += 1
        bot = BotRecord(self._new_id(None), user.user_id, source.type, source.exchange_id,
                        merged, "stopped", self.now(), source.bot_id if follow_updates else "")
        return self._insert(user, bot, "stopped")

    def edit(self, bot_id: str, settings: object, user_id: str | None = None) -> None:
        """Change the given keys of a bot and push them to its linked copies."""
        bot = self._bot(bot_id, user_id)
        if bot.master_bot_id:
            raise conflict(f"bot {bot_id} follows {bot.master_bot_id} and cannot be edited")
        changes = check_settings(bot.type, settings, editing=True)
        if not changes:
            raise invalid("settings must name at least one key")
        self._apply(bot, changes, "edit")
        self._push(bot, changes)

    def _push(self, master: BotRecord, changes: dict[str, Any]) -> None:
        for follower_id in self._followers.get(master.bot_id, {}):
            follower = self._bots.get(follower_id)
            if follower is not None:
                self._apply(follower, changes, f"pushed from {master.bot_id}")

    def start(self, bot_id: str) -> None:
        """Start a stopped bot; refuses any other status."""
        bot = self._bot(bot_id)
        if bot.status != "stopped":
            raise conflict(f"bot {bot_id} is {bot.status}, not stopped")
        self._set_status(bot, "running")

    def stop(self, bot_id: str) -> None:
        """Stop a bot; a stopped bot stays as it is."""
        bot = self._bot(bot_id)
        if bot.status != "stopped":
            self._set_status(bot, "stopped")

    def delete(self, bot_id: str) -> None:
        """Remove a bot and its history for good; its linked copies become independent."""
        bot = self._bot(bot_id)
        if bot.status == "running":
            self._set_status(bot, "stopped")
        del self._bots[bot_id]
        user = self._users.get(bot.user_id)
        if user is not None:
            user.bots.pop(bot_id, None)
        if bot.master_bot_id:
            self._followers.get(bot.master_bot_id, {}).pop(bot_id, None)
            master = self._bots.get(bot.master_bot_id)
            if master is not None:
                master.followers -= 1
        for follower_id in self._followers.pop(bot_id, {}):
            follower = self._bots.get(follower_id)
            if follower is not None:
                follower.master_bot_id = ""

    # -- out of band (what a user does in the platform's own UI) ------------------------------
    def edit_out_of_band(self, bot_id: str, settings: dict[str, Any]) -> None:
        """Change a bot as its user would: any key (editable or not), pushed to linked copies."""
        bot = self._bot(bot_id)
        changes = check_settings(bot.type, settings)
        self._apply(bot, changes, "out of band")
        self._push(bot, changes)

    def set_status(self, bot_id: str, status: str) -> None:
        """Set any status string (e.g. an unknown one) as the platform might."""
        self._set_status(self._bot(bot_id), status)

    def delete_out_of_band(self, bot_id: str) -> None:
        """Delete a bot as its user would."""
        self.delete(bot_id)

    # -- request log --------------------------------------------------------------------------
    def writes(self, path: str | None = None) -> list[RequestRecord]:
        """Every write request received (successful or not), optionally only to ``path``."""
        return [
            r for r in self.requests
            if r.path in WRITE_PATHS and (path is None or r.path == path)
        ]
