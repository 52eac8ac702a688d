"""Which platform writes go first when the rate limit binds: those that reduce risk.

Under a binding rate limit a pass's writes queue for the same request budget, and the order
they leave in decides how long a follower stays exposed. The order is a property of the
action's kind alone, whatever planned it (a master that stopped, a paused or removed
follower, a risk guard, a suspected duplicate, a recreate):

- ``REDUCE``: ``stop`` and ``delete`` take exposure away; they go first;
- ``ADJUST``: ``edit`` keeps a running clone in step with its master;
- ``ADD``: ``clone`` and ``start`` open new exposure; they go last.

Writes of one urgency keep the plan's order. Steps that send nothing (``adopt``,
``release``) have no urgency of their own. A follower's actions still run in their order
(stop before delete, clone before start): :func:`of_follower` ranks a follower by its first
write, the one that decides when it starts.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from copytrader.core.actions import Action, FollowerPlan, Kind


class Urgency(enum.IntEnum):
    """Lower goes first."""

    REDUCE = 0
    ADJUST = 1
    ADD = 2


#: The urgency of each write kind.
BY_KIND: Mapping[Kind, Urgency] = MappingProxyType(
    {
        Kind.STOP: Urgency.REDUCE,
        Kind.DELETE: Urgency.REDUCE,
        Kind.EDIT: Urgency.ADJUST,
        Kind.CLONE: Urgency.ADD,
        Kind.START: Urgency.ADD,
    }
)


def of(action: Action) -> Urgency | None:
    """The urgency of ``action``'s platform write; None for a step that sends nothing."""
    return BY_KIND.get(action.kind)


def of_follower(plan: FollowerPlan) -> Urgency:
    """The urgency of a follower's first write (``REDUCE`` when it sends none: it costs no
    request, and finishing it early frees its place at once)."""
    for action in plan.actions:
        found = of(action)
        if found is not None:
            return found
    return Urgency.REDUCE


def order(plans: Iterable[FollowerPlan]) -> list[FollowerPlan]:
    """``plans`` most urgent first; equal urgencies keep their order (a stable sort)."""
    return sorted(plans, key=of_follower)
