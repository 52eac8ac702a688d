"""Which writes go first under a binding rate limit, from plain tables of actions and plans."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from copytrader.core import plan, urgency
from copytrader.core.actions import Action, FollowerPlan, Kind
from copytrader.core.policy import OnFollowerRemoved, PolicySource
from copytrader.core.records import Link
from copytrader.core.urgency import Urgency
from tests.core.factories import CATALOGUE, MASTER_SETTINGS, bot, follower, policy

U = Urgency


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (Kind.STOP, U.REDUCE),
        (Kind.DELETE, U.REDUCE),
        (Kind.EDIT, U.ADJUST),
        (Kind.CLONE, U.ADD),
        (Kind.START, U.ADD),
        (Kind.ADOPT, None),  # sends nothing
        (Kind.RELEASE, None),
    ],
)
def test_the_urgency_of_each_kind(kind: Kind, expected: Urgency | None) -> None:
    assert urgency.of(Action(kind, "M", "u", "B")) == expected


def test_every_write_kind_has_an_urgency() -> None:
    writes = {k for k in Kind if Action(k, "M", "u", None).is_write}
    assert set(urgency.BY_KIND) == writes


def _fp(name: str, *kinds: Kind) -> FollowerPlan:
    actions = tuple(Action(k, "M", name, "B") for k in kinds)
    return FollowerPlan("M", name, actions, None, None, PolicySource("p.yaml", ""))


@dataclass(frozen=True)
class Case:
    name: str
    kinds: tuple[Kind, ...]
    expected: Urgency


FOLLOWERS = [
    Case("master stopped, paused, risk stop, duplicate", (Kind.STOP,), U.REDUCE),
    Case("removed follower, on_follower_removed: delete", (Kind.STOP, Kind.DELETE), U.REDUCE),
    Case("a stopped clone deleted", (Kind.DELETE,), U.REDUCE),
    Case("paused and edited: its stop goes first", (Kind.STOP, Kind.EDIT), U.REDUCE),
    Case(
        "recreate: stop, delete, clone, start",
        (Kind.STOP, Kind.DELETE, Kind.CLONE, Kind.START),
        U.REDUCE,
    ),
    Case("master edit", (Kind.EDIT,), U.ADJUST),
    Case("adopted lost answer, then edited", (Kind.ADOPT, Kind.EDIT), U.ADJUST),
    Case("edited then started", (Kind.EDIT, Kind.START), U.ADJUST),
    Case("new follower: clone, start", (Kind.CLONE, Kind.START), U.ADD),
    Case("master started again", (Kind.START,), U.ADD),
    Case("released: sends nothing", (Kind.RELEASE,), U.REDUCE),
    Case("nothing to do", (), U.REDUCE),
]


@pytest.mark.parametrize("case", FOLLOWERS, ids=[c.name for c in FOLLOWERS])
def test_a_follower_ranks_by_its_first_write(case: Case) -> None:
    assert urgency.of_follower(_fp("u", *case.kinds)) == case.expected


def test_order_is_most_urgent_first_and_stable_within_an_urgency() -> None:
    plans = [
        _fp("clone1", Kind.CLONE, Kind.START),
        _fp("edit1", Kind.EDIT),
        _fp("stop1", Kind.STOP),
        _fp("edit2", Kind.EDIT),
        _fp("delete1", Kind.STOP, Kind.DELETE),
        _fp("start1", Kind.START),
        _fp("stop2", Kind.STOP),
    ]
    assert [fp.follower for fp in urgency.order(plans)] == [
        "stop1",
        "delete1",
        "stop2",
        "edit1",
        "edit2",
        "clone1",
        "start1",
    ]


def test_a_planned_pass_puts_risk_reducing_followers_first() -> None:
    """A pass planned from a world: a master edit for three followers, a new follower, a
    paused one and a removed one (delete): the paused and removed followers go first."""
    master = bot("M", "owner", {**MASTER_SETTINGS, "stopValue": 7})
    clones = [bot(f"C{i}", f"u{i}", dict(MASTER_SETTINGS)) for i in range(5)]
    links = [Link("M", f"u{i}", f"C{i}") for i in range(5)]
    pol = policy(
        follower("u0"),
        follower("u1"),
        follower("new"),
        follower("u2"),
        follower("u3", paused=True),
        removed=OnFollowerRemoved.DELETE,
    )  # u4 is no longer listed
    world = plan.World(
        {b.bot_id: b for b in (master, *clones)},
        CATALOGUE,
        {(lk.master, lk.follower): lk for lk in links},
    )
    built = plan.build([pol], world)
    ordered = [
        (fp.follower, [a.kind.value for a in fp.actions])
        for fp in urgency.order(fp for fp in built.followers if fp.actions)
    ]
    assert ordered == [
        ("u3", ["stop", "edit"]),
        ("u4", ["stop", "delete"]),
        ("u0", ["edit"]),
        ("u1", ["edit"]),
        ("u2", ["edit"]),
        ("new", ["clone", "start"]),
    ]
