"""Which propagation each follower gets under ``propagation: auto``, from plain tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pytest

from copytrader.core import plan
from copytrader.core.actions import Carrier
from copytrader.core.model import Bot, Status
from copytrader.core.plan import Kind, World
from copytrader.core.policy import FollowerPolicy, Limit, OnImmutableChange, Propagation
from copytrader.core.records import Link
from tests.core.factories import CATALOGUE, MASTER_SETTINGS, bot, follower, layer, policy

AUTO, COPY = Propagation.AUTO, Propagation.COPYTRADER
MASTER = bot("M", "owner")


@dataclass(frozen=True)
class Case:
    name: str
    follower: FollowerPolicy
    expected: Carrier
    propagation: Propagation = AUTO
    defaults: dict[str, Any] = field(default_factory=dict)
    limits: dict[str, Limit] = field(default_factory=dict)


CLASSES = [
    Case("copytrader policy, no difference", follower("u1"), Carrier.COPYTRADER, COPY),
    Case("no difference at all", follower("u1"), Carrier.PLATFORM),
    Case("scaled investment", follower("u1", scale={"investmentAmount": 0.5}), Carrier.PLATFORM),
    Case("override of a refused key", follower("u1", {"gridCount": 4}), Carrier.PLATFORM),
    Case("override of an editable key", follower("u1", {"stopValue": 3}), Carrier.COPYTRADER),
    Case("editable override equal to master", follower("u1", {"stopValue": 0}), Carrier.PLATFORM),
    Case(
        "defaults override an editable key",
        follower("u1"),
        Carrier.COPYTRADER,
        defaults={"stopValue": 5},
    ),
    Case(
        "limit on a refused key",
        follower("u1", scale={"investmentAmount": 9}),
        Carrier.PLATFORM,
        limits={"investmentAmount": Limit(None, 5000)},
    ),
    Case(
        "limit on an editable key, even one that clamps nothing",
        follower("u1"),
        Carrier.COPYTRADER,
        limits={"stopValue": Limit(None, 9000)},
    ),
]


def world(*bots: Bot, links: tuple[Link, ...] = ()) -> World:
    return World(
        bots={b.bot_id: b for b in bots},
        catalogue=CATALOGUE,
        links={(lk.master, lk.follower): lk for lk in links},
    )


def link(follower: str, bot_id: str, applied: dict[str, Any] | None = None) -> Link:
    return Link("M", follower, bot_id, applied=MappingProxyType(applied or {}))


@pytest.mark.parametrize("case", CLASSES, ids=lambda c: c.name)
def test_new_clone_propagation(case: Case) -> None:
    p = plan.build(
        [
            policy(
                case.follower,
                defaults=layer(case.defaults),
                limits=case.limits,
                propagation=case.propagation,
            )
        ],
        world(MASTER),
    )
    clone = p.actions[0]
    assert clone.kind is Kind.CLONE and clone.propagation is case.expected
    assert clone.to_json()["propagation"] == case.expected.value


def carried(settings: dict[str, Any] | None = None, status: Status = Status.RUNNING) -> Bot:
    return bot("C1", "u1", {**MASTER_SETTINGS, **(settings or {})}, status, master_bot_id="M")


def independent(settings: dict[str, Any] | None = None) -> Bot:
    return bot("C1", "u1", {**MASTER_SETTINGS, **(settings or {})})


@dataclass(frozen=True)
class Existing:
    name: str
    follower: FollowerPolicy
    clone: Bot
    actions: list[str]
    notes: list[str] = field(default_factory=list)
    master: Bot = MASTER
    applied: dict[str, Any] = field(default_factory=dict)
    immutable: OnImmutableChange = OnImmutableChange.RECREATE
    new_class: Carrier | None = None  # the propagation of the re-clone, if any
    lasting: list[str] = field(default_factory=list)  # notes that stand (audited once)


EDITED_MASTER = bot("M", "owner", {**MASTER_SETTINGS, "stopValue": 7})
HALF = {"investmentAmount": 500}

EXISTING = [
    Existing("carried clone in sync", follower("u1", scale={"investmentAmount": 0.5}),
             carried(HALF), []),
    Existing(
        "master edited: the platform carried it, no edit and no drift",
        follower("u1", scale={"investmentAmount": 0.5}),
        carried({**HALF, "stopValue": 7}),
        [],
        master=EDITED_MASTER,
        applied={**MASTER_SETTINGS, **HALF},
    ),
    Existing(
        "carried clone changed by someone else: drift, then recreate (it refuses edits)",
        follower("u1"),
        carried({"stopValue": 9}),
        ["stop", "delete", "clone", "start"],
        ["drift"],
        applied=MASTER_SETTINGS,
        new_class=Carrier.PLATFORM,
    ),
    Existing(
        "a refused key of a carried clone overwritten (a push of an out-of-band master edit)",
        follower("u1", scale={"investmentAmount": 0.5}),
        carried({"investmentAmount": 2000}),
        ["stop", "delete", "clone", "start"],
        ["drift"],
        master=bot("M", "owner", {**MASTER_SETTINGS, "investmentAmount": 2000}),
        applied={**MASTER_SETTINGS, **HALF},
        new_class=Carrier.PLATFORM,
    ),
    Existing(
        "carried clone changed by someone else, flag: drift and held",
        follower("u1"),
        carried({"stopValue": 9}),
        [],
        ["drift", "immutable_flagged"],
        applied=MASTER_SETTINGS,
        immutable=OnImmutableChange.FLAG,
        lasting=["drift"],  # nothing repairs it: a standing condition, not an event per pass
    ),
    Existing("paused follower: copytrader still stops a carried clone",
             follower("u1", paused=True), carried(), ["stop"]),
    Existing(
        "independent clone that could be carried: recreate",
        follower("u1"),
        independent(),
        ["stop", "delete", "clone", "start"],
        new_class=Carrier.PLATFORM,
    ),
    Existing(
        "independent clone that could be carried, flag: held, still edited",
        follower("u1"),
        independent({"stopValue": 3}),
        ["edit"],
        ["immutable_flagged"],
        applied={**MASTER_SETTINGS, "stopValue": 3},
        immutable=OnImmutableChange.FLAG,
    ),
    Existing(
        "carried clone whose follower gained an editable override: recreate independent",
        follower("u1", {"stopValue": 3}),
        carried(),
        ["stop", "delete", "clone", "start"],
        new_class=Carrier.COPYTRADER,
    ),
]


@pytest.mark.parametrize("case", EXISTING, ids=lambda c: c.name)
def test_existing_clone_under_auto(case: Existing) -> None:
    p = plan.build(
        [policy(case.follower, immutable=case.immutable, propagation=AUTO)],
        world(case.master, case.clone, links=(link("u1", "C1", case.applied),)),
    )
    assert [a.kind.value for a in p.actions] == case.actions
    assert [n.action for n in p.notes] == case.notes
    assert [n.action for n in p.notes if n.lasting] == case.lasting
    if case.clone.master_bot_id:  # a carried clone is never edited
        assert Kind.EDIT not in {a.kind for a in p.actions if a.bot == "C1"}
    clones = [a for a in p.actions if a.kind is Kind.CLONE]
    assert [a.propagation for a in clones] == ([case.new_class] if case.new_class else [])


def test_drift_of_a_carried_clone_reads_expected_then_actual() -> None:
    p = plan.build(
        [policy(follower("u1"), immutable=OnImmutableChange.FLAG, propagation=AUTO)],
        world(MASTER, carried({"stopValue": 9}), links=(link("u1", "C1", MASTER_SETTINGS),)),
    )
    drift = p.notes[0]
    assert drift.action == "drift"
    assert {k: (c.before, c.after) for k, c in drift.changes.items()} == {"stopValue": (0, 9)}


def test_copytrader_policy_recreates_a_carried_clone_as_independent() -> None:
    p = plan.build(
        [policy(follower("u1"))], world(MASTER, carried(), links=(link("u1", "C1"),))
    )
    assert [a.kind.value for a in p.actions] == ["stop", "delete", "clone", "start"]
    assert p.actions[2].propagation is Carrier.COPYTRADER
