"""Reading the fields of a platform's JSON answer (both platforms' ``parse`` modules).

Tolerant where a platform may be sloppy (a number given as a string, a missing counter),
strict where a wrong guess would do harm: a missing id or a value that is not a scalar
raises :class:`~copytrader.errors.MalformedResponseError` naming the endpoint and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from copytrader.core.model import Scalar
from copytrader.errors import MalformedResponseError


def bad(endpoint: str, what: str) -> MalformedResponseError:
    """The error for an answer of ``endpoint`` that is not what the API describes."""
    return MalformedResponseError(what, endpoint=endpoint)


def mapping(endpoint: str, raw: object, what: str) -> Mapping[str, Any]:
    """``raw`` when it is a JSON object; else the error naming ``what`` it should be."""
    if not isinstance(raw, dict):
        raise bad(endpoint, f"{what}: expected an object, got {type(raw).__name__}")
    return raw


def required_str(endpoint: str, raw: Mapping[str, Any], key: str, what: str) -> str:
    """The non-empty string at ``key``; else the error naming ``what`` lacks it."""
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise bad(endpoint, f"{what} without {key!r}")
    return value


def number(value: object) -> float:
    """A float from a number or a numeric string; 0.0 for anything else (never raises)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 0.0
    try:
        return float(value)
    except ValueError:
        return 0.0


def scalar(endpoint: str, value: object, what: str) -> Scalar:
    """``value`` when it is a JSON scalar (null included); else the error naming ``what``."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise bad(endpoint, f"{what}: expected a scalar, got {type(value).__name__}")
