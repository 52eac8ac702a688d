"""A non-loopback health/metrics endpoint needs a bearer token; without one the daemon refuses
to start."""

from __future__ import annotations

import asyncio

from copytrader.sim.haas.server import SimServer
from tests.daemon.conftest import free_port, wait_for

TOKEN = "metrics-token-4b9e1f0c2a"


async def test_non_loopback_endpoint_requires_a_token(sim: SimServer, start_daemon) -> None:
    port = free_port()
    refused = await start_daemon(COPYTRADER_HTTP_LISTEN=f"0.0.0.0:{port}")
    assert refused.proc is not None
    code = await asyncio.wait_for(refused.proc.wait(), 30)
    _out, err = await refused.output()
    assert code == 2
    assert "COPYTRADER_HTTP_TOKEN" in err and len(err.strip().splitlines()) == 1

    d = await start_daemon(COPYTRADER_HTTP_LISTEN=f"0.0.0.0:{port}", COPYTRADER_HTTP_TOKEN=TOKEN)
    d.url = f"http://127.0.0.1:{port}"
    await wait_for(lambda: d.get_or_none("/healthz"), "the endpoint listening")
    for path in ("/healthz", "/metrics"):
        status, _ = await d.get(path)
        assert status == 401
        status, _ = await d.get(path, token=TOKEN + "x")
        assert status == 401
    status, body = await d.get("/metrics", token=TOKEN)
    assert status == 200 and "copytrader_passes_total" in body
    status, _ = await d.get("/healthz", token=TOKEN)
    assert status in (200, 503)
    code, _ = await d.stop()
    assert code == 0
    assert TOKEN not in d.log.read_text(encoding="utf-8")
