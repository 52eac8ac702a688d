"""The database schema: SQLModel tables of the store adapter.

Rows are not domain values: :mod:`copytrader.store.repo` maps them to and from
:mod:`copytrader.core.records`. Every timestamp column is :class:`UTCDateTime`, so values
read back are timezone-aware UTC on SQLite and PostgreSQL alike. The migration in
``copytrader/migrations/versions`` creates exactly these tables (a test compares them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, Table, text
from sqlmodel import Field, SQLModel

from copytrader.store.types import UTCDateTime

__all__ = [
    "UTCDateTime",
    "audit_events",
    "links",
    "masters",
    "metadata",
    "runs",
    "snapshots",
    "standing_conditions",
    "writer_lease",
]


def _big_id() -> Column[int]:
    # BIGINT on PostgreSQL (snapshot ids grow by followers x passes); on SQLite only
    # "INTEGER PRIMARY KEY" is the auto-incrementing rowid.
    return Column(
        "id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )


class MasterRow(SQLModel, table=True):
    """A master bot copytrader has been told about by a policy file."""

    __tablename__ = "masters"

    id: str = Field(primary_key=True)
    policy_file: str
    sha256: str
    first_seen: datetime = Field(sa_type=UTCDateTime)
    last_seen: datetime = Field(sa_type=UTCDateTime)


class LinkRow(SQLModel, table=True):
    """One follower's clone of one master (see ``copytrader.core.records.Link``)."""

    __tablename__ = "links"

    master: str = Field(primary_key=True)
    follower: str = Field(primary_key=True)
    bot_id: str | None = None
    intent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    applied: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    removed: bool = False
    updated_at: datetime = Field(sa_type=UTCDateTime)
    pending_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RunRow(SQLModel, table=True):
    """One reconcile pass."""

    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_state", "state"), Index("ix_runs_started_at", "started_at"))

    run_id: str = Field(primary_key=True)
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    state: str
    actions_ok: int = 0
    actions_failed: int = 0
    requests: int = 0
    errors: int = 0
    detail: str | None = None


class SnapshotRow(SQLModel, table=True):
    """A master (``follower`` NULL) or a clone as seen in one pass."""

    __tablename__ = "snapshots"
    __table_args__ = (
        # latest per master (scan backwards to the master row) and a master's history
        Index("ix_snapshots_master_ts", "master", "ts"),
        # one follower's history over time
        Index("ix_snapshots_follower_ts", "follower", "ts"),
        # the rows of one pass: status joins clones to their master row by run
        Index("ix_snapshots_run_master", "run_id", "master"),
        # retention: prune by age
        Index("ix_snapshots_ts", "ts"),
        # the master rows alone (one per master and pass), newest first or sampled over
        # time: the dashboard's master ROI series and a master's latest pass. Partial, so it
        # costs nothing for the clone rows (all but one of each pass's rows).
        Index(
            "ix_snapshots_master_rows",
            "master",
            "ts",
            sqlite_where=text("follower IS NULL"),
            postgresql_where=text("follower IS NULL"),
        ),
    )

    id: int | None = Field(default=None, sa_column=_big_id())
    run_id: str
    ts: datetime = Field(sa_type=UTCDateTime)
    master: str
    follower: str | None = None
    bot_id: str | None = None
    status: str | None = None
    roi: float | None = None
    profit: float | None = None
    followers: int = 0
    in_sync: bool = True
    drifted: bool = False
    failed: bool = False
    paused: bool = False
    carried: bool = False  # a clone the platform carries the master's edits to


class AuditRow(SQLModel, table=True):
    """One audit event; never pruned."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_ts", "ts"),
        Index("ix_audit_events_master_ts", "master", "ts"),
        Index("ix_audit_events_follower_ts", "follower", "ts"),
        Index("ix_audit_events_action_ts", "action", "ts"),
        # a pending event and its outcome share a key; also finds pending events after a crash
        Index("ux_audit_events_event_key", "event_key", unique=True),
        Index("ix_audit_events_outcome", "outcome"),
    )

    id: int | None = Field(default=None, sa_column=_big_id())
    ts: datetime = Field(sa_type=UTCDateTime)
    run_id: str
    action: str
    master: str | None = None
    follower: str | None = None
    bot: str | None = None
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    outcome: str
    error: str | None = None
    policy_file: str | None = None
    policy_sha256: str | None = None
    layers: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    detail: str | None = None
    event_key: str | None = None


class StandingRow(SQLModel, table=True):
    """A standing condition (a flagged immutable change, a missing master, a suspected
    duplicate...) that was audited: audited once for the life of the database, and removed
    when the condition clears, so that it is audited again if it comes back."""

    __tablename__ = "standing_conditions"
    __table_args__ = (Index("ix_standing_conditions_master", "master"),)

    key: str = Field(primary_key=True)  # Note.condition_key()
    action: str
    master: str
    follower: str | None = None
    bot: str | None = None
    since: datetime = Field(sa_type=UTCDateTime)


class MasterStateRow(SQLModel, table=True):
    """A policy's master bot as last seen (see ``copytrader.core.records.MasterState``):
    its settings and its script's setting specs, rewritten only when they change."""

    __tablename__ = "master_states"

    master: str = Field(primary_key=True)
    name: str = ""  # for display: the bot's name, or its script and market
    bot_type: str
    status: str
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    script: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    seen_at: datetime = Field(sa_type=UTCDateTime)


