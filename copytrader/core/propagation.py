"""Who carries a master's edits to each clone: the platform or copytrader.

Under ``propagation: auto`` a follower whose desired settings differ from the master's only
in keys ``/bots/edit`` refuses (``canBeEdited: false``: the master can never edit them
either), and whose policy limits no editable key, is cloned with ``followUpdates: true``:
the platform pushes the master's later edits to it and copytrader never edits it. Every
other follower (and every follower under ``propagation: copytrader``) is cloned with
``followUpdates: false`` and edited by copytrader.

A clone's class is read from the platform: it is carried when its ``masterBotId`` is the
master. A clone whose class is not the follower's wanted class follows
``on_immutable_change`` (only a new clone changes it). A carried clone's drift is measured
against the desired settings (the platform moved it with the master, so what copytrader
last wrote says nothing).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from copytrader.core import diff, normalize
from copytrader.core.actions import Action, Carrier, Kind
from copytrader.core.desired import DesiredClone
from copytrader.core.diff import Change
from copytrader.core.model import Bot, Scalar, Script, Status
from copytrader.core.policy import Policy, Propagation

__all__ = [
    "Carrier",
    "Classifier",
    "carried_by",
    "clone_steps",
    "drift",
    "editable",
    "recreate_steps",
]


def editable(script: Script, key: str) -> bool:
    """Whether ``/bots/edit`` accepts ``key`` once the bot exists."""
    spec = script.spec(key)
    return spec is not None and spec.can_be_edited


class Classifier:
    """The wanted :class:`Carrier` of each follower of one master, for one pass.

    Followers sharing a desired-settings mapping (see :class:`copytrader.core.desired.Computer`)
    are classified once."""

    def __init__(self, policy: Policy, master: Bot, script: Script) -> None:
        self.script = script
        # A platform that cannot link a copy to its master (Script.follow_updates False)
        # leaves every clone to copytrader.
        self.auto = (
            policy.propagation is Propagation.AUTO
            and script.follow_updates
            and not any(editable(script, key) for key in policy.limits)
        )
        self.master = normalize.settings(script, master.settings) if self.auto else {}
        self._seen: dict[int, tuple[Mapping[str, Scalar], Carrier]] = {}

    def __call__(self, want: DesiredClone) -> Carrier:
        if not self.auto:
            return Carrier.COPYTRADER
        seen = self._seen.get(id(want.settings))
        if seen is not None and seen[0] is want.settings:
            return seen[1]
        carrier = Carrier.PLATFORM
        for key, value in want.settings.items():
            have = self.master.get(key)
            if (have != value or type(have) is not type(value)) and editable(self.script, key):
                carrier = Carrier.COPYTRADER
                break
        self._seen[id(want.settings)] = (want.settings, carrier)
        return carrier


def carried_by(clone: Bot, master: Bot) -> Carrier | None:
    """The clone's class as the platform shows it; None when it follows some other bot."""
    if not clone.master_bot_id:
        return Carrier.COPYTRADER
    return Carrier.PLATFORM if clone.master_bot_id == master.bot_id else None


def drift(
    script: Script,
    applied: Mapping[str, Scalar],
    master: Mapping[str, Scalar],
    actual: Mapping[str, Scalar],
) -> dict[str, Change]:
    """A carried clone's drift: keys whose value is neither what copytrader wrote (a key the
    platform does not carry) nor the master's (a key it carries), as (expected, actual)."""
    expected = {k: (master.get(k) if editable(script, k) else v) for k, v in applied.items()}
    return diff.drift(script, expected, actual)


def clone_steps(
    policy: Policy, want: DesiredClone, carrier: Carrier, *, reason: str
) -> tuple[Action, ...]:
    """Clone with the full desired settings (explicit: independent of the master's state at
    the moment the platform merges), then start it if it should run (a copy starts stopped)."""
    changes = {k: Change(None, v, want.layers.get(k)) for k, v in sorted(want.settings.items())}
    steps = [
        Action(
            Kind.CLONE,
            policy.master,
            want.follower,
            None,
            MappingProxyType(changes),
            want.settings,
            reason=reason,
            propagation=carrier,
        )
    ]
    if want.status is Status.RUNNING:
        steps.append(
            Action(Kind.START, policy.master, want.follower, None, reason="master running")
        )
    return tuple(steps)


def recreate_steps(
    policy: Policy,
    want: DesiredClone,
    carrier: Carrier,
    clone: Bot,
    changes: Mapping[str, Change],
    why: str,
) -> tuple[Action, ...]:
    """Stop (if running), delete and clone again: ``on_immutable_change: recreate``."""
    m, f, bot = policy.master, want.follower, clone.bot_id
    actions: list[Action] = []
    if clone.status is Status.RUNNING:
        actions.append(Action(Kind.STOP, m, f, bot, reason="recreate: stop before delete"))
    reason = f"recreate: {why}"
    actions.append(Action(Kind.DELETE, m, f, bot, MappingProxyType(dict(changes)), reason=reason))
    actions.extend(clone_steps(policy, want, carrier, reason=reason))
    return tuple(actions)


def moved(wanted: Carrier, clone: Bot, master: Bot) -> str | None:
    """Why the clone's class is not the wanted one (None: it is)."""
    have = carried_by(clone, master)
    if have is wanted:
        return None
    was = "another bot" if have is None else have.value
    return f"propagation {was} -> {wanted.value} needs a new clone"
