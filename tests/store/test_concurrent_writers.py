"""Two writers on one database: a pass storing a link's risk state and ``copytrader resume``
lifting its hold (a one-shot command beside a running daemon), on SQLite (WAL) and
PostgreSQL. Neither may undo the other: a pass never writes back a state a resume lifted
since the pass read it, and a resume never lifts a hold it did not see (a new breach)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from sqlalchemy import select

from copytrader.core.policy import OnBreach
from copytrader.core.records import AuditEvent, Hold, Link, RiskState, Track
from copytrader.store import engine, tables
from copytrader.store.repo import SqlStore

M, F = "m-race", "f-race"
T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
WORKER = Path(__file__).with_name("race_worker.py")


def hold(value: float, minutes: int = 0) -> Hold:
    return Hold("min_roi_pct", value, -20.0, T0 + timedelta(minutes=minutes), "fp", OnBreach.STOP)


def event(action: str, of: Hold, detail: str) -> AuditEvent:
    return AuditEvent(
        ts=datetime.now(UTC),
        run_id="r",
        action=action,
        master=M,
        follower=F,
        changes=MappingProxyType({of.rule: (of.value, of.threshold)}),
        outcome="noted",
        detail=detail,
    )


async def trail(store: SqlStore, master: str = M) -> list[tuple[str, Any, str]]:
    """The link's risk events in the order they were written: (action, value, detail)."""
    a = tables.audit_events
    stmt = select(a.c.action, a.c.changes, a.c.detail).where(a.c.master == master)
    async with store.transaction("trail") as conn:
        rows = (await conn.execute(stmt.order_by(a.c.id))).all()
    out = []
    for action, changes, detail in rows:
        changes = json.loads(changes) if isinstance(changes, str) else changes
        out.append((action, changes["min_roi_pct"][0], detail))
    return out


@pytest.fixture
async def other(store: SqlStore, database_url: str) -> Any:
    """A second store on the same database: another process's engine."""
    second = await engine.open_store(database_url)
    try:
        yield second
    finally:
        await second.close()


async def test_a_pass_never_writes_back_what_a_resume_lifted(
    store: SqlStore, other: SqlStore
) -> None:
    stop = event("risk_stop", hold(-25), "pass")
    await store.save_risk([RiskState(M, F, None, hold(-25))], [stop])
    read = {(s.master, s.follower): s for s in await store.risk_states()}  # the pass reads
    assert read[(M, F)].stopped

    lifted = await other.resume_risk(M, F, event("risk_resume", hold(-25), "person"), hold(-25))
    assert lifted is not None and lifted.hold == hold(-25)

    # The pass, made from the hold it read (the follower's risk values changed: the old hold
    # is lifted and the clone measured again), writes nothing of that link.
    track = Track("bot", T0, -25.0, 0.0, -25.0)
    stale = await store.save_risk(
        [RiskState(M, F, track, None)],
        [event("risk_resume", hold(-25), "pass")],
        expected={(M, F): read[(M, F)]},
    )
    assert stale == {(M, F)}
    assert await store.risk_states() == []
    assert await trail(store) == [
        ("risk_stop", -25, "pass"),
        ("risk_resume", -25, "person"),
    ]


async def test_a_resume_never_lifts_a_hold_it_did_not_see(
    store: SqlStore, other: SqlStore
) -> None:
    first, second = hold(-25), hold(-31, minutes=5)
    await store.save_risk([RiskState(M, F, None, first)], [event("risk_stop", first, "pass")])
    (seen,) = await other.risk_states()  # copytrader resume reads the hold it will name

    # A pass replaces it meanwhile with a new breach (the follower's values changed while
    # the clone still broke them).
    stale = await store.save_risk(
        [RiskState(M, F, None, second)],
        [event("risk_resume", first, "pass"), event("risk_stop", second, "pass")],
        expected={(M, F): seen},
    )
    assert stale == frozenset()

    assert seen.hold is not None
    assert await other.resume_risk(M, F, event("risk_resume", first, "person"), seen.hold) is None
    (now,) = await store.risk_states()
    assert now.hold == second  # the new breach still holds the clone
    assert [e[2] for e in await trail(store)] == ["pass", "pass", "pass"]


