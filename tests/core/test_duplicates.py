"""Suspected duplicates and adopt candidates: a follower's look-alike bots that copytrader
did not make or adopt, from plain tables of world states (and one property)."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copytrader.core import duplicates, plan
from copytrader.core.model import Bot, Status
from copytrader.core.plan import Kind, World
from copytrader.core.policy import OnDuplicate, OnExisting, Policy
from copytrader.core.records import Link
from tests.core.factories import CATALOGUE, MASTER_SETTINGS, T0, bot, follower, policy

MASTER = bot("M", "owner")


def world(
    *bots: Bot, links: tuple[Link, ...] = (), reserved: frozenset[str] = frozenset()
) -> World:
    return World(
        bots={b.bot_id: b for b in bots},
        catalogue=CATALOGUE,
        links={(lk.master, lk.follower): lk for lk in links},
        reserved=reserved,
    )


def link(follower: str, bot_id: str | None, master: str = "M", **kw: Any) -> Link:
    return Link(master, follower, bot_id, applied=MappingProxyType(dict(MASTER_SETTINGS)), **kw)


def look_alike(bot_id: str, user: str, status: Status = Status.RUNNING, **changes: Any) -> Bot:
    return bot(bot_id, user, {**MASTER_SETTINGS, **changes}, status)


def pol(*users: str, **kw: Any) -> Policy:
    duplicate = kw.pop("on_duplicate", OnDuplicate.REPORT)
    existing = kw.pop("on_existing", OnExisting.HOLD)
    p = policy(*(follower(u) for u in users), **kw)
    return replace(p, on_duplicate=duplicate, on_existing=existing)


def notes(p: plan.Plan, action: str) -> list[tuple[str | None, str | None]]:
    return [(n.follower, n.bot) for n in p.notes if n.action == action]


def kinds(p: plan.Plan) -> list[tuple[str, str, str | None]]:
    return [(a.kind.value, a.follower, a.bot) for a in p.actions]


# -- suspected duplicates ---------------------------------------------------------------


def test_second_look_alike_of_a_linked_follower_is_reported_and_left_alone() -> None:
    w = world(MASTER, look_alike("C1", "u1"), look_alike("D1", "u1"), links=(link("u1", "C1"),))
    p = plan.build([pol("u1")], w)
    assert notes(p, "duplicate_suspected") == [("u1", "D1")]
    assert p.actions == ()  # never deleted, stopped or adopted on suspicion
    assert [n.action for n in p.held] == ["duplicate_suspected"]


def test_each_duplicate_has_its_own_condition_key() -> None:
    w = world(
        MASTER,
        look_alike("C1", "u1"),
        look_alike("D1", "u1"),
        look_alike("D2", "u1", Status.STOPPED),
        links=(link("u1", "C1"),),
    )
    found = [n for n in plan.build([pol("u1")], w).notes if n.action == "duplicate_suspected"]
    assert [n.bot for n in found] == ["D1", "D2"]  # stopped or not
    assert len({n.condition_key() for n in found}) == 2
    again = [n for n in plan.build([pol("u1")], w).notes if n.action == "duplicate_suspected"]
    assert [n.condition_key() for n in again] == [n.condition_key() for n in found]


def test_on_duplicate_stop_stops_running_duplicates_only() -> None:
    w = world(
        MASTER,
        look_alike("C1", "u1"),
        look_alike("D1", "u1"),
        look_alike("D2", "u1", Status.STOPPED),
        links=(link("u1", "C1"),),
    )
    p = plan.build([pol("u1", on_duplicate=OnDuplicate.STOP)], w)
    assert kinds(p) == [("stop", "u1", "D1")]
    assert notes(p, "duplicate_suspected") == [("u1", "D1"), ("u1", "D2")]
    # the stop is its own sequence: the follower's clone plan is untouched by it
    stops = [fp for fp in p.followers if fp.actions]
    assert len(stops) == 1 and stops[0].desired is None and stops[0].clone is None
    mine = [fp for fp in p.followers if fp.desired is not None]
    assert [fp.clone.bot_id for fp in mine if fp.clone] == ["C1"]


def test_duplicate_of_a_follower_whose_clone_is_being_made() -> None:
    # a clone request in flight counts as a link: an older look-alike is a duplicate
    old = replace(look_alike("OLD", "u1"), created_at=int(T0.timestamp()) - 3600)
    w = world(MASTER, old, links=(link("u1", None, intent_at=T0),))
    p = plan.build([pol("u1")], w)
    assert kinds(p)[0] == ("clone", "u1", None)
    assert notes(p, "duplicate_suspected") == [("u1", "OLD")]


@pytest.mark.parametrize(
    ("case", "other"),
    [
        ("another type", replace(look_alike("X", "u1"), type="webhook")),
        ("another exchange", replace(look_alike("X", "u1"), exchange_id="BINANCE")),
        ("another market", look_alike("X", "u1", symbol="BITMEXSPOT_BTC_USDT_")),
        ("another user", look_alike("X", "u9")),
    ],
)
def test_not_a_look_alike_is_never_a_duplicate(case: str, other: Bot) -> None:
    w = world(MASTER, look_alike("C1", "u1"), other, links=(link("u1", "C1"),))
    p = plan.build([pol("u1", on_duplicate=OnDuplicate.STOP)], w)
    assert p.notes == () and p.actions == (), case


def test_a_master_bot_owned_by_a_follower_is_never_a_duplicate() -> None:
    # u1 follows M and owns M2, a master of the same type, exchange and market
    m2 = look_alike("M2", "u1")
    w = world(MASTER, m2, look_alike("C1", "u1"), links=(link("u1", "C1"),))
    p = plan.build([pol("u1", on_duplicate=OnDuplicate.STOP), pol(master="M2")], w)
    assert notes(p, "duplicate_suspected") == []
    assert p.actions == ()


def test_a_clone_of_another_master_is_never_a_duplicate() -> None:
    m2 = look_alike("M2", "owner2")
    w = world(
        MASTER,
        m2,
        look_alike("C1", "u1"),
        look_alike("C2", "u1"),
        links=(link("u1", "C1"), link("u1", "C2", master="M2")),
    )
    p = plan.build([pol("u1", on_duplicate=OnDuplicate.STOP), pol("u1", master="M2")], w)
    assert p.notes == () and p.actions == ()


def test_reserved_bots_are_never_duplicates() -> None:
    # an invalid file's clone and master: not in the plan's links, but known
    w = world(
        MASTER,
        look_alike("C1", "u1"),
        look_alike("OTHER", "u1"),
        links=(link("u1", "C1"),),
        reserved=frozenset({"OTHER"}),
    )
    p = plan.build([pol("u1", on_duplicate=OnDuplicate.STOP)], w)
    assert p.notes == () and p.actions == ()


def test_one_stray_is_reported_under_one_master_only() -> None:
    m2 = look_alike("M2", "owner2")
    w = world(
        MASTER,
        m2,
        look_alike("C1", "u1"),
        look_alike("C2", "u1"),
        look_alike("D", "u1"),
        links=(link("u1", "C1"), link("u1", "C2", master="M2")),
    )
    both = [pol("u1", on_duplicate=OnDuplicate.STOP), pol("u1", master="M2")]
    p = plan.build(both, w)
    assert [(n.master, n.bot) for n in p.notes] == [("M", "D")]
    assert kinds(p) == [("stop", "u1", "D")]  # one stop, not one per master


def test_a_released_clone_of_an_unlisted_follower_is_left_alone() -> None:
    # released (on_follower_removed: keep): no link, and u1 is no longer listed
    w = world(MASTER, look_alike("C1", "u1"), look_alike("C2", "u2"), links=(link("u2", "C2"),))
    p = plan.build([pol("u2", on_duplicate=OnDuplicate.STOP)], w)
    assert p.notes == () and p.actions == ()


# -- adopt candidates ---------------------------------------------------------------


def test_follower_without_link_and_one_look_alike_is_held_not_cloned() -> None:
    w = world(MASTER, look_alike("B1", "u1"))
    p = plan.build([pol("u1")], w)
    assert p.actions == ()
    [held] = p.held
    assert (held.action, held.follower, held.bot, held.bots) == (
        "adopt_candidate",
        "u1",
        "B1",
        ("B1",),
    )
    assert "B1" in held.detail and "copytrader adopt M u1" in held.detail
    assert held.to_held_json() == {
        "reason": "adopt_candidate",
        "master": "M",
        "follower": "u1",
        "bot": "B1",
        "changes": {},
    }
    [fp] = p.followers
    assert fp.desired is not None and fp.clone is None  # a listed follower without its clone
    assert notes(p, "duplicate_suspected") == []  # a candidate is not also a duplicate


def test_several_candidates_name_no_bot_and_list_every_id() -> None:
    w = world(MASTER, look_alike("B1", "u1"), look_alike("B2", "u1", Status.STOPPED))
    for rule in (OnExisting.HOLD, OnExisting.ADOPT):
        p = plan.build([pol("u1", on_existing=rule)], w)
        assert p.actions == ()
        [held] = p.held
        assert held.bot is None and held.bots == ("B1", "B2")
        assert "B1, B2" in held.detail


def test_candidate_key_changes_with_the_candidates() -> None:
    one = plan.build([pol("u1")], world(MASTER, look_alike("B1", "u1"))).held[0]
    two = plan.build(
        [pol("u1")], world(MASTER, look_alike("B1", "u1"), look_alike("B2", "u1"))
    ).held[0]
    assert one.condition_key() != two.condition_key()


def test_on_existing_adopt_takes_the_one_candidate_then_converges_it() -> None:
    stopped = look_alike("B1", "u1", Status.STOPPED, stopValue=10)
    p = plan.build([pol("u1", on_existing=OnExisting.ADOPT)], world(MASTER, stopped))
    assert kinds(p) == [("adopt", "u1", "B1"), ("edit", "u1", "B1"), ("start", "u1", "B1")]
    assert p.held == ()


def test_on_existing_clone_clones_and_the_look_alikes_become_duplicates() -> None:
    p = plan.build([pol("u1", on_existing=OnExisting.CLONE)], world(MASTER, look_alike("B1", "u1")))
    assert kinds(p) == [("clone", "u1", None), ("start", "u1", None)]
    assert notes(p, "duplicate_suspected") == [("u1", "B1")]
    assert notes(p, "adopt_candidate") == []


def test_a_follower_listed_again_after_a_release_is_a_candidate() -> None:
    p = plan.build([pol("u1")], world(MASTER, look_alike("OLD", "u1")))
    assert notes(p, "adopt_candidate") == [("u1", "OLD")]


def test_no_look_alike_means_a_new_clone() -> None:
    others = (
        replace(look_alike("X1", "u1"), type="webhook"),
        look_alike("X2", "u1", symbol="BITMEXSPOT_BTC_USDT_"),
        look_alike("M2", "u1"),  # u1 owns a master of the same market
    )
    p = plan.build([pol("u1"), pol(master="M2")], world(MASTER, *others))
    assert kinds(p) == [("clone", "u1", None), ("start", "u1", None)]
    assert p.notes == ()


def test_lost_answer_adoption_is_unchanged_and_wins_over_duplicates() -> None:
    made = replace(look_alike("NEW", "u1"), created_at=int(T0.timestamp()) + 1)
    old = replace(look_alike("OLD", "u1"), created_at=int(T0.timestamp()) - 3600)
    w = world(MASTER, made, old, links=(link("u1", None, intent_at=T0),))
    p = plan.build([pol("u1")], w)
    assert kinds(p)[0] == ("adopt", "u1", "NEW")
    assert notes(p, "duplicate_suspected") == [("u1", "OLD")]


def test_market_is_the_symbol_or_the_pair() -> None:
    assert duplicates.market(bot("A", "u", {"symbol": "ETH"})) == "ETH"
    assert duplicates.market(bot("A", "u", {"pair": "ETH/USDT"})) == "ETH/USDT"
    assert duplicates.market(bot("A", "u", {})) is None


# -- property ---------------------------------------------------------------------------

USERS = ["u0", "u1", "u2"]


@st.composite
def strays_worlds(draw: st.DrawFn) -> tuple[list[Policy], World]:
    listed = draw(st.lists(st.sampled_from(USERS), unique=True, max_size=3))
    p = pol(
        *listed,
        on_duplicate=draw(st.sampled_from(list(OnDuplicate))),
        on_existing=draw(st.sampled_from(list(OnExisting))),
    )
    bots = [MASTER]
    links = []
    for i in range(draw(st.integers(0, 6))):
        user = draw(st.sampled_from([*USERS, "owner"]))
        b = look_alike(f"B{i}", user, draw(st.sampled_from([Status.RUNNING, Status.STOPPED])))
        if draw(st.booleans()):
            b = replace(b, type="webhook") if draw(st.booleans()) else replace(b, exchange_id="X")
        bots.append(b)
    for user in USERS:
        mine = [b.bot_id for b in bots if b.user_id == user]
        state = draw(st.sampled_from(["none", "clone", "intent"]))
        if state == "clone" and mine:
            links.append(link(user, draw(st.sampled_from(mine))))
        elif state == "intent":
            links.append(link(user, None, intent_at=T0))
    return [p], world(*bots, links=tuple(links))


@settings(max_examples=300, deadline=None)
@given(strays_worlds())
def test_strays_are_reported_once_and_only_stopped_or_adopted(
    scenario: tuple[list[Policy], World],
) -> None:
    policies, w = scenario
    [p_] = policies
    p = plan.build(policies, w)
    linked = {lk.bot_id for lk in w.links.values() if lk.bot_id}
    listed = {f.user for f in p_.followers}
    strays = {
        b.bot_id
        for b in w.bots.values()
        if b.bot_id not in linked | {"M"}
        and b.user_id in listed
        and duplicates.looks_like(b, MASTER)
    }
    adopted = {a.bot for a in p.actions if a.kind is Kind.ADOPT}
    for a in p.actions:  # what is ever done to a stray: adopt it, or stop a duplicate
        assert a.kind is not Kind.DELETE or a.bot not in strays
        if a.bot in strays and a.bot not in adopted:
            assert a.kind is Kind.STOP and p_.on_duplicate is OnDuplicate.STOP
    reported: list[str] = []
    for n in p.notes:
        if n.action == "duplicate_suspected":
            assert n.bot is not None
            reported.append(n.bot)
        elif n.action == "adopt_candidate":
            reported.extend(n.bots)
            assert n.follower is not None
            assert (n.master, n.follower) not in w.links
            assert not any(a.kind is Kind.CLONE and a.follower == n.follower for a in p.actions), (
                "a held follower gets no clone"
            )
    assert len(reported) == len(set(reported)), "each stray is reported once"
    assert set(reported) | adopted == strays, "every stray is reported or adopted"
    assert "M" not in reported
