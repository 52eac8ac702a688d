"""Override policies as immutable values.

A policy file (YAML, parsed by :mod:`copytrader.policy.loader`) becomes one :class:`Policy`.
What is wrong with one is a :class:`Problem` that points into the document by a path of keys
and indexes (``("followers", 2, "scale", "investmentAmount")``), which the loader turns into
``PATH:LINE:COL``. The checks that need the platform's knowledge (the script catalogue, the
master bot, the follower users) are :mod:`copytrader.core.policy_checks`'.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from copytrader.core.model import Scalar

#: A position in a policy document: mapping keys and sequence indexes from the root.
DocPath = tuple[str | int, ...]


class OnFollowerRemoved(enum.StrEnum):
    STOP = "stop"
    DELETE = "delete"
    KEEP = "keep"


class OnMasterStopped(enum.StrEnum):
    STOP = "stop"
    KEEP = "keep"


class OnImmutableChange(enum.StrEnum):
    RECREATE = "recreate"
    FLAG = "flag"


class OnDuplicate(enum.StrEnum):
    """What to do with a suspected duplicate (a follower's look-alike bot copytrader did not
    make): audit it only, or also stop it while it runs. Never delete or adopt it."""

    REPORT = "report"
    STOP = "stop"


class OnExisting(enum.StrEnum):
    """What to do for a listed follower with no link yet that already has look-alike bots:
    hold it for a person, adopt the one candidate, or clone anyway."""

    HOLD = "hold"
    ADOPT = "adopt"
    CLONE = "clone"


class OnBreach(enum.StrEnum):
    """What a breached risk guard does: stop the clone and keep it stopped until a person
    resumes it, or only announce the breach (``risk_breach``)."""

    STOP = "stop"
    NOTIFY = "notify"


class Propagation(enum.StrEnum):
    """Who carries a master's edits to a clone: the platform (``followUpdates: true``) or
    copytrader (an edit per clone). ``auto`` lets the platform carry what it safely can."""

    AUTO = "auto"
    COPYTRADER = "copytrader"


@dataclass(frozen=True)
class Limit:
    """Clamp bounds for a number setting; either side may be open."""

    min: float | None = None
    max: float | None = None


#: The thresholds of a ``risk:`` block, in the order a breach is looked for.
RISK_RULES = ("min_roi_pct", "max_drawdown_pct", "max_tracking_gap_pct")


@dataclass(frozen=True)
class RiskRules:
    """A ``risk:`` block (the defaults', or one follower's own); None: not set here.

    ``min_roi_pct``: the clone's ROI (percent) may not fall below it; ``max_drawdown_pct``:
    nor more than this many points below its peak since it last started;
    ``max_tracking_gap_pct``: nor differ by more than this from the master's ROI gain since
    the clone started. ``on_breach``: stop (the default) or notify.
    """

    min_roi_pct: float | None = None
    max_drawdown_pct: float | None = None
    max_tracking_gap_pct: float | None = None
    on_breach: OnBreach | None = None

    def merged(self, own: RiskRules) -> RiskRules:
        """These rules with ``own``'s keys winning, key by key (defaults, then a follower)."""
        return RiskRules(
            own.min_roi_pct if own.min_roi_pct is not None else self.min_roi_pct,
            own.max_drawdown_pct if own.max_drawdown_pct is not None else self.max_drawdown_pct,
            own.max_tracking_gap_pct
            if own.max_tracking_gap_pct is not None
            else self.max_tracking_gap_pct,
            own.on_breach or self.on_breach,
        )

    def threshold(self, rule: str) -> float | None:
        """The threshold of ``rule`` (one of :data:`RISK_RULES`), None when not set."""
        value: float | None = getattr(self, rule)
        return value

    @property
    def any(self) -> bool:
        """True when at least one threshold is set (else there is nothing to guard)."""
        return any(self.threshold(r) is not None for r in RISK_RULES)

    @property
    def action(self) -> OnBreach:
        return self.on_breach or OnBreach.STOP

    def fingerprint(self) -> str:
        """The values in force, as one stable string: a hold taken under one fingerprint is
        lifted when the follower's risk values change (another fingerprint)."""
        parts = [f"{r}={self.threshold(r)!r}" for r in RISK_RULES]
        return ";".join([*parts, f"on_breach={self.action.value}"])


_NO_RISK = RiskRules()


@dataclass(frozen=True)
class Layer:
    """Overrides, scale factors and risk rules applied together (the defaults, or one
    follower's own)."""

    overrides: Mapping[str, Scalar] = field(default_factory=lambda: MappingProxyType({}))
    scale: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    risk: RiskRules = field(default_factory=RiskRules)


@dataclass(frozen=True)
class FollowerPolicy:
    user: str
    own: Layer = field(default_factory=Layer)
    paused: bool = False


@dataclass(frozen=True)
class PolicySource:
    """Where a policy came from: the file path and the SHA-256 of its bytes."""

    path: str
    sha256: str


@dataclass(frozen=True)
class Policy:
    """Everything one policy file says about one master and its followers."""

    master: str
    followers: tuple[FollowerPolicy, ...] = ()
    defaults: Layer = field(default_factory=Layer)
    limits: Mapping[str, Limit] = field(default_factory=lambda: MappingProxyType({}))
    locked: frozenset[str] = frozenset()
    on_follower_removed: OnFollowerRemoved = OnFollowerRemoved.STOP
    on_master_stopped: OnMasterStopped = OnMasterStopped.STOP
    on_immutable_change: OnImmutableChange = OnImmutableChange.RECREATE
    propagation: Propagation = Propagation.COPYTRADER
    on_duplicate: OnDuplicate = OnDuplicate.REPORT
    on_existing: OnExisting = OnExisting.HOLD
    source: PolicySource = PolicySource("", "")

    def follower(self, user: str) -> FollowerPolicy | None:
        for f in self.followers:
            if f.user == user:
                return f
        return None

    def risk(self, follower: FollowerPolicy) -> RiskRules:
        """``follower``'s risk rules: the defaults' with its own keys winning."""
        own = follower.own.risk
        return self.defaults.risk if own == _NO_RISK else self.defaults.risk.merged(own)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a policy file: a message and where in the document it is.

    ``file`` is the policy file's path; ``at`` the document path of the offending node
    (empty for the whole file). ``line``/``col`` (1-based) are filled in by the loader,
    which knows the YAML positions; 0 means unknown.
    """

    file: str
    message: str
    at: DocPath = ()
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"

    def to_json(self) -> dict[str, object]:
        """The contract's PROBLEM shape."""
        return {"file": self.file, "line": self.line, "col": self.col, "message": self.message}

