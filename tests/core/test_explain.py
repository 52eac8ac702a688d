"""``explain`` is the planner's own layer order: for every combination of layers on a key,
each value and layer it shows is the one the planner clones and edits with, and its steps
are the layers that applied, in order.

The cases are a table: every combination of a defaults override, a defaults scale, a
follower override, a follower scale, a limit (none, inside, clamping from above, from
below) and a lock on ``investmentAmount`` that a valid policy allows, with the expected
steps written out by the plain rules of ``policies/README.md``.
"""

from __future__ import annotations

import itertools
from types import MappingProxyType
from typing import Any

import pytest

from copytrader.core import desired, plan, policy_checks
from copytrader.core import explain as explain_mod
from copytrader.core.actions import Carrier, Kind
from copytrader.core.desired import Source
from copytrader.core.model import Status, User
from copytrader.core.policy import Limit, Propagation
from copytrader.core.records import Link
from tests.core.factories import CATALOGUE, MASTER_SETTINGS, SPOT_GRID, bot, follower, layer, policy

KEY = "investmentAmount"
MASTER_VALUE = 1000
LIMITS: dict[str, Limit | None] = {
    "no limit": None,
    "limit inside": Limit(10, 5000),
    "limit max 400": Limit(None, 400),
    "limit min 100": Limit(100, None),
}
USERS = {u: User(u, "BITMEXSPOT") for u in ("u", "v")}


def _expected(
    d_override: bool, d_scale: bool, own_override: bool, own_scale: bool, lim: Limit | None,
    locked: bool,
) -> list[tuple[str, Any]]:
    """The steps by the rules as written for people (not by the code under test)."""
    value: Any = MASTER_VALUE
    steps: list[tuple[str, Any]] = [("master", value)]
    if d_override:
        value = 300
        steps.append(("defaults", value))
    if own_override:
        value = 70
        steps.append(("override", value))
    elif own_scale or d_scale:
        # the follower's own factor is the "scale" layer; the defaults' factor is part of
        # the "defaults" layer (the contract's order: master, defaults, own overrides and
        # scale, limits)
        value = value * (0.5 if own_scale else 2)
        steps.append(("scale" if own_scale else "defaults", int(value)))

    def clamp(v: Any) -> Any:
        if lim is not None and lim.max is not None and v > lim.max:
            return int(lim.max)
        if lim is not None and lim.min is not None and v < lim.min:
            return int(lim.min)
        return v

    if clamp(value) != value:
        value = clamp(value)
        steps.append(("limit", value))
    if locked:
        steps.append(("locked", clamp(MASTER_VALUE)))
    return steps


def _combinations() -> list[tuple[str, tuple[Any, ...]]]:
    out = []
    for d_ov, d_sc, own_ov, own_sc, lim_name, locked in itertools.product(
        (False, True), (False, True), (False, True), (False, True), LIMITS, (False, True)
    ):
        if (d_ov and d_sc) or (own_ov and own_sc):
            continue  # one layer may override or scale a key, not both (invalid)
        if locked and (d_ov or d_sc or own_ov or own_sc):
            continue  # a locked key cannot be overridden or scaled (invalid)
        name = "+".join(
            n
            for n, on in (
                ("defaults override", d_ov),
                ("defaults scale", d_sc),
                ("own override", own_ov),
                ("own scale", own_sc),
                (lim_name, True),
                ("locked", locked),
            )
            if on
        )
        out.append((name, (d_ov, d_sc, own_ov, own_sc, lim_name, locked)))
    return out


COMBINATIONS = _combinations()


def _policy(d_ov: bool, d_sc: bool, own_ov: bool, own_sc: bool, lim: str, locked: bool) -> Any:
    f = follower("u", {KEY: 70} if own_ov else None, {KEY: 0.5} if own_sc else None)
    limit = LIMITS[lim]
    return policy(
        f,
        defaults=layer({KEY: 300} if d_ov else None, {KEY: 2} if d_sc else None),
        limits={KEY: limit} if limit is not None else None,
        locked=frozenset({KEY}) if locked else frozenset(),
    )


