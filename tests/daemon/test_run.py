"""``copytrader run`` end to end: convergence, metrics, health, sd_notify, retention, stop."""

from __future__ import annotations

import json
import re
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from copytrader.core.records import BotSnapshot
from copytrader.sim.haas.server import SimServer
from copytrader.store.engine import open_store
from tests.daemon.conftest import (
    EXPECTED,
    GRID,
    NotifySocket,
    mismatches,
    query,
    wait_for,
)


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in a Prometheus exposition (None when absent)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return None


async def test_converges_reports_and_stops_cleanly(
    sim: SimServer, start_daemon, notify: NotifySocket, tmp_path: Path
) -> None:
    db = tmp_path / "ct.db"
    # A snapshot older than the retention period, for the hourly job's first run to prune.
    store = await open_store(f"sqlite:///{db}")
    await store.add_snapshots([BotSnapshot(
        run_id="ancient", ts=datetime.now(UTC) - timedelta(days=10), master=GRID,
        follower=None, bot_id=GRID, status=None, roi=None, profit=None, followers=3)])
    await store.close()

    d = await start_daemon(NOTIFY_SOCKET=str(notify.path), WATCHDOG_USEC="1000000",
                           COPYTRADER_RETENTION_DAYS="1")
    await wait_for(lambda: notify.seen("READY", "1"), "READY=1")
    # READY=1 comes only once the endpoint listens: it answers at once (no connection
    # refused). Whether it says healthy yet depends on how far the first pass got.
    status, body = await d.get("/healthz")
    assert status in (200, 503) and "status" in json.loads(body), body

    await wait_for(lambda: not mismatches(sim.state, EXPECTED), "every clone as desired")

    async def healthy() -> dict[str, object] | None:
        code, text = await d.get("/healthz")
        doc = json.loads(text)
        # "ok" comes first while the first pass still runs (making progress): wait for it
        # to have finished (a loaded machine may still be writing its snapshots).
        return doc if code == 200 and doc["status"] == "ok" and "last_pass" in doc else None

    doc = await wait_for(healthy, "/healthz ok after a pass")
    assert doc["last_pass"]["state"] == "ok"

    async def scraped() -> str | None:
        code, text = await d.get("/metrics")
        assert code == 200
        return text if sample(text, "copytrader_in_sync", master=GRID) == 3 else None

    text = await wait_for(scraped, "per-master gauges after a pass")
    assert sample(text, "copytrader_followers", master=GRID) == 3
    assert sample(text, "copytrader_clones", master=GRID) == 3
    assert sample(text, "copytrader_drifted", master=GRID) == 0
    assert sample(text, "copytrader_master_roi", master=GRID) is not None
    assert sample(text, "copytrader_followers", master="bedc8bb485514565b64a728fc0886a95") == 3
    assert sample(text, "copytrader_actions_total", action="clone", outcome="ok") == 8
    assert sample(text, "copytrader_actions_total", action="start", outcome="ok") == 7
    assert (sample(text, "copytrader_passes_total", state="ok") or 0) >= 1
    assert sample(text, "copytrader_platform_requests_total", endpoint="bots.clone",
                  status="200") == 8
    assert (sample(text, "copytrader_pass_duration_seconds_count") or 0) >= 1
    assert (sample(text, "copytrader_last_pass_timestamp_seconds") or 0) > 1e9
    assert sample(text, "copytrader_rate_limit_wait_seconds_total") is not None

    await wait_for(lambda: notify.seen("WATCHDOG", "1"), "WATCHDOG=1 pings")
    statuses = await wait_for(
        lambda: [m["STATUS"] for m in notify.seen("STATUS") if "last pass ok" in m["STATUS"]],
        "a STATUS line about the last pass")
    assert re.search(r"\b\d+ actions?, \d+ failed, \d+ requests?, ", statuses[-1]), statuses[-1]
    assert "1 actions" not in statuses[-1] and "1 requests" not in statuses[-1]
    await wait_for(lambda: not query(db, "SELECT 1 FROM snapshots WHERE run_id = 'ancient'"),
                   "the retention job pruning the old snapshot")
    assert query(db, "SELECT COUNT(*) FROM snapshots")[0][0] > 0  # the recent ones stay

    code, _ = await d.stop(signal.SIGTERM)
    assert code == 0, d.tail()
    assert notify.seen("STOPPING", "1")
    assert d.runs(), "passes are recorded"
    assert not d.runs("running"), d.runs()
    assert all(finished is not None for _, _, finished, _ in d.runs())
    out, _err = await d.output()
    assert out == "", "the daemon prints nothing on stdout"
    assert d.events("daemon stopped")


async def test_sigterm_mid_pass_finishes_current_writes_only(sim: SimServer, start_daemon) -> None:
    sim.state.latency = 0.25  # one follower at a time: a first pass of ~16 writes takes seconds
    d = await start_daemon(COPYTRADER_CONCURRENCY="1")
    await wait_for(lambda: d.audit("clone"), "the first clone")
    code, _ = await d.stop(signal.SIGTERM)
    assert code == 0, d.tail()
    clones = len(d.audit("clone"))
    assert 1 <= clones < len(EXPECTED), "stopping starts no new action"
    runs = d.runs()
    assert runs and not d.runs("running")
    assert runs[-1][1] in ("ok", "failed") and runs[-1][2] is not None, runs


async def test_shutdown_timeout_bounds_a_stuck_pass(sim: SimServer, start_daemon) -> None:
    # Every request is answered only after 10 minutes (and the client waits that long): a
    # stop that waited for the pass would outlast the stop's hang guard many times over.
    sim.state.latency = 600.0
    d = await start_daemon(
        COPYTRADER_SHUTDOWN_TIMEOUT_SECONDS="1", COPYTRADER_TIMEOUT_SECONDS="900"
    )
    await wait_for(lambda: d.runs("running"), "a pass in progress")
    code, _ = await d.stop(signal.SIGTERM, within=60)
    assert code == 0, d.tail()
    assert not [r for r in sim.state.requests if r.status]  # none answered: cut, not finished
    assert not d.runs("running")
    assert d.runs("interrupted"), d.runs()
    assert d.events("pass still running at the shutdown deadline; cancelling it")
