"""Every endpoint through the real client against the real simulator over loopback."""

from __future__ import annotations

import pytest

from copytrader.core.model import Scalar, Status
from copytrader.errors import AuthError, PermanentError
from copytrader.platform.haas.client import PlatformClient
from copytrader.reconcile.ports import Platform
from copytrader.settings import PlatformSettings, Secret
from copytrader.sim.haas.seed import DEMO, seed_demo
from copytrader.sim.haas.server import SimServer
from tests.platform.conftest import KEY, MakeClient

GRID: dict[str, Scalar] = {"symbol": "BITMEXSPOT_ETH_USDT_", "lowerLimit": 3000, "upperLimit": 4000}


def paths(sim: SimServer, path: str) -> int:
    return sum(1 for r in sim.state.requests if r.path == path)


async def test_satisfies_the_platform_port(client: PlatformClient) -> None:
    port: Platform = client  # mypy checks the structure; the reconcile service relies on it
    assert port.requests_sent == 0


async def test_catalogue_reads(sim: SimServer, client: PlatformClient) -> None:
    catalogue = await client.catalogue()
    assert set(catalogue.scripts) == {
        "spot_grid", "futures_grid", "spot_dollar_cost_averaging",
        "futures_dollar_cost_averaging", "webhook",
    }
    grid = catalogue.script("spot_grid")
    assert grid is not None and grid.spec("gridCount") is not None
    symbol = grid.spec("symbol")
    assert symbol is not None and not symbol.can_be_edited
    one = await client.script("spot_grid")
    assert one == grid
    exchanges = await client.exchanges()
    assert {"BITMEX", "BITMEXSPOT"} <= {e.id for e in exchanges}
    markets = await client.markets()
    assert markets and all(m.symbol and m.exchange_id for m in markets)
    assert client.requests_sent == 4


async def test_catalogue_is_cached_for_its_ttl(sim: SimServer, make_client: MakeClient) -> None:
    now = [100.0]
    client = make_client(catalogue_ttl=300.0, clock=lambda: now[0])
    first = await client.catalogue()
    now[0] += 299.0
    assert await client.catalogue() is first
    assert paths(sim, "/scripts") == 1
    now[0] += 2.0
    await client.catalogue()
    assert paths(sim, "/scripts") == 2


async def test_users_and_bots_reads(sim: SimServer, client: PlatformClient) -> None:
    seed_demo(sim.state)
    users = [u async for u in client.iter_users(page_size=3)]
    assert {u.user_id for u in users} == {DEMO.spot_owner, DEMO.futures_owner,
                                          *DEMO.spot_followers, *DEMO.futures_followers}
    owner = await client.get_user(DEMO.spot_owner)
    assert owner.exchange_id == "BITMEXSPOT" and owner.bots_active == 2

    bots = [b async for b in client.iter_bots()]
    assert {b.bot_id for b in bots} == {DEMO.spot_grid_master, DEMO.futures_grid_master,
                                        DEMO.spot_dca_master}
    master = await client.get_bot(DEMO.spot_owner, DEMO.spot_grid_master)
    assert master.status is Status.RUNNING and master.settings["investmentAmount"] == 1000
    mine = await client.user_bots(DEMO.spot_owner, page_size=1)
    assert {b.bot_id for b in mine} == {DEMO.spot_grid_master, DEMO.spot_dca_master}
    page, token = await client.list_bots_page(2)
    assert len(page) == 2 and token is not None
    rest, end = await client.list_bots_page(2, token)
    assert len(rest) == 1 and end is None


async def test_unknown_bot_is_a_permanent_error(sim: SimServer, client: PlatformClient) -> None:
    user = sim.state.create_user("BITMEX")
    with pytest.raises(PermanentError) as caught:
        await client.get_bot(user, "nope")
    assert caught.value.status == 404 and caught.value.code != 0
    assert paths(sim, "/bots/bot") == 1  # a refusal is not retried


async def test_bot_lifecycle(sim: SimServer, client: PlatformClient) -> None:
    owner = sim.state.create_user("BITMEXSPOT")
    follower = sim.state.create_user("BITMEXSPOT")
    master = await client.create_bot(owner, "spot_grid", GRID)
    assert master.status is Status.RUNNING and master.settings["lowerLimit"] == 3000

    copy = await client.clone_bot(follower, master.bot_id, {"investmentAmount": 50})
    assert (copy.user_id, copy.status, copy.master_bot_id) == (follower, Status.STOPPED, "")
    assert copy.settings["investmentAmount"] == 50 and copy.settings["upperLimit"] == 4000

    await client.edit_bot(follower, copy.bot_id, {"stopValue": 7})
    assert (await client.get_bot(follower, copy.bot_id)).settings["stopValue"] == 7
    await client.start_bot(copy.bot_id)
    with pytest.raises(PermanentError):  # start refuses a running bot
        await client.start_bot(copy.bot_id)
    await client.stop_bot(copy.bot_id)
    await client.stop_bot(copy.bot_id)  # stop is idempotent on the platform too
    assert (await client.get_bot(follower, copy.bot_id)).status is Status.STOPPED

    linked = await client.clone_bot(follower, master.bot_id, {}, follow_updates=True)
    assert linked.master_bot_id == master.bot_id
    with pytest.raises(PermanentError, match="cannot be edited"):
        await client.edit_bot(follower, linked.bot_id, {"stopValue": 1})

    await client.delete_bot(copy.bot_id)
    with pytest.raises(PermanentError):
        await client.get_bot(follower, copy.bot_id)
    followed = await client.create_bot(follower, "spot_grid", GRID, master_bot_id=master.bot_id)
    assert followed.master_bot_id == master.bot_id


