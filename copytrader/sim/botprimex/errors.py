"""Refusals of the simulated BotPrimeX API: ``{"error": {"code", "message"}}`` bodies."""

from __future__ import annotations

import json

from aiohttp import web


class BpxError(Exception):
    """A request the platform refuses: HTTP ``status`` with the error ``code``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(message)


def invalid(message: str) -> BpxError:
    return BpxError(400, "invalid_field", message)


def refused(code: str, message: str) -> BpxError:
    """A valid request the bot's state refuses (HTTP 400 with ``code``)."""
    return BpxError(400, code, message)


def not_found(what: str, ident: str) -> BpxError:
    return BpxError(404, "not_found", f"no such {what}: {ident}")


def forbidden(what: str, ident: str) -> BpxError:
    return BpxError(403, "forbidden", f"{what} {ident} belongs to another account")


def response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """The error body as an aiohttp response."""
    body = {"error": {"code": code, "message": message}}
    return web.Response(
        body=json.dumps(body).encode(),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def ok(data: object, status: int = 200) -> web.Response:
    """A success: the object itself (no body for 204)."""
    if status == 204:
        return web.Response(status=204)
    return web.Response(
        body=json.dumps(data, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
    )
