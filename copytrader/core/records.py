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

from copytrader.core.model import Scalar, Settings, Status


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
