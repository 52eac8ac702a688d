"""The inbound webhook route: ``POST /webhooks/<platform>/<token>`` on the daemon's listener.

The token is the secret: it is compared in constant time (of hashes, so not even its length
leaks), and a wrong one is answered exactly as an unknown path is (404), whatever the method
or body. A body over :data:`MAX_BODY` is refused with 413 before more than that is read (a
declared length at once, without ``100 Continue``); a body that is not a valid event gets
400 naming the problem; a valid one is put in the :class:`~copytrader.daemon.inbox.Inbox`
and answered 202 at once (never after a pass or a database write). A full inbox (the
database is down) or a daemon on its way out answers 503 with ``Retry-After`` so that the
platform delivers again.

Nothing here logs the request's path or the token, and the server runs without an access
log; the daemon also registers the token with the log redaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import structlog
from aiohttp import web

from copytrader.core.events import EventKind, InboundEvent
from copytrader.daemon.hints import PassHints
from copytrader.daemon.inbox import Inbox
from copytrader.daemon.metrics import Metrics
from copytrader.daemon.passes import PassRunner
from copytrader.errors import EventError
from copytrader.observe import redact
from copytrader.platform.botprimex import webhook as botprimex_webhook
from copytrader.settings import Secret, Settings
from copytrader.store.repo import SqlStore

log = structlog.get_logger("copytrader.daemon")

#: The largest body accepted (64 KiB).
MAX_BODY = 64 * 1024
#: The longest a sender may take to deliver a body.
READ_TIMEOUT = 10.0
#: Every webhook path starts with this; the endpoint's bearer check does not apply to them.
PREFIX = "/webhooks/"
#: Seconds a sender is asked to wait when the inbox is full.
RETRY_AFTER = 5
#: Set on a request once the ``Expect`` handler counted and checked it.
_CHECKED = web.RequestKey("copytrader_webhook_checked", bool)


@dataclass(frozen=True)
class Format:
    """A platform's webhook format: its path name, the event names it documents (metric
    labels), and its parsers (both raise EventError)."""

    platform: str
    events: frozenset[str]
    decode: Callable[[bytes], Any]
    parse: Callable[[Any], InboundEvent]


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class Receiver:
    """The webhook route of one platform; :meth:`add_to` puts it on an application."""

    def __init__(self, fmt: Format, token: Secret, inbox: Inbox, metrics: Metrics) -> None:
        if not token:
            raise ValueError("a webhook route needs a token")
        self.format = fmt
        self._digest = _digest(token.reveal())
        self._inbox = inbox
        self._metrics = metrics
        self.closing = False  # set at stop: later deliveries are refused (503), not lost

    @property
    def route(self) -> str:
        """The route's pattern (the token is its ``{token}`` part)."""
        return f"{PREFIX}{self.format.platform}/{{token}}"

    def add_to(self, app: web.Application) -> None:
        """Add the route (every method: a wrong token is 404 whatever the method)."""
        app.router.add_route("*", self.route, self.handle, expect_handler=self.expect)

    def _token_ok(self, request: web.Request) -> bool:
        return hmac.compare_digest(_digest(request.match_info.get("token", "")), self._digest)

    def _reject(self, reason: str, response: web.StreamResponse) -> web.StreamResponse:
        self._metrics.webhook_rejected.labels(reason=reason).inc()
        return response

    def _precheck(self, request: web.Request) -> web.StreamResponse | None:
        """The answer decided before any body byte is read, if any."""
        if not self._token_ok(request):
            return self._reject("token", _not_found())
        if request.method != "POST":
            return self._reject("method", web.json_response(
                {"error": "method not allowed: use POST"}, status=405, headers={"Allow": "POST"}
            ))
        length = request.content_length
        if length is not None and length > MAX_BODY:
            log.warning("webhook body refused: too large", declared_bytes=length,
                        limit_bytes=MAX_BODY)
            return self._reject("too_large", _too_large())
        return None

    async def expect(self, request: web.Request) -> web.StreamResponse | None:
        """``Expect: 100-continue``: refuse before the body is sent when the answer is known."""
        self._metrics.webhook_received.inc()
        request[_CHECKED] = True
        early = self._precheck(request)
        if early is not None:
            early.force_close()
            return early
        if request.headers.get("Expect", "").lower() != "100-continue":
            return self._reject("bad_request", web.json_response(
                {"error": "Expect: only 100-continue is understood"}, status=417))
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0
        return None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Answer one delivery (see the module docstring for every status)."""
        if not request.get(_CHECKED):
            self._metrics.webhook_received.inc()
            early = self._precheck(request)
            if early is not None:
                early.force_close()
                return early
        try:
            async with asyncio.timeout(READ_TIMEOUT):
                body = await _read_capped(request, MAX_BODY)
        except TimeoutError:
            response = web.json_response({"error": "body not received in time"}, status=408)
            response.force_close()
            return self._reject("timeout", response)
        if body is None:
            log.warning("webhook body refused: too large", limit_bytes=MAX_BODY)
            response = _too_large()
            response.force_close()
            return self._reject("too_large", response)
        try:
            doc = self.format.decode(body)
        except EventError as exc:
            return self._bad("bad_json", exc)
        try:
            event = self.format.parse(doc)
        except EventError as exc:
            return self._bad("bad_event", exc)
        if self.closing or not self._inbox.offer(event):
            if not self.closing:
                log.warning("webhook event refused: the inbox is full", queued=self._inbox.size)
            return self._reject("stopping" if self.closing else "overloaded", web.json_response(
                {"error": "busy: deliver again later"}, status=503,
                headers={"Retry-After": str(RETRY_AFTER)}))
        label = event.name if event.name in self.format.events else "other"
        self._metrics.webhook_accepted.labels(event=label).inc()
        ignored = event.kind is EventKind.IGNORED
        return web.json_response({"status": "ignored" if ignored else "accepted"}, status=202)

    def _bad(self, reason: str, exc: EventError) -> web.StreamResponse:
        log.warning("webhook event refused", reason=reason, problem=str(exc),
                    platform=self.format.platform)
        return self._reject(reason, web.json_response({"error": str(exc)}, status=400))


async def _read_capped(request: web.Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is longer than ``limit`` (nothing more is read)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(limit + 1 - size)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


def _not_found() -> web.Response:
    # The same answer as aiohttp's for a path no route matches.
    exc = web.HTTPNotFound()
    return web.Response(status=exc.status, text=exc.text, content_type="text/plain")


def _too_large() -> web.Response:
    return web.json_response({"error": f"body larger than {MAX_BODY} bytes"}, status=413)


#: BotPrimeX's webhook format (``botprimex-api.md``, "Webhooks").
BOTPRIMEX = Format(
    platform="botprimex",
    events=frozenset(botprimex_webhook.KINDS),
    decode=botprimex_webhook.decode,
    parse=botprimex_webhook.parse,
)
#: The webhook format of each platform that sends webhooks (``COPYTRADER_PLATFORM``).
FORMATS = {"botprimex": BOTPRIMEX}


@dataclass
class Inbound:
    """The daemon's inbound webhooks: the route, the inbox behind it, the pass hints."""

    receiver: Receiver
    inbox: Inbox
    hints: PassHints


