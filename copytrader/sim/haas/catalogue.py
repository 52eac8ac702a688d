"""The simulator's fixed platform data: the script catalogue, exchanges and markets.

Shapes follow the partner API reference (``seeds/000``): a Script is
``{type, name, description, settings: [SettingSpec]}`` and a setting spec is
``{key, group, name, description, type, value, canBeEdited, options}``. The spot grid
script is exactly the reference's, including ``gridCount``'s default sent as the string
``"0"``.
"""

from __future__ import annotations

import copy
from typing import Any

JSON = dict[str, Any]

ABOVE_BELOW = ["Above value", "Below value"]


def _spec(
    key: str,
    group: str,
    name: str,
    type_: str,
    value: Any,
    can_be_edited: bool,
    options: list[str] | None = None,
    description: str = "",
) -> JSON:
    return {
        "key": key,
        "group": group,
        "name": name,
        "description": description,
        "type": type_,
        "value": value,
        "canBeEdited": can_be_edited,
        "options": list(options or []),
    }


def _symbol() -> JSON:
    return _spec("symbol", "", "Symbol", "string", "", False,
                 description="The symbol of the market the bot will run on")


def _start_settings() -> list[JSON]:
    return [
        _spec("startCondition", "Advanced Settings", "Start condition", "option", "Instant",
              False, ["Instant", "Price", "RSI"],
              "Instant starts at once; Price or RSI once above or below the start value."),
        _spec("startType", "Advanced Settings", "Start type", "option", "Above value", False,
              ABOVE_BELOW, "Activation on above or below start value."),
        _spec("startValue", "Advanced Settings", "Start value", "number", 0, False,
              description="The value for Price or RSI start conditions."),
    ]


def _stop_settings() -> list[JSON]:
    return [
        _spec("stopCondition", "Advanced Settings", "Stop condition", "option", "Manual", True,
              ["Manual", "Price", "RSI"],
              "Manual never deactivates; Price or RSI once above or below the stop value."),
        _spec("stopType", "Advanced Settings", "Stop type", "option", "Above value", True,
              ABOVE_BELOW, "Deactivation on above or below stop value."),
        _spec("stopValue", "Advanced Settings", "Stop value", "number", 0, True,
              description="The value for Price or RSI stop conditions."),
        _spec("stopExit", "Advanced Settings", "Stop exits", "boolean", False, True,
              description="If true, the bot closes its holdings when the stop triggers."),
    ]


def _grid_range() -> list[JSON]:
    return [
        _spec("lowerLimit", "Price range", "Lower limit", "number", 0, False,
              description="Lower price limit"),
        _spec("upperLimit", "Price range", "Upper limit", "number", 0, False,
              description="Upper price limit"),
        _spec("gridMode", "Grid mode & quantity", "Grid mode", "option", "Arithmetic", False,
              ["Arithmetic", "Geometric"],
              "Arithmetic: constant price gap between grids; Geometric: constant percentage."),
        _spec("gridCount", "Grid mode & quantity", "Grid count", "number", "0", False,
              description="The amount of grids the price range is split into."),
    ]


def _investment(can_be_edited: bool = False) -> JSON:
    return _spec("investmentAmount", "Investment amount", "Amount", "number", 0, can_be_edited,
                 description="Total amount to be invested.")


def _dca(futures: bool) -> list[JSON]:
    settings = [
        _symbol(),
        _spec("direction", "Price Settings", "Direction", "option", "Long", False,
              ["Long", "Short"], "Trading direction"),
        _spec("priceDeviation", "Price Settings", "Price Deviation %", "number", 1, False,
              description="Gap between each order"),
        _investment(),
        _spec("orderCount", "Order Settings", "Order count", "number", 5, False,
              description="Number of averaging orders"),
        _spec("volumeScale", "Order Settings", "Volume scale", "number", 1, True,
              description="Multiplier of each next order's volume"),
        _spec("takeProfit", "Exit Settings", "Take profit %", "number", 1.5, True,
              description="Close the round at this profit"),
        _spec("stopLoss", "Exit Settings", "Stop loss %", "number", 0, True,
              description="Disabled if zero"),
    ]
    if futures:
        settings.append(_spec("leverage", "Order Settings", "Leverage", "number", 1, False,
                              description="Position leverage"))
    return settings


