"""A follower's desired clone: settings with the layer that set each one, and a status.

The layer order lives in one place, :data:`ORDER`, and every consumer runs it: the planner
(through :class:`Computer` / :func:`compute`) and ``copytrader explain`` (through
:func:`trace`, which records the value after each step). For each setting key:

1. the master's value (``master``), normalised, the script's default when absent;
2. the defaults' override replaces it (``defaults``);
3. the follower's own override replaces it (``override``) and is final for scaling;
4. otherwise a scale factor multiplies it (``scale``): the follower's own factor for the key,
   else the defaults' factor (rounded half up for a whole-number setting);
5. ``limits`` clamp numbers into ``[min, max]`` (``limit``);
6. a ``locked`` key takes the master's value (clamped by its limits, if any) whatever came
   before (``locked``). A valid policy never overrides or scales a locked key, so this step
   changes nothing there; it names the reason the value is the master's.

A step *applies* to a key when the policy gives it something to do for that key (an
override, a factor, a limit that moves the value, a lock); the last step that applied is
the key's layer.

The desired status is the master's status, except that a paused follower is stopped, and a
stopped master stops its followers only under ``on_master_stopped: stop`` (``keep`` leaves
them as they are: desired status None).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, NamedTuple

from copytrader.core import normalize
from copytrader.core.model import Bot, Scalar, Script, Status
from copytrader.core.policy import FollowerPolicy, Layer, OnMasterStopped, Policy


class Source(enum.StrEnum):
    """Which layer set a desired value."""

    MASTER = "master"
    DEFAULTS = "defaults"
    OVERRIDE = "override"
    SCALE = "scale"
    LIMIT = "limit"
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class DesiredClone:
    """What one follower's clone should be. ``status`` None means: leave the status alone.
    ``held``: why a risk guard keeps the clone stopped (its status is then stopped)."""

    master: str
    follower: str
    settings: Mapping[str, Scalar]
    layers: Mapping[str, Source]
    status: Status | None
    paused: bool
    held: str | None = None


#: One key's way through the layers: each step that applied, with the value after it.
Steps = tuple[tuple[Source, Scalar], ...]


class _Context(NamedTuple):
    policy: Policy
    script: Script
    master: Mapping[str, Scalar]  # the master's normalised settings
    own: Layer  # the follower's own layer (empty for the follower-independent steps)


class _Skip:
    """A step that does not apply to a key (None is a legal setting value)."""


_SKIP: Final = _Skip()


class Step(NamedTuple):
    """One layer: the keys it may set, and how it sets one (or :data:`_SKIP`)."""

    layer: Source
    keys: Callable[[_Context], Iterable[str]]
    apply: Callable[[_Context, str, Scalar], Scalar | _Skip]


def _whole(script: Script, key: str, value: Scalar) -> Scalar:
    """A scaled ``value`` rounded half up when ``key`` takes whole numbers only (BotPrimeX's
    ``max_open_trades``: 3 x 0.5 is 2), else as it is."""
    spec = script.spec(key)
    n = normalize.number(value)
    if spec is None or spec.bounds is None or not spec.bounds.whole or n is None:
        return value
    return math.floor(n + 0.5)


def _clamp(policy: Policy, key: str, value: Scalar) -> Scalar | None:
    """The clamped value, or None when the limit does not change it."""
    limit = policy.limits.get(key)
    n = normalize.number(value)
    if limit is None or n is None:
        return None
    if limit.min is not None and n < limit.min:
        return normalize.number(limit.min)
    if limit.max is not None and n > limit.max:
        return normalize.number(limit.max)
    return None


def _master(c: _Context, key: str, _: Scalar) -> Scalar:
    return c.master[key]


def _defaults(c: _Context, key: str, _: Scalar) -> Scalar:
    return normalize.value(c.script.spec(key), c.policy.defaults.overrides[key])


def _override(c: _Context, key: str, _: Scalar) -> Scalar:
    return normalize.value(c.script.spec(key), c.own.overrides[key])


def _scale_keys(c: _Context) -> Iterable[str]:
    return (set(c.policy.defaults.scale) | set(c.own.scale)) - set(c.own.overrides)


def _scale(c: _Context, key: str, value: Scalar) -> Scalar | _Skip:
    factor = c.own.scale.get(key, c.policy.defaults.scale.get(key))
    current = normalize.number(value)
    if factor is None or current is None:
        return _SKIP
    return _whole(c.script, key, normalize.number(current * factor))


def _limit(c: _Context, key: str, value: Scalar) -> Scalar | _Skip:
    clamped = _clamp(c.policy, key, value)
    return _SKIP if clamped is None else clamped


def _locked(c: _Context, key: str, _: Scalar) -> Scalar:
    value = c.master[key]
    clamped = _clamp(c.policy, key, value)
    return value if clamped is None else clamped


#: The layer order, the only copy of it (see the module docstring).
ORDER: Final[tuple[Step, ...]] = (
    Step(Source.MASTER, lambda c: c.master, _master),
    Step(Source.DEFAULTS, lambda c: c.policy.defaults.overrides, _defaults),
    Step(Source.OVERRIDE, lambda c: c.own.overrides, _override),
    Step(Source.SCALE, _scale_keys, _scale),
    Step(Source.LIMIT, lambda c: c.policy.limits, _limit),
    Step(Source.LOCKED, lambda c: c.policy.locked, _locked),
)
#: The first steps depend on the master and the policy alone: :func:`base` runs them once
#: per master and pass; the rest run per follower (:func:`compute`).
SHARED: Final = 2


def _run(
    steps: Iterable[Step],
    c: _Context,
    values: dict[str, Scalar],
    layers: dict[str, Source],
    trail: dict[str, list[tuple[Source, Scalar]]] | None = None,
) -> None:
    """Run ``steps`` in order over the keys each may set (a key the script lacks is never
    set); ``trail`` (when given) records each step that applied and the value after it."""
    for step in steps:
        for key in step.keys(c):
            if key not in values and step.layer is not Source.MASTER:
                continue
            out = step.apply(c, key, values.get(key))
            if isinstance(out, _Skip):
                continue
            values[key] = out
            layers[key] = step.layer
            if trail is not None:
                trail.setdefault(key, []).append((step.layer, out))


@dataclass(frozen=True)
class Base:
    """The part of every follower's desired settings that does not depend on the follower.

    Computed once per master and pass (:func:`base`), so a master with 100,000 followers
    normalises its settings once, not 100,000 times.
    """

    master: Bot
    script: Script
    policy: Policy
    values: Mapping[str, Scalar]  # master's normalised settings with the defaults' overrides
    layers: Mapping[str, Source]
    normalised: Mapping[str, Scalar]  # the master's normalised settings alone
    steps: Mapping[str, Steps]  # each key's steps so far


def base(policy: Policy, master: Bot, script: Script) -> Base:
    """The follower-independent steps (:data:`ORDER` up to :data:`SHARED`) for one master."""
    normalised = normalize.settings(script, master.settings)
    c = _Context(policy, script, normalised, Layer())
    values: dict[str, Scalar] = {}
    layers: dict[str, Source] = {}
    trail: dict[str, list[tuple[Source, Scalar]]] = {}
    _run(ORDER[:SHARED], c, values, layers, trail)
    return Base(
        master,
        script,
        policy,
        MappingProxyType(values),
        MappingProxyType(layers),
        MappingProxyType(normalised),
        MappingProxyType({k: tuple(v) for k, v in trail.items()}),
    )


def status(policy: Policy, follower: FollowerPolicy, master: Bot | None) -> Status | None:
    """The follower clone's desired status (None: leave it as it is)."""
    if follower.paused:
        return Status.STOPPED
    if master is None or master.status is Status.STOPPED:
        return Status.STOPPED if policy.on_master_stopped is OnMasterStopped.STOP else None
    if master.status is Status.RUNNING:
        return Status.RUNNING
    return None  # unknown master status: do not start or stop anything on a guess


