"""Why a follower's clone has each value: ``copytrader explain`` (and the dashboard's
follower page) as one pure function.

:func:`explain` runs the planner's own layer order (:func:`copytrader.core.desired.trace`)
for one follower and sets the clone's actual values beside the result, compared exactly as
the planner compares them (:func:`copytrader.core.diff.against`). Nothing here reads or
writes anything: the caller hands over the policy, the master bot, its script and the clone
as read.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from copytrader.core import desired, diff, normalize, propagation
from copytrader.core.actions import Carrier
from copytrader.core.desired import DesiredClone, Source, Steps
from copytrader.core.model import Bot, Scalar, Script, Status
from copytrader.core.policy import FollowerPolicy, Policy


@dataclass(frozen=True, slots=True)
class Setting:
    """One desired setting: its value, the layer that set it, every step that applied (with
    the value after it, ``master`` first), and the clone's actual value (normalised as the
    planner compares it; None without a clone)."""

    key: str
    value: Scalar
    layer: Source
    steps: Steps
    actual: Scalar
    in_sync: bool | None  # None: there is no clone to compare with

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "layer": self.layer.value,
            "steps": {layer.value: value for layer, value in self.steps},
            "actual": self.actual,
            "in_sync": self.in_sync,
        }


@dataclass(frozen=True)
class Explanation:
    """Everything ``explain`` shows about one follower of one master.

    ``propagation`` is who should carry the master's later edits to this follower's clone
    (the planner's choice); ``clone_propagation`` who carries them to the clone as it is
    (None: no clone, or it follows some other bot)."""

    master: str
    follower: str
    bot: str | None
    settings: tuple[Setting, ...]
    propagation: Carrier
    clone_propagation: Carrier | None
    status: Status | None  # the desired status (None: left as it is)
    actual_status: Status | None
    paused: bool
    held: str | None = None  # why a risk guard keeps the clone stopped

    @property
    def differing(self) -> tuple[str, ...]:
        """The keys whose actual value differs from the desired one (none without a clone)."""
        return tuple(s.key for s in self.settings if s.in_sync is False)

    def to_json(self) -> dict[str, Any]:
        """The contract's ``explain --json`` document, with ``propagation``, the statuses
        and ``paused`` added."""
        return {
            "master": self.master,
            "follower": self.follower,
            "bot": self.bot,
            "settings": [s.to_json() for s in self.settings],
            "propagation": self.propagation.value,
            "clone_propagation": (
                self.clone_propagation.value if self.clone_propagation is not None else None
            ),
            "status": self.status.value if self.status is not None else None,
            "actual_status": self.actual_status.value if self.actual_status else None,
            "paused": self.paused,
            "held": self.held,
        }


def explain(
    policy: Policy,
    follower: FollowerPolicy,
    master: Bot,
    script: Script,
    clone: Bot | None,
    planned: DesiredClone | None = None,
) -> Explanation:
    """The explanation of ``follower``'s desired clone of ``master`` under ``policy``, beside
    ``clone`` as read from the platform (None: it has no clone). ``planned``: the planner's
    desired clone of this follower, whose status (a risk guard's hold included) is shown."""
    want, steps = desired.trace(desired.base(policy, master, script), follower)
    if planned is not None:
        want = dataclasses.replace(want, status=planned.status, held=planned.held)
    differs = diff.against(want, script, clone.settings) if clone is not None else {}
    settings = tuple(
        _setting(script, want, key, steps[key], clone, differs) for key in want.settings
    )
    return Explanation(
        master=policy.master,
        follower=follower.user,
        bot=clone.bot_id if clone is not None else None,
        settings=settings,
        propagation=propagation.Classifier(policy, master, script)(want),
        clone_propagation=propagation.carried_by(clone, master) if clone is not None else None,
        status=want.status,
        actual_status=clone.status if clone is not None else None,
        paused=want.paused,
        held=want.held,
    )


def _setting(
    script: Script,
    want: DesiredClone,
    key: str,
    steps: Steps,
    clone: Bot | None,
    differs: dict[str, diff.Change],
) -> Setting:
    if clone is None:
        actual: Scalar = None
    elif key in differs:
        actual = differs[key].before
    else:
        spec = script.spec(key)
        raw = clone.settings.get(key, spec.default if spec else None)
        actual = normalize.value(spec, raw)
    return Setting(
        key=key,
        value=want.settings[key],
        layer=want.layers[key],
        steps=steps,
        actual=actual,
        in_sync=None if clone is None else key not in differs,
    )
