"""The tables: every row and value shows up, in the policy's words, fitted to a width without
splitting an id, a timestamp or a setting key (cli.grid, cli.tables)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from rich.console import Console

from copytrader.cli import grid, tables

M1 = "6dafad4e364449c9906296aab8eff2f7"
M2 = "7d7e643ac399492c8adf1add09316abb"
F1 = "f873b314-f165-45a0-b658-d15ff37d529a"
F2 = "28f19b46-81df-481c-9872-c215626f166e"
B1 = "1846d424c17c4279a3c6612f48268673"
B2 = "fcbd04c340214ef78ca5a5a19e4d6e3c"


def render(fn: object, *args: object, width: int = 250, **kwargs: object) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None)
    fn(console, *args, **kwargs)  # type: ignore[operator]
    return out.getvalue()


def test_format_changes_in_the_policys_words() -> None:
    assert tables.format_changes(
        {
            "investmentAmount": [100, 50.5],
            "symbol": [None, "BTC"],
            "stopExit": [True, False],
            "roi": [0.1, 0.20297500000000002],
            "name": ["x", None],
        }
    ) == (
        "investmentAmount: 100 -> 50.5\nsymbol: -> BTC\nstopExit: true -> false\n"
        "roi: 0.1 -> 0.202975\nname: x -> null"
    )
    assert tables.format_changes({}) == ""


@pytest.mark.parametrize(
    ("ids", "short"),
    [
        ([M1, M2], {M1: "6dafad4e", M2: "7d7e643a"}),
        (
            ["6dafad4e364449c9906296aab8eff2f7", "6dafad4e99999999999999999999aaaa"],
            {
                "6dafad4e364449c9906296aab8eff2f7": "6dafad4e3",
                "6dafad4e99999999999999999999aaaa": "6dafad4e9",
            },
        ),
        ([F1], {F1: "f873b314"}),
        (
            ["f873b314-f165-45a0-b658-d15ff37d529a", "f873b314-0000-45a0-b658-d15ff37d529a"],
            {
                "f873b314-f165-45a0-b658-d15ff37d529a": "f873b314-f",
                "f873b314-0000-45a0-b658-d15ff37d529a": "f873b314-0",
            },
        ),
        (["bot_0123456789abcdef"], {"bot_0123456789abcdef": "bot_01234567"}),
        (["alice-main", "run-1"], {"alice-main": "alice-main", "run-1": "run-1"}),
    ],
)
def test_short_ids_are_8_hex_digits_or_as_many_as_keep_them_apart(
    ids: list[str], short: dict[str, str]
) -> None:
    assert grid.short_ids(ids) == short


STATUS = {
    "masters": [
        {
            "master": M1,
            "master_status": "running",
            "master_roi": 12.5,
            "followers": 3,
            "clones": 3,
            "in_sync": 2,
            "drifted": 1,
            "failed": 0,
            "paused": 1,
            "follower_roi_mean": None,
            "suspected_duplicates": 2,
            "adopt_candidates": 1,
            "platform_carried": 2,
        },
        {
            "master": M2,
            "master_status": None,
            "master_roi": None,
            "followers": 0,
            "clones": 0,
            "in_sync": 0,
            "drifted": 0,
            "failed": 0,
            "paused": 0,
            "follower_roi_mean": -1.0,
            "suspected_duplicates": 0,
            "adopt_candidates": 0,
        },
    ],
    "as_of": {
        "run_id": "3f2a1b0c9d8e7f60",
        "ts": "2026-12-04T12:00:03.123Z",
        "state": "ok",
        "older": [{"master": M2, "run_id": "0011aabbccddeeff", "ts": "2026-12-01T08:00:00Z"}],
    },
}


def test_status_table_counts_what_needs_a_look_and_says_when_it_was_taken() -> None:
    now = datetime(2026, 12, 4, 12, 4, 33, tzinfo=UTC)
    text = render(tables.render_status, STATUS, now=now, width=100)
    assert "6dafad4e" in text and "7d7e643a" in text and M1 not in text
    assert "+12.50%" in text and "-1.00%" in text and "2/3" in text
    assert "1 drifted, 1 paused, 2 suspected duplicates, 1 adopt candidate" in " ".join(
        text.split()
    )
    assert (
        "figures from pass 3f2a1b0c9d8e7f60 (ok) at 2026-12-04 12:00:03 UTC, 4 minutes ago"
    ) in text
    assert (
        f"{M2}: figures from an older pass, 0011aabbccddeeff at 2026-12-01 08:00:00 UTC (no "
        "policy names it now)"
    ) in " ".join(text.split())
    wide = render(tables.render_status, STATUS, now=now, wide=True)
    assert M1 in wide and M2 in wide
    # How many clones the platform carries (propagation: auto), beside the clones.
    header = next(line for line in wide.splitlines() if "clones" in line)
    assert header.index("clones") < header.index("platform-carried") < header.index("in sync")
    row = next(line for line in wide.splitlines() if M1 in line)
    assert row.split()[4:7] == ["3", "2", "2/3"]  # clones, platform-carried, in sync
    assert "no masters recorded" in render(tables.render_status, {"masters": [], "as_of": None})


def test_status_lists_the_risk_stopped_clones_with_why() -> None:
    master = {
        "master": M1, "master_status": "running", "master_roi": 1.0, "followers": 2,
        "clones": 2, "in_sync": 2, "drifted": 0, "failed": 0, "paused": 0,
        "follower_roi_mean": 0.0, "risk_stopped": 1,
    }  # fmt: skip
    stop = {
        "master": M1, "follower": F1, "rule": "min_roi_pct", "value": -25,
        "threshold": -20, "since": "2026-12-01T10:00:00Z",
        "detail": "ROI -25% is below min_roi_pct -20",
    }  # fmt: skip
    text = render(tables.render_status, {"masters": [master], "risk_stops": [stop]}, width=100)
    assert "1 risk stopped" in text and "held by risk guards" in text
    flat = " ".join(text.split())
    assert "f873b314" in text and "ROI -25% is below min_roi_pct -20" in flat
    assert "copytrader resume MASTER FOLLOWER" in flat
    assert "held by risk guards" not in render(tables.render_status, {"masters": [master]})


def test_audit_table_shows_error_changes_and_detail() -> None:
    rows = [
        {
            "ts": "2025-03-01T12:00:00.250Z",
            "run_id": "r1",
            "action": "edit",
            "master": M1,
            "follower": F1,
            "bot": B1,
            "changes": {"stopValue": [3000, 3500], "stopExit": [False, True]},
            "outcome": "failed",
            "error": "bots.edit: refused (code 3)",
            "detail": None,
        },
        {
            "ts": "2025-03-01T12:00:01Z",
            "run_id": "r1",
            "action": "lease_acquired",
            "master": None,
            "follower": None,
            "bot": None,
            "changes": {},
            "outcome": "ok",
            "error": None,
            "detail": "epoch 1; holder host:42",
        },
    ]
    text = render(tables.render_audit, rows, width=160)
    for part in (
        "2025-03-01 12:00:00",
        "edit",
        "stopValue: 3000 -> 3500",
        "stopExit: false -> true",
        "failed",
        "error: bots.edit: refused (code 3)",
        "epoch 1; holder host:42",
        "6dafad4e",
        "f873b314",
        "1846d424",
    ):
        assert part in text, part
    assert "True" not in text and "None" not in text
    assert "no audit events" in render(tables.render_audit, [])


def test_history_table_rounds_numbers() -> None:
    rows = [
        {
            "ts": "2025-03-01T12:00:00Z",
            "master": M1,
            "follower": None,
            "followers": 2,
            "clones": 1.6666666666666667,
            "in_sync": 1,
            "master_roi": 20.0,
            "follower_roi": 25.0,
            "tracking_error": 5.0,
        }
    ]
    text = render(tables.render_history, rows)
    assert "+20.00%" in text and "+5.00%" in text and "1.66667" in text
    assert "1.6666666" not in text
    assert "no snapshots" in render(tables.render_history, [])


def test_plan_reconcile_and_drift_tables_have_their_own_titles() -> None:
    plan = [
        {
            "action": "clone",
            "master": M1,
            "follower": F1,
            "bot": None,
            "changes": {"investmentAmount": [None, 50]},
            "more": "(+12 settings as the master)",
        },
        {
            "action": "stop",
            "master": M1,
            "follower": F2,
            "bot": B2,
            "changes": {},
            "outcome": "failed",
            "error": "timeout",
        },
    ]
    text = render(tables.render_plan, plan)
    assert text.startswith("plan")
    assert "investmentAmount: -> 50" in text and "(+12 settings as the master)" in text
    assert "outcome" in text and "error: timeout" in text
    assert render(tables.render_plan, plan, title="reconcile").startswith("reconcile")
    drift = [{"master": M1, "follower": F1, "bot": B1, "changes": {"stopValue": [1, 2]}}]
    text = render(tables.render_drift, drift)
    assert text.startswith("drift") and "stopValue: 1 -> 2" in text and "action" not in text
    assert "nothing to do" in render(tables.render_plan, [])
    assert "no drift" in render(tables.render_drift, [])


def test_plan_with_only_held_items_and_problems_never_says_nothing_to_do() -> None:
    held = [
        {
            "reason": "immutable_flagged",
            "master": M1,
            "follower": F1,
            "bot": B1,
            "changes": {"investmentAmount": [1000, 500]},
            "detail": "keys /bots/edit refuses differ; on_immutable_change: flag",
        }
    ]
    problems = [{"file": "p/eth.yaml", "line": 3, "col": 5, "message": "unknown key 'x'"}]
    text = render(tables.render_plan, [], held=held, problems=problems)
    assert "nothing to do" not in text
    assert "plan: no platform write to make" in text
    assert "held: waiting for a person" in text and "immutable_flagged" in text
    assert "1 invalid policy file (nothing of it is applied), 1 problem:" in text
    assert "p/eth.yaml:3:5: unknown key 'x'" in text


def _events(n: int) -> list[dict[str, object]]:
    actions = ["edit", "duplicate_suspected", "lease_released", "clone"]
    return [
        {
            "ts": f"2026-12-0{1 + i % 9}T1{i % 10}:00:0{i % 10}.5Z",
            "action": actions[i % len(actions)],
            "master": [M1, M2][i % 2],
            "follower": [F1, F2][i % 2],
            "bot": [B1, B2][i % 2],
            "changes": {"investmentAmount": [100, 50 + i], "stopCondition": ["Manual", "Price"]},
            "outcome": "ok" if i % 3 else "failed",
            "error": None if i % 3 else f"bots.edit: refused for {B1} (code 3)",
            "detail": None,
        }
        for i in range(n)
    ]


@pytest.mark.parametrize("width", [80, 100, 120])
def test_nothing_is_split_at_ordinary_widths(width: int) -> None:
    rows = _events(8)  # long action names: at 80 columns the follower and bot are left out
    text = render(tables.render_audit, rows, width=width)
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    joined = "\n".join(lines)
    for r in rows:
        assert tables.when(str(r["ts"])) in joined  # each timestamp whole, on one line
    for key in ("investmentAmount:", "stopCondition:"):
        assert len(re.findall(re.escape(key), joined)) == len(rows)
    for token in re.findall(r"[0-9a-f]{6,}", joined):
        assert len(token) >= 8, token  # every hex run is a whole short id, or a whole id
    assert "6dafad4e" in joined and ("f873b314" in joined) is (width >= 100)
    assert f"error: bots.edit: refused for {B1} (code 3)" in joined  # a footnote, whole


def test_columns_left_out_are_named_and_wide_shows_them() -> None:
    rows = _events(4)
    narrow = render(tables.render_audit, rows, width=80)
    assert "not shown at 80 columns:" in narrow and "(--wide shows them)" in narrow
    wide = render(tables.render_audit, rows, wide=True, width=80)
    assert "not shown" not in wide and B1 in wide and F1 in wide