async def test_activity_backtest_signal_and_user_routes(
    sim: SimServer, client: PlatformClient
) -> None:
    ids = seed_demo(sim.state)
    bot = ids.spot_grid_master
    orders = await client.call("bots.orders", {"botId": bot})
    assert isinstance(orders, list) and orders
    preview = await client.call("bots.preview", {"userId": ids.spot_owner,
                                                 "exchangeId": "BITMEXSPOT",
                                                 "type": "spot_grid",
                                                 "settings": {**GRID, "gridCount": 4}})
    assert isinstance(preview, list) and preview
    logs = await client.call("bots.logs", {"botId": bot, "limit": -1, "nextPageId": ""})
    assert logs["items"][0]["lineNumber"] == 1
    assert isinstance(await client.call("bots.positions", {"botId": bot}), list)
    await client.stop_bot(bot)  # a stopped run shows as a closed position
    closed = await client.call("bots.positions.closed", {"botId": bot, "limit": -1,
                                                          "nextPageId": ""})
    position = closed["items"][0]["positionId"]
    orders_of = await client.call("bots.positions.orders", {"botId": bot,
                                                             "positionId": position})
    assert orders_of["positionId"] == position

    started = await client.call("backtest.run", {
        "userId": ids.spot_owner, "type": "spot_grid", "exchangeId": "BITMEXSPOT",
        "settings": GRID, "startUnix": 1_700_000_000, "endUnix": 1_700_086_400})
    bt = {"backtestId": started["backtestId"]}
    states = [(await client.call("backtest.status", path_params=bt))["state"] for _ in range(6)]
    assert states[-1] == "completed"
    assert isinstance(await client.call("backtest.results", path_params=bt), dict)
    assert isinstance(await client.call("backtest.logs", path_params=bt), list)
    assert isinstance(await client.call("backtest.positions", path_params=bt), list)
    with pytest.raises(PermanentError, match="already completed"):
        await client.call("backtest.cancel", path_params=bt)

    signal = {"signalToken": "tok-1", "action": "buy", "amount": 1, "timestamp": 1_700_000_000}
    assert await client.call("signals.send", {"signal": signal}) is True
    assert (await client.call("signals.signal", {"signalToken": "tok-1"}))["action"] == "buy"

    new_user = await client.call("users.create", {
        "exchangeId": "BITMEX", "publicKey": "pub", "secretKey": "sec", "extraKey": None,
        "exchangeUserId": None})
    assert (await client.get_user(new_user)).exchange_id == "BITMEX"
    assert await client.call("users.delete", {"userId": new_user}) is True


async def test_pagination_over_ten_thousand_bots(sim: SimServer, client: PlatformClient) -> None:
    user = sim.state.create_user("BITMEXSPOT")
    for _ in range(10_050):
        sim.state.create_bot(user, "spot_grid", GRID, status="stopped")
    ids = [b.bot_id async for b in client.iter_bots()]
    assert len(ids) == 10_050 == len(set(ids))
    assert ids == sim.state.bot_ids()  # in order, nothing skipped or repeated
    assert paths(sim, "/bots/list") == 2  # -1: the server's default page of 10,000
    smaller = [b.bot_id async for b in client.iter_bots(page_size=5_000)]
    assert smaller == ids and paths(sim, "/bots/list") == 5
    with pytest.raises(ValueError):
        [b async for b in client.iter_bots(page_size=10_001)]


async def test_wrong_key_is_an_auth_error_not_retried(sim: SimServer) -> None:
    async with PlatformClient(sim.url, Secret("wrong-" + KEY[:4])) as client:
        with pytest.raises(AuthError) as caught:
            await client.exchanges()
    assert caught.value.status == 401
    assert paths(sim, "/exchanges") == 1


async def test_from_settings(sim: SimServer) -> None:
    settings = PlatformSettings(api_url=sim.url, api_key=Secret(KEY), rate_limit_per_minute=50,
                                concurrency=2, timeout_seconds=3.0)
    async with PlatformClient.from_settings(settings) as client:
        assert client.limiter.limit == 50 and client.limiter.concurrency == 2
        assert await client.exchanges()
