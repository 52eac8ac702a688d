"""Sign in with ``COPYTRADER_HTTP_TOKEN`` (a form that sets the session cookie) and out.

A wrong token waits a second before the answer (slows guessing down) and is never logged. A
sign-in posted from another site (its Origin names another host) is refused.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from copytrader.web import auth, dashboard, render

WRONG_TOKEN_DELAY = 1.0


def _form(request: web.Request, *, status: int = 200, message: str | None = None,
          target: str | None = None) -> web.Response:
    target = auth.safe_next(target if target is not None else request.query.get("next"))
    body = render.html("login.html", title="Sign in", nav=None, signed_in=False,
                       message=message, next=target)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


async def form(request: web.Request) -> web.Response:
    """``GET /login``: the form (straight to the dashboard when no token is needed)."""
    if dashboard.of(request).token is None:
        raise web.HTTPSeeOther("/")
    return _form(request)


async def sign_in(request: web.Request) -> web.Response:
    """``POST /login``: a right token sets the session cookie and goes on to ``next``."""
    token = dashboard.of(request).token
    if token is None:
        raise web.HTTPSeeOther("/")
    data = await request.post()
    given = data.get("token")
    target = auth.safe_next(str(data.get("next") or "/"))
    if not auth.same_origin(request):
        return _form(request, status=403, message="This sign-in did not come from this page.",
                     target=target)
    if not isinstance(given, str) or not auth.token_matches(given.strip(), token):
        await asyncio.sleep(WRONG_TOKEN_DELAY)
        return _form(request, status=401, message="That is not the token.", target=target)
    response = _see_other(target)
    auth.set_session(response, request, token)
    return response


async def sign_out(request: web.Request) -> web.Response:
    """``POST /logout``: forget the session cookie."""
    if not auth.same_origin(request):
        return _form(request, status=403, message="This sign-out did not come from this page.")
    response = _see_other("/login")
    auth.clear_session(response)
    return response


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})
