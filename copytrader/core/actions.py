"""The values a plan is made of: actions, notes, follower plans, the plan, and the world
it is computed from. Immutable, so the plan printed by ``copytrader plan`` is the object the
executor runs. :mod:`copytrader.core.plan` computes them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from copytrader.core.desired import DesiredClone
from copytrader.core.diff import Change
from copytrader.core.model import Bot, Catalogue, Scalar
from copytrader.core.policy import PolicySource
from copytrader.core.records import Link

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class Kind(enum.StrEnum):
    CLONE = "clone"
    EDIT = "edit"
    START = "start"
    STOP = "stop"
    DELETE = "delete"
    ADOPT = "adopt"  # take an existing bot as the follower's clone (no write)
    RELEASE = "release"  # forget a removed follower's clone, leave it running (no write)


WRITES = frozenset({Kind.CLONE, Kind.EDIT, Kind.START, Kind.STOP, Kind.DELETE})


@dataclass(frozen=True, slots=True)
class Action:
    """One step for one follower. ``payload`` is the settings sent (clone, edit)."""

    kind: Kind
    master: str
    follower: str
    bot: str | None
    changes: Mapping[str, Change] = field(default_factory=lambda: _EMPTY)
    payload: Mapping[str, Scalar] = field(default_factory=lambda: _EMPTY)
    reason: str = ""

    @property
    def is_write(self) -> bool:
        return self.kind in WRITES

    def to_json(self) -> dict[str, Any]:
        """The contract's ACTION shape."""
        return {
            "action": self.kind.value,
            "master": self.master,
            "follower": self.follower,
            "bot": self.bot,
            "changes": {k: [c.before, c.after] for k, c in self.changes.items()},
        }


@dataclass(frozen=True, slots=True)
class Note:
    """A decision that writes nothing to the platform; it becomes an audit event."""

    action: str  # drift | immutable_flagged | master_missing | clone_missing | status_unknown
    master: str
    follower: str | None = None
    bot: str | None = None
    changes: Mapping[str, Change] = field(default_factory=lambda: _EMPTY)
    detail: str = ""


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


@dataclass(frozen=True)
class Plan:
    followers: tuple[FollowerPlan, ...] = ()
    notes: tuple[Note, ...] = ()

    @property
    def actions(self) -> tuple[Action, ...]:
        return tuple(a for f in self.followers for a in f.actions)

    @property
    def writes(self) -> int:
        return sum(1 for a in self.actions if a.is_write)

    def to_json(self) -> dict[str, Any]:
        return {"actions": [a.to_json() for a in self.actions]}


@dataclass(frozen=True)
class World:
    """One consistent reading of the platform plus what copytrader remembers."""

    bots: Mapping[str, Bot]
    catalogue: Catalogue
    links: Mapping[tuple[str, str], Link] = field(default_factory=dict)
    suspicious: bool = False
    now: datetime | None = None  # when it was read; None: no clone request is still pending
