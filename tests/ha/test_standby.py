"""Two ``copytrader run`` daemons on one SQLite database: one leader, one standby, and a
takeover once the leader's SIGTERM gives the lease up (real processes, real simulator). How
fast that is, is the failover benchmark's to measure."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

from copytrader.sim.haas.server import SimServer
from tests.daemon.conftest import (
    EXPECTED,
    F2,
    GRID,
    NotifySocket,
    clone_of,
    mismatches,
    query,
    wait_for,
)
from tests.daemon.test_run import sample
from tests.ha.conftest import Replica, base_env, duplicates, pid_of, writes_by

#: The lease's audit events of one clean takeover (their ids may interleave: the leader
#: records its release just after giving the lease up).
TAKEOVER = [("lease_acquired", "epoch 1"), ("lease_acquired", "epoch 2"),
            ("lease_released", "epoch 1")]


def lease_trail(r: Replica) -> list[tuple[str, str]]:
    """The lease's audit events as (action, epoch), sorted."""
    rows = query(r.db, "SELECT action, detail FROM audit_events WHERE action LIKE 'lease_%'")
    return sorted((action, detail.split(";")[0]) for action, detail in rows)


async def test_one_leader_one_standby_and_a_takeover_after_a_clean_stop(
    sim: SimServer, policy_dir: Path, tmp_path: Path, replicas, notify: NotifySocket
) -> None:
    env = base_env(sim, policy_dir, f"sqlite:///{tmp_path / 'ct.db'}")
    a = await replicas(env, "a")

    async def role(r, want: str) -> dict | None:
        doc = await r.role()
        return doc if doc and doc.get("role") == want else None

    await wait_for(lambda: role(a, "leader"), "a leads")
    await wait_for(lambda: not mismatches(sim.state, EXPECTED), "converged by a")
    b = await replicas({**env, "NOTIFY_SOCKET": str(notify.path)}, "b")
    doc = await wait_for(lambda: role(b, "standby"), "b is a standby")
    code, _ = await b.get("/healthz")
    assert code == 200 and doc["status"] == "ok"
    assert doc["leader"] == f"{socket.gethostname()}:{a.pid}"
    assert notify.seen("READY", "1")
    await wait_for(lambda: [m for m in notify.seen("STATUS") if "standby" in m["STATUS"]],
                   "STATUS= says standby")
    assert sample((await b.get("/metrics"))[1], "copytrader_leader") == 0
    assert sample((await a.get("/metrics"))[1], "copytrader_leader") == 1

    code, _ = await a.stop(signal.SIGTERM)
    assert code == 0
    await wait_for(lambda: role(b, "leader"), "b takes over", every=0.1)
    # a gave the lease up on its way out (not left to its lock), and b took it at epoch 2.
    await wait_for(lambda: lease_trail(b) == TAKEOVER, "the takeover on record")

    # The next policy change is carried by b: the second follower's share 0.5 -> 0.25.
    grid = policy_dir / "eth-grid.yaml"
    good = grid.read_text(encoding="utf-8")
    grid.write_text(good.replace("investmentAmount: 0.5\n", "investmentAmount: 0.25\n"),
                    encoding="utf-8")

    def f2_amount() -> object:
        clone = clone_of(sim.state, GRID, F2)
        return clone["settings"]["investmentAmount"] if clone else None

    await wait_for(lambda: f2_amount() == 250, "the change carried by b")
    writers = {pid_of(stamp) for _, stamp in writes_by(sim.state)}
    assert writers == {a.pid, b.pid}  # every write carried its writer; none without
    assert duplicates(sim.state) == 0
    assert lease_trail(b) == TAKEOVER  # nothing more meanwhile