def build(
    settings: Settings,
    store: SqlStore,
    metrics: Metrics,
    runner: PassRunner,
    spawn: Callable[[Coroutine[Any, Any, Any]], None],
) -> Inbound | None:
    """The daemon's inbound webhooks, their inbox already handling events (a task made with
    ``spawn``), or None when ``COPYTRADER_WEBHOOK_TOKEN`` is not set or the platform sends
    no webhooks (then there is no route at all)."""
    token = settings.daemon.webhook_token
    fmt = FORMATS.get(settings.platform.kind)
    if not token or fmt is None:
        return None
    redact.register_secret(token.reveal())

    async def request() -> None:
        await runner.request("webhook", queue=True)

    hints = PassHints(request, lambda: runner.last.ended if runner.last else None, spawn)
    # Masters and clones are read again after each pass: it may have made or dropped clones.
    inbox = Inbox(store, hints.hint, metrics, passes=lambda: runner.count)
    spawn(inbox.run())
    log.info("webhook route on", path=f"{PREFIX}{fmt.platform}/***", max_body_bytes=MAX_BODY)
    return Inbound(Receiver(fmt, token, inbox, metrics), inbox, hints)


def routes(inbound: Inbound | None) -> Callable[[web.Application], None] | None:
    """What adds the webhook route to the endpoint's application (None: nothing)."""
    return inbound.receiver.add_to if inbound is not None else None


async def close(inbound: Inbound | None, *, within: float) -> None:
    """At stop: refuse later deliveries (503: the platform sends them again, to the next
    process) and handle the queued ones, waiting at most ``within`` seconds."""
    if inbound is not None:
        inbound.receiver.closing = True
        await inbound.inbox.drain(within=within)
