"""The audit record says truthfully what became of each platform write, whatever the answer.

A write the platform may have carried out (its request reached it and no answer said what
became of it) is audited ``unknown``, never ``failed``: also when the transport would have
resent it and the writer lease, lost meanwhile, forbade the resend (a leader paused past its
lease). Every request of a write names it (``X-Copytrader-Write``: its audit event's key),
so a resend is the same write: two requests the platform both carried out, one ``ok`` event.
Real passes, the real lease and store, faults injected in the simulator.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from copytrader.reconcile import wiring
from copytrader.sim.haas.server import SimServer
from copytrader.sim.haas.state import Fault
from tests.daemon.conftest import wait_for
from tests.reliability.conftest import GRID, SettingsFactory
from tests.reliability.support import (
    misrecorded_writes,
    took_effect,
    write_events,
    write_requests,
)

#: The client gives up on a write after this long; the slow platform answers after DELAY.
TIMEOUT = 1.0
DELAY = 2.0


def _event(events: list[dict[str, Any]], key: str | None) -> dict[str, Any]:
    (event,) = [e for e in events if e["event_key"] == key]
    return event


async def test_an_edit_answered_too_late_whose_resend_the_lost_lease_forbids_is_unknown(
    sim: SimServer, make_settings: SettingsFactory
) -> None:
    async with wiring.open_writer(make_settings(timeout_seconds=TIMEOUT)) as svc:
        assert (await svc.reconciler.run_pass()).converged
        sim.state.edit_out_of_band(GRID, {"stopExit": True})  # the next pass edits 3 clones
        slow = Fault(path="/bots/edit", kind="timeout", delay=DELAY)
        sim.state.faults.add(slow)

        async def lose_the_lease_once_it_arrived() -> None:
            # What the lease keeper does when it finds the lease gone (a pause past it):
            # from now on nothing may be sent, a resend included.
            await wait_for(lambda: slow.hits, "the slow edit to arrive", every=0.01)
            await svc.lease.release()

        losing = asyncio.create_task(lose_the_lease_once_it_arrived())
        result = await svc.reconciler.run_pass()
        await losing
        await asyncio.sleep(DELAY)  # the platform carries out the edit the client gave up on
        events = await write_events(svc.store)

    assert result.fenced
    (late,) = [r for r in write_requests(sim.state) if r.fault == "timeout"]
    assert took_effect(late)
    assert [r for r in write_requests(sim.state) if r.write_id == late.write_id] == [late]
    event = _event(events, late.write_id)
    assert (event["action"], event["outcome"]) == ("edit", "unknown"), event
    assert "no answer within" in event["error"] and "not resent" in event["error"], event
    assert misrecorded_writes(write_requests(sim.state), events) == []


@pytest.mark.parametrize(
    ("kind", "outcome"),
    [
        ("timeout", "unknown"),  # carried out after the client gave up
        ("lost", "unknown"),  # carried out, the connection dropped before the answer
        ("500", "unknown"),  # a 5xx says nothing of what was done
        ("malformed", "unknown"),  # nor does an answer that cannot be read
        ("reset", "unknown"),  # dropped: the client cannot tell before or after
        ("reject", "failed"),  # refused: nothing was done
    ],
)
async def test_a_start_sent_once_is_audited_by_what_its_answer_says(
    kind: str, outcome: str, sim: SimServer, make_settings: SettingsFactory
) -> None:
    async with wiring.open_writer(make_settings(timeout_seconds=TIMEOUT)) as svc:
        # The first pass clones F1, F2 and F3 and starts each clone; one start is faulted.
        sim.state.faults.add(Fault(path="/bots/start", kind=kind, delay=DELAY))
        await svc.reconciler.run_pass()
        if kind == "timeout":
            await asyncio.sleep(DELAY)
        events = await write_events(svc.store)

    (faulted,) = [r for r in write_requests(sim.state) if r.fault == kind]
    assert [r for r in write_requests(sim.state) if r.write_id == faulted.write_id] == [faulted]
    event = _event(events, faulted.write_id)
    assert (event["action"], event["outcome"]) == ("start", outcome), event
    assert misrecorded_writes(write_requests(sim.state), events) == []


async def test_a_resent_edit_is_one_write_however_often_the_platform_did_it(
    sim: SimServer, make_settings: SettingsFactory
) -> None:
    async with wiring.open_writer(make_settings()) as svc:
        assert (await svc.reconciler.run_pass()).converged
        sim.state.edit_out_of_band(GRID, {"stopExit": True})
        sim.state.faults.add(Fault(path="/bots/edit", kind="lost"))
        assert (await svc.reconciler.run_pass()).converged
        events = await write_events(svc.store)

    edits = [r for r in write_requests(sim.state) if r.path == "/bots/edit"]
    assert sum(1 for r in edits if took_effect(r)) == 4  # three edits, one of them twice
    (twice,) = [r.write_id for r in edits if r.fault == "lost"]
    assert [r.fault for r in edits if r.write_id == twice] == ["lost", None]
    writes = {r.write_id for r in edits}
    assert len(writes) == 3
    assert [_event(events, key)["outcome"] for key in writes] == ["ok"] * 3
    assert misrecorded_writes(write_requests(sim.state), events) == []


async def test_a_pass_whose_outcomes_cannot_be_recorded_says_it_wrote(
    sim: SimServer, make_settings: SettingsFactory, tmp_path: Path
) -> None:
    """The database refuses every outcome of a pass's writes (a real SQLite error, raised by
    a trigger another connection put there) after their pending events were committed and
    the writes sent: the pass is aborted, and its ``pass_aborted`` event says how many writes
    may have reached the platform, never "nothing was written". Once the database works
    again, a new leader settles them ``unknown`` and nothing is sent twice."""
    settings = make_settings()
    db = tmp_path / "ct.db"
    async with wiring.open_writer(settings) as svc:
        assert (await svc.reconciler.run_pass()).converged
        sim.state.edit_out_of_band(GRID, {"stopExit": True})  # the next pass edits 3 clones
        with sqlite3.connect(db) as conn:
            conn.execute(
                "CREATE TRIGGER no_outcomes BEFORE UPDATE ON audit_events "
                "WHEN OLD.outcome = 'pending' "
                "BEGIN SELECT RAISE(ABORT, 'the disk is full'); END"
            )
        result = await svc.reconciler.run_pass()
        with sqlite3.connect(db) as conn:
            conn.execute("DROP TRIGGER no_outcomes")
            (detail,) = conn.execute(
                "SELECT detail FROM audit_events WHERE action = 'pass_aborted' AND run_id = ?",
                (result.run_id,),
            ).fetchone()

    assert result.state == "aborted" and "the disk is full" in (result.error or "")
    edits = [r for r in write_requests(sim.state) if r.path == "/bots/edit"]
    assert len(edits) == 3 and all(took_effect(r) for r in edits)
    assert result.writes_recorded == 3
    assert detail.startswith("the pass ended after 3 platform writes were recorded"), detail
    assert "nothing was written" not in detail

    async with wiring.open_writer(settings) as svc:  # a new leader: settles, then converges
        events = await write_events(svc.store)
        assert {_event(events, r.write_id)["outcome"] for r in edits} == {"unknown"}
        after = await svc.reconciler.run_pass()
    assert after.converged and not after.plan.actions
    assert len([r for r in write_requests(sim.state) if r.path == "/bots/edit"]) == 3
    assert misrecorded_writes(write_requests(sim.state), events) == []
