"""A plan in parts: the followers each part of a platform's sweep lets copytrader plan.

A platform may hand its sweep over in parts (:class:`copytrader.core.model.SweepPart`):
BotPrimeX reads the master account and each follower account under its own key and rate
limit. A follower's clone can be planned as soon as the masters and that follower's own
bots are read, so a slow or rate-limited account never holds the others back. A part that
covers every user (HaasOnline's single sweep) plans exactly what one whole plan would.

:func:`view` is what one part lets the planner see: the policies with only the followers
that part covers, and the world with only their links and bots (plus every master).
:func:`merge` joins the parts' plans into the pass's one plan; notes about a master as a
whole (``master_missing``) are made by every part and kept once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from copytrader.core.actions import FollowerPlan, Note, Plan, Remember, World
from copytrader.core.model import Bot, SweepPart
from copytrader.core.plan import build, sweep_suspicious
from copytrader.core.policy import Policy


def view(
    policies: Sequence[Policy], world: World, part: SweepPart, masters: Mapping[str, Bot]
) -> tuple[list[Policy], World]:
    """The policies and world one part lets the planner see (see the module docstring).
    ``world`` holds every link of the pass; ``masters`` the first part's bots."""
    if part.users is None:
        return list(policies), world
    users = part.users
    mine = [
        dataclasses.replace(p, followers=tuple(f for f in p.followers if f.user in users))
        for p in policies
    ]
    links = {key: lk for key, lk in world.links.items() if lk.follower in users}
    bots = {**masters, **part.bots}
    return mine, dataclasses.replace(
        world,
        bots=bots,
        links=links,
        suspicious=sweep_suspicious(bots, links.values()),
    )


def plan_part(
    policies: Sequence[Policy], world: World, part: SweepPart, masters: Mapping[str, Bot]
) -> Plan:
    """The plan of the followers ``part`` covers (nothing for a part that was not read)."""
    if part.error:
        return Plan()
    return build(*view(policies, world, part, masters))


def merge(plans: Iterable[Plan]) -> Plan:
    """One plan of every part's: their followers and risk states in order, each note once."""
    followers: list[FollowerPlan] = []
    notes: dict[tuple[object, ...], Note] = {}
    remember: list[Remember] = []
    for p in plans:
        followers.extend(p.followers)
        remember.extend(p.risk)
        for n in p.notes:
            notes.setdefault((n.action, n.master, n.follower, n.bot, n.bots, n.detail), n)
    return Plan(tuple(followers), tuple(notes.values()), tuple(remember))
