"""Closed trades reported by webhooks, and which bots copytrader knows as masters or clones.

A trade is recorded once per ``(bot_id, trade_id)``: a repeated report changes nothing, and
of two differing reports of one trade the one of higher :meth:`ClosedTrade.rank` is kept
whichever came first, so duplicated and reordered deliveries end in the same row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from copytrader.core.events import ClosedTrade
from copytrader.store import tables
from copytrader.store.masters import DISTINCT_SQL
from copytrader.store.repo import SqlStore

_RANKED = ("closed_at", "event", "profit_pct", "profit_usd")
_CHANGED = ("event", "pair", "side", "profit_pct", "profit_usd", "closed_at")


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose a bot is: a policy's master (``follower`` None) or that follower's clone of
    ``master``."""

    master: str
    follower: str | None = None


async def owners(store: SqlStore) -> dict[str, Owner]:
    """Every bot id copytrader knows: the masters of its policies (each is snapshotted in
    every pass) and every clone it made or adopted (a removed follower's kept clone
    included). Read from the store, so a standby knows them as well as the leader."""
    lk = tables.links
    async with store.transaction("bot owners") as conn:
        masters = (await conn.execute(DISTINCT_SQL)).scalars().all()
        clones = (
            await conn.execute(
                select(lk.c.bot_id, lk.c.master, lk.c.follower).where(lk.c.bot_id.is_not(None))
            )
        ).all()
    found: dict[str, Owner] = {bot: Owner(master, follower) for bot, master, follower in clones}
    for master in masters:
        found[master] = Owner(master)
    return found


def _upsert(store: SqlStore) -> Any:
    t = tables.trades
    dialect_insert = postgresql.insert if store.dialect == "postgresql" else sqlite.insert
    ins = dialect_insert(t)
    newer = tuple_(*(ins.excluded[c] for c in _RANKED)) > tuple_(*(t.c[c] for c in _RANKED))
    return ins.on_conflict_do_update(
        index_elements=["bot_id", "trade_id"],
        set_={c: ins.excluded[c] for c in _CHANGED},
        where=newer,
    )


def trade_row(trade: ClosedTrade, owner: Owner, received_at: datetime) -> dict[str, Any]:
    """The trades row of ``trade`` of ``owner``'s bot."""
    return {
        "bot_id": trade.bot_id,
        "trade_id": trade.trade_id,
        "master": owner.master,
        "follower": owner.follower,
        "event": trade.event,
        "pair": trade.pair,
        "side": trade.side,
        "profit_pct": trade.profit_pct,
        "profit_usd": trade.profit_usd,
        "closed_at": trade.closed_at,
        "received_at": received_at,
    }


async def record(
    store: SqlStore, trades: Sequence[tuple[ClosedTrade, Owner]], received_at: datetime
) -> int:
    """Record ``trades`` in one transaction; how many rows were added or changed (a
    repeated or superseded report adds and changes none)."""
    if not trades:
        return 0
    stmt = _upsert(store)
    changed = 0
    async with store.transaction("record trades") as conn:
        for trade, owner in trades:
            result = await conn.execute(stmt, trade_row(trade, owner, received_at))
            changed += max(result.rowcount, 0)
    return changed


async def count(store: SqlStore) -> int:
    """How many trades are recorded."""
    async with store.transaction("count trades") as conn:
        return int((await conn.execute(select(func.count()).select_from(tables.trades)))
                   .scalar_one())


async def of_bots(store: SqlStore, bot_ids: Sequence[str]) -> list[Mapping[str, Any]]:
    """The recorded trades of ``bot_ids``, by bot and time (for tests and tools)."""
    t = tables.trades
    async with store.transaction("trades of bots") as conn:
        rows = await conn.execute(
            select(t).where(t.c.bot_id.in_(list(bot_ids))).order_by(t.c.bot_id, t.c.closed_at)
        )
        return [dict(r) for r in rows.mappings().all()]
