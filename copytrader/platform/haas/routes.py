"""The partner API's route table: every method, path and retry class in one place.

The project's partner-api.md fixes the paths the reference lost; a deployment whose platform
differs edits this table (or passes another mapping to the client), not the client's logic.

Retry classes: a *read* changes nothing and is always resent. An *idempotent* write
(``bots.edit``, ``bots.stop``) has the same effect done twice, so it is resent after an
ambiguous failure (a timeout, a 5xx, a connection dropped after sending). Every other write
(``bots.clone``, ``bots.create``, ``bots.start``, ``bots.delete``, ...) is sent at most once
per call after the request may have reached the platform: the caller checks or adopts on its
next pass. Any request is resent after a 429 or a refused connection, since neither was
processed.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple
from urllib.parse import quote

#: The header that carries the API key (the reference says only "Authorizations: ApiKey").
AUTH_HEADER = "X-API-Key"


class Route(NamedTuple):
    """One endpoint: how to call it and whether a failed call may be sent again."""

    method: str
    path: str
    #: Same effect when done twice: resent after an ambiguous failure.
    idempotent: bool
    #: Changes nothing on the platform.
    read: bool = False
    #: The request body carries a user's exchange secrets: never log or echo it.
    secret_body: bool = False

    @property
    def retry_safe(self) -> bool:
        """Whether the request may be resent after it may have reached the platform."""
        return self.read or self.idempotent

    def url_path(self, params: Mapping[str, str] | None = None) -> str:
        """The path with ``{name}`` placeholders filled in, each value URL-quoted."""
        if not params:
            return self.path
        return self.path.format_map({k: quote(v, safe="") for k, v in params.items()})


def _read(method: str, path: str) -> Route:
    return Route(method, path, idempotent=True, read=True)


def _idempotent(path: str) -> Route:
    return Route("POST", path, idempotent=True)


def _once(path: str, *, secret_body: bool = False) -> Route:
    return Route("POST", path, idempotent=False, secret_body=secret_body)


ROUTES: Mapping[str, Route] = MappingProxyType(
    {
        "bots.list": _read("POST", "/bots/list"),
        "bots.user": _read("POST", "/bots/user"),
        "bots.bot": _read("POST", "/bots/bot"),
        "bots.create": _once("/bots/create"),
        "bots.edit": _idempotent("/bots/edit"),
        "bots.clone": _once("/bots/clone"),
        "bots.start": _once("/bots/start"),
        "bots.stop": _idempotent("/bots/stop"),
        "bots.preview": _read("POST", "/bots/preview"),
        "bots.delete": _once("/bots/delete"),
        "bots.orders": _read("POST", "/bots/orders"),
        "bots.logs": _read("POST", "/bots/logs"),
        "bots.positions": _read("POST", "/bots/positions"),
        "bots.positions.closed": _read("POST", "/bots/positions/closed"),
        "bots.positions.orders": _read("POST", "/bots/positions/orders"),
        "backtest.run": _once("/bots/backtest"),
        "backtest.status": _read("GET", "/bots/backtest/{backtestId}/status"),
        "backtest.results": _read("GET", "/bots/backtest/{backtestId}/results"),
        "backtest.logs": _read("GET", "/bots/backtest/{backtestId}/logs"),
        "backtest.positions": _read("GET", "/bots/backtest/{backtestId}/positions"),
        "backtest.cancel": _once("/bots/backtest/{backtestId}/cancel"),
        "exchanges.list": _read("GET", "/exchanges"),
        "markets.list": _read("GET", "/markets"),
        "scripts.list": _read("GET", "/scripts"),
        "scripts.script": _read("POST", "/scripts/script"),
        "signals.signal": _read("POST", "/signals/signal"),
        "signals.send": _once("/signals/send"),
        "users.list": _read("POST", "/users/list"),
        "users.user": _read("POST", "/users/user"),
        "users.create": _once("/users/create", secret_body=True),
        "users.delete": _once("/users/delete"),
    }
)
