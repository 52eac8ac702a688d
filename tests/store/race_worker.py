"""One side of the risk-state race, as a process of its own (run by test_concurrent_writers).

``python race_worker.py pass|resume URL ROUNDS READY GO``: opens the store at URL, creates
the file READY, waits for the file GO (so both sides start together), then plays ROUNDS
rounds of its side on one link:

- ``pass`` (what a reconcile pass does with the link's risk state): reads the state; when
  nothing holds the clone, records a new stop hold (``risk_stop``); when a hold is on record,
  replaces it by a new one, as a pass does when the follower's risk values changed while the
  clone still breaks them (``risk_resume`` of the old hold, ``risk_stop`` of the new). It
  writes only while the row is still what it read (``expected``), as the pass does.
- ``resume`` (what ``copytrader resume`` does): reads the state; when a stop hold is on
  record, lifts exactly that hold (``risk_resume``).

Each hold has a value of its own, so the audit trail says which hold each event is about.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from copytrader.core.policy import OnBreach
from copytrader.core.records import AuditEvent, Hold, RiskState
from copytrader.store.engine import open_store

MASTER, FOLLOWER, RULE, THRESHOLD = "race-master", "race-follower", "min_roi_pct", -20.0


def hold(value: float) -> Hold:
    return Hold(RULE, value, THRESHOLD, datetime.now(UTC), "fingerprint", OnBreach.STOP)


def event(action: str, of: Hold, who: str) -> AuditEvent:
    return AuditEvent(
        ts=datetime.now(UTC),
        run_id=who,
        action=action,
        master=MASTER,
        follower=FOLLOWER,
        changes=MappingProxyType({RULE: (of.value, of.threshold)}),
        outcome="noted",
        detail=who,
    )


async def main(role: str, url: str, rounds: int, ready: Path, go: Path) -> None:
    store = await open_store(url)
    key = (MASTER, FOLLOWER)
    try:
        ready.touch()
        deadline = time.monotonic() + 60
        while not go.exists():
            if time.monotonic() > deadline:
                raise SystemExit("no go signal")
            await asyncio.sleep(0.005)
        for i in range(rounds):
            states = {(s.master, s.follower): s for s in await store.risk_states()}
            before = states.get(key)
            held = before.hold if before is not None and before.stopped else None
            if role == "resume":
                if held is not None:
                    lift = event("risk_resume", held, role)
                    await store.resume_risk(MASTER, FOLLOWER, lift, held)
                continue
            new = hold(-(1000.0 + i))
            events = [event("risk_stop", new, role)]
            if held is not None:
                events.insert(0, event("risk_resume", held, role))
            await store.save_risk(
                [RiskState(MASTER, FOLLOWER, None, new)], events, expected={key: before}
            )
    finally:
        await store.close()


if __name__ == "__main__":
    role, url, rounds, ready, go = sys.argv[1:6]
    asyncio.run(main(role, url, int(rounds), Path(ready), Path(go)))
