"""Who may read the listener: the token check of ``/healthz``, ``/metrics``, the dashboard and
its JSON API.

Bound to a loopback address with no ``COPYTRADER_HTTP_TOKEN`` the listener is open; bound
anywhere else a token is required (the process refuses to start without one). With a token,
a request is let in when it carries ``Authorization: Bearer <token>`` or the session cookie
the login form sets (HttpOnly, SameSite=Strict). The cookie holds an HMAC of the token, not
the token, and every comparison is constant-time. A page request without either is sent to
the login form; any other request gets 401. Nothing here logs a header, a cookie or a form.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from aiohttp import web

from copytrader.errors import ConfigError
from copytrader.settings import Secret

COOKIE = "copytrader_session"
#: Paths served without a token: the login form and the package's own static files (no data).
PUBLIC_PATHS = ("/login",)
PUBLIC_PREFIXES = ("/static/",)
#: Paths that carry their own secret (an inbound webhook's token is in its path): their
#: routes check it, so neither a bearer token nor a session is asked of them.
OWN_SECRET_PREFIXES = ("/webhooks/",)
#: Paths that are not pages: they answer 401 rather than sending a browser to the login form.
NOT_PAGES = ("/api/", "/healthz", "/metrics", "/webhooks/")
SESSION_DAYS = 30
_SESSION_LABEL = b"copytrader dashboard session v1"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IPs (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def require_token(host: str, token: Secret, *, setting: str = "COPYTRADER_HTTP_LISTEN"
                  ) -> Secret | None:
    """The token the listener must demand (None: open), or ConfigError when one is missing.

    ``setting`` names where the address came from, for the message."""
    if is_loopback(host):
        return token if token else None
    if not token:
        raise ConfigError(
            f"COPYTRADER_HTTP_TOKEN: required when {setting} is not a loopback "
            f"address (it is {host!r}); set a long random token, or listen on 127.0.0.1"
        )
    return token


def session_value(token: Secret) -> str:
    """The session cookie's value for ``token``: an HMAC of it, never the token itself (a
    new token ends every session)."""
    return hmac.new(token.reveal().encode(), _SESSION_LABEL, hashlib.sha256).hexdigest()


def token_matches(given: str, token: Secret) -> bool:
    """``given`` is the token (constant-time)."""
    return hmac.compare_digest(given.encode(), token.reveal().encode())


def bearer_ok(request: web.Request, token: Secret) -> bool:
    """The request carries ``Authorization: Bearer <token>``."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and token_matches(given.strip(), token)


def cookie_ok(request: web.Request, token: Secret) -> bool:
    """The request carries the session cookie of ``token``."""
    given = request.cookies.get(COOKIE, "")
    return hmac.compare_digest(given.encode(), session_value(token).encode())


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def is_page(request: web.Request) -> bool:
    """A browser's page request (sent to the login form when not signed in)."""
    return request.method in ("GET", "HEAD") and not request.path.startswith(NOT_PAGES)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (never ``//host`` or a URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def login_url(request: web.Request) -> str:
    return "/login?next=" + quote(request.path_qs, safe="")


def middleware(token: Secret | None) -> Callable[..., Awaitable[web.StreamResponse]]:
    """The aiohttp middleware letting in what ``token`` allows (everything when None)."""

    @web.middleware
    async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        if token is None or is_public(request.path) or request.path.startswith(
            OWN_SECRET_PREFIXES
        ):
            return await handler(request)
        if bearer_ok(request, token) or cookie_ok(request, token):
            return await handler(request)
        if is_page(request):
            raise web.HTTPSeeOther(login_url(request))
        return web.json_response(
            {"status": "unauthorised", "reason": "a bearer token or a session is required"},
            status=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    return auth


def same_origin(request: web.Request) -> bool:
    """A form post came from this site's own page. Browsers say so in ``Sec-Fetch-Site``
    (right behind a reverse proxy too); otherwise the ``Origin`` must name the host the
    request was sent to (a proxy must pass ``Host`` on). A client that sends neither (not a
    browser) is let through: the token is the check."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site.lower() in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin != "null" and urlsplit(origin).netloc.lower() == request.host.lower()


def is_https(request: web.Request) -> bool:
    """The browser reached us over HTTPS (directly, or through a proxy that says so)."""
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def set_session(response: web.StreamResponse, request: web.Request, token: Secret) -> None:
    response.set_cookie(
        COOKIE,
        session_value(token),
        max_age=SESSION_DAYS * 86_400,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=is_https(request),
    )


def clear_session(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/")
