"""One HTTP exchange with a partner API, its error mapping and its retries.

Every library exception and every unhappy answer becomes a
:class:`~copytrader.errors.PlatformError` here, once, raised ``from`` the cause. What is
common to every platform lives here: connection failures, timeouts, a 429's Retry-After
(RateLimitedError, and a block on the limiter), the retry rules of the route table. How a
platform's answers read (HaasOnline's envelope, BotPrimeX's plain REST bodies) and how its
key travels is its :class:`Dialect`. Messages carry the route name, the HTTP status and the
platform's own message with the API key (and, for a route with ``secret_body``, every body
value) blanked out; request bodies and headers are never logged.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import aiohttp
import structlog

from copytrader.errors import (
    LeaseLostError,
    MalformedResponseError,
    NetworkError,
    PlatformError,
    RateLimitedError,
    ServerError,
    TransientError,
)
from copytrader.platform.backoff import Backoff, parse_retry_after
from copytrader.platform.ratelimit import RateLimiter, Sleep
from copytrader.platform.routes import Route
from copytrader.settings import Secret

#: The header naming the writer (``holder#epoch`` of the writer lease) of a platform write.
WRITER_HEADER = "X-Copytrader-Writer"
#: The header naming the write a request belongs to (the key of its audit event): every
#: resend of one write carries the same id, so the platform's log tells one write sent twice
#: from two writes, and each request leads to its audit event.
WRITE_ID_HEADER = "X-Copytrader-Write"
#: The id of the write the current task sends (the reconcile executor sets it around each
#: write); None: no header.
WRITE_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "copytrader_write_id", default=None
)

log = structlog.get_logger("copytrader.platform")

#: Failures that happen before a byte of the request is sent: safe to resend any route.
_NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
_REDACTED = "***"


class RequestObserver(Protocol):
    """Told about every attempt and every rate-limit wait (the daemon's metrics)."""

    def on_request(self, endpoint: str, status: str, seconds: float) -> None:
        """One attempt finished: HTTP status as a string, or "error" / "timeout"."""

    def on_rate_limit_wait(self, seconds: float) -> None:
        """A request waited ``seconds`` for the rate window or a Retry-After block."""

    def on_send(self, endpoint: str, at: float, limiter: str) -> None:
        """An attempt was let through by the limiter ``limiter`` (a BotPrimeX account's
        name; "" for a platform with one limiter) at ``at`` (its clock, ``time.monotonic``)
        and is sent now."""

    def on_rate_limited(self, endpoint: str, at: float, seconds: float, limiter: str) -> None:
        """A 429 arrived at ``at`` (the limiter's clock): the limiter ``limiter`` lets
        nothing through for ``seconds`` from then."""


class Dialect(Protocol):
    """How one platform speaks: where its key travels and how its answers read."""

    def auth_headers(self, key: str) -> dict[str, str]:
        """The headers that carry ``key`` on every request."""
        ...

    def read(
        self,
        name: str,
        route: Route,
        status: int,
        raw: bytes,
        body: Mapping[str, Any] | None,
        clean: Callable[[str], str],
    ) -> Any:
        """The result of an answer other than a 429, or the mapped PlatformError; any
        platform text put in a message goes through ``clean`` (secrets blanked out)."""
        ...


def _maybe_applied(exc: PlatformError) -> bool:
    """Whether the attempt that raised ``exc`` may have been carried out: it may have
    reached the platform and no answer said what became of it."""
    if isinstance(exc, NetworkError):
        return not isinstance(exc.__cause__, _NOT_SENT)
    return isinstance(exc, ServerError | MalformedResponseError)


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, _REDACTED)
    return text


