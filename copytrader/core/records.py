"""Values that the reconcile service hands to the store, and the store hands back.

These are domain values, not database rows: the store adapter maps them to its SQLModel
tables. Timestamps are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from copytrader.core.model import Scalar, Script, Settings, Status
from copytrader.core.policy import OnBreach


@dataclass(frozen=True, slots=True)
class Link:
    """What copytrader knows of one follower's clone of one master.

    ``bot_id`` None with ``intent_at`` set means a clone request was (maybe) sent and its
    answer never recorded: the next pass looks for the bot to adopt before cloning again.
    ``applied`` is the settings copytrader last wrote (or found, on adoption): a clone whose
    settings differ from it was changed by someone else (drift). ``removed`` marks a follower
    no longer listed whose clone was kept stopped (``on_follower_removed: stop``).
    ``pending_until`` is set when a clone request timed out: the platform may still be making
    that bot, so until then no second clone is requested (the bot is adopted when it shows).
    """

    master: str
    follower: str
    bot_id: str | None
    intent_at: datetime | None = None
    applied: Settings = field(default_factory=lambda: MappingProxyType({}))
    removed: bool = False
    pending_until: datetime | None = None


class LinkOp(enum.StrEnum):
    """What a :class:`LinkChange` does to the link of its master and follower."""

    SAVE = "save"  # insert or replace it with ``link``
    INTEND = "intend"  # a clone is about to be requested: no bot, ``intent_at``; keep ``applied``
    DROP = "drop"  # forget it (no error when there is none)


@dataclass(frozen=True, slots=True)
class LinkChange:
    """One change to a link, written in a batch with the audit events of the same writes."""

    op: LinkOp
    link: Link


@dataclass(frozen=True)
class AuditEvent:
    """One decision or platform write, as the audit trail keeps it.

    ``changes`` maps a setting key to ``(before, after)``; ``layers`` says which policy
    layer produced each ``after`` (``master``, ``defaults``, ``override``, ``scale``,
    ``limit``). ``outcome`` is ``ok``, ``failed``, ``noted`` (a decision with no write),
    ``pending`` (written before a platform write is sent; replaced by the outcome, through the
    same ``key``, once the answer is in) or ``unknown`` (a pending write whose process died
    before its answer was recorded).
    """

    ts: datetime
    run_id: str
    action: str
    master: str | None = None
    follower: str | None = None
    bot: str | None = None
    changes: Mapping[str, tuple[Scalar, Scalar]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    outcome: str = "ok"
    error: str | None = None
    policy_file: str | None = None
    policy_sha256: str | None = None
    layers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    detail: str | None = None
    key: str | None = None  # events with the same key are one event: the last one wins

    def to_dict(self) -> dict[str, Any]:
        """The event's fields as plain data: the contract's nine (``changes`` as
        ``{key: [before, after]}``), then the provenance fields. ``ts`` stays a datetime."""
        return {
            "ts": self.ts,
            "run_id": self.run_id,
            "action": self.action,
            "master": self.master,
            "follower": self.follower,
            "bot": self.bot,
            "changes": {k: [before, after] for k, (before, after) in self.changes.items()},
            "outcome": self.outcome,
            "error": self.error,
            "policy_file": self.policy_file,
            "policy_sha256": self.policy_sha256,
            "layers": dict(self.layers),
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class BotSnapshot:
    """A master or a clone as seen in one pass."""

    run_id: str
    ts: datetime
    master: str
    follower: str | None  # None for the master itself
    bot_id: str | None
    status: Status | None  # None: no clone exists
    roi: float | None
    profit: float | None
    followers: int = 0  # for a master: the policy's follower count
    in_sync: bool = True
    drifted: bool = False
    failed: bool = False
    paused: bool = False
    carried: bool = False  # a clone made with followUpdates: the platform carries the edits


@dataclass(frozen=True)
class MasterState:
    """A policy's master bot as a pass last saw it, with the script its settings follow:
    enough to compute a follower's desired settings later without the platform (the
    dashboard's follower page). ``seen_at`` is when it was first seen exactly so."""

    master: str
    bot_type: str
    status: Status
    settings: Settings
    script: Script
    seen_at: datetime


