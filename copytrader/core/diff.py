"""Differences between desired and actual settings, as immutable values.

Both sides are normalised (:mod:`copytrader.core.normalize`) before they are compared, so
``"0"`` and ``0``, or an absent key and its default, are no difference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from copytrader.core import normalize
from copytrader.core.desired import DesiredClone, Source
from copytrader.core.model import Scalar, Script


@dataclass(frozen=True, slots=True)
class Change:
    """One setting's change: ``before`` (None for a new clone), ``after``, and who set ``after``."""

    before: Scalar
    after: Scalar
    layer: Source | None = None


Changes = Mapping[str, Change]


def against(
    desired: DesiredClone, script: Script, actual: Mapping[str, Scalar]
) -> dict[str, Change]:
    """The keys whose actual (normalised) value differs from the desired one, sorted by key."""
    out: dict[str, Change] = {}
    # Sorted only when something differs: a steady pass diffs 100,000 clones that don't.
    for key, want in desired.settings.items():
        raw = actual[key] if key in actual else _default(script, key)
        if raw == want and type(raw) is type(want):
            continue  # the common case, without normalising
        have = normalize.value(script.spec(key), raw)
        if have != want or type(have) is not type(want):
            out[key] = Change(have, want, desired.layers.get(key))
    return dict(sorted(out.items())) if len(out) > 1 else out


def drift(
    script: Script, applied: Mapping[str, Scalar], actual: Mapping[str, Scalar]
) -> dict[str, Change]:
    """Keys whose actual value differs from what copytrader last applied: someone else's edit."""
    out: dict[str, Change] = {}
    for key in applied:
        spec = script.spec(key)
        if spec is None:
            continue
        raw_was = applied[key]
        raw_now = actual.get(key, spec.default)
        if raw_was == raw_now and type(raw_was) is type(raw_now):
            continue  # the common case (nobody touched it), without normalising
        was = normalize.value(spec, raw_was)
        now = normalize.value(spec, raw_now)
        if was != now or type(was) is not type(now):
            out[key] = Change(was, now)
    return dict(sorted(out.items())) if len(out) > 1 else out


def _default(script: Script, key: str) -> Scalar:
    spec = script.spec(key)
    return None if spec is None else spec.default
