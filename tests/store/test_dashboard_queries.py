"""The dashboard's reads against real databases (SQLite and PostgreSQL): a master's clones
sorted and paginated, ROI series sampled from the snapshots, the audit trail newest first with
keyset pages, the masters' recorded settings; and on SQLite, that the plans use the indexes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest
from sqlalchemy import event

from copytrader.core.model import Script, SettingSpec, SettingType, Status
from copytrader.core.records import AuditEvent, BotSnapshot, MasterState
from copytrader.store import auditlog, clones, queries, series, states
from copytrader.store.repo import SqlStore

T0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
FOLLOWERS = ("fa", "fb", "fc", "fd")


def master_row(run: str, ts: datetime, roi: float, master: str = "m1") -> BotSnapshot:
    return BotSnapshot(run, ts, master, None, master, Status.RUNNING, roi, 0.0,
                       followers=len(FOLLOWERS))


def clone_row(run: str, ts: datetime, follower: str, roi: float | None, *,
              master: str = "m1", exists: bool = True, **flags: bool) -> BotSnapshot:
    return BotSnapshot(run, ts, master, follower, f"bot-{follower}" if exists else None,
                       Status.RUNNING if exists else None, roi if exists else None, 0.0,
                       **flags)


async def passes(store: SqlStore, n: int, every: timedelta = timedelta(minutes=1)) -> list[
        datetime]:
    """``n`` passes of master m1 (ROI = pass number) and its four followers (ROI = pass
    number + an offset per follower); follower fd has no clone in even passes; a second
    master m2 in every pass."""
    times = []
    for p in range(n):
        ts = T0 + every * p
        times.append(ts)
        rows = [master_row(f"r{p}", ts, float(p)), master_row(f"r{p}", ts, -1.0, "m2")]
        rows += [clone_row(f"r{p}", ts, f, p + k / 10, exists=not (f == "fd" and p % 2 == 0))
                 for k, f in enumerate(FOLLOWERS)]
        rows.append(clone_row(f"r{p}", ts, "fa", 99.0, master="m2"))
        await store.add_snapshots(rows)
    return times


async def test_the_clone_page_reads_the_latest_pass_sorted_and_paginated(
        store: SqlStore) -> None:
    assert await clones.page(store, "m1") is None
    await passes(store, 3)
    ts = T0 + timedelta(minutes=3)
    await store.add_snapshots([
        master_row("last", ts, 5.0),
        clone_row("last", ts, "fa", 7.0, in_sync=True),
        clone_row("last", ts, "fb", 2.0, in_sync=False, drifted=True),
        clone_row("last", ts, "fc", None, exists=False, in_sync=False, failed=True),
        clone_row("last", ts, "fd", 5.5, paused=True),
    ])
    page = await clones.page(store, "m1", sort="roi", descending=True)
    assert page is not None and page.total == 4
    assert (page.head.run_id, page.head.roi, page.head.followers) == ("last", 5.0, 4)
    assert [r["follower"] for r in page.rows] == ["fa", "fd", "fb", "fc"]  # no ROI: last
    gaps = {r["follower"]: r["gap"] for r in page.rows}
    assert gaps["fa"] == pytest.approx(2.0) and gaps["fb"] == pytest.approx(-3.0)
    assert gaps["fc"] is None
    fc = next(r for r in page.rows if r["follower"] == "fc")
    assert (fc["in_sync"], fc["failed"], fc["status"]) == (False, True, None)
    ascending = await clones.page(store, "m1", sort="gap")
    assert ascending is not None
    assert [r["follower"] for r in ascending.rows] == ["fb", "fd", "fa", "fc"]
    first = await clones.page(store, "m1", offset=0, limit=3)
    second = await clones.page(store, "m1", offset=3, limit=3)
    assert first is not None and second is not None
    assert [r["follower"] for r in first.rows] == ["fa", "fb", "fc"]
    assert [r["follower"] for r in second.rows] == ["fd"] and second.total == 4
    with pytest.raises(ValueError, match="unknown sort"):
        await clones.page(store, "m1", sort="nope")


async def test_last_write_is_the_latest_ok_platform_write(store: SqlStore) -> None:
    await passes(store, 1)
    await store.add_events([
        AuditEvent(T0 + timedelta(seconds=1), "r", "clone", "m1", "fa", "bot-fa"),
        AuditEvent(T0 + timedelta(seconds=5), "r", "edit", "m1", "fa", "bot-fa"),
        AuditEvent(T0 + timedelta(seconds=9), "r", "edit", "m1", "fa", "bot-fa",
                   outcome="failed", error="refused"),
        AuditEvent(T0 + timedelta(seconds=9), "r", "drift", "m1", "fb", "bot-fb",
                   outcome="noted"),
        AuditEvent(T0 + timedelta(seconds=7), "r", "stop", "m1", "fc", "bot-fc"),
        AuditEvent(T0 + timedelta(seconds=8), "r", "edit", "m2", "fc", "x"),  # other master
    ])
    page = await clones.page(store, "m1")
    assert page is not None
    written = {r["follower"]: r["last_write"] for r in page.rows}
    assert written == {"fa": T0 + timedelta(seconds=5), "fb": None,
                       "fc": T0 + timedelta(seconds=7), "fd": None}
    by_write = await clones.page(store, "m1", sort="last_write", descending=True)
    assert by_write is not None
    assert [r["follower"] for r in by_write.rows] == ["fc", "fa", "fb", "fd"]


async def test_series_keeps_every_pass_when_there_are_fewer_than_points(
        store: SqlStore) -> None:
    times = await passes(store, 7)
    found = await series.roi(store, "m1", ["fa", "fd", "nobody"], T0 - timedelta(hours=1),
                             T0 + timedelta(hours=1))
    assert found.ts == times
    assert found.master == [float(p) for p in range(7)]
    assert found.followers["fa"] == pytest.approx([float(p) for p in range(7)])
    # fd had no clone in even passes: no point there
    assert found.followers["fd"] == [None if p % 2 == 0 else pytest.approx(p + 0.3)
                                     for p in range(7)]
    assert found.followers["nobody"] == [None] * 7


async def test_series_samples_stored_passes_evenly_and_respects_the_range(
        store: SqlStore) -> None:
    times = await passes(store, 60)
    found = await series.roi(store, "m1", ["fb"], T0, T0 + timedelta(hours=2), points=12)
    assert len(found.ts) == 12
    # every point is a stored pass (its own time and values), slices of 5 passes: the last
    assert found.ts == [times[p] for p in range(4, 60, 5)]
    assert found.master == [float(p) for p in range(4, 60, 5)]
    assert found.followers["fb"] == pytest.approx([p + 0.1 for p in range(4, 60, 5)])
    window = await series.roi(store, "m1", [], T0 + timedelta(minutes=10),
                              T0 + timedelta(minutes=20), points=100)
    assert window.ts == times[10:21]
    empty = await series.roi(store, "m1", ["fa"], T0 - timedelta(days=2),
                             T0 - timedelta(days=1))
    assert (empty.ts, empty.master, empty.followers) == ([], [], {"fa": []})


async def test_audit_pages_newest_first_with_keyset_cursors(store: SqlStore) -> None:
    same = T0 + timedelta(hours=1)
    events = [AuditEvent(T0 + timedelta(minutes=i), f"r{i}", "edit" if i % 2 else "clone",
                         "m1", f"f{i % 3}", "b") for i in range(10)]
    events += [AuditEvent(same, f"s{i}", "stop", "m2", "f9", "b") for i in range(3)]
    await store.add_events(events)
    seen, before = [], None
    while True:
        page = await auditlog.page(store, auditlog.Filters(), limit=4, before=before)
        seen += [r["run_id"] for r in page.rows]
        if page.next is None:
            break
        before = page.next
    assert seen == ["s2", "s1", "s0"] + [f"r{i}" for i in range(9, -1, -1)]
    edits = await auditlog.page(store, auditlog.Filters(master="m1", action="edit",
                                                        since=T0 + timedelta(minutes=3)),
                                limit=100)
    assert [r["run_id"] for r in edits.rows] == ["r9", "r7", "r5", "r3"]
    assert edits.next is None
    assert await auditlog.actions(store) == ["clone", "edit", "stop"]
    with pytest.raises(ValueError, match="invalid cursor"):
        await auditlog.page(store, auditlog.Filters(), before="garbage")
    # the CLI's audit uses the same filters and row shape
    cli = await queries.audit(store, master="m1", action="edit", since=T0 + timedelta(minutes=3))
    assert [r["run_id"] for r in cli] == ["r3", "r5", "r7", "r9"]
    assert cli[-1] == edits.rows[0]


SCRIPT = Script("spot_grid", "Spot Grid Bot", (
    SettingSpec("symbol", SettingType.STRING, "", False, name="Symbol"),
    SettingSpec("investmentAmount", SettingType.NUMBER, 10, False),
    SettingSpec("gridMode", SettingType.OPTION, "Arithmetic", True, ("Arithmetic", "Geometric")),
    SettingSpec("stopExit", SettingType.BOOLEAN, False, True),
))


async def test_master_states_round_trip_and_name_the_master(store: SqlStore) -> None:
    assert await states.load(store, "m1") is None
    first = MasterState("m1", "spot_grid", Status.RUNNING,
                        MappingProxyType({"symbol": "<b>ETH</b>", "investmentAmount": 100}),
                        SCRIPT, T0)
    await store.save_master_states([first])
    again = MasterState("m1", "spot_grid", Status.STOPPED,
                        MappingProxyType({"symbol": "X", "investmentAmount": 5}), SCRIPT,
                        T0 + timedelta(hours=1))
    named = MasterState("m2", "webhook", Status.RUNNING,
                        MappingProxyType({"name": "  Alpha  ", "symbol": "Y"}),
                        Script("webhook", "Webhook Bot", ()), T0)
    await store.save_master_states([again, named])
    loaded = await states.load(store, "m1")
    assert loaded is not None
    assert (loaded.status, dict(loaded.settings), loaded.seen_at) == (
        Status.STOPPED, {"symbol": "X", "investmentAmount": 5}, T0 + timedelta(hours=1))
    assert loaded.script == SCRIPT
    assert await states.names(store) == {"m1": "Spot Grid Bot · X", "m2": "Alpha"}


async def test_status_of_one_master(store: SqlStore) -> None:
    await passes(store, 2)
    both = await queries.status(store)
    one = await queries.status(store, only="m2")
    assert [m["master"] for m in both["masters"]] == ["m1", "m2"]
    assert one == {"masters": [both["masters"][1]], "risk_stops": [], "as_of": one["as_of"]}
    assert one["as_of"]["run_id"] == both["as_of"]["run_id"]
    assert await queries.status(store, only="nope") == {
        "masters": [],
        "risk_stops": [],
        "as_of": None,
    }


#: Indexes that read a whole master's rows (or every pass of a time): never for these reads.
WIDE = ("ix_snapshots_master_ts", "ix_snapshots_ts", "ix_audit_events_master_ts",
        "ix_audit_events_action_ts", "ix_audit_events_outcome", "ix_audit_events_ts")


async def test_sqlite_plans_ride_the_indexes(store: SqlStore) -> None:
    """The statements the dashboard runs (captured as sent), explained: each reads through the
    narrow index it was written for, never a table scan or a master-wide index."""
    if store.dialect != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    await passes(store, 3)
    await store.add_events([AuditEvent(T0, "r", "edit", "m1", "fa", "bot-fa")])
    sent: list[tuple[str, object]] = []

    def capture(_conn: object, _cursor: object, statement: str, parameters: object,
                _context: object, _many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            sent.append((statement, parameters))

    event.listen(store.engine.sync_engine, "before_cursor_execute", capture)
    try:
        await clones.page(store, "m1", sort="last_write", limit=2)
        await clones.page(store, "m1", sort="roi", limit=2)
        await series.roi(store, "m1", ["fa", "fb"], T0 - timedelta(hours=1),
                         T0 + timedelta(hours=1))
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", capture)
    plans = []
    async with store.engine.connect() as conn:
        for statement, parameters in sent:
            rows = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                               parameters)).all()  # type: ignore[arg-type]
            plans.append(" | ".join(str(r[-1]) for r in rows))
    everything = "\n".join(plans)
    for used in ("ix_snapshots_master_rows", "ix_snapshots_run_master",
                 "ix_snapshots_follower_ts", "ix_audit_events_follower_ts"):
        assert used in everything, (used, everything)
    for plan in plans:
        assert "SCAN snapshots" not in plan and "SCAN audit_events" not in plan, plan
        assert not any(wide in plan for wide in WIDE), plan
