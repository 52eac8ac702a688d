"""The health and metrics endpoint: ``GET /healthz`` and ``GET /metrics`` on aiohttp.

Bound to a loopback address it is open; bound anywhere else every request must carry
``Authorization: Bearer <COPYTRADER_HTTP_TOKEN>`` (compared in constant time), and the daemon
refuses to start without a token. There is no access log, so no header (and no path: a
webhook's path holds its secret) reaches a log line. Webhook routes (under ``/webhooks/``)
carry their own secret in the path and skip the bearer check; a body the handler did not
read is never drained ("lingering"): the connection is closed instead.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from copytrader.errors import ConfigError
from copytrader.settings import Secret

HealthCheck = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]
Render = Callable[[], bytes]
AddRoutes = Callable[[web.Application], None]
#: Paths that authenticate themselves (a secret in the path), not with the bearer token.
OPEN_PREFIX = "/webhooks/"


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IPs (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def require_token(host: str, token: Secret) -> Secret | None:
    """The token the endpoint must demand (None: open), or ConfigError when one is missing."""
    if is_loopback(host):
        return token if token else None
    if not token:
        raise ConfigError(
            "COPYTRADER_HTTP_TOKEN: required when COPYTRADER_HTTP_LISTEN is not a loopback "
            f"address (it is {host!r}); set a long random token, or listen on 127.0.0.1"
        )
    return token


def _authorised(request: web.Request, token: Secret) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.reveal().encode())


class _NoRequestBytes(logging.Filter):
    """aiohttp logs a malformed request at error level with its exception, whose text quotes
    the request line (and a webhook's path holds its secret): keep one warning line with the
    exception's class, never the bytes. A scanner's garbage is not an error of copytrader's."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            record.msg = f"malformed HTTP request refused ({type(exc).__name__}): {record.msg}"
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_FILTER = _NoRequestBytes()


class HttpEndpoint:
    """The aiohttp server; :meth:`start` returns once it listens, :attr:`url` says where."""

    def __init__(self, host: str, port: int, token: Secret | None, *,
                 health: HealthCheck, metrics: Render, content_type: str,
                 extra_routes: AddRoutes | None = None) -> None:
        self.host = host
        self.port = port
        self._token = token
        self._health = health
        self._metrics = metrics
        self._content_type = content_type
        self._extra_routes = extra_routes
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _app(self) -> web.Application:
        @web.middleware
        async def auth(request: web.Request,
                       handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                       ) -> web.StreamResponse:
            if (self._token is not None and not request.path.startswith(OPEN_PREFIX)
                    and not _authorised(request, self._token)):
                return web.json_response({"status": "unauthorised",
                                          "reason": "a bearer token is required"},
                                         status=401, headers={"WWW-Authenticate": "Bearer"})
            return await handler(request)

        app = web.Application(middlewares=[auth])
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._render_metrics)
        if self._extra_routes is not None:
            self._extra_routes(app)
        return app

    async def _healthz(self, _request: web.Request) -> web.Response:
        ok, doc = await self._health()
        return web.Response(text=json.dumps(doc, default=str), status=200 if ok else 503,
                            content_type="application/json")

    async def _render_metrics(self, _request: web.Request) -> web.Response:
        body = self._metrics()
        # prometheus' content type carries parameters aiohttp will not take via content_type=.
        return web.Response(body=body, headers={"Content-Type": self._content_type})

    async def start(self) -> None:
        """Listen on ``host:port`` (port 0: a free one, then in :attr:`port`).

        Raises ConfigError naming COPYTRADER_HTTP_LISTEN when the address cannot be bound.
        """
        server_log = logging.getLogger("aiohttp.server")
        if _FILTER not in server_log.filters:
            server_log.addFilter(_FILTER)
        runner = web.AppRunner(self._app(), access_log=None, shutdown_timeout=1.0,
                               lingering_time=0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ConfigError(
                f"COPYTRADER_HTTP_LISTEN: cannot listen on {self.host}:{self.port}: "
                f"{exc.strerror or exc}"
            ) from None
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
