"""The security headers of every response of the listener.

The Content-Security-Policy lets a page load scripts, styles, images and connections from its
own origin only: no inline script or style, no ``eval``, no frame, no form posting elsewhere.
So even a value that slipped past escaping could not run, and the page cannot make a request
outside its origin. Data (pages and JSON) is never cached; the package's static files are,
under a URL that changes with their content.
"""

from __future__ import annotations

from aiohttp import web

CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # same-origin: other sites learn nothing, and this site's own form posts keep their
    # Origin (under no-referrer a browser sends "Origin: null").
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
STATIC_MAX_AGE = 86_400


async def _on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/static/") and response.status == 200:
        response.headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}"
    else:
        response.headers.setdefault("Cache-Control", "no-store")


def install(app: web.Application) -> None:
    """Add the headers to every response of ``app`` (static files and event streams too)."""
    app.on_response_prepare.append(_on_prepare)
