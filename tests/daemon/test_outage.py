"""The platform goes away and comes back; the database goes away: health says so, the daemon
lives on and converges again."""

from __future__ import annotations

import json
import os
import uuid

import pytest

from copytrader.sim.haas.server import SimServer
from tests.daemon.conftest import EXPECTED, F2, GRID, clone_of, mismatches, wait_for


async def test_survives_the_platform_going_away_and_converges_again(
    sim: SimServer, start_daemon
) -> None:
    # health window = 3 x 1 s interval + 1 s stop timeout
    d = await start_daemon(COPYTRADER_SHUTDOWN_TIMEOUT_SECONDS="1")
    await wait_for(lambda: not mismatches(sim.state, EXPECTED), "convergence")

    async def health() -> tuple[int, dict[str, object]] | None:
        got = await d.get_or_none("/healthz")
        return None if got is None else (got[0], json.loads(got[1]))

    await wait_for(lambda: _is(health, 200), "healthy")

    await sim.stop()
    # Meanwhile someone edits a follower's clone in the platform's own UI.
    f2 = clone_of(sim.state, GRID, F2)
    assert f2 is not None
    sim.state.edit_out_of_band(f2["botId"], {"stopValue": 3900})

    unhealthy = await wait_for(lambda: _is(health, 503), "/healthz 503 while the platform is down")
    assert "last successful pass" in unhealthy["reason"]
    assert d.alive()
    code, text = await d.get("/metrics")
    assert code == 200 and 'copytrader_passes_total{state="aborted"}' in text
    assert d.events("pass did not reach the platform; will retry")

    await sim.start()  # same port
    await wait_for(lambda: not mismatches(sim.state, EXPECTED), "convergence after the outage")
    assert sim.state.bot(f2["botId"])["settings"]["stopValue"] == 3500
    doc = await wait_for(lambda: _is(health, 200), "healthy again")
    assert doc["consecutive_aborted_passes"] == 0

    code, _ = await d.stop()
    assert code == 0, d.tail()
    assert not d.runs("running")


async def _is(health, status: int) -> dict[str, object] | None:
    got = await health()
    if got is None or got[0] != status:
        return None
    return got[1]


def _postgres_url() -> str:
    url = os.environ.get("COPYTRADER_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("COPYTRADER_TEST_POSTGRES_URL is not set")
    return url


async def test_health_reports_an_unreachable_database(sim: SimServer, start_daemon) -> None:
    import asyncpg

    base = _postgres_url()
    name = f"ct_daemon_{uuid.uuid4().hex[:10]}"
    try:
        admin = await asyncpg.connect(base, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = base.rsplit("/", 1)[0] + "/" + name
        d = await start_daemon(COPYTRADER_DATABASE_URL=url)
        await wait_for(lambda: not mismatches(sim.state, EXPECTED), "convergence")

        async def status(code: int) -> dict[str, object] | None:
            got = await d.get_or_none("/healthz")
            if got is None or got[0] != code:
                return None
            return dict(json.loads(got[1]))

        await wait_for(lambda: status(200), "healthy on PostgreSQL")
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        doc = await wait_for(lambda: status(503), "/healthz 503 without the database")
        assert doc["reason"] == "database unreachable"
        assert d.alive()
        code, _ = await d.stop()
        assert code == 0, d.tail()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
