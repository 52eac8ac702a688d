"""Override policies as immutable values, and their checks against the platform.

A policy file (YAML, parsed by :mod:`copytrader.policy.loader`) becomes one :class:`Policy`.
The core validates what needs the platform's knowledge (the script catalogue, the master
bot and the follower users) in :func:`validate`; each finding is a :class:`Problem` that
points into the document by a path of keys and indexes (``("followers", 2, "scale",
"investmentAmount")``), which the loader turns into ``PATH:LINE:COL``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from copytrader.core import words
from copytrader.core.model import Bot, Bounds, Scalar, Script, SettingType, User

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


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def unknown_setting(script: Script, key: str) -> str:
    """``unknown setting 'stopValeu' for bot type spot_grid; did you mean 'stopValue'?``
    followed by the settings the bot type has."""
    keys = [s.key for s in script.settings]
    return (
        f"unknown setting {key!r} for bot type {script.type}{words.did_you_mean(key, keys)} "
        f"(its settings: {', '.join(sorted(keys, key=str.lower))})"
    )


def check_value(script: Script, key: str, value: Scalar) -> str | None:
    """Why ``value`` is not a legal value of setting ``key`` of ``script``, or None if it is.
    Values are written as a policy file writes them (``true``, ``null``, ``'Price'``)."""
    spec = script.spec(key)
    if spec is None:
        return unknown_setting(script, key)
    shown = words.quoted(value)
    if spec.type is SettingType.NUMBER:
        if not _is_number(value):
            return f"{key}: expected a number, got {shown}"
    elif spec.type is SettingType.BOOLEAN:
        if not isinstance(value, bool):
            return f"{key}: expected true or false, got {shown}"
    elif spec.type is SettingType.OPTION:
        if not isinstance(value, str) or (spec.options and value not in spec.options):
            hint = words.did_you_mean(value, spec.options) if isinstance(value, str) else ""
            return f"{key}: {shown} is not one of {', '.join(spec.options)}{hint}"
    elif not isinstance(value, str):
        return f"{key}: expected a string, got {shown}"
    if key == "investmentAmount" and _is_number(value) and float(value) <= 0:  # type: ignore[arg-type]
        return f"{key}: must be above zero, got {shown}"
    if spec.bounds is not None and _is_number(value):
        return spec.bounds.refusal(key, value)  # type: ignore[arg-type]
    return None


def _fixed(script: Script, key: str) -> bool:
    """Whether ``key`` always follows the master (a policy may not change it)."""
    spec = script.spec(key)
    return spec is not None and not spec.overridable


def overlap_problems(file: str, layer: Layer, at: DocPath) -> list[Problem]:
    """A problem for each key both overridden and scaled in ``layer`` (sorted by key).

    An override is final for its own layer's scale (and the defaults' override-then-scale is
    too easy to misread), so one layer may do one or the other to a key, not both. Needs no
    platform: the loader reports it too, with positions.
    """
    return [
        Problem(
            file,
            f"{key} is both overridden and scaled in the same layer: keep one of the two",
            (*at, "scale", key),
        )
        for key in sorted(set(layer.overrides) & set(layer.scale))
    ]


def _check_layer(
    policy: Policy, script: Script, layer: Layer, at: DocPath, problems: list[Problem]
) -> None:
    file = policy.source.path
    problems.extend(overlap_problems(file, layer, at))
    for key, value in layer.overrides.items():
        where = (*at, "overrides", key)
        if key in policy.locked:
            problems.append(Problem(file, f"{key} is locked: it cannot be overridden", where))
            continue
        if _fixed(script, key):
            problems.append(
                Problem(file, f"{key} follows the master: it cannot be overridden", where)
            )
            continue
        reason = check_value(script, key, value)
        if reason:
            problems.append(Problem(file, reason, where))
    for key, factor in layer.scale.items():
        where = (*at, "scale", key)
        spec = script.spec(key)
        if key in policy.locked:
            problems.append(Problem(file, f"{key} is locked: it cannot be scaled", where))
        elif _fixed(script, key):
            problems.append(Problem(file, f"{key} follows the master: it cannot be scaled", where))
        elif spec is None:
            problems.append(Problem(file, unknown_setting(script, key), where))
        elif spec.type is not SettingType.NUMBER:
            problems.append(
                Problem(
                    file,
                    f"{key} is of type {spec.type.value}, not a number: it cannot be scaled",
                    where,
                )
            )
        elif not _is_number(factor) or factor <= 0:
            problems.append(
                Problem(
                    file,
                    f"scale of {key} must be a number above zero, got {words.show(factor)}",
                    where,
                )
            )


def _bounds_problem(file: str, key: str, limit: Limit, bounds: Bounds | None) -> Problem | None:
    """A limit whose min or max the platform would refuse as a value of ``key``."""
    if bounds is None:
        return None
    for side, value in (("min", limit.min), ("max", limit.max)):
        if value is not None and (reason := bounds.refusal(key, value)) is not None:
            return Problem(file, f"limits of {reason}", ("limits", key, side))
    return None


def validate(
    policy: Policy,
    *,
    master: Bot | None,
    script: Script | None,
    users: Mapping[str, User],
) -> list[Problem]:
    """Every problem with ``policy`` that needs the platform to see.

    ``master`` is the master bot as read (None: not found), ``script`` its type's catalogue
    entry, ``users`` the platform's users by id. Structural problems (types, unknown policy
    keys, duplicates) are the loader's; this checks setting keys and values against the
    script, locked keys, and that every follower exists on the master's exchange.
    """
    file = policy.source.path
    if master is None:
        return [Problem(file, f"master bot {policy.master} not found on the platform", ("master",))]
    if script is None:
        return [
            Problem(
                file, f"master bot type {master.type!r} is not in the script catalogue", ("master",)
            )
        ]
    problems: list[Problem] = []
    for key in sorted(policy.locked):
        if script.spec(key) is None:
            problems.append(Problem(file, unknown_setting(script, key), ("locked", key)))
    _check_layer(policy, script, policy.defaults, ("defaults",), problems)
    for key, limit in policy.limits.items():
        spec = script.spec(key)
        if spec is None:
            problems.append(Problem(file, unknown_setting(script, key), ("limits", key)))
        elif spec.type is not SettingType.NUMBER:
            problems.append(
                Problem(
                    file,
                    f"{key} is of type {spec.type.value}: only numbers can have limits",
                    ("limits", key),
                )
            )
        elif _fixed(script, key):
            problems.append(
                Problem(file, f"{key} follows the master: it cannot be limited", ("limits", key))
            )
        elif found := _bounds_problem(file, key, limit, spec.bounds):
            problems.append(found)
        elif limit.min is not None and limit.max is not None and limit.min > limit.max:
            problems.append(
                Problem(
                    file,
                    f"limits of {key}: min {limit.min:g} is above max {limit.max:g}",
                    ("limits", key),
                )
            )
        elif key == "investmentAmount" and limit.min is not None and limit.min <= 0:
            problems.append(
                Problem(file, f"limits of {key}: min must be above zero", ("limits", key, "min"))
            )
    for i, follower in enumerate(policy.followers):
        _check_layer(policy, script, follower.own, ("followers", i), problems)
        user = users.get(follower.user)
        where = ("followers", i, "user")
        if user is None:
            problems.append(
                Problem(file, f"follower user {follower.user} not found on the platform", where)
            )
        elif user.refused:
            problems.append(Problem(file, f"follower {follower.user}: {user.refused}", where))
        elif (refusal := user.exchange_refusal(master.exchange_id)) is not None:
            problems.append(Problem(file, refusal, where))
        elif follower.user == master.user_id:
            problems.append(
                Problem(
                    file,
                    f"follower user {follower.user} owns the master bot",
                    ("followers", i, "user"),
                )
            )
    return problems
