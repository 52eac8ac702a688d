"""``SqlStore``: the ``Store`` port of the reconcile service on SQLite or PostgreSQL.

Each method is one short transaction, so a crash between two calls leaves whole rows: the
service records a clone's intent before the request and the link after the answer, and the
next pass adopts whatever the lost answer created. :meth:`SqlStore.write_batch` is the one
transaction behind the bookkeeping of platform writes: many followers' pending events, clone
intents, outcomes and the links they changed, fenced by the writer lease when it records
writes about to be sent (:mod:`copytrader.store.writes`). Errors surface as
:class:`~copytrader.errors.StoreError`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from sqlalchemy import case, delete, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from copytrader.core.model import Status
from copytrader.core.records import (
    AuditEvent,
    BotSnapshot,
    Fence,
    Link,
    LinkChange,
    LinkOp,
    RunRecord,
    StandingCondition,
)
from copytrader.store import outbox_rows, settle, tables, writes
from copytrader.store.base import chunks, describe_error, event_row
from copytrader.store.episodes import EpisodeStore
from copytrader.store.outbox import OutboxStore
from copytrader.store.risk import RiskStore
from copytrader.store.states import MasterStateStore

__all__ = ["MasterFile", "SqlStore", "describe_error", "event_row", "snapshot_row"]


@dataclass(frozen=True)
class MasterFile:
    """A master as named by a policy file: the file and the sha256 of its content."""

    master: str
    policy_file: str
    sha256: str


def snapshot_row(snap: BotSnapshot) -> dict[str, Any]:
    """The snapshots row of ``snap``."""
    return {
        "run_id": snap.run_id,
        "ts": snap.ts,
        "master": snap.master,
        "follower": snap.follower,
        "bot_id": snap.bot_id,
        "status": None if snap.status is None else Status(snap.status).value,
        "roi": snap.roi,
        "profit": snap.profit,
        "followers": snap.followers,
        "in_sync": snap.in_sync,
        "drifted": snap.drifted,
        "failed": snap.failed,
        "paused": snap.paused,
        "carried": snap.carried,
    }


def _run_row(run: RunRecord) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "state": run.state,
        "actions_ok": run.actions_ok,
        "actions_failed": run.actions_failed,
        "requests": run.requests,
        "errors": run.errors,
        "detail": run.detail,
    }


class SqlStore(RiskStore, EpisodeStore, OutboxStore, MasterStateStore):
    """The store on an AsyncEngine whose schema is at head (see ``engine.open_store``).

    ``notify``: which audit events get a notification in the outbox (None: none).
    """

    # -- runs -------------------------------------------------------------------------

    async def start_run(self, run: RunRecord) -> None:
        """Record a pass as started (state as given, normally ``running``)."""
        async with self.transaction("start_run") as conn:
            await conn.execute(insert(tables.runs).values(_run_row(run)))

    async def finish_run(self, run: RunRecord) -> None:
        """Record how a pass ended (inserting it if ``start_run`` never got through)."""
        row = _run_row(run)
        cols = [c for c in row if c not in ("run_id", "started_at")]
        async with self.transaction("finish_run") as conn:
            await conn.execute(self._upsert(tables.runs, ["run_id"], cols), row)

    async def close_open_runs(self, now: datetime, *, clone_pending_seconds: float = 0.0) -> int:
        """Mark passes left ``running`` (by a crash) ``interrupted``, ended ``now``, and their
        ``pending`` audit events ``unknown`` (saying what is and is not known); count the
        runs.

        A clone request settled so may still be made by the platform: its link (an intent, no
        bot) waits at least ``clone_pending_seconds`` from ``now`` (its ``pending_until``)
        before a pass may clone again; the bot, should it appear meanwhile, is adopted."""
        a, lk = tables.audit_events, tables.links
        async with self.transaction("close_open_runs") as conn:
            result = await conn.execute(
                update(tables.runs)
                .where(tables.runs.c.state == "running")
                .values(state="interrupted", finished_at=now)
            )
            settled = []
            if self.notify is not None:  # the notifications of these writes' outcomes
                found = await conn.execute(select(a).where(a.c.outcome == "pending"))
                settled = [settle.unknown(row) for row in found.mappings().all()]
            if clone_pending_seconds > 0:
                until = now + timedelta(seconds=clone_pending_seconds)
                asked = await conn.execute(
                    select(a.c.master, a.c.follower)
                    .where(a.c.outcome == "pending", a.c.action == "clone")
                    .distinct()
                )
                for master, follower in asked.all():
                    await conn.execute(
                        update(lk)
                        .where(
                            lk.c.master == master,
                            lk.c.follower == follower,
                            lk.c.bot_id.is_(None),
                            lk.c.intent_at.is_not(None),
                            or_(lk.c.pending_until.is_(None), lk.c.pending_until < until),
                        )
                        .values(pending_until=until)
                    )
            await conn.execute(
                update(a)
                .where(a.c.outcome == "pending")
                .values(
                    outcome="unknown",
                    error=case(
                        (a.c.action == "clone", settle.INTERRUPTED_CLONE),
                        else_=settle.INTERRUPTED,
                    ),
                )
            )
            notes = outbox_rows.rows(self.notify, settled) if self.notify is not None else []
            if notes:
                await conn.execute(insert(tables.notifications), notes)
        return int(result.rowcount)

    async def runs(self, limit: int | None = None) -> list[RunRecord]:
        """Recorded passes, newest first (at most ``limit``)."""
        stmt = select(tables.runs).order_by(tables.runs.c.started_at.desc()).limit(limit)
        async with self.transaction("runs") as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [RunRecord(**dict(row)) for row in rows]

    # -- links ------------------------------------------------------------------------

    async def links(self) -> list[Link]:
        """Every link, ordered by master then follower."""
        t = tables.links
        stmt = select(t).order_by(t.c.master, t.c.follower)
        async with self.transaction("links") as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [
            Link(
                master=row["master"],
                follower=row["follower"],
                bot_id=row["bot_id"],
                intent_at=row["intent_at"],
                applied=MappingProxyType(dict(row["applied"] or {})),
                removed=bool(row["removed"]),
                pending_until=row["pending_until"],
            )
            for row in rows
        ]

    async def record_intent(self, master: str, follower: str, at: datetime) -> None:
        """Before a clone request: the link has no bot and ``intent_at``; ``applied`` is kept."""
        await self.write_batch([LinkChange(LinkOp.INTEND, Link(master, follower, None, at))], ())

    async def save_link(self, link: Link, events: Sequence[AuditEvent] = ()) -> None:
        """Insert or replace the link of ``(link.master, link.follower)``, and write
        ``events`` in the same transaction."""
        await self.write_batch([LinkChange(LinkOp.SAVE, link)], events)

    async def drop_link(
        self, master: str, follower: str, events: Sequence[AuditEvent] = ()
    ) -> None:
        """Forget the link and its risk state (no error when there is none), writing
        ``events`` with it."""
        await self.write_batch([LinkChange(LinkOp.DROP, Link(master, follower, None))], events)

    async def adopt_link(self, link: Link, events: Sequence[AuditEvent] = ()) -> bool:
        """A person's adoption: record ``link`` only while ``(link.master, link.follower)``
        has no link at all (no clone made or requested), writing ``events`` with it in one
        statement's transaction. False, and nothing written, when one appeared after the
        adoption was checked (a pass's clone request, another adoption): a blind write
        would replace it, and the pass would then make a second clone beside the bot."""
        dialect_insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        row = writes.link_row(link, datetime.now(UTC))
        stmt = dialect_insert(tables.links).values(row).on_conflict_do_nothing(
            index_elements=list(writes.LINK_KEYS)
        )
        async with self.transaction("adopt") as conn:
            if (await conn.execute(stmt)).rowcount != 1:
                return False
            await self._write_events(conn, events)
        return True

    async def write_batch(
        self,
        changes: Sequence[LinkChange],
        events: Sequence[AuditEvent],
        fence: Fence | None = None,
    ) -> None:
        """The bookkeeping of many platform writes in one transaction: when ``fence`` is
        given, the writer lease is checked first (LeaseLostError: nothing is written); then
        ``changes`` in their order, then ``events`` (a keyed event replaces the earlier event
        of its key) with their notifications. See :mod:`copytrader.store.writes`."""
        work = functools.partial(
            writes.write_batch,
            stmts=self._stmts,
            changes=changes,
            events=events,
            fence=fence,
            notify=self.notify,
        )
        if self.writer is not None:
            await self.writer.run("record writes", work)
            return
        async with self.transaction("record writes") as conn:
            await conn.run_sync(work)

    # -- standing conditions ----------------------------------------------------------

    async def standing(self, masters: Collection[str]) -> set[str]:
        """The keys of the standing conditions on record for ``masters``."""
        t = tables.standing_conditions
        async with self.transaction("standing") as conn:
            rows = await conn.execute(select(t.c.key).where(t.c.master.in_(list(masters))))
        return {row[0] for row in rows}

    async def save_standing(
        self,
        masters: Collection[str],
        current: Sequence[StandingCondition],
        scope: Collection[str | None] | None = None,
    ) -> None:
        """Make the record of ``masters``' standing conditions exactly ``current``: new ones
        are added (from ``at``), cleared ones removed. With ``scope``, only the conditions of
        those followers (None: a master's own) are touched: a pass that read part of the
        platform leaves the rest of the record as it is."""
        t = tables.standing_conditions
        keep = {c.key for c in current}
        where: list[ColumnElement[bool]] = [t.c.master.in_(list(masters))]
        if scope is not None:
            named = [f for f in scope if f is not None]
            where.append(
                or_(t.c.follower.in_(named), t.c.follower.is_(None))
                if None in scope
                else t.c.follower.in_(named)
            )
        async with self.transaction("save_standing", immediate=True) as conn:
            known = {row[0] for row in await conn.execute(select(t.c.key).where(*where))}
            gone = known - keep
            if gone:
                await conn.execute(delete(t).where(t.c.key.in_(list(gone))))
            new = [dataclasses.asdict(c) for c in current if c.key not in known]
            if new:
                await conn.execute(insert(t), new)

    # -- masters ----------------------------------------------------------------------

    async def record_masters(self, masters: Sequence[MasterFile], at: datetime) -> None:
        """Note the masters the valid policy files name: file, hash, first and last seen."""
        if not masters:
            return
        async with self.transaction("record_masters") as conn:
            for m in masters:
                row = {
                    "id": m.master,
                    "policy_file": m.policy_file,
                    "sha256": m.sha256,
                    "first_seen": at,
                    "last_seen": at,
                }
                await conn.execute(
                    self._upsert(tables.masters, ["id"], ["policy_file", "sha256", "last_seen"]),
                    row,
                )

    async def masters(self) -> list[tuple[MasterFile, datetime, datetime]]:
        """Every recorded master with its first and last seen time, by id."""
        t = tables.masters
        async with self.transaction("masters") as conn:
            rows = (await conn.execute(select(t).order_by(t.c.id))).mappings().all()
        return [
            (MasterFile(r["id"], r["policy_file"], r["sha256"]), r["first_seen"], r["last_seen"])
            for r in rows
        ]

    # -- audit events and snapshots ---------------------------------------------------

    async def add_events(self, events: Sequence[AuditEvent]) -> None:
        """Append audit events, all in one transaction; an event with a ``key`` replaces the
        earlier event of that key (its ``pending`` record) instead of adding a row."""
        if events:
            await self.write_batch((), events)

    async def add_pending(self, events: Sequence[AuditEvent], fence: Fence | None) -> None:
        """The ``pending`` events of writes about to be sent, written only while ``fence``
        holds the writer lease, checked in the same transaction (the lease row is locked
        FOR SHARE on PostgreSQL, so no takeover commits in between). Raises LeaseLostError."""
        await self.write_batch((), events, fence)

    async def add_snapshots(self, snapshots: Sequence[BotSnapshot]) -> None:
        """Append snapshots, all in one transaction (core executemany: fast for big passes)."""
        rows = [snapshot_row(s) for s in snapshots]
        if not rows:
            return
        async with self.transaction("add_snapshots") as conn:
            for chunk in chunks(rows):
                await conn.execute(insert(tables.snapshots), list(chunk))

    async def prune(self, older_than: datetime) -> int:
        """Delete snapshots taken before ``older_than`` (never audit events); count them."""
        t = tables.snapshots
        async with self.transaction("prune") as conn:
            result = await conn.execute(delete(t).where(t.c.ts < older_than))
        return int(result.rowcount)

    # -- lifecycle --------------------------------------------------------------------

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError):
            return False
        return True

    async def close(self) -> None:
        """Close every pooled connection. The store is unusable afterwards."""
        if self.writer is not None:
            await self.writer.close()
        await self.engine.dispose()

