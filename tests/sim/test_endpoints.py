"""Every endpoint answers with the envelope and correctly shaped data."""

from __future__ import annotations

import aiohttp

from copytrader.sim.haas import catalogue
from copytrader.sim.haas.seed import DEMO, seed_demo
from copytrader.sim.haas.server import SimServer
from copytrader.sim.haas.state import SimState
from tests.sim.conftest import Api

BOT_KEYS = {"userId", "botId", "status", "masterBotId", "createdAt", "type", "exchangeId",
            "settings", "profit", "roi", "cloned", "followers"}
USER_KEYS = {"userId", "exchangeId", "exchangeUserId", "createdAt", "botsStarted", "botsActive"}
SPEC_KEYS = {"key", "group", "name", "description", "type", "value", "canBeEdited", "options"}


async def test_missing_or_wrong_key_is_401_with_envelope(server: SimServer) -> None:
    async with aiohttp.ClientSession() as session:
        for headers in ({}, {"X-API-Key": "wrong"}):
            async with session.post(server.url + "/bots/list", json={}, headers=headers) as r:
                assert r.status == 401
                env = await r.json()
    assert env["isSuccess"] is False and env["code"] != 0 and env["data"] is None
    assert [r.status for r in server.state.requests] == [401, 401]
    assert all(r.body == {} for r in server.state.requests)


async def test_unknown_path_bad_json_and_wrong_method(api: Api) -> None:
    status, env = await api.post("/bots/nothing")
    assert (status, env["isSuccess"]) == (404, False)
    async with api.session.post(api.url + "/bots/list", data=b"{not json") as r:
        assert r.status == 400 and (await r.json())["isSuccess"] is False
    async with api.session.post(api.url + "/bots/list", json=[1, 2]) as r:
        assert r.status == 400
    status, env = await api.get("/bots/list")
    assert status == 405 and env["isSuccess"] is False


async def test_catalogue_endpoints(api: Api) -> None:
    exchanges = await api.data("/exchanges", ...)
    assert {e["id"] for e in exchanges} == {"BITMEXSPOT", "BITMEX", "BINANCE"}
    assert all(set(e) == {"id", "name", "isSpot", "isLeverage"} for e in exchanges)
    markets = await api.data("/markets", ...)
    symbols = {m["symbol"] for m in markets}
    assert {"BITMEXSPOT_ETH_USDT_", "BITMEXSPOT_BTC_USDT_", "BITMEX_ETH_USDT_ETHUSDT",
            "BITMEX_XBT_USD_XBTUSD"} <= symbols
    assert all(not k.startswith("_") for m in markets for k in m)
    scripts = await api.data("/scripts", ...)
    assert [s["type"] for s in scripts] == list(catalogue.SCRIPTS_BY_TYPE)
    for script in scripts:
        assert set(script) == {"type", "name", "description", "settings"}
        assert all(set(spec) == SPEC_KEYS for spec in script["settings"])
    one = await api.data("/scripts/script", {"type": "futures_grid"})
    assert one == scripts[1]
    env = await api.env("/scripts/script", {"type": "nope"})
    assert env["isSuccess"] is False


def _flags(bot_type: str) -> dict[str, tuple[str, bool]]:
    return {k: (s["type"], s["canBeEdited"]) for k, s in catalogue.SPECS_BY_TYPE[bot_type].items()}


def test_spot_grid_script_is_the_references() -> None:
    flags = _flags("spot_grid")
    assert list(flags) == ["symbol", "lowerLimit", "upperLimit", "gridMode", "gridCount",
                           "investmentAsset", "investmentAmount", "tradeToFillGrid",
                           "startCondition", "startType", "startValue", "stopCondition",
                           "stopType", "stopValue", "stopExit"]
    editable = {k for k, (_, e) in flags.items() if e}
    assert editable == {"stopCondition", "stopType", "stopValue", "stopExit"}
    specs = catalogue.SPECS_BY_TYPE["spot_grid"]
    assert specs["gridCount"]["value"] == "0"
    assert specs["gridMode"]["options"] == ["Arithmetic", "Geometric"]
    assert specs["startCondition"]["options"] == ["Instant", "Price", "RSI"]


def test_other_scripts_keys_and_flags() -> None:
    fut = _flags("futures_grid")
    assert {k for k, (_, e) in fut.items() if e} == {
        "maxWin", "maxLoss", "stopCondition", "stopType", "stopValue", "stopExit"}
    assert catalogue.SPECS_BY_TYPE["futures_grid"]["leverage"]["value"] == 1
    dca = _flags("spot_dollar_cost_averaging")
    assert set(dca) == {"symbol", "direction", "priceDeviation", "investmentAmount",
                        "orderCount", "volumeScale", "takeProfit", "stopLoss"}
    assert {k for k, (_, e) in dca.items() if e} == {"volumeScale", "takeProfit", "stopLoss"}
    assert set(_flags("futures_dollar_cost_averaging")) == set(dca) | {"leverage"}
    hook = _flags("webhook")
    assert hook == {"symbol": ("string", False), "signalToken": ("string", True),
                    "investmentAmount": ("number", True), "maxOpenPositions": ("number", True)}
    assert catalogue.defaults("spot_dollar_cost_averaging")["takeProfit"] == 1.5


