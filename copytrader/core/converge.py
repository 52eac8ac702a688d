"""The steps that bring an existing clone to its desired settings and status.

:func:`steps` is called by the planner for each follower that has a clone. In order:

- a change of a key the platform will not edit (``canBeEdited: false``, or every key of a
  clone that follows its master) or of the clone's class (:mod:`copytrader.core.propagation`)
  follows ``on_immutable_change``: ``recreate`` (stop, delete, clone, start) or ``flag`` (an
  ``immutable_flagged`` note; the editable keys are still edited);
- a clone that should stop is stopped before it is edited; one that should run is started
  after;
- an edit of a key the platform edits only while the bot is stopped (``stopped_only``, such
  as BotPrimeX's ``dry_run``) on a running clone is bracketed: stop, edit, then start again
  (unless the clone should stay stopped);
- a clone whose status the platform reports as unknown or in error is neither started nor
  stopped on a guess (a ``status_unknown`` note).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from copytrader.core import diff, propagation
from copytrader.core.actions import Action, Kind, Note
from copytrader.core.desired import DesiredClone
from copytrader.core.diff import Change
from copytrader.core.model import Bot, Script, Status
from copytrader.core.policy import OnImmutableChange, Policy

#: Statuses a clone is never started or stopped from: the platform's word is not enough.
UNSURE = frozenset({Status.UNKNOWN, Status.ERROR})


def stopped_only(script: Script, changes: Mapping[str, Change]) -> list[str]:
    """The keys of ``changes`` the platform edits only while the bot is stopped, sorted."""
    return sorted(k for k in changes if (spec := script.spec(k)) is not None and spec.stopped_only)


def steps(
    policy: Policy,
    script: Script,
    want: DesiredClone,
    clone: Bot,
    carrier: propagation.Carrier,
    master: Bot,
) -> tuple[tuple[Action, ...], bool, list[Note]]:
    """The actions for ``clone``, whether an immutable change was only flagged, and the
    notes (see the module docstring for the rules)."""
    m, f, bot = policy.master, want.follower, clone.bot_id
    changes = diff.against(want, script, clone.settings)
    moved = propagation.moved(carrier, clone, master)
    if not changes and not moved and (want.status is None or clone.status is want.status):
        return (), False, []  # in sync: the common case of a steady pass, decided early
    # A clone that follows a master (masterBotId set) refuses every edit.
    frozen = bool(clone.master_bot_id)
    immutable = {k: c for k, c in changes.items() if frozen or not propagation.editable(script, k)}
    editable = {k: c for k, c in changes.items() if k not in immutable}
    notes: list[Note] = []
    flagged = False
    if (immutable or moved) and policy.on_immutable_change is OnImmutableChange.RECREATE:
        why = f"{', '.join(sorted(immutable))} cannot be edited" if immutable else moved
        return (
            propagation.recreate_steps(policy, want, carrier, clone, immutable, str(why)),
            False,
            [],
        )
    if immutable or moved:
        flagged = True
        detail = "keys /bots/edit refuses differ" if immutable else str(moved)
        notes.append(
            Note(
                "immutable_flagged",
                m,
                f,
                bot,
                MappingProxyType(immutable),
                detail=f"{detail}; on_immutable_change: flag",
            )
        )
    bracket = stopped_only(script, editable) if clone.status is Status.RUNNING else []
    out: list[Action] = []
    if want.status is Status.STOPPED and clone.status is Status.RUNNING:
        why = want.held or ("paused" if want.paused else "master stopped")
        out.append(Action(Kind.STOP, m, f, bot, reason=why))
    elif bracket:
        out.append(
            Action(Kind.STOP, m, f, bot, reason=f"{', '.join(bracket)}: edited only while stopped")
        )
    if editable:
        payload = {k: c.after for k, c in editable.items()}
        out.append(
            Action(
                Kind.EDIT,
                m,
                f,
                bot,
                MappingProxyType(editable),
                MappingProxyType(payload),
                reason="settings differ",
            )
        )
    if want.status is Status.RUNNING and clone.status is Status.STOPPED:
        out.append(Action(Kind.START, m, f, bot, reason="master running"))
    elif bracket and want.status is not Status.STOPPED:
        out.append(Action(Kind.START, m, f, bot, reason="started again after the edit"))
    if want.status is not None and clone.status in UNSURE:
        what = "in error" if clone.status is Status.ERROR else "an unknown status"
        notes.append(
            Note(
                "status_unknown",
                m,
                f,
                bot,
                detail=f"the platform reports {what}; not started or stopped",
            )
        )
    return tuple(out), flagged, notes
