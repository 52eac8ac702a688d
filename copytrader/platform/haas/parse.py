"""The partner API's JSON mapped to :mod:`copytrader.core.model` values.

Tolerant where the reference is sloppy: values are kept as sent (``"0"`` for a number stays
``"0"``; normalising is the core's job), an unknown status is ``Status.UNKNOWN``, extra
fields are ignored, a missing counter is 0. Strict where a wrong guess would do harm: a bot
without ``botId``, ``userId``, ``type`` or a ``settings`` object, a setting value that is
not a scalar, or a page without ``items`` raises :class:`MalformedResponseError` naming the
endpoint and the field.
"""

from __future__ import annotations

from typing import Any

from copytrader.core.model import (
    Bot,
    Catalogue,
    Exchange,
    Market,
    Script,
    SettingSpec,
    SettingType,
    Status,
    User,
    frozen_settings,
)
from copytrader.platform import fields

Page = tuple[list[Any], str | None]


def _str(value: object, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _int(value: object) -> int:
    number = fields.number(value)
    return int(number) if number == number and abs(number) != float("inf") else 0


def _bool(value: object, default: bool) -> bool:
    return value if isinstance(value, bool) else default


def page(endpoint: str, data: object) -> Page:
    """``(items, nextPageId)`` of a page; ``nextPageId`` None on the last page."""
    raw = fields.mapping(endpoint, data, "page")
    items = raw.get("items")
    if not isinstance(items, list):
        raise fields.bad(endpoint, "page without an 'items' list")
    if "nextPageId" not in raw:
        # Absent is not null: ending here could silently drop the rest of the listing.
        raise fields.bad(endpoint, "page without 'nextPageId'")
    token = raw["nextPageId"]
    if token is not None and not isinstance(token, str):
        raise fields.bad(endpoint, "page 'nextPageId' is neither a string nor null")
    return items, token


def bot(endpoint: str, data: object) -> Bot:
    """A Bot; raises MalformedResponseError without botId, userId, type or settings."""
    raw = fields.mapping(endpoint, data, "bot")
    bot_id = fields.required_str(endpoint, raw, "botId", "bot")
    user_id = fields.required_str(endpoint, raw, "userId", f"bot {bot_id}")
    bot_type = fields.required_str(endpoint, raw, "type", f"bot {bot_id}")
    settings = raw.get("settings")
    if not isinstance(settings, dict):
        raise fields.bad(endpoint, f"bot {bot_id} without a 'settings' object")
    return Bot(
        bot_id=bot_id,
        user_id=user_id,
        type=bot_type,
        exchange_id=_str(raw.get("exchangeId")),
        status=Status.parse(raw.get("status")),
        settings=frozen_settings(
            {
                str(k): fields.scalar(endpoint, v, f"bot {bot_id} setting {k!r}")
                for k, v in settings.items()
            }
        ),
        master_bot_id=_str(raw.get("masterBotId")),
        created_at=_int(raw.get("createdAt")),
        profit=fields.number(raw.get("profit")),
        roi=fields.number(raw.get("roi")),
        cloned=_int(raw.get("cloned")),
        followers=_int(raw.get("followers")),
    )


def _setting_type(value: object) -> SettingType:
    try:
        return SettingType(str(value))
    except ValueError:
        # A type this client does not know is compared as the platform sends it.
        return SettingType.STRING


def setting_spec(endpoint: str, data: object, script_type: str) -> SettingSpec:
    """One setting of a script; its key is required, the rest defaults sensibly."""
    raw = fields.mapping(endpoint, data, f"script {script_type} setting")
    key = fields.required_str(endpoint, raw, "key", f"script {script_type} setting")
    options = raw.get("options")
    return SettingSpec(
        key=key,
        type=_setting_type(raw.get("type")),
        default=fields.scalar(endpoint, raw.get("value"), f"script {script_type} setting {key!r}"),
        # Missing editability: assume editable, so the platform (not a guess) refuses an edit.
        can_be_edited=_bool(raw.get("canBeEdited"), True),
        options=tuple(str(o) for o in options) if isinstance(options, list) else (),
        name=_str(raw.get("name")),
        group=_str(raw.get("group")),
        description=_str(raw.get("description")),
    )


def script(endpoint: str, data: object) -> Script:
    """A Script; its type and a settings list are required."""
    raw = fields.mapping(endpoint, data, "script")
    script_type = fields.required_str(endpoint, raw, "type", "script")
    settings = raw.get("settings")
    if not isinstance(settings, list):
        raise fields.bad(endpoint, f"script {script_type} without a 'settings' list")
    return Script(
        type=script_type,
        name=_str(raw.get("name"), script_type),
        settings=tuple(setting_spec(endpoint, s, script_type) for s in settings),
        description=_str(raw.get("description")),
    )


def catalogue(endpoint: str, data: object) -> Catalogue:
    """Every script by type, from the list GET /scripts returns."""
    if not isinstance(data, list):
        raise fields.bad(endpoint, f"scripts: expected a list, got {type(data).__name__}")
    scripts = [script(endpoint, item) for item in data]
    return Catalogue(scripts={s.type: s for s in scripts})


def user(endpoint: str, data: object) -> User:
    """A User; userId is required."""
    raw = fields.mapping(endpoint, data, "user")
    exchange_user_id = raw.get("exchangeUserId")
    return User(
        user_id=fields.required_str(endpoint, raw, "userId", "user"),
        exchange_id=_str(raw.get("exchangeId")),
        exchange_user_id=exchange_user_id if isinstance(exchange_user_id, str) else None,
        created_at=_int(raw.get("createdAt")),
        bots_started=_int(raw.get("botsStarted")),
        bots_active=_int(raw.get("botsActive")),
    )


def exchange(endpoint: str, data: object) -> Exchange:
    """An Exchange; its id is required."""
    raw = fields.mapping(endpoint, data, "exchange")
    exchange_id = fields.required_str(endpoint, raw, "id", "exchange")
    return Exchange(
        id=exchange_id,
        name=_str(raw.get("name"), exchange_id),
        is_spot=_bool(raw.get("isSpot"), False),
        is_leverage=_bool(raw.get("isLeverage"), False),
    )


def market(endpoint: str, data: object) -> Market:
    """A Market; exchangeId and symbol are required."""
    raw = fields.mapping(endpoint, data, "market")
    return Market(
        exchange_id=fields.required_str(endpoint, raw, "exchangeId", "market"),
        symbol=fields.required_str(endpoint, raw, "symbol", "market"),
        name=_str(raw.get("name")),
        base_currency=_str(raw.get("baseCurrency")),
        quote_currency=_str(raw.get("quoteCurrency")),
        is_spot=_bool(raw.get("isSpot"), True),
        is_leverage=_bool(raw.get("isLeverage"), False),
        is_open=_bool(raw.get("isOpen"), True),
    )


def listing(endpoint: str, data: object, what: str) -> list[Any]:
    """A plain list (exchanges, markets); raises when ``data`` is not a list."""
    if not isinstance(data, list):
        raise fields.bad(endpoint, f"{what}: expected a list, got {type(data).__name__}")
    return data