async def test_users_endpoints_never_return_keys(api: Api, state: SimState) -> None:
    body = {"exchangeId": "BITMEX", "publicKey": "pub-123", "secretKey": "s3cr3t-xyz",
            "extraKey": "", "exchangeUserId": "ex-1"}
    user_id = await api.data("/users/create", body)
    assert isinstance(user_id, str) and len(user_id) == 36
    user = await api.data("/users/user", {"userId": user_id})
    assert set(user) == USER_KEYS and user["exchangeUserId"] == "ex-1"
    page = await api.data("/users/list", {"limit": -1})
    assert set(page) == {"items", "nextPageId"} and page["nextPageId"] is None
    assert user_id in [u["userId"] for u in page["items"]]
    async with api.session.get(api.url + "/_sim/requests") as r:
        log_text = await r.text()
    assert "s3cr3t-xyz" not in log_text and "pub-123" not in log_text
    assert await api.data("/users/delete", {"userId": user_id}) is True
    env = await api.env("/users/user", {"userId": user_id})
    assert env["isSuccess"] is False
    env = await api.env("/users/create", {"exchangeId": "NOPE", "publicKey": "sim",
                                                   "secretKey": "sim"})
    assert env["isSuccess"] is False


async def test_bot_reads_and_create(api: Api, state: SimState) -> None:
    ids = seed_demo(state)
    bot = await api.data("/bots/bot", {"userId": ids.spot_owner, "botId": ids.spot_grid_master})
    assert set(bot) == BOT_KEYS and bot["status"] == "running"
    env = await api.env("/bots/bot", {"userId": ids.futures_owner,
                                               "botId": ids.spot_grid_master})
    assert env["isSuccess"] is False
    mine = await api.data("/bots/user", {"userId": ids.spot_owner, "limit": 10})
    assert [b["botId"] for b in mine["items"]] == [ids.spot_grid_master, ids.spot_dca_master]
    created = await api.data("/bots/create", {
        "userId": DEMO.spot_followers[0], "type": "spot_dollar_cost_averaging",
        "settings": {"symbol": "BITMEXSPOT_ETH_USDT_", "investmentAmount": 50},
        "masterBotId": None})
    assert set(created) == BOT_KEYS
    assert created["status"] == "running" and created["exchangeId"] == "BITMEXSPOT"
    assert len(created["botId"]) == 32 and int(created["botId"], 16) >= 0
    assert created["settings"]["orderCount"] == 5  # default filled in
    assert isinstance(created["createdAt"], int)
    user = await api.data("/users/user", {"userId": DEMO.spot_followers[0]})
    assert (user["botsStarted"], user["botsActive"]) == (1, 1)


async def test_create_validates(api: Api, state: SimState) -> None:
    user = state.create_user("BITMEXSPOT")
    cases = [
        {"userId": user, "type": "martingale", "settings": {}},
        {"userId": "nobody", "type": "spot_grid", "settings": {}},
        {"userId": user, "type": "spot_grid", "settings": {"bogus": 1}},
        {"userId": user, "type": "spot_grid", "settings": {"lowerLimit": "low"}},
        {"userId": user, "type": "spot_grid", "settings": {"gridMode": "Fibonacci"}},
        {"userId": user, "type": "spot_grid", "settings": {"stopExit": "yes"}},
        {"userId": user, "type": "spot_grid", "settings": {"symbol": 5}},
    ]
    for body in cases:
        env = await api.env("/bots/create", body)
        assert env["isSuccess"] is False, body
    assert state.bots_of(user) == []
    env = await api.env("/bots/create", cases[4])
    assert "gridMode" in env["message"]


def test_seed_demo_ids(state: SimState) -> None:
    ids = seed_demo(state)
    assert ids == DEMO
    spot = state.bot("6dafad4e364449c9906296aab8eff2f7")
    assert spot["settings"]["investmentAmount"] == 1000 and spot["status"] == "running"
    assert spot["settings"]["symbol"] == "BITMEXSPOT_ETH_USDT_"
    assert spot["settings"]["gridCount"] == 2 and spot["userId"] == ids.spot_owner
    fut = state.bot("bedc8bb485514565b64a728fc0886a95")
    assert (fut["type"], fut["exchangeId"], fut["userId"]) == (
        "futures_grid", "BITMEX", "4bf8ec12-fa28-442b-b1c1-e67dd31864dd")
    assert {k: fut["settings"][k] for k in ("investmentAmount", "maxWin", "maxLoss",
                                             "leverage")} == {
        "investmentAmount": 500, "maxWin": 50, "maxLoss": 20, "leverage": 3}
    dca = state.bot("7d7e643ac399492c8adf1add09316abb")
    assert dca["settings"]["symbol"] == "BITMEXSPOT_BTC_USDT_"
    assert (dca["settings"]["takeProfit"], dca["settings"]["stopLoss"]) == (2, 10)
    assert {state.user(u)["exchangeId"] for u in ids.spot_followers} == {"BITMEXSPOT"}
    assert {state.user(u)["exchangeId"] for u in ids.futures_followers} == {"BITMEX"}
    again = SimState(seed=99)
    seed_demo(again)
    assert [b["botId"] for b in again.bots_json(again.bot_ids())] == list(state.bot_ids())
