"""The partner API's route table: every method, path and retry class in one place.

The project's partner-api.md fixes the paths the reference lost; a deployment whose platform
differs edits this table (or passes another mapping to the client), not the client's logic.

Retry classes (:class:`copytrader.platform.routes.Route`): ``bots.edit`` and ``bots.stop``
are idempotent and resent after an ambiguous failure; every other write (``bots.clone``,
``bots.create``, ``bots.start``, ``bots.delete``, ...) is sent at most once per call after the
request may have reached the platform.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from copytrader.platform.routes import Route

__all__ = ["AUTH_HEADER", "ROUTES", "Route"]

#: The header that carries the API key (the reference says only "Authorizations: ApiKey").
AUTH_HEADER = "X-API-Key"


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
