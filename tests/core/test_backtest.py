"""A policy's backtest as values: identical settings run once, the report sets each follower
beside the master with the difference."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest

from copytrader.core import backtest as core
from copytrader.core import desired
from tests.core.factories import MASTER_SETTINGS, SPOT_GRID, bot, follower, layer, policy


def wants(*followers: Any, **kw: Any) -> tuple[dict[str, Any], list[desired.DesiredClone]]:
    p = policy(*followers, **kw)
    b = desired.base(p, bot("M", "owner"), SPOT_GRID)
    return dict(b.normalised), [desired.compute(b, f) for f in p.followers]


@pytest.mark.parametrize(
    ("case", "followers", "kw", "expected"),
    [
        ("no followers: the master alone", (), {}, [(True, ())]),
        ("a follower with no own layer shares the master's run",
         (follower("a"),), {}, [(True, ("a",))]),
        ("identical own layers share a run", (
            follower("a", scale={"investmentAmount": 0.5}),
            follower("b", scale={"investmentAmount": 0.5}),
            follower("c", {"stopValue": 10}),
        ), {}, [(True, ()), (False, ("a", "b")), (False, ("c",))]),
        ("different layers with the same result share a run", (
            follower("a", {"investmentAmount": 500}),
            follower("b", scale={"investmentAmount": 0.5}),
        ), {}, [(True, ()), (False, ("a", "b"))]),
        ("an override equal to the master's value is the master's run",
         (follower("a", {"stopValue": 0}),), {}, [(True, ("a",))]),
        ("defaults make every follower differ from the master", (follower("a"), follower("b")),
         {"defaults": layer({"stopValue": 3500})}, [(True, ()), (False, ("a", "b"))]),
        ("a paused follower is backtested too", (follower("a", paused=True),), {},
         [(True, ("a",))]),
    ],
)
def test_variants(
    case: str, followers: tuple[Any, ...], kw: dict[str, Any], expected: list[Any]
) -> None:
    master, wanted = wants(*followers, **kw)
    got = core.variants(master, wanted)
    assert [(v.master, v.followers) for v in got] == expected, case
    assert got[0].settings == master


def test_values_of_different_types_are_different_settings_as_the_planner_compares() -> None:
    a = MappingProxyType({"x": 1})
    b = MappingProxyType({"x": 1.0})
    c = MappingProxyType({"x": True})
    one = desired.DesiredClone("M", "a", b, {}, None, False)
    two = desired.DesiredClone("M", "b", c, {}, None, False)
    got = core.variants(a, [one, two])
    # (the planner normalises 1.0 to 1 before this point, and True is never 1 to it)
    assert [v.followers for v in got] == [(), ("a",), ("b",)]


def test_labels() -> None:
    assert core.Variant({}, (), True).label == "master"
    assert core.Variant({}, ("abcdefghijk", "x"), True).label == "master (+2 same)"
    assert core.Variant({}, ("abcdefghijk", "x"), False).label == "abcdefgh (+1 same)"


M = core.Metrics(roi=7.04, max_drawdown_pct=8.25, profit_factor=None, win_rate=1.0,
                 profit=70.36, trades=1)
F = core.Metrics(roi=3.0, max_drawdown_pct=9.0, profit_factor=2.0, win_rate=0.5,
                 profit=15.0, trades=4)


def test_report_sets_followers_beside_the_master_in_policy_order() -> None:
    master_v = core.Variant(MappingProxyType(dict(MASTER_SETTINGS)), ("c",), True)
    shared = core.Variant(MappingProxyType({}), ("b", "a"), False)
    failed = core.Variant(MappingProxyType({"y": 1}), ("d",), False)
    report = core.Report(
        master="M", file="p.yaml", days=30, start_unix=0, end_unix=30 * 86400,
        outcomes=(
            core.Outcome(master_v, "bt-m", core.State.COMPLETED, M),
            core.Outcome(shared, "bt-s", core.State.COMPLETED, F),
            core.Outcome(failed, "bt-f", core.State.FAILED, error="no data"),
        ),
        order=("a", "b", "c", "d"),
        paused=frozenset({"b"}),
    )
    assert [o.backtest_id for o in report.failed] == ["bt-f"]
    doc = report.to_json()
    assert (doc["start"], doc["end"], doc["backtests"]) == (
        "1970-01-01T00:00:00Z", "1970-01-31T00:00:00Z", 3)
    assert doc["master_result"] == {
        "backtest": "bt-m", "state": "completed", "roi": 7.04, "max_drawdown_pct": 8.25,
        "profit_factor": None, "win_rate": 1.0, "profit": 70.36, "trades": 1, "error": None,
    }
    rows = [(f["follower"], f["backtest"], f["paused"], f["same_as_master"]) for f in
            doc["followers"]]
    assert rows == [("a", "bt-s", False, False), ("b", "bt-s", True, False),
                    ("c", "bt-m", False, True), ("d", "bt-f", False, False)]
    a = doc["followers"][0]
    assert a["diff"] == {"roi": -4.04, "max_drawdown_pct": 0.75, "profit_factor": None,
                         "win_rate": -0.5}
    d = doc["followers"][3]
    assert (d["state"], d["roi"], d["error"], d["diff"]) == ("failed", None, "no data", None)
    assert doc["followers"][2]["diff"] == {"roi": 0.0, "max_drawdown_pct": 0.0,
                                           "profit_factor": None, "win_rate": 0.0}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(1, 1.0), (2.5, 2.5), (True, None), ("3", None), (None, None), (float("nan"), None),
     (float("inf"), None)],
)
def test_finite(raw: Any, expected: float | None) -> None:
    assert core.finite(raw) == expected


def test_states() -> None:
    assert core.State.parse("executing") is core.State.EXECUTING
    assert core.State.parse("paused?") is core.State.UNKNOWN
    assert {s for s in core.State if s.finished} == {
        core.State.COMPLETED, core.State.FAILED, core.State.CANCELLED}
