"""Two ``copytrader run`` daemons on one SQLite database: one leader, one standby, and a
takeover within 5 s of the leader's SIGTERM (real processes, real simulator)."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

from copytrader.sim.haas.server import SimServer
from tests.daemon.conftest import EXPECTED, F2, GRID, NotifySocket, clone_of, mismatches, wait_for
from tests.daemon.test_run import sample
from tests.ha.conftest import base_env, duplicates, pid_of, writes_by


async def test_one_leader_one_standby_and_a_takeover_within_5s_of_sigterm(
    sim: SimServer, policy_dir: Path, tmp_path: Path, replicas, notify: NotifySocket
) -> None:
    env = base_env(sim, policy_dir, f"sqlite:///{tmp_path / 'ct.db'}")
    a = await replicas(env, "a")

    async def role(r, want: str) -> dict | None:
        doc = await r.role()
        return doc if doc and doc.get("role") == want else None

    await wait_for(lambda: role(a, "leader"), "a leads", 20)
    await wait_for(lambda: not mismatches(sim.state, EXPECTED), "converged by a", 20)
    b = await replicas({**env, "NOTIFY_SOCKET": str(notify.path)}, "b")
    doc = await wait_for(lambda: role(b, "standby"), "b is a standby", 20)
    code, _ = await b.get("/healthz")
    assert code == 200 and doc["status"] == "ok"
    assert doc["leader"] == f"{socket.gethostname()}:{a.pid}"
    assert notify.seen("READY", "1")
    await wait_for(lambda: [m for m in notify.seen("STATUS") if "standby" in m["STATUS"]],
                   "STATUS= says standby", 10)
    assert sample((await b.get("/metrics"))[1], "copytrader_leader") == 0
    assert sample((await a.get("/metrics"))[1], "copytrader_leader") == 1

    sent = time.monotonic()
    code, _ = await a.stop(signal.SIGTERM)
    assert code == 0
    await wait_for(lambda: role(b, "leader"), "b takes over", 5.0, every=0.1)
    took = time.monotonic() - sent
    assert took < 5.0, took

    # The next policy change is carried by b: the second follower's share 0.5 -> 0.25.
    grid = policy_dir / "eth-grid.yaml"
    good = grid.read_text(encoding="utf-8")
    grid.write_text(good.replace("investmentAmount: 0.5\n", "investmentAmount: 0.25\n"),
                    encoding="utf-8")

    def f2_amount() -> object:
        clone = clone_of(sim.state, GRID, F2)
        return clone["settings"]["investmentAmount"] if clone else None

    await wait_for(lambda: f2_amount() == 250, "the change carried by b", 20)
    writers = {pid_of(stamp) for _, stamp in writes_by(sim.state)}
    assert writers == {a.pid, b.pid}  # every write carried its writer; none without
    assert duplicates(sim.state) == 0
    acquired = b.audit("lease_acquired")
    assert len(acquired) == 2 and len(b.audit("lease_released")) == 1