SCRIPTS: list[JSON] = [
    {
        "type": "spot_grid",
        "name": "Spot Grid Bot",
        "description": "Buy low and sell high 24/7 automatically with just one click.",
        "settings": [
            _symbol(),
            *_grid_range(),
            _spec("investmentAsset", "Investment amount", "Asset", "option", "Base", False,
                  ["Base", "Quote"], "The asset the investment amount is counted in."),
            _investment(),
            _spec("tradeToFillGrid", "Advanced Settings", "Trade to fill grids?", "boolean",
                  False, False,
                  description="If true, the bot buys or sells to fill both sides at start."),
            *_start_settings(),
            *_stop_settings(),
        ],
    },
    {
        "type": "futures_grid",
        "name": "Futures Grid Bot",
        "description": "Amplify your purchasing power with an advanced version of Grid Trading.",
        "settings": [
            _symbol(),
            *_grid_range(),
            _investment(),
            _spec("leverage", "Investment amount", "Leverage", "number", 1, False,
                  description="Position leverage"),
            _spec("maxWin", "Safety settings", "Max. allowed win", "number", 0, True,
                  description="Disabled if zero. Take profit and deactivate at this total."),
            _spec("maxLoss", "Safety settings", "Max. allowed loss", "number", 0, True,
                  description="Disabled if zero. Stop and deactivate at this total loss."),
            *_start_settings(),
            *_stop_settings(),
        ],
    },
    {
        "type": "spot_dollar_cost_averaging",
        "name": "Spot Dollar Cost Average Bot",
        "description": "Auto-place spot buy/sell orders for better average price or unwind.",
        "settings": _dca(futures=False),
    },
    {
        "type": "futures_dollar_cost_averaging",
        "name": "Futures Dollar Cost Average Bot",
        "description": "Auto-place futures buy/sell orders for better average price or unwind.",
        "settings": _dca(futures=True),
    },
    {
        "type": "webhook",
        "name": "Webhook Bot",
        "description": "Executed trades based on signals provided by external parties.",
        "settings": [
            _symbol(),
            _spec("signalToken", "", "Token", "string", "", True),
            _investment(can_be_edited=True),
            _spec("maxOpenPositions", "", "Max. open positions", "number", 1, True),
        ],
    },
]

SCRIPTS_BY_TYPE: dict[str, JSON] = {s["type"]: s for s in SCRIPTS}
SPECS_BY_TYPE: dict[str, dict[str, JSON]] = {
    s["type"]: {spec["key"]: spec for spec in s["settings"]} for s in SCRIPTS
}

EXCHANGES: list[JSON] = [
    {"id": "BITMEXSPOT", "name": "BitMEX", "isSpot": True, "isLeverage": False},
    {"id": "BITMEX", "name": "BitMEX Derivative", "isSpot": False, "isLeverage": True},
    {"id": "BINANCE", "name": "Binance", "isSpot": True, "isLeverage": False},
]
EXCHANGE_IDS = frozenset(e["id"] for e in EXCHANGES)


def _market(exchange: str, base: str, quote: str, ex_symbol: str, price: float,
            price_decimals: int, amount_decimals: int, min_amount: float,
            spot: bool, amount_label: str | None = None, profit_label: str | None = None) -> JSON:
    full = {"BITMEXSPOT": "BitMEX", "BITMEX": "BitMEX Derivative", "BINANCE": "Binance"}
    return {
        "exchangeId": exchange,
        "name": f"{base}/{quote}" + (f" {ex_symbol}" if ex_symbol else ""),
        "fullName": f"{full[exchange]} {ex_symbol or base + quote}",
        "symbol": f"{exchange}_{base}_{quote}_{ex_symbol}",
        "exchangeSymbol": ex_symbol or f"{base}{quote}",
        "baseCurrency": base,
        "quoteCurrency": quote,
        "priceDecimals": price_decimals,
        "amountDecimals": amount_decimals,
        "minimumTradeAmount": min_amount,
        "minimumTradeVolume": 0,
        "amountLabel": amount_label or base,
        "profitLabel": profit_label or quote,
        "isSpot": spot,
        "isLeverage": not spot,
        "isOpen": True,
        # Not part of the reference's Market: where the simulator's price walk starts.
        "_startPrice": price,
    }


_MARKETS: list[JSON] = [
    _market("BITMEXSPOT", "ETH", "USDT", "", 3500.0, 2, 4, 0.001, True),
    _market("BITMEXSPOT", "BTC", "USDT", "", 60000.0, 1, 6, 0.0001, True),
    _market("BITMEXSPOT", "SOL", "USDT", "", 150.0, 3, 2, 0.01, True),
    _market("BITMEX", "ETH", "USDT", "ETHUSDT", 3500.0, 2, 0, 1, False, "Contract(s)"),
    _market("BITMEX", "XBT", "USD", "XBTUSD", 60000.0, 1, 0, 1, False, "Contract(s)", "XBT"),
    _market("BITMEX", "ADA", "USDT", "ADAUSDT", 0.45, 4, 0, 10, False),
    _market("BINANCE", "BTC", "USDT", "", 60000.0, 2, 5, 0.00001, True),
    _market("BINANCE", "ETH", "USDT", "", 3500.0, 2, 4, 0.0001, True),
]

START_PRICES: dict[str, float] = {m["symbol"]: m["_startPrice"] for m in _MARKETS}
MARKETS: list[JSON] = [
    {k: v for k, v in m.items() if not k.startswith("_")} for m in _MARKETS
]


def scripts() -> list[JSON]:
    """A deep copy of every script (callers may not mutate the catalogue)."""
    return copy.deepcopy(SCRIPTS)


def script(bot_type: str) -> JSON | None:
    """A deep copy of one script, or None for an unknown type."""
    found = SCRIPTS_BY_TYPE.get(bot_type)
    return copy.deepcopy(found) if found is not None else None


def defaults(bot_type: str) -> dict[str, Any]:
    """Every setting key of ``bot_type`` with its default value, in catalogue order."""
    return {key: spec["value"] for key, spec in SPECS_BY_TYPE[bot_type].items()}
