"""The plan for every lifecycle case, from plain tables of world states."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Any

from copytrader.core import plan
from copytrader.core.model import Bot, Status
from copytrader.core.plan import Kind, World
from copytrader.core.policy import OnFollowerRemoved, OnImmutableChange
from copytrader.core.records import Link
from tests.core.factories import CATALOGUE, MASTER_SETTINGS, T0, bot, follower, policy


def world(*bots: Bot, links: tuple[Link, ...] = (), suspicious: bool = False) -> World:
    return World(
        bots={b.bot_id: b for b in bots},
        catalogue=CATALOGUE,
        links={(lk.master, lk.follower): lk for lk in links},
        suspicious=suspicious,
    )


def kinds(p: plan.Plan) -> list[tuple[str, str, str | None]]:
    return [(a.kind.value, a.follower, a.bot) for a in p.actions]


def link(
    follower: str, bot_id: str | None, applied: dict[str, Any] | None = None, **kw: Any
) -> Link:
    return Link("M", follower, bot_id, applied=MappingProxyType(applied or {}), **kw)


def clone_of(bot_id: str, user: str, status: Status = Status.RUNNING, **changes: Any) -> Bot:
    return bot(bot_id, user, {**MASTER_SETTINGS, **changes}, status)


MASTER = bot("M", "owner")


def test_new_follower_is_cloned_with_full_desired_settings_then_started() -> None:
    p = plan.build(
        [policy(follower("u1", {"stopValue": 3500}, {"investmentAmount": 0.5}))], world(MASTER)
    )
    assert kinds(p) == [("clone", "u1", None), ("start", "u1", None)]
    clone = p.actions[0]
    assert clone.payload["stopValue"] == 3500
    assert clone.payload["investmentAmount"] == 500
    assert clone.to_json()["changes"]["investmentAmount"] == [None, 500]
    assert clone.changes["investmentAmount"].layer.value == "scale"


def test_converged_state_plans_nothing() -> None:
    f = follower("u1", {"stopValue": 3500})
    c = clone_of("C1", "u1", stopValue=3500)
    p = plan.build([policy(f)], world(MASTER, c, links=(link("u1", "C1"),)))
    assert p.actions == ()
    assert p.notes == ()


def test_string_numbers_and_absent_defaults_are_no_difference() -> None:
    settings = {**MASTER_SETTINGS, "gridCount": "2", "stopValue": "0"}
    del settings["stopExit"]  # absent means the default, False, as the master has
    c = bot("C1", "u1", settings)
    p = plan.build([policy(follower("u1"))], world(MASTER, c, links=(link("u1", "C1"),)))
    assert p.actions == ()


def test_master_edit_reaches_clone_except_pinned_key() -> None:
    master = bot("M", "owner", {**MASTER_SETTINGS, "stopValue": 4100, "stopCondition": "Price"})
    pinned = clone_of("C1", "u1", stopValue=3500)
    free = clone_of("C2", "u2")
    p = plan.build(
        [policy(follower("u1", {"stopValue": 3500}), follower("u2"))],
        world(master, pinned, free, links=(link("u1", "C1"), link("u2", "C2"))),
    )
    edits = {a.follower: a.payload for a in p.actions if a.kind is Kind.EDIT}
    assert edits == {
        "u1": {"stopCondition": "Price"},
        "u2": {"stopCondition": "Price", "stopValue": 4100},
    }


def test_paused_follower_is_stopped_and_edited() -> None:
    c = clone_of("C1", "u1", stopValue=1)
    p = plan.build(
        [policy(follower("u1", paused=True))], world(MASTER, c, links=(link("u1", "C1"),))
    )
    assert kinds(p) == [("stop", "u1", "C1"), ("edit", "u1", "C1")]


def test_master_stopped_stops_followers_or_keeps_them() -> None:
    master = bot("M", "owner", status=Status.STOPPED)
    c = clone_of("C1", "u1")
    w = world(master, c, links=(link("u1", "C1"),))
    assert kinds(plan.build([policy(follower("u1"))], w)) == [("stop", "u1", "C1")]
    from copytrader.core.policy import OnMasterStopped

    assert (
        plan.build([policy(follower("u1"), master_stopped=OnMasterStopped.KEEP)], w).actions == ()
    )


def test_stopped_clone_of_running_master_is_started() -> None:
    c = clone_of("C1", "u1", status=Status.STOPPED)
    assert kinds(
        plan.build([policy(follower("u1"))], world(MASTER, c, links=(link("u1", "C1"),)))
    ) == [("start", "u1", "C1")]


def test_follower_removed_stop_delete_keep() -> None:
    c = clone_of("C1", "gone")
    w = world(MASTER, c, links=(link("gone", "C1"),))
    assert kinds(plan.build([policy(removed=OnFollowerRemoved.STOP)], w)) == [
        ("stop", "gone", "C1")
    ]
    assert kinds(plan.build([policy(removed=OnFollowerRemoved.DELETE)], w)) == [
        ("stop", "gone", "C1"),
        ("delete", "gone", "C1"),
    ]
    assert kinds(plan.build([policy(removed=OnFollowerRemoved.KEEP)], w)) == [
        ("release", "gone", "C1")
    ]
    stopped = world(
        MASTER, clone_of("C1", "gone", status=Status.STOPPED), links=(link("gone", "C1"),)
    )
    assert plan.build([policy(removed=OnFollowerRemoved.STOP)], stopped).actions == ()


def test_out_of_band_edit_is_drift_and_restored() -> None:
    c = clone_of("C1", "u1", stopValue=999)
    applied = dict(MASTER_SETTINGS)
    p = plan.build([policy(follower("u1"))], world(MASTER, c, links=(link("u1", "C1", applied),)))
    assert [n.action for n in p.notes] == ["drift"]
    assert p.notes[0].changes["stopValue"].before == 0
    assert p.notes[0].changes["stopValue"].after == 999
    assert kinds(p) == [("edit", "u1", "C1")]
    assert p.followers[0].drifted


def test_immutable_change_recreates() -> None:
    c = clone_of("C1", "u1", investmentAmount=1000)
    pol = policy(follower("u1", scale={"investmentAmount": 0.5}))
    p = plan.build([pol], world(MASTER, c, links=(link("u1", "C1"),)))
    assert kinds(p) == [
        ("stop", "u1", "C1"),
        ("delete", "u1", "C1"),
        ("clone", "u1", None),
        ("start", "u1", None),
    ]
    assert p.actions[2].payload["investmentAmount"] == 500


def test_immutable_change_flagged_edits_only_editable_keys() -> None:
    c = clone_of("C1", "u1", investmentAmount=1000, stopValue=5)
    pol = policy(follower("u1", scale={"investmentAmount": 0.5}), immutable=OnImmutableChange.FLAG)
    p = plan.build([pol], world(MASTER, c, links=(link("u1", "C1"),)))
    assert kinds(p) == [("edit", "u1", "C1")]
    assert dict(p.actions[0].payload) == {"stopValue": 0}
    assert [n.action for n in p.notes] == ["immutable_flagged"]
    assert p.followers[0].flagged


def test_lost_clone_is_adopted_not_duplicated() -> None:
    lost = clone_of("C9", "u1", status=Status.STOPPED)
    lost = replace(lost, created_at=int(T0.timestamp()) + 1)
    other_type = replace(lost, bot_id="X", type="webhook")
    w = world(MASTER, lost, other_type, links=(link("u1", None, intent_at=T0),))
    p = plan.build([policy(follower("u1"))], w)
    assert kinds(p) == [("adopt", "u1", "C9"), ("start", "u1", "C9")]


def test_intent_without_a_bot_clones_again() -> None:
    w = world(MASTER, links=(link("u1", None, intent_at=T0),))
    assert kinds(plan.build([policy(follower("u1"))], w))[0] == ("clone", "u1", None)


def test_old_bot_is_not_adopted() -> None:
    old = replace(clone_of("OLD", "u1"), created_at=int(T0.timestamp()) - 3600)
    w = world(MASTER, old, links=(link("u1", None, intent_at=T0),))
    assert kinds(plan.build([policy(follower("u1"))], w))[0] == ("clone", "u1", None)


def test_missing_clone_recloned_unless_sweep_suspicious() -> None:
    links = (link("u1", "C1"),)
    p = plan.build([policy(follower("u1"))], world(MASTER, links=links))
    assert kinds(p)[0] == ("clone", "u1", None)
    assert [n.action for n in p.notes] == ["clone_missing"]
    p = plan.build([policy(follower("u1"))], world(MASTER, links=links, suspicious=True))
    assert p.actions == ()


def test_removed_follower_with_missing_clone_in_suspicious_sweep_is_left_alone() -> None:
    p = plan.build(
        [policy(removed=OnFollowerRemoved.DELETE)],
        world(MASTER, links=(link("gone", "C1"),), suspicious=True),
    )
    assert p.actions == ()


def test_master_gone_stops_clones_and_clones_nothing() -> None:
    c = clone_of("C1", "u1")
    p = plan.build([policy(follower("u1"), follower("u2"))], world(c, links=(link("u1", "C1"),)))
    assert kinds(p) == [("stop", "u1", "C1")]
    assert [n.action for n in p.notes] == ["master_missing"]


def test_clone_following_updates_cannot_be_edited_so_it_is_recreated() -> None:
    c = bot("C1", "u1", {**MASTER_SETTINGS, "stopValue": 7}, master_bot_id="M")
    p = plan.build([policy(follower("u1"))], world(MASTER, c, links=(link("u1", "C1"),)))
    assert [a.kind for a in p.actions][:2] == [Kind.STOP, Kind.DELETE]


def test_sweep_suspicious_rule() -> None:
    links = [Link("M", f"u{i}", f"C{i}") for i in range(10)]
    present = {f"C{i}": clone_of(f"C{i}", f"u{i}") for i in range(5)}
    assert not plan.sweep_suspicious(present, links)
    present.pop("C0")
    assert plan.sweep_suspicious(present, links)
    assert plan.sweep_suspicious({}, links[:1])
    assert not plan.sweep_suspicious({}, [])


def test_plan_json_shape() -> None:
    p = plan.build([policy(follower("u1"))], world(MASTER))
    doc = p.to_json()
    assert set(doc) == {"actions", "problems", "held"}
    keys = {"action", "master", "follower", "bot", "changes", "propagation"}
    assert set(doc["actions"][0]) == keys
    assert doc["actions"][0]["propagation"] == "copytrader"
    assert doc["problems"] == [] and doc["held"] == []


def test_held_items_and_problems_in_the_plan_json() -> None:
    from copytrader.core.policy import Problem

    p = plan.build([policy(follower("u1"))], world())  # the master is not on the platform
    doc = p.to_json([Problem("bad.yaml", "followers must be a list", line=2, col=12)])
    assert doc["problems"] == [
        {"file": "bad.yaml", "line": 2, "col": 12, "message": "followers must be a list"}
    ]
    assert doc["held"] == [
        {"reason": "master_missing", "master": "M", "follower": None, "bot": "M", "changes": {}}
    ]
    # drift is a note, not something that waits for a person
    assert all(n.held == (n.action in plan.HELD_REASONS) for n in p.notes)


def test_a_condition_key_is_the_same_for_the_same_condition_only() -> None:
    a = plan.Note("immutable_flagged", "M", "u1", "b1", {"x": plan.Change(1, 2)})
    same = plan.Note("immutable_flagged", "M", "u1", "b1", {"x": plan.Change(1, 2)}, detail="!")
    other = plan.Note("immutable_flagged", "M", "u1", "b1", {"x": plan.Change(1, 3)})
    assert a.condition_key() == same.condition_key() != other.condition_key()


def test_policies_are_independent() -> None:
    m2 = bot("M2", "owner")
    p2 = replace(policy(follower("u2")), master="M2")
    p = plan.build([policy(follower("u1")), p2], world(MASTER, m2))
    assert {(a.master, a.kind.value) for a in p.actions} == {
        ("M", "clone"),
        ("M", "start"),
        ("M2", "clone"),
        ("M2", "start"),
    }


def test_timed_out_clone_is_not_cloned_again_while_pending() -> None:
    from datetime import timedelta

    pending = link("u1", None, intent_at=T0, pending_until=T0 + timedelta(seconds=60))
    waiting = World(
        bots={"M": MASTER},
        catalogue=CATALOGUE,
        links={("M", "u1"): pending},
        now=T0 + timedelta(seconds=5),
    )
    p = plan.build([policy(follower("u1"))], waiting)
    assert p.actions == ()
    assert [n.action for n in p.notes] == ["clone_pending"]
    # the bot shows up: adopted, not cloned
    made = replace(clone_of("C7", "u1", status=Status.STOPPED), created_at=int(T0.timestamp()))
    shown = World(
        bots={"M": MASTER, "C7": made},
        catalogue=CATALOGUE,
        links={("M", "u1"): pending},
        now=T0 + timedelta(seconds=6),
    )
    assert kinds(plan.build([policy(follower("u1"))], shown))[0] == ("adopt", "u1", "C7")
    # the window passed and nothing was made: clone again
    late = World(
        bots={"M": MASTER},
        catalogue=CATALOGUE,
        links={("M", "u1"): pending},
        now=T0 + timedelta(seconds=61),
    )
    assert kinds(plan.build([policy(follower("u1"))], late))[0] == ("clone", "u1", None)
