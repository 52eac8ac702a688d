"""status, audit, history and parse_time against real databases: filters, spans, shapes."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from copytrader.core.model import Status
from copytrader.core.records import AuditEvent, BotSnapshot, RunRecord, StandingCondition
from copytrader.store import lookup, queries
from copytrader.store.repo import SqlStore

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
STATUS_KEYS = ["master", "master_status", "master_roi", "followers", "clones", "in_sync",
               "drifted", "failed", "paused", "follower_roi_mean", "suspected_duplicates",
               "adopt_candidates", "risk_stopped", "platform_carried"]
AUDIT_KEYS = ["ts", "run_id", "action", "master", "follower", "bot", "changes", "outcome",
              "error"]


def master_snap(run: str, ts: datetime, master: str, roi: float, followers: int,
                status: Status = Status.RUNNING) -> BotSnapshot:
    return BotSnapshot(run, ts, master, None, f"bot-{master}", status, roi, 1.0,
                       followers=followers)


def clone_snap(run: str, ts: datetime, master: str, follower: str, roi: float | None, *,
               exists: bool = True, **flags: bool) -> BotSnapshot:
    return BotSnapshot(run, ts, master, follower, f"c-{follower}" if exists else None,
                       Status.RUNNING if exists else None, roi if exists else None, 0.0,
                       **flags)


async def two_passes(store: SqlStore) -> None:
    t1 = T0 + timedelta(minutes=1)
    await store.add_snapshots([
        master_snap("r0", T0, "m2", 0.50, 1),
        clone_snap("r0", T0, "m2", "f9", 0.40),
        master_snap("r0", T0, "mB", 0.10, 2),
        clone_snap("r0", T0, "mB", "f1", 0.0),
    ])
    await store.add_snapshots([
        master_snap("r1", t1, "mB", 0.20, 4, Status.STOPPED),
        clone_snap("r1", t1, "mB", "f1", 0.10, in_sync=True, carried=True),
        clone_snap("r1", t1, "mB", "f2", 0.30, in_sync=False, drifted=True, carried=True),
        clone_snap("r1", t1, "mB", "f3", None, exists=False, in_sync=False, failed=True),
        clone_snap("r1", t1, "mB", "f4", 0.20, in_sync=True, paused=True),
    ])


async def test_status_from_the_latest_pass_of_each_master(store: SqlStore) -> None:
    assert await queries.status(store) == {"masters": [], "risk_stops": [], "as_of": None}
    await two_passes(store)
    doc = await queries.status(store)
    # which pass the figures come from; m2 was not in the newest pass (no policy names it)
    assert doc["as_of"] == {
        "run_id": "r1",
        "ts": queries.iso(T0 + timedelta(minutes=1)),
        "state": None,
        "older": [{"master": "m2", "run_id": "r0", "ts": queries.iso(T0)}],
    }
    assert [list(m) for m in doc["masters"]] == [STATUS_KEYS, STATUS_KEYS]
    m2, mb = doc["masters"]
    assert m2 == {"master": "m2", "master_status": "running", "master_roi": 0.5, "followers": 1,
                  "clones": 1, "in_sync": 1, "drifted": 0, "failed": 0, "paused": 0,
                  "follower_roi_mean": 0.4, "suspected_duplicates": 0, "adopt_candidates": 0,
                  "risk_stopped": 0, "platform_carried": 0}
    assert mb["master"] == "mB" and mb["master_status"] == "stopped"
    assert mb["platform_carried"] == 2
    assert (mb["master_roi"], mb["followers"], mb["clones"]) == (0.2, 4, 3)
    assert (mb["in_sync"], mb["drifted"], mb["failed"], mb["paused"]) == (2, 1, 1, 1)
    assert mb["follower_roi_mean"] == pytest.approx(0.2)
    json.dumps(doc)  # plain JSON


async def test_status_counts_risk_stopped_clones_and_says_why(store: SqlStore) -> None:
    from copytrader.core.policy import OnBreach
    from copytrader.core.records import Hold, RiskState

    await two_passes(store)
    held = Hold("min_roi_pct", -25, -20, T0, "fp")
    noted = Hold("max_drawdown_pct", 7, 5, T0, "fp", OnBreach.NOTIFY)  # notify: not stopped
    await store.save_risk([RiskState("mB", "f1", None, held), RiskState("mB", "f2", None, noted)])
    doc = await queries.status(store)
    m2, mb = doc["masters"]
    assert (m2["risk_stopped"], mb["risk_stopped"]) == (0, 1)
    assert doc["risk_stops"] == [{
        "master": "mB", "follower": "f1", "rule": "min_roi_pct", "value": -25, "threshold": -20,
        "since": "2025-03-01T12:00:00Z", "detail": "ROI -25% is below min_roi_pct -20",
    }]
    await store.drop_link("mB", "f1")  # a follower's link gone: its risk state with it
    assert (await queries.status(store))["risk_stops"] == []


async def test_status_counts_held_items_from_the_standing_conditions(store: SqlStore) -> None:
    await two_passes(store)
    conditions = [
        StandingCondition("k1", "duplicate_suspected", "mB", "f1", "d1", T0),
        StandingCondition("k2", "duplicate_suspected", "mB", "f1", "d2", T0),
        StandingCondition("k3", "adopt_candidate", "mB", "f5", "b5", T0),
        StandingCondition("k4", "immutable_flagged", "mB", "f2", "c-f2", T0),
        StandingCondition("k5", "duplicate_suspected", "m2", "f9", "d9", T0),
    ]
    await store.save_standing({"mB", "m2"}, conditions)
    m2, mb = (await queries.status(store))["masters"]
    assert (m2["suspected_duplicates"], m2["adopt_candidates"]) == (1, 0)
    assert (mb["suspected_duplicates"], mb["adopt_candidates"]) == (2, 1)
    assert mb["clones"] == 3  # a suspected duplicate is not a clone
    await store.save_standing({"mB"}, conditions[2:4])  # the duplicates are gone
    mb = (await queries.status(store))["masters"][1]
    assert (mb["suspected_duplicates"], mb["adopt_candidates"]) == (0, 1)


async def test_status_says_the_state_of_its_pass(store: SqlStore) -> None:
    await two_passes(store)
    await store.finish_run(
        RunRecord(run_id="r1", started_at=T0, finished_at=T0, state="ok", actions_ok=2)
    )
    assert (await queries.status(store))["as_of"]["state"] == "ok"


async def test_ids_and_actions_are_looked_up_by_prefix(store: SqlStore) -> None:
    ids = ["aa11" + "0" * 28, "aa22" + "0" * 28, "ab33" + "0" * 28]
    await store.add_events(
        [AuditEvent(T0, "r", "edit", master=m, follower=f"f-{m[:4]}") for m in ids]
        + [AuditEvent(T0, "r", "lease_acquired")]
    )
    assert await lookup.starting_with(store, "audit_events", "master", "aa") == ids[:2]
    assert await lookup.starting_with(store, "audit_events", "master", "aa2") == [ids[1]]
    assert await lookup.starting_with(store, "audit_events", "master", ids[2]) == [ids[2]]
    assert await lookup.starting_with(store, "audit_events", "master", "b") == []
    assert await lookup.starting_with(store, "audit_events", "master", "a", most=2) == ids[:2]
    assert await lookup.starting_with(store, "audit_events", "follower", "f-ab") == ["f-ab33"]
    assert await lookup.actions(store) == ["edit", "lease_acquired"]
    with pytest.raises(ValueError, match=r"no look-up on runs\.state"):
        await lookup.starting_with(store, "runs", "state", "x")


async def audit_events(store: SqlStore) -> list[AuditEvent]:
    events = [
        AuditEvent(T0 + timedelta(days=d), f"r{d}", action, master=m, follower=f, bot="b")
        for d, action, m, f in [
            (0, "clone", "m1", "f1"), (1, "edit", "m1", "f2"), (2, "drift", "m2", "f1"),
            (3, "edit", "m2", "f2"), (4, "stop", "m1", "f1"), (5, "policy_invalid", None, None),
        ]
    ]
    await store.add_events(events)
    return events


@pytest.mark.parametrize(("filters", "expected_runs"), [
    ({}, ["r0", "r1", "r2", "r3", "r4", "r5"]),
    ({"master": "m1"}, ["r0", "r1", "r4"]),
    ({"follower": "f1"}, ["r0", "r2", "r4"]),
    ({"action": "edit"}, ["r1", "r3"]),
    ({"master": "m2", "follower": "f2"}, ["r3"]),
    ({"since": T0 + timedelta(days=2)}, ["r2", "r3", "r4", "r5"]),
    ({"until": T0 + timedelta(days=1)}, ["r0", "r1"]),
    ({"since": T0 + timedelta(days=1), "until": T0 + timedelta(days=3)}, ["r1", "r2", "r3"]),
    ({"limit": 2}, ["r4", "r5"]),
    ({"master": "m1", "limit": 2}, ["r1", "r4"]),
    ({"action": "nope"}, []),
])
async def test_audit_filters_oldest_first(store: SqlStore, filters: dict[str, object],
                                          expected_runs: list[str]) -> None:
    await audit_events(store)
    rows = await queries.audit(store, **filters)  # type: ignore[arg-type]
    assert [r["run_id"] for r in rows] == expected_runs


async def test_audit_rows_have_the_contract_shape(store: SqlStore) -> None:
    await audit_events(store)
    rows = await queries.audit(store, limit=1)
    assert list(rows[0])[:9] == AUDIT_KEYS
    assert rows[0]["ts"] == "2025-03-06T12:00:00Z"
    assert datetime.fromisoformat(rows[0]["ts"]).utcoffset() == timedelta(0)
    json.loads(json.dumps(rows[0]))


async def test_audit_with_a_span_since(store: SqlStore) -> None:
    await audit_events(store)
    now = T0 + timedelta(days=5, hours=1)
    rows = await queries.audit(store, since=queries.parse_time("48h", now))
    assert [r["run_id"] for r in rows] == ["r4", "r5"]


NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("90m", NOW - timedelta(minutes=90)),
    ("12h", NOW - timedelta(hours=12)),
    ("7d", NOW - timedelta(days=7)),
    ("30s", NOW - timedelta(seconds=30)),
    ("2w", NOW - timedelta(weeks=2)),
    ("2025-05-01T10:00:00Z", datetime(2025, 5, 1, 10, tzinfo=UTC)),
    ("2025-05-01T10:00:00", datetime(2025, 5, 1, 10, tzinfo=UTC)),
    ("2025-05-01T12:00:00+02:00", datetime(2025, 5, 1, 10, tzinfo=UTC)),
    ("2025-05-01", datetime(2025, 5, 1, tzinfo=UTC)),
])
def test_parse_time(text: str, expected: datetime) -> None:
    parsed = queries.parse_time(text, NOW)
    assert parsed == expected
    assert parsed.tzinfo == UTC


@pytest.mark.parametrize("text", ["", "yesterday", "7x", "-3d", "0h", "7 days", "2025-13-01"])
def test_parse_time_refuses_with_a_clear_message(text: str) -> None:
    with pytest.raises(ValueError, match=r"90m, 12h, 7d"):
        queries.parse_time(text, NOW)


async def history_data(store: SqlStore) -> None:
    # 4 passes, 30 minutes apart, one master with two followers; f2 has no clone in pass 3.
    for i in range(4):
        ts, run = T0 + timedelta(minutes=30 * i), f"r{i}"
        await store.add_snapshots([
            master_snap(run, ts, "m1", 0.10 * i, 2),
            clone_snap(run, ts, "m1", "f1", 0.10 * i - 0.01, in_sync=i != 1),
            clone_snap(run, ts, "m1", "f2", 0.10 * i + 0.03, exists=i != 3),
            master_snap(run, ts, "m2", 1.0, 0),
        ])


async def test_history_of_a_master_per_pass(store: SqlStore) -> None:
    await history_data(store)
    rows = await queries.history(store, master="m1")
    assert [r["ts"] for r in rows] == [
        "2025-03-01T12:00:00Z", "2025-03-01T12:30:00Z", "2025-03-01T13:00:00Z",
        "2025-03-01T13:30:00Z"]
    assert list(rows[0]) == list(queries.HISTORY_COLUMNS)
    assert [(r["master"], r["follower"], r["followers"]) for r in rows] == [("m1", None, 2)] * 4
    assert [r["clones"] for r in rows] == [2, 2, 2, 1]
    assert [r["in_sync"] for r in rows] == [2, 1, 2, 1]
    assert [r["follower_roi"] for r in rows] == pytest.approx([0.01, 0.11, 0.21, 0.29])
    assert [r["tracking_error"] for r in rows] == pytest.approx([0.01, 0.01, 0.01, -0.01])


async def test_history_of_a_follower_with_time_window(store: SqlStore) -> None:
    await history_data(store)
    rows = await queries.history(store, follower="f2", since=T0 + timedelta(minutes=30),
                                 until=T0 + timedelta(minutes=90))
    assert [(r["ts"], r["master"], r["follower"], r["followers"], r["clones"]) for r in rows] == [
        ("2025-03-01T12:30:00Z", "m1", "f2", 2, 1),
        ("2025-03-01T13:00:00Z", "m1", "f2", 2, 1),
        ("2025-03-01T13:30:00Z", "m1", "f2", 2, 0),
    ]
    assert [r["tracking_error"] for r in rows] == pytest.approx([0.03, 0.03, None])  # type: ignore[list-item]
    assert rows[2]["follower_roi"] is None and rows[2]["master_roi"] == pytest.approx(0.3)


async def test_history_of_all_masters_and_buckets(store: SqlStore) -> None:
    await history_data(store)
    assert len(await queries.history(store)) == 8
    hourly = await queries.history(store, master="m1", bucket="1h")
    assert [r["ts"] for r in hourly] == ["2025-03-01T12:00:00Z", "2025-03-01T13:00:00Z"]
    assert [r["clones"] for r in hourly] == [2.0, 1.5]
    assert [r["master_roi"] for r in hourly] == pytest.approx([0.05, 0.25])
    assert [r["tracking_error"] for r in hourly] == pytest.approx([0.01, 0.0])
    daily = await queries.history(store, follower="f1", bucket="1d")
    assert len(daily) == 1 and daily[0]["in_sync"] == pytest.approx(0.75)
    with pytest.raises(ValueError, match="invalid span"):
        await queries.history(store, bucket="hourly")


def test_to_csv_has_a_header_and_empty_cells_for_none() -> None:
    rows = [{"ts": "2025-03-01T12:00:00Z", "master": "m1", "follower": None, "followers": 2,
             "clones": 1, "in_sync": 1, "master_roi": 0.1, "follower_roi": None,
             "tracking_error": None}]
    text = queries.to_csv(rows)
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed == [list(queries.HISTORY_COLUMNS),
                      ["2025-03-01T12:00:00Z", "m1", "", "2", "1", "1", "0.1", "", "", "",
                       "", ""]]
    assert queries.to_csv([]) == ",".join(queries.HISTORY_COLUMNS) + "\n"


def test_to_csv_rounds_away_float_noise() -> None:
    rows = [{"ts": "2025-03-01T12:00:00Z", "master": "m1", "follower": None, "followers": 2.5,
             "clones": 1.6666666666666667, "in_sync": 1, "master_roi": 0.20297500000000002,
             "follower_roi": 0.1 + 0.2, "tracking_error": 3.0}]
    parsed = list(csv.reader(io.StringIO(queries.to_csv(rows))))
    assert parsed[1] == ["2025-03-01T12:00:00Z", "m1", "", "2.5", "1.666666667", "1",
                         "0.202975", "0.3", "3", "", "", ""]


async def test_history_of_a_master_in_a_window_matches_the_unwindowed_rows(
    store: SqlStore,
) -> None:
    await history_data(store)
    every = await queries.history(store, master="m1")
    window = await queries.history(store, master="m1", since=T0 + timedelta(minutes=30),
                                   until=T0 + timedelta(minutes=60))
    assert window == every[1:3]
    both = await queries.history(store, since=T0 + timedelta(minutes=90))
    assert [(r["master"], r["clones"], r["followers"]) for r in both] == [
        ("m1", 1, 2), ("m2", 0, 0)]