@dataclass(frozen=True)
class RunRecord:
    """One reconcile pass: when, how it ended, and what it did."""

    run_id: str
    started_at: datetime
    finished_at: datetime | None = None
    state: str = "running"  # running | ok | failed | aborted | interrupted
    actions_ok: int = 0
    actions_failed: int = 0
    requests: int = 0
    errors: int = 0
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class StandingCondition:
    """A standing condition that was audited (see ``Note.condition_key``)."""

    key: str
    action: str
    master: str
    follower: str | None
    bot: str | None
    since: datetime


@dataclass(frozen=True, slots=True)
class Fence:
    """The writer lease as one write is checked against it: who holds it, at which epoch
    (the fencing token, +1 at every takeover)."""

    holder: str
    epoch: int

    def stamp(self) -> str:
        """``holder#epoch``: the writer of a platform request, as sent with it."""
        return f"{self.holder}#{self.epoch}"


_DESCRIBE = {
    "min_roi_pct": "ROI {value:g}% is below min_roi_pct {threshold:g}",
    "max_drawdown_pct": "ROI fell {value:g} points from its peak, more than max_drawdown_pct "
    "{threshold:g}",
    "max_tracking_gap_pct": "ROI is {value:g} points away from the master's gain since the clone "
    "started, more than max_tracking_gap_pct {threshold:g}",
}


@dataclass(frozen=True, slots=True)
class Track:
    """The clone's measures since it last started: when, its ROI and the master's then, and
    the clone's peak ROI since. ``bot`` "" stands for a clone being made this pass."""

    bot: str
    since: datetime
    clone_base: float
    master_base: float
    peak: float


@dataclass(frozen=True, slots=True)
class Hold:
    """A breach on record: the rule, the measured value, the threshold, since when, and the
    fingerprint of the follower's risk values then (:meth:`RiskRules.fingerprint`).
    ``mode`` stop keeps the clone stopped; notify only remembers the breach was announced."""

    rule: str
    value: float
    threshold: float
    since: datetime
    rules: str
    mode: OnBreach = OnBreach.STOP

    def describe(self) -> str:
        """``ROI -25% is below min_roi_pct -20``."""
        return _DESCRIBE[self.rule].format(value=self.value, threshold=self.threshold)


@dataclass(frozen=True, slots=True)
class RiskState:
    """What the store keeps of one link's risk guard between passes."""

    master: str
    follower: str
    track: Track | None = None
    hold: Hold | None = None

    @property
    def empty(self) -> bool:
        return self.track is None and self.hold is None

    @property
    def stopped(self) -> bool:
        """True while a stop hold keeps the clone stopped."""
        return self.hold is not None and self.hold.mode is OnBreach.STOP


@dataclass(frozen=True, slots=True)
class Episode:
    """A streak of failing passes (``platform_down``) or of one follower's failing writes
    (``write_failing``), kept while it lasts; ``open`` once it was audited."""

    key: str
    kind: str
    master: str | None
    follower: str | None
    streak: int
    open: bool
    since: datetime
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One notification's delivery to one sink: how many attempts, when the next is due,
    and when it was delivered (or given up). ``last_error`` never holds a URL or a secret."""

    notification: str
    sink: str
    attempts: int = 0
    next_at: datetime | None = None
    last_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    gave_up_at: datetime | None = None
    last_error: str | None = None

    @property
    def done(self) -> bool:
        return self.delivered_at is not None or self.gave_up_at is not None


@dataclass(frozen=True)
class Notification:
    """An outbox row: an audit event's notification, with its deliveries so far by sink.
    ``body`` is the exact JSON text a webhook receives."""

    id: str
    created_at: datetime
    action: str
    run_id: str
    body: str
    deliveries: Mapping[str, Delivery] = field(default_factory=lambda: MappingProxyType({}))
