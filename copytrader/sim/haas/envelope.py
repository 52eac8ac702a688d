"""The partner API's response envelope, as aiohttp responses."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def respond(data: Any = None, *, status: int = 200, success: bool = True, code: int = 0,
            message: str = "", headers: dict[str, str] | None = None) -> web.Response:
    """A JSON envelope ``{isSuccess, code, message, data}``."""
    body = {"isSuccess": success, "code": code, "message": message, "data": data}
    return envelope_response(body, status=status, headers=headers)


def envelope_response(body: dict[str, Any], *, status: int = 200,
                      headers: dict[str, str] | None = None) -> web.Response:
    """A response carrying an already built envelope dict."""
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def error(status: int, code: int, message: str,
          headers: dict[str, str] | None = None) -> web.Response:
    """An ``isSuccess: false`` envelope."""
    return respond(None, status=status, success=False, code=code, message=message,
                   headers=headers)
