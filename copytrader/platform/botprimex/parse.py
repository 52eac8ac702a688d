"""The BotPrimeX API's JSON mapped to :mod:`copytrader.core.model` values.

Tolerant where the API may be sloppy: values are kept as sent (normalising is the core's
job), a status other than ``running``, ``stopped`` or ``error`` is ``Status.UNKNOWN``, extra
fields are ignored, missing profit is 0. Strict where a wrong guess would do harm: a bot
without ``id``, ``strategy``, ``exchange`` or ``pair``, a field that is not a scalar, or a
page without a ``data`` list or a ``next_cursor`` raises :class:`MalformedResponseError`
naming the endpoint and the field.

A bot's ``name`` is read without copytrader's tag: the tag becomes :attr:`Bot.mark` and the
name the master's name, so a clone's ``name`` compares equal to its master's.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from copytrader.core.model import Bot, Status, frozen_settings
from copytrader.core.tags import TAG_LENGTH
from copytrader.platform import fields
from copytrader.platform.botprimex.catalogue import CREATE_FIELDS

#: `` [ct:H]`` at the end of a name.
_TAG = re.compile(rf"^(?P<name>.*) \[ct:(?P<tag>[0-9a-f]{{{TAG_LENGTH}}})\]$", re.DOTALL)
_STATUS = {"running": Status.RUNNING, "stopped": Status.STOPPED, "error": Status.ERROR}


def tagged(name: str, tag: str) -> str:
    """The name of a clone: the master's name, a space and ``[ct:<tag>]``."""
    return f"{name} [ct:{tag}]"


def untagged(name: str) -> tuple[str, str]:
    """``(name without the tag, tag)``; the tag is "" when the name carries none."""
    match = _TAG.match(name)
    if match is None:
        return name, ""
    return match.group("name"), match.group("tag")


def _epoch(value: object) -> int:
    """Unix seconds of an ISO 8601 time (``Z`` or an offset); 0 when unreadable."""
    if not isinstance(value, str):
        return 0
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


def page(endpoint: str, data: object) -> tuple[list[Any], str | None]:
    """``(items, next_cursor)`` of a page; ``next_cursor`` None on the last page."""
    raw = fields.mapping(endpoint, data, "page")
    items = raw.get("data")
    if not isinstance(items, list):
        raise fields.bad(endpoint, "page without a 'data' list")
    if "next_cursor" not in raw:
        # Absent is not null: ending here could silently drop the rest of the listing.
        raise fields.bad(endpoint, "page without 'next_cursor'")
    cursor = raw["next_cursor"]
    if cursor is not None and not isinstance(cursor, str):
        raise fields.bad(endpoint, "page 'next_cursor' is neither a string nor null")
    return items, cursor or None


def bot(endpoint: str, data: object, account: str) -> Bot:
    """A Bot of ``account``; raises MalformedResponseError without id, strategy, exchange
    or pair."""
    raw = fields.mapping(endpoint, data, "bot")
    bot_id = fields.required_str(endpoint, raw, "id", "bot")
    strategy = fields.required_str(endpoint, raw, "strategy", f"bot {bot_id}")
    exchange = fields.required_str(endpoint, raw, "exchange", f"bot {bot_id}")
    fields.required_str(endpoint, raw, "pair", f"bot {bot_id}")
    settings = {
        key: fields.scalar(endpoint, raw[key], f"bot {bot_id} field {key!r}")
        for key in CREATE_FIELDS
        if key in raw
    }
    given = settings.get("name")
    mark = ""
    if isinstance(given, str):
        settings["name"], mark = untagged(given)
    status = raw.get("status")
    return Bot(
        bot_id=bot_id,
        user_id=account,
        type=strategy,
        exchange_id=exchange,
        status=_STATUS.get(status, Status.UNKNOWN) if isinstance(status, str) else Status.UNKNOWN,
        settings=frozen_settings(settings),
        created_at=_epoch(raw.get("created_at")),
        profit=fields.number(raw.get("profit_usd")),
        roi=fields.number(raw.get("profit_pct")),
        mark=mark,
    )


def account(endpoint: str, data: object) -> tuple[str, str, int | None]:
    """``(id, plan, rate_limit_per_minute)`` of an Account; the limit None when absent."""
    raw = fields.mapping(endpoint, data, "account")
    account_id = fields.required_str(endpoint, raw, "id", "account")
    plan = raw.get("plan")
    limit = raw.get("rate_limit_per_minute")
    ok = isinstance(limit, int) and not isinstance(limit, bool) and limit > 0
    return account_id, plan if isinstance(plan, str) else "", limit if ok else None


def exchanges(endpoint: str, data: object) -> frozenset[str]:
    """The exchanges an account has connected (``GET /exchanges``)."""
    raw = fields.mapping(endpoint, data, "exchanges")
    items = raw.get("data")
    if not isinstance(items, list):
        raise fields.bad(endpoint, "exchanges without a 'data' list")
    found = set()
    for item in items:
        connection = fields.mapping(endpoint, item, "exchange")
        found.add(fields.required_str(endpoint, connection, "exchange", "exchange connection"))
    return frozenset(found)