async def test_an_unchanged_row_is_written(store: SqlStore) -> None:
    track = Track("bot", T0, 1.0, 0.0, 1.0)
    assert await store.save_risk([RiskState(M, F, track)], expected={(M, F): None}) == frozenset()
    (read,) = await store.risk_states()
    peak = RiskState(M, F, Track("bot", T0, 1.0, 0.0, 4.0))
    assert await store.save_risk([peak], expected={(M, F): read}) == frozenset()
    assert await store.risk_states() == [peak]


async def test_sqlite_read_modify_write_holds_the_write_lock_from_its_first_read(
    tmp_path: Path,
) -> None:
    """Without BEGIN IMMEDIATE the driver begins at the first write: a read before it runs
    outside the transaction, and another process may commit in between unseen."""
    path = tmp_path / "ct.db"
    store = await engine.open_store(f"sqlite:///{path}")
    try:
        outsider = sqlite3.connect(path, timeout=0, isolation_level=None)
        async with store.transaction("read-modify-write", immediate=True) as conn:
            await conn.execute(select(tables.risk_states.c.master))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                outsider.execute("BEGIN IMMEDIATE")
        outsider.execute("BEGIN IMMEDIATE")  # free again once it committed
        outsider.execute("ROLLBACK")
        outsider.close()
    finally:
        await store.close()


async def test_pass_and_resume_in_two_processes_never_undo_each_other(
    store: SqlStore, database_url: str, tmp_path: Path
) -> None:
    """Both sides race on one link from processes of their own (race_worker.py). Replayed
    in the order written, every ``risk_resume`` lifts the hold on record at that moment and
    every ``risk_stop`` comes when none is; the row left is the last hold audited."""
    master = "race-master"
    rounds = 150
    ready = [tmp_path / f"ready-{role}" for role in ("pass", "resume")]
    go = tmp_path / "go"
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, str(WORKER), role, database_url, str(rounds), str(flag), str(go)
        )
        for role, flag in zip(("pass", "resume"), ready, strict=True)
    ]
    try:
        async with asyncio.timeout(90):  # a hang guard only
            while not all(flag.exists() for flag in ready):
                if any(p.returncode is not None for p in procs):
                    break
                await asyncio.sleep(0.02)
            go.touch()
            codes = [await p.wait() for p in procs]
    finally:
        for p in procs:
            if p.returncode is None:
                p.kill()
                await p.wait()
    assert codes == [0, 0]

    on_record: float | None = None
    count = {"pass": 0, "resume": 0}
    for action, value, who in await trail(store, master):
        if action == "risk_stop":
            assert on_record is None, f"a new hold {value} while {on_record} was on record"
            on_record = value
        else:
            assert action == "risk_resume"
            assert on_record == value, f"{who} lifted {value}, but {on_record} was on record"
            on_record = None
            count[who] += 1
    left = [s for s in await store.risk_states() if s.master == master]
    assert [s.hold.value for s in left if s.hold] == ([on_record] if on_record else [])
    # Both sides acted: the pass left a hold on record at its every round, and the resume
    # side lifts any it finds (at the latest after the pass's last round).
    assert count["resume"] >= 1


async def test_an_adoption_never_replaces_a_link_made_after_it_was_checked(
    store: SqlStore, other: SqlStore
) -> None:
    """``copytrader adopt`` checks that the follower has no link, then records one; a pass
    that requested a clone for it in between keeps its intent (a blind write would replace
    it, and the pass would record its new clone over the adoption: two bots)."""
    assert [lk for lk in await other.links() if lk.master == M] == []  # adopt's check
    await store.record_intent(M, F, T0)  # the daemon's pass, before its /bots/clone
    adopt = AuditEvent(ts=T0, run_id="r", action="adopt", master=M, follower=F, bot="B1")
    assert await other.adopt_link(Link(M, F, "B1"), [adopt]) is False
    (link,) = [lk for lk in await store.links() if lk.master == M]
    assert (link.bot_id, link.intent_at) == (None, T0)
    a = tables.audit_events
    async with store.transaction("adopt events") as conn:
        found = (await conn.execute(select(a.c.id).where(a.c.action == "adopt"))).all()
    assert found == []

    assert await other.adopt_link(Link("m-other", F, "B2"), [adopt]) is True
    assert [lk.bot_id for lk in await store.links() if lk.master == "m-other"] == ["B2"]
