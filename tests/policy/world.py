"""The policy tests' world: the simulator's catalogue as core values, the demo masters and
users the simulator seeds, and an in-memory read-only platform."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Collection, Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from copytrader.core.model import (
    Bot,
    Catalogue,
    Script,
    SettingSpec,
    SettingType,
    Status,
    SweepPart,
    User,
)
from copytrader.sim.haas import catalogue as sim_catalogue

REPO = Path(__file__).resolve().parents[2]

ETH_GRID = "6dafad4e364449c9906296aab8eff2f7"
ETH_FUTURES_GRID = "bedc8bb485514565b64a728fc0886a95"
BTC_DCA = "7d7e643ac399492c8adf1add09316abb"

SPOT_USERS = (
    "f873b314-f165-45a0-b658-d15ff37d529a",
    "28f19b46-81df-481c-9872-c215626f166e",
    "98aaa021-05c9-4cb1-ae7b-aaa128b42530",
    "e2f12128-c864-47b5-81a7-1e8aeba29943",
)
FUTURES_USERS = (
    "b3829396-4ad9-4034-ae7a-e8e2fb582c33",
    "3f1315cb-bf6d-4753-8ea5-d29d8d6f0f5b",
    "696c712e-346b-4631-9df8-38fe59211493",
)
SPOT_OWNER = "816f438e-4b30-45bd-9785-f7bcca944db8"
FUTURES_OWNER = "4bf8ec12-fa28-442b-b1c1-e67dd31864dd"


def script_from_json(data: dict[str, Any]) -> Script:
    """The core value of a script in the partner API's JSON shape."""
    return Script(
        type=data["type"],
        name=data["name"],
        settings=tuple(
            SettingSpec(
                key=s["key"],
                type=SettingType(s["type"]),
                default=s["value"],
                can_be_edited=s["canBeEdited"],
                options=tuple(s["options"]),
            )
            for s in data["settings"]
        ),
    )


CATALOGUE = Catalogue({s["type"]: script_from_json(s) for s in sim_catalogue.scripts()})


def _bot(bot_id: str, user: str, bot_type: str, exchange: str, **settings: Any) -> Bot:
    return Bot(
        bot_id=bot_id,
        user_id=user,
        type=bot_type,
        exchange_id=exchange,
        status=Status.RUNNING,
        settings=MappingProxyType(settings),
    )


MASTERS = (
    _bot(
        ETH_GRID,
        SPOT_OWNER,
        "spot_grid",
        "BITMEXSPOT",
        symbol="BITMEXSPOT_ETH_USDT_",
        lowerLimit=3000,
        upperLimit=4000,
        gridMode="Arithmetic",
        gridCount=2,
        investmentAsset="Quote",
        investmentAmount=1000,
        tradeToFillGrid=False,
        startCondition="Instant",
        startType="Above value",
        startValue=0,
        stopCondition="Manual",
        stopType="Above value",
        stopValue=0,
        stopExit=False,
    ),
    _bot(
        ETH_FUTURES_GRID,
        FUTURES_OWNER,
        "futures_grid",
        "BITMEX",
        symbol="BITMEX_ETH_USDT_ETHUSDT",
        lowerLimit=3000,
        upperLimit=4000,
        investmentAmount=100,
        maxWin=50,
        maxLoss=20,
    ),
    _bot(
        BTC_DCA,
        SPOT_OWNER,
        "spot_dollar_cost_averaging",
        "BITMEXSPOT",
        symbol="BITMEXSPOT_BTC_USDT_",
        direction="Long",
        priceDeviation=1,
        investmentAmount=500,
        orderCount=5,
        volumeScale=1,
        takeProfit=1.5,
        stopLoss=0,
    ),
)
USERS = (
    *(User(u, "BITMEXSPOT") for u in (*SPOT_USERS, SPOT_OWNER)),
    *(User(u, "BITMEX") for u in (*FUTURES_USERS, FUTURES_OWNER)),
)


class FakePlatform:
    """The read side of a platform, in memory. Keeps a request count like the real client."""

    def __init__(
        self,
        bots: Iterable[Bot] = MASTERS,
        users: Iterable[User] = USERS,
        catalogue: Catalogue = CATALOGUE,
    ) -> None:
        self.bots = {b.bot_id: b for b in bots}
        self.users = {u.user_id: u for u in users}
        self._catalogue = catalogue
        self.requests_sent = 0

    async def catalogue(self) -> Catalogue:
        self.requests_sent += 1
        return self._catalogue

    async def iter_bots(self, page_size: int = -1) -> AsyncIterator[Bot]:
        self.requests_sent += 1
        for bot in list(self.bots.values()):
            yield bot

    async def iter_users(self, page_size: int = -1) -> AsyncIterator[User]:
        self.requests_sent += 1
        for user in list(self.users.values()):
            yield user

    async def sweep(self, *, masters_only: bool = False) -> AsyncGenerator[SweepPart, None]:
        self.requests_sent += 1
        yield SweepPart(dict(self.bots))

    async def verified_users(self, user_ids: Collection[str]) -> Mapping[str, User]:
        self.requests_sent += 1
        return {u: self.users[u] for u in user_ids if u in self.users}
