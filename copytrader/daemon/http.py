"""The daemon's listener: ``GET /healthz``, ``GET /metrics`` and the dashboard on aiohttp.

Bound to a loopback address it is open; bound anywhere else every request must carry
``Authorization: Bearer <COPYTRADER_HTTP_TOKEN>`` (compared in constant time) or the
dashboard's session cookie, and the daemon refuses to start without a token
(:mod:`copytrader.web.auth`). There is no access log, so no header (and no path: a webhook's
path holds its secret) reaches a log line. Webhook routes (under ``/webhooks/``) carry their
own secret in the path (``extra_routes``); a body the handler did not read is never drained
("lingering"): the connection is closed instead.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from copytrader.errors import ConfigError
from copytrader.settings import Secret
from copytrader.web import app as web_app
from copytrader.web import auth, headers
from copytrader.web.auth import is_loopback, require_token
from copytrader.web.dashboard import Dashboard

__all__ = ["HttpEndpoint", "is_loopback", "require_token"]

HealthCheck = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]
Render = Callable[[], bytes]
AddRoutes = Callable[[web.Application], None]


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
    """The aiohttp server; :meth:`start` returns once it listens, :attr:`url` says where.

    ``metrics`` None serves no ``/metrics``; ``dashboard`` mounts the dashboard at ``/``;
    ``extra_routes`` adds routes of their own (the inbound webhooks)."""

    def __init__(self, host: str, port: int, token: Secret | None, *,
                 health: HealthCheck, metrics: Render | None = None, content_type: str = "",
                 dashboard: Dashboard | None = None,
                 setting: str = "COPYTRADER_HTTP_LISTEN",
                 extra_routes: AddRoutes | None = None) -> None:
        self.setting = setting  # where the address came from, for a bind error
        self.host = host
        self.port = port
        self._token = token
        self._health = health
        self._metrics = metrics
        self._content_type = content_type
        self.dashboard = dashboard
        self._extra_routes = extra_routes
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[auth.middleware(self._token)])
        app.router.add_get("/healthz", self._healthz)
        if self._metrics is not None:
            app.router.add_get("/metrics", self._render_metrics)
        if self._extra_routes is not None:
            self._extra_routes(app)
        if self.dashboard is not None:
            web_app.mount(app, self.dashboard)
        else:
            headers.install(app)
        return app

    async def _healthz(self, _request: web.Request) -> web.Response:
        ok, doc = await self._health()
        return web.Response(text=json.dumps(doc, default=str), status=200 if ok else 503,
                            content_type="application/json")

    async def _render_metrics(self, _request: web.Request) -> web.Response:
        assert self._metrics is not None
        body = self._metrics()
        # prometheus' content type carries parameters aiohttp will not take via content_type=.
        return web.Response(body=body, headers={"Content-Type": self._content_type})

    async def start(self) -> None:
        """Listen on ``host:port`` (port 0: a free one, then in :attr:`port`).

        Raises ConfigError naming ``setting`` when the address cannot be bound.
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
                f"{self.setting}: cannot listen on {self.host}:{self.port}: "
                f"{exc.strerror or exc}"
            ) from None
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
