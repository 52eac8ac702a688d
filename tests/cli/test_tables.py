"""The rich renderers: every row and value shows up, before -> after per changed key."""

from __future__ import annotations

import io

from rich.console import Console

from copytrader.cli import tables


def render(fn: object, *args: object) -> str:
    out = io.StringIO()
    console = Console(file=out, width=250, color_system=None)
    fn(console, *args)  # type: ignore[operator]
    return out.getvalue()


def test_format_changes_before_arrow_after_and_new_values() -> None:
    assert tables.format_changes(
        {"investmentAmount": [100, 50.5], "symbol": [None, "BTC"], "paused": [True, False]}
    ) == ("investmentAmount: 100 -> 50.5\nsymbol: -> BTC\npaused: yes -> no")
    assert tables.format_changes({}) == ""


def test_status_table_shows_each_master_and_roi_as_percent() -> None:
    doc = {
        "masters": [
            {
                "master": "m-one",
                "master_status": "running",
                "master_roi": 12.5,
                "followers": 3,
                "clones": 3,
                "in_sync": 2,
                "drifted": 1,
                "failed": 0,
                "paused": 1,
                "follower_roi_mean": None,
            },
            {
                "master": "m-two",
                "master_status": None,
                "master_roi": None,
                "followers": 0,
                "clones": 0,
                "in_sync": 0,
                "drifted": 0,
                "failed": 0,
                "paused": 0,
                "follower_roi_mean": -1.0,
            },
        ]
    }
    text = render(tables.render_status, doc)
    assert "m-one" in text and "m-two" in text
    assert "+12.50%" in text and "-1.00%" in text and "2/3" in text
    assert tables.status_table(doc).row_count == 2
    assert "no masters recorded" in render(tables.render_status, {"masters": []})


def test_status_lists_the_risk_stopped_clones_with_why() -> None:
    master = {
        "master": "m-one", "master_status": "running", "master_roi": 1.0, "followers": 2,
        "clones": 2, "in_sync": 2, "drifted": 0, "failed": 0, "paused": 0,
        "follower_roi_mean": 0.0, "risk_stopped": 1,
    }  # fmt: skip
    stop = {
        "master": "m-one", "follower": "f-held", "rule": "min_roi_pct", "value": -25,
        "threshold": -20, "since": "2026-12-01T10:00:00Z",
        "detail": "ROI -25% is below min_roi_pct -20",
    }  # fmt: skip
    text = render(tables.render_status, {"masters": [master], "risk_stops": [stop]})
    assert "risk stopped" in text and "held by risk guards" in text
    assert "f-held" in text and "ROI -25% is below min_roi_pct -20" in text
    assert "copytrader resume MASTER FOLLOWER" in text
    assert "held by risk guards" not in render(tables.render_status, {"masters": [master]})


def test_audit_table_shows_error_and_changes() -> None:
    rows = [
        {
            "ts": "2025-03-01T12:00:00Z",
            "run_id": "r1",
            "action": "edit",
            "master": "m1",
            "follower": "f1",
            "bot": "b1",
            "changes": {"stopValue": [3000, 3500]},
            "outcome": "failed",
            "error": "bots.edit: refused (code 3)",
        }
    ]
    text = render(tables.render_audit, rows)
    for part in (
        "2025-03-01T12:00:00Z",
        "edit",
        "stopValue: 3000 -> 3500",
        "failed",
        "refused (code 3)",
    ):
        assert part in text
    assert "no audit events" in render(tables.render_audit, [])


def test_history_table() -> None:
    rows = [
        {
            "ts": "2025-03-01T12:00:00Z",
            "master": "m1",
            "follower": None,
            "followers": 2,
            "clones": 1.5,
            "in_sync": 1,
            "master_roi": 20.0,
            "follower_roi": 25.0,
            "tracking_error": 5.0,
        }
    ]
    text = render(tables.render_history, rows)
    assert "+20.00%" in text and "+5.00%" in text and "1.5" in text
    assert "no snapshots" in render(tables.render_history, [])


def test_plan_and_drift_tables() -> None:
    plan = [
        {
            "action": "clone",
            "master": "m1",
            "follower": "f1",
            "bot": None,
            "changes": {"investmentAmount": [None, 50]},
        },
        {
            "action": "stop",
            "master": "m1",
            "follower": "f2",
            "bot": "b2",
            "changes": {},
            "outcome": "failed",
            "error": "timeout",
        },
    ]
    text = render(tables.render_plan, plan)
    assert "clone" in text and "investmentAmount: -> 50" in text and "timeout" in text
    assert "outcome" in text
    drift = [{"master": "m1", "follower": "f1", "bot": "b1", "changes": {"stopValue": [1, 2]}}]
    text = render(tables.render_drift, drift)
    assert "stopValue: 1 -> 2" in text and "action" not in text
    assert "nothing to do" in render(tables.render_plan, [])
    assert "no drift" in render(tables.render_drift, [])
