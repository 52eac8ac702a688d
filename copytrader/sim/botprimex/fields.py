"""The checks the platform applies to bot fields (``botprimex-api.md``), as pure functions."""

from __future__ import annotations

import math
from typing import Any

from copytrader.sim.botprimex.errors import BpxError, invalid, refused

STRATEGIES = ("dca", "grid", "signal")
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
EDITABLE = frozenset({"name", "stake_amount", "max_open_trades", "stop_loss", "dry_run"})
IMMUTABLE = frozenset({"exchange", "pair", "strategy"})


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise invalid(f"{key} must be a number, got {value!r}")
    return float(value)


def check(key: str, value: Any) -> Any:
    """``value`` as stored for field ``key``, or BpxError (``invalid_field``) naming it."""
    if key in ("name", "exchange", "pair"):
        if not isinstance(value, str) or not value.strip():
            raise invalid(f"{key} must be a non-empty string")
        return value
    if key == "strategy":
        if value not in STRATEGIES:
            raise invalid(f"strategy must be one of {', '.join(STRATEGIES)}, got {value!r}")
        return value
    if key == "stake_amount":
        n = _number(key, value)
        if n <= 0:
            raise invalid(f"stake_amount must be above 0, got {value!r}")
        return value
    if key == "max_open_trades":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise invalid(f"max_open_trades must be an integer of at least 1, got {value!r}")
        return value
    if key == "stop_loss":
        n = _number(key, value)
        if not -100 <= n < 0:
            raise invalid(f"stop_loss must be in [-100, 0), got {value!r}")
        return value
    if key == "dry_run":
        if not isinstance(value, bool):
            raise invalid(f"dry_run must be true or false, got {value!r}")
        return value
    raise invalid(f"unknown field {key!r}")


def create(body: Any) -> dict[str, Any]:
    """The fields of a create request: all eight, no other (``invalid_field`` otherwise)."""
    if not isinstance(body, dict):
        raise invalid("the body must be a JSON object")
    extra = sorted(set(body) - set(CREATE_FIELDS))
    if extra:
        raise invalid(f"unknown field(s): {', '.join(extra)}")
    missing = [k for k in CREATE_FIELDS if k not in body]
    if missing:
        raise invalid(f"missing field(s): {', '.join(missing)}")
    return {k: check(k, body[k]) for k in CREATE_FIELDS}


def edit(body: Any, status: str) -> dict[str, Any]:
    """The fields of a PATCH: editable ones only (``immutable_field`` for exchange, pair or
    strategy, even unchanged), ``dry_run`` only while the bot is not running."""
    if not isinstance(body, dict) or not body:
        raise invalid("the body must be a JSON object naming at least one field")
    for key in body:
        if key in IMMUTABLE:
            raise refused("immutable_field", f"{key} cannot be changed once the bot exists")
        if key not in EDITABLE:
            raise invalid(f"unknown field {key!r}")
    if "dry_run" in body and status == "running":
        raise refused("bot_running", "dry_run can only be changed while the bot is stopped")
    return {k: check(k, v) for k, v in body.items()}


def page_limit(raw: str | None, most: int = 100) -> int:
    """A page's ``limit``: 1..100, default 100."""
    if raw is None or raw == "":
        return most
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"limit must be an integer, got {raw!r}") from None
    if not 1 <= value <= most:
        raise invalid(f"limit must be between 1 and {most}, got {value}")
    return value


__all__ = ["BpxError", "check", "create", "edit", "page_limit"]
