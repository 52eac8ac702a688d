"""How the BotPrimeX API answers: the object itself on success, an error body otherwise.

Success is HTTP 200 (201 for a create, 204 with no body for a delete). An error is
``{"error": {"code": "<word>", "message": "<text>"}}``, mapped onto :mod:`copytrader.errors`:
401 (a wrong or missing key) is an AuthError; any other 4xx is a PermanentError carrying the
platform's ``code`` (403 ``forbidden``: another account's object; 404 ``not_found``; 400
``invalid_field``, ``immutable_field``, ``bot_running``, ``already_running``,
``already_stopped``, ``exchange_not_connected``...); 5xx is a ServerError (transient). A 429
never gets here (the transport handles it for every platform).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from copytrader.errors import AuthError, MalformedResponseError, PermanentError, ServerError
from copytrader.platform.botprimex.routes import AUTH_HEADER
from copytrader.platform.routes import Route


def _json(raw: bytes) -> tuple[bool, Any]:
    try:
        return True, json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        return False, None


def error_body(raw: bytes) -> tuple[str, str]:
    """``(code, message)`` of an error body; empty strings for whatever is missing."""
    ok, doc = _json(raw)
    err = doc.get("error") if ok and isinstance(doc, dict) else None
    if not isinstance(err, dict):
        return "", ""
    code, message = err.get("code"), err.get("message")
    return (
        code if isinstance(code, str) else "",
        message if isinstance(message, str) else "",
    )


class Answers:
    """The BotPrimeX dialect of :class:`copytrader.platform.transport.Transport`."""

    def auth_headers(self, key: str) -> dict[str, str]:
        """The key as a bearer token."""
        return {AUTH_HEADER: f"Bearer {key}"}

    def read(
        self,
        name: str,
        route: Route,
        status: int,
        raw: bytes,
        body: Mapping[str, Any] | None,
        clean: Callable[[str], str],
    ) -> Any:
        """The decoded object of a 2xx (None for an empty body); the mapped error otherwise."""
        if 200 <= status < 300:
            if not raw.strip():
                return None
            ok, doc = _json(raw)
            if not ok:
                raise MalformedResponseError(
                    f"HTTP {status}: the answer is not JSON", endpoint=name, status=status
                )
            return doc
        code, message = error_body(raw)
        text = clean(message)
        said = f": {text}" if text else ""
        if status == 401:
            raise AuthError(f"API key refused (HTTP 401){said}", endpoint=name, status=status)
        if status >= 500:
            raise ServerError(f"HTTP {status}{said}", endpoint=name, status=status)
        if 400 <= status < 500:
            raise PermanentError(
                text or f"refused (HTTP {status})",
                endpoint=name,
                status=status,
                code=code or f"http_{status}",
            )
        raise MalformedResponseError(f"unexpected HTTP {status}", endpoint=name, status=status)
