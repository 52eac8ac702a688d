"""Platform objects as immutable values, as the core sees them.

The platform client maps the partner API's JSON into these types; the core never
sees JSON, HTTP or database rows. Settings are plain mappings of setting key to a
JSON scalar (str, int, float, bool); see :mod:`copytrader.core.normalize` for how
values are compared.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

#: A setting value as the platform carries it.
Scalar = str | int | float | bool | None
Settings = Mapping[str, Scalar]

BOT_TYPES: tuple[str, ...] = (
    "spot_grid",
    "futures_grid",
    "spot_dollar_cost_averaging",
    "futures_dollar_cost_averaging",
    "webhook",
)


def frozen_settings(values: Mapping[str, Scalar] | None = None) -> Settings:
    """A read-only copy of ``values`` (so frozen dataclasses stay immutable)."""
    return MappingProxyType(dict(values or {}))


class Status(enum.StrEnum):
    """A bot's run state. Anything the platform sends that is not known maps to UNKNOWN."""

    RUNNING = "running"
    STOPPED = "stopped"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, value: object) -> Status:
        """Map a platform status string to a Status; never raises."""
        if value == "running":
            return cls.RUNNING
        if value == "stopped":
            return cls.STOPPED
        return cls.UNKNOWN


@dataclass(frozen=True, slots=True)
class Bot:
    """A bot as read from the platform."""

    bot_id: str
    user_id: str
    type: str
    exchange_id: str
    status: Status
    settings: Settings
    master_bot_id: str = ""
    created_at: int = 0
    profit: float = 0.0
    roi: float = 0.0
    cloned: int = 0
    followers: int = 0


class SettingType(enum.StrEnum):
    STRING = "string"
    NUMBER = "number"
    OPTION = "option"
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class SettingSpec:
    """One setting of a script: its type, default, legal options and editability."""

    key: str
    type: SettingType
    default: Scalar
    can_be_edited: bool
    options: tuple[str, ...] = ()
    name: str = ""
    group: str = ""
    description: str = ""


@dataclass(frozen=True)
class Script:
    """A bot type's catalogue entry: the settings a bot of that type has."""

    type: str
    name: str
    settings: tuple[SettingSpec, ...]
    description: str = ""

    @cached_property
    def _by_key(self) -> Mapping[str, SettingSpec]:
        return {s.key: s for s in self.settings}

    def spec(self, key: str) -> SettingSpec | None:
        """The spec of ``key``, or None when the script does not define it."""
        return self._by_key.get(key)

    @cached_property
    def keys(self) -> frozenset[str]:
        return frozenset(s.key for s in self.settings)


@dataclass(frozen=True)
class Catalogue:
    """Every script the platform offers, by bot type."""

    scripts: Mapping[str, Script] = field(default_factory=dict)

    def script(self, bot_type: str) -> Script | None:
        return self.scripts.get(bot_type)


@dataclass(frozen=True)
class User:
    """A platform user (a follower or a master's owner)."""

    user_id: str
    exchange_id: str
    exchange_user_id: str | None = None
    created_at: int = 0
    bots_started: int = 0
    bots_active: int = 0


@dataclass(frozen=True)
class Exchange:
    id: str
    name: str
    is_spot: bool
    is_leverage: bool


@dataclass(frozen=True)
class Market:
    exchange_id: str
    symbol: str
    name: str = ""
    base_currency: str = ""
    quote_currency: str = ""
    is_spot: bool = True
    is_leverage: bool = False
    is_open: bool = True
