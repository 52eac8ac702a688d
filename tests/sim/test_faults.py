"""Fault injection, the control API, the rate limit, latency and the request log."""

from __future__ import annotations

import asyncio
import itertools
import json
import time

import aiohttp
import pytest

from copytrader.sim.faults import Fault, FaultPlan
from copytrader.sim.haas.seed import DemoIds, seed_demo
from copytrader.sim.haas.server import SimServer
from copytrader.sim.haas.state import SimState
from tests.sim.conftest import KEY, Api


@pytest.fixture
def ids(state: SimState) -> DemoIds:
    return seed_demo(state)


def _clone_body(ids: DemoIds) -> dict[str, object]:
    return {"userId": ids.spot_followers[0], "botId": ids.spot_grid_master,
            "followUpdates": False, "settings": {}}


def _copies(state: SimState, ids: DemoIds) -> int:
    return len(state.bots_of(ids.spot_followers[0]))


async def test_429_fault_sends_retry_after_and_skips_the_write(
    api: Api, state: SimState, ids: DemoIds
) -> None:
    state.faults.add(Fault("/bots/clone", "429", retry_after=1.5))
    async with api.session.post(api.url + "/bots/clone", json=_clone_body(ids)) as r:
        assert r.status == 429 and r.headers["Retry-After"] == "2"
        assert (await r.json())["isSuccess"] is False
    assert _copies(state, ids) == 0
    await api.data("/bots/clone", _clone_body(ids))  # times=1: the next one goes through
    assert _copies(state, ids) == 1
    assert [(w.status, w.fault) for w in state.writes("/bots/clone")] == [
        (429, "429"), (200, None)]


@pytest.mark.parametrize(("kind", "status", "success"),
                         [("500", 500, False), ("reject", 200, False)])
async def test_error_faults_skip_the_write(api: Api, state: SimState, ids: DemoIds,
                                           kind: str, status: int, success: bool) -> None:
    state.faults.add(Fault("/bots/clone", kind))
    got_status, env = await api.post("/bots/clone", _clone_body(ids))
    assert (got_status, env["isSuccess"]) == (status, success)
    if kind == "reject":
        assert env["code"] == 1001 and env["message"] == "rejected by fault injection"
    assert _copies(state, ids) == 0


async def test_lost_performs_the_write_but_drops_the_answer(
    api: Api, state: SimState, ids: DemoIds
) -> None:
    state.faults.add(Fault("/bots/clone", "lost"))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.post("/bots/clone", _clone_body(ids))
    assert _copies(state, ids) == 1
    record = state.writes("/bots/clone")[-1]
    assert (record.status, record.success, record.fault) == (0, None, "lost")


async def test_reset_drops_before_the_write(api: Api, state: SimState, ids: DemoIds) -> None:
    state.faults.add(Fault("/bots/clone", "reset"))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.post("/bots/clone", _clone_body(ids))
    assert _copies(state, ids) == 0


async def test_timeout_answers_only_after_the_delay(
    api: Api, state: SimState, ids: DemoIds
) -> None:
    state.faults.add(Fault("/bots/clone", "timeout", delay=0.4))
    with pytest.raises(asyncio.TimeoutError):
        await api.post("/bots/clone", _clone_body(ids),
                       timeout=aiohttp.ClientTimeout(total=0.1))
    assert _copies(state, ids) == 0  # not yet
    await asyncio.sleep(0.5)
    assert _copies(state, ids) == 1  # done once the sleep ended, with nobody listening


async def test_slow_answers_normally_after_the_delay(api: Api, state: SimState) -> None:
    state.faults.add(Fault("/exchanges", "slow", delay=0.2))
    start = time.monotonic()
    assert len(await api.data("/exchanges", ...)) == 3
    assert time.monotonic() - start >= 0.2


async def test_malformed_and_missing_fields(api: Api, state: SimState, ids: DemoIds) -> None:
    state.faults.add(Fault("/bots/list", "malformed"))
    async with api.session.post(api.url + "/bots/list", json={}) as r:
        assert r.status == 200
        with pytest.raises(ValueError):
            json.loads(await r.text())
    state.faults.add(Fault("/bots/bot", "missing_fields"))
    env = await api.env("/bots/bot", {"userId": ids.spot_owner, "botId": ids.spot_grid_master})
    assert env["isSuccess"] is True
    assert "botId" not in env["data"] and "settings" not in env["data"]
    state.faults.add(Fault("/bots/list", "missing_fields"))
    page = await api.data("/bots/list", {})
    assert page["items"] and all("botId" not in b for b in page["items"])
    assert "nextPageId" not in page


async def test_page_fail_hits_the_selected_page_only(api: Api, state: SimState) -> None:
    user = state.create_user("BINANCE")
    for _ in range(5):
        state.create_bot(user, "webhook", {"symbol": "BINANCE_BTC_USDT_"})
    state.faults.add(Fault("*", "page_fail", after=1))
    await api.data("/exchanges", ...)  # not a paginated path: neither counted nor failed
    first = await api.data("/bots/list", {"limit": 2})
    status, env = await api.post("/bots/list", {"limit": 2, "nextPageId": first["nextPageId"]})
    assert (status, env["isSuccess"]) == (500, False)
    again = await api.data("/bots/list", {"limit": 2, "nextPageId": first["nextPageId"]})
    assert len(again["items"]) == 2


