"""Checks the platform applies to bot settings, as pure functions over the catalogue."""

from __future__ import annotations

from typing import Any

from copytrader.sim.haas import catalogue


class SimError(ValueError):
    """A request the platform refuses: becomes an ``isSuccess: false`` envelope.

    ``http`` is the HTTP status the simulator answers with (the envelope is the truth).
    """

    def __init__(self, code: int, message: str, *, http: int = 200) -> None:
        self.code = code
        self.message = message
        self.http = http
        super().__init__(message)


# Business error codes (clients must not depend on them; tests may).
INVALID = 1000
REJECTED = 1001
NOT_FOUND = 1002
CONFLICT = 1003
NOT_EDITABLE = 1004


def invalid(message: str) -> SimError:
    """A malformed or invalid request (HTTP 400)."""
    return SimError(INVALID, message, http=400)


def not_found(what: str, ident: object) -> SimError:
    """An unknown bot, user or backtest (HTTP 404)."""
    return SimError(NOT_FOUND, f"{what} {ident} not found", http=404)


def conflict(message: str) -> SimError:
    """A valid request the current state refuses (HTTP 200, isSuccess false)."""
    return SimError(CONFLICT, message)


def check_type(bot_type: object) -> str:
    """``bot_type`` if it names a script, else SimError."""
    if not isinstance(bot_type, str) or bot_type not in catalogue.SPECS_BY_TYPE:
        raise invalid(f"unknown bot type {bot_type!r}")
    return bot_type


def _value_ok(spec: dict[str, Any], value: object) -> bool:
    kind = spec["type"]
    if kind == "number":
        if isinstance(value, bool):
            return False
        if isinstance(value, int | float):
            return True
        # The platform itself sends numbers as strings at times ("0"): accept numeric text.
        if isinstance(value, str):
            try:
                float(value)
            except ValueError:
                return False
            return True
        return False
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "option":
        return isinstance(value, str) and value in spec["options"]
    return isinstance(value, str)


def check_settings(bot_type: str, settings: object, *, editing: bool = False) -> dict[str, Any]:
    """``settings`` as a dict when every key exists in the script with a legal value.

    With ``editing``, a key whose spec says ``canBeEdited: false`` is refused too. The message
    names the first offending key.
    """
    if settings is None:
        return {}
    if not isinstance(settings, dict):
        raise invalid("settings must be an object")
    specs = catalogue.SPECS_BY_TYPE[bot_type]
    for key, value in settings.items():
        spec = specs.get(key)
        if spec is None:
            raise invalid(f"unknown setting {key!r} for {bot_type}")
        if not _value_ok(spec, value):
            if spec["type"] == "option":
                raise invalid(
                    f"setting {key!r}: {value!r} is not one of {', '.join(spec['options'])}"
                )
            raise invalid(f"setting {key!r}: expected a {spec['type']}, got {value!r}")
        if editing and not spec["canBeEdited"]:
            raise SimError(NOT_EDITABLE, f"setting {key!r} cannot be edited once the bot exists")
    return dict(settings)


def number(value: object, default: float = 0.0) -> float:
    """A setting value as a float (numbers may arrive as numeric strings)."""
    if isinstance(value, bool) or value is None:
        return default
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return default


def page_limit(value: object) -> int:
    """A pagination ``limit``: -1 (or absent) means 10,000; else 1..10,000."""
    if value is None:
        return 10_000
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid("limit must be an integer")
    if value == -1:
        return 10_000
    if not 1 <= value <= 10_000:
        raise invalid("limit must be -1 or between 1 and 10000")
    return value


def required_str(body: dict[str, Any], key: str) -> str:
    """``body[key]`` when it is a non-empty string, else SimError naming the key."""
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise invalid(f"{key} is required")
    return value
