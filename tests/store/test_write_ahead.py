"""Write-ahead audit events: a pending event is replaced by its outcome (same key), travels
in the link's transaction, and a crash leaves it ``unknown`` rather than lost."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from copytrader.core.records import AuditEvent, Link, RunRecord
from copytrader.store import queries
from copytrader.store.engine import open_store

T = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def event(outcome: str, key: str | None = "k1", ts: datetime = T) -> AuditEvent:
    return AuditEvent(
        ts=ts,
        run_id="r1",
        action="edit",
        master="M",
        follower="u",
        bot="B",
        outcome=outcome,
        key=key,
    )


async def test_outcome_replaces_its_pending_event(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        await store.add_events([event("pending")])
        assert [e["outcome"] for e in await queries.audit(store)] == ["pending"]
        await store.save_link(Link("M", "u", "B"), [event("ok", ts=T + timedelta(seconds=1))])
        rows = await queries.audit(store)
        assert [(e["outcome"], e["ts"]) for e in rows] == [("ok", "2026-11-21T12:00:01Z")]
        assert [lk.bot_id for lk in await store.links()] == ["B"]
        await store.add_events([event("noted", key=None), event("noted", key=None)])
        assert len(await queries.audit(store)) == 3
        await store.drop_link("M", "u", [replace(event("ok"), key="k2", action="delete")])
        assert await store.links() == []
        assert [e["action"] for e in await queries.audit(store, action="delete")] == ["delete"]
    finally:
        await store.close()


async def test_pending_events_left_by_a_crash_become_unknown(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    store = await open_store(url)
    await store.start_run(RunRecord("r1", T))
    await store.add_events([event("pending"), replace(event("pending"), key="k2")])
    await store.close()  # "kill -9": no outcome, no finish_run

    store = await open_store(url)
    try:
        assert await store.close_open_runs(T + timedelta(minutes=1)) == 1
        rows = await queries.audit(store)
        assert {e["outcome"] for e in rows} == {"unknown"}
        assert all("interrupted" in (e["error"] or "") for e in rows)
    finally:
        await store.close()


async def test_timed_out_clone_keeps_its_pending_window(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        until = T + timedelta(seconds=60)
        await store.save_link(Link("M", "u", None, intent_at=T, pending_until=until))
        (lk,) = await store.links()
        assert lk.pending_until == until and lk.intent_at == T
        await store.record_intent("M", "u", T + timedelta(minutes=5))
        (lk,) = await store.links()
        assert lk.pending_until is None
    finally:
        await store.close()


async def test_a_clone_request_left_pending_waits_for_its_bot(tmp_path: Path) -> None:
    """The settled clone's link waits ``clone_pending_seconds`` from the settling (the bot
    may still be in the making); the error says what is known. A later leader with nothing
    to settle extends no wait."""
    url = f"sqlite:///{tmp_path / 'e.db'}"
    store = await open_store(url)
    try:
        await store.start_run(RunRecord("r1", T))
        await store.record_intent("M", "u", T)
        await store.record_intent("M", "v", T)  # its request's outcome was recorded
        clone = replace(event("pending"), action="clone", follower="u", bot=None, key="c1")
        await store.add_events([clone, replace(event("pending"), follower="w", key="e1")])

        settled_at = T + timedelta(minutes=1)
        assert await store.close_open_runs(settled_at, clone_pending_seconds=10) == 1
        waits = {lk.follower: lk.pending_until for lk in await store.links()}
        assert waits == {"u": settled_at + timedelta(seconds=10), "v": None}
        errors = {e["action"]: e["error"] for e in await queries.audit(store)}
        for action in ("clone", "edit"):
            assert "whether it reached the platform is unknown" in errors[action]
            assert "sending this write" not in errors[action]  # it may never have left
        assert "adopt the bot it made" in errors["clone"]

        await store.close_open_runs(settled_at + timedelta(minutes=5), clone_pending_seconds=10)
        assert {lk.follower: lk.pending_until for lk in await store.links()} == waits
    finally:
        await store.close()


async def test_latest_clones_are_the_newest_pass_clone_rows(tmp_path: Path) -> None:
    from copytrader.core.model import Status
    from copytrader.core.records import BotSnapshot

    store = await open_store(f"sqlite:///{tmp_path / 'd.db'}")
    try:
        for n, ts in enumerate((T, T + timedelta(minutes=1))):
            await store.add_snapshots(
                [
                    BotSnapshot(f"r{n}", ts, "M", None, "M", Status.RUNNING, 1.0, 1.0, followers=2),
                    BotSnapshot(f"r{n}", ts, "M", "u2", f"B2{n}", Status.RUNNING, 2.0, 1.0),
                    BotSnapshot(
                        f"r{n}", ts, "M", "u1", f"B1{n}", Status.STOPPED, 0.0, 0.0, paused=True
                    ),
                ]
            )
        rows = await queries.latest_clones(store)
        assert [(r["follower"], r["bot_id"], r["status"], r["paused"]) for r in rows] == [
            ("u1", "B11", "stopped", True),
            ("u2", "B21", "running", False),
        ]
    finally:
        await store.close()