class LeaseRow(SQLModel, table=True):
    """The writer lease: who may write to the platform now. One row, ``name`` ``writer``.

    ``epoch`` goes up by one at every takeover (the fencing token). On PostgreSQL
    ``expires_at`` is judged on the database's clock; on SQLite an OS lock on a file beside
    the database is the lease and ``expires_at`` stays empty.
    """

    __tablename__ = "writer_lease"

    name: str = Field(primary_key=True)
    holder: str = ""
    epoch: int = 0
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acquired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RiskStateRow(SQLModel, table=True):
    """One link's risk guard (see ``copytrader.core.records.RiskState``): the measures since
    the clone last started (``track_*``) and a breach on record (``hold_*``)."""

    __tablename__ = "risk_states"
    __table_args__ = (Index("ix_risk_states_hold_mode", "hold_mode"),)

    master: str = Field(primary_key=True)
    follower: str = Field(primary_key=True)
    track_bot: str | None = None
    track_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    clone_base: float | None = None
    master_base: float | None = None
    peak: float | None = None
    hold_rule: str | None = None
    hold_value: float | None = None
    hold_threshold: float | None = None
    hold_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    hold_rules: str | None = None
    hold_mode: str | None = None  # stop | notify
    updated_at: datetime = Field(sa_type=UTCDateTime)


class EpisodeRow(SQLModel, table=True):
    """A run of failing passes (``platform_down``) or of a follower's failing writes
    (``write_failing``): kept while the streak lasts, so an episode is audited once and its
    end (``recovered``) too, restarts included."""

    __tablename__ = "episodes"

    key: str = Field(primary_key=True)
    kind: str
    master: str | None = None
    follower: str | None = None
    streak: int = 0
    open: bool = False  # audited: the streak reached the threshold
    since: datetime = Field(sa_type=UTCDateTime)
    last_error: str | None = None
    updated_at: datetime = Field(sa_type=UTCDateTime)


class NotificationRow(SQLModel, table=True):
    """The outbox: one notification per notifying audit event, written in the event's
    transaction. ``body`` is the exact JSON sent to a webhook (its ``id`` is this row's);
    ``next_at`` the earliest a sink is due (None once settled)."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_next_at", "next_at"),
        Index("ix_notifications_created_at", "created_at"),
    )

    id: str = Field(primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    action: str
    run_id: str
    body: str
    next_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    settled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DeliveryRow(SQLModel, table=True):
    """One notification's delivery to one sink (a webhook, an Apprise URL: named without
    the URL), so a sink that fails never makes another receive the notification twice."""

    __tablename__ = "notification_deliveries"

    notification_id: str = Field(primary_key=True)
    sink: str = Field(primary_key=True)
    attempts: int = 0
    next_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    gave_up_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None


class TradeRow(SQLModel, table=True):
    """A closed trade of a master (``follower`` NULL) or of a follower's clone, as the
    platform's webhook reported it. ``(bot_id, trade_id)`` is the trade: a repeated report
    changes nothing, and of differing reports of one trade the latest event is kept.
    ``received_at`` is when copytrader first heard of it."""

    __tablename__ = "trades"
    __table_args__ = (
        # a master's trades and its clones' trades over time (history per master)
        Index("ix_trades_master_closed_at", "master", "closed_at"),
        # one follower's trades over time (history per follower)
        Index("ix_trades_follower_closed_at", "follower", "closed_at"),
    )

    bot_id: str = Field(primary_key=True)
    trade_id: str = Field(primary_key=True)
    master: str
    follower: str | None = None
    event: str
    pair: str
    side: str
    profit_pct: float
    profit_usd: float
    closed_at: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime = Field(sa_type=UTCDateTime)


def unindexed(column: Any) -> Any:
    """``column`` as an expression no index can serve (``column || ''``, a text column).

    SQLite plans without statistics, so between two indexes that both fit a query it may pick
    the one that reads a whole master's rows; leaving a term to filter the rows instead
    steers it to the index the query is written for. Harmless on PostgreSQL."""
    return column.concat("")


def _table(model: type[SQLModel]) -> Table:
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


masters = _table(MasterRow)
links = _table(LinkRow)
runs = _table(RunRow)
snapshots = _table(SnapshotRow)
audit_events = _table(AuditRow)
standing_conditions = _table(StandingRow)
writer_lease = _table(LeaseRow)
risk_states = _table(RiskStateRow)
episodes = _table(EpisodeRow)
notifications = _table(NotificationRow)
deliveries = _table(DeliveryRow)
master_states = _table(MasterStateRow)
trades = _table(TradeRow)
metadata = SQLModel.metadata
