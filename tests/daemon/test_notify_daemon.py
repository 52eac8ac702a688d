"""Notifications with real processes: ``copytrader run`` as a subprocess sends to a real
webhook receiver and a real Apprise ``json://`` receiver on loopback. The receiver goes down,
the daemon is ``kill -9``-ed and a new one started while it is down; once it is back, every
notification arrives (each id at least once, every signature right), none is lost, and the
URLs and the secret (canaries) are nowhere: not in the logs, the database file, the audit
output, ``/metrics`` or ``/healthz``."""

from __future__ import annotations

import json
import re
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from copytrader.sim.haas.server import SimServer
from tests.daemon.conftest import F1, F2, GRID, query, wait_for
from tests.notify.receiver import Receiver
from tests.reliability.support import run_cli
from tests.world import write_policy

SECRET = "canary-webhook-secret-Jq9Lx2Vb"
TOKEN = "canary-hook-token-Rk55Tm"
APPRISE_TOKEN = "canary-apprise-token-Pw73"
CANARIES = (SECRET, TOKEN, APPRISE_TOKEN)
EVENTS = "lease_acquired,clone,start,stop,risk_stop,policy_invalid"
POLICY = f"""\
master: {GRID}
followers:
  - user: {F1}
    risk: {{min_roi_pct: -20}}
  - user: {F2}
"""


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    write_policy(folder, "grid.yaml", POLICY)
    return folder


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver(SECRET, path=f"/hook/{TOKEN}").start()
    yield r
    await r.stop()


def _clean(where: str, data: bytes) -> None:
    for canary in CANARIES:
        assert canary.encode() not in data, f"{canary} leaked into {where}"


async def test_outage_and_kill9_lose_no_notification(
    sim: SimServer,
    start_daemon,
    daemon_env: dict[str, str],
    receiver: Receiver,
    policy_dir: Path,
    tmp_path: Path,
) -> None:
    notify_env = {
        "COPYTRADER_WEBHOOK_URL": receiver.url,
        "COPYTRADER_WEBHOOK_SECRET": SECRET,
        "COPYTRADER_NOTIFY_URLS": f"json://127.0.0.1:{receiver.port}/apprise/{APPRISE_TOKEN}",
        "COPYTRADER_NOTIFY_EVENTS": EVENTS,
    }
    db = tmp_path / "ct.db"

    def ids_in_db() -> set[str]:
        return {row[0] for row in query(db, "SELECT id FROM notifications")}

    def unsettled() -> int:
        return len(query(db, "SELECT id FROM notifications WHERE next_at IS NOT NULL"))

    def failed_attempts() -> int:
        rows = query(
            db, "SELECT count(*) FROM notification_deliveries WHERE last_error IS NOT NULL"
        )
        return int(rows[0][0]) if rows else 0

    d = await start_daemon(**notify_env)
    # lease_acquired, two clones and their starts: delivered while the receiver is up
    await wait_for(lambda: len(receiver.delivered()) >= 5, "the first notifications")

    await receiver.stop()  # down for a while
    bot = next(b for b in sim.state.bots_of(F1) if b["type"] == "spot_grid")
    sim.state.set_roi(bot["botId"], -25.0)  # risk_stop and stop
    write_policy(policy_dir, "broken.yaml", f"master: {GRID}x\nfollowers: 3\n")  # policy_invalid
    await wait_for(lambda: failed_attempts() >= 3, "deliveries failing while it is down")

    await d.stop(signal.SIGKILL)  # mid-retry: what is pending lives in the database only
    before_restart = ids_in_db()
    d2 = await start_daemon(**notify_env)  # its lease_acquired is made while still down
    await wait_for(lambda: len(ids_in_db()) > len(before_restart), "the new leader's event")
    await receiver.start()  # back, on the same port

    await wait_for(lambda: unsettled() == 0, "every notification settled", within=90)
    runs = len(query(db, "SELECT run_id FROM runs"))
    await wait_for(lambda: len(query(db, "SELECT run_id FROM runs")) >= runs + 2, "2 passes")
    await wait_for(lambda: unsettled() == 0, "every notification settled", within=90)
    status, metrics = await d2.get("/metrics")
    assert status == 200
    _clean("/metrics", metrics.encode())
    assert "copytrader_notification_deliveries_total" in metrics
    _, health = await d2.get("/healthz")
    _clean("/healthz", health.encode())
    await d2.stop()  # a clean stop audits nothing that notifies (lease_released is not listed)

    ids = ids_in_db()
    assert unsettled() == 0
    assert receiver.problems == []
    assert ids == receiver.delivered(), "every notification arrived, each id at least once"
    assert before_restart <= ids
    apprised = {
        m.group(1)
        for msg in receiver.apprise
        if (m := re.search(r"\(event ([0-9a-f]{32})\)", msg["message"]))
    }
    assert apprised == ids
    actions = {r.body["action"] for r in receiver.got}
    assert {"lease_acquired", "clone", "start", "stop", "risk_stop", "policy_invalid"} <= actions

    # None lost: every notifying audit event has its notification (same transaction).
    wanted = EVENTS.split(",")
    marks = ",".join("?" * len(wanted))
    events = query(
        db,
        f"SELECT count(*) FROM audit_events WHERE action IN ({marks}) AND outcome != 'pending'",
        *wanted,
    )
    assert events[0][0] == len(ids)

    code, out, err = await run_cli("audit", "--json", env={**daemon_env, **notify_env})
    assert code == 0, err
    _clean("audit --json", (out + err).encode())
    assert json.loads(out.splitlines()[0])["action"]
    _clean("the daemon's log", d2.log.read_bytes())
    for name in ("ct.db", "ct.db-wal"):
        if (tmp_path / name).exists():
            _clean(name, (tmp_path / name).read_bytes())