def test_the_table_covers_every_layer_and_every_valid_combination() -> None:
    assert len(COMBINATIONS) == 3 * 3 * 4 + 4  # (none, override, scale)^2 x limits + locked
    last = {_expected(*c[:4], LIMITS[c[4]], c[5])[-1][0] for _, c in COMBINATIONS}
    assert last == {s.value for s in Source}


@pytest.mark.parametrize(("case", "combo"), COMBINATIONS, ids=[c[0] for c in COMBINATIONS])
def test_explain_matches_the_planner_for_every_combination(
    case: str, combo: tuple[Any, ...]
) -> None:
    d_ov, d_sc, own_ov, own_sc, lim, locked = combo
    p = _policy(*combo)
    master = bot("M", "owner")
    assert policy_checks.validate(p, master=master, script=SPOT_GRID, users=USERS) == [], case
    found = explain_mod.explain(p, p.followers[0], master, SPOT_GRID, None)
    expected = _expected(d_ov, d_sc, own_ov, own_sc, LIMITS[lim], locked)
    line = next(s for s in found.settings if s.key == KEY)
    assert [(layer.value, v) for layer, v in line.steps] == expected, case
    assert (line.layer.value, line.value) == expected[-1], case

    # The planner's clone carries exactly these values and layers, for every key.
    world = plan.World(bots={"M": master}, catalogue=CATALOGUE, links={})
    clone = next(a for a in plan.build([p], world).actions if a.kind is Kind.CLONE)
    assert sorted(s.key for s in found.settings) == sorted(clone.changes)
    for s in found.settings:
        change = clone.changes[s.key]
        assert (s.value, s.layer) == (change.after, change.layer), (case, s.key)
        assert type(s.value) is type(change.after), (case, s.key)
        assert s.steps[0] == (Source.MASTER, desired.base(p, master, SPOT_GRID).normalised[s.key])
        assert s.steps[-1] == (s.layer, s.value)
        assert s.actual is None and s.in_sync is None
    assert found.bot is None


@pytest.mark.parametrize(("case", "combo"), COMBINATIONS, ids=[c[0] for c in COMBINATIONS])
def test_explain_beside_a_clone_shows_what_the_planner_edits(
    case: str, combo: tuple[Any, ...]
) -> None:
    p = _policy(*combo)
    master = bot("M", "owner")
    # A clone holding every master value, but the key under test at 999 and one string
    # number the planner must not call a difference.
    clone = bot("C", "u", {**MASTER_SETTINGS, KEY: 999, "stopValue": "0"})
    world = plan.World(
        bots={"M": master, "C": clone},
        catalogue=CATALOGUE,
        links={("M", "u"): Link("M", "u", "C", applied=MappingProxyType({}))},
    )
    planned = plan.build([p], world)
    found = explain_mod.explain(p, p.followers[0], master, SPOT_GRID, clone)
    assert found.bot == "C"
    edits = {k: c for a in planned.actions if a.kind is Kind.EDIT for k, c in a.changes.items()}
    recreated = any(a.kind is Kind.DELETE for a in planned.actions)
    assert set(found.differing) == set(edits) | (
        {KEY} if recreated else set()
    ), case  # investmentAmount cannot be edited: a difference there is a recreate
    for s in found.settings:
        if s.key in edits:
            assert (s.actual, s.value) == (edits[s.key].before, edits[s.key].after)
        assert s.in_sync is (s.key not in found.differing)
    line = next(s for s in found.settings if s.key == KEY)
    assert line.actual == 999
    stop = next(s for s in found.settings if s.key == "stopValue")
    assert stop.actual == 0 and stop.in_sync


