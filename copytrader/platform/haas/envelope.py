"""How the HaasOnline partner API answers: the ``{isSuccess, code, message, data}`` envelope.

The envelope is the truth: ``isSuccess: false`` is a PermanentError whatever the HTTP status,
except 401/403 (AuthError) and 5xx (ServerError: the platform says 5xx is transient, envelope
or not). A 429 never gets here (the transport handles it for every platform).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from copytrader.errors import AuthError, MalformedResponseError, PermanentError, ServerError
from copytrader.platform.haas.routes import AUTH_HEADER
from copytrader.platform.routes import Route


def _envelope(raw: bytes) -> dict[str, Any] | None:
    """The decoded envelope, or None when the body is not JSON with a boolean isSuccess."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        return None
    if isinstance(body, dict) and isinstance(body.get("isSuccess"), bool):
        return body
    return None


class Envelope:
    """The HaasOnline dialect of :class:`copytrader.platform.transport.Transport`."""

    def auth_headers(self, key: str) -> dict[str, str]:
        """The key in the ``X-API-Key`` header."""
        return {AUTH_HEADER: key}

    def read(
        self,
        name: str,
        route: Route,
        status: int,
        raw: bytes,
        body: Mapping[str, Any] | None,
        clean: Callable[[str], str],
    ) -> Any:
        """The ``data`` of a successful envelope; the mapped PlatformError otherwise."""
        envelope = _envelope(raw)
        text = envelope.get("message") if envelope is not None else None
        message = ": " + clean(text) if isinstance(text, str) and text else ""
        if status in (401, 403):
            raise AuthError(
                f"API key refused (HTTP {status}){message}", endpoint=name, status=status
            )
        if status >= 500:
            raise ServerError(f"HTTP {status}{message}", endpoint=name, status=status)
        if envelope is None:
            raise MalformedResponseError(
                f"HTTP {status}: the answer is not a JSON envelope", endpoint=name, status=status
            )
        if not envelope["isSuccess"]:
            code = envelope.get("code")
            raise PermanentError(
                clean(text if isinstance(text, str) else ""),
                endpoint=name,
                status=status,
                code=code if isinstance(code, int) and not isinstance(code, bool) else 0,
            )
        if "data" not in envelope:
            raise MalformedResponseError(
                "successful envelope without 'data'", endpoint=name, status=status
            )
        return envelope["data"]
