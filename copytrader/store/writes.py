"""The statements that record platform writes: link changes, audit events and the check of
the writer lease's fence, as synchronous functions over one SQLAlchemy ``Connection`` inside
a transaction.

One implementation serves both databases: on PostgreSQL it runs on the event loop through
``AsyncConnection.run_sync`` (asyncpg sends each statement), on SQLite in one hop on the
store's writer thread (:mod:`copytrader.store.sqlite_writer`). Runs of one kind of change
and the events of a batch go to the database as one ``executemany`` each.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, insert, text
from sqlalchemy.dialects import postgresql, sqlite

from copytrader.core.notices import Filter
from copytrader.core.records import AuditEvent, Fence, Link, LinkChange, LinkOp
from copytrader.errors import LeaseLostError
from copytrader.store import outbox_rows, tables

# Rows per executemany: big enough to amortise round trips, small enough to bound memory.
CHUNK = 10_000

#: The columns a saved link replaces, and those a clone intent sets (``applied`` is kept).
LINK_COLS = ("bot_id", "intent_at", "applied", "removed", "updated_at", "pending_until")
INTENT_COLS = ("bot_id", "intent_at", "updated_at", "pending_until")
LINK_KEYS = ("master", "follower")

_FENCE_SQL = {
    "postgresql": text(
        "SELECT holder, epoch, expires_at > now() FROM writer_lease WHERE name = 'writer' FOR SHARE"
    ),
    "sqlite": text("SELECT holder, epoch, 1 FROM writer_lease WHERE name = 'writer'"),
}


def chunks(rows: Sequence[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    """``rows`` in slices of at most :data:`CHUNK`."""
    for start in range(0, len(rows), CHUNK):
        yield list(rows[start : start + CHUNK])


def event_row(event: AuditEvent) -> dict[str, Any]:
    """The audit_events row of ``event``."""
    return {**event.to_dict(), "event_key": event.key}


def link_row(link: Link, now: datetime) -> dict[str, Any]:
    """The links row of ``link``, updated ``now``."""
    return {
        "master": link.master,
        "follower": link.follower,
        "bot_id": link.bot_id,
        "intent_at": link.intent_at,
        "applied": dict(link.applied),
        "removed": link.removed,
        "updated_at": now,
        "pending_until": link.pending_until,
    }


class Statements:
    """Insert-or-update statements of one dialect, built once per shape (building one is
    most of the CPU of a link update during a large fan-out)."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self._upserts: dict[tuple[str, tuple[str, ...], tuple[str, ...]], Any] = {}
        t, r = tables.links, tables.risk_states
        self.drop_link = delete(t).where(
            t.c.master == bindparam("m"), t.c.follower == bindparam("f")
        )
        self.drop_risk = delete(r).where(
            r.c.master == bindparam("m"), r.c.follower == bindparam("f")
        )

    def upsert(self, table: Table, keys: Sequence[str], update_cols: Sequence[str]) -> Any:
        """An insert-or-update of ``table`` on ``keys`` taking its rows as parameters."""
        shape = (table.name, tuple(keys), tuple(update_cols))
        stmt = self._upserts.get(shape)
        if stmt is None:
            dialect_insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
            ins = dialect_insert(table)
            stmt = ins.on_conflict_do_update(
                index_elements=list(keys), set_={c: ins.excluded[c] for c in update_cols}
            )
            self._upserts[shape] = stmt
        return stmt


def check_fence(conn: Connection, fence: Fence) -> None:
    """Raise LeaseLostError unless ``fence`` is the writer lease now (the row is locked FOR
    SHARE on PostgreSQL until the transaction ends, so no takeover commits in between)."""
    row = conn.execute(_FENCE_SQL[conn.dialect.name]).first()
    if row is None or row[0] != fence.holder or row[1] != fence.epoch:
        raise LeaseLostError("not sent: another process took the writer lease over")
    if not row[2]:
        raise LeaseLostError("not sent: the writer lease expired on the database's clock")


def write_links(conn: Connection, stmts: Statements, changes: Sequence[LinkChange]) -> None:
    """Apply ``changes`` in order (a link changed twice ends as the last change says); a
    dropped link takes its risk state with it."""
    now = datetime.now(UTC)
    for op, run in itertools.groupby(changes, key=lambda c: c.op):
        links = [c.link for c in run]
        if op is LinkOp.DROP:
            keys = [{"m": lk.master, "f": lk.follower} for lk in links]
            conn.execute(stmts.drop_link, keys)
            conn.execute(stmts.drop_risk, keys)
            continue
        cols: Sequence[str]
        if op is LinkOp.INTEND:
            rows = [link_row(Link(lk.master, lk.follower, None, lk.intent_at), now) for lk in links]
            cols = INTENT_COLS
        else:
            rows = [link_row(lk, now) for lk in links]
            cols = LINK_COLS
        conn.execute(stmts.upsert(tables.links, LINK_KEYS, cols), rows)


def write_events(
    conn: Connection,
    stmts: Statements,
    events: Sequence[AuditEvent],
    notify: Filter | None = None,
) -> None:
    """Append ``events``; an event with a ``key`` replaces the earlier event of its key. The
    notification of each event ``notify`` wants goes into the outbox with it."""
    plain = [event_row(e) for e in events if e.key is None]
    for chunk in chunks(plain):
        conn.execute(insert(tables.audit_events), chunk)
    keyed = [event_row(e) for e in events if e.key is not None]
    if keyed:
        cols = [c for c in keyed[0] if c != "event_key"]
        stmt = stmts.upsert(tables.audit_events, ["event_key"], cols)
        if len({row["event_key"] for row in keyed}) == len(keyed):
            for chunk in chunks(keyed):
                conn.execute(stmt, chunk)
        else:
            for row in keyed:  # in order: a pending event and its outcome share this batch
                conn.execute(stmt, row)
    if notify is not None:
        notes = outbox_rows.rows(notify, events)
        if notes:
            conn.execute(insert(tables.notifications), notes)


def write_batch(
    conn: Connection,
    stmts: Statements,
    changes: Sequence[LinkChange],
    events: Sequence[AuditEvent],
    fence: Fence | None,
    notify: Filter | None = None,
) -> None:
    """The fence first (when given: nothing is written if it fails), then ``changes`` in
    order, then ``events`` with their notifications; the caller's transaction makes them
    one."""
    if fence is not None:
        check_fence(conn, fence)
    write_links(conn, stmts, changes)
    write_events(conn, stmts, events, notify)
