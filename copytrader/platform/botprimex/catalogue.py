"""BotPrimeX's bot fields as a catalogue, so the core treats them like HaasOnline's scripts.

BotPrimeX has no script catalogue to read: its bots have the same eight fields whatever the
strategy (``botprimex-api.md``). Each strategy (``dca``, ``grid``, ``signal``) is a script of
those fields, so overrides, scale, limits, locked keys and ``on_immutable_change`` work as
they do on HaasOnline:

- editable: ``stake_amount`` (above 0), ``max_open_trades`` (a whole number, at least 1),
  ``stop_loss`` (a negative percent, -100 up to but not including 0), ``dry_run`` (only while
  the bot is stopped: a running clone is stopped, edited and started again), ``name``;
- immutable (a change needs a new bot, per ``on_immutable_change``): ``exchange``, ``pair``,
  ``strategy``;
- ``name`` follows the master and may not be overridden: it carries copytrader's tag
  (:mod:`copytrader.core.tags`), added and stripped by the client.

No request reads it, and no platform link makes a copy follow its master
(``follow_updates`` False): every clone is carried by copytrader.
"""

from __future__ import annotations

from copytrader.core.model import Bounds, Catalogue, Script, SettingSpec, SettingType

STRATEGIES = ("dca", "grid", "signal")

#: The fields ``POST /bots`` requires (and accepts), in the documented order.
CREATE_FIELDS = (
    "name",
    "exchange",
    "pair",
    "strategy",
    "stake_amount",
    "max_open_trades",
    "stop_loss",
    "dry_run",
)

S, N, B, OPT = SettingType.STRING, SettingType.NUMBER, SettingType.BOOLEAN, SettingType.OPTION

SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "name",
        S,
        "",
        True,
        name="Name",
        description="the master's name; a clone's carries copytrader's tag [ct:H]",
        overridable=False,
    ),
    SettingSpec("exchange", S, "", False, name="Exchange"),
    SettingSpec("pair", S, "", False, name="Pair"),
    SettingSpec("strategy", OPT, "dca", False, STRATEGIES, name="Strategy"),
    SettingSpec(
        "stake_amount",
        N,
        0,
        True,
        name="Stake amount",
        description="quote currency per trade",
        bounds=Bounds(low=0, low_open=True),
    ),
    SettingSpec(
        "max_open_trades",
        N,
        1,
        True,
        name="Max open trades",
        bounds=Bounds(low=1, whole=True),
    ),
    SettingSpec(
        "stop_loss",
        N,
        -10,
        True,
        name="Stop loss",
        description="a negative percent",
        bounds=Bounds(low=-100, high=0, high_open=True),
    ),
    SettingSpec(
        "dry_run",
        B,
        False,
        True,
        name="Dry run",
        description="paper trading; edited only while the bot is stopped",
        stopped_only=True,
    ),
)

CATALOGUE = Catalogue(
    {
        strategy: Script(
            strategy,
            f"BotPrimeX {strategy} bot",
            SETTINGS,
            description=f"a BotPrimeX bot with the {strategy} strategy",
            follow_updates=False,
        )
        for strategy in STRATEGIES
    }
)
