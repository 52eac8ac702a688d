"""The core's rules for a platform without a master link (BotPrimeX), from plain tables:
copytrader's tag, edits only while stopped, a clone in error, value bounds and whole
numbers, the sweep in parts. The catalogue is BotPrimeX's own."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import pytest

from copytrader.core import desired, partition, plan, policy_checks
from copytrader.core.actions import Carrier
from copytrader.core.model import Bot, Status, SweepPart, User
from copytrader.core.plan import World
from copytrader.core.policy import Limit, OnMasterStopped, Propagation
from copytrader.core.propagation import Classifier
from copytrader.core.records import Link
from copytrader.core.tags import clone_tag, marked
from copytrader.platform.botprimex.catalogue import CATALOGUE
from tests.core.factories import follower, layer, policy

MASTER_FIELDS: dict[str, Any] = {
    "name": "BTC DCA",
    "exchange": "binance",
    "pair": "BTC/USDT",
    "strategy": "dca",
    "stake_amount": 100,
    "max_open_trades": 3,
    "stop_loss": -8,
    "dry_run": False,
}
SCRIPT = CATALOGUE.script("dca")
assert SCRIPT is not None


def bpx_bot(
    bot_id: str,
    user: str,
    status: Status = Status.RUNNING,
    mark: str = "",
    created_at: int = 0,
    **changes: Any,
) -> Bot:
    fields = {**MASTER_FIELDS, **changes}
    return Bot(
        bot_id=bot_id,
        user_id=user,
        type=str(fields["strategy"]),
        exchange_id=str(fields["exchange"]),
        status=status,
        settings=MappingProxyType(fields),
        created_at=created_at,
        mark=mark,
    )


MASTER = bpx_bot("M", "@master")


def world(*bots: Bot, links: tuple[Link, ...] = ()) -> World:
    return World(
        bots={b.bot_id: b for b in (MASTER, *bots)},
        catalogue=CATALOGUE,
        links={(lk.master, lk.follower): lk for lk in links},
        now=datetime(2026, 12, 1, tzinfo=UTC),
    )


def kinds(p: plan.Plan) -> list[tuple[str, str, str | None]]:
    return [(a.kind.value, a.follower, a.bot) for a in p.actions]


def test_the_tag_is_the_contracts_hash() -> None:
    assert clone_tag("bot_5e1f", "alice") == hashlib.sha256(b"bot_5e1f:alice").hexdigest()[:12]
    assert clone_tag("bot_5e1f", "alice") != clone_tag("bot_5e1f", "bob")
    a, b = bpx_bot("A", "alice", mark="x", created_at=5), bpx_bot("B", "alice", created_at=1)
    mine = bpx_bot("C", "alice", mark=clone_tag("M", "alice"), created_at=9)
    older = bpx_bot("D", "alice", mark=clone_tag("M", "alice"), created_at=3)
    assert marked([a, b, mine, older], "M", "alice") is older
    assert marked([a, b], "M", "alice") is None


TAG = clone_tag("M", "alice")
# (case, bots of alice, alice's link, the plan's (kind, bot) for alice, held reasons)
TAG_CASES: list[tuple[str, list[Bot], Link | None, list[tuple[str, str | None]], list[str]]] = [
    (
        "no link, tagged: adopted, not held",
        [bpx_bot("T", "alice", mark=TAG)],
        None,
        [("adopt", "T")],
        [],
    ),
    ("no link, untagged look-alike: held", [bpx_bot("U", "alice")], None, [], ["adopt_candidate"]),
    (
        "lost answer: adopted by tag",
        [bpx_bot("T", "alice", mark=TAG)],
        Link("M", "alice", None, intent_at=datetime(2026, 12, 1, tzinfo=UTC)),
        [("adopt", "T")],
        [],
    ),
    (
        "clone gone, tagged bot there: adopted",
        [bpx_bot("T", "alice", mark=TAG)],
        Link("M", "alice", "OLD"),
        [("adopt", "T")],
        [],
    ),
    (
        "tagged for another master: a look-alike, held",
        [bpx_bot("X", "alice", mark=clone_tag("M2", "alice"))],
        None,
        [],
        ["adopt_candidate"],
    ),
    (
        "tagged, other pair: still ours (a recreated clone)",
        [bpx_bot("T", "alice", mark=TAG, pair="ETH/USDT")],
        None,
        [("adopt", "T"), ("stop", "T"), ("delete", "T"), ("clone", None), ("start", None)],
        [],
    ),
    (
        "two tagged: the oldest adopted, the other a suspected duplicate",
        [
            bpx_bot("T2", "alice", mark=TAG, created_at=9),
            bpx_bot("T1", "alice", mark=TAG, created_at=2),
        ],
        None,
        [("adopt", "T1")],
        ["duplicate_suspected"],
    ),
]


@pytest.mark.parametrize(
    ("case", "bots", "link", "want", "held"), TAG_CASES, ids=[c[0] for c in TAG_CASES]
)
def test_a_tagged_bot_is_the_followers_clone(
    case: str,
    bots: list[Bot],
    link: Link | None,
    want: list[tuple[str, str | None]],
    held: list[str],
) -> None:
    p = plan.build(
        [policy(follower("alice"))], world(*bots, links=(link,) if link is not None else ())
    )
    assert [(k, b) for k, f, b in kinds(p) if f == "alice"] == want
    assert [n.action for n in p.held] == held


# (case, clone status, master status, paused, on_master_stopped, expected kinds)
DRY_RUN_CASES: list[tuple[str, Status, Status, bool, OnMasterStopped, list[str]]] = [
    (
        "running clone, running master",
        Status.RUNNING,
        Status.RUNNING,
        False,
        OnMasterStopped.STOP,
        ["stop", "edit", "start"],
    ),
    (
        "stopped clone, running master",
        Status.STOPPED,
        Status.RUNNING,
        False,
        OnMasterStopped.STOP,
        ["edit", "start"],
    ),
    (
        "paused, running clone",
        Status.RUNNING,
        Status.RUNNING,
        True,
        OnMasterStopped.STOP,
        ["stop", "edit"],
    ),
    ("paused, stopped clone", Status.STOPPED, Status.RUNNING, True, OnMasterStopped.STOP, ["edit"]),
    (
        "master stopped, keep: running clone restarted after",
        Status.RUNNING,
        Status.STOPPED,
        False,
        OnMasterStopped.KEEP,
        ["stop", "edit", "start"],
    ),
]


@pytest.mark.parametrize(
    ("case", "clone_status", "master_status", "paused", "rule", "want"),
    DRY_RUN_CASES,
    ids=[c[0] for c in DRY_RUN_CASES],
)
def test_dry_run_is_edited_only_while_stopped(
    case: str,
    clone_status: Status,
    master_status: Status,
    paused: bool,
    rule: OnMasterStopped,
    want: list[str],
) -> None:
    master = bpx_bot("M", "@master", status=master_status, dry_run=True)
    clone = bpx_bot("C", "alice", status=clone_status)
    p = plan.build(
        [policy(follower("alice", paused=paused), master_stopped=rule)],
        World(
            bots={"M": master, "C": clone},
            catalogue=CATALOGUE,
            links={
                ("M", "alice"): Link(
                    "M", "alice", "C", applied=MappingProxyType(dict(clone.settings))
                )
            },
        ),
    )
    assert [a.kind.value for a in p.actions] == want
    [edit] = [a for a in p.actions if a.kind.value == "edit"]
    assert dict(edit.payload) == {"dry_run": True}


def test_a_clone_in_error_is_reported_not_started() -> None:
    clone = bpx_bot("C", "alice", status=Status.ERROR)
    p = plan.build(
        [policy(follower("alice"))],
        world(
            clone, links=(Link("M", "alice", "C", applied=MappingProxyType(dict(clone.settings))),)
        ),
    )
    assert p.actions == ()
    [note] = p.notes
    assert note.action == "status_unknown" and "in error" in note.detail


# (case, a follower's layer, limits, the problems' messages)
VALUE_CASES: list[tuple[str, dict[str, Any], dict[str, Limit], list[str]]] = [
    (
        "name may not be overridden",
        {"overrides": {"name": "Mine"}},
        {},
        ["name follows the master: it cannot be overridden"],
    ),
    ("nor scaled", {"scale": {"name": 2}}, {}, ["name follows the master: it cannot be scaled"]),
    (
        "stake above zero",
        {"overrides": {"stake_amount": 0}},
        {},
        ["stake_amount: must be above 0, got 0"],
    ),
    (
        "stop loss negative",
        {"overrides": {"stop_loss": 0}},
        {},
        ["stop_loss: must be below 0, got 0"],
    ),
    (
        "stop loss at least -100",
        {"overrides": {"stop_loss": -120}},
        {},
        ["stop_loss: must be at least -100, got -120"],
    ),
    (
        "max open trades whole",
        {"overrides": {"max_open_trades": 1.5}},
        {},
        ["max_open_trades: must be a whole number, got 1.5"],
    ),
    (
        "a limit the platform refuses",
        {},
        {"max_open_trades": Limit(0, 4)},
        ["limits of max_open_trades: must be at least 1, got 0"],
    ),
    (
        "strategy an option",
        {"overrides": {"strategy": "martingale"}},
        {},
        ["strategy: 'martingale' is not one of dca, grid, signal"],
    ),
    (
        "fine",
        {"overrides": {"stop_loss": -100, "dry_run": True}, "scale": {"stake_amount": 0.1}},
        {"stake_amount": Limit(1, None)},
        [],
    ),
]


@pytest.mark.parametrize(
    ("case", "own", "limits", "want"), VALUE_CASES, ids=[c[0] for c in VALUE_CASES]
)
def test_policy_values_are_checked_against_the_bot_fields(
    case: str, own: dict[str, Any], limits: dict[str, Limit], want: list[str]
) -> None:
    pol = policy(follower("alice", own.get("overrides"), own.get("scale")), limits=limits)
    users = {"alice": User("alice", "", exchanges=frozenset({"binance"}))}
    found = policy_checks.validate(pol, master=MASTER, script=SCRIPT, users=users)
    assert [p.message for p in found] == want


# (case, the follower account as the check sees it, the problem)
USER_CASES: list[tuple[str, User, str | None]] = [
    ("exchanges not read (a pass)", User("alice", ""), None),
    ("exchange connected", User("alice", "", exchanges=frozenset({"kraken", "binance"})), None),
    (
        "exchange not connected",
        User("alice", "", exchanges=frozenset({"kraken"})),
        "follower account alice has not connected exchange binance (connected: kraken)",
    ),
    (
        "key refused",
        User("alice", "", refused="its API key was refused"),
        "follower alice: its API key was refused",
    ),
]


@pytest.mark.parametrize(("case", "user", "want"), USER_CASES, ids=[c[0] for c in USER_CASES])
def test_a_follower_account_must_serve_the_masters_exchange(
    case: str, user: User, want: str | None
) -> None:
    found = policy_checks.validate(
        policy(follower("alice")), master=MASTER, script=SCRIPT, users={"alice": user}
    )
    assert [p.message for p in found] == ([want] if want else [])


@pytest.mark.parametrize(
    ("master", "factor", "want"), [(3, 0.5, 2), (5, 0.3, 2), (3, 0.1, 0), (4, 1.25, 5), (3, 1, 3)]
)
def test_scaling_a_whole_number_setting_rounds_half_up(
    master: int, factor: float, want: int
) -> None:
    m = bpx_bot("M", "@master", max_open_trades=master)
    pol = policy(follower("alice", scale={"max_open_trades": factor}))
    got = desired.compute(desired.base(pol, m, SCRIPT), pol.followers[0])
    assert got.settings["max_open_trades"] == want and isinstance(want, int)


def test_no_platform_carried_clones_where_the_platform_cannot_link_them() -> None:
    pol = policy(follower("alice"), propagation=Propagation.AUTO)
    want = desired.compute(desired.base(pol, MASTER, SCRIPT), pol.followers[0])
    assert Classifier(pol, MASTER, SCRIPT)(want) is Carrier.COPYTRADER


def test_a_part_plans_only_the_followers_it_covers() -> None:
    pol = policy(follower("alice"), follower("bob"), defaults=layer({"stop_loss": -5}))
    gone = policy(follower("carol"), master="GONE")
    links = (Link("M", "bob", "B"), Link("GONE", "carol", "C"))
    bob_clone = bpx_bot("B", "bob")
    full = world(bob_clone, links=links)
    masters = {"M": MASTER}
    head = SweepPart(masters, frozenset({"@master"}))
    parts = [
        head,
        SweepPart({"B": bob_clone}, frozenset({"bob"})),
        SweepPart({}, frozenset({"alice"})),
        SweepPart({}, frozenset({"carol"}), error="account unreadable"),
    ]
    plans = [partition.plan_part([pol, gone], full, part, masters) for part in parts]
    assert [kinds(p) for p in plans] == [
        [],
        [("edit", "bob", "B")],
        [("clone", "alice", None), ("start", "alice", None)],
        [],
    ]
    merged = partition.merge(plans)
    assert [n.action for n in merged.notes] == ["master_missing"]  # made by each part, kept once
    assert [f.follower for f in merged.followers] == ["bob", "alice"]  # not carol: unread
    whole = SweepPart({"M": MASTER, "B": bob_clone})  # one part covering everyone
    assert partition.plan_part([pol, gone], full, whole, masters) == plan.build([pol, gone], full)
