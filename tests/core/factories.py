"""Small builders of core values for the core's tests (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from copytrader.core.model import Bot, Catalogue, Script, SettingSpec, SettingType, Status
from copytrader.core.policy import (
    FollowerPolicy,
    Layer,
    Limit,
    OnFollowerRemoved,
    OnImmutableChange,
    OnMasterStopped,
    Policy,
    PolicySource,
    Propagation,
)

N, OPT, B, S = SettingType.NUMBER, SettingType.OPTION, SettingType.BOOLEAN, SettingType.STRING

SPOT_GRID = Script(
    "spot_grid",
    "Spot Grid Bot",
    (
        SettingSpec("symbol", S, "", False),
        SettingSpec("lowerLimit", N, 0, False),
        SettingSpec("upperLimit", N, 0, False),
        SettingSpec("gridMode", OPT, "Arithmetic", False, ("Arithmetic", "Geometric")),
        SettingSpec("gridCount", N, "0", False),
        SettingSpec("investmentAmount", N, 0, False),
        SettingSpec("tradeToFillGrid", B, False, False),
        SettingSpec("stopCondition", OPT, "Manual", True, ("Manual", "Price", "RSI")),
        SettingSpec("stopValue", N, 0, True),
        SettingSpec("stopExit", B, False, True),
    ),
)
CATALOGUE = Catalogue({"spot_grid": SPOT_GRID})

MASTER_SETTINGS: dict[str, Any] = {
    "symbol": "BITMEXSPOT_ETH_USDT_",
    "lowerLimit": 3000,
    "upperLimit": 4000,
    "gridMode": "Arithmetic",
    "gridCount": 2,
    "investmentAmount": 1000,
    "tradeToFillGrid": False,
    "stopCondition": "Manual",
    "stopValue": 0,
    "stopExit": False,
}
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def bot(
    bot_id: str,
    user: str,
    settings: dict[str, Any] | None = None,
    status: Status = Status.RUNNING,
    created_at: int = 0,
    master_bot_id: str = "",
) -> Bot:
    return Bot(
        bot_id=bot_id,
        user_id=user,
        type="spot_grid",
        exchange_id="BITMEXSPOT",
        status=status,
        settings=MappingProxyType(dict(MASTER_SETTINGS if settings is None else settings)),
        master_bot_id=master_bot_id,
        created_at=created_at,
    )


def layer(overrides: dict[str, Any] | None = None, scale: dict[str, float] | None = None) -> Layer:
    return Layer(MappingProxyType(overrides or {}), MappingProxyType(scale or {}))


def follower(
    user: str,
    overrides: dict[str, Any] | None = None,
    scale: dict[str, float] | None = None,
    paused: bool = False,
) -> FollowerPolicy:
    return FollowerPolicy(user, layer(overrides, scale), paused)


def policy(
    *followers: FollowerPolicy,
    master: str = "M",
    defaults: Layer | None = None,
    limits: dict[str, Limit] | None = None,
    locked: frozenset[str] = frozenset(),
    removed: OnFollowerRemoved = OnFollowerRemoved.STOP,
    master_stopped: OnMasterStopped = OnMasterStopped.STOP,
    immutable: OnImmutableChange = OnImmutableChange.RECREATE,
    propagation: Propagation = Propagation.COPYTRADER,
) -> Policy:
    return Policy(
        master=master,
        followers=tuple(followers),
        defaults=defaults or layer(),
        limits=MappingProxyType(limits or {}),
        locked=locked,
        on_follower_removed=removed,
        on_master_stopped=master_stopped,
        on_immutable_change=immutable,
        propagation=propagation,
        source=PolicySource("policies/m.yaml", "0" * 64),
    )
