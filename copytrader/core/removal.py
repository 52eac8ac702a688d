"""A follower no longer listed: what ``on_follower_removed`` does with its clone (pure).

``stop`` stops a running clone and keeps it (and the link, so it stays stopped); ``delete``
stops and deletes it; ``keep`` releases it (the link is forgotten, the bot left as it is).
A link whose clone is gone from the platform is released. Each case is a table row in
``tests/core/test_removal.py``.
"""

from __future__ import annotations

from copytrader.core.actions import Action, Kind
from copytrader.core.model import Bot, Status
from copytrader.core.policy import OnFollowerRemoved, Policy
from copytrader.core.records import Link


def steps(policy: Policy, link: Link, clone: Bot | None) -> tuple[Action, ...]:
    """The actions for ``link``'s removed follower, whose clone as swept is ``clone`` (None:
    no clone on the platform)."""
    m, f, rule = policy.master, link.follower, policy.on_follower_removed
    if clone is None:
        why = "follower removed; no clone on the platform"
        return (Action(Kind.RELEASE, m, f, link.bot_id, reason=why),)
    bot = clone.bot_id
    if rule is OnFollowerRemoved.KEEP:
        why = "follower removed; on_follower_removed: keep"
        return (Action(Kind.RELEASE, m, f, bot, reason=why),)
    out: list[Action] = []
    if clone.status is Status.RUNNING:
        why = f"follower removed; on_follower_removed: {rule.value}"
        out.append(Action(Kind.STOP, m, f, bot, reason=why))
    if rule is OnFollowerRemoved.DELETE:
        why = "follower removed; on_follower_removed: delete"
        out.append(Action(Kind.DELETE, m, f, bot, reason=why))
    return tuple(out)