def test_fault_plan_order_after_and_times() -> None:
    plan = FaultPlan()
    plan.add(Fault("/a", "500", times=2, after=1))
    plan.add(Fault("*", "reject", times=-1))
    assert plan.take("/a").kind == "reject"  # type: ignore[union-attr]  # first rule skipping
    assert [plan.take("/a").kind for _ in range(2)] == ["500", "500"]  # type: ignore[union-attr]
    assert plan.take("/a").kind == "reject"  # type: ignore[union-attr]
    assert plan.take("/b").kind == "reject"  # type: ignore[union-attr]
    plan.clear()
    assert plan.take("/a") is None
    with pytest.raises(ValueError):
        Fault("/a", "explode")


async def test_control_api(server: SimServer, api: Api, state: SimState) -> None:
    async with aiohttp.ClientSession() as anonymous, anonymous.post(
        server.url + "/_sim/faults", json={"path": "*", "kind": "500"}
    ) as r:
        assert r.status == 401
    assert state.faults.active == []
    async with api.session.post(api.url + "/_sim/faults",
                                json={"path": "/bots/list", "kind": "429", "times": -1,
                                      "retry_after": 3}) as r:
        assert r.status == 200
    async with api.session.post(api.url + "/_sim/faults", json={"path": "/x", "kind": "?"}) as r:
        assert r.status == 400
    async with api.session.get(api.url + "/_sim/faults") as r:
        assert [f["kind"] for f in (await r.json())["data"]] == ["429"]
    for _ in range(2):
        async with api.session.post(api.url + "/bots/list", json={}) as r:
            assert r.status == 429 and r.headers["Retry-After"] == "3"
    async with api.session.delete(api.url + "/_sim/faults") as r:
        assert r.status == 200
    await api.data("/bots/list", {})
    async with api.session.get(api.url + "/_sim/requests") as r:
        log = (await r.json())["data"]
    assert [(e["path"], e["status"], e["fault"]) for e in log] == [
        ("/bots/list", 429, "429"), ("/bots/list", 429, "429"), ("/bots/list", 200, None)]
    assert set(log[0]) == {
        "ts",
        "wall",
        "method",
        "path",
        "status",
        "success",
        "body",
        "fault",
        "writer",
        "account",  # BotPrimeX's: the account of the key (None here)
        "write_id",  # the X-Copytrader-Write header (None: not sent by copytrader's executor)
    }
    assert log[0]["account"] is None
    async with api.session.post(api.url + "/_sim/reset-requests") as r:
        assert r.status == 200
    assert state.requests == []


async def test_rate_limit_answers_429_with_retry_after() -> None:
    state = SimState(api_key=KEY, rate_limit_per_minute=3)
    async with SimServer(state) as server, aiohttp.ClientSession(
        headers={"X-API-Key": KEY}
    ) as session:
        statuses = []
        for _ in range(5):
            async with session.get(server.url + "/exchanges") as r:
                statuses.append(r.status)
                retry = r.headers.get("Retry-After")
        assert statuses == [200, 200, 200, 429, 429]
        assert retry is not None and 1 <= int(retry) <= 60


async def test_latency_overlaps_requests() -> None:
    state = SimState(api_key=KEY, latency=0.5)
    async with SimServer(state) as server, aiohttp.ClientSession(
        headers={"X-API-Key": KEY}
    ) as session:
        async def one() -> int:
            async with session.get(server.url + "/exchanges") as r:
                return r.status

        assert await asyncio.gather(*(one() for _ in range(8))) == [200] * 8
    # Each request is held at least 0.5 s from its arrival: two that arrived less than that
    # apart were held at once. One after another, every arrival would be 0.5 s or more apart.
    arrived = sorted(r.ts for r in state.requests)
    assert len(arrived) == 8
    assert min(b - a for a, b in itertools.pairwise(arrived)) < 0.5


async def test_server_restarts_on_the_same_port(state: SimState) -> None:
    server = SimServer(state)
    await server.start()
    url = server.url
    async with aiohttp.ClientSession(headers={"X-API-Key": KEY}) as session:
        await server.stop()
        with pytest.raises(aiohttp.ClientConnectionError):
            async with session.get(url + "/exchanges"):
                pass
        await server.start()
        try:
            assert server.url == url
            async with session.get(url + "/exchanges") as r:
                assert r.status == 200
        finally:
            await server.stop()


async def test_500_fault_rotates_server_errors(api: Api, state: SimState) -> None:
    state.faults.add(Fault("/exchanges", "500", times=4))
    statuses = [(await api.get("/exchanges"))[0] for _ in range(5)]
    assert statuses == [500, 502, 503, 500, 200]