class Computer:
    """:func:`compute` for many followers of one master, sharing the settings and layers of
    followers whose own layer is the same (most followers of a master have none, or one of
    a few): at 100,000 followers that is most of a plan's memory and CPU."""

    def __init__(self, b: Base) -> None:
        self.base = b
        self._shared: dict[object, tuple[Mapping[str, Scalar], Mapping[str, Source]]] = {}

    def __call__(self, follower: FollowerPolicy) -> DesiredClone:
        own = follower.own
        try:
            key: object = (tuple(own.overrides.items()), tuple(own.scale.items()))
            shared = self._shared.get(key)
        except TypeError:  # an unhashable value: compute without sharing
            return compute(self.base, follower)
        if shared is None:
            first = compute(self.base, follower)
            self._shared[key] = (first.settings, first.layers)
            return first
        return DesiredClone(
            master=self.base.policy.master,
            follower=follower.user,
            settings=shared[0],
            layers=shared[1],
            status=status(self.base.policy, follower, self.base.master),
            paused=follower.paused,
        )


def _follower(
    b: Base, follower: FollowerPolicy, trail: dict[str, list[tuple[Source, Scalar]]] | None
) -> DesiredClone:
    values, layers = dict(b.values), dict(b.layers)
    c = _Context(b.policy, b.script, b.normalised, follower.own)
    _run(ORDER[SHARED:], c, values, layers, trail)
    return DesiredClone(
        master=b.policy.master,
        follower=follower.user,
        settings=MappingProxyType(values),
        layers=MappingProxyType(layers),
        status=status(b.policy, follower, b.master),
        paused=follower.paused,
    )


def compute(b: Base, follower: FollowerPolicy) -> DesiredClone:
    """The desired clone of ``follower`` (see the module docstring for the layer order)."""
    return _follower(b, follower, None)


def trace(b: Base, follower: FollowerPolicy) -> tuple[DesiredClone, Mapping[str, Steps]]:
    """:func:`compute`'s result and, per key, every step that applied to it with the value
    after that step, in :data:`ORDER` (the first is always ``master``)."""
    trail = {k: list(v) for k, v in b.steps.items()}
    want = _follower(b, follower, trail)
    return want, MappingProxyType({k: tuple(v) for k, v in trail.items()})
