"""Property: applying the plan to the actual state yields the desired state, and the plan of a
converged state has no writes. The platform here is a small model with the partner API's
semantics (clone merges over the master and starts stopped; edit merges; start/stop/delete)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from copytrader.core import desired, normalize, plan
from copytrader.core.model import Bot, Status
from copytrader.core.plan import Kind, World
from copytrader.core.policy import (
    Limit,
    OnFollowerRemoved,
    OnImmutableChange,
    OnMasterStopped,
    Policy,
)
from copytrader.core.records import Link
from tests.core.factories import (
    CATALOGUE,
    MASTER_SETTINGS,
    SPOT_GRID,
    T0,
    bot,
    follower,
    layer,
    policy,
)

USERS = [f"u{i}" for i in range(5)]

values = {
    "stopValue": st.integers(0, 5000) | st.integers(0, 5000).map(str),
    "stopCondition": st.sampled_from(["Manual", "Price", "RSI"]),
    "investmentAmount": st.integers(1, 10_000),
    "gridCount": st.integers(1, 20) | st.integers(1, 20).map(str),
    "stopExit": st.booleans(),
}
setting_key = st.sampled_from(sorted(values))


@st.composite
def some_settings(draw: st.DrawFn) -> dict[str, Any]:
    keys = draw(st.sets(setting_key))
    return {k: draw(values[k]) for k in keys}


@st.composite
def layers(draw: st.DrawFn) -> Any:
    overrides = draw(some_settings())
    scale = draw(
        st.dictionaries(
            st.just("investmentAmount"), st.sampled_from([0.1, 0.25, 0.5, 1.5, 3.0]), max_size=1
        )
    )
    if "investmentAmount" in scale:
        overrides.pop("investmentAmount", None)
    return layer(overrides, scale)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Policy, World]:
    master = bot(
        "M",
        "owner",
        {**MASTER_SETTINGS, **draw(some_settings())},
        draw(st.sampled_from([Status.RUNNING, Status.STOPPED])),
    )
    listed = draw(st.lists(st.sampled_from(USERS), unique=True, max_size=4))
    followers = []
    for user in listed:
        own = draw(layers())
        followers.append(follower(user, dict(own.overrides), dict(own.scale), draw(st.booleans())))
    limit = draw(st.sampled_from([None, Limit(10, 3000), Limit(min=500)]))
    pol = policy(
        *followers,
        defaults=draw(layers()),
        limits={"investmentAmount": limit} if limit else None,
        removed=draw(st.sampled_from(list(OnFollowerRemoved))),
        master_stopped=draw(st.sampled_from(list(OnMasterStopped))),
        immutable=draw(st.sampled_from(list(OnImmutableChange))),
    )
    bots = {"M": master}
    links: dict[tuple[str, str], Link] = {}
    for i, user in enumerate(USERS):
        state = draw(st.sampled_from(["none", "clone", "gone", "intent", "intent_lost"]))
        if state == "none":
            continue
        if state in ("clone", "intent"):
            created = int(T0.timestamp()) + 5
            bots[f"C{i}"] = bot(
                f"C{i}",
                user,
                {**MASTER_SETTINGS, **draw(some_settings())},
                draw(st.sampled_from([Status.RUNNING, Status.STOPPED])),
                created_at=created,
            )
        if state == "clone" or state == "gone":
            links[("M", user)] = Link("M", user, f"C{i}")
        else:
            links[("M", user)] = Link("M", user, None, intent_at=T0)
    return pol, World(bots=bots, catalogue=CATALOGUE, links=links)


def apply(p: plan.Plan, w: World) -> World:
    """Run the plan against the model platform, recording links as the executor does."""
    bots = dict(w.bots)
    links = dict(w.links)
    ids = itertools.count(100)
    for fp in p.followers:
        current: str | None = None
        for a in fp.actions:
            key = (a.master, a.follower)
            bot_id = a.bot or current
            if a.kind is Kind.CLONE:
                new = f"N{next(ids)}"
                src = bots[a.master]
                bots[new] = Bot(
                    new,
                    a.follower,
                    src.type,
                    src.exchange_id,
                    Status.STOPPED,
                    MappingProxyType({**src.settings, **a.payload}),
                )
                links[key] = Link(
                    a.master, a.follower, new, applied=MappingProxyType(dict(bots[new].settings))
                )
                current = new
            elif a.kind is Kind.ADOPT:
                assert bot_id
                links[key] = Link(
                    a.master,
                    a.follower,
                    bot_id,
                    applied=MappingProxyType(dict(bots[bot_id].settings)),
                )
                current = bot_id
            elif a.kind is Kind.EDIT:
                assert bot_id
                bots[bot_id] = replace(
                    bots[bot_id], settings=MappingProxyType({**bots[bot_id].settings, **a.payload})
                )
                links[key] = replace(
                    links[key], applied=MappingProxyType(dict(bots[bot_id].settings))
                )
            elif a.kind in (Kind.START, Kind.STOP):
                assert bot_id
                assert a.kind is not Kind.START or bots[bot_id].status is Status.STOPPED, (
                    "start refuses a running bot"
                )
                bots[bot_id] = replace(
                    bots[bot_id], status=Status.RUNNING if a.kind is Kind.START else Status.STOPPED
                )
            elif a.kind is Kind.DELETE:
                assert bot_id
                del bots[bot_id]
                links.pop(key, None)
            elif a.kind is Kind.RELEASE:
                links.pop(key, None)
    return World(bots=bots, catalogue=w.catalogue, links=links)


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_plan_converges_in_one_pass_and_then_is_empty(scenario: tuple[Policy, World]) -> None:
    pol, before = scenario
    after = apply(plan.build([pol], before), before)
    again = plan.build([pol], after)
    assert [a for a in again.actions if a.is_write] == []

    master = after.bots["M"]
    base = desired.base(pol, master, SPOT_GRID)
    for f in pol.followers:
        link = after.links[("M", f.user)]
        assert link.bot_id in after.bots
        clone = after.bots[link.bot_id]
        want = desired.compute(base, f)
        got = normalize.settings(SPOT_GRID, clone.settings)
        if pol.on_immutable_change is OnImmutableChange.RECREATE:
            assert got == dict(want.settings)
        else:
            editable = {s.key for s in SPOT_GRID.settings if s.can_be_edited}
            assert {k: got[k] for k in editable} == {k: want.settings[k] for k in editable}
        if want.status is not None:
            assert clone.status is want.status
    # exactly one clone per listed follower: no duplicates from adoption
    owners = [
        b.user_id
        for b in after.bots.values()
        if b.bot_id != "M" and b.bot_id in {lk.bot_id for lk in after.links.values()}
    ]
    assert len(owners) == len(set(owners))
    listed = {f.user for f in pol.followers}
    for (_master, user), lk in after.links.items():
        if user in listed:
            continue
        assert pol.on_follower_removed is not OnFollowerRemoved.KEEP
        assert (
            pol.on_follower_removed is not OnFollowerRemoved.DELETE or lk.bot_id not in after.bots
        )
        if lk.bot_id in after.bots:
            assert after.bots[lk.bot_id].status is Status.STOPPED
