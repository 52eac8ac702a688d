"""The tables the read-side queries read, as light SQLAlchemy Core clauses.

The same tables as :mod:`copytrader.store.tables` (whose SQLModel models are the schema of
record, migrated by Alembic), named column by column with the same types, so that a
database-only command (``status``, ``audit``, ``history``) never imports SQLModel and
pydantic: a third of its start-up. ``tests/store/test_readside.py`` checks that every
column here is in the models with the same type.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Float, Integer, String, column, table

from copytrader.store.types import UTCDateTime

snapshots = table(
    "snapshots",
    column("id", BigInteger),
    column("run_id", String),
    column("ts", UTCDateTime),
    column("master", String),
    column("follower", String),
    column("bot_id", String),
    column("status", String),
    column("roi", Float),
    column("profit", Float),
    column("followers", Integer),
    column("in_sync", Boolean),
    column("drifted", Boolean),
    column("failed", Boolean),
    column("paused", Boolean),
    column("carried", Boolean),
)

audit_events = table(
    "audit_events",
    column("id", BigInteger),
    column("ts", UTCDateTime),
    column("run_id", String),
    column("action", String),
    column("master", String),
    column("follower", String),
    column("bot", String),
    column("changes", JSON),
    column("outcome", String),
    column("error", String),
    column("policy_file", String),
    column("policy_sha256", String),
    column("layers", JSON),
    column("detail", String),
    column("event_key", String),
)

runs = table(
    "runs",
    column("run_id", String),
    column("started_at", UTCDateTime),
    column("finished_at", UTCDateTime),
    column("state", String),
    column("actions_ok", Integer),
    column("actions_failed", Integer),
    column("requests", Integer),
    column("errors", Integer),
    column("detail", String),
)

standing_conditions = table(
    "standing_conditions",
    column("key", String),
    column("action", String),
    column("master", String),
    column("follower", String),
    column("bot", String),
    column("since", UTCDateTime),
)

#: ``risk_states.hold_mode`` of a clone held stopped (``core.policy.OnBreach.STOP``).
HOLD_STOP = "stop"

risk_states = table(
    "risk_states",
    column("master", String),
    column("follower", String),
    column("track_bot", String),
    column("track_since", UTCDateTime),
    column("clone_base", Float),
    column("master_base", Float),
    column("peak", Float),
    column("hold_rule", String),
    column("hold_value", Float),
    column("hold_threshold", Float),
    column("hold_since", UTCDateTime),
    column("hold_rules", String),
    column("hold_mode", String),
    column("updated_at", UTCDateTime),
)

trades = table(
    "trades",
    column("bot_id", String),
    column("trade_id", String),
    column("master", String),
    column("follower", String),
    column("event", String),
    column("pair", String),
    column("side", String),
    column("profit_pct", Float),
    column("profit_usd", Float),
    column("closed_at", UTCDateTime),
    column("received_at", UTCDateTime),
)