CASES: list[tuple[str, dict[str, Any], str, list[tuple[str, Any]]]] = [
    # (case, policy kwargs and follower, key, expected steps)
    ("an option override", {"f": follower("u", {"stopCondition": "Price"})}, "stopCondition",
     [("master", "Manual"), ("override", "Price")]),
    ("a defaults override kept by a follower with none", {"defaults": layer({"stopValue": 3500})},
     "stopValue", [("master", 0), ("defaults", 3500)]),
    ("an override equal to the master's value still applied",
     {"f": follower("u", {"stopValue": 0})}, "stopValue", [("master", 0), ("override", 0)]),
    ("a string number from the master is normalised at the first step",
     {"master": {"gridCount": "2"}}, "gridCount", [("master", 2)]),
    ("an absent master key takes the script default", {"master": {"stopExit": None}},
     "stopExit", [("master", False)]),
    ("a locked key clamped by its limit", {"locked": frozenset({KEY}),
     "limits": {KEY: Limit(None, 800)}}, KEY, [("master", 1000), ("limit", 800),
                                                ("locked", 800)]),
    ("scale of a float keeps its noise out", {"f": follower("u", scale={KEY: 0.3})}, KEY,
     [("master", 1000), ("scale", 300)]),
]


@pytest.mark.parametrize(("case", "given", "key", "steps"), CASES, ids=[c[0] for c in CASES])
def test_steps(case: str, given: dict[str, Any], key: str, steps: list[tuple[str, Any]]) -> None:
    f = given.pop("f", follower("u"))
    settings = dict(MASTER_SETTINGS)
    for k, v in given.pop("master", {}).items():
        if v is None:
            settings.pop(k)
        else:
            settings[k] = v
    p = policy(f, **given)
    found = explain_mod.explain(p, f, bot("M", "owner", settings), SPOT_GRID, None)
    line = next(s for s in found.settings if s.key == key)
    assert [(layer.value, v) for layer, v in line.steps] == steps, case
    assert [type(v) for _, v in line.steps] == [type(v) for _, v in steps], case


def test_json_shape_propagation_and_status() -> None:
    f = follower("u", scale={KEY: 0.5}, paused=True)
    p = policy(f, propagation=Propagation.AUTO)
    master = bot("M", "owner")
    clone = bot("C", "u", {**MASTER_SETTINGS, KEY: 500}, Status.RUNNING)
    found = explain_mod.explain(p, f, master, SPOT_GRID, clone)
    doc = found.to_json()
    assert {"master", "follower", "bot", "settings", "propagation"} <= set(doc)
    assert (doc["master"], doc["follower"], doc["bot"]) == ("M", "u", "C")
    # Only investmentAmount (canBeEdited: false) differs from the master: the platform can
    # carry this follower; the clone as it is (no masterBotId) is carried by copytrader.
    assert doc["propagation"] == Carrier.PLATFORM.value
    assert doc["clone_propagation"] == Carrier.COPYTRADER.value
    assert (doc["status"], doc["actual_status"], doc["paused"]) == ("stopped", "running", True)
    line = next(s for s in doc["settings"] if s["key"] == KEY)
    assert line == {
        "key": KEY,
        "value": 500,
        "layer": "scale",
        "steps": {"master": 1000, "scale": 500},
        "actual": 500,
        "in_sync": True,
    }
    assert all(set(s) >= {"key", "value", "layer", "steps", "actual"} for s in doc["settings"])


def test_the_planner_s_status_is_shown_a_risk_hold_included() -> None:
    import dataclasses

    f = follower("u")
    p = policy(f)
    master = bot("M", "owner")
    want = desired.compute(desired.base(p, master, SPOT_GRID), f)
    held = dataclasses.replace(want, status=Status.STOPPED, held="min_roi_pct -25 < -20")
    doc = explain_mod.explain(p, f, master, SPOT_GRID, None, held).to_json()
    assert (doc["status"], doc["held"]) == ("stopped", "min_roi_pct -25 < -20")
    plain = explain_mod.explain(p, f, master, SPOT_GRID, None).to_json()
    assert (plain["status"], plain["held"]) == ("running", None)
