"""SqlStore against real SQLite and PostgreSQL: every Store method, prune, ping."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType

import pytest
from sqlalchemy import event

from copytrader.core.model import Status
from copytrader.core.records import AuditEvent, BotSnapshot, Link, RunRecord
from copytrader.errors import StoreError
from copytrader.reconcile import ports
from copytrader.store import queries
from copytrader.store.repo import MasterFile, SqlStore

T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def test_sqlstore_has_every_store_method_with_the_protocol_signature() -> None:
    for name, member in inspect.getmembers(ports.Store, inspect.isfunction):
        if name.startswith("_"):
            continue
        mine = getattr(SqlStore, name)
        assert inspect.iscoroutinefunction(mine), name
        assert inspect.signature(mine) == inspect.signature(member), name


async def test_runs_start_finish_and_read_back_aware_utc(store: SqlStore) -> None:
    paris = timezone(timedelta(hours=1))
    await store.start_run(RunRecord("r1", started_at=T0.astimezone(paris)))
    await store.finish_run(RunRecord("r1", started_at=T0, finished_at=T0 + timedelta(seconds=5),
                                     state="ok", actions_ok=3, actions_failed=1, requests=40,
                                     errors=2, detail="done"))
    [run] = await store.runs()
    assert run == RunRecord("r1", T0, T0 + timedelta(seconds=5), "ok", 3, 1, 40, 2, "done")
    assert run.started_at.tzinfo == UTC
    assert run.finished_at is not None and run.finished_at.utcoffset() == timedelta(0)


async def test_finish_run_without_start_still_records_it(store: SqlStore) -> None:
    await store.finish_run(RunRecord("r9", T0, T0, state="failed"))
    assert [r.state for r in await store.runs()] == ["failed"]


async def test_starting_a_run_twice_is_a_store_error(store: SqlStore) -> None:
    await store.start_run(RunRecord("r1", T0))
    with pytest.raises(StoreError, match="start_run"):
        await store.start_run(RunRecord("r1", T0))


async def test_naive_timestamps_are_refused(store: SqlStore) -> None:
    with pytest.raises(StoreError, match="naive"):
        await store.start_run(RunRecord("r1", datetime(2025, 1, 1)))


async def test_close_open_runs_marks_only_running_ones_interrupted(store: SqlStore) -> None:
    await store.start_run(RunRecord("old", T0))
    await store.start_run(RunRecord("crashed", T0 + timedelta(minutes=1)))
    await store.start_run(RunRecord("done", T0 + timedelta(minutes=2)))
    await store.finish_run(RunRecord("done", T0, T0 + timedelta(minutes=3), state="ok"))
    now = T0 + timedelta(hours=1)
    assert await store.close_open_runs(now) == 2
    runs = {r.run_id: r for r in await store.runs()}
    assert {k: (r.state, r.finished_at) for k, r in runs.items()} == {
        "old": ("interrupted", now),
        "crashed": ("interrupted", now),
        "done": ("ok", T0 + timedelta(minutes=3)),
    }
    assert await store.close_open_runs(now) == 0


async def test_links_intent_then_link_then_intent_again_keeps_applied(store: SqlStore) -> None:
    assert await store.links() == []
    await store.record_intent("m1", "f1", T0)
    assert await store.links() == [Link("m1", "f1", None, intent_at=T0)]
    applied = MappingProxyType({"investmentAmount": 50.0, "symbol": "BTC/USDT", "on": True})
    await store.save_link(Link("m1", "f1", "bot-1", applied=applied))
    [link] = await store.links()
    assert (link.bot_id, link.intent_at, dict(link.applied)) == ("bot-1", None, dict(applied))
    later = T0 + timedelta(minutes=5)
    await store.record_intent("m1", "f1", later)  # a re-clone after a delete, say
    [link] = await store.links()
    assert (link.bot_id, link.intent_at, dict(link.applied)) == (None, later, dict(applied))


async def test_save_link_upserts_and_drop_link_forgets(store: SqlStore) -> None:
    await store.save_link(Link("m2", "f1", "b1"))
    await store.save_link(Link("m1", "f2", "b2"))
    await store.save_link(Link("m1", "f1", "b3", removed=False))
    await store.save_link(Link("m1", "f1", "b3", removed=True, applied=MappingProxyType({"a": 1})))
    assert [(k.master, k.follower, k.bot_id, k.removed) for k in await store.links()] == [
        ("m1", "f1", "b3", True), ("m1", "f2", "b2", False), ("m2", "f1", "b1", False)]
    await store.drop_link("m1", "f1")
    await store.drop_link("m1", "nobody")  # no error
    assert [(k.master, k.follower) for k in await store.links()] == [("m1", "f2"), ("m2", "f1")]


async def test_add_events_keeps_every_field(store: SqlStore) -> None:
    event = AuditEvent(
        ts=T0, run_id="r1", action="edit", master="m1", follower="f1", bot="b1",
        changes=MappingProxyType({"investmentAmount": (100.0, 50.0), "new": (None, "x")}),
        outcome="failed", error="bots.edit: refused (code 7)", policy_file="policies/m1.yaml",
        policy_sha256="ab" * 32, layers=MappingProxyType({"investmentAmount": "scale"}),
        detail="why",
    )
    await store.add_events([event, AuditEvent(ts=T0, run_id="r1", action="start")])
    await store.add_events([])
    rows = await queries.audit(store)
    assert rows[0] == {
        "ts": "2025-03-01T12:00:00.123456Z", "run_id": "r1", "action": "edit", "master": "m1",
        "follower": "f1", "bot": "b1",
        "changes": {"investmentAmount": [100.0, 50.0], "new": [None, "x"]},
        "outcome": "failed", "error": "bots.edit: refused (code 7)",
        "policy_file": "policies/m1.yaml", "policy_sha256": "ab" * 32,
        "layers": {"investmentAmount": "scale"}, "detail": "why",
    }
    assert rows[1]["action"] == "start" and rows[1]["changes"] == {}


async def test_a_failed_batch_writes_nothing(store: SqlStore) -> None:
    good = AuditEvent(ts=T0, run_id="r1", action="edit")
    bad = AuditEvent(ts=datetime(2025, 1, 1), run_id="r1", action="edit")
    with pytest.raises(StoreError):
        await store.add_events([good, bad])
    assert await queries.audit(store) == []


def _snap(i: int, ts: datetime, run_id: str = "r1") -> BotSnapshot:
    return BotSnapshot(run_id=run_id, ts=ts, master=f"m{i % 10}", follower=f"f{i}",
                       bot_id=f"b{i}", status=Status.RUNNING, roi=i / 1000, profit=float(i))


async def test_add_snapshots_is_batched_in_one_transaction(store: SqlStore) -> None:
    """25 000 rows go in as three executemany batches inside one transaction, not row by row.

    Speed itself is measured by benchmarks/db_queries.py; this proves the shape that makes it fast.
    """
    n = 25_000
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *rest: object) -> None:
        statements.append(statement.split()[0].upper())

    sync_engine = store.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", count)
    try:
        await store.add_snapshots([_snap(i, T0) for i in range(n)])
    finally:
        event.remove(sync_engine, "before_cursor_execute", count)
    async with store.engine.connect() as conn:
        got = (await conn.exec_driver_sql("SELECT COUNT(*) FROM snapshots")).scalar()
    assert got == n
    assert statements == ["INSERT"] * 3  # one executemany per 10 000-row chunk


async def test_prune_deletes_old_snapshots_and_never_audit_events(store: SqlStore) -> None:
    old, new = T0 - timedelta(days=100), T0
    await store.add_snapshots([_snap(1, old, "r-old"), _snap(2, old, "r-old"), _snap(3, new)])
    await store.add_events([AuditEvent(ts=old, run_id="r-old", action="clone")])
    assert await store.prune(T0 - timedelta(days=90)) == 2
    assert await store.prune(T0 - timedelta(days=90)) == 0
    async with store.engine.connect() as conn:
        left = (await conn.exec_driver_sql("SELECT run_id FROM snapshots")).scalars().all()
    assert left == ["r1"]
    assert len(await queries.audit(store)) == 1


async def test_record_masters_keeps_first_seen_and_updates_the_rest(store: SqlStore) -> None:
    await store.record_masters([MasterFile("m1", "p/m1.yaml", "aa")], T0)
    later = T0 + timedelta(days=1)
    await store.record_masters([MasterFile("m1", "p/m1.yml", "bb"),
                                MasterFile("m0", "p/m0.yaml", "cc")], later)
    assert await store.masters() == [
        (MasterFile("m0", "p/m0.yaml", "cc"), later, later),
        (MasterFile("m1", "p/m1.yml", "bb"), T0, later),
    ]


async def test_ping_and_close(store: SqlStore) -> None:
    assert await store.ping()
