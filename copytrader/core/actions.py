"""The values a plan is made of: actions, notes, follower plans, the plan, and the world
it is computed from. Immutable, so the plan printed by ``copytrader plan`` is the object the
executor runs. :mod:`copytrader.core.plan` computes them.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from copytrader.core.desired import DesiredClone
from copytrader.core.diff import Change
from copytrader.core.model import Bot, Catalogue, Scalar
from copytrader.core.policy import PolicySource, Problem
from copytrader.core.records import Link, RiskState

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class Kind(enum.StrEnum):
    CLONE = "clone"
    EDIT = "edit"
    START = "start"
    STOP = "stop"
    DELETE = "delete"
    ADOPT = "adopt"  # take an existing bot as the follower's clone (no write)
    RELEASE = "release"  # forget a removed follower's clone, leave it running (no write)


class Carrier(enum.StrEnum):
    """Who carries a master's later edits to a clone (:mod:`copytrader.core.propagation`)."""

    PLATFORM = "platform"  # cloned with followUpdates: true; never edited by copytrader
    COPYTRADER = "copytrader"  # cloned with followUpdates: false; edited by copytrader


WRITES = frozenset({Kind.CLONE, Kind.EDIT, Kind.START, Kind.STOP, Kind.DELETE})

#: Notes of what waits for a person: shown as HELD items by ``plan`` and ``reconcile``.
HELD_REASONS = frozenset(
    {"immutable_flagged", "adopt_candidate", "duplicate_suspected", "risk_stop", "master_missing"}
)


@dataclass(frozen=True, slots=True)
class Action:
    """One step for one follower. ``payload`` is the settings sent (clone, edit);
    ``propagation`` (clone only) who carries the master's later edits to the new clone."""

    kind: Kind
    master: str
    follower: str
    bot: str | None
    changes: Mapping[str, Change] = field(default_factory=lambda: _EMPTY)
    payload: Mapping[str, Scalar] = field(default_factory=lambda: _EMPTY)
    reason: str = ""
    propagation: Carrier | None = None

    @property
    def is_write(self) -> bool:
        return self.kind in WRITES

    def to_json(self) -> dict[str, Any]:
        """The contract's ACTION shape (a clone also says its ``propagation``)."""
        doc: dict[str, Any] = {
            "action": self.kind.value,
            "master": self.master,
            "follower": self.follower,
            "bot": self.bot,
            "changes": {k: [c.before, c.after] for k, c in self.changes.items()},
        }
        if self.kind is Kind.CLONE:
            doc["propagation"] = (self.propagation or Carrier.COPYTRADER).value
        return doc


@dataclass(frozen=True, slots=True)
class Note:
    """A decision that writes nothing to the platform; it becomes an audit event."""

    action: str  # drift | immutable_flagged | master_missing | clone_missing | status_unknown
    master: str
    follower: str | None = None
    bot: str | None = None
    changes: Mapping[str, Change] = field(default_factory=lambda: _EMPTY)
    detail: str = ""
    bots: tuple[str, ...] = ()  # the bots a note is about when there may be several
    #: A condition that stays until a person acts although its action is not one of the
    #: standing ones (a drift nothing repairs): audited once while it lasts.
    lasting: bool = False

    @property
    def held(self) -> bool:
        """Whether this note is something that waits for a person (a HELD item)."""
        return self.action in HELD_REASONS

    def condition_key(self) -> str:
        """What identifies the condition this note reports, as a stable hex digest: the same
        condition seen again (same action, master, follower, bot and changes), in this
        process or another, has the same key; ``bots``, when given, are part of it."""
        changes = [[k, c.before, c.after] for k, c in sorted(self.changes.items())]
        doc: list[Any] = [self.action, self.master, self.follower, self.bot, changes]
        if self.bots:
            doc.append(sorted(self.bots))
        return hashlib.sha256(json.dumps(doc, default=str).encode()).hexdigest()

    def to_held_json(self) -> dict[str, Any]:
        """The contract's HELD shape."""
        return {
            "reason": self.action,
            "master": self.master,
            "follower": self.follower,
            "bot": self.bot,
            "changes": {k: [c.before, c.after] for k, c in self.changes.items()},
        }


@dataclass(frozen=True, slots=True)
class FollowerPlan:
    """One follower's ordered actions, and what the plan was computed from."""

    master: str
    follower: str
    actions: tuple[Action, ...]
    desired: DesiredClone | None  # None: the follower is no longer listed
    clone: Bot | None  # the clone as read (None: none exists yet)
    source: PolicySource
    drifted: bool = False
    flagged: bool = False  # an immutable change was only flagged: not in sync


@dataclass(frozen=True, slots=True)
class Remember:
    """A link's risk state to store before the plan's writes run, with the note to audit in
    the same transaction (:mod:`copytrader.core.risk`). ``before`` is the state the plan was
    made from (None: none on record); the store writes ``state`` only while that is still
    what it holds (a ``copytrader resume`` since the read is never undone)."""

    state: RiskState
    event: Note | None = None
    before: RiskState | None = None


@dataclass(frozen=True)
class Plan:
    followers: tuple[FollowerPlan, ...] = ()
    notes: tuple[Note, ...] = ()
    risk: tuple[Remember, ...] = ()  # risk states that changed this pass

    @property
    def actions(self) -> tuple[Action, ...]:
        return tuple(a for f in self.followers for a in f.actions)

    @property
    def writes(self) -> int:
        return sum(1 for a in self.actions if a.is_write)

    @property
    def held(self) -> tuple[Note, ...]:
        """The notes that wait for a person (see :data:`HELD_REASONS`)."""
        return tuple(n for n in self.notes if n.held)

    def to_json(self, problems: Sequence[Problem] = ()) -> dict[str, Any]:
        """The contract's ``plan --json`` document: actions, problems and held items."""
        return {
            "actions": [a.to_json() for a in self.actions],
            "problems": [p.to_json() for p in problems],
            "held": [n.to_held_json() for n in self.held],
        }


@dataclass(frozen=True)
class World:
    """One consistent reading of the platform plus what copytrader remembers."""

    bots: Mapping[str, Bot]
    catalogue: Catalogue
    links: Mapping[tuple[str, str], Link] = field(default_factory=dict)
    suspicious: bool = False
    now: datetime | None = None  # when it was read; None: no clone request is still pending
    #: Bots that are nobody's stray bot though ``links`` may not show it: every linked clone
    #: and every master named by any policy file or link, its policy in force or not.
    reserved: frozenset[str] = frozenset()
    #: What the store remembers of each link's risk guard (only links that have any).
    risk: Mapping[tuple[str, str], RiskState] = field(default_factory=dict)
