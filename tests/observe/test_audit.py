"""AuditTrail: one JSON log line and one database row per event, with the same content."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import pytest
from structlog.testing import capture_logs

from copytrader.core.records import AuditEvent, RunRecord
from copytrader.errors import StoreError
from copytrader.observe import logging as obs_logging
from copytrader.observe import redact
from copytrader.observe.audit import AuditTrail
from copytrader.store import engine, queries
from copytrader.store.repo import SqlStore

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CONTRACT = ["ts", "run_id", "action", "master", "follower", "bot", "changes", "outcome", "error"]
EXTRA = ["policy_file", "policy_sha256", "layers", "detail"]


def edit(i: int, run_id: str = "r1", **kw: object) -> AuditEvent:
    return AuditEvent(
        ts=T0 + timedelta(seconds=i), run_id=run_id, action="edit", master="m1",
        follower=f"f{i}", bot=f"b{i}",
        changes=MappingProxyType({"investmentAmount": (100.0, 50.0 + i)}),
        policy_file="policies/m1.yaml", policy_sha256="cd" * 32,
        layers=MappingProxyType({"investmentAmount": "scale"}), **kw,  # type: ignore[arg-type]
    )


async def test_emit_logs_the_contract_fields_and_flush_writes_the_same_rows(
    store: SqlStore,
) -> None:
    trail = AuditTrail(store, "r1")
    with capture_logs() as logs:
        await trail.emit(edit(1))
        await trail.emit(edit(2, outcome="failed", error="bots.edit: refused (code 3)"))
    assert trail.pending == 2
    assert await queries.audit(store) == []  # nothing written before the flush
    await trail.flush()
    assert trail.pending == 0
    rows = await queries.audit(store)
    assert [log["event"] for log in logs] == ["audit", "audit"]
    assert [log["log_level"] for log in logs] == ["info", "info"]
    for log, row in zip(logs, rows, strict=True):
        fields = {k: v for k, v in log.items() if k not in ("event", "log_level")}
        assert list(fields) == CONTRACT + EXTRA
        assert fields == row
    assert rows[1]["outcome"] == "failed" and rows[1]["changes"] == {
        "investmentAmount": [100.0, 52.0]}


async def test_rendered_json_line_matches_the_row(store: SqlStore) -> None:
    out = io.StringIO()
    obs_logging.configure("json", stream=out)
    trail = AuditTrail(store, "r1")
    await trail.emit(edit(1))
    await trail.flush()
    line = json.loads(out.getvalue().splitlines()[0])
    [row] = await queries.audit(store)
    assert line["event"] == "audit" and line["level"] == "info"
    assert {k: line[k] for k in CONTRACT + EXTRA} == row


async def test_secrets_in_free_text_are_masked_in_log_and_row(store: SqlStore) -> None:
    redact.register_secret("key-that-leaked")
    trail = AuditTrail(store, "r1")
    with capture_logs() as logs:
        await trail.emit(edit(1, outcome="failed", error="echoed key-that-leaked",
                              detail="also key-that-leaked"))
    await trail.flush()
    [row] = await queries.audit(store)
    assert row["error"] == logs[0]["error"] == "echoed ***"
    assert row["detail"] == "also ***"


async def test_without_a_store_it_only_logs() -> None:
    trail = AuditTrail(None, "plan")
    with capture_logs() as logs:
        await trail.emit(edit(1))
    await trail.flush()
    assert trail.pending == 0 and len(logs) == 1


class BrokenSink:
    def __init__(self) -> None:
        self.fail = True
        self.written: list[AuditEvent] = []

    async def add_events(self, events: Sequence[AuditEvent]) -> None:
        if self.fail:
            raise StoreError("database: add_events failed: disk full")
        self.written.extend(events)


async def test_a_failed_flush_keeps_the_events_for_the_next_one() -> None:
    sink = BrokenSink()
    trail = AuditTrail(sink, "r1")
    await trail.emit(edit(1))
    with pytest.raises(StoreError):
        await trail.flush()
    assert trail.pending == 1
    sink.fail = False
    await trail.emit(edit(2))
    await trail.flush()
    assert [e.follower for e in sink.written] == ["f1", "f2"] and trail.pending == 0


async def test_a_pass_interrupted_half_way_loses_no_flushed_event(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ct.db'}"
    store = await engine.open_store(url)
    await store.start_run(RunRecord("ok-run", T0 - timedelta(hours=1)))
    await store.finish_run(RunRecord("ok-run", T0 - timedelta(hours=1), T0, state="ok"))
    await store.start_run(RunRecord("crashed", T0))
    trail = AuditTrail(store, "crashed")
    for i in range(3):  # follower 0..2 done, each flushed
        await trail.emit(edit(i, run_id="crashed"))
        await trail.flush()
    await trail.emit(edit(3, run_id="crashed"))  # in progress when the process dies
    await store.close()  # the crash: no finish_run, no final flush

    store = await engine.open_store(url)
    try:
        now = datetime.now(UTC)
        assert await store.close_open_runs(now) == 1
        runs = {r.run_id: r for r in await store.runs()}
        assert all(r.state != "running" and r.finished_at is not None for r in runs.values())
        assert runs["crashed"].state == "interrupted"
        assert runs["ok-run"].state == "ok"
        rows = await queries.audit(store, action="edit")
        assert [r["follower"] for r in rows] == ["f0", "f1", "f2"]
    finally:
        await store.close()