class Transport:
    """Sends requests through one session and one limiter, retrying what is safe to retry."""

    def __init__(
        self,
        base_url: str,
        api_key: Secret,
        *,
        limiter: RateLimiter,
        backoff: Backoff,
        timeout: float,
        dialect: Dialect,
        observer: RequestObserver | None = None,
        sleep: Sleep = asyncio.sleep,
        connector: Callable[[], aiohttp.BaseConnector] | None = None,
        limiter_name: str = "",
    ) -> None:
        """``connector``: a pool of connections shared with other transports (one per
        BotPrimeX account), owned by the caller; None: a pool of its own. ``limiter_name``:
        what the observer is told the limiter is (a BotPrimeX account's name)."""
        self.limiter_name = limiter_name
        self._connector = connector
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.dialect = dialect
        self.limiter = limiter
        self.backoff = backoff
        self.timeout = timeout
        self._observer = observer
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None
        #: Checked just before each write attempt is sent: returns the writer's stamp (sent
        #: as the ``X-Copytrader-Writer`` header) or raises LeaseLostError (nothing is sent).
        self.write_guard: Callable[[], str] | None = None
        #: The timeout of a write attempt (None: ``timeout``); see ``write_timeout_seconds``.
        self.write_timeout: float | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            shared = self._connector() if self._connector is not None else None
            self._session = aiohttp.ClientSession(
                connector=shared,
                connector_owner=shared is None,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers=self.dialect.auth_headers(self._api_key.reveal()),
            )
        return self._session

    async def close(self) -> None:
        """Close the HTTP session (idempotent)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(
        self,
        name: str,
        route: Route,
        body: Mapping[str, Any] | None = None,
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> Any:
        """The result of a successful call (as the dialect reads it); PlatformError once
        retries are spent, with ``maybe_applied`` set when a write may have been carried
        out; LeaseLostError when the write guard refused a send (``maybe_applied`` when an
        earlier attempt may have been carried out)."""
        attempt = 0
        unsure: PlatformError | None = None  # a write attempt that may have been carried out
        while True:
            attempt += 1
            try:
                return await self._attempt(name, route, body, path_params, query, attempt)
            except LeaseLostError as exc:  # the guard refused to (re)send this write
                if unsure is None:
                    raise
                why = str(exc).removeprefix("not sent: ")
                lost = LeaseLostError(f"{unsure}; not resent: {why}")
                lost.maybe_applied = True
                raise lost from exc
            except PlatformError as exc:
                if not route.read and (unsure is not None or _maybe_applied(exc)):
                    # An earlier attempt, or this one, may have taken effect: whatever the
                    # last attempt says, the write's outcome is not known to have failed.
                    exc.maybe_applied = True
                    unsure = unsure or exc
                delay = self._retry_delay(route, exc, attempt)
                if delay is None:
                    raise
                log.warning(
                    "platform.retry",
                    endpoint=name,
                    attempt=attempt,
                    error=type(exc).__name__,
                    status=exc.status,
                    delay=round(delay, 3),
                )
                if delay > 0:
                    await self._sleep(delay)

    def _retry_delay(self, route: Route, exc: PlatformError, attempt: int) -> float | None:
        """Seconds to wait before resending, or None when this failure is final."""
        if attempt >= self.backoff.max_attempts or not isinstance(exc, TransientError):
            return None
        if isinstance(exc, RateLimitedError):
            return 0.0  # the limiter's shared block already holds the resend back
        if isinstance(exc.__cause__, _NOT_SENT) or route.retry_safe:
            return self.backoff.delay(attempt)
        return None  # may have been processed: the caller checks on its next pass

    async def _attempt(
        self,
        name: str,
        route: Route,
        body: Mapping[str, Any] | None,
        path_params: Mapping[str, str] | None,
        query: Mapping[str, str] | None,
        attempt: int,
    ) -> Any:
        session = self._open()
        url = self.base_url + route.url_path(path_params)
        payload = dict(body or {}) if route.method not in ("GET", "DELETE") else None
        async with self.limiter.slot() as admitted:
            if self._observer is not None:
                if admitted.waited > 0:
                    self._observer.on_rate_limit_wait(admitted.waited)
                self._observer.on_send(name, admitted.at, self.limiter_name)
            headers: dict[str, str] = {}
            limit = self.timeout
            if not route.read:
                # Last moment before the wire: a rate-limit wait or a backoff may have
                # outlasted the writer lease this write was started under.
                if self.write_guard is not None:
                    headers[WRITER_HEADER] = self.write_guard()
                write_id = WRITE_ID.get()
                if write_id is not None:
                    headers[WRITE_ID_HEADER] = write_id
                if self.write_timeout is not None:
                    limit = min(self.timeout, self.write_timeout)
            status = "error"
            started = time.monotonic()
            try:
                # No redirects: aiohttp would resend the key header to wherever they point.
                async with session.request(
                    route.method,
                    url,
                    params=dict(query) if query else None,
                    json=payload,
                    allow_redirects=False,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=limit),
                ) as resp:
                    status = str(resp.status)
                    # A 429 blocks every request from the moment its status line is in,
                    # before awaiting its body (other requests may be let through meanwhile).
                    blocked = self._block(name, resp.headers) if resp.status == 429 else None
                    raw = await resp.read()
                    return self._interpret(name, route, resp.status, raw, body, blocked)
            except _NOT_SENT as exc:
                raise NetworkError(
                    f"cannot connect ({type(exc).__name__})", endpoint=name
                ) from exc
            except TimeoutError as exc:
                status = "timeout"
                raise NetworkError(f"no answer within {limit:g}s", endpoint=name) from exc
            except aiohttp.ClientError as exc:
                status = "error"
                raise NetworkError(
                    f"connection failed ({type(exc).__name__})", endpoint=name
                ) from exc
            finally:
                seconds = time.monotonic() - started
                log.debug(
                    "platform.request",
                    endpoint=name,
                    status=status,
                    seconds=round(seconds, 4),
                    attempt=attempt,
                )
                if self._observer is not None:
                    self._observer.on_request(name, status, seconds)

    def _block(self, name: str, headers: Mapping[str, str]) -> float:
        """Block the limiter for a 429's Retry-After, from now; the seconds blocked."""
        asked = parse_retry_after(headers.get("Retry-After"))
        # Without a usable header, back off exponentially (at least the ceiling's jitter).
        wait = asked if asked is not None else self.backoff.delay(1)
        at = self.limiter.block_for(wait)
        if self._observer is not None:
            self._observer.on_rate_limited(name, at, wait, self.limiter_name)
        return wait

    def _interpret(
        self,
        name: str,
        route: Route,
        status: int,
        raw: bytes,
        body: Mapping[str, Any] | None,
        blocked: float | None,
    ) -> Any:
        """The dialect's reading of the answer; a 429 (every platform alike, ``blocked``: the
        Retry-After the limiter now waits) raises RateLimitedError."""
        if blocked is not None:
            raise RateLimitedError(
                f"rate limited (HTTP 429), retry after {blocked:g}s",
                endpoint=name,
                retry_after=blocked,
            )
        return self.dialect.read(
            name, route, status, raw, body, lambda text: self._clean(route, text, body)
        )

    def _clean(self, route: Route, text: str, body: Mapping[str, Any] | None) -> str:
        """The platform's message with the key and any secret body value blanked out."""
        secrets = [self._api_key.reveal()]
        if route.secret_body and body:
            secrets += [v for v in body.values() if isinstance(v, str) and len(v) >= 4]
        return _scrub(text[:500], [s for s in secrets if s])
