"""JSON to model values: tolerant where the reference is sloppy, strict where it matters."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from copytrader.core.model import SettingType, Status
from copytrader.errors import MalformedResponseError
from copytrader.platform.haas import parse

#: A bot exactly as the reference's /bots/list example shows it.
REFERENCE_BOT: dict[str, Any] = {
    "userId": "816f438e-4b30-45bd-9785-f7bcca944db8",
    "botId": "18c561aa5a9c4e54af24fb8c21a2040a",
    "status": "stopped",
    "masterBotId": "",
    "createdAt": 1766081300,
    "type": "spot_grid",
    "exchangeId": "BITMEXSPOT",
    "settings": {"lowerLimit": 3000, "gridMode": "Arithmetic", "gridCount": "0",
                 "tradeToFillGrid": False, "symbol": "BITMEXSPOT_ETH_USDT_"},
    "profit": 0,
    "roi": 0,
    "cloned": 0,
    "followers": 0,
}


def test_reference_bot() -> None:
    bot = parse.bot("bots.list", REFERENCE_BOT)
    assert bot.bot_id == "18c561aa5a9c4e54af24fb8c21a2040a"
    assert bot.status is Status.STOPPED
    assert bot.exchange_id == "BITMEXSPOT" and bot.created_at == 1766081300
    assert bot.settings["gridCount"] == "0"  # kept as sent: normalising is the core's job
    assert bot.settings["tradeToFillGrid"] is False
    with pytest.raises(TypeError):
        bot.settings["lowerLimit"] = 1  # type: ignore[index]


def test_sloppy_bot_fields_are_tolerated() -> None:
    raw = {**REFERENCE_BOT, "status": "paused", "masterBotId": None, "profit": "12.5",
           "roi": None, "cloned": "x", "followers": 2.0, "createdAt": "1766081300",
           "somethingNew": {"a": 1}}
    del raw["exchangeId"]
    bot = parse.bot("bots.bot", raw)
    assert bot.status is Status.UNKNOWN
    assert bot.master_bot_id == "" and bot.exchange_id == ""
    assert (bot.profit, bot.roi, bot.cloned, bot.followers) == (12.5, 0.0, 0, 2)
    assert bot.created_at == 1766081300


@pytest.mark.parametrize("field", ["botId", "userId", "type", "settings"])
@pytest.mark.parametrize("how", ["missing", "null", "wrong type"])
def test_bot_without_a_required_field(field: str, how: str) -> None:
    raw = copy.deepcopy(REFERENCE_BOT)
    if how == "missing":
        del raw[field]
    else:
        raw[field] = None if how == "null" else ["x"]
    with pytest.raises(MalformedResponseError) as caught:
        parse.bot("bots.list", raw)
    assert caught.value.endpoint == "bots.list"
    assert str(caught.value).startswith("bots.list: ")
    assert field in str(caught.value)


def test_bot_with_a_nested_setting_value_is_malformed() -> None:
    raw = {**REFERENCE_BOT, "settings": {"lowerLimit": {"v": 1}}}
    with pytest.raises(MalformedResponseError, match="lowerLimit"):
        parse.bot("bots.bot", raw)


def test_bot_that_is_not_an_object() -> None:
    with pytest.raises(MalformedResponseError, match="expected an object"):
        parse.bot("bots.clone", True)


def test_page() -> None:
    assert parse.page("bots.list", {"items": [1], "nextPageId": None}) == ([1], None)
    assert parse.page("bots.list", {"items": [], "nextPageId": "abc"}) == ([], "abc")
    bad_pages: list[object] = [
        {"items": []}, {"nextPageId": None}, {"items": {}}, {"items": [], "nextPageId": 3}, []
    ]
    for bad in bad_pages:
        with pytest.raises(MalformedResponseError):
            parse.page("bots.list", bad)


SCRIPT = {
    "type": "spot_grid",
    "name": "Spot Grid Bot",
    "description": "Grid trading",
    "settings": [
        {"key": "gridCount", "group": "Grid", "name": "Grid count", "description": "",
         "type": "number", "value": "0", "canBeEdited": False, "options": []},
        {"key": "gridMode", "type": "option", "value": "Arithmetic", "canBeEdited": False,
         "options": ["Arithmetic", "Geometric"]},
        {"key": "stopExit", "type": "boolean", "value": False},
        {"key": "future", "type": "colour", "value": "red", "canBeEdited": True},
    ],
}


def test_script_and_catalogue() -> None:
    catalogue = parse.catalogue("scripts.list", [SCRIPT])
    script = catalogue.script("spot_grid")
    assert script is not None and script.name == "Spot Grid Bot"
    count = script.spec("gridCount")
    assert count is not None and count.default == "0" and not count.can_be_edited
    assert count.type is SettingType.NUMBER and count.group == "Grid"
    mode = script.spec("gridMode")
    assert mode is not None and mode.options == ("Arithmetic", "Geometric")
    stop_exit = script.spec("stopExit")
    assert stop_exit is not None and stop_exit.can_be_edited  # missing: let the platform decide
    future = script.spec("future")
    assert future is not None and future.type is SettingType.STRING


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "x", "settings": []},
        {"type": "spot_grid", "settings": {}},
        {"type": "spot_grid", "settings": [{"type": "number"}]},
    ],
)
def test_bad_scripts(bad: dict[str, Any]) -> None:
    with pytest.raises(MalformedResponseError):
        parse.script("scripts.script", bad)


def test_catalogue_must_be_a_list() -> None:
    with pytest.raises(MalformedResponseError, match=r"^scripts\.list: "):
        parse.catalogue("scripts.list", {"items": []})


def test_user_exchange_market() -> None:
    user = parse.user("users.user", {"userId": "u1", "exchangeId": "BITMEX",
                                     "exchangeUserId": None, "createdAt": 1766069766,
                                     "botsStarted": 2, "botsActive": 1})
    assert (user.user_id, user.exchange_id, user.exchange_user_id) == ("u1", "BITMEX", None)
    assert (user.bots_started, user.bots_active) == (2, 1)
    with pytest.raises(MalformedResponseError, match="userId"):
        parse.user("users.list", {"exchangeId": "BITMEX"})
    exchange = parse.exchange("exchanges.list", {"id": "BITMEX", "name": "BitMEX",
                                                 "isSpot": False, "isLeverage": True})
    assert exchange.is_leverage and not exchange.is_spot
    market = parse.market("markets.list", {"exchangeId": "BITMEX", "symbol": "BITMEX_ADA_USD",
                                           "baseCurrency": "ADA", "isSpot": False,
                                           "isOpen": False})
    assert (market.base_currency, market.is_spot, market.is_open) == ("ADA", False, False)
    with pytest.raises(MalformedResponseError, match="symbol"):
        parse.market("markets.list", {"exchangeId": "BITMEX"})
    with pytest.raises(MalformedResponseError):
        parse.listing("markets.list", {"items": []}, "markets")
