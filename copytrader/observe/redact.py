"""A structlog processor that masks secrets anywhere in an event, however deeply nested.

Two rules: a value under a key that names a secret (``api_key``, ``X-API-Key``, ``password``,
``secretKey``, ``token``, ``authorization``...) becomes ``"***"``; and every registered secret
(the CLI registers the partner API key at start-up) is cut out of any string it appears in.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, MutableMapping
from typing import Any

MASK = "***"
#: Registered secrets shorter than this are ignored: masking "a" would shred every line.
MIN_SECRET_LENGTH = 4

# Compared after lower-casing and dropping "-" and "_": api_key, apiKey, X-API-Key, ...
_SECRET_KEYS = frozenset(
    {
        "apikey",
        "xapikey",
        "secret",
        "secretkey",
        "publickey",
        "password",
        "passwd",
        "token",
        "accesstoken",
        "refreshtoken",
        "httptoken",
        "authorization",
        "proxyauthorization",
        "extrakey",
        "passphrase",
        "cookie",
        "setcookie",
    }
)

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()


def register_secret(value: str) -> None:
    """Mask ``value`` wherever it appears in a later log event (idempotent)."""
    global _secrets
    if len(value) < MIN_SECRET_LENGTH:
        return
    with _lock:
        if value not in _secrets:
            # Longest first, so a secret containing another is masked whole.
            _secrets = tuple(sorted((*_secrets, value), key=len, reverse=True))


def clear_secrets() -> None:
    """Forget every registered secret (for tests and re-configuration)."""
    global _secrets
    with _lock:
        _secrets = ()


def is_secret_key(key: object) -> bool:
    """True when ``key`` names a credential (case, ``-`` and ``_`` do not matter)."""
    if not isinstance(key, str):
        return False
    return key.lower().replace("-", "").replace("_", "") in _SECRET_KEYS


def mask_text(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact(value: Any) -> Any:
    """A copy of ``value`` with secrets masked: mappings, lists, tuples and sets recursively."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: MASK if is_secret_key(k) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, tuple):
        return tuple(redact(v) for v in value)
    if isinstance(value, set | frozenset):
        return {redact(v) for v in value}
    if isinstance(value, bytes):
        return mask_text(value.decode("utf-8", "replace")).encode("utf-8")
    if value is None or isinstance(value, int | float):
        return value
    # Anything else is rendered with repr() later (exceptions, URLs...): check that text.
    if _secrets:
        shown = repr(value)
        masked = mask_text(shown)
        if masked != shown:
            return masked
    return value


def processor(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """The structlog processor: mask the whole event dict in place and return it."""
    for key in list(event_dict):
        event_dict[key] = MASK if is_secret_key(key) else redact(event_dict[key])
    return event_dict
