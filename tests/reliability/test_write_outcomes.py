"""The audit record says truthfully what became of each platform write.

Every request of a write names it (``X-Copytrader-Write``: its audit event's key), so a
resend is the same write: two requests the platform both carried out, one ``ok`` event.
Real passes, the real lease and store, faults injected in the simulator.
"""

from __future__ import annotations

from typing import Any

from copytrader.reconcile import wiring
from copytrader.sim.haas.server import SimServer
from copytrader.sim.haas.state import Fault
from tests.reliability.conftest import GRID, SettingsFactory
from tests.reliability.support import (
    misrecorded_writes,
    took_effect,
    write_events,
    write_requests,
)


def _event(events: list[dict[str, Any]], key: str | None) -> dict[str, Any]:
    (event,) = [e for e in events if e["event_key"] == key]
    return event


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
