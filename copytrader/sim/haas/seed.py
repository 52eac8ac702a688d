"""The demo world: fixed users and master bots the example policies and the demo rely on."""

from __future__ import annotations

from typing import NamedTuple

from copytrader.sim.haas.state import SimState


class DemoIds(NamedTuple):
    """Ids created by :func:`seed_demo`."""

    spot_owner: str
    spot_followers: tuple[str, ...]
    futures_owner: str
    futures_followers: tuple[str, ...]
    spot_grid_master: str
    futures_grid_master: str
    spot_dca_master: str


DEMO = DemoIds(
    spot_owner="d9bd8028-a594-4828-8edb-e37a35d39dad",
    spot_followers=(
        "f873b314-f165-45a0-b658-d15ff37d529a",
        "28f19b46-81df-481c-9872-c215626f166e",
        "98aaa021-05c9-4cb1-ae7b-aaa128b42530",
        "e2f12128-c864-47b5-81a7-1e8aeba29943",
    ),
    futures_owner="4bf8ec12-fa28-442b-b1c1-e67dd31864dd",
    futures_followers=(
        "b3829396-4ad9-4034-ae7a-e8e2fb582c33",
        "3f1315cb-bf6d-4753-8ea5-d29d8d6f0f5b",
        "696c712e-346b-4631-9df8-38fe59211493",
    ),
    spot_grid_master="6dafad4e364449c9906296aab8eff2f7",
    futures_grid_master="bedc8bb485514565b64a728fc0886a95",
    spot_dca_master="7d7e643ac399492c8adf1add09316abb",
)

_GRID_TAIL = {
    "lowerLimit": 3000,
    "upperLimit": 4000,
    "gridMode": "Arithmetic",
    "gridCount": 2,
}
_CONDITIONS = {
    "startCondition": "Instant",
    "startType": "Above value",
    "startValue": 0,
    "stopCondition": "Manual",
    "stopType": "Above value",
    "stopValue": 0,
    "stopExit": False,
}


def seed_demo(state: SimState) -> DemoIds:
    """Create the demo users (paper trading) and the three running masters; same ids always."""
    for user in (DEMO.spot_owner, *DEMO.spot_followers):
        state.create_user("BITMEXSPOT", user_id=user)
    for user in (DEMO.futures_owner, *DEMO.futures_followers):
        state.create_user("BITMEX", user_id=user)
    state.create_bot(
        DEMO.spot_owner, "spot_grid",
        {**_GRID_TAIL, "investmentAsset": "Quote", "investmentAmount": 1000,
         "tradeToFillGrid": False, **_CONDITIONS, "symbol": "BITMEXSPOT_ETH_USDT_"},
        bot_id=DEMO.spot_grid_master,
    )
    state.create_bot(
        DEMO.futures_owner, "futures_grid",
        {**_GRID_TAIL, "investmentAmount": 500, "maxWin": 50, "maxLoss": 20, "leverage": 3,
         **_CONDITIONS, "symbol": "BITMEX_ETH_USDT_ETHUSDT"},
        bot_id=DEMO.futures_grid_master,
    )
    state.create_bot(
        DEMO.spot_owner, "spot_dollar_cost_averaging",
        {"symbol": "BITMEXSPOT_BTC_USDT_", "investmentAmount": 200, "takeProfit": 2,
         "stopLoss": 10},
        bot_id=DEMO.spot_dca_master,
    )
    return DEMO
