"""Each simulator fault kind against the real client: what is retried, what is raised."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import pytest

from copytrader.core.model import Bot, Scalar
from copytrader.errors import (
    MalformedResponseError,
    NetworkError,
    PermanentError,
    RateLimitedError,
    ServerError,
)
from copytrader.platform.backoff import Backoff
from copytrader.platform.haas.client import PlatformClient
from copytrader.sim.haas.server import SimServer
from copytrader.sim.haas.state import Fault, RequestRecord
from tests.platform.conftest import MakeClient, RecordingObserver, fast_backoff
from tests.sends import check_retry_after

GRID: dict[str, Scalar] = {"symbol": "BITMEXSPOT_ETH_USDT_", "lowerLimit": 3000, "upperLimit": 4000}


def sent(sim: SimServer, path: str) -> list[RequestRecord]:
    return [r for r in sim.state.requests if r.path == path]


@pytest.fixture
def world(sim: SimServer) -> tuple[str, str, str]:
    """(owner, follower, running master bot id) on BITMEXSPOT."""
    owner = sim.state.create_user("BITMEXSPOT")
    follower = sim.state.create_user("BITMEXSPOT")
    master = sim.state.create_bot(owner, "spot_grid", GRID)
    return owner, follower, master["botId"]


# --- 429 ---------------------------------------------------------------------------------


async def test_429_retry_after_is_honoured(
    sim: SimServer, make_client: MakeClient, world: tuple[str, str, str]
) -> None:
    owner, _, master = world
    observer = RecordingObserver()
    client = make_client(observer=observer)
    sim.state.faults.add(Fault(path="/bots/bot", kind="429", retry_after=1))
    bot = await client.get_bot(owner, master)
    assert bot.bot_id == master
    first, second = sent(sim, "/bots/bot")
    assert (first.status, second.status) == (429, 200)
    assert second.ts - first.ts >= 1.0  # nothing sent inside the Retry-After window
    (block,) = observer.blocks
    assert block[0] == "bots.bot" and block[2] == 1.0
    resend = observer.sends[1][1]
    assert resend >= block[1] + 1.0  # from the 429's arrival at the client, on its clock
    assert [s for _, s, _ in observer.requests] == ["429", "200"]
    assert observer.waits and observer.waits[0] >= 0.9
    assert client.rate_limit_wait_seconds >= 0.9


async def test_429_holds_back_every_queued_request(
    sim: SimServer, make_client: MakeClient, world: tuple[str, str, str]
) -> None:
    owner, _, master = world
    sim.state.latency = 0.05
    observer = RecordingObserver()
    client = make_client(concurrency=2, observer=observer)
    sim.state.faults.add(Fault(path="*", kind="429", retry_after=1))
    bots = await asyncio.gather(*(client.get_bot(owner, master) for _ in range(6)))
    assert all(b.bot_id == master for b in bots)
    records = sent(sim, "/bots/bot")
    assert len(records) == 7  # six requests and one resend
    assert len(observer.sends) == 7  # every one the platform got, the limiter let through
    limited = [r for r in records if r.status == 429]
    assert len(limited) == 1
    # From the moment the 429 arrived (the client's clock) nothing was sent before its
    # Retry-After ended; what was sent before that moment (the request in flight beside it)
    # was already on its way, however late the simulator saw it arrive.
    (block,) = observer.blocks
    check_retry_after(observer)
    # Before it: the 429'd request, the one beside it, and at most one that took the place
    # of the latter if its answer was read first (concurrency 2).
    before = [t for _, t in observer.sends if t <= block[1]]
    assert 2 <= len(before) <= 3
    assert len([r for r in records if r.ts >= limited[0].ts + 1.0]) >= 4  # the queued waited


async def test_429_forever_gives_up_with_rate_limited_error(
    sim: SimServer, client: PlatformClient, world: tuple[str, str, str]
) -> None:
    owner, _, master = world
    sim.state.faults.add(Fault(path="/bots/bot", kind="429", times=-1, retry_after=0))
    with pytest.raises(RateLimitedError) as caught:
        await client.get_bot(owner, master)
    assert caught.value.retry_after == 0
    assert len(sent(sim, "/bots/bot")) == 5  # max_attempts


async def test_429_is_resent_even_for_a_clone(
    sim: SimServer, client: PlatformClient, world: tuple[str, str, str]
) -> None:
    _, follower, master = world
    sim.state.faults.add(Fault(path="/bots/clone", kind="429", retry_after=0))
    copy = await client.clone_bot(follower, master, {})
    assert [r.status for r in sent(sim, "/bots/clone")] == [429, 200]
    assert len(sim.state.user_bot_ids(follower)) == 1 and copy.user_id == follower


# --- 5xx ---------------------------------------------------------------------------------


async def test_500_retried_for_reads_and_idempotent_writes(
    sim: SimServer, client: PlatformClient, world: tuple[str, str, str]
) -> None:
    owner, _, master = world
    for path in ("/bots/bot", "/bots/edit", "/bots/stop"):
        sim.state.faults.add(Fault(path=path, kind="500", times=2))
    assert (await client.get_bot(owner, master)).bot_id == master
    await client.edit_bot(owner, master, {"stopValue": 3})
    await client.stop_bot(master)
    for path in ("/bots/bot", "/bots/edit", "/bots/stop"):
        statuses = [r.status for r in sent(sim, path)]
        assert len(statuses) == 3 and statuses[2] == 200, path
        assert all(500 <= s <= 599 for s in statuses[:2]), path  # the sim rotates 500/502/503


@pytest.mark.parametrize("path", ["/bots/clone", "/bots/start", "/bots/delete", "/bots/create"])
async def test_500_not_retried_for_once_only_writes(
    sim: SimServer, client: PlatformClient, world: tuple[str, str, str], path: str
) -> None:
    owner, follower, master = world
    await client.stop_bot(master)
    sim.state.faults.add(Fault(path=path, kind="500"))
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "/bots/clone": lambda: client.clone_bot(follower, master, {}),
        "/bots/start": lambda: client.start_bot(master),
        "/bots/delete": lambda: client.delete_bot(master),
        "/bots/create": lambda: client.create_bot(owner, "spot_grid", GRID),
    }
    with pytest.raises(ServerError) as caught:
        await calls[path]()
    assert caught.value.status == 500
    assert len(sent(sim, path)) == 1


async def test_500_forever_on_a_read_gives_up(
    sim: SimServer, client: PlatformClient, world: tuple[str, str, str]
) -> None:
    owner, _, master = world
    sim.state.faults.add(Fault(path="/bots/bot", kind="500", times=-1))
    with pytest.raises(ServerError):
        await client.get_bot(owner, master)
    assert len(sent(sim, "/bots/bot")) == 5


# --- timeouts, lost answers, resets, refused connections -------------------------------


async def test_timeout_read_retried_clone_raises(
    sim: SimServer, make_client: MakeClient, world: tuple[str, str, str]
) -> None:
    owner, follower, master = world
    observer = RecordingObserver()
    client = make_client(timeout=0.3, observer=observer)
    sim.state.faults.add(Fault(path="/bots/bot", kind="timeout", delay=0.6))
    assert (await client.get_bot(owner, master)).bot_id == master
    await asyncio.sleep(0.4)  # the simulator logs the abandoned request once its delay ends
    assert len(sent(sim, "/bots/bot")) == 2
    assert [s for _, s, _ in observer.requests] == ["timeout", "200"]

    sim.state.faults.add(Fault(path="/bots/clone", kind="timeout", delay=0.6))
    with pytest.raises(NetworkError, match="no answer within"):
        await client.clone_bot(follower, master, {})
    await asyncio.sleep(0.5)  # the platform finishes the clone after the client gave up
    assert len(sent(sim, "/bots/clone")) == 1
    assert len(sim.state.user_bot_ids(follower)) == 1


async def test_slow_answer_within_the_timeout(
    sim: SimServer, make_client: MakeClient, world: tuple[str, str, str]
) -> None:
    owner, _, master = world
    observer = RecordingObserver()
    client = make_client(timeout=2.0, observer=observer)
    sim.state.faults.add(Fault(path="/bots/bot", kind="slow", delay=0.2))
    assert (await client.get_bot(owner, master)).bot_id == master
    ((endpoint, status, seconds),) = observer.requests
    assert (endpoint, status) == ("bots.bot", "200") and seconds >= 0.2


async def test_lost_clone_raises_and_is_not_resent(
    sim: SimServer, client: PlatformClient, world: tuple[str, str, str]
) -> None:
    _, follower, master = world
    sim.state.faults.add(Fault(path="/bots/clone", kind="lost"))
    with pytest.raises(NetworkError) as caught:
        await client.clone_bot(follower, master, {"investmentAmount": 60})
    assert caught.value.status is None
    assert len(sent(sim, "/bots/clone")) == 1
    (copy_id,) = sim.state.user_bot_ids(follower)  # the copy exists: adopt it next pass
    assert sim.state.bot(copy_id)["settings"]["investmentAmount"] == 60


async def test_lost_edit_is_resent(
    sim: SimServer, client: PlatformClient, world: tuple[str, str, str]
) -> None:
    owner, _, master = world
    sim.state.faults.add(Fault(path="/bots/edit", kind="lost"))
    await client.edit_bot(owner, master, {"stopValue": 9})
    assert len(sent(sim, "/bots/edit")) == 2
    assert sim.state.bot(master)["settings"]["stopValue"] == 9


async def test_reset_read_retried_write_raises(
    sim: SimServer, client: PlatformClient, world: tuple[str, str, str]
) -> None:
    owner, follower, master = world
    sim.state.faults.add(Fault(path="/bots/bot", kind="reset"))
    assert (await client.get_bot(owner, master)).bot_id == master
    assert len(sent(sim, "/bots/bot")) == 2
    sim.state.faults.add(Fault(path="/bots/clone", kind="reset"))
    with pytest.raises(NetworkError):
        await client.clone_bot(follower, master, {})
    assert len(sent(sim, "/bots/clone")) == 1
    assert sim.state.user_bot_ids(follower) == []  # reset before the platform acted


async def test_refused_connection_is_retried_even_for_a_clone(
    sim: SimServer, make_client: MakeClient, world: tuple[str, str, str]
) -> None:
    _, follower, master = world
    # Ten attempts spread over about a second: the platform is back well before they run out.
    client = make_client(backoff=Backoff(base=0.05, cap=0.2, max_attempts=10,
                                         rng=random.Random(1)))
    await sim.stop()

    async def restart() -> None:
        await asyncio.sleep(0.05)
        await sim.start()

    restarting = asyncio.create_task(restart())
    copy: Bot = await client.clone_bot(follower, master, {})
    await restarting
    assert len(sent(sim, "/bots/clone")) == 1  # nothing was sent while it was down
    assert sim.state.user_bot_ids(follower) == [copy.bot_id]


async def test_platform_down_gives_network_error(
    sim: SimServer, client: PlatformClient, world: tuple[str, str, str]
) -> None:
    owner, _, master = world
    await sim.stop()
    with pytest.raises(NetworkError, match="cannot connect"):
        await client.get_bot(owner, master)
    assert client.requests_sent == 5


# --- refusals and bad answers ------------------------------------------------------------


async def test_reject_is_permanent_with_code_and_message(
    sim: SimServer, client: PlatformClient, world: tuple[str, str, str]
) -> None:
    owner, _, master = world
    sim.state.faults.add(Fault(path="/bots/edit", kind="reject"))
    with pytest.raises(PermanentError) as caught:
        await client.edit_bot(owner, master, {"stopValue": 3})
    error = caught.value
    assert (error.endpoint, error.status, error.code) == ("bots.edit", 200, 1001)
    assert error.platform_message == "rejected by fault injection"
    assert str(error) == "bots.edit: rejected by fault injection (code 1001)"
    assert len(sent(sim, "/bots/edit")) == 1


async def test_malformed_answer(
    sim: SimServer, client: PlatformClient, world: tuple[str, str, str]
) -> None:
    owner, _, master = world
    sim.state.faults.add(Fault(path="/bots/bot", kind="malformed"))
    with pytest.raises(MalformedResponseError, match="not a JSON envelope"):
        await client.get_bot(owner, master)
    assert len(sent(sim, "/bots/bot")) == 1


@pytest.mark.parametrize("path", ["/bots/bot", "/bots/list", "/bots/clone"])
async def test_missing_fields(
    sim: SimServer, client: PlatformClient, world: tuple[str, str, str], path: str
) -> None:
    owner, follower, master = world
    sim.state.faults.add(Fault(path=path, kind="missing_fields"))
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "/bots/bot": lambda: client.get_bot(owner, master),
        "/bots/list": lambda: client.list_bots_page(),
        "/bots/clone": lambda: client.clone_bot(follower, master, {}),
    }
    with pytest.raises(MalformedResponseError) as caught:
        await calls[path]()
    assert caught.value.endpoint == "bots." + path.rsplit("/", 1)[1]
    assert "botId" in str(caught.value) or "nextPageId" in str(caught.value)


async def test_page_fail_during_iteration_raises(sim: SimServer, client: PlatformClient) -> None:
    user = sim.state.create_user("BITMEX")
    for _ in range(5):
        sim.state.create_bot(user, "futures_grid", {"symbol": "BITMEX_ETH_USDT_ETHUSDT"})
    sim.state.faults.add(Fault(path="/bots/list", kind="page_fail", after=1, times=-1))
    seen: list[str] = []
    with pytest.raises(ServerError):
        async for bot in client.iter_bots(page_size=2):
            seen.append(bot.bot_id)
    assert len(seen) == 2  # what was read before the failure; the caller sees the error


async def test_page_fail_once_is_retried_without_gaps_or_repeats(
    sim: SimServer, client: PlatformClient
) -> None:
    user = sim.state.create_user("BITMEX")
    for _ in range(7):
        sim.state.create_bot(user, "futures_grid", {"symbol": "BITMEX_ETH_USDT_ETHUSDT"})
    sim.state.faults.add(Fault(path="/bots/list", kind="page_fail", after=2))
    ids = [b.bot_id async for b in client.iter_bots(page_size=2)]
    assert ids == sim.state.bot_ids()
    assert [r.status for r in sent(sim, "/bots/list")] == [200, 200, 500, 200, 200]


async def test_a_429_holds_every_request_back_from_its_status_line_not_its_body(
    make_client: MakeClient,
) -> None:
    """The block starts when the 429's status line and headers are in: other requests may
    be let through while its body is still on its way, and must not be."""
    from aiohttp import web

    release = asyncio.Event()

    async def slow_429(request: web.Request) -> web.StreamResponse:
        answer = web.StreamResponse(status=429, headers={"Retry-After": "7"})
        answer.content_type = "application/json"
        await answer.prepare(request)  # the status line and headers leave now
        await release.wait()  # the body only once the test saw the block
        await answer.write(b'{"isSuccess": false, "code": 429, "message": "slow down"}')
        await answer.write_eof()
        return answer

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", slow_429)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        host, port = runner.addresses[0][:2]
        observer = RecordingObserver()
        client = make_client(url=f"http://{host}:{port}", observer=observer,
                             backoff=fast_backoff(max_attempts=1))
        call = asyncio.create_task(client.get_user("someone"))
        async with asyncio.timeout(30):  # a hang guard only
            while True:
                if observer.blocks or call.done():
                    break
                await asyncio.sleep(0.01)
        assert not call.done()  # the body has not come yet...
        ((endpoint, at, seconds),) = observer.blocks  # ...and every request is held back
        assert endpoint == "users.user"
        assert seconds == 7 and client.limiter.blocked_until == at + 7
        release.set()
        with pytest.raises(RateLimitedError):
            await call
    finally:
        release.set()
        await runner.cleanup()
