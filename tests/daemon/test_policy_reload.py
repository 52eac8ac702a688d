"""Policy changes while the daemon runs: a file added, a file changed, a broken edit, SIGHUP."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

from copytrader.sim.haas.server import SimServer
from tests.daemon.conftest import (
    DCA,
    EXPECTED,
    F2,
    F3,
    GRID,
    NotifySocket,
    clone_of,
    mismatches,
    wait_for,
)


def subset(master: str) -> dict[tuple[str, str], tuple[str, dict[str, object]]]:
    return {k: v for k, v in EXPECTED.items() if k[0] == master}


async def test_policy_changes_are_picked_up_and_a_broken_edit_keeps_the_last_good(
    sim: SimServer, start_daemon, policy_dir: Path, notify: NotifySocket, tmp_path: Path
) -> None:
    later = tmp_path / "later"
    later.mkdir()
    for name in ("btc-dca.yaml", "eth-futures-grid.yaml"):
        shutil.move(policy_dir / name, later / name)
    # A long interval: a quick pass after an edit can only come from the folder watch.
    d = await start_daemon(NOTIFY_SOCKET=str(notify.path), COPYTRADER_INTERVAL_SECONDS="60")
    await wait_for(lambda: not mismatches(sim.state, subset(GRID)), "the grid followers")
    assert clone_of(sim.state, DCA, "e2f12128-c864-47b5-81a7-1e8aeba29943") is None

    # A file added while running.
    shutil.copy(later / "btc-dca.yaml", policy_dir / "btc-dca.yaml")
    await wait_for(lambda: not mismatches(sim.state, subset(DCA)), "the DCA followers")
    assert d.events("policy folder changed")

    # A file changed while running: the second follower's share 0.5 -> 0.25.
    grid = policy_dir / "eth-grid.yaml"
    good = grid.read_text(encoding="utf-8")
    assert good.count("investmentAmount: 0.5\n") == 1
    grid.write_text(good.replace("investmentAmount: 0.5\n", "investmentAmount: 0.25\n"),
                    encoding="utf-8")

    def f2_amount() -> object:
        clone = clone_of(sim.state, GRID, F2)  # investmentAmount is immutable: a new clone
        return clone["settings"]["investmentAmount"] if clone else None

    await wait_for(lambda: f2_amount() == 250, "the changed scale applied")

    # A broken edit: audited once, the last good version stays in force, the daemon lives.
    grid.write_text(f"master: {GRID}\nfollowers: [unclosed\n", encoding="utf-8")
    invalid = await wait_for(lambda: d.audit("policy_invalid"), "a policy_invalid event")
    assert invalid[0][4].endswith("eth-grid.yaml")
    assert "eth-grid.yaml" in (invalid[0][3] or "")
    runs_before = len(d.runs())

    # The strategy manager edits the master; SIGHUP asks for a pass now. With the last good
    # policy in force the edit still reaches every follower (the broken file is not applied).
    sim.state.edit_out_of_band(GRID, {"upperLimit": 4100})
    ready_before = len(notify.seen("READY", "1"))
    d.send(signal.SIGHUP)
    reloading = await wait_for(lambda: notify.seen("RELOADING", "1"), "RELOADING=1")
    assert int(reloading[0]["MONOTONIC_USEC"]) > 0
    await wait_for(lambda: len(notify.seen("READY", "1")) > ready_before, "READY=1 again")
    assert len(d.runs()) > runs_before, "the reload ran a pass"

    def carried() -> bool:
        clones = [clone_of(sim.state, GRID, f) for (m, f) in subset(GRID)]
        return all(c is not None and c["settings"]["upperLimit"] == 4100 for c in clones)

    await wait_for(carried, "the master edit carried under the last good policy")
    assert f2_amount() == 250
    f3_clone = clone_of(sim.state, GRID, F3)
    assert f3_clone is not None and f3_clone["status"] == "stopped"
    assert len(d.audit("policy_invalid")) == 1, "one event per invalid file version"
    assert d.alive()

    code, _ = await d.stop()
    assert code == 0, d.tail()
