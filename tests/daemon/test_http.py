"""The endpoint in-process: routes, bearer auth, bind errors, and the metrics text."""

from __future__ import annotations

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from copytrader.daemon.http import HttpEndpoint, is_loopback, require_token
from copytrader.daemon.metrics import CONTENT_TYPE, Metrics
from copytrader.errors import ConfigError
from copytrader.settings import Secret


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.3.2.1", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("10.1.2.3", False), ("example.org", False),
])
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_token_is_required_off_loopback() -> None:
    assert require_token("127.0.0.1", Secret("")) is None
    assert require_token("0.0.0.0", Secret("t0ken-123")) == Secret("t0ken-123")
    with pytest.raises(ConfigError, match="COPYTRADER_HTTP_TOKEN"):
        require_token("0.0.0.0", Secret(""))


async def _get(url: str, token: str | None = None) -> tuple[int, str, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as s, s.get(url, headers=headers) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), await resp.text()


async def test_endpoint_serves_health_and_metrics_with_auth() -> None:
    metrics = Metrics()
    metrics.on_request("bots.list", "200", 0.05)
    metrics.on_rate_limit_wait(1.5)
    metrics.on_rate_limited("bots.clone", 12.0, 3.0, "")
    metrics.set_masters({"masters": [{"master": "m1", "followers": 3, "clones": 2,
                                      "in_sync": 2, "drifted": 1, "master_roi": 4.5}]})
    healthy = [True]

    async def health() -> tuple[bool, dict[str, object]]:
        return healthy[0], ({"status": "ok"} if healthy[0] else
                            {"status": "unhealthy", "reason": "database unreachable"})

    ep = HttpEndpoint("127.0.0.1", 0, Secret("s3cret-abc"), health=health,
                      metrics=metrics.render, content_type=CONTENT_TYPE)
    await ep.start()
    try:
        assert ep.port > 0
        assert (await _get(ep.url + "/healthz"))[0] == 401
        assert (await _get(ep.url + "/healthz", "wrong"))[0] == 401
        status, _, body = await _get(ep.url + "/healthz", "s3cret-abc")
        assert status == 200 and '"ok"' in body
        healthy[0] = False
        status, ctype, body = await _get(ep.url + "/healthz", "s3cret-abc")
        assert status == 503 and "database unreachable" in body and "json" in ctype
        status, ctype, text = await _get(ep.url + "/metrics", "s3cret-abc")
        assert status == 200 and ctype.startswith("text/plain")
        values = {(s.name, tuple(sorted(s.labels.items()))): s.value
                  for f in text_string_to_metric_families(text) for s in f.samples}
        assert values[("copytrader_followers", (("master", "m1"),))] == 3
        assert values[("copytrader_drifted", (("master", "m1"),))] == 1
        assert values[("copytrader_master_roi", (("master", "m1"),))] == 4.5
        assert values[("copytrader_rate_limit_wait_seconds_total", ())] == 1.5
        assert values[("copytrader_platform_retry_after_seconds_total", ())] == 3.0
        assert values[("copytrader_platform_requests_total",
                       (("endpoint", "bots.list"), ("status", "200")))] == 1
        assert values[("copytrader_platform_request_seconds_count",
                       (("endpoint", "bots.list"),))] == 1
    finally:
        await ep.stop()


async def test_a_master_that_disappears_leaves_the_gauges() -> None:
    m = Metrics()
    m.set_masters({"masters": [{"master": "a", "followers": 1}, {"master": "b", "followers": 2}]})
    m.set_masters({"masters": [{"master": "b", "followers": 2}]})
    text = m.render().decode()
    assert 'master="a"' not in text and 'copytrader_followers{master="b"} 2.0' in text


async def test_two_metrics_objects_do_not_collide() -> None:
    Metrics(), Metrics()  # a private registry each: no "Duplicated timeseries" error


async def test_an_address_in_use_is_a_config_error() -> None:
    async def health() -> tuple[bool, dict[str, object]]:
        return True, {}

    first = HttpEndpoint("127.0.0.1", 0, None, health=health, metrics=lambda: b"",
                         content_type="text/plain")
    await first.start()
    try:
        second = HttpEndpoint("127.0.0.1", first.port, None, health=health,
                              metrics=lambda: b"", content_type="text/plain")
        with pytest.raises(ConfigError, match="COPYTRADER_HTTP_LISTEN"):
            await second.start()
    finally:
        await first.stop()
