"""A follower's desired clone: settings with the layer that set each one, and a status.

The layer order (documented in ``policies/README.md``) for each setting key:

1. the master's value (``master``);
2. the defaults' override replaces it (``defaults``);
3. the follower's own override replaces it (``override``) and is final;
4. otherwise a scale factor multiplies it (``scale``): the follower's own factor for the key,
   else the defaults' factor (rounded half up for a whole-number setting);
5. ``limits`` clamp numbers into ``[min, max]`` (``limit``).

The desired status is the master's status, except that a paused follower is stopped, and a
stopped master stops its followers only under ``on_master_stopped: stop`` (``keep`` leaves
them as they are: desired status None).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from copytrader.core import normalize
from copytrader.core.model import Bot, Scalar, Script, Status
from copytrader.core.policy import FollowerPolicy, OnMasterStopped, Policy


class Source(enum.StrEnum):
    """Which layer set a desired value."""

    MASTER = "master"
    DEFAULTS = "defaults"
    OVERRIDE = "override"
    SCALE = "scale"
    LIMIT = "limit"


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


def base(policy: Policy, master: Bot, script: Script) -> Base:
    """The master's normalised settings with the defaults' overrides applied."""
    values = normalize.settings(script, master.settings)
    layers = dict.fromkeys(values, Source.MASTER)
    for key, raw in policy.defaults.overrides.items():
        if key in values:
            values[key] = normalize.value(script.spec(key), raw)
            layers[key] = Source.DEFAULTS
    return Base(master, script, policy, MappingProxyType(values), MappingProxyType(layers))


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


def compute(b: Base, follower: FollowerPolicy) -> DesiredClone:
    """The desired clone of ``follower`` (see the module docstring for the layer order)."""
    policy, script = b.policy, b.script
    values = dict(b.values)
    layers = dict(b.layers)
    own = follower.own
    for key, raw in own.overrides.items():
        if key in values:
            values[key] = normalize.value(script.spec(key), raw)
            layers[key] = Source.OVERRIDE
    scale_keys = set(policy.defaults.scale) | set(own.scale)
    for key in scale_keys:
        if key in own.overrides or key not in values:
            continue
        factor = own.scale.get(key, policy.defaults.scale.get(key))
        current = normalize.number(values[key])
        if factor is None or current is None:
            continue
        values[key] = _whole(script, key, normalize.number(current * factor))
        layers[key] = Source.SCALE
    for key in policy.limits:
        if key in values:
            clamped = _clamp(policy, key, values[key])
            if clamped is not None:
                values[key] = clamped
                layers[key] = Source.LIMIT
    return DesiredClone(
        master=policy.master,
        follower=follower.user,
        settings=MappingProxyType(values),
        layers=MappingProxyType(layers),
        status=status(policy, follower, b.master),
        paused=follower.paused,
    )
