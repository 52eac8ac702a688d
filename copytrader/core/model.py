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

from copytrader.core import words

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
    """A bot's run state. Anything the platform sends that is not known maps to UNKNOWN.

    ERROR is a platform's own word for a bot a fault stopped (BotPrimeX's ``error``): like
    UNKNOWN, a clone in it is reported and neither started nor stopped on a guess.
    """

    RUNNING = "running"
    STOPPED = "stopped"
    ERROR = "error"
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
    #: The mark copytrader left on a clone it made, as the platform shows it (BotPrimeX:
    #: the ``[ct:H]`` tag of its name, see :mod:`copytrader.core.tags`); "" when none.
    mark: str = ""


@dataclass(frozen=True)
class SweepPart:
    """One part of a platform's sweep: every bot of the users it covers.

    A platform hands its sweep over in parts (:meth:`Platform.sweep`): the first part holds
    every master bot; ``users`` None means the part covers every user (a platform read in
    one part). ``error`` says why a part could not be read (its users' bots are unknown this
    pass: nothing is planned for them); "" when it was read.
    """

    bots: Mapping[str, Bot]
    users: frozenset[str] | None = None
    error: str = ""

    def covers(self, user: str) -> bool:
        """Whether this part holds every bot of ``user``."""
        return self.users is None or user in self.users


class SettingType(enum.StrEnum):
    STRING = "string"
    NUMBER = "number"
    OPTION = "option"
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class Bounds:
    """The values a number setting may take: ``low`` and ``high`` (each open or closed, or
    absent), whole numbers only when ``whole``."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    whole: bool = False

    def refusal(self, key: str, value: float | int) -> str | None:
        """Why ``value`` is out of bounds for ``key``, or None when it is in."""
        if self.whole and not float(value).is_integer():
            return f"{key}: must be a whole number, got {words.show(value)}"
        low, high = self.low, self.high
        if low is not None and (value < low or (self.low_open and value == low)):
            side = "above" if self.low_open else "at least"
            return f"{key}: must be {side} {low:g}, got {words.show(value)}"
        if high is not None and (value > high or (self.high_open and value == high)):
            side = "below" if self.high_open else "at most"
            return f"{key}: must be {side} {high:g}, got {words.show(value)}"
        return None


@dataclass(frozen=True)
class SettingSpec:
    """One setting of a script: its type, default, legal options and editability.

    ``overridable`` False: the value always follows the master (a policy may not override,
    scale or limit it; BotPrimeX's ``name``, which carries copytrader's tag). ``stopped_only``:
    the platform edits it only while the bot is stopped (BotPrimeX's ``dry_run``), so a
    running clone is stopped, edited and started again. ``bounds``: the numbers the platform
    accepts, checked against a policy's values.
    """

    key: str
    type: SettingType
    default: Scalar
    can_be_edited: bool
    options: tuple[str, ...] = ()
    name: str = ""
    group: str = ""
    description: str = ""
    overridable: bool = True
    stopped_only: bool = False
    bounds: Bounds | None = None


@dataclass(frozen=True)
class Script:
    """A bot type's catalogue entry: the settings a bot of that type has.

    ``follow_updates``: the platform can make a copy that follows its master's later edits
    by itself (HaasOnline's ``followUpdates``); False where it cannot (BotPrimeX), so every
    clone is carried by copytrader whatever the policy's ``propagation``.
    """

    type: str
    name: str
    settings: tuple[SettingSpec, ...]
    description: str = ""
    follow_updates: bool = True

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
    """A platform user (a follower or a master's owner).

    A HaasOnline user trades on one exchange (``exchange_id``). A BotPrimeX account connects
    several (``exchanges``; None while they were not read, as in a pass: then the platform
    refuses a clone on an exchange it lacks). ``refused``: why the platform would not serve
    this user when it was checked (a follower account whose key is refused); "" when fine.
    """

    user_id: str
    exchange_id: str
    exchange_user_id: str | None = None
    created_at: int = 0
    bots_started: int = 0
    bots_active: int = 0
    exchanges: frozenset[str] | None = None
    refused: str = ""

    def exchange_refusal(self, exchange: str) -> str | None:
        """Why a bot on ``exchange`` cannot be this user's, or None when it can (or when
        that is not known)."""
        if self.exchanges is not None:
            if exchange in self.exchanges:
                return None
            have = ", ".join(sorted(self.exchanges)) or "none"
            return (
                f"follower account {self.user_id} has not connected exchange {exchange} "
                f"(connected: {have})"
            )
        if self.exchange_id and self.exchange_id != exchange:
            return (
                f"follower user {self.user_id} is on exchange {self.exchange_id}, "
                f"the master on {exchange}"
            )
        return None


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
